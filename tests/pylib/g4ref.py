#!/usr/bin/python3
"""Independent float64 reference of the Gemma 4 text decoder (test infrastructure only).

Written from the Gemma 4 text-decoder specification (config, forward pass, checkpoint
layout and its pitfalls list), to check the C engine against.  It reads a checkpoint folder in either layout:

  * text layout:     flat config.json (model_type gemma4_text) + model.safetensors,
                     tensor names "model.*";
  * released layout: config.json (model_type gemma4, decoder under text_config),
                     model-0000K-of-0000N.safetensors + model.safetensors.index.json,
                     tensor names "model.language_model.*".

Weights may be F32, F16 or BF16; every value is converted exactly to float64 and the
whole forward runs in float64 with the exact embedding scale sqrt(H).  Vocabulary-sized
tables are never converted whole: embedding rows are gathered and the tied LM head is
applied in row blocks, so the reference also runs on checkpoints with real vocab sizes.

Library:  cfg = read_config(dir); model = load(dir);
          logits, hidden = forward(model, tokens)          # [T,V] float64, list of L+2 [T,H]
          model.kv[l] = (K [nkv,T,hd], V [nkv,T,hd]) after a forward, for non-shared layers;
          model.kv_f16 = True rounds them to IEEE half as they are stored (the f16 cache).
CLI:      g4ref.py --model DIR --tokens 2,5,7 --out FILE   (float32 little-endian [T x V])
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

SLIDING = "sliding_attention"
FULL = "full_attention"
CACHE_MAX = 1 << 22  # tensors up to this many elements stay converted between uses
_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2)}


# ---------------------------------------------------------------------------------------
# safetensors reading


class TensorRef:
    """One stored tensor: where it lives and how to turn it into float64 on demand."""

    def __init__(self, name, path, mm, dtype, shape, start, end):
        if dtype not in _DTYPES:
            raise ValueError("%s: tensor %s has dtype %s; only F32, F16 and BF16 are supported"
                             % (path, name, dtype))
        np_dt, size = _DTYPES[dtype]
        count = int(np.prod(shape)) if shape else 1
        if end - start != count * size:
            raise ValueError("%s: tensor %s: data_offsets span %d bytes but shape %s of %s needs %d"
                             % (path, name, end - start, shape, dtype, count * size))
        self.name, self.path, self.dtype, self.shape = name, path, dtype, tuple(shape)
        self.raw = np.frombuffer(mm, dtype=np_dt, count=count, offset=start).reshape(self.shape)

    def f64(self, rows=None):
        """The tensor (or the selected rows of its first axis) converted exactly to float64."""
        r = self.raw if rows is None else self.raw[rows]
        return to_f64(r, self.dtype)


def to_f64(raw, dtype):
    """Exact conversion of stored F32/F16/BF16 values (BF16 given as uint16 bits) to float64."""
    if dtype == "BF16":
        return (raw.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return raw.astype(np.float64)


def read_safetensors(path):
    """Parse one .safetensors file (u64 LE header length, JSON header, raw data) lazily."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError("%s: file shorter than the 8-byte safetensors header length" % path)
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            raise ValueError("%s: header length %d exceeds the file size %d" % (path, n, size))
        header = json.loads(f.read(n).decode("utf-8"))
    base = 8 + n
    mm = np.memmap(path, dtype=np.uint8, mode="r") if size > base else np.zeros(0, np.uint8)
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if not (0 <= start <= end <= size - base):
            raise ValueError("%s: tensor %s: data_offsets %s outside the data area (%d bytes)"
                             % (path, name, info["data_offsets"], size - base))
        out[name] = TensorRef(name, path, mm, info["dtype"], info["shape"], base + start, base + end)
    return out


def read_weights(d):
    """All tensors of a checkpoint folder: the sharded index if present, else model.safetensors."""
    idx = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            wmap = json.load(f)["weight_map"]
        files = {}
        for fn in sorted(set(wmap.values())):
            files[fn] = read_safetensors(os.path.join(d, fn))
        out = {}
        for name, fn in wmap.items():
            if name not in files[fn]:
                raise ValueError("%s: index says tensor %s is in %s, but that file lacks it" % (idx, name, fn))
            out[name] = files[fn][name]
        return out
    single = os.path.join(d, "model.safetensors")
    if not os.path.exists(single):
        raise FileNotFoundError("%s: neither model.safetensors.index.json nor model.safetensors found" % d)
    return read_safetensors(single)


