/* gguf_model.c: what llama.cpp's "gemma4" architecture means in GGUF terms.
 *
 * One table maps Hugging Face tensor names (without prefix) to GGUF names;
 * two functions translate the decoder settings: GGUF metadata to the flat
 * HF text config the loader reads, and an HF text config to the metadata
 * llama.cpp's converter writes (same keys, types and per-layer arrays). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gguf.h"

/* The one name table.  Per-layer entries apply to "layers.N.<hf>" <->
 * "blk.N.<gguf>". */
static const struct { bool layer; const char *hf, *gguf; } NAMES[] = {
    {false, "embed_tokens.weight",                 "token_embd.weight"},
    {false, "lm_head.weight",                      "output.weight"},
    {false, "norm.weight",                         "output_norm.weight"},
    {false, "embed_tokens_per_layer.weight",       "per_layer_token_embd.weight"},
    {false, "per_layer_model_projection.weight",   "per_layer_model_proj.weight"},
    {false, "per_layer_projection_norm.weight",    "per_layer_proj_norm.weight"},
    {true,  "input_layernorm.weight",              "attn_norm.weight"},
    {true,  "self_attn.q_proj.weight",             "attn_q.weight"},
    {true,  "self_attn.k_proj.weight",             "attn_k.weight"},
    {true,  "self_attn.v_proj.weight",             "attn_v.weight"},
    {true,  "self_attn.o_proj.weight",             "attn_output.weight"},
    {true,  "self_attn.q_norm.weight",             "attn_q_norm.weight"},
    {true,  "self_attn.k_norm.weight",             "attn_k_norm.weight"},
    {true,  "post_attention_layernorm.weight",     "post_attention_norm.weight"},
    {true,  "pre_feedforward_layernorm.weight",    "ffn_norm.weight"},
    {true,  "mlp.gate_proj.weight",                "ffn_gate.weight"},
    {true,  "mlp.up_proj.weight",                  "ffn_up.weight"},
    {true,  "mlp.down_proj.weight",                "ffn_down.weight"},
    {true,  "post_feedforward_layernorm.weight",   "post_ffw_norm.weight"},
    {true,  "pre_feedforward_layernorm_2.weight",  "pre_ffw_norm_2.weight"},
    {true,  "post_feedforward_layernorm_1.weight", "post_ffw_norm_1.weight"},
    {true,  "post_feedforward_layernorm_2.weight", "post_ffw_norm_2.weight"},
    {true,  "router.proj.weight",                  "ffn_gate_inp.weight"},
    {true,  "router.scale",                        "ffn_gate_inp.scale"},
    {true,  "router.per_expert_scale",             "ffn_down_exps.scale"},
    {true,  "experts.gate_up_proj",                "ffn_gate_up_exps.weight"},
    {true,  "experts.down_proj",                   "ffn_down_exps.weight"},
    {true,  "per_layer_input_gate.weight",         "inp_gate.weight"},
    {true,  "per_layer_projection.weight",         "proj.weight"},
    {true,  "post_per_layer_input_norm.weight",    "post_norm.weight"},
    {true,  "layer_scalar",                        "layer_output_scale.weight"},
};
#define N_NAMES (sizeof NAMES / sizeof NAMES[0])

int gm_gguf_name_from_hf(const char *hf, char *out, size_t cap)
{
    int layer = -1, used = 0;
    if (sscanf(hf, "layers.%d.%n", &layer, &used) == 1 && used > 0 && layer >= 0) hf += used;
    else layer = -1;
    for (size_t i = 0; i < N_NAMES; i++) {
        if (NAMES[i].layer != (layer >= 0) || strcmp(NAMES[i].hf, hf) != 0) continue;
        int n = layer >= 0 ? snprintf(out, cap, "blk.%d.%s", layer, NAMES[i].gguf)
                           : snprintf(out, cap, "%s", NAMES[i].gguf);
        return n > 0 && (size_t)n < cap ? 0 : -1;
    }
    return -1;
}

int gm_gguf_hf_name_count(void) { return (int)N_NAMES; }

