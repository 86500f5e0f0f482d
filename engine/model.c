/* model.c: bind a weight source to the Gemma 4 layer plan.
 *
 * Every tensor the forward pass will touch is looked up here, once, by its
 * Hugging Face name, and its shape is checked against the config before any
 * use: a wrong file fails at load with the tensor's name, its shape and the
 * shape expected, never later with a crash.  The model also owns the thread
 * pool, the RoPE frequency tables and small float copies of norm weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "model.h"
#include "quant.h"
#include "gguf.h"


/* Keep a malloc'd pointer until the model is freed. */
static int own(gm_model *m, void *p)
{
    if (m->n_owned == m->cap_owned) {
        int nc = m->cap_owned ? m->cap_owned * 2 : 64;
        void **no = realloc(m->owned, (size_t)nc * sizeof *no);
        if (!no) return -1;
        m->owned = no;
        m->cap_owned = nc;
    }
    m->owned[m->n_owned++] = p;
    return 0;
}

void *gm_model_alloc(gm_model *m, size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    if (p && own(m, p)) { free(p); return NULL; }
    return p;
}

/* Quantize one bound matrix at load (--quant): the model keeps an owned
 * copy in the new type and the mapped pages of the original are released. */
static int quantize_one(gm_model *m, const gm_tensor **slot, const char *scheme, int layer, gm_err *err)
{
    const gm_tensor *t = *slot;
    if (!t) return 0;
    int ty = gm_quant_type_for(scheme, t->name, layer, m->cfg.n_layers, t);
    if (ty < 0 || ty == (int)t->type) return 0;
    gm_tensor *q = gm_model_alloc(m, sizeof *q);
    if (!q) return gm_err_set(err, GM_E_NOMEM, "out of memory quantizing '%s'", t->name);
    if (gm_quantize_tensor(t, (gm_type)ty, q, m->pool, err)) return -1;
    if (own(m, (void *)q->data)) { free((void *)q->data); return gm_err_set(err, GM_E_NOMEM, "out of memory"); }
    gm_tensor_release_pages(t);
    m->weight_bytes = m->weight_bytes - t->nbytes + q->nbytes;
    *slot = q;
    return 0;
}

/* --quant q8_0|q4_0|q4_k|q5_k|q4_1|q3_k|q2_k|iq4_nl|iq4_xs: every matrix
 * (not norms, scalars or the router) in the chosen type; the K types and
 * iq4_xs follow convert's mixes (llama.cpp's Q4_K_M, Q5_K_M, Q3_K_M ...). */
static int quantize_model(gm_model *m, const char *quant, gm_err *err)
{
    int ty = gm_type_from_name(quant);
    if (ty < 0 || ty == GM_TYPE_F32 || ty == GM_TYPE_Q5_0 || ty == GM_TYPE_Q5_1 || ty == GM_TYPE_Q6_K)
        return gm_err_set(err, GM_E_ARG, "--quant '%s': choose q8_0, q4_0, q4_k, q5_k, q4_1, q3_k, q2_k, iq4_nl or iq4_xs",
                          quant);
    const char *scheme = ty == GM_TYPE_Q4_K ? "q4_k_m" : ty == GM_TYPE_Q5_K ? "q5_k_m" : ty == GM_TYPE_Q3_K ? "q3_k_m"
                       : ty == GM_TYPE_Q2_K ? "q2_k" : ty == GM_TYPE_IQ4_XS ? "iq4_xs" : ty == GM_TYPE_IQ4_NL ? "iq4_nl"
                       : ty == GM_TYPE_Q4_1 ? "q4_1" : quant;
    bool tied = m->lm_head == m->embed;
    if (quantize_one(m, &m->embed, scheme, -1, err)) return -1;
    if (tied) m->lm_head = m->embed;
    else if (quantize_one(m, &m->lm_head, scheme, -1, err)) return -1;
    if (quantize_one(m, &m->ple_embed, scheme, -1, err) || quantize_one(m, &m->ple_model_proj, scheme, -1, err))
        return -1;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        gm_layer *y = &m->layers[l];
        const gm_tensor **mats[] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->gate, &y->up, &y->down,
                                    &y->gate_up_exps, &y->down_exps, &y->ple_gate, &y->ple_proj};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
            if (quantize_one(m, mats[i], scheme, l, err)) return -1;
    }
    return 0;
}

