/* gguf_convert.c: `gemmash convert`: any weight source (a Hugging Face
 * folder, or another GGUF) written as a gemma4 GGUF that llama.cpp loads,
 * and the rule that decides which type each tensor gets (shared with
 * quantization at load time).
 *
 * Tensors are converted one at a time while the file is written, so memory
 * stays at one tensor beyond the mapped source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gguf.h"
#include "quant.h"
#include "source.h"

/* llama.cpp's rule for spending more bits on some layers (Q4_K_M, Q5_K_M). */
static bool more_bits(int layer, int n_layers)
{
    return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

/* Take t if rows of ne0 fit its blocks.  Rows a 256-element K type cannot
 * hold (26B-A4B's expert and dense down projections, 704 and 2112 wide)
 * take llama.cpp's fallback, so the files match its mixes byte for byte in
 * type: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, and the types below four
 * bits (Q2_K, Q3_K, IQ4_XS) -> IQ4_NL; rows not even a multiple of 32 keep
 * their type (-1). */
static int fit(gm_type t, int64_t ne0)
{
    if (gm_type_row_bytes(t, ne0)) return (int)t;
    gm_type fb = t == GM_TYPE_Q4_K ? GM_TYPE_Q5_0 : t == GM_TYPE_Q5_K ? GM_TYPE_Q5_1 : t == GM_TYPE_Q6_K ? GM_TYPE_Q8_0
                                                                                         : GM_TYPE_IQ4_NL;
    if (gm_type_block(t) > GM_QK && gm_type_row_bytes(fb, ne0)) return (int)fb;
    return -1;
}

/* Name suffix test for the type rules. */
static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int gm_quant_type_for(const char *scheme, const char *hf_name, int layer, int n_layers, const gm_tensor *t)
{
    if ((t->ne[1] <= 1 && t->ne[2] <= 1) || ends_with(hf_name, "router.proj.weight")) return -1;
    if (!strcmp(scheme, "f32")) return GM_TYPE_F32;
    if (!strcmp(scheme, "f16")) return GM_TYPE_F16;
    if (!strcmp(scheme, "bf16")) return GM_TYPE_BF16;
    if (!strcmp(scheme, "q8_0")) return fit(GM_TYPE_Q8_0, t->ne[0]);
    if (!strcmp(scheme, "q4_0")) return fit(GM_TYPE_Q4_0, t->ne[0]);
    if (!strcmp(scheme, "q4_1")) return fit(GM_TYPE_Q4_1, t->ne[0]);
    if (!strcmp(scheme, "iq4_nl")) return fit(GM_TYPE_IQ4_NL, t->ne[0]);
    bool embed = layer < 0 && (ends_with(hf_name, "embed_tokens.weight") || ends_with(hf_name, "lm_head.weight") ||
                               ends_with(hf_name, "embed_tokens_per_layer.weight"));
    bool sensitive = ends_with(hf_name, "v_proj.weight") || ends_with(hf_name, "down_proj.weight") ||
                     ends_with(hf_name, "experts.down_proj");
    /* the mixes below four bits: the embeddings in Q6_K, the value and down
     * projections a step up (two in more_bits' layers for Q3_K_M) */
    if (!strcmp(scheme, "iq4_xs")) return fit(embed ? GM_TYPE_Q6_K : GM_TYPE_IQ4_XS, t->ne[0]);
    if (!strcmp(scheme, "q3_k_m") || !strcmp(scheme, "q3_k")) {
        if (embed) return fit(GM_TYPE_Q6_K, t->ne[0]);
        if (sensitive && layer >= 0) return fit(more_bits(layer, n_layers) ? GM_TYPE_Q5_K : GM_TYPE_Q4_K, t->ne[0]);
        return fit(GM_TYPE_Q3_K, t->ne[0]);
    }
    if (!strcmp(scheme, "q2_k")) {
        if (embed) return fit(GM_TYPE_Q6_K, t->ne[0]);
        return fit(sensitive && layer >= 0 ? GM_TYPE_Q3_K : GM_TYPE_Q2_K, t->ne[0]);
    }
    bool q4km = !strcmp(scheme, "q4_k_m") || !strcmp(scheme, "q4_k");
    if (q4km || !strcmp(scheme, "q5_k_m") || !strcmp(scheme, "q5_k")) {
        if (embed || (sensitive && layer >= 0 && more_bits(layer, n_layers))) return fit(GM_TYPE_Q6_K, t->ne[0]);
        return fit(q4km ? GM_TYPE_Q4_K : GM_TYPE_Q5_K, t->ne[0]);
    }
    return -1;
}

typedef struct {
    const gm_tensor *src;
    gm_type dst;
    gm_pool *pool;
} conv_item;

/* Writer callback: the source tensor converted into the file's buffer. */
static int conv_fill(void *ud, void *dst, size_t nbytes, gm_err *err)
{
    const conv_item *c = ud;
    if (c->dst == c->src->type && nbytes == c->src->nbytes) { memcpy(dst, c->src->data, nbytes); return 0; }
    return gm_quantize_tensor_into(c->src, c->dst, dst, nbytes, c->pool, err);
}

/* general.file_type as llama.cpp numbers it (LLAMA_FTYPE_*). */
static uint32_t file_type(const char *type)
{
    static const struct { const char *name; uint32_t ft; } FT[] = {
        {"f32", 0}, {"f16", 1}, {"q4_0", 2}, {"q4_1", 3}, {"q8_0", 7}, {"q2_k", 10}, {"q3_k_m", 12},
        {"q4_k_m", 15}, {"q5_k_m", 17}, {"iq4_nl", 25}, {"iq4_xs", 30}, {"bf16", 32},
    };
    for (size_t i = 0; i < sizeof FT / sizeof FT[0]; i++)
        if (!strcmp(FT[i].name, type)) return FT[i].ft;
    return 0;
}

int gm_gguf_convert(gm_source *src, const char *tokenizer_json, const char *out_path, const char *type,
                    gm_pool *pool, bool verbose, gm_err *err)
{
    static const char *const types[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q4_k_m",
                                        "q5_k_m", "q3_k_m", "q2_k", "iq4_nl", "iq4_xs"};
    bool known = false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) known |= !strcmp(types[i], type);
    if (!known)
        return gm_err_set(err, GM_E_ARG, "convert: unknown type '%s' (use bf16, q8_0, q4_0, q4_1, q4_k_m, q5_k_m, "
                          "q3_k_m, q2_k, iq4_nl or iq4_xs)", type);
    const cJSON *cfg = src->config, *tc = cJSON_GetObjectItemCaseSensitive(src->config, "text_config");
    if (cJSON_IsObject(tc)) cfg = tc;       /* released multimodal layout: the decoder is nested */
    const cJSON *nl = cJSON_GetObjectItemCaseSensitive(cfg, "num_hidden_layers");
    int L = cJSON_IsNumber(nl) ? (int)nl->valuedouble : 0;
    if (L < 1 || L > GM_MAX_LAYERS) return gm_err_set(err, GM_E_FORMAT, "%s: num_hidden_layers is missing", src->path);
    const gm_tensor *emb = src->find(src, "embed_tokens.weight");
    if (!emb) return gm_err_set(err, GM_E_FORMAT, "%s: no embed_tokens.weight; is this a Gemma 4 checkpoint?", src->path);
    gm_hf_vocab v;
    if (gm_hf_vocab_load(tokenizer_json, &v, err)) return -1;
    if (gm_hf_vocab_fit(&v, emb->ne[1], tokenizer_json, err)) {
        gm_hf_vocab_free(&v);
        return -1;
    }
    gm_gguf_writer *w = gm_gguf_writer_new(err);
    int n_names = gm_gguf_hf_name_count(), n_items = 0, rc = 0;
    conv_item *items = calloc((size_t)n_names * (size_t)(L + 1), sizeof *items);
    float *freqs = malloc(4096 * sizeof *freqs);   /* the writer keeps a pointer until it writes */
    if (!w || !items || !freqs) {
        rc = gm_err_set(err, GM_E_NOMEM, "convert: out of memory");
        goto out;
    }
    if (gm_gguf_meta_from_config(w, cfg, src->path, err)) { rc = -1; goto out; }
    char why[256];
    if (gm_gguf_llamacpp_kv_share_ok(cfg, why, sizeof why))
        fprintf(stderr, "convert: warning: %s: %s (gemmash itself runs it)\n", src->path, why);
    rc |= gm_gguf_set_u32(w, "general.file_type", file_type(type));
    rc |= gm_gguf_set_u32(w, "general.quantization_version", 2);
    rc |= gm_gguf_write_vocab(w, &v, cfg, src->config, src->chat_template);
    int n_freqs = gm_gguf_rope_freqs(cfg, freqs, 4096);
    if (n_freqs > 0) {
        int64_t ne = n_freqs;
        rc |= gm_gguf_add_tensor(w, "rope_freqs.weight", GM_TYPE_F32, 1, &ne, freqs, sizeof(float) * (size_t)n_freqs);
    }
    for (int layer = -1; layer < L && !rc; layer++)
        for (int i = 0; i < n_names && !rc; i++) {
            char hf[160], gg[160];
            if (gm_gguf_hf_name_at(i, layer, hf, sizeof hf) || gm_gguf_name_from_hf(hf, gg, sizeof gg)) continue;
            const gm_tensor *t = src->find(src, hf);
            if (!t) continue;
            int q = gm_quant_type_for(type, hf, layer, L, t);
            bool vector = t->ne[1] <= 1 && t->ne[2] <= 1;
            gm_type dst = q >= 0 ? (gm_type)q : vector || !strcmp(type, "f32") ? GM_TYPE_F32 : GM_TYPE_F16;
            int n_dims = t->ne[2] > 1 ? 3 : t->ne[1] > 1 ? 2 : 1;
            conv_item *c = &items[n_items++];
            c->src = t; c->dst = dst; c->pool = pool;
            if (verbose) fprintf(stderr, "convert: %-40s %-5s -> %-5s [%lld, %lld, %lld]\n", gg, gm_type_name(t->type),
                                 gm_type_name(dst), (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2]);
            if (gm_gguf_add_tensor_fn(w, gg, dst, n_dims, t->ne, conv_fill, c))
                rc = gm_err_set(err, GM_E_FORMAT, "convert: cannot add %s (%s, %lld columns)", gg, gm_type_name(dst),
                                (long long)t->ne[0]);
        }
    if (!rc && gm_gguf_write(w, out_path, err)) rc = -1;
out:
    gm_gguf_writer_free(w);
    free(freqs);
    free(items);
    gm_hf_vocab_free(&v);
    return rc ? -1 : 0;
}