int gm_gguf_hf_name_at(int i, int layer, char *out, size_t cap)
{
    if (i < 0 || (size_t)i >= N_NAMES || NAMES[i].layer != (layer >= 0)) return -1;
    int n = layer >= 0 ? snprintf(out, cap, "layers.%d.%s", layer, NAMES[i].hf) : snprintf(out, cap, "%s", NAMES[i].hf);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* ---- GGUF metadata -> HF text config --------------------------------------------- */

static const gm_gguf_kv *akv(const gm_gguf *g, const char *suffix)
{
    char key[128];
    snprintf(key, sizeof key, "gemma4.%s", suffix);
    return gm_gguf_find_kv(g, key);
}

/* Required integer "gemma4.<suffix>" (scalar; an array gives element 0). */
static int need_int(const gm_gguf *g, const char *suffix, int64_t lo, int64_t hi, int64_t *out, gm_err *err)
{
    const gm_gguf_kv *kv = akv(g, suffix);
    if (!kv) return gm_err_set(err, GM_E_FORMAT, "%s: metadata gemma4.%s is missing; the file was not written "
                               "for llama.cpp's gemma4 architecture", g->path, suffix);
    if (!gm_gguf_int(kv, 0, out) || *out < lo || *out > hi)
        return gm_err_set(err, GM_E_FORMAT, "%s: metadata gemma4.%s must be an integer in %lld..%lld",
                          g->path, suffix, (long long)lo, (long long)hi);
    return 0;
}

/* Optional "gemma4.<suffix>" values with a default. */
static int64_t opt_int(const gm_gguf *g, const char *suffix, int64_t def)
{
    int64_t v;
    return gm_gguf_int(akv(g, suffix), 0, &v) ? v : def;
}

static double opt_num(const gm_gguf *g, const char *suffix, double def)
{
    double v;
    return gm_gguf_num(akv(g, suffix), 0, &v) ? v : def;
}

/* A per-layer value: element l of an array, or the scalar. */
static bool layer_int(const gm_gguf_kv *kv, int l, int64_t *out)
{
    if (kv && kv->type == GM_GGUF_ARR) return gm_gguf_int(kv, (uint64_t)l, out);
    return gm_gguf_int(kv, 0, out);
}

/* A per-layer array must have one entry per layer. */
static int check_layer_array(const gm_gguf *g, const gm_gguf_kv *kv, int64_t L, gm_err *err)
{
    if (kv && kv->type == GM_GGUF_ARR && (int64_t)kv->n != L)
        return gm_err_set(err, GM_E_FORMAT, "%s: %s has %llu entries but the model has %lld layers",
                          g->path, kv->key, (unsigned long long)kv->n, (long long)L);
    return 0;
}

/* Does layer l have tensor blk.l.<what>? (K=V is deduced from attn_v being absent.) */
static bool has_tensor(const gm_gguf *g, int layer, const char *what)
{
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s", layer, what);
    return gm_gguf_find_tensor(g, name) != NULL;
}

cJSON *gm_gguf_config_json(const gm_gguf *g, gm_err *err)
{
    const gm_gguf_kv *arch = gm_gguf_find_kv(g, "general.architecture");
    if (!arch || arch->type != GM_GGUF_STR || strcmp(arch->str, "gemma4") != 0) {
        gm_err_set(err, GM_E_UNSUPPORTED, "%s: general.architecture is '%s', expected 'gemma4' (a Gemma 4 model "
                   "converted for llama.cpp)", g->path, arch && arch->str ? arch->str : "(missing)");
        return NULL;
    }
    int64_t H, L, Hq, hd_full, hd_swa, W, ctx;
    if (need_int(g, "embedding_length", 1, 1 << 20, &H, err) || need_int(g, "block_count", 1, GM_MAX_LAYERS, &L, err) ||
        need_int(g, "attention.head_count", 1, 4096, &Hq, err) ||
        need_int(g, "attention.key_length", 1, 1 << 16, &hd_full, err) ||
        need_int(g, "context_length", 1, (int64_t)1 << 40, &ctx, err))
        return NULL;
    hd_swa = opt_int(g, "attention.key_length_swa", hd_full);
    W = opt_int(g, "attention.sliding_window", 0);
    const gm_gguf_kv *pat = akv(g, "attention.sliding_window_pattern"), *kvh = akv(g, "attention.head_count_kv"),
                     *ffn = akv(g, "feed_forward_length");
    if (!kvh || !ffn) {
        gm_err_set(err, GM_E_FORMAT, "%s: metadata gemma4.%s is missing", g->path,
                   !kvh ? "attention.head_count_kv" : "feed_forward_length");
        return NULL;
    }
    if (check_layer_array(g, pat, L, err) || check_layer_array(g, kvh, L, err) || check_layer_array(g, ffn, L, err))
        return NULL;
    int64_t shared = opt_int(g, "attention.shared_kv_layers", 0);
    if (shared < 0 || shared >= L) {
        gm_err_set(err, GM_E_FORMAT, "%s: gemma4.attention.shared_kv_layers = %lld for %lld layers", g->path,
                   (long long)shared, (long long)L);
        return NULL;
    }
    bool sliding[GM_MAX_LAYERS];
    for (int l = 0; l < L; l++) {
        int64_t v;
        sliding[l] = pat ? (gm_gguf_int(pat, (uint64_t)l, &v) && v != 0) : ((l + 1) % 6 != 0 && l != L - 1);
    }
    /* KV heads per type; K=V when a full layer that owns its cache has no attn_v */
    int64_t kv_swa = -1, kv_full = -1, ff0 = 0, v;
    bool k_eq_v = false, double_wide = false;
    for (int l = 0; l < L; l++) {
        if (!layer_int(kvh, l, &v) || v < 1 || v > Hq) {
            gm_err_set(err, GM_E_FORMAT, "%s: gemma4.attention.head_count_kv[%d] is not in 1..%lld", g->path, l, (long long)Hq);
            return NULL;
        }
        if (sliding[l] && kv_swa < 0) kv_swa = v;
        if (!sliding[l] && kv_full < 0) kv_full = v;
        if (!sliding[l] && l < L - shared && has_tensor(g, l, "attn_k.weight") && !has_tensor(g, l, "attn_v.weight"))
            k_eq_v = true;
        if (!layer_int(ffn, l, &v) || v < 1) {
            gm_err_set(err, GM_E_FORMAT, "%s: gemma4.feed_forward_length[%d] is not a positive integer", g->path, l);
            return NULL;
        }
        if (l == 0) ff0 = v;
        else if (v == 2 * ff0 && l >= L - shared) double_wide = true;
    }
    if (kv_swa < 0) kv_swa = kv_full;
    const gm_gguf_tensor *emb = gm_gguf_find_tensor(g, "token_embd.weight");
    if (!emb) {
        gm_err_set(err, GM_E_FORMAT, "%s: tensor token_embd.weight is missing", g->path);
        return NULL;
    }
    const gm_gguf_tensor *ple = gm_gguf_find_tensor(g, "per_layer_token_embd.weight");
    /* proportional RoPE: the count of 1.0 factors is the rotated half-width */
    double partial = 1.0;
    const gm_gguf_tensor *rf = gm_gguf_find_tensor(g, "rope_freqs.weight");
    if (rf && rf->t.type == GM_TYPE_F32) {
        int ones = 0;
        for (int64_t i = 0; i < rf->t.ne[0]; i++) {
            float f;
            memcpy(&f, (const char *)rf->t.data + 4 * i, 4);
            ones += f == 1.0f;
        }
        partial = (double)ones * 2.0 / (double)hd_full;
    }
    int64_t n_exp = opt_int(g, "expert_count", 0);

    cJSON *c = cJSON_CreateObject();
    if (!c) { gm_err_set(err, GM_E_NOMEM, "%s: out of memory", g->path); return NULL; }
    cJSON *archs = cJSON_AddArrayToObject(c, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString("Gemma4ForCausalLM"));
    cJSON_AddStringToObject(c, "model_type", "gemma4_text");
    cJSON_AddNumberToObject(c, "vocab_size", (double)emb->t.ne[1]);
    cJSON_AddNumberToObject(c, "hidden_size", (double)H);
    cJSON_AddNumberToObject(c, "num_hidden_layers", (double)L);
    cJSON_AddNumberToObject(c, "num_attention_heads", (double)Hq);
    cJSON_AddNumberToObject(c, "num_key_value_heads", (double)kv_swa);
    if (k_eq_v && kv_full > 0) cJSON_AddNumberToObject(c, "num_global_key_value_heads", (double)kv_full);
    else cJSON_AddNullToObject(c, "num_global_key_value_heads");
    cJSON_AddBoolToObject(c, "attention_k_eq_v", k_eq_v);
    cJSON_AddNumberToObject(c, "head_dim", (double)hd_swa);
    cJSON_AddNumberToObject(c, "global_head_dim", (double)hd_full);
    cJSON_AddNumberToObject(c, "intermediate_size", (double)ff0);
    cJSON_AddBoolToObject(c, "use_double_wide_mlp", double_wide);
    cJSON_AddNumberToObject(c, "num_kv_shared_layers", (double)shared);
    cJSON_AddNumberToObject(c, "hidden_size_per_layer_input", (double)opt_int(g, "embedding_length_per_layer_input", 0));
    cJSON_AddNumberToObject(c, "vocab_size_per_layer_input", ple ? (double)ple->t.ne[1] : 0.0);
    cJSON_AddNumberToObject(c, "sliding_window", (double)W);
    cJSON_AddNumberToObject(c, "max_position_embeddings", (double)ctx);
    cJSON_AddNumberToObject(c, "rms_norm_eps", opt_num(g, "attention.layer_norm_rms_epsilon", 1e-6));
    double cap = opt_num(g, "final_logit_softcapping", 0.0);
    if (cap > 0) cJSON_AddNumberToObject(c, "final_logit_softcapping", cap);
    else cJSON_AddNullToObject(c, "final_logit_softcapping");
    cJSON_AddBoolToObject(c, "tie_word_embeddings", gm_gguf_find_tensor(g, "output.weight") == NULL);
    cJSON_AddStringToObject(c, "hidden_activation", "gelu_pytorch_tanh");
    cJSON_AddBoolToObject(c, "enable_moe_block", n_exp > 0);
    if (n_exp > 0) {
        cJSON_AddNumberToObject(c, "num_experts", (double)n_exp);
        cJSON_AddNumberToObject(c, "top_k_experts", (double)opt_int(g, "expert_used_count", 0));
        cJSON_AddNumberToObject(c, "moe_intermediate_size", (double)opt_int(g, "expert_feed_forward_length", 0));
    }
    cJSON *types = cJSON_AddArrayToObject(c, "layer_types");
    for (int l = 0; l < L; l++)
        cJSON_AddItemToArray(types, cJSON_CreateString(sliding[l] ? "sliding_attention" : "full_attention"));
    cJSON *rope = cJSON_AddObjectToObject(c, "rope_parameters");
    cJSON *rs = cJSON_AddObjectToObject(rope, "sliding_attention");
    cJSON_AddStringToObject(rs, "rope_type", "default");
    cJSON_AddNumberToObject(rs, "rope_theta", opt_num(g, "rope.freq_base_swa", 10000.0));
    cJSON *rfull = cJSON_AddObjectToObject(rope, "full_attention");
    cJSON_AddStringToObject(rfull, "rope_type", "proportional");
    cJSON_AddNumberToObject(rfull, "partial_rotary_factor", partial);
    cJSON_AddNumberToObject(rfull, "rope_theta", opt_num(g, "rope.freq_base", 1000000.0));
    int64_t id;
    const struct { const char *key, *json; } ids[] = {
        {"tokenizer.ggml.bos_token_id", "bos_token_id"}, {"tokenizer.ggml.eos_token_id", "eos_token_id"},
        {"tokenizer.ggml.padding_token_id", "pad_token_id"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (gm_gguf_int(gm_gguf_find_kv(g, ids[i].key), 0, &id)) cJSON_AddNumberToObject(c, ids[i].json, (double)id);
    return c;
}

/* ---- HF text config -> GGUF metadata ------------------------------------------------- */

/* Integer field of the config, or def when absent/null. */
static int64_t cfg_int(const cJSON *c, const char *key, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

/* Number field of the config, or def. */
static double cfg_num(const cJSON *c, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int gm_gguf_meta_from_config(gm_gguf_writer *w, const cJSON *c, const char *what, gm_err *err)
{
    int64_t L = cfg_int(c, "num_hidden_layers", 0), H = cfg_int(c, "hidden_size", 0);
    int64_t hd = cfg_int(c, "head_dim", 0), ghd = cfg_int(c, "global_head_dim", hd);
    int64_t kvh = cfg_int(c, "num_key_value_heads", 0), gkvh = cfg_int(c, "num_global_key_value_heads", -1);
    int64_t ff = cfg_int(c, "intermediate_size", 0), shared = cfg_int(c, "num_kv_shared_layers", 0);
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    if (L < 1 || L > GM_MAX_LAYERS || H < 1 || hd < 1 || kvh < 1 || ff < 1 || !cJSON_IsArray(types) ||
        cJSON_GetArraySize(types) != L || shared < 0 || shared >= L)
        return gm_err_set(err, GM_E_FORMAT, "%s: the text config lacks a consistent num_hidden_layers, hidden_size, "
                          "head_dim, num_key_value_heads, intermediate_size or layer_types", what);
    uint8_t swa[GM_MAX_LAYERS];
    int32_t kv_arr[GM_MAX_LAYERS], ff_arr[GM_MAX_LAYERS];
    bool dw = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "use_double_wide_mlp"));
    for (int l = 0; l < L; l++) {
        const cJSON *t = cJSON_GetArrayItem(types, l);
        swa[l] = cJSON_IsString(t) && strcmp(t->valuestring, "sliding_attention") == 0;
        kv_arr[l] = (int32_t)(swa[l] || gkvh < 1 ? kvh : gkvh);
        ff_arr[l] = (int32_t)(dw && l >= L - shared ? 2 * ff : ff);
    }
    const cJSON *rope = cJSON_GetObjectItemCaseSensitive(c, "rope_parameters");
    const cJSON *rfull = cJSON_GetObjectItemCaseSensitive(rope, "full_attention");
    const cJSON *rswa = cJSON_GetObjectItemCaseSensitive(rope, "sliding_attention");
    int rc = 0;
    rc |= gm_gguf_set_str(w, "general.architecture", "gemma4");
    rc |= gm_gguf_set_u32(w, "gemma4.context_length", (uint32_t)cfg_int(c, "max_position_embeddings", 131072));
    rc |= gm_gguf_set_u32(w, "gemma4.embedding_length", (uint32_t)H);
    rc |= gm_gguf_set_u32(w, "gemma4.block_count", (uint32_t)L);
    if (dw && shared > 0) rc |= gm_gguf_set_arr(w, "gemma4.feed_forward_length", GM_GGUF_I32, ff_arr, (uint64_t)L);
    else rc |= gm_gguf_set_u32(w, "gemma4.feed_forward_length", (uint32_t)ff);
    rc |= gm_gguf_set_u32(w, "gemma4.attention.head_count", (uint32_t)cfg_int(c, "num_attention_heads", 1));
    if (gkvh >= 1) rc |= gm_gguf_set_arr(w, "gemma4.attention.head_count_kv", GM_GGUF_I32, kv_arr, (uint64_t)L);
    else rc |= gm_gguf_set_u32(w, "gemma4.attention.head_count_kv", (uint32_t)kvh);
    rc |= gm_gguf_set_f32(w, "gemma4.attention.layer_norm_rms_epsilon", (float)cfg_num(c, "rms_norm_eps", 1e-6));
    rc |= gm_gguf_set_u32(w, "gemma4.attention.key_length", (uint32_t)ghd);
    rc |= gm_gguf_set_u32(w, "gemma4.attention.value_length", (uint32_t)ghd);
    rc |= gm_gguf_set_u32(w, "gemma4.attention.key_length_swa", (uint32_t)hd);
    rc |= gm_gguf_set_u32(w, "gemma4.attention.value_length_swa", (uint32_t)hd);
    rc |= gm_gguf_set_f32(w, "gemma4.rope.freq_base", (float)cfg_num(rfull, "rope_theta", 1000000.0));
    rc |= gm_gguf_set_f32(w, "gemma4.rope.freq_base_swa", (float)cfg_num(rswa, "rope_theta", 10000.0));
    rc |= gm_gguf_set_u32(w, "gemma4.rope.dimension_count", (uint32_t)ghd);
    rc |= gm_gguf_set_u32(w, "gemma4.rope.dimension_count_swa", (uint32_t)hd);
    double cap = cfg_num(c, "final_logit_softcapping", 0.0);
    if (cap > 0) rc |= gm_gguf_set_f32(w, "gemma4.final_logit_softcapping", (float)cap);
    rc |= gm_gguf_set_u32(w, "gemma4.attention.sliding_window", (uint32_t)cfg_int(c, "sliding_window", 0));
    rc |= gm_gguf_set_u32(w, "gemma4.attention.shared_kv_layers", (uint32_t)shared);
    rc |= gm_gguf_set_u32(w, "gemma4.embedding_length_per_layer_input", (uint32_t)cfg_int(c, "hidden_size_per_layer_input", 0));
    rc |= gm_gguf_set_arr(w, "gemma4.attention.sliding_window_pattern", GM_GGUF_BOOL, swa, (uint64_t)L);
    int64_t ne = cfg_int(c, "num_experts", 0);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "enable_moe_block")) && ne > 0) {
        rc |= gm_gguf_set_u32(w, "gemma4.expert_count", (uint32_t)ne);
        rc |= gm_gguf_set_u32(w, "gemma4.expert_used_count", (uint32_t)cfg_int(c, "top_k_experts", 0));
        rc |= gm_gguf_set_u32(w, "gemma4.expert_feed_forward_length", (uint32_t)cfg_int(c, "moe_intermediate_size", 0));
    }
    return rc ? gm_err_set(err, GM_E_NOMEM, "%s: out of memory writing GGUF metadata", what) : 0;
}