/* Repack one bound quantized matrix from the file's row layout into the
 * row-interleaved tiles the CPU kernels read (a GGUF file's Q8_0/Q4_0/K
 * tensors), as an owned copy, releasing the mapped pages after. */
static int pack_one(gm_model *m, const gm_tensor **slot, gm_err *err)
{
    const gm_tensor *t = *slot;
    if (!t) return 0;
    gm_tensor *q = gm_model_alloc(m, sizeof *q);
    if (!q) return gm_err_set(err, GM_E_NOMEM, "out of memory repacking '%s'", t->name);
    int rc = gm_qpack_tensor(t, q, m->pool, err);
    if (rc) return rc < 0 ? -1 : 0;   /* 1: nothing to do for this type or CPU */
    if (own(m, (void *)q->data)) { free((void *)q->data); return gm_err_set(err, GM_E_NOMEM, "out of memory"); }
    gm_tensor_release_pages(t);
    *slot = q;
    return 0;
}

/* Every matrix product's weights in the kernels' packed layout.  The
 * per-layer embedding table stays mapped: it is only ever read a row per
 * token, so a resident copy would cost its whole size for nothing. */
static int pack_model(gm_model *m, gm_err *err)
{
    bool tied = m->lm_head == m->embed;
    if (pack_one(m, &m->embed, err)) return -1;
    if (tied) m->lm_head = m->embed;
    else if (pack_one(m, &m->lm_head, err)) return -1;
    if (pack_one(m, &m->ple_model_proj, err)) return -1;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        gm_layer *y = &m->layers[l];
        const gm_tensor **mats[] = {&y->wq, &y->wk, &y->wv, &y->wo, &y->gate, &y->up, &y->down,
                                    &y->gate_up_exps, &y->down_exps, &y->ple_gate, &y->ple_proj};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
            if (pack_one(m, mats[i], err)) return -1;
    }
    return 0;
}

/* "[4, 48]" in PyTorch order from a GGML-order shape. */
static void shape_str(char *buf, size_t n, const int64_t ne[3], int nd)
{
    int o = snprintf(buf, n, "[");
    for (int i = nd - 1; i >= 0 && o < (int)n; i--)
        o += snprintf(buf + o, n - (size_t)o, "%lld%s", (long long)ne[i], i ? ", " : "]");
}

/* Find a tensor and check its shape (ne0 innermost; nd dims).  required=0
 * returns NULL without error when absent. */
static const gm_tensor *bind(gm_model *m, const char *name, int nd, int64_t ne0, int64_t ne1, int64_t ne2,
                             bool required, gm_err *err)
{
    const gm_tensor *t = m->src->find(m->src, name);
    int64_t want[3] = {ne0, nd > 1 ? ne1 : 1, nd > 2 ? ne2 : 1};
    if (!t) {
        if (required) {
            char s[96];
            shape_str(s, sizeof s, want, nd);
            gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' is missing (expected shape %s)", m->src->path, name, s);
        }
        return NULL;
    }
    if (gm_type_block((gm_type)t->type) == 0) {
        gm_err_set(err, GM_E_UNSUPPORTED, "%s: tensor '%s' has a data type gemmash cannot compute with "
                   "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)", m->src->path, name);
        return NULL;
    }
    if (t->ne[0] != want[0] || t->ne[1] != want[1] || t->ne[2] != want[2]) {
        char a[96], b[96];
        int tnd = t->ne[2] > 1 ? 3 : t->ne[1] > 1 ? 2 : 1;
        shape_str(a, sizeof a, t->ne, tnd > nd ? tnd : nd);
        shape_str(b, sizeof b, want, nd);
        gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' has shape %s, expected %s (the config and the weights "
                   "disagree)", m->src->path, name, a, b);
        return NULL;
    }
    m->weight_bytes += t->nbytes;
    return t;
}

/* A small vector tensor as an owned float copy. */
static const float *vec(gm_model *m, const char *name, int64_t n, bool required, gm_err *err)
{
    const gm_tensor *t = bind(m, name, 1, n, 1, 1, required, err);
    if (!t) return NULL;
    float *f = gm_model_alloc(m, (size_t)n * sizeof *f);
    if (!f) { gm_err_set(err, GM_E_NOMEM, "out of memory"); return NULL; }
    gm_tensor_row(t, 0, 0, f);
    return f;
}

