/* ctx.c: one sequence's state: the KV cache, the token history and the
 * forward pass's scratch, all sized at creation so decoding allocates
 * nothing (full-attention caches grow by whole blocks as the text grows).
 *
 * KV layout: only layers that own K/V get storage.  A sliding layer keeps a
 * ring of W + max_batch positions: a batch of up to max_batch new tokens can
 * be written before any of them is read without overwriting a key an earlier
 * query of the batch still needs, and a rollback of up to max_batch tokens
 * (speculative decoding) keeps the window intact.  A full layer keeps a table
 * of GM_KV_BLOCK-position blocks, added as needed up to n_ctx. */
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "quant.h"

/* Bytes of one stored element. */
static size_t kv_elt(const gm_kv_layer *l) { return l->f16 ? sizeof(uint16_t) : sizeof(float); }

size_t gm_kv_row_bytes(const gm_kv_layer *l) { return (size_t)l->row * kv_elt(l); }

void *gm_kv_raw(const gm_kv_layer *l, bool values, int pos)
{
    size_t rb = gm_kv_row_bytes(l);
    if (l->ring) return (char *)(values ? l->v : l->k) + (size_t)(pos % l->ring) * rb;
    return (char *)(values ? l->vb : l->kb)[pos / GM_KV_BLOCK] + (size_t)(pos % GM_KV_BLOCK) * rb;
}

void gm_kv_store(gm_kv_layer *l, int pos, const float *k, const float *v)
{
    gm_type t = l->f16 ? GM_TYPE_F16 : GM_TYPE_F32;
    gm_quantize_row(t, k, gm_kv_raw(l, false, pos), l->row);
    gm_quantize_row(t, v, gm_kv_raw(l, true, pos), l->row);
}

const float *gm_kv_rows(const gm_kv_layer *l, bool values, int u, int nk, int col, int cols, float *buf,
                        int64_t *ld)
{
    if (!l->f16) {
        *ld = l->row;
        return (const float *)gm_kv_raw(l, values, u) + col;
    }
    const uint16_t *h = (const uint16_t *)gm_kv_raw(l, values, u) + col;
    for (int i = 0; i < nk; i++) gm_vec_f16_to_f32(buf + (size_t)i * cols, h + (size_t)i * l->row, cols);
    *ld = cols;
    return buf;
}

int gm_kv_run(const gm_kv_layer *l, int u, int end)
{
    int span = l->ring ? l->ring - u % l->ring : GM_KV_BLOCK - u % GM_KV_BLOCK;
    return end - u < span ? end : u + span;
}

int gm_kv_ring_oldest(const gm_kv_layer *l, int pos)
{
    if (!l->ring) return 0;
    return pos > l->ring ? pos - l->ring : 0;
}

/* Make every full-attention cache cover positions < n_total, and the
 * attention score scratch long enough. */
int gm_kv_reserve(gm_ctx *c, int n_total, gm_err *err)
{
    const gm_config *cfg = &c->m->cfg;
    int need = (n_total + GM_KV_BLOCK - 1) / GM_KV_BLOCK;
    for (int l = 0; l < cfg->n_layers; l++) {
        gm_kv_layer *kl = &c->kv[l];
        if (!kl->owner || kl->ring) continue;
        if (need > kl->cap_blocks) {
            int nc = kl->cap_blocks ? kl->cap_blocks : 4;
            while (nc < need) nc *= 2;
            void **nk = realloc(kl->kb, (size_t)nc * sizeof *nk);
            if (!nk) return gm_err_set(err, GM_E_NOMEM, "KV cache: out of memory growing to %d tokens", n_total);
            kl->kb = nk;
            void **nv = realloc(kl->vb, (size_t)nc * sizeof *nv);
            if (!nv) return gm_err_set(err, GM_E_NOMEM, "KV cache: out of memory growing to %d tokens", n_total);
            kl->vb = nv;
            kl->cap_blocks = nc;
        }
        while (kl->n_blocks < need) {
            size_t bytes = (size_t)GM_KV_BLOCK * gm_kv_row_bytes(kl);
            void *k = malloc(bytes), *v = malloc(bytes);
            if (!k || !v) {
                free(k); free(v);
                return gm_err_set(err, GM_E_NOMEM, "KV cache: out of memory at %d tokens (lower --ctx)", n_total);
            }
            kl->kb[kl->n_blocks] = k;
            kl->vb[kl->n_blocks++] = v;
        }
    }
    int want = n_total < cfg->sliding_window ? cfg->sliding_window : n_total;
    if (want > c->scores_cap) {
        int cap = c->scores_cap ? c->scores_cap : 1024, heads = 1;
        while (cap < want) cap *= 2;
        if (cap > c->n_ctx && c->n_ctx >= want) cap = c->n_ctx;
        for (int l = 0; l < cfg->n_layers; l++) {   /* grouped attention keeps a KV group's rows */
            int g = cfg->n_heads / cfg->n_kv_heads_l[l];
            if (g > heads) heads = g < GM_ATTN_GROUP_MAX ? g : GM_ATTN_GROUP_MAX;
        }
        /* Room for the rows of one query head group, and for up to
         * GM_ATTN_TOKENS tokens' rows where that fits GM_ATTN_SCRATCH_FLOATS. */
        size_t one = (size_t)cap * (size_t)heads, per = one * GM_ATTN_TOKENS;
        if (per > GM_ATTN_SCRATCH_FLOATS) per = GM_ATTN_SCRATCH_FLOATS > one ? GM_ATTN_SCRATCH_FLOATS : one;
        float *s = realloc(c->scores, per * (size_t)gm_pool_size(c->m->pool) * sizeof *s);
        if (!s) return gm_err_set(err, GM_E_NOMEM, "attention scratch: out of memory at %d tokens", n_total);
        c->scores = s;
        c->scores_cap = cap;
        c->scores_heads = heads;
        c->scores_floats = per;
    }
    return 0;
}