/* The rope_freqs tensor llama.cpp uses for proportional RoPE on full layers:
 * n_rot = global_head_dim*factor/2 ones, then 1e30 (no rotation) up to
 * global_head_dim/2 entries.  Returns the entry count (0 = none needed). */
int gm_gguf_rope_freqs(const cJSON *c, float *out, int cap)
{
    int64_t ghd = cfg_int(c, "global_head_dim", cfg_int(c, "head_dim", 0));
    const cJSON *rfull = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "rope_parameters"),
                                                          "full_attention");
    double f = cfg_num(rfull, "partial_rotary_factor", 1.0);
    int half = (int)(ghd / 2), rot = (int)((double)ghd * f / 2.0);
    if (half <= 0 || half > cap || !rfull) return 0;
    for (int i = 0; i < half; i++) out[i] = i < rot ? 1.0f : 1e30f;
    return half;
}

/* llama.cpp's gemma4 lets a KV-shared layer reuse layer n-1 when it is full
 * and layer n-2 when sliding (n = the count of layers with their own cache),
 * where Hugging Face takes the last non-shared layer of the same type.  The
 * two agree when layer n-1 is full and layer n-2 sliding, as in the released
 * E2B and E4B; otherwise llama.cpp aborts (or would read the wrong cache). */
int gm_gguf_llamacpp_kv_share_ok(const cJSON *c, char *why, size_t cap)
{
    int64_t L = cfg_int(c, "num_hidden_layers", 0), shared = cfg_int(c, "num_kv_shared_layers", 0);
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    if (shared <= 0 || shared >= L || !cJSON_IsArray(types) || cJSON_GetArraySize(types) != L) return 0;
    int n = (int)(L - shared);
    bool shared_full = false, shared_swa = false;
    for (int l = n; l < L; l++) {
        const cJSON *t = cJSON_GetArrayItem(types, l);
        bool swa = cJSON_IsString(t) && strcmp(t->valuestring, "sliding_attention") == 0;
        shared_full |= !swa;
        shared_swa |= swa;
    }
    const cJSON *t1 = cJSON_GetArrayItem(types, n - 1), *t2 = n >= 2 ? cJSON_GetArrayItem(types, n - 2) : NULL;
    bool last_full = cJSON_IsString(t1) && strcmp(t1->valuestring, "full_attention") == 0;
    bool prev_swa = cJSON_IsString(t2) && strcmp(t2->valuestring, "sliding_attention") == 0;
    if ((shared_full || shared_swa) && !last_full) {
        snprintf(why, cap, "layer %d, the last with its own KV cache, is sliding; llama.cpp's gemma4 needs it "
                 "full (it lets the %lld KV-shared layers reuse layers %d and %d) and will abort on this file",
                 n - 1, (long long)shared, n - 1, n - 2);
        return -1;
    }
    if (shared_swa && !prev_swa) {
        snprintf(why, cap, "layer %d is not sliding; llama.cpp's gemma4 lets the sliding KV-shared layers reuse "
                 "it and will abort on this file", n - 2);
        return -1;
    }
    return 0;
}
