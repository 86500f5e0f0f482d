"""Every matrix kernel family through the whole forward pass.

For each reference fixture and each kernel family this CPU runs (GEMMASH_ISA
forces it): the logits match the fixture (max abs error <= 2e-4, argmax equal
at every position); a batched prefill and token-by-token decoding give the
same bits; and 1 and 3 threads give the same bits."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/pylib")
import numpy as np  # noqa: E402
from gmtest import BIN, FIXTURES, check, done  # noqa: E402

REF = os.path.join(FIXTURES, "gemma4-ref")
CASES = ["e2b_like", "moe_26b_like", "dense_31b_like", "e4b_like_released_bf16"]


def cpu_flags():
    """The feature flags of the first CPU in /proc/cpuinfo."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def families():
    """Kernel families this CPU can run (as the engine decides them)."""
    fl = cpu_flags()
    out = ["scalar"]
    if {"avx2", "fma", "f16c"} <= fl:
        out.append("avx2")
        if {"avx512f", "avx512bw", "avx512vl"} <= fl:
            out.append("avx512")
    return out


def logits(case, isa, tmp, step=None, threads=None):
    """Run gemmash logits on a fixture; returns float32 [T, vocab] or None."""
    d = os.path.join(REF, case)
    with open(os.path.join(d, "tokens.txt")) as f:
        toks = f.read().strip()
    out = os.path.join(tmp, "%s-%s-%s-%s.bin" % (case, isa, step, threads))
    args = [BIN, "logits", "-m", d, "--tokens", toks, "--out", out, "--kv-type", "f32"]
    if step:
        args += ["--step", str(step)]
    if threads:
        args += ["--threads", str(threads)]
    env = dict(os.environ, GEMMASH_ISA=isa)
    p = subprocess.run(args, capture_output=True, env=env, timeout=300)
    if p.returncode != 0:
        print("# %s: %s" % (" ".join(args[:3]), p.stderr.decode(errors="replace").strip()))
        return None
    return np.fromfile(out, dtype=np.float32)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            ref = np.load(os.path.join(REF, case, "logits.npy"))
            for isa in families():
                a = logits(case, isa, tmp, threads=3)
                b = logits(case, isa, tmp, step=1, threads=3)
                c = logits(case, isa, tmp, threads=1)
                if not check(a is not None and b is not None and c is not None and a.size == ref.size,
                             "%s %s: gemmash logits ran (prefill, decode, 1 thread)" % (case, isa)):
                    continue
                a = a.reshape(ref.shape)
                err = float(np.abs(a - ref).max())
                check(err <= 2e-4 and (a.argmax(1) == ref.argmax(1)).all(),
                      "%s %s: logits match the fixture (max abs err %.2e)" % (case, isa, err))
                check(np.array_equal(a.view(np.uint32), b.reshape(ref.shape).view(np.uint32)),
                      "%s %s: prefill and token-by-token decode give the same bits" % (case, isa))
                check(np.array_equal(a.view(np.uint32), c.reshape(ref.shape).view(np.uint32)),
                      "%s %s: 3 threads and 1 thread give the same bits" % (case, isa))
    done()


main()
