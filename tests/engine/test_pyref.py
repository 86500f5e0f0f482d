"""The float64 reference (tests/pylib/g4ref.py) reproduces every target fixture.

Checks logits (max abs error <= 1e-3, argmax equal at every position), hidden states,
and the per-layer K/V the drafter fixtures record, for all four target geometries in
both checkpoint layouts.  Also checks the CLI output format."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/pylib")
import numpy as np  # noqa: E402
import g4ref  # noqa: E402
from gmtest import FIXTURES, check, done  # noqa: E402

REF = os.path.join(FIXTURES, "gemma4-ref")
CASES = ["e2b_like", "moe_26b_like", "dense_31b_like", "e4b_like_released_bf16"]


def tokens_of(d):
    with open(os.path.join(d, "tokens.txt")) as f:
        return [int(x) for x in f.read().split(",") if x.strip()]


for case in CASES:
    d = os.path.join(REF, case)
    m = g4ref.load(d)
    cfg = m.cfg
    toks = tokens_of(d)
    logits, hidden = g4ref.forward(m, toks)
    want = np.load(os.path.join(d, "logits.npy"))
    err = float(np.abs(logits - want).max())
    check(logits.shape == want.shape, "%s: logits shape %s" % (case, logits.shape))
    check(err <= 1e-3, "%s: max |dlogit| = %.2e <= 1e-3" % (case, err))
    check(bool((logits.argmax(1) == want.argmax(1)).all()), "%s: argmax equal at all %d positions" % (case, len(toks)))
    L = cfg["layers"]
    check(len(hidden) == L + 2, "%s: %d hidden states (L+2)" % (case, len(hidden)))
    hs = np.load(os.path.join(d, "hidden_states.npy"))  # [L+1]: layer L-1's raw output not stored
    mine = np.stack(hidden[:L] + [hidden[L + 1]])
    herr = float(np.abs(mine - hs).max() / max(1.0, float(np.abs(hs).max())))
    check(herr <= 1e-4, "%s: hidden states relative error %.2e <= 1e-4" % (case, herr))
    ad = d + "_assistant"
    if os.path.isdir(ad):
        for t in (g4ref.SLIDING, g4ref.FULL):
            src = g4ref.last_kv_layer(cfg, t)
            k, v = m.kv[src]
            ek = float(np.abs(k - np.load(os.path.join(ad, "shared_kv_%s_k.npy" % t))).max())
            ev = float(np.abs(v - np.load(os.path.join(ad, "shared_kv_%s_v.npy" % t))).max())
            check(ek <= 1e-4 and ev <= 1e-4, "%s: K/V of layer %d (%s) match the drafter fixture (%.1e, %.1e)"
                  % (case, src, t, ek, ev))

    # a deliberate off-by-one window must be caught by the same comparison (test of the test)
    if cfg["window"] < len(toks):
        cfg["window"] += 1
        bad, _ = g4ref.forward(m, toks)
        cfg["window"] -= 1
        check(float(np.abs(bad - want).max()) > 1e-2, "%s: window off by one is detected" % case)

# plan derivation for the released layout
cfg = g4ref.read_config(os.path.join(REF, "e4b_like_released_bf16"))
p = cfg["plan"]
check(cfg["released"] and cfg["prefix"] == "model.language_model.", "released layout detected")
check([x["kv_src"] for x in p[9:]] == [8, 8, 5] and [x["shared"] for x in p].count(True) == 3,
      "e4b_like: shared layers 9..11 read 8, 8, 5")
check(p[5]["hd"] == 32 and p[0]["hd"] == 16 and int((p[5]["inv_freq"] > 0).sum()) == 4,
      "e4b_like: full layer head dim 32 with 4 rotated angle pairs")
cfg = g4ref.read_config(os.path.join(REF, "moe_26b_like"))
check(cfg["plan"][5]["nkv"] == 1 and not cfg["plan"][5]["has_v"] and cfg["plan"][0]["has_v"],
      "moe_26b_like: full layer has 1 KV head and no v_proj (k_eq_v)")

# bf16 embedding scale values quoted by the spec (39.25, 50.5, 53.0, 73.5 for E2B/E4B/26B/31B; 6.9375 at H=48)
check([g4ref.bf16_value(h ** 0.5) for h in (1536, 2560, 2816, 5376, 48)] == [39.25, 50.5, 53.0, 73.5, 6.9375],
      "bf16(sqrt(H)) equals the spec's values")

# CLI writes float32 LE [T x V]
d = os.path.join(REF, "dense_31b_like")
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "l.bin")
    toks = tokens_of(d)[:5]
    r = subprocess.run([sys.executable, g4ref.__file__, "--model", d, "--tokens", ",".join(map(str, toks)),
                        "--out", out], capture_output=True)
    check(r.returncode == 0, "CLI exits 0 (%s)" % r.stderr.decode()[-200:].strip())
    got = np.fromfile(out, "<f4") if os.path.exists(out) else np.zeros(0, "<f4")
    want = np.load(os.path.join(d, "logits.npy"))[:5]
    check(got.size == want.size and np.abs(got.reshape(want.shape) - want).max() < 1e-3,
          "CLI logits file is float32 [T x V] matching the fixture prefix")
done()
