"""The random-checkpoint generator (tests/pylib/gen_ckpt.py) writes loadable, consistent checkpoints.

Generates tiny models in both layouts and all dtypes, loads them with the float64 reference
(tests/pylib/g4ref.py), and checks config/tensor consistency, dtype equivalence, the
tokenizer sizing, determinism, and a long sequence through KV-shared layers of both types."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/pylib")
import numpy as np  # noqa: E402
import g4ref  # noqa: E402
import gen_ckpt  # noqa: E402
from gmtest import FIXTURES, check, done  # noqa: E402

tmp = tempfile.TemporaryDirectory()
T = tmp.name


def bf16_round(_, a):
    """g4ref weight transform: round float64 weights to bf16 the way the generator stores them."""
    bits = gen_ckpt.f32_to_bf16_bits(a.astype(np.float32)).astype(np.uint32) << 16
    return bits.view(np.float32).astype(np.float64)


def f16_round(_, a):
    """g4ref weight transform: round float64 weights to float16."""
    return a.astype(np.float16).astype(np.float64)


def toks(n, vocab, seed=1):
    """BOS then n-1 pseudo-random ids in [3, vocab)."""
    t = np.random.default_rng(seed).integers(3, vocab, n)
    t[0] = 2
    return t


# bf16 rounding is round-to-nearest-even
x = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8 + 2 ** -20), 3.0], np.float32)
check(list(gen_ckpt.f32_to_bf16_bits(x)) == [0x3F80, 0x3F82, 0xBF81, 0x4040], "f32 -> bf16 rounds to nearest even")

for name in ("tiny-e2b", "tiny-e4b", "tiny-moe", "tiny-31b"):
    geo = gen_ckpt.geometry(name)
    out = os.path.join(T, name)
    info = gen_ckpt.generate(out, geo, "released", "bf16", seed=7)
    m = g4ref.load(out)
    cfg = m.cfg
    plan = gen_ckpt.layer_plan(geo)
    check(cfg["released"] and len(info["files"]) == 2, "%s: released layout, 2 shards" % name)
    same = all(p["hd"] == q["hd"] and p["nkv"] == q["nkv"] and p["has_v"] == q["has_v"] and
               p["shared"] == q["shared"] and p["ffn"] == q["ffn"] and p["type"] == q["type"]
               for p, q in zip(cfg["plan"], plan))
    check(same and len(cfg["plan"]) == geo["layers"], "%s: g4ref derives the generator's layer plan" % name)
    specs = {"model.language_model." + n: sh for n, sh, _ in gen_ckpt.tensor_specs(geo)}
    check(set(m.tensors) == set(specs) and all(m.tensors[n].shape == tuple(sh) for n, sh in specs.items()),
          "%s: stored tensors and shapes equal the spec (%d tensors)" % (name, len(specs)))
    with open(os.path.join(out, "model.safetensors.index.json")) as f:
        idx = json.load(f)
    check(set(idx["weight_map"]) == set(specs) and idx["metadata"]["total_size"] == info["bytes"],
          "%s: index maps every tensor and gives the total size" % name)
    shared = [l for l, p in enumerate(plan) if p["shared"]]
    bad = [n for n in specs if any(n.startswith("model.language_model.layers.%d.self_attn.%s" % (l, w))
                                   for l in shared for w in ("k_proj", "v_proj", "k_norm"))]
    check(not bad and not any("lm_head" in n for n in specs), "%s: no K/V weights on shared layers, no lm_head" % name)
    if geo["k_eq_v"]:
        nov = [l for l, p in enumerate(plan) if p["type"] == gen_ckpt.FULL
               and "model.language_model.layers.%d.self_attn.v_proj.weight" % l in specs]
        check(not nov, "%s: full layers have no v_proj (k_eq_v)" % name)
    lg, hs = g4ref.forward(m, toks(20, geo["vocab"]))
    check(np.isfinite(lg).all() and 0.3 < lg.std() < 5 and max(float(np.abs(h).max()) for h in hs) < 1e3,
          "%s: forward is finite with sane activations (logit std %.2f)" % (name, lg.std()))

# same seed: text-layout F32 and released BF16 / F16 hold the same values up to rounding
geo = gen_ckpt.geometry("tiny-e2b")
for layout, dt in (("text", "f32"), ("released", "bf16"), ("text", "f16")):
    gen_ckpt.generate(os.path.join(T, "eq-" + dt), geo, layout, dt, seed=3)
m32 = g4ref.load(os.path.join(T, "eq-f32"))
check(not m32.cfg["released"] and m32.cfg["prefix"] == "model." and
      os.path.exists(os.path.join(T, "eq-f32", "model.safetensors")), "text layout: flat config, one model.safetensors")
t = toks(24, 512)
l32, h32 = g4ref.forward(m32, t)
lbf, hbf = g4ref.forward(g4ref.load(os.path.join(T, "eq-bf16")), t)
lf16, _ = g4ref.forward(g4ref.load(os.path.join(T, "eq-f16")), t)
m32.transform = bf16_round
m32._cache.clear()
lr, _ = g4ref.forward(m32, t)
check(np.abs(lr - lbf).max() < 1e-9, "F32 weights rounded to bf16 give the BF16 checkpoint's logits exactly (%.1e)"
      % np.abs(lr - lbf).max())
m32.transform = f16_round
m32._cache.clear()
lr16, _ = g4ref.forward(m32, t)
check(np.abs(lr16 - lf16).max() < 1e-9, "F32 weights rounded to f16 give the F16 checkpoint's logits exactly")
# unrounded: random-weight models amplify a perturbation ~2x per layer (the fixtures do too),
# so only the first layer's output is held to bf16-rounding size
d = float(np.abs(h32[1] - hbf[1]).max() / np.abs(h32[1]).max())
check(0 < d < 3e-2, "F32 vs BF16 checkpoint: layer-0 output differs by bf16 rounding only (rel %.1e)" % d)

# a long sequence (> 3 windows) through KV-shared layers of both types; prefix consistency
p = g4ref.read_config(os.path.join(T, "eq-bf16"))["plan"]
check({x["type"] for x in p if x["shared"]} == {gen_ckpt.SLIDING, gen_ckpt.FULL} and p[9]["kv_src"] == 4
      and p[6]["kv_src"] == 5 and p[6]["ffn"] == 2 * p[0]["ffn"], "tiny-e2b: shared layers of both types, double-wide")
mb = g4ref.load(os.path.join(T, "eq-bf16"))
long = toks(3 * geo["window"] + 5, 512, seed=5)
ll, _ = g4ref.forward(mb, long)
lp, _ = g4ref.forward(mb, long[:11])
check(np.isfinite(ll).all() and ll.shape == (len(long), 512),
      "long sequence (%d > window %d) runs" % (len(long), geo["window"]))
check(np.abs(ll[:11] - lp).max() < 1e-9, "logits of a prefix do not depend on later tokens (causal)")

# determinism and seeds
gen_ckpt.generate(os.path.join(T, "eq-bf16-again"), geo, "released", "bf16", seed=3)
gen_ckpt.generate(os.path.join(T, "seed4"), geo, "released", "bf16", seed=4)
rd = lambda d, f="model-00001-of-00002.safetensors": open(os.path.join(T, d, f), "rb").read()  # noqa: E731
check(rd("eq-bf16") == rd("eq-bf16-again") and rd("eq-bf16") != rd("seed4"), "same seed same bytes, other seed differs")

# CLI with --config-json of a fixture, text layout, 3 shards, tokenizer sized to a larger vocab
fx = os.path.join(FIXTURES, "gemma4-ref", "moe_26b_like", "config.json")
out = os.path.join(T, "cli")
r = subprocess.run([sys.executable, gen_ckpt.__file__, "--out", out, "--config-json", fx, "--layout", "text",
                    "--dtype", "f32", "--shards", "3", "--set", "vocab=700"], capture_output=True, text=True)
check(r.returncode == 0, "CLI --config-json exits 0 (%s)" % r.stderr.strip()[-200:])
if r.returncode == 0:
    files = sorted(f for f in os.listdir(out) if f.endswith(".safetensors"))
    check(files == ["model-0000%d-of-00003.safetensors" % i for i in (1, 2, 3)], "CLI wrote 3 shards")
    a, b = g4ref.read_config(os.path.dirname(fx)), g4ref.read_config(out)
    keys = ("hd", "nkv", "has_v", "shared", "kv_src", "ffn", "type")
    check(all(all(x[k] == y[k] for k in keys) for x, y in zip(a["plan"], b["plan"])) and b["moe"] and b["top_k"] == 2
          and b["vocab"] == 700, "CLI geometry equals the fixture's (MoE 8x2, k_eq_v), vocab 700")
    with open(os.path.join(out, "tokenizer.json"), encoding="utf-8") as f:
        v = json.load(f)["model"]["vocab"]
    check(sorted(v.values()) == list(range(700)), "tokenizer vocab extended to 700 contiguous ids")
    lg, _ = g4ref.forward(g4ref.load(out), toks(12, 700))
    check(np.isfinite(lg).all() and lg.shape == (12, 700), "CLI checkpoint runs through g4ref")
gen_ckpt.write_tokenizer(T, 300)
with open(os.path.join(T, "tokenizer.json"), encoding="utf-8") as f:
    tk = json.load(f)
v = tk["model"]["vocab"]
check(sorted(v.values()) == list(range(300)) and all(a in v and b in v and a + b in v for a, b in tk["model"]["merges"])
      and all(x["id"] < 300 for x in tk["added_tokens"]), "tokenizer truncated to 300 consistently")
# config keys are those of the reference checkpoints (minus provenance notes)
for case, gname, layout in (("e4b_like_released_bf16", "tiny-e4b", "released"), ("moe_26b_like", "tiny-moe", "text")):
    with open(os.path.join(FIXTURES, "gemma4-ref", case, "config.json")) as f:
        want = json.load(f)
    got = gen_ckpt.full_config(gen_ckpt.geometry(gname), layout, "bf16" if layout == "released" else "f32")
    drop = {"_refgen_note", "transformers_version"}
    same = set(want) - drop == set(got) and (layout == "text" or set(want["text_config"]) == set(got["text_config"]))
    check(same, "%s config.json has the same keys as fixture %s" % (layout, case))

r = subprocess.run([sys.executable, gen_ckpt.__file__, "--out", os.path.join(T, "bad"), "--geometry", "tiny-e2b",
                    "--set", "kv_shared=9"], capture_output=True, text=True)
check(r.returncode != 0 and "kv_shared" in r.stderr, "impossible kv_shared is refused with a message")
done()
