"""`gemmash generate --spec ...` on generated models gives the same text as without speculation.

Generates tiny random targets (tests/pylib/gen_ckpt.py) whose geometry fits the fixture
drafters, puts the drafter next to each target as "<target>-assistant" (so it is found
without --draft), and compares the output of --spec off/auto/mtp/lookup at temperature 0
and, with a fixed seed, at temperature 0.9.  Also checks the --stats report and the
errors for a missing or mismatched drafter."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/pylib")
import gen_assistant  # noqa: E402
import gen_ckpt  # noqa: E402
from gmtest import FIXTURES, check, done, run  # noqa: E402

REF = os.path.join(FIXTURES, "gemma4-ref")
tmp = tempfile.TemporaryDirectory()
PROMPT = "the cat sat on the mat and the cat sat on the mat and the cat"

for geo_name, drafter in (("tiny-e2b", "e2b_like_assistant"), ("tiny-moe", "moe_26b_like_assistant")):
    out = os.path.join(tmp.name, geo_name)
    geo = gen_ckpt.geometry(geo_name, hidden=48)
    gen_ckpt.generate(out, geo, "text", "f32", seed=5)
    shutil.copytree(os.path.join(REF, drafter), out + "-assistant")
    for temp, extra in (("0", []), ("0.9", ["--seed", "17"])):
        outs = {}
        for mode in ("off", "auto", "mtp", "lookup"):
            r = run(["generate", "-m", out, "--threads", "1", "--raw", "--temp", temp, "-n", "48",
                     "--spec", mode, "--draft-k", "3"] + extra + [PROMPT])
            check(r.returncode == 0, "%s: --spec %s at temperature %s exits 0 (%s)" %
                  (geo_name, mode, temp, r.stderr.decode(errors="replace").strip()[-200:]))
            outs[mode] = r.stdout
        check(len(outs["off"]) > 0 and all(v == outs["off"] for v in outs.values()),
              "%s: temperature %s: auto, mtp and lookup print the same text as off" % (geo_name, temp))
    r = run(["generate", "-m", out, "--threads", "1", "--raw", "--temp", "0", "-n", "24", "--stats", PROMPT])
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 0 and "acceptance per draft position" in err and "tokens per pass" in err
          and "without" in err, "%s: --stats reports acceptance, tokens per pass and the speed without" % geo_name)

# a generated drafter (bf16, clustered head, no tokenizer.json) for a generated target
tgt = os.path.join(tmp.name, "tiny-e4b")
gen_ckpt.generate(tgt, gen_ckpt.geometry("tiny-e4b"), "released", "bf16", seed=9)
gen_assistant.generate(tgt + "-assistant", tgt, d=32, mlp=64, heads=4, centroids=16, top_k=4, seed=4)
check(not os.path.exists(os.path.join(tgt + "-assistant", "tokenizer.json")), "generated drafter has no tokenizer")
outs = []
for mode in ("off", "mtp"):
    r = run(["generate", "-m", tgt, "--threads", "1", "--raw", "--temp", "0", "-n", "40", "--spec", mode, PROMPT])
    check(r.returncode == 0, "tiny-e4b + generated drafter: --spec %s exits 0 (%s)"
          % (mode, r.stderr.decode(errors="replace").strip()[-200:]))
    outs.append(r.stdout)
check(outs[0] == outs[1] and len(outs[0]) > 0, "tiny-e4b + generated drafter: same text with and without MTP")

# errors: no drafter for --spec mtp, a drafter of another geometry, a bad mode
d31 = os.path.join(REF, "dense_31b_like")
r = run(["generate", "-m", d31, "--raw", "--temp", "0", "-n", "4", "--spec", "mtp", "hi"])
check(r.returncode == 3 and b"--draft" in r.stderr, "--spec mtp without a drafter fails and names --draft")
r = run(["generate", "-m", os.path.join(REF, "e2b_like"), "--raw", "--temp", "0", "-n", "4",
         "--draft", os.path.join(REF, "moe_26b_like_assistant"), "hi"])
check(r.returncode == 3 and b"do not match" in r.stderr, "a drafter of another geometry is refused: %s"
      % r.stderr.decode(errors="replace").strip()[-160:])
r = run(["generate", "-m", d31, "--spec", "sometimes", "hi"])
check(r.returncode == 2 and b"--spec wants" in r.stderr, "an unknown --spec mode is a usage error")
done()
