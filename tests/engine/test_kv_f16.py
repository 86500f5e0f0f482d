"""The f16 KV cache (the default) against an independent reference.

The float64 reference (tests/pylib/g4ref.py) with its K/V rounded to IEEE half
as they are stored is what an f16 cache must compute.  For every target fixture
the engine's default run must match it within TOL with the same argmax, as one
prefill, token by token and in chunks of 5 (the three bit for bit equal).

TOL: the engine computes K/V in float32 and the reference in float64, so now
and then one element rounds to the neighbouring half (2^-11 relative); over
the fixtures that moves logits by up to ~1e-3.  The f16 rounding itself moves
them much more (the f32 and f16 references differ by 7.8e-3 to 0.73 on these
tiny random models), so a cache that did not round, or rounded differently,
would fail; the last checks confirm the bound tells the two apart.

`gemmash info` reports the type, and an f16 cache takes half the bytes."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import numpy as np  # noqa: E402
import g4ref  # noqa: E402
from gmtest import BIN, FIXTURES, check, done  # noqa: E402

REF = os.path.join(FIXTURES, "gemma4-ref")
CASES = ["e2b_like", "moe_26b_like", "dense_31b_like", "e4b_like_released_bf16"]
TOL = 3e-3


def logits(d, toks, tmp, step=None, kv=None):
    out = os.path.join(tmp, "l.bin")
    args = [BIN, "logits", "-m", d, "--tokens", ",".join(map(str, toks)), "--out", out]
    if step:
        args += ["--step", str(step)]
    if kv:
        args += ["--kv-type", kv]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print("# " + r.stderr.strip())
        return None
    return np.fromfile(out, dtype=np.float32).reshape(len(toks), -1)


gap = 0.0
with tempfile.TemporaryDirectory() as tmp:
    for case in CASES:
        d = os.path.join(REF, case)
        with open(os.path.join(d, "tokens.txt")) as f:
            toks = [int(x) for x in f.read().split(",") if x.strip()]
        m = g4ref.load(d)
        ref32, _ = g4ref.forward(m, toks)
        m.kv_f16 = True
        m.kv = {}
        ref16, _ = g4ref.forward(m, toks)
        gap = max(gap, float(np.abs(ref16 - ref32).max()))
        runs = {mode: logits(d, toks, tmp, step) for mode, step in (("prefill", None), ("decode", 1), ("chunks of 5", 5))}
        for mode, x in runs.items():
            if not check(x is not None, "%s %s: gemmash logits ran with the default cache" % (case, mode)):
                continue
            err = float(np.abs(x - ref16).max())
            check(err <= TOL and bool((x.argmax(1) == ref16.argmax(1)).all()),
                  "%s %s: f16 cache within %.0e of the f16 reference (%.2e), argmax equal at all %d positions"
                  % (case, mode, TOL, err, len(toks)))
        if all(x is not None for x in runs.values()):
            check(np.array_equal(runs["prefill"], runs["decode"]) and np.array_equal(runs["prefill"], runs["chunks of 5"]),
                  "%s: prefill, decode and chunks of 5 give the same bits with an f16 cache" % case)
        x32 = logits(d, toks, tmp, kv="f32")
        check(x32 is not None and float(np.abs(x32 - ref32).max()) <= 1e-3,
              "%s: --kv-type f32 matches the float reference within 1e-3" % case)
check(gap > 2 * TOL, "the f16 and f32 references differ by up to %.2e, more than twice the bound" % gap)

# what `gemmash info` reports, and the bytes
d = os.path.join(REF, "e2b_like")
info = {}
for kv in (None, "f16", "f32"):
    args = [BIN, "info", "-m", d, "--json", "--ctx", "4096"] + (["--kv-type", kv] if kv else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    info[kv] = json.loads(r.stdout) if r.returncode == 0 else None
if check(all(info.values()), "gemmash info --json runs with and without --kv-type"):
    a, h, f = info[None], info["f16"], info["f32"]
    check(a["kv_type"] == "f16" and h["kv_type"] == "f16" and f["kv_type"] == "f32",
          "info reports the cache type: default %s" % a["kv_type"])
    check(h["kv_bytes_per_token_full"] * 2 == f["kv_bytes_per_token_full"] > 0
          and h["kv_bytes_sliding_rings"] * 2 == f["kv_bytes_sliding_rings"] > 0,
          "an f16 cache takes half the bytes per token (%d against %d) and half the rings"
          % (h["kv_bytes_per_token_full"], f["kv_bytes_per_token_full"]))
    kvf = f["memory_at_context"] - f["file_bytes"]
    kvh = h["memory_at_context"] - h["file_bytes"]
    check(kvh * 2 == kvf, "memory at 4096 tokens: %d bytes of cache with f16, %d with f32" % (kvh, kvf))
r = subprocess.run([BIN, "logits", "-m", d, "--tokens", "2,3", "--out", "/dev/null", "--kv-type", "q8"],
                   capture_output=True, text=True, timeout=60)
check(r.returncode == 2 and "--kv-type wants f16 or f32, got 'q8'" in r.stderr,
      "an unknown --kv-type is a usage error naming the choices (%d: %s)" % (r.returncode, r.stderr.strip()))
done()
