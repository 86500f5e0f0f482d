#!/usr/bin/python3
"""Generator of random Gemma 4 text checkpoints in the real file formats (test infrastructure).

Writes a checkpoint folder that the engine and tests/pylib/g4ref.py can load:
config.json, generation_config.json, tokenizer.json, tokenizer_config.json and
safetensors weights, either in the RELEASED layout (nested text_config, names
"model.language_model.*", shards + model.safetensors.index.json) or the TEXT layout
(flat gemma4_text config, names "model.*", one model.safetensors by default).

Weights: norms, layer_scalar, router scale and per_expert_scale ~ U[0.5, 1.5]; matrices
~ N(0, 1/fan_in); embedding tables ~ N(0, 1/row width).  Each tensor draws from its own
stream seeded by (seed, tensor name), so the same seed gives the same float32 values in
every layout, dtype and shard count; BF16/F16 are round-to-nearest-even of those values.
With spread, each run of 16 consecutive matrix values is scaled by one of 16 factors
from 1 down to 2^-5 (in a fixed cycle), so block formats with per-16 or per-32 scales
see scales of many sizes (all the bits of their packed sub-block scales in use).
Normal values come from a per-tensor pool of 65536 float32 normal draws indexed by
uniform random 16-bit ids, which keeps multi-GB models fast to write.  Tensors are
streamed chunk by chunk, so memory stays small whatever the model size.

CLI:  gen_ckpt.py --out DIR (--geometry NAME | --config-json FILE) [--layout released|text]
                  [--dtype bf16|f32|f16] [--seed N] [--layers N] [--shards N] [--set KEY=JSON]...
                  [--spread]
Library: geometry(name, **over), geometry_from_config(path, **over), text_config(geo, dtype),
         tensor_specs(geo), generate(out, geo, layout, dtype, seed, shards, spread) -> info dict.
"""
import argparse
import json
import os
import shutil
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER_SRC = os.path.join(HERE, "..", "fixtures", "gemma4-ref", "e2b_like")
SLIDING, FULL = "sliding_attention", "full_attention"
CHUNK = 1 << 22  # elements per generated chunk
POOL = 1 << 16   # normal draws per tensor pool

_BASE = dict(vocab=262144, max_pos=131072, rope_theta_sliding=10000.0, rope_theta_full=1000000.0,
             partial_rotary_factor=0.25, global_kv_heads=None, k_eq_v=False, kv_shared=0,
             double_wide=False, ple=0, experts=0, top_k=0, expert_width=0, layer_types=None,
             bidirectional=None)
PRESETS = {
    "e2b": dict(hidden=1536, layers=35, pattern="SSSSF", heads=8, kv_heads=1, head_dim=256,
                global_head_dim=512, window=512, kv_shared=20, double_wide=True, ple=256, mlp=6144),
    "e4b": dict(hidden=2560, layers=42, pattern="SSSSSF", heads=8, kv_heads=2, head_dim=256,
                global_head_dim=512, window=512, kv_shared=18, ple=256, mlp=10240),
    "26b": dict(hidden=2816, layers=30, pattern="SSSSSF", heads=16, kv_heads=8, global_kv_heads=2,
                k_eq_v=True, head_dim=256, global_head_dim=512, window=1024, mlp=2112, experts=128,
                top_k=8, expert_width=704, max_pos=262144, bidirectional="vision"),
    "31b": dict(hidden=5376, layers=60, pattern="SSSSSF", heads=32, kv_heads=16, global_kv_heads=4,
                k_eq_v=True, head_dim=256, global_head_dim=512, window=1024, mlp=21504, max_pos=262144,
                bidirectional="vision"),
    "tiny-e2b": dict(vocab=512, hidden=64, layers=10, pattern="SSSSF", heads=4, kv_heads=1, head_dim=16,
                     global_head_dim=32, window=8, kv_shared=4, double_wide=True, ple=16, mlp=96,
                     max_pos=1024),
    "tiny-e4b": dict(vocab=512, hidden=64, layers=12, pattern="SSSSSF", heads=4, kv_heads=2, head_dim=16,
                     global_head_dim=32, window=8, kv_shared=3, ple=16, mlp=128, max_pos=1024),
    "tiny-moe": dict(vocab=512, hidden=64, layers=6, pattern="SSSSSF", heads=4, kv_heads=2, global_kv_heads=1,
                     k_eq_v=True, head_dim=16, global_head_dim=32, window=8, mlp=48, experts=8, top_k=2,
                     expert_width=16, max_pos=1024, bidirectional="vision"),
    "tiny-31b": dict(vocab=512, hidden=64, layers=6, pattern="SSSSSF", heads=4, kv_heads=2, global_kv_heads=1,
                     k_eq_v=True, head_dim=16, global_head_dim=32, window=8, mlp=96, max_pos=1024,
                     bidirectional="vision"),
}