static float *zalloc(size_t n, bool *ok)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) *ok = false;
    return p;
}

gm_ctx *gm_ctx_new(gm_model *m, int n_ctx, gm_err *err)
{
    const gm_config *cfg = &m->cfg;
    if (n_ctx <= 0 || n_ctx > cfg->max_pos) n_ctx = cfg->max_pos;
    gm_ctx *c = calloc(1, sizeof *c);
    if (!c) { gm_err_set(err, GM_E_NOMEM, "out of memory"); return NULL; }
    c->m = m;
    c->n_ctx = n_ctx;
    c->max_batch = cfg->moe ? GM_MAX_BATCH_MOE : GM_MAX_BATCH;
    bool ok = true;
    c->tokens = calloc((size_t)n_ctx, sizeof *c->tokens);
    c->kv = calloc((size_t)cfg->n_layers, sizeof *c->kv);
    if (!c->tokens || !c->kv) ok = false;
    int qmax = 0, kvmax = 0, fmax = 0, hdmax = 0;
    for (int l = 0; ok && l < cfg->n_layers; l++) {
        int hd = cfg->head_dim_l[l], nkv = cfg->n_kv_heads_l[l];
        if (hd > hdmax) hdmax = hd;
        if (cfg->n_heads * hd > qmax) qmax = cfg->n_heads * hd;
        if (nkv * hd > kvmax) kvmax = nkv * hd;
        if (cfg->ffn_width[l] > fmax) fmax = cfg->ffn_width[l];
        gm_kv_layer *kl = &c->kv[l];
        if (cfg->kv_source[l] != l) continue;
        kl->owner = 1;
        kl->row = nkv * hd;
        kl->f16 = m->kv_f16;
        if (!cfg->is_full[l]) {
            kl->ring = cfg->sliding_window + c->max_batch;
            if (kl->ring > n_ctx) kl->ring = n_ctx;
            size_t bytes = (size_t)kl->ring * gm_kv_row_bytes(kl);
            kl->k = calloc(1, bytes);
            kl->v = calloc(1, bytes);
            if (!kl->k || !kl->v) ok = false;
        }
    }
    size_t B = (size_t)c->max_batch, H = (size_t)cfg->hidden, LP = (size_t)cfg->n_layers * cfg->ple_dim;
    if ((int)cfg->ple_dim > fmax) fmax = cfg->ple_dim;
    size_t tmpn = LP > B * (size_t)cfg->n_experts ? LP : B * (size_t)cfg->n_experts;
    if (ok) {
        c->x = zalloc(B * H, &ok);      c->xn = zalloc(B * H, &ok);
        c->q = zalloc(B * qmax, &ok);   c->k = zalloc(B * kvmax, &ok);  c->v = zalloc(B * kvmax, &ok);
        c->att = zalloc(B * qmax, &ok); c->o = zalloc(B * H, &ok);      c->f = zalloc(B * H, &ok);
        c->g = zalloc(B * fmax, &ok);   c->u = zalloc(B * fmax, &ok);
        c->ple = zalloc(B * LP, &ok);   c->tmp = zalloc(tmpn, &ok);     c->hidden = zalloc(B * H, &ok);
        c->rope_half = hdmax / 2;
        c->rope = zalloc(B * 2 * 2 * (size_t)c->rope_half, &ok);
        c->attn_rows_floats = (size_t)2 * GM_ATTN_TOKENS * GM_ATTN_GROUP_MAX * (size_t)hdmax;
        c->attn_rows = zalloc(c->attn_rows_floats * (size_t)gm_pool_size(m->pool), &ok);
        if (cfg->moe) {
            size_t K = (size_t)cfg->top_k_experts, I = (size_t)cfg->moe_inter;
            c->moe_z = zalloc(B * H, &ok);   c->moe_gu = zalloc(B * 2 * I, &ok);
            c->moe_act = zalloc(B * I, &ok); c->moe_out = zalloc(B * H, &ok);
            c->moe_acc = zalloc(B * H, &ok); c->moe_w = zalloc(B * K, &ok);
            c->moe_idx = calloc(B * K, sizeof *c->moe_idx);
            c->moe_tok = calloc(B * K, sizeof *c->moe_tok);
            if (!c->moe_idx || !c->moe_tok) ok = false;
        }
    }
    if (!ok) {
        gm_err_set(err, GM_E_NOMEM, "out of memory creating a context of %d tokens (lower --ctx)", n_ctx);
        gm_ctx_free(c);
        return NULL;
    }
    if (gm_kv_reserve(c, 1, err)) { gm_ctx_free(c); return NULL; }
    return c;
}

