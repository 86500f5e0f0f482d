"""Bad input never crashes the engine: each case gets one clear message that
names the file or tensor and what was expected, and a non-zero exit; never a
signal, never a hang.

Cases: truncated safetensors (at many offsets), a header that lies about
offsets, overlapping tensors, a missing shard, a config that disagrees with
the tensors, an unknown dtype, corrupt JSON, an empty prompt, a prompt longer
than the context, token ids outside the vocabulary, a missing folder.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, FIXTURES, check, done

SRC = os.path.join(FIXTURES, "gemma4-ref", "dense_31b_like")
SHARDED = os.path.join(FIXTURES, "gemma4-ref", "e4b_like_released_bf16")


def gm(*args, timeout=60):
    r = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stderr.strip()


def copy(src, tmp, name):
    d = os.path.join(tmp, name)
    shutil.copytree(src, d)
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    return d


def rewrite_header(path, edit):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    h = json.loads(raw[8:8 + n])
    edit(h)
    hb = json.dumps(h).encode()
    open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + raw[8 + n:])


def expect_fail(label, rc, msg, code, *needles):
    ok = rc == code and all(s in msg for s in needles) and rc > 0
    check(ok, f"{label}: exit {rc} (want {code}), message names {needles}: {msg[:160]!r}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        st = os.path.join(SRC, "model.safetensors")
        size = os.path.getsize(st)
        # truncation anywhere: header length, header, data
        bad = []
        for cut in [0, 4, 8, 20, 200, 1000, size // 3, size // 2, size - 100, size - 1]:
            d = copy(SRC, tmp, "trunc%d" % cut)
            with open(os.path.join(d, "model.safetensors"), "r+b") as f:
                f.truncate(cut)
            rc, msg = gm("info", "-m", d)
            if not (rc == 3 and "model.safetensors" in msg):
                bad.append((cut, rc, msg))
        check(not bad, f"truncated model.safetensors at 10 offsets: exit 3 naming the file {bad[:1]}")

        d = copy(SRC, tmp, "lie")
        def lie(h):
            h["model.norm.weight"]["data_offsets"][1] += 10 ** 9
        rewrite_header(os.path.join(d, "model.safetensors"), lie)
        rc, msg = gm("info", "-m", d)
        expect_fail("header lying about offsets", rc, msg, 3, "model.norm.weight", "data_offsets")

        d = copy(SRC, tmp, "overlap")
        def overlap(h):
            a, b = h["model.norm.weight"], h["model.layers.0.input_layernorm.weight"]
            b["data_offsets"] = list(a["data_offsets"])
        rewrite_header(os.path.join(d, "model.safetensors"), overlap)
        rc, msg = gm("info", "-m", d)
        expect_fail("overlapping tensors", rc, msg, 3, "overlap")

        d = copy(SRC, tmp, "dtype")
        def dtype(h):
            h["model.norm.weight"]["dtype"] = "F8_E4M3"
            b = h["model.norm.weight"]["data_offsets"]
            h["model.norm.weight"]["shape"] = [b[1] - b[0]]
        rewrite_header(os.path.join(d, "model.safetensors"), dtype)
        rc, msg = gm("info", "-m", d)
        expect_fail("unknown dtype", rc, msg, 3, "norm.weight", "data type")

        d = copy(SRC, tmp, "shape")
        cfg = json.load(open(os.path.join(d, "config.json")))
        cfg["intermediate_size"] = cfg["intermediate_size"] * 2
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
        rc, msg = gm("info", "-m", d)
        expect_fail("config disagreeing with tensors", rc, msg, 3, "layers.0.mlp.gate_proj.weight", "has shape",
                    "expected")

        d = copy(SHARDED, tmp, "shard")
        os.remove(os.path.join(d, "model-00002-of-00002.safetensors"))
        rc, msg = gm("info", "-m", d)
        expect_fail("missing shard", rc, msg, 3, "model-00002-of-00002.safetensors", "missing")

        d = copy(SRC, tmp, "json")
        open(os.path.join(d, "config.json"), "w").write('{"hidden_size": 48,')
        rc, msg = gm("info", "-m", d)
        expect_fail("corrupt config.json", rc, msg, 3, "config.json", "invalid JSON")

        d = copy(SRC, tmp, "nocfg")
        os.remove(os.path.join(d, "config.json"))
        rc, msg = gm("info", "-m", d)
        expect_fail("missing config.json", rc, msg, 3, "config.json")

        rc, msg = gm("info", "-m", os.path.join(tmp, "nowhere"))
        expect_fail("missing model folder", rc, msg, 3, "nowhere", "no such")

        rc, msg = gm("generate", "-m", SRC, "")
        expect_fail("empty prompt", rc, msg, 2, "empty")

        rc, msg = gm("generate", "-m", SRC, "--ctx", "8", "a prompt that is surely longer than eight tokens")
        expect_fail("prompt longer than the context", rc, msg, 6, "do not fit", "--ctx")

        rc, msg = gm("logits", "-m", SRC, "--tokens", "2,99999", "--out", os.path.join(tmp, "x"))
        expect_fail("token outside the vocabulary", rc, msg, 3, "99999", "vocabulary")

        rc, msg = gm("logits", "-m", SRC, "--tokens", "2,x", "--out", os.path.join(tmp, "x"))
        expect_fail("malformed token list", rc, msg, 2, "--tokens")
    done()


main()