# ---------------------------------------------------------------------------------------
# geometry


def _types_from_pattern(pattern, n):
    """layer_types from an S/F pattern repeated over n layers; the last layer is full."""
    if not pattern or set(pattern) - set("SF"):
        raise ValueError("layer pattern %r must be a non-empty string of S and F" % pattern)
    t = [FULL if pattern[i % len(pattern)] == "F" else SLIDING for i in range(n)]
    t[-1] = FULL
    return t


def fit_kv_shared(types, wanted):
    """Largest count <= wanted of trailing KV-shared layers whose types all have a source."""
    L = len(types)
    for s in range(min(max(0, wanted), L - 1), 0, -1):
        prefix = set(types[:L - s])
        if set(types[L - s:]) <= prefix:
            return s
    return 0


def _check(geo):
    """Validate a geometry; raises ValueError naming the bad knob."""
    L, t = geo["layers"], geo["layer_types"]
    if len(t) != L or set(t) - {SLIDING, FULL}:
        raise ValueError("layer_types must list %d entries of %s/%s" % (L, SLIDING, FULL))
    for k in ("vocab", "hidden", "heads", "kv_heads", "head_dim", "global_head_dim", "window", "mlp"):
        if not isinstance(geo[k], int) or geo[k] <= 0:
            raise ValueError("geometry knob %s must be a positive integer, got %r" % (k, geo[k]))
    if geo["head_dim"] % 2 or geo["global_head_dim"] % 2:
        raise ValueError("head dims must be even for RoPE")
    nkv_f = geo["global_kv_heads"] if geo["k_eq_v"] else geo["kv_heads"]
    if geo["k_eq_v"] and not geo["global_kv_heads"]:
        raise ValueError("k_eq_v needs global_kv_heads")
    for n in (geo["kv_heads"], nkv_f):
        if geo["heads"] % n:
            raise ValueError("heads (%d) must be a multiple of KV heads (%d)" % (geo["heads"], n))
    if fit_kv_shared(t, geo["kv_shared"]) != geo["kv_shared"]:
        raise ValueError("kv_shared=%d impossible for layer_types: a shared layer's type needs an earlier "
                         "non-shared layer of that type" % geo["kv_shared"])
    if geo["experts"] and not (0 < geo["top_k"] <= geo["experts"] and geo["expert_width"] > 0):
        raise ValueError("MoE needs 0 < top_k <= experts and expert_width > 0")
    return geo


def geometry(name, **over):
    """A named preset with overrides; layers=N rescales the layer pattern and KV sharing."""
    if name not in PRESETS:
        raise ValueError("unknown geometry %r; known: %s" % (name, ", ".join(sorted(PRESETS))))
    geo = dict(_BASE)
    geo.update(PRESETS[name])
    base_layers, base_shared = geo["layers"], geo["kv_shared"]
    geo.update(over)
    if over.get("layer_types") is None:
        geo["layer_types"] = _types_from_pattern(geo["pattern"], geo["layers"])
    geo["layers"] = len(geo["layer_types"])
    if "kv_shared" not in over and geo["layers"] != base_layers:
        geo["kv_shared"] = fit_kv_shared(geo["layer_types"], round(base_shared * geo["layers"] / base_layers))
    geo.pop("pattern", None)
    return _check(geo)