#define LNAME(buf, l, s) snprintf(buf, sizeof buf, "layers.%d.%s", l, s)

/* Bind one decoder layer; the shapes follow gemma4-arch.md §4. */
static int bind_layer(gm_model *m, int l, gm_err *err)
{
    const gm_config *c = &m->cfg;
    gm_layer *y = &m->layers[l];
    int64_t H = c->hidden, hd = c->head_dim_l[l], nkv = c->n_kv_heads_l[l], Hq = c->n_heads, F = c->ffn_width[l];
    bool owner = c->kv_source[l] == l, full = c->is_full[l];
    char n[128];
#define V(dst, s, len) do { LNAME(n, l, s); if (!((dst) = vec(m, n, len, true, err))) return -1; } while (0)
#define M(dst, s, a, b) do { LNAME(n, l, s); if (!((dst) = bind(m, n, 2, a, b, 1, true, err))) return -1; } while (0)
    V(y->attn_norm, "input_layernorm.weight", H);
    M(y->wq, "self_attn.q_proj.weight", H, Hq * hd);
    V(y->q_norm, "self_attn.q_norm.weight", hd);
    M(y->wo, "self_attn.o_proj.weight", Hq * hd, H);
    if (owner) {
        M(y->wk, "self_attn.k_proj.weight", H, nkv * hd);
        V(y->k_norm, "self_attn.k_norm.weight", hd);
        if (!(full && c->k_eq_v)) M(y->wv, "self_attn.v_proj.weight", H, nkv * hd);
    }
    V(y->post_attn_norm, "post_attention_layernorm.weight", H);
    V(y->ffn_norm, "pre_feedforward_layernorm.weight", H);
    V(y->post_ffn_norm, "post_feedforward_layernorm.weight", H);
    M(y->gate, "mlp.gate_proj.weight", H, F);
    M(y->up, "mlp.up_proj.weight", H, F);
    M(y->down, "mlp.down_proj.weight", F, H);
    if (c->moe) {
        int64_t E = c->n_experts, I = c->moe_inter;
        M(y->router, "router.proj.weight", H, E);
        V(y->router_scale, "router.scale", H);
        V(y->expert_scale, "router.per_expert_scale", E);
        V(y->pre_ffn_norm2, "pre_feedforward_layernorm_2.weight", H);
        V(y->post_ffn_norm1, "post_feedforward_layernorm_1.weight", H);
        V(y->post_ffn_norm2, "post_feedforward_layernorm_2.weight", H);
        LNAME(n, l, "experts.gate_up_proj");
        if (!(y->gate_up_exps = bind(m, n, 3, H, 2 * I, E, true, err))) return -1;
        LNAME(n, l, "experts.down_proj");
        if (!(y->down_exps = bind(m, n, 3, I, H, E, true, err))) return -1;
    }
    if (c->ple_dim > 0) {
        int64_t P = c->ple_dim;
        M(y->ple_gate, "per_layer_input_gate.weight", H, P);
        M(y->ple_proj, "per_layer_projection.weight", P, H);
        V(y->ple_post_norm, "post_per_layer_input_norm.weight", H);
    }
    LNAME(n, l, "layer_scalar");
    const float *ls = vec(m, n, 1, false, err);
    if (!ls && err && err->code) return -1;
    y->layer_scalar = ls ? ls[0] : 1.0f;
#undef V
#undef M
    return 0;
}

/* inv_freq for one layer type: D/2 entries, zero beyond the rotated part
 * (proportional RoPE keeps the full head dim as the exponent denominator). */
static int rope_table(gm_model *m, int type, int D, double theta, double partial, gm_err *err)
{
    float *f = gm_model_alloc(m, (size_t)(D / 2) * sizeof *f);
    if (!f) return gm_err_set(err, GM_E_NOMEM, "out of memory");
    int rot = (int)floor(partial * D / 2.0 + 1e-9);
    for (int i = 0; i < D / 2; i++)
        f[i] = i < rot ? (float)pow(theta, -2.0 * i / D) : 0.0f;
    m->inv_freq[type] = f;
    m->rope_dim[type] = D;
    return 0;
}