void gm_ctx_free(gm_ctx *c)
{
    if (!c) return;
    for (int l = 0; c->kv && l < c->m->cfg.n_layers; l++) {
        gm_kv_layer *kl = &c->kv[l];
        free(kl->k); free(kl->v);
        for (int b = 0; b < kl->n_blocks; b++) { free(kl->kb[b]); free(kl->vb[b]); }
        free(kl->kb); free(kl->vb);
    }
    float *bufs[] = {c->x, c->xn, c->q, c->k, c->v, c->att, c->o, c->f, c->g, c->u, c->ple, c->tmp,
                     c->hidden, c->moe_z, c->moe_gu, c->moe_act, c->moe_out, c->moe_acc, c->moe_w, c->scores, c->attn_rows,
                     c->rope};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(c->moe_idx); free(c->moe_tok);
    free(c->kv);
    free(c->tokens);
    free(c);
}

int gm_ctx_pos(const gm_ctx *c) { return c->pos; }
int gm_ctx_capacity(const gm_ctx *c) { return c->n_ctx; }
const int32_t *gm_ctx_tokens(const gm_ctx *c) { return c->tokens; }
void gm_ctx_set_interrupt(gm_ctx *c, volatile sig_atomic_t *flag) { c->interrupt = flag; }

const float *gm_ctx_hidden(const gm_ctx *c, int *n_rows)
{
    if (n_rows) *n_rows = c->n_hidden_rows;
    return c->hidden;
}

int gm_ctx_eval(gm_ctx *c, const int32_t *tokens, int n, float *logits, bool all_logits, gm_err *err)
{
    const gm_config *cfg = &c->m->cfg;
    if (n <= 0) return gm_err_set(err, GM_E_ARG, "nothing to evaluate (empty prompt)");
    if (n > c->n_ctx - c->pos)
        return gm_err_set(err, GM_E_CONTEXT, "%d more tokens do not fit: the context holds %d and %d are used "
                          "(raise --ctx, up to %d for this model, or shorten the input)",
                          n, c->n_ctx, c->pos, cfg->max_pos);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= cfg->vocab)
            return gm_err_set(err, GM_E_ARG, "token id %d at index %d is outside the vocabulary [0, %d)",
                              tokens[i], i, cfg->vocab);
    if (gm_kv_reserve(c, c->pos + n, err)) return -1;
    for (int done = 0; done < n;) {
        int b = n - done < c->max_batch ? n - done : c->max_batch;
        bool last = done + b == n;
        float *out = NULL;
        if (logits && all_logits) out = logits + (size_t)done * cfg->vocab;
        else if (logits && last) out = logits;
        if (gm_forward(c, tokens + done, b, out, all_logits, err)) return -1;
        memcpy(c->tokens + c->pos, tokens + done, (size_t)b * sizeof *tokens);
        c->pos += b;
        done += b;
    }
    return 0;
}

int gm_ctx_truncate(gm_ctx *c, int n, gm_err *err)
{
    if (n < 0 || n > c->pos)
        return gm_err_set(err, GM_E_ARG, "cannot truncate to %d tokens: the cache holds %d", n, c->pos);
    if (n == c->pos) return 0;
    /* A sliding ring must still hold the last W-1 positions before n. */
    const gm_config *cfg = &c->m->cfg;
    int need = n - cfg->sliding_window + 1;
    if (need < 0) need = 0;
    bool intact = true;
    for (int l = 0; l < cfg->n_layers; l++)
        if (c->kv[l].owner && c->kv[l].ring && gm_kv_ring_oldest(&c->kv[l], c->pos) > need) intact = false;
    if (intact) { c->pos = n; return 0; }
    /* Deep rollback: the window is gone from the rings, so rebuild it by
     * running the kept history again (the kernels are batch-invariant, so
     * the rebuilt cache equals the original). */
    int32_t *keep = malloc((size_t)(n ? n : 1) * sizeof *keep);
    if (!keep) return gm_err_set(err, GM_E_NOMEM, "out of memory");
    memcpy(keep, c->tokens, (size_t)n * sizeof *keep);
    c->pos = 0;
    int rc = n ? gm_ctx_eval(c, keep, n, NULL, false, err) : 0;
    free(keep);
    return rc;
}

int gm_ctx_sync(gm_ctx *c, const int32_t *tokens, int n, float *logits, gm_err *err)
{
    int common = 0;
    while (common < n && common < c->pos && c->tokens[common] == tokens[common]) common++;
    /* always run at least the last token, so its logits are fresh */
    if (common == n) common = n - 1;
    if (common < 0) return gm_err_set(err, GM_E_ARG, "nothing to evaluate (empty prompt)");
    if (gm_ctx_truncate(c, common, err)) return -1;
    int todo = n - c->pos;
    if (gm_ctx_eval(c, tokens + c->pos, todo, logits, false, err)) return -1;
    return todo;
}
