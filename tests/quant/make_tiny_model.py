"""Write a tiny random Gemma 4 checkpoint whose matrices are 256 wide, so every
weight type (Q8_0, Q4_0, Q4_K, Q6_K) can actually quantize them (the reference
fixtures are 48 wide and would fall back to float).

    python3 make_tiny_model.py OUT_DIR dense|moe [seed]

The layout is the text-only Hugging Face one (names "model.*", F32, one
safetensors file), with the tokenizer files of the e2b_like fixture.  Weight
statistics follow the fixtures: matrices N(0, 1/fan_in), embedding tables
N(0, 1/row width), norms and scalars U[0.5, 1.5], except the q/k norms (see
soft() below)."""
import json
import os
import shutil
import struct
import sys

import numpy as np


def config(kind):
    c = {
        "architectures": ["Gemma4ForCausalLM"], "model_type": "gemma4_text", "attention_bias": False,
        "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0, "final_logit_softcapping": 30.0,
        "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 256, "head_dim": 64, "global_head_dim": 128,
        "num_attention_heads": 4, "max_position_embeddings": 1024, "rms_norm_eps": 1e-6, "sliding_window": 8,
        "tie_word_embeddings": True, "vocab_size": 512,
        "rope_parameters": {
            "full_attention": {"partial_rotary_factor": 0.25, "rope_theta": 1000000.0, "rope_type": "proportional"},
            "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}},
    }
    if kind == "dense":
        c.update({"num_hidden_layers": 6, "layer_types": ["sliding_attention", "sliding_attention", "full_attention",
                                                          "sliding_attention", "sliding_attention", "full_attention"],
                  "num_key_value_heads": 1, "num_global_key_value_heads": None, "attention_k_eq_v": False,
                  "intermediate_size": 256, "use_double_wide_mlp": True, "num_kv_shared_layers": 2,
                  "hidden_size_per_layer_input": 16, "vocab_size_per_layer_input": 512,
                  "enable_moe_block": False, "num_experts": None, "top_k_experts": None, "moe_intermediate_size": None})
    else:
        c.update({"num_hidden_layers": 2, "layer_types": ["sliding_attention", "full_attention"],
                  "num_key_value_heads": 2, "num_global_key_value_heads": 1, "attention_k_eq_v": True,
                  "intermediate_size": 288, "use_double_wide_mlp": False, "num_kv_shared_layers": 0,
                  "hidden_size_per_layer_input": 0, "vocab_size_per_layer_input": 0,
                  "enable_moe_block": True, "num_experts": 4, "top_k_experts": 2, "moe_intermediate_size": 160})
    return c


def tensors(c, rng):
    H, L, V = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    P = c["hidden_size_per_layer_input"]
    t = {}

    def mat(name, rows, cols):
        t[name] = rng.normal(0, 1 / np.sqrt(cols), (rows, cols)).astype(np.float32)

    def vec(name, n):
        t[name] = rng.uniform(0.5, 1.5, (n,)).astype(np.float32)

    def soft(name, n):
        # q/k norm weights ~ U[0.25, 0.45]: Gemma 4 scores are q.k with scale 1, so
        # unit weights give score spreads of ~sqrt(head_dim) and one-hot attention,
        # where any rounding flips the picked key; these keep attention soft, so the
        # model responds smoothly to weight rounding (what the quantization tests measure)
        t[name] = rng.uniform(0.25, 0.45, (n,)).astype(np.float32)

    t["model.embed_tokens.weight"] = rng.normal(0, 1 / np.sqrt(H), (V, H)).astype(np.float32)
    vec("model.norm.weight", H)
    if P:
        t["model.embed_tokens_per_layer.weight"] = rng.normal(0, 1 / np.sqrt(L * P), (V, L * P)).astype(np.float32)
        mat("model.per_layer_model_projection.weight", L * P, H)
        vec("model.per_layer_projection_norm.weight", P)
    first_shared = L - c["num_kv_shared_layers"]
    for l in range(L):
        p = "model.layers.%d." % l
        full = c["layer_types"][l] == "full_attention"
        hd = c["global_head_dim"] if full else c["head_dim"]
        nkv = c["num_global_key_value_heads"] if full and c["attention_k_eq_v"] else c["num_key_value_heads"]
        Hq = c["num_attention_heads"]
        vec(p + "input_layernorm.weight", H)
        mat(p + "self_attn.q_proj.weight", Hq * hd, H)
        soft(p + "self_attn.q_norm.weight", hd)
        if l < first_shared:
            mat(p + "self_attn.k_proj.weight", nkv * hd, H)
            soft(p + "self_attn.k_norm.weight", hd)
            if not (full and c["attention_k_eq_v"]):
                mat(p + "self_attn.v_proj.weight", nkv * hd, H)
        mat(p + "self_attn.o_proj.weight", H, Hq * hd)
        vec(p + "post_attention_layernorm.weight", H)
        vec(p + "pre_feedforward_layernorm.weight", H)
        I = c["intermediate_size"] * (2 if c["use_double_wide_mlp"] and l >= first_shared else 1)
        mat(p + "mlp.gate_proj.weight", I, H)
        mat(p + "mlp.up_proj.weight", I, H)
        mat(p + "mlp.down_proj.weight", H, I)
        vec(p + "post_feedforward_layernorm.weight", H)
        vec(p + "layer_scalar", 1)
        if P:
            mat(p + "per_layer_input_gate.weight", P, H)
            mat(p + "per_layer_projection.weight", H, P)
            vec(p + "post_per_layer_input_norm.weight", H)
        if c["enable_moe_block"]:
            E, M = c["num_experts"], c["moe_intermediate_size"]
            mat(p + "router.proj.weight", E, H)
            vec(p + "router.scale", H)
            vec(p + "router.per_expert_scale", E)
            t[p + "experts.gate_up_proj"] = rng.normal(0, 1 / np.sqrt(H), (E, 2 * M, H)).astype(np.float32)
            t[p + "experts.down_proj"] = rng.normal(0, 1 / np.sqrt(M), (E, H, M)).astype(np.float32)
            for n in ("pre_feedforward_layernorm_2", "post_feedforward_layernorm_1", "post_feedforward_layernorm_2"):
                vec(p + n + ".weight", H)
    return t


def write_safetensors(path, t):
    header, off, blobs = {}, 0, []
    for name in sorted(t):
        a = np.ascontiguousarray(t[name])
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
        blobs.append(a.tobytes())
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    out, kind = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.makedirs(out, exist_ok=True)
    c = config(kind)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(c, f, indent=1)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors(c, np.random.default_rng(seed)))
    src = os.path.join(os.environ.get("FIXTURES", os.path.join(os.path.dirname(__file__), "..", "fixtures")),
                       "gemma4-ref", "e2b_like")
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        shutil.copy(os.path.join(src, name), os.path.join(out, name))


if __name__ == "__main__":
    main()
