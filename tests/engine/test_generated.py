"""The engine against an independent float64 reference on generated models.

tests/pylib/gen_ckpt.py writes random checkpoints in the released layout
(nested config, sharded BF16 safetensors with an index) or the text-only
layout; tests/pylib/g4ref.py is a NumPy float64 forward pass written from the
specification.  Cases cover sequences several times longer than the sliding
window, KV-shared layers of both types, the MoE and K=V variants, every
weight dtype, and a model with real E2B widths (hidden 1536, 8 heads, head
dims 256/512, MLP 6144/12288 double-wide, per-layer inputs 256).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import numpy as np
import g4ref
import gen_ckpt
from gmtest import BIN, check, done

LONG = os.environ.get("GEMMASH_LONG") == "1"


def cases():
    yield "tiny-e2b bf16 released, 2 shards", gen_ckpt.geometry("tiny-e2b"), "released", "bf16", 40
    yield "tiny-e4b f32 text layout", gen_ckpt.geometry("tiny-e4b"), "text", "f32", 40
    yield "tiny-moe bf16 released", gen_ckpt.geometry("tiny-moe"), "released", "bf16", 40
    yield "tiny-31b f16 released", gen_ckpt.geometry("tiny-31b"), "released", "f16", 40
    # real E2B widths (hidden 1536, 8 heads, head dims 256/512, MLP 6144 and
    # 12288 double-wide on the KV-shared layers, per-layer inputs 256); a short
    # window so the sequence outruns it; layers 2 and 3 read the caches of
    # layers 0 (sliding) and 1 (full)
    e2b = gen_ckpt.geometry("e2b", vocab=1024, layer_types=["sliding_attention", "full_attention",
                            "sliding_attention", "full_attention"], kv_shared=2, window=8)
    yield "E2B widths, 4 layers, window 8", e2b, "released", "bf16", 24
    if LONG:
        e2b5 = gen_ckpt.geometry("e2b", vocab=2048, layer_types=["sliding_attention", "full_attention",
                                 "sliding_attention", "sliding_attention", "full_attention"],
                                 kv_shared=2, window=16)
        yield "E2B widths, 5 layers, window 16", e2b5, "released", "bf16", 48
        e2b_long = gen_ckpt.geometry("e2b", vocab=4096, layers=5)
        yield "E2B widths, real window 512, 600 tokens", e2b_long, "released", "bf16", 600


def main():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, geo, layout, dtype, T) in enumerate(cases()):
            d = os.path.join(tmp, "m%d" % i)
            gen_ckpt.generate(d, geo, layout=layout, dtype=dtype, seed=100 + i)
            toks = [2] + list(rng.integers(3, geo["vocab"], T - 1))
            model = g4ref.load(d)
            ref, _ = g4ref.forward(model, toks)
            V = ref.shape[1]
            for mode, step in (("prefill", None), ("decode", 1)):
                out = os.path.join(tmp, "l.bin")
                args = [BIN, "logits", "-m", d, "--tokens", ",".join(map(str, toks)), "--out", out, "--kv-type", "f32"]
                if step:
                    args += ["--step", str(step)]
                r = subprocess.run(args, capture_output=True, text=True, timeout=600)
                if not check(r.returncode == 0, f"{name} {mode}: gemmash logits ran {r.stderr.strip()}"):
                    continue
                got = np.fromfile(out, dtype=np.float32).reshape(-1, V)
                err = float(np.abs(got - ref).max())
                check(err <= 2e-3, f"{name} {mode}: max |logit error| vs float64 reference {err:.2e} <= 2e-3")
                agree = float((got.argmax(1) == ref.argmax(1)).mean())
                check(agree == 1.0, f"{name} {mode}: argmax equal at {agree * 100:.0f}% of {T} positions")
    done()


main()