static size_t slice_bytes(const gm_tensor *t) { return t ? t->nbytes / (size_t)t->ne[2] : 0; }

/* Weight bytes one decode step reads: every matrix once, top-k experts, one
 * embedding row and one per-layer-embedding row. */
static size_t per_token_bytes(const gm_model *m)
{
    size_t b = m->embed->row_bytes + m->lm_head->nbytes;
    if (m->ple_embed) b += m->ple_embed->row_bytes + m->ple_model_proj->nbytes;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const gm_layer *y = &m->layers[l];
        const gm_tensor *mats[] = {y->wq, y->wk, y->wv, y->wo, y->gate, y->up, y->down, y->router,
                                   y->ple_gate, y->ple_proj};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) if (mats[i]) b += mats[i]->nbytes;
        if (y->gate_up_exps)
            b += (size_t)m->cfg.top_k_experts * (slice_bytes(y->gate_up_exps) + slice_bytes(y->down_exps));
    }
    return b;
}

/* Guess small vs large chat template when the checkpoint ships none:
 * per-layer embeddings mean E2B/E4B. */
static gm_chat_family family_guess(const gm_config *c)
{
    return c->ple_dim > 0 ? GM_CHAT_SMALL : GM_CHAT_LARGE;
}

gm_model *gm_model_load(const char *path, const gm_load_opts *opts, gm_err *err)
{
    gm_load_opts def = {0};
    gm_err local = {0};
    if (!opts) opts = &def;
    if (!err) err = &local;
    err->code = 0;
    if (!path || !*path) { gm_err_set(err, GM_E_ARG, "no model given (use -m MODEL)"); return NULL; }
    struct stat st;
    if (stat(path, &st) != 0) {
        gm_err_set(err, GM_E_IO, "%s: no such file or folder (give a checkpoint folder or a .gguf file)", path);
        return NULL;
    }
    if ((unsigned)opts->kv_type > GM_KV_F32) {
        gm_err_set(err, GM_E_ARG, "KV cache type %d is not one of f16, f32", (int)opts->kv_type);
        return NULL;
    }
    gm_model *m = calloc(1, sizeof *m);
    if (!m) { gm_err_set(err, GM_E_NOMEM, "out of memory"); return NULL; }
    m->src = S_ISDIR(st.st_mode) ? gm_source_open_hf(path, err) : gm_source_open_gguf(path, err);
    if (!m->src) goto fail;
    char cname[4200];
    snprintf(cname, sizeof cname, "%s/config.json", path);
    if (gm_config_parse(m->src->config, S_ISDIR(st.st_mode) ? cname : path, &m->cfg, err)) goto fail;
    gm_genconfig_parse(m->src->genconfig, &m->gen);
    m->tok = m->src->tok;
    m->src->tok = NULL;
    if (gm_tok_vocab_size(m->tok) > m->cfg.vocab) {
        gm_err_set(err, GM_E_FORMAT, "%s: the tokenizer has %d tokens but the model's vocab_size is %d",
                   path, gm_tok_vocab_size(m->tok), m->cfg.vocab);
        goto fail;
    }
    m->family = m->src->chat_template ? gm_chat_family_from_template(m->src->chat_template)
                                      : family_guess(&m->cfg);
    const gm_config *c = &m->cfg;
    int64_t H = c->hidden;
    if (!(m->embed = bind(m, "embed_tokens.weight", 2, H, c->vocab, 1, true, err))) goto fail;
    m->lm_head = c->tied_embeddings ? NULL : bind(m, "lm_head.weight", 2, H, c->vocab, 1, false, err);
    if (!m->lm_head && err && err->code) goto fail;
    if (!m->lm_head) m->lm_head = m->embed;
    if (!(m->final_norm = vec(m, "norm.weight", H, true, err))) goto fail;
    if (c->ple_dim > 0) {
        int64_t LP = (int64_t)c->n_layers * c->ple_dim;
        if (!(m->ple_embed = bind(m, "embed_tokens_per_layer.weight", 2, LP, c->ple_vocab, 1, true, err)) ||
            !(m->ple_model_proj = bind(m, "per_layer_model_projection.weight", 2, H, LP, 1, true, err)) ||
            !(m->ple_proj_norm = vec(m, "per_layer_projection_norm.weight", c->ple_dim, true, err)))
            goto fail;
    }
    m->layers = gm_model_alloc(m, (size_t)c->n_layers * sizeof *m->layers);
    if (!m->layers) { gm_err_set(err, GM_E_NOMEM, "out of memory"); goto fail; }
    for (int l = 0; l < c->n_layers; l++)
        if (bind_layer(m, l, err)) goto fail;
    int dl = -1, dg = -1;
    for (int l = 0; l < c->n_layers; l++) {
        if (c->is_full[l]) dg = c->head_dim_l[l]; else dl = c->head_dim_l[l];
    }
    if ((dl > 0 && rope_table(m, 0, dl, c->rope_theta_local, 1.0, err)) ||
        (dg > 0 && rope_table(m, 1, dg, c->rope_theta_global, c->partial_rotary_global, err)))
        goto fail;
    m->kv_f16 = opts->kv_type != GM_KV_F32;
    if (!(m->pool = gm_pool_new(opts->threads, err))) goto fail;
    if (opts->quant && quantize_model(m, opts->quant, err)) goto fail;
    if (pack_model(m, err)) goto fail;
    m->bytes_per_token = per_token_bytes(m);
    return m;
fail:
    if (err && !err->code) gm_err_set(err, GM_E_NOMEM, "out of memory");
    gm_model_free(m);
    return NULL;
}

