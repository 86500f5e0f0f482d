"""The engine against Hugging Face transformers' own Gemma 4 outputs.

For every target case in tests/fixtures/gemma4-ref/ (E2B-like, 26B-like MoE,
31B-like, E4B-like in the released BF16 sharded layout), `gemmash logits`
must reproduce transformers' logits within 1e-3 with the same argmax at every
position, both as one batched prefill and token by token (decode), and the
two modes must agree exactly.  The post-norm hidden states are checked too.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import numpy as np
from gmtest import BIN, FIXTURES, check, done

CASES = ["e2b_like", "moe_26b_like", "dense_31b_like", "e4b_like_released_bf16"]
TOL = 1e-3


def run_logits(case_dir, tokens, step, tmp, vocab, hidden):
    out, hid = os.path.join(tmp, "l.bin"), os.path.join(tmp, "h.bin")
    args = [BIN, "logits", "-m", case_dir, "--tokens", tokens, "--out", out, "--hidden", hid, "--kv-type", "f32"]
    if step:
        args += ["--step", str(step)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        return None, None, r.stderr.strip()
    lg = np.fromfile(out, dtype=np.float32).reshape(-1, vocab)
    hs = np.fromfile(hid, dtype=np.float32).reshape(-1, hidden)
    return lg, hs, ""


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            d = os.path.join(FIXTURES, "gemma4-ref", case)
            tokens = open(os.path.join(d, "tokens.txt")).read().strip()
            ref = np.load(os.path.join(d, "logits.npy"))
            ref_h = np.load(os.path.join(d, "hidden_states.npy"))[-1]
            results = {}
            for mode, step in (("prefill", None), ("decode", 1), ("chunks of 5", 5)):
                lg, hs, err = run_logits(d, tokens, step, tmp, ref.shape[1], ref_h.shape[1])
                if not check(lg is not None, f"{case} {mode}: gemmash logits ran ({err})"):
                    continue
                results[mode] = lg
                e = float(np.abs(lg - ref).max())
                check(e <= TOL, f"{case} {mode}: max |logit error| {e:.2e} <= {TOL}")
                check((lg.argmax(1) == ref.argmax(1)).all(), f"{case} {mode}: argmax equal at all {len(ref)} positions")
                eh = float(np.abs(hs - ref_h).max() / np.abs(ref_h).max())
                check(eh <= 1e-4, f"{case} {mode}: post-norm hidden states within {eh:.1e} (relative)")
            if "prefill" in results and "decode" in results:
                check(np.array_equal(results["prefill"], results["decode"]),
                      f"{case}: prefill and token-by-token decode give identical logits")
            if "prefill" in results and "chunks of 5" in results:
                check(np.array_equal(results["prefill"], results["chunks of 5"]),
                      f"{case}: chunked prefill gives identical logits")
    done()


main()
