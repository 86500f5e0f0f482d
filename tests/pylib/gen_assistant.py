#!/usr/bin/python3
"""Generator of random Gemma 4 "assistant" (MTP drafter) checkpoints for a target (test infrastructure).

Writes config.json (model_type gemma4_assistant, the decoder under text_config) and one
model.safetensors with the drafter's tensors (gemma4-mtp.md §2): no tokenizer, as the
released drafter folders may ship without one.  The drafter mirrors the target's head
geometry (head dims, KV heads of the last sliding and full layers); its own width,
MLP width and head count are chosen here.  Weights are drawn like gen_ckpt.py's
(norms U[0.5, 1.5], matrices N(0, 1/fan_in), embeddings N(0, 1/width)); the clustered
head's token_ordering is a random permutation.

CLI:  gen_assistant.py --target DIR --out DIR [--hidden D] [--mlp F] [--heads N]
                       [--centroids C] [--top-k K] [--dtype bf16|f32] [--seed N]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_ckpt  # noqa: E402

SLIDING, FULL = "sliding_attention", "full_attention"


def text_config(geo, d, mlp, heads):
    """The drafter's gemma4_text config: 3 sliding layers and 1 full, mirroring the target's heads."""
    full_kv = geo["global_kv_heads"] if geo["k_eq_v"] and geo["global_kv_heads"] else geo["kv_heads"]
    return {
        "model_type": "gemma4_text", "hidden_size": d, "intermediate_size": mlp, "num_hidden_layers": 4,
        "num_attention_heads": heads, "num_key_value_heads": geo["kv_heads"],
        "num_global_key_value_heads": geo["global_kv_heads"], "attention_k_eq_v": geo["k_eq_v"],
        "head_dim": geo["head_dim"], "global_head_dim": geo["global_head_dim"],
        "layer_types": [SLIDING, SLIDING, SLIDING, FULL], "num_kv_shared_layers": 4,
        "sliding_window": geo["window"], "vocab_size": geo["vocab"], "rms_norm_eps": 1e-6,
        "hidden_activation": "gelu_pytorch_tanh", "final_logit_softcapping": None,
        "max_position_embeddings": geo["max_pos"], "tie_word_embeddings": True,
        "hidden_size_per_layer_input": 0, "enable_moe_block": False, "use_double_wide_mlp": False,
        "per_layer_config": {"3": {"head_dim": geo["global_head_dim"], "num_key_value_heads": full_kv}},
        "rope_parameters": {
            FULL: {"partial_rotary_factor": geo["partial_rotary_factor"], "rope_theta": geo["rope_theta_full"],
                   "rope_type": "proportional"},
            SLIDING: {"rope_theta": geo["rope_theta_sliding"], "rope_type": "default"}},
    }


def tensor_specs(geo, d, mlp, heads, centroids):
    """[(name, shape, std or None for U[0.5, 1.5])] of the drafter."""
    hb, v = geo["hidden"], geo["vocab"]
    s = [("model.embed_tokens.weight", [v, d], d ** -0.5), ("model.norm.weight", [d], None),
         ("pre_projection.weight", [d, 2 * hb], (2 * hb) ** -0.5), ("post_projection.weight", [hb, d], d ** -0.5)]
    for i in range(4):
        hd = geo["global_head_dim"] if i == 3 else geo["head_dim"]
        p = "model.layers.%d." % i
        s += [(p + n, [d], None) for n in ("input_layernorm.weight", "post_attention_layernorm.weight",
                                           "pre_feedforward_layernorm.weight", "post_feedforward_layernorm.weight")]
        s += [(p + "layer_scalar", [1], None), (p + "self_attn.q_norm.weight", [hd], None),
              (p + "self_attn.q_proj.weight", [heads * hd, d], d ** -0.5),
              (p + "self_attn.o_proj.weight", [d, heads * hd], (heads * hd) ** -0.5),
              (p + "mlp.gate_proj.weight", [mlp, d], d ** -0.5), (p + "mlp.up_proj.weight", [mlp, d], d ** -0.5),
              (p + "mlp.down_proj.weight", [d, mlp], mlp ** -0.5)]
    if centroids:
        s.append(("masked_embedding.centroids.weight", [centroids, d], d ** -0.5))
    return s


def generate(out, target_dir, d=64, mlp=128, heads=4, centroids=0, top_k=4, dtype="bf16", seed=0):
    """Write the drafter folder for the target checkpoint in target_dir; returns its byte count."""
    geo = gen_ckpt.geometry_from_config(os.path.join(target_dir, "config.json"))
    if centroids and geo["vocab"] % centroids:
        raise ValueError("vocab %d is not a multiple of %d centroids" % (geo["vocab"], centroids))
    os.makedirs(out, exist_ok=True)
    specs = tensor_specs(geo, d, mlp, heads, centroids)
    st, size = {"bf16": ("BF16", 2), "f32": ("F32", 4)}[dtype]
    h, off = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, _ in specs:
        nb = int(np.prod(shape)) * size
        h[name] = {"dtype": st, "shape": shape, "data_offsets": [off, off + nb]}
        off += nb
    order = np.random.default_rng([seed, 99]).permutation(geo["vocab"]).astype("<i8")
    if centroids:
        h["masked_embedding.token_ordering"] = {"dtype": "I64", "shape": [geo["vocab"]],
                                                "data_offsets": [off, off + order.nbytes]}
    b = json.dumps(h, separators=(",", ":")).encode()
    b += b" " * (-len(b) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(len(b).to_bytes(8, "little") + b)
        for name, shape, std in specs:
            for chunk in gen_ckpt.stream_tensor(name, shape, std, seed, dtype):
                f.write(memoryview(chunk))
        if centroids:
            f.write(order.tobytes())
    cfg = {"model_type": "gemma4_assistant", "architectures": ["Gemma4AssistantForCausalLM"],
           "backbone_hidden_size": geo["hidden"], "use_ordered_embeddings": bool(centroids),
           "num_centroids": centroids or 2048, "centroid_intermediate_top_k": top_k, "tie_word_embeddings": True,
           "text_config": text_config(geo, d, mlp, heads)}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    return off


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--mlp", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--centroids", type=int, default=0)
    ap.add_argument("--top-k", type=int, default=4)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "f32"])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    n = generate(a.out, a.target, a.hidden, a.mlp, a.heads, a.centroids, a.top_k, a.dtype, a.seed)
    print("gen_assistant: wrote %s (%d bytes of weights)" % (a.out, n))


if __name__ == "__main__":
    main()