void gm_model_free(gm_model *m)
{
    if (!m) return;
    gm_pool_free(m->pool);
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    gm_tok_free(m->tok);
    if (m->src) m->src->free(m->src);
    free(m);
}

const gm_config *gm_model_config(const gm_model *m) { return &m->cfg; }
const gm_genconfig *gm_model_genconfig(const gm_model *m) { return &m->gen; }
const gm_tokenizer *gm_model_tokenizer(const gm_model *m) { return m->tok; }
gm_chat_family gm_model_chat_family(const gm_model *m) { return m->family; }

/* KV bytes per token: owner layers only; sliding layers are capped by their
 * ring (gm_ctx_new's size), so this is the growth rate of the full-attention
 * caches. */
static void kv_bytes(const gm_model *m, size_t *full_per_tok, size_t *sliding_total, int n_ctx)
{
    *full_per_tok = 0;
    *sliding_total = 0;
    size_t elt = m->kv_f16 ? sizeof(uint16_t) : sizeof(float);
    for (int l = 0; l < m->cfg.n_layers; l++) {
        if (m->cfg.kv_source[l] != l) continue;
        size_t row = 2 * elt * (size_t)m->cfg.n_kv_heads_l[l] * (size_t)m->cfg.head_dim_l[l];
        if (m->cfg.is_full[l]) *full_per_tok += row;
        else {
            int ring = m->cfg.sliding_window + (m->cfg.moe ? GM_MAX_BATCH_MOE : GM_MAX_BATCH);
            if (ring > n_ctx) ring = n_ctx;
            *sliding_total += row * (size_t)ring;
        }
    }
}

double gm_model_kv_bytes_per_token(const gm_model *m)
{
    size_t full, sliding;
    kv_bytes(m, &full, &sliding, m->cfg.max_pos);
    return (double)full;
}

int gm_kv_type_from_name(const char *s)
{
    if (s && !strcasecmp(s, "f16")) return GM_KV_F16;
    if (s && !strcasecmp(s, "f32")) return GM_KV_F32;
    return -1;
}