# ---------------------------------------------------------------------------------------
# configuration and per-layer plan


def _rope_inv_freq(params, hd, where):
    """inv_freq[hd/2] for one layer type: 'default' rotates all dims, 'proportional' a prefix."""
    kind = params.get("rope_type", "default")
    theta = float(params["rope_theta"])
    factor = params.get("factor")
    if factor not in (None, 1, 1.0):
        raise ValueError("%s: rope factor %r is not supported by this reference" % (where, factor))
    i = np.arange(hd // 2, dtype=np.float64)
    inv = theta ** (-2.0 * i / hd)
    if kind == "default":
        prf = params.get("partial_rotary_factor", 1.0)
        if prf not in (None, 1, 1.0):
            raise ValueError("%s: default rope with partial_rotary_factor %r unsupported" % (where, prf))
    elif kind == "proportional":
        # exponent denominator is the full head dim; only the first angles are non-zero
        n_rot = int(float(params.get("partial_rotary_factor", 1.0)) * hd // 2)
        inv[n_rot:] = 0.0
    else:
        raise ValueError("%s: rope_type %r unsupported (default/proportional only)" % (where, kind))
    return inv


def read_config(d):
    """Read config.json (either layout) and derive the per-layer plan (§1.3 of the spec)."""
    path = os.path.join(d, "config.json")
    with open(path) as f:
        top = json.load(f)
    released = top.get("model_type") == "gemma4" or "text_config" in top
    tc = top["text_config"] if released else top
    if tc.get("model_type") not in (None, "gemma4_text"):
        raise ValueError("%s: text model_type is %r, expected gemma4_text" % (path, tc.get("model_type")))
    L = int(tc["num_hidden_layers"])
    types = tc.get("layer_types")
    if not types:
        types = [FULL if (i + 1) % 6 == 0 else SLIDING for i in range(L)]
        types[-1] = FULL
    if len(types) != L:
        raise ValueError("%s: layer_types has %d entries but num_hidden_layers is %d" % (path, len(types), L))
    hd_s = int(tc["head_dim"])
    plc = tc.get("per_layer_config") or {}
    hd_f = tc.get("global_head_dim")
    k_eq_v = bool(tc.get("attention_k_eq_v"))
    nkv_s = int(tc["num_key_value_heads"])
    nkv_g = tc.get("num_global_key_value_heads")
    nshared = int(tc.get("num_kv_shared_layers") or 0)
    first_shared = L - nshared
    ple = int(tc.get("hidden_size_per_layer_input") or 0)
    moe = bool(tc.get("enable_moe_block"))
    rp = tc.get("rope_parameters") or {}
    cfg = dict(
        path=d, released=released, prefix="model.language_model." if released else "model.",
        vocab=int(tc["vocab_size"]), hidden=int(tc["hidden_size"]), layers=L, layer_types=list(types),
        heads=int(tc["num_attention_heads"]), eps=float(tc.get("rms_norm_eps", 1e-6)),
        window=int(tc["sliding_window"]), softcap=tc.get("final_logit_softcapping"),
        ple=ple, ple_vocab=int(tc.get("vocab_size_per_layer_input") or 0) if ple else 0,
        moe=moe, experts=int(tc.get("num_experts") or 0) if moe else 0,
        top_k=int(tc.get("top_k_experts") or 0) if moe else 0,
        moe_width=int(tc.get("moe_intermediate_size") or 0) if moe else 0,
        k_eq_v=k_eq_v, num_kv_shared_layers=nshared,
        tie=bool(top.get("tie_word_embeddings", tc.get("tie_word_embeddings", True))),
    )
    if tc.get("hidden_activation", "gelu_pytorch_tanh") != "gelu_pytorch_tanh":
        raise ValueError("%s: hidden_activation %r unsupported" % (path, tc.get("hidden_activation")))
    plan = []
    for l, t in enumerate(types):
        if t not in (SLIDING, FULL):
            raise ValueError("%s: layer %d has unknown type %r" % (path, l, t))
        over = plc.get(str(l), {})
        if t == FULL:
            hd = int(hd_f) if hd_f is not None else int(over.get("head_dim", hd_s))
            nkv = int(nkv_g) if (k_eq_v and nkv_g is not None) else int(over.get("num_key_value_heads", nkv_s))
        else:
            hd, nkv = hd_s, nkv_s
        shared = nshared > 0 and l >= first_shared
        src = l
        if shared:
            cands = [s for s in range(first_shared) if types[s] == t]
            if not cands:
                raise ValueError("%s: KV-shared layer %d (%s) has no earlier non-shared layer of its type"
                                 % (path, l, t))
            src = cands[-1]
        width = int(tc["intermediate_size"]) * (2 if (tc.get("use_double_wide_mlp") and shared) else 1)
        if t not in rp:
            raise ValueError("%s: rope_parameters has no entry for %s" % (path, t))
        if cfg["heads"] % nkv:
            raise ValueError("%s: layer %d: %d query heads not divisible by %d KV heads"
                             % (path, l, cfg["heads"], nkv))
        plan.append(dict(type=t, hd=hd, nkv=nkv, has_v=not (t == FULL and k_eq_v), shared=shared,
                         kv_src=src, ffn=width,
                         inv_freq=_rope_inv_freq(rp[t], hd, "%s: layer %d" % (path, l))))
    cfg["plan"] = plan
    return cfg


# ---------------------------------------------------------------------------------------
# model


class Model:
    """A loaded checkpoint: config, plan, lazy tensors, and the K/V of the last forward."""

    def __init__(self, cfg, tensors):
        self.cfg, self.tensors, self.kv = cfg, tensors, {}
        self.kv_f16 = False  # store K/V rounded to IEEE half, as the engine's default f16 cache does
        self.transform = None  # optional f(name, float64 array) -> array, applied on every read
        self.embed_scale = None  # None: exact sqrt(H); set a number to mimic e.g. bf16(sqrt(H))
        self._cache = {}

    def ref(self, name):
        """The stored tensor called prefix+name, or a clear error naming the checkpoint."""
        full = self.cfg["prefix"] + name
        t = self.tensors.get(full)
        if t is None:
            raise KeyError("%s: tensor %s missing from the checkpoint" % (self.cfg["path"], full))
        return t

    def has(self, name):
        return self.cfg["prefix"] + name in self.tensors

    def w(self, name, shape=None):
        """Whole tensor as float64, checking its shape when given.  Small tensors are cached;
        big ones are converted on each use, so memory stays near one layer's weights."""
        if name in self._cache:
            return self._cache[name]
        t = self.ref(name)
        if shape is not None and tuple(t.shape) != tuple(shape):
            raise ValueError("%s: tensor %s has shape %s, expected %s"
                             % (self.cfg["path"], t.name, list(t.shape), list(shape)))
        a = t.f64()
        if self.transform:
            a = self.transform(name, a)
        if a.size <= CACHE_MAX:
            self._cache[name] = a
        return a

    def experts(self, name, shape, used):
        """{e: float64 slice e} of a stacked expert tensor, converting only the experts in used."""
        t = self.ref(name)
        if tuple(t.shape) != tuple(shape):
            raise ValueError("%s: tensor %s has shape %s, expected %s"
                             % (self.cfg["path"], t.name, list(t.shape), list(shape)))
        out = {}
        for e in used:
            a = t.f64(e)
            out[e] = self.transform(name, a) if self.transform else a
        return out

    def rows(self, name, idx, shape):
        """Selected rows of a (vocab-sized) table as float64, without converting the table."""
        t = self.ref(name)
        if tuple(t.shape) != tuple(shape):
            raise ValueError("%s: tensor %s has shape %s, expected %s"
                             % (self.cfg["path"], t.name, list(t.shape), list(shape)))
        a = t.f64(np.asarray(idx))
        return self.transform(name, a) if self.transform else a


def load(d):
    """Open a checkpoint folder: config, per-layer plan and lazily-read tensors."""
    cfg = read_config(d)
    return Model(cfg, read_weights(d))


# ---------------------------------------------------------------------------------------
# building blocks


def rmsnorm(x, w=None, eps=1e-6):
    """RMSNorm over the last axis; weight used as-is (no 1+w); w=None is the unweighted form."""
    y = x * (np.mean(x * x, axis=-1, keepdims=True) + eps) ** -0.5
    return y * w if w is not None else y


def gelu_tanh(x):
    """tanh-approximated GELU."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def rope(x, pos, inv_freq):
    """NeoX rotate-half RoPE: x [..., T, D], pairs (i, i+D/2), angle pos*inv_freq[i]."""
    half = x.shape[-1] // 2
    ang = pos[:, None].astype(np.float64) * inv_freq[None, :]
    c, s = np.cos(ang), np.sin(ang)
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * c - b * s, b * c + a * s], axis=-1)


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def mlp(m, pre, width, x):
    """GeGLU MLP (gate, up, down) with tanh GELU."""
    H = m.cfg["hidden"]
    g = x @ m.w(pre + "gate_proj.weight", (width, H)).T
    u = x @ m.w(pre + "up_proj.weight", (width, H)).T
    return (gelu_tanh(g) * u) @ m.w(pre + "down_proj.weight", (H, width)).T


# ---------------------------------------------------------------------------------------
# forward


def _attention(m, l, a, pos):
    """Self-attention of layer l on normed input a [T,H]; fills m.kv[l] for non-shared layers."""
    cfg, p = m.cfg, m.cfg["plan"][l]
    H, Hq, hd, nkv, T = cfg["hidden"], cfg["heads"], p["hd"], p["nkv"], a.shape[0]
    pre = "layers.%d.self_attn." % l
    q = (a @ m.w(pre + "q_proj.weight", (Hq * hd, H)).T).reshape(T, Hq, hd).transpose(1, 0, 2)
    q = rope(rmsnorm(q, m.w(pre + "q_norm.weight", (hd,)), cfg["eps"]), pos, p["inv_freq"])
    if p["shared"]:
        if p["kv_src"] not in m.kv:
            raise RuntimeError("layer %d: KV source layer %d has no cache" % (l, p["kv_src"]))
        k, v = m.kv[p["kv_src"]]
    else:
        kraw = (a @ m.w(pre + "k_proj.weight", (nkv * hd, H)).T).reshape(T, nkv, hd).transpose(1, 0, 2)
        if p["has_v"]:
            vraw = (a @ m.w(pre + "v_proj.weight", (nkv * hd, H)).T).reshape(T, nkv, hd).transpose(1, 0, 2)
        else:
            vraw = kraw  # k_eq_v: V from the raw K projection, before k_norm and RoPE
        k = rope(rmsnorm(kraw, m.w(pre + "k_norm.weight", (hd,)), cfg["eps"]), pos, p["inv_freq"])
        v = rmsnorm(vraw, None, cfg["eps"])
        if m.kv_f16:
            k, v = k.astype(np.float16).astype(np.float64), v.astype(np.float16).astype(np.float64)
        m.kv[l] = (k, v)
    G = Hq // nkv
    kh, vh = np.repeat(k, G, axis=0), np.repeat(v, G, axis=0)  # query head h uses KV head h // G
    s = q @ kh.transpose(0, 2, 1)  # scale 1.0
    dist = pos[:, None] - pos[None, :]
    ok = dist >= 0
    if p["type"] == SLIDING:
        ok &= dist < cfg["window"]
    s = np.where(ok[None], s, -np.inf)
    o = softmax(s) @ vh  # [Hq, T, hd]
    o = o.transpose(1, 0, 2).reshape(T, Hq * hd)
    return o @ m.w(pre + "o_proj.weight", (H, Hq * hd)).T


def _moe(m, l, x1):
    """Routed experts of layer l on the residual x1 (router on raw residual; own norms)."""
    cfg = m.cfg
    H, E, K, I = cfg["hidden"], cfg["experts"], cfg["top_k"], cfg["moe_width"]
    pre = "layers.%d." % l
    r = rmsnorm(x1, None, cfg["eps"]) * m.w(pre + "router.scale", (H,)) * H ** -0.5
    prob = softmax(r @ m.w(pre + "router.proj.weight", (E, H)).T)
    pes = m.w(pre + "router.per_expert_scale", (E,))
    z = rmsnorm(x1, m.w(pre + "pre_feedforward_layernorm_2.weight", (H,)), cfg["eps"])
    picks = []
    for t in range(x1.shape[0]):
        top = np.argsort(-prob[t], kind="stable")[:K]  # softmax over all, top-k, renormalize, scale
        picks.append((top, prob[t, top] / np.sum(prob[t, top]) * pes[top]))
    used = sorted({int(e) for top, _ in picks for e in top})
    gu = m.experts(pre + "experts.gate_up_proj", (E, 2 * I, H), used)  # only experts some token picked
    dn = m.experts(pre + "experts.down_proj", (E, H, I), used)
    out = np.zeros_like(x1)
    for t, (top, wk) in enumerate(picks):
        for e, we in zip(top, wk):
            h = gu[int(e)] @ z[t]
            out[t] += we * (dn[int(e)] @ (gelu_tanh(h[:I]) * h[I:]))
    return rmsnorm(out, m.w(pre + "post_feedforward_layernorm_2.weight", (H,)), cfg["eps"])


def last_kv_layer(cfg, layer_type):
    """Index of the last non-KV-shared layer of a type (the cache a drafter reads)."""
    first = cfg["layers"] - cfg["num_kv_shared_layers"]
    cands = [i for i in range(first) if cfg["layer_types"][i] == layer_type]
    if not cands:
        raise ValueError("%s: no non-shared %s layer" % (cfg["path"], layer_type))
    return cands[-1]


def embed_scale(m):
    """The embedding multiplier: exact float64 sqrt(H) unless the model overrides it."""
    return math.sqrt(m.cfg["hidden"]) if m.embed_scale is None else float(m.embed_scale)


def bf16_value(x):
    """x rounded to the nearest bfloat16 (ties to even), as a Python float."""
    u = int(np.array([x], np.float32).view(np.uint32)[0])
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16 << 16
    return float(np.array([u], np.uint32).view(np.float32)[0])


def _ple_inputs(m, tokens, h0):
    """Per-layer inputs ple[T, L, P] from token ids and the scaled embedding h0."""
    cfg = m.cfg
    H, L, P = cfg["hidden"], cfg["layers"], cfg["ple"]
    tok = m.rows("embed_tokens_per_layer.weight", tokens, (cfg["ple_vocab"], L * P)) * math.sqrt(P)
    ctx = (h0 @ m.w("per_layer_model_projection.weight", (L * P, H)).T) * H ** -0.5
    ctx = rmsnorm(ctx.reshape(-1, L, P), m.w("per_layer_projection_norm.weight", (P,)), cfg["eps"])
    return (ctx + tok.reshape(-1, L, P)) * 2 ** -0.5


def _layer(m, l, x, pos, ple):
    """One decoder layer (sandwich norms, FFN or FFN+MoE, PLE, layer_scalar)."""
    cfg, p = m.cfg, m.cfg["plan"][l]
    H, eps, pre = cfg["hidden"], cfg["eps"], "layers.%d." % l
    a = rmsnorm(x, m.w(pre + "input_layernorm.weight", (H,)), eps)
    o = _attention(m, l, a, pos)
    x1 = x + rmsnorm(o, m.w(pre + "post_attention_layernorm.weight", (H,)), eps)
    d = mlp(m, pre + "mlp.", p["ffn"], rmsnorm(x1, m.w(pre + "pre_feedforward_layernorm.weight", (H,)), eps))
    if cfg["moe"]:
        d = rmsnorm(d, m.w(pre + "post_feedforward_layernorm_1.weight", (H,)), eps) + _moe(m, l, x1)
    x2 = x1 + rmsnorm(d, m.w(pre + "post_feedforward_layernorm.weight", (H,)), eps)
    if ple is not None:
        P = cfg["ple"]
        g = gelu_tanh(x2 @ m.w(pre + "per_layer_input_gate.weight", (P, H)).T) * ple[:, l, :]
        u = g @ m.w(pre + "per_layer_projection.weight", (H, P)).T
        x2 = x2 + rmsnorm(u, m.w(pre + "post_per_layer_input_norm.weight", (H,)), eps)
    return x2 * m.w(pre + "layer_scalar", (1,))[0]


def lm_head(m, y, block=16384):
    """Tied, unscaled embedding as output projection (row blocks), then the final softcap."""
    cfg = m.cfg
    V, H = cfg["vocab"], cfg["hidden"]
    name = "embed_tokens.weight" if cfg["tie"] or not m.has("lm_head.weight") else None
    if name is None:
        raise ValueError("%s: untied lm_head is not supported" % cfg["path"])
    t = m.ref(name)
    if tuple(t.shape) != (V, H):
        raise ValueError("%s: %s has shape %s, expected %s" % (cfg["path"], t.name, list(t.shape), [V, H]))
    out = np.empty((y.shape[0], V), np.float64)
    for s in range(0, V, block):
        out[:, s:s + block] = y @ m.rows(name, np.arange(s, min(V, s + block)), (V, H)).T
    cap = cfg["softcap"]
    if cap:
        out = cap * np.tanh(out / cap)
    return out


def forward(m, tokens):
    """Full-sequence forward at positions 0..T-1.

    Returns (logits [T,V] float64, hidden list of L+2 arrays [T,H]): entry 0 is the
    embedding times sqrt(H), entry i the output of layer i-1, the last the final-normed
    state.  Afterwards m.kv[l] = (K [nkv,T,hd] post-norm post-RoPE, V [nkv,T,hd] normed)
    for every non-shared layer l."""
    cfg = m.cfg
    tokens = np.asarray(tokens, dtype=np.int64)
    if tokens.ndim != 1 or tokens.size == 0:
        raise ValueError("forward: tokens must be a non-empty 1-D sequence")
    if tokens.min() < 0 or tokens.max() >= cfg["vocab"]:
        raise ValueError("forward: token ids must lie in [0, %d)" % cfg["vocab"])
    m.kv = {}
    pos = np.arange(tokens.size)
    x = m.rows("embed_tokens.weight", tokens, (cfg["vocab"], cfg["hidden"])) * embed_scale(m)
    hidden = [x]
    ple = _ple_inputs(m, tokens, x) if cfg["ple"] else None
    for l in range(cfg["layers"]):
        x = _layer(m, l, x, pos, ple)
        hidden.append(x)
    y = rmsnorm(x, m.w("norm.weight", (cfg["hidden"],)), cfg["eps"])
    hidden.append(y)
    return lm_head(m, y), hidden


def main(argv=None):
    """CLI: write float32 little-endian logits [T x V] for a token list."""
    ap = argparse.ArgumentParser(description="float64 Gemma 4 reference forward")
    ap.add_argument("--model", required=True, help="checkpoint folder")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids, or @FILE")
    ap.add_argument("--out", required=True, help="output file: float32 LE logits [T x V]")
    ap.add_argument("--embed-scale", choices=["exact", "bf16"], default="exact",
                    help="embedding multiplier: exact sqrt(H) (default) or bf16(sqrt(H)) as HF bf16 runs use")
    ap.add_argument("--hidden-out", help="optional .npy file for hidden states [L+2, T, H] float32")
    a = ap.parse_args(argv)
    spec = a.tokens
    if spec.startswith("@"):
        with open(spec[1:]) as f:
            spec = f.read()
    try:
        toks = [int(s) for s in spec.replace("\n", ",").split(",") if s.strip()]
    except ValueError:
        sys.exit("g4ref: --tokens %r is not a comma-separated list of integers" % a.tokens)
    m = load(a.model)
    if a.embed_scale == "bf16":
        m.embed_scale = bf16_value(math.sqrt(m.cfg["hidden"]))
    logits, hidden = forward(m, toks)
    logits.astype("<f4").tofile(a.out)
    if a.hidden_out:
        np.save(a.hidden_out, np.stack(hidden).astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main())