def geometry_from_config(path, **over):
    """Geometry read back from a config.json of either layout (what the engine would see)."""
    with open(path) as f:
        top = json.load(f)
    tc = top.get("text_config") or top
    rp = tc.get("rope_parameters") or {}
    moe = bool(tc.get("enable_moe_block"))
    geo = dict(
        vocab=tc["vocab_size"], hidden=tc["hidden_size"], layers=tc["num_hidden_layers"],
        layer_types=list(tc["layer_types"]), heads=tc["num_attention_heads"], kv_heads=tc["num_key_value_heads"],
        global_kv_heads=tc.get("num_global_key_value_heads"), k_eq_v=bool(tc.get("attention_k_eq_v")),
        head_dim=tc["head_dim"], global_head_dim=tc.get("global_head_dim") or tc["head_dim"],
        window=tc["sliding_window"], kv_shared=tc.get("num_kv_shared_layers") or 0,
        double_wide=bool(tc.get("use_double_wide_mlp")), ple=tc.get("hidden_size_per_layer_input") or 0,
        mlp=tc["intermediate_size"], experts=(tc.get("num_experts") or 0) if moe else 0,
        top_k=(tc.get("top_k_experts") or 0) if moe else 0,
        expert_width=(tc.get("moe_intermediate_size") or 0) if moe else 0,
        max_pos=tc.get("max_position_embeddings", 131072),
        rope_theta_sliding=rp.get(SLIDING, {}).get("rope_theta", 10000.0),
        rope_theta_full=rp.get(FULL, {}).get("rope_theta", 1000000.0),
        partial_rotary_factor=rp.get(FULL, {}).get("partial_rotary_factor", 0.25),
        bidirectional=tc.get("use_bidirectional_attention"))
    geo.update(over)
    if "layers" in over and "layer_types" not in over:
        geo["layer_types"] = (geo["layer_types"] * (geo["layers"] // len(geo["layer_types"]) + 1))[:geo["layers"]]
        geo["layer_types"][-1] = FULL
        if "kv_shared" not in over:
            geo["kv_shared"] = fit_kv_shared(geo["layer_types"], geo["kv_shared"])
    return _check(geo)


# ---------------------------------------------------------------------------------------
# config files


def text_config(geo, dtype="bf16"):
    """The decoder config (model_type gemma4_text) with the released checkpoints' keys."""
    moe = geo["experts"] > 0
    return {
        "attention_bias": False, "attention_dropout": 0.0, "attention_k_eq_v": geo["k_eq_v"],
        "bos_token_id": 2, "dtype": {"bf16": "bfloat16", "f32": "float32", "f16": "float16"}[dtype],
        "enable_moe_block": moe, "eos_token_id": 1, "final_logit_softcapping": 30.0,
        "global_head_dim": geo["global_head_dim"], "head_dim": geo["head_dim"],
        "hidden_activation": "gelu_pytorch_tanh", "hidden_size": geo["hidden"],
        "hidden_size_per_layer_input": geo["ple"], "initializer_range": 0.02, "intermediate_size": geo["mlp"],
        "layer_types": list(geo["layer_types"]), "max_position_embeddings": geo["max_pos"],
        "model_type": "gemma4_text", "moe_intermediate_size": geo["expert_width"] if moe else None,
        "num_attention_heads": geo["heads"], "num_experts": geo["experts"] if moe else None,
        "num_global_key_value_heads": geo["global_kv_heads"] if geo["k_eq_v"] else None,
        "num_hidden_layers": geo["layers"], "num_key_value_heads": geo["kv_heads"],
        "num_kv_shared_layers": geo["kv_shared"], "pad_token_id": 0, "rms_norm_eps": 1e-06,
        "rope_parameters": {
            FULL: {"partial_rotary_factor": geo["partial_rotary_factor"],
                   "rope_theta": float(geo["rope_theta_full"]), "rope_type": "proportional"},
            SLIDING: {"rope_theta": float(geo["rope_theta_sliding"]), "rope_type": "default"}},
        "sliding_window": geo["window"], "tie_word_embeddings": True,
        "top_k_experts": geo["top_k"] if moe else None, "use_bidirectional_attention": geo["bidirectional"],
        "use_cache": True, "use_double_wide_mlp": geo["double_wide"], "vocab_size": geo["vocab"],
        "vocab_size_per_layer_input": geo["vocab"] if geo["ple"] else 0,
    }


def full_config(geo, layout, dtype):
    """config.json content: nested Gemma4ForConditionalGeneration, or flat gemma4_text."""
    tc = text_config(geo, dtype)
    if layout == "text":
        # save_pretrained form: also the per-layer overrides newer transformers read
        out = {"architectures": ["Gemma4ForCausalLM"]}
        out.update(tc)
        plc = {}
        for l, t in enumerate(geo["layer_types"]):
            if t == FULL:
                plc[str(l)] = {"head_dim": geo["global_head_dim"]}
                if geo["k_eq_v"]:
                    plc[str(l)]["num_key_value_heads"] = geo["global_kv_heads"]
        out["per_layer_config"] = plc
        return dict(sorted(out.items()))
    return {
        "architectures": ["Gemma4ForConditionalGeneration"], "audio_config": None, "audio_token_id": 258881,
        "boa_token_id": 256000, "boi_token_id": 255999, "dtype": tc["dtype"], "eoa_token_id": 258883,
        "eoa_token_index": 258883, "eoi_token_id": 258882, "eos_token_id": [1, 106],
        "image_token_id": 258880, "initializer_range": 0.02, "model_type": "gemma4", "text_config": tc,
        "tie_word_embeddings": True, "video_token_id": 258884, "vision_config": None,
        "vision_soft_tokens_per_image": 280,
    }


GENERATION_CONFIG = {"bos_token_id": 2, "do_sample": True, "eos_token_id": [1, 106, 50], "pad_token_id": 0,
                     "temperature": 1.0, "top_k": 64, "top_p": 0.95}


def write_tokenizer(out, vocab):
    """tokenizer.json sized to vocab: the fixture tokenizer extended with filler or truncated.

    The fixture tokenizer has 512 ids; beyond that come plain pieces "fill<id>" that no merge
    produces.  Below 512 it is cut to the ids < vocab (with the merges and added tokens that
    still fit); under 494 that loses byte-fallback pieces, so keep vocab >= 512 for text use."""
    with open(os.path.join(TOKENIZER_SRC, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    v = tok["model"]["vocab"]
    n = len(v)
    if vocab >= n:
        for i in range(n, vocab):
            v["fill%d" % i] = i  # plain pieces no merge reaches
    else:
        v = {p: i for p, i in v.items() if i < vocab}
        tok["model"]["vocab"] = v
        tok["model"]["merges"] = [m for m in tok["model"]["merges"]
                                  if m[0] in v and m[1] in v and m[0] + m[1] in v]
        tok["added_tokens"] = [a for a in tok["added_tokens"] if a["id"] < vocab]
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    shutil.copyfile(os.path.join(TOKENIZER_SRC, "tokenizer_config.json"), os.path.join(out, "tokenizer_config.json"))


# ---------------------------------------------------------------------------------------
# tensors


def layer_plan(geo):
    """Per-layer (type, head dim, KV heads, has_v, shared, ffn width) from a geometry."""
    L, ns = geo["layers"], geo["kv_shared"]
    out = []
    for l, t in enumerate(geo["layer_types"]):
        full = t == FULL
        shared = ns > 0 and l >= L - ns
        out.append(dict(type=t, hd=geo["global_head_dim"] if full else geo["head_dim"],
                        nkv=geo["global_kv_heads"] if (full and geo["k_eq_v"]) else geo["kv_heads"],
                        has_v=not (full and geo["k_eq_v"]), shared=shared,
                        ffn=geo["mlp"] * (2 if geo["double_wide"] and shared else 1)))
    return out


def tensor_specs(geo):
    """[(name without prefix, shape, std or None for U[0.5,1.5])], sorted by name."""
    H, V, L, P, Hq = geo["hidden"], geo["vocab"], geo["layers"], geo["ple"], geo["heads"]
    s = [("embed_tokens.weight", (V, H), H ** -0.5), ("norm.weight", (H,), None)]
    if P:
        s += [("embed_tokens_per_layer.weight", (V, L * P), (L * P) ** -0.5),
              ("per_layer_model_projection.weight", (L * P, H), H ** -0.5),
              ("per_layer_projection_norm.weight", (P,), None)]
    for l, p in enumerate(layer_plan(geo)):
        pre, hd, nkv, W = "layers.%d." % l, p["hd"], p["nkv"], p["ffn"]
        s += [(pre + "input_layernorm.weight", (H,), None), (pre + "post_attention_layernorm.weight", (H,), None),
              (pre + "pre_feedforward_layernorm.weight", (H,), None),
              (pre + "post_feedforward_layernorm.weight", (H,), None), (pre + "layer_scalar", (1,), None),
              (pre + "self_attn.q_proj.weight", (Hq * hd, H), H ** -0.5),
              (pre + "self_attn.q_norm.weight", (hd,), None),
              (pre + "self_attn.o_proj.weight", (H, Hq * hd), (Hq * hd) ** -0.5),
              (pre + "mlp.gate_proj.weight", (W, H), H ** -0.5), (pre + "mlp.up_proj.weight", (W, H), H ** -0.5),
              (pre + "mlp.down_proj.weight", (H, W), W ** -0.5)]
        if not p["shared"]:
            s += [(pre + "self_attn.k_proj.weight", (nkv * hd, H), H ** -0.5),
                  (pre + "self_attn.k_norm.weight", (hd,), None)]
            if p["has_v"]:
                s += [(pre + "self_attn.v_proj.weight", (nkv * hd, H), H ** -0.5)]
        if P:
            s += [(pre + "per_layer_input_gate.weight", (P, H), H ** -0.5),
                  (pre + "per_layer_projection.weight", (H, P), P ** -0.5),
                  (pre + "post_per_layer_input_norm.weight", (H,), None)]
        if geo["experts"]:
            E, I = geo["experts"], geo["expert_width"]
            s += [(pre + "router.proj.weight", (E, H), H ** -0.5), (pre + "router.scale", (H,), None),
                  (pre + "router.per_expert_scale", (E,), None),
                  (pre + "experts.gate_up_proj", (E, 2 * I, H), H ** -0.5),
                  (pre + "experts.down_proj", (E, H, I), I ** -0.5),
                  (pre + "pre_feedforward_layernorm_2.weight", (H,), None),
                  (pre + "post_feedforward_layernorm_1.weight", (H,), None),
                  (pre + "post_feedforward_layernorm_2.weight", (H,), None)]
    return sorted(s)


_ST = {"bf16": ("BF16", 2), "f32": ("F32", 4), "f16": ("F16", 2)}


def f32_to_bf16_bits(a):
    """Round-to-nearest-even float32 -> bfloat16, returned as uint16 bits (finite inputs)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    r = (u >> 16) & 1
    r += 0x7FFF
    r += u
    r >>= 16
    return r.astype(np.uint16)


def _cast(a32, dtype):
    """float32 values to the stored dtype's little-endian array."""
    if dtype == "bf16":
        return f32_to_bf16_bits(a32)
    return a32.astype("<f4" if dtype == "f32" else "<f2")


# --spread: the factor of each run of 16 values, cycling (CHUNK is a multiple of 16 * 16)
SPREAD = np.float32(2.0) ** -np.array([0, 3, 1, 5, 2, 4, 0.5, 2.5, 1.5, 4.5, 3.5, 0.25, 5, 1, 3, 2], np.float32)


def stream_tensor(name, shape, std, seed, dtype, spread=False):
    """Yield the tensor's stored values chunk by chunk (deterministic in seed and name)."""
    n = int(np.prod(shape))
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    if std is None:
        for s in range(0, n, CHUNK):
            yield _cast(rng.random(min(CHUNK, n - s), dtype=np.float32) + np.float32(0.5), dtype)
        return
    pool = rng.standard_normal(POOL, dtype=np.float32) * np.float32(std)
    if spread:
        fac = np.repeat(SPREAD, 16)
        for s in range(0, n, CHUNK):
            k = min(CHUNK, n - s)
            idx = rng.integers(0, POOL, size=k, dtype=np.uint16)
            yield _cast(pool[idx] * np.resize(fac, k), dtype)
        return
    lut = _cast(pool, dtype)
    out = np.empty(min(CHUNK, n), lut.dtype)
    for s in range(0, n, CHUNK):
        k = min(CHUNK, n - s)
        idx = rng.integers(0, POOL, size=k, dtype=np.uint16)
        yield np.take(lut, idx, out=out[:k])


def _header(entries, dtype):
    """safetensors header bytes (padded to 8) for [(name, shape)] laid out in order."""
    st, size = _ST[dtype]
    h, off = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in entries:
        nb = int(np.prod(shape)) * size
        h[name] = {"dtype": st, "shape": list(shape), "data_offsets": [off, off + nb]}
        off += nb
    b = json.dumps(h, separators=(",", ":")).encode()
    b += b" " * (-len(b) % 8)
    return len(b).to_bytes(8, "little") + b


def generate(out, geo, layout="released", dtype="bf16", seed=0, shards=None, spread=False):
    """Write a full checkpoint folder; returns {files, tensors, parameters, bytes}."""
    if layout not in ("released", "text"):
        raise ValueError("layout must be released or text, got %r" % layout)
    if dtype not in _ST:
        raise ValueError("dtype must be one of bf16, f32, f16, got %r" % dtype)
    os.makedirs(out, exist_ok=True)
    prefix = "model.language_model." if layout == "released" else "model."
    specs = tensor_specs(geo)
    size = _ST[dtype][1]
    nbytes = [int(np.prod(sh)) * size for _, sh, _ in specs]
    total = sum(nbytes)
    if shards is None:
        shards = 2 if layout == "released" else 1
    shards = max(1, min(int(shards), len(specs)))
    # contiguous runs of the sorted names, each tensor going to the shard its midpoint falls in;
    # a shard left empty (one huge tensor) is dropped, so fewer files than asked may result
    groups, acc = [[] for _ in range(shards)], 0
    for spec, nb in zip(specs, nbytes):
        groups[min(shards - 1, (2 * acc + nb) * shards // (2 * total))].append(spec)
        acc += nb
    groups = [g for g in groups if g]
    shards = len(groups)
    names = ["model.safetensors"] if shards == 1 else \
        ["model-%05d-of-%05d.safetensors" % (k + 1, shards) for k in range(shards)]
    wmap = {}
    for fn, group in zip(names, groups):
        with open(os.path.join(out, fn), "wb") as f:
            f.write(_header([(prefix + n, sh) for n, sh, _ in group], dtype))
            for n, sh, std in group:
                for chunk in stream_tensor(n, sh, std, seed, dtype, spread and len(sh) > 1):
                    f.write(memoryview(chunk))
                wmap[prefix + n] = fn
    idx = os.path.join(out, "model.safetensors.index.json")
    if shards > 1:
        with open(idx, "w") as f:
            json.dump({"metadata": {"total_parameters": total // size, "total_size": total},
                       "weight_map": dict(sorted(wmap.items()))}, f, indent=2)
    elif os.path.exists(idx):
        os.remove(idx)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(full_config(geo, layout, dtype), f, indent=2)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(GENERATION_CONFIG, f, indent=2)
    write_tokenizer(out, geo["vocab"])
    return dict(files=names, tensors=len(specs), parameters=total // size, bytes=total)


def main(argv=None):
    """CLI entry point."""
    ap = argparse.ArgumentParser(description="write a random Gemma 4 checkpoint in the real formats")
    ap.add_argument("--out", required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--geometry", help="preset: " + ", ".join(sorted(PRESETS)))
    g.add_argument("--config-json", help="take the geometry from this config.json (either layout)")
    ap.add_argument("--layout", choices=["released", "text"], default="released")
    ap.add_argument("--dtype", choices=["bf16", "f32", "f16"], default="bf16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--shards", type=int)
    ap.add_argument("--spread", action="store_true", help="scale runs of 16 matrix values by factors 1..2^-5")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override a geometry knob, e.g. --set hidden=128 --set pattern='\"SSF\"'")
    a = ap.parse_args(argv)
    over = {}
    for kv in a.set:
        k, sep, v = kv.partition("=")
        if not sep or k not in set(_BASE) | set(PRESETS["e2b"]) | {"pattern"}:
            sys.exit("gen_ckpt: --set %r: expected KEY=JSON with a known geometry knob" % kv)
        try:
            over[k] = json.loads(v)
        except ValueError:
            over[k] = v
    if a.layers is not None:
        over["layers"] = a.layers
    try:
        geo = geometry(a.geometry, **over) if a.geometry else geometry_from_config(a.config_json, **over)
        info = generate(a.out, geo, a.layout, a.dtype, a.seed, a.shards, a.spread)
    except (ValueError, OSError) as e:
        sys.exit("gen_ckpt: %s" % e)
    print("gen_ckpt: wrote %s: %d tensors, %d parameters, %d bytes in %d file(s)"
          % (a.out, info["tensors"], info["parameters"], info["bytes"], len(info["files"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