cJSON *gm_model_describe(const gm_model *m, int n_ctx)
{
    const gm_config *c = &m->cfg;
    if (n_ctx <= 0) n_ctx = c->max_pos;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "architecture", c->arch);
    const char *variant = c->moe ? "26B-A4B-like (MoE)" : c->ple_dim > 0 ? (c->double_wide ? "E2B-like" : "E4B-like")
                                                                       : "31B-like (dense)";
    cJSON_AddStringToObject(o, "variant", variant);
    cJSON_AddStringToObject(o, "chat_family", m->family == GM_CHAT_SMALL ? "small" : "large");
    cJSON_AddNumberToObject(o, "vocab", c->vocab);
    cJSON_AddNumberToObject(o, "hidden", c->hidden);
    cJSON_AddNumberToObject(o, "layers", c->n_layers);
    cJSON_AddNumberToObject(o, "heads", c->n_heads);
    cJSON_AddNumberToObject(o, "sliding_window", c->sliding_window);
    cJSON_AddNumberToObject(o, "max_context", c->max_pos);
    cJSON_AddNumberToObject(o, "kv_shared_layers", c->n_kv_shared);
    cJSON_AddNumberToObject(o, "per_layer_input", c->ple_dim);
    if (c->moe) {
        cJSON_AddNumberToObject(o, "experts", c->n_experts);
        cJSON_AddNumberToObject(o, "experts_per_token", c->top_k_experts);
    }
    cJSON *plan = cJSON_AddArrayToObject(o, "layer_plan");
    for (int l = 0; l < c->n_layers && plan; l++) {
        cJSON *e = cJSON_CreateObject();
        if (!e) break;
        cJSON_AddStringToObject(e, "type", c->is_full[l] ? "full" : "sliding");
        cJSON_AddNumberToObject(e, "head_dim", c->head_dim_l[l]);
        cJSON_AddNumberToObject(e, "kv_heads", c->n_kv_heads_l[l]);
        cJSON_AddNumberToObject(e, "kv_from", c->kv_source[l]);
        cJSON_AddNumberToObject(e, "mlp", c->ffn_width[l]);
        cJSON_AddItemToArray(plan, e);
    }
    /* parameters: elements of every bound tensor */
    double params = 0, type_bytes[32] = {0};   /* gm_type values are < 32 */
    for (int l = 0; l < c->n_layers; l++) {
        const gm_layer *y = &m->layers[l];
        const gm_tensor *ts[] = {y->wq, y->wk, y->wv, y->wo, y->gate, y->up, y->down, y->router,
                                 y->gate_up_exps, y->down_exps, y->ple_gate, y->ple_proj};
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            if (!ts[i]) continue;
            params += (double)ts[i]->ne[0] * (double)ts[i]->ne[1] * (double)ts[i]->ne[2];
            if ((unsigned)ts[i]->type < 32) type_bytes[ts[i]->type] += (double)ts[i]->nbytes;
        }
    }
    /* bytes of the layers' matrices per weight type (a Q4_K_M file mixes two) */
    cJSON *types = cJSON_AddObjectToObject(o, "matrix_types");
    for (int t = 0; t < 32 && types; t++)
        if (type_bytes[t] > 0) cJSON_AddNumberToObject(types, gm_type_name((gm_type)t), type_bytes[t]);
    double emb = (double)m->embed->ne[0] * (double)m->embed->ne[1];
    double ple = m->ple_embed ? (double)m->ple_embed->ne[0] * (double)m->ple_embed->ne[1] : 0;
    cJSON_AddNumberToObject(o, "params_layers", params);
    cJSON_AddNumberToObject(o, "params_embedding", emb);
    cJSON_AddNumberToObject(o, "params_per_layer_embedding", ple);
    cJSON_AddNumberToObject(o, "weight_bytes", (double)m->weight_bytes);
    cJSON_AddNumberToObject(o, "file_bytes", (double)m->src->file_bytes);
    cJSON_AddNumberToObject(o, "weight_bytes_per_token", (double)m->bytes_per_token);
    size_t full, sliding;
    kv_bytes(m, &full, &sliding, n_ctx);
    cJSON_AddStringToObject(o, "kv_type", m->kv_f16 ? "f16" : "f32");
    cJSON_AddNumberToObject(o, "kv_bytes_per_token_full", (double)full);
    cJSON_AddNumberToObject(o, "kv_bytes_sliding_rings", (double)sliding);
    cJSON_AddNumberToObject(o, "context", n_ctx);
    cJSON_AddNumberToObject(o, "memory_at_context", (double)m->src->file_bytes + (double)sliding +
                                                    (double)full * n_ctx);
    cJSON_AddNumberToObject(o, "threads", gm_pool_size(m->pool));
    cJSON_AddStringToObject(o, "kernels", gm_kernel_isa());
    cJSON_AddStringToObject(o, "quantized_kernels", gm_qisa_name(gm_qisa_best()));
    return o;
}
