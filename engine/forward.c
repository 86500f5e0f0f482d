/* forward.c: the Gemma 4 text decoder, one batch of tokens at a time.
 *
 * This is the whole model's math in one place (gemma4-arch.md §3), written
 * against the backend calls in kernels.h.  A batch of n tokens at positions
 * pos..pos+n-1 goes through every layer together, so each weight matrix is
 * read once per batch (prefill) or once per token (decode, n = 1).  Every
 * per-token computation (matrix rows, attention over the cache, norms) is
 * done in the same order whatever n is, so prefill and decode give the same
 * logits bit for bit. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include "model.h"
#include "ops.h"

/* ---- phase timing (gm_ctx_time_phases) ------------------------------------- */

enum { PH_EMBED, PH_QKV, PH_ROPE_KV, PH_ATTN, PH_O, PH_UP, PH_DOWN, PH_EXPERTS, PH_PLE, PH_NORMS, PH_LM_HEAD };
static const char *const phase_names[GM_PHASES] = { "embed", "qkv", "rope-kv", "attention", "o-proj", "mlp-up",
                                                    "mlp-down", "experts", "per-layer", "norms", "lm-head" };

/* The clock at the start of a phase (0 when timing is off). */
static double ph_start(const gm_ctx *c)
{
    return c->timing ? gm_now_s() : 0;
}

/* Add the time since t0 to phase k (and start the next phase there). */
static double ph_end(gm_ctx *c, int k, double t0)
{
    double t = ph_start(c);
    if (c->timing) c->phase_s[k] += t - t0;
    return t;
}

void gm_ctx_time_phases(gm_ctx *c, bool on)
{
    c->timing = on;
    memset(c->phase_s, 0, sizeof c->phase_s);
}

int gm_ctx_phase_times(const gm_ctx *c, const char **names, double *secs, int max)
{
    for (int k = 0; k < GM_PHASES && k < max; k++) {
        if (names) names[k] = phase_names[k];
        if (secs) secs[k] = c->phase_s[k];
    }
    return GM_PHASES;
}

static int mm(gm_ctx *c, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx, int n,
              float *Y, int64_t ldy, gm_err *err)
{
    if (gm_matmul(c->m->pool, W, slice, X, ldx, n, Y, ldy) == 0) return 0;
    return gm_err_set(err, GM_E_UNSUPPORTED, "tensor '%s': no kernel for type %s", W->name,
                      gm_type_name(W->type));
}

/* Products of one input with several matrices (q/k/v, gate/up): one
 * quantization of the input and one pool region where they can share. */
static int mm_multi(gm_ctx *c, int count, const gm_tensor *const *W, const float *X, int64_t ldx, int n,
                    float *const *Y, const int64_t *ldy, gm_err *err)
{
    if (gm_matmul_multi(c->m->pool, count, W, X, ldx, n, Y, ldy) == 0) return 0;
    for (int i = 0; i < count; i++)   /* name the matrix without a kernel */
        if (mm(c, W[i], 0, X, ldx, n, Y[i], ldy[i], err)) return -1;
    return gm_err_set(err, GM_E_UNSUPPORTED, "tensor '%s': product failed", W[0]->name);
}

/* ---- per-token work on the pool ---------------------------------------------- */

typedef void (*tok_fn)(gm_ctx *c, int l, int t);

/* A per-token function run by a quantized product's quantization pass on
 * the row it is about to quantize (gm_qmatmul_made). */
typedef struct { gm_ctx *c; int l; tok_fn fn; } made_rows;
static void made_row(void *arg, int t)
{
    const made_rows *r = arg;
    r->fn(r->c, r->l, t);
}
typedef struct { gm_ctx *c; int l, n; tok_fn fn; } tok_job;

static void tok_worker(void *arg, int ith, int nth)
{
    const tok_job *j = arg;
    for (int t = ith; t < j->n; t += nth) j->fn(j->c, j->l, t);
}

/* fn(c, l, t) for every token of the batch.  The norms, RoPE and GeGLU are
 * per token and cheap next to a matrix product, but done serially they cost
 * a 512-token prefill several percent; a batch of 4+ tokens shares them out
 * (each token's arithmetic is the same whichever thread runs it).  An
 * expert's rows go through it the same way, n being the expert's rows. */
static void for_tokens(gm_ctx *c, int l, int n, tok_fn fn)
{
    if (n < 4 || gm_pool_size(c->m->pool) < 2) {
        for (int t = 0; t < n; t++) fn(c, l, t);
        return;
    }
    tok_job j = {c, l, n, fn};
    gm_pool_run(c->m->pool, tok_worker, &j);
}

/* ---- attention ---------------------------------------------------------- */

typedef struct {
    gm_ctx *c;
    const gm_kv_layer *kv;
    const float *q;          /* n x (Hq*hd) */
    float *out;              /* n x (Hq*hd) */
    int n, p0, Hq, hd, G, window;   /* window 0 = full */
    int gh;                  /* query heads per work item: 1, or a KV group's (<= GM_ATTN_GROUP_MAX) */
    int tb;                  /* consecutive tokens per work item (<= GM_ATTN_TOKENS) */
    int kc, kv_c;            /* keys per pass over the item's tokens: scores, weighted sums */
    atomic_int next;         /* next work item to take */
} attn_job;

/* Lowest position token position p attends to. */
static inline int attn_lo(const attn_job *j, int p)
{
    int lo = j->window ? p - j->window + 1 : 0;
    return lo < 0 ? 0 : lo;
}

/* g rows of a pass against nk keys from kv: scores s[i*ld + u] = r_i . k_u,
 * or with values r_i += sum_u s[i*ld + u] v_u. */
static void pass_rows(float *r, int hd, float *s, int64_t ld, int g, const float *kv, int64_t row, int nk,
                      bool values)
{
    if (values) gm_vec_wsum_g(r, hd, s, ld, g, kv, row, nk, hd);
    else gm_vec_qk(r, hd, g, kv, row, nk, hd, s, ld);
}

/* The item's passes over the keys: scores from K rows (kc keys a pass;
 * scale 1.0) into sc, or, with values, the weighted sums of V rows (kv_c
 * keys a pass) into the output rows.  rows holds the item's query rows (or
 * output rows) back to back, row tt*gh + k for token tt and head h0 + k;
 * score row tt*gh + k keeps key u at column u - base, base the lowest key
 * of the block.  A pass's rows of the KV head are read as floats once
 * (gm_kv_rows; an f16 cache widens them into buf).  The tokens that take a
 * whole pass (all but those near the causal edge or the start of a sliding
 * window) go through one kernel call, so each K/V row loaded serves every
 * head of each of them; the others take their own part of the pass. */
static void attn_passes(const attn_job *j, float *sc, int64_t ld, float *rows, int t0, int nt, int h0, bool values,
                        float *buf)
{
    int hd = j->hd, gh = j->gh, kvh = h0 / j->G;
    int pf = j->p0 + t0, pl = pf + nt - 1, base = attn_lo(j, pf), step = values ? j->kv_c : j->kc;
    for (int u = base, e; u <= pl; u = e) {
        e = gm_kv_run(j->kv, u, pl + 1);
        if (e - u > step) e = u + step;
        int64_t row;
        const float *kv = gm_kv_rows(j->kv, values, u, e - u, kvh * hd, hd, buf, &row);
        /* whole-pass tokens: p >= e - 1 and lo <= u, a range since both grow with the token */
        int ta = 0, tz = nt;
        while (ta < nt && pf + ta < e - 1) ta++;
        while (tz > ta && attn_lo(j, pf + tz - 1) > u) tz--;
        if (tz > ta) pass_rows(rows + (size_t)ta * gh * hd, hd, sc + (size_t)ta * gh * ld + (u - base), ld,
                               (tz - ta) * gh, kv, row, e - u, values);
        for (int tt = 0; tt < nt; tt++) {
            int p = pf + tt, lo = attn_lo(j, p), a = u > lo ? u : lo, z = e < p + 1 ? e : p + 1;
            if ((tt >= ta && tt < tz) || a >= z) continue;
            pass_rows(rows + (size_t)tt * gh * hd, hd, sc + (size_t)tt * gh * ld + (a - base), ld, gh,
                      kv + (size_t)(a - u) * row, row, z - a, values);
        }
    }
}

/* One work item: tokens t0..t0+nt-1 (a block), query heads h0..h0+gh-1 (all
 * in one KV group).  The queries are copied side by side into the thread's
 * rows (and the outputs summed there), so the block's tokens and heads form
 * one matrix.  Keys go in passes (attn_passes): each pass's K rows, then V
 * rows, are read from memory once and stay in cache while every token of
 * the block uses them.  A token's scores cover exactly the keys, in the
 * order, it would see alone; a score depends only on its query and key rows
 * (gm_vec_qk), and each output element gets its FMAs in ascending key order
 * starting from zero, so the block size, the grouping of heads and tokens
 * and the passes never change the bits. */
static void attn_item(const attn_job *j, float *sc, float *rows, float *buf, int t0, int nt, int h0)
{
    int hd = j->hd, stride = j->Hq * hd, gh = j->gh, pf = j->p0 + t0, base = attn_lo(j, pf);
    int64_t ld = pf + nt - base;   /* floats per score row: the block's widest span */
    size_t w = (size_t)gh * hd;    /* one token's rows */
    float *qr = rows, *orow = rows + (size_t)nt * w;
    for (int tt = 0; tt < nt; tt++)
        memcpy(qr + tt * w, j->q + (size_t)(t0 + tt) * stride + (size_t)h0 * hd, w * sizeof(float));
    attn_passes(j, sc, ld, qr, t0, nt, h0, false, buf);
    for (int tt = 0; tt < nt; tt++) {
        int p = pf + tt, lo = attn_lo(j, p);
        for (int k = 0; k < gh; k++) gm_vec_softmax(sc + (size_t)(tt * gh + k) * ld + (lo - base), p - lo + 1);
    }
    memset(orow, 0, (size_t)nt * w * sizeof(float));
    attn_passes(j, sc, ld, orow, t0, nt, h0, true, buf);
    for (int tt = 0; tt < nt; tt++)
        memcpy(j->out + (size_t)(t0 + tt) * stride + (size_t)h0 * hd, orow + tt * w, w * sizeof(float));
}

/* Threads take items from a shared counter, the latest blocks (the most
 * keys) first, so the short ones at the end even out the finish. */
static void attn_worker(void *arg, int ith, int nth)
{
    (void)nth;
    attn_job *j = arg;
    const gm_ctx *c = j->c;
    float *sc = c->scores + (size_t)ith * c->scores_floats;
    float *rows = c->attn_rows + (size_t)ith * c->attn_rows_floats;
    /* a pass's K or V rows widened from half: the pool scratch is free while
     * attention runs (no matrix product shares the region) */
    float *buf = gm_pool_scratch(c->m->pool, ith);
    int per_blk = j->Hq / j->gh, nblk = (j->n + j->tb - 1) / j->tb, items = nblk * per_blk;
    for (;;) {
        int idx = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (idx >= items) break;
        int t0 = (nblk - 1 - idx / per_blk) * j->tb, nt = j->n - t0 < j->tb ? j->n - t0 : j->tb;
        attn_item(j, sc, rows, buf, t0, nt, (idx % per_blk) * j->gh);
    }
}

/* Token t before attention: xn = attn_norm(x). */
static void attn_in_tok(gm_ctx *c, int l, int t)
{
    int H = c->m->cfg.hidden;
    rmsnorm(c->xn + (size_t)t * H, c->x + (size_t)t * H, c->m->layers[l].attn_norm, H, c->m->cfg.eps);
}

/* Token t's query (per-head norm, RoPE) and, for a layer that owns its KV,
 * key (norm, RoPE) and value (unweighted norm), stored into the cache. */
static void qkv_tok(gm_ctx *c, int l, int t)
{
    const gm_config *cfg = &c->m->cfg;
    const gm_layer *y = &c->m->layers[l];
    int Hq = cfg->n_heads, hd = cfg->head_dim_l[l], nkv = cfg->n_kv_heads_l[l], kw = nkv * hd;
    const int type = cfg->is_full[l];
    const float *inv = c->m->inv_freq[type];
    /* this token's angles for the layer type, made by its first layer */
    float *cs = c->rope + (size_t)(2 * t + type) * 2 * c->rope_half, *sn = cs + c->rope_half;
    bool first = true;
    for (int j = 0; j < l && first; j++) first = cfg->is_full[j] != type;
    if (first) rope_angles(cs, sn, hd, inv, c->pos + t);
    float *q = c->q + (size_t)t * Hq * hd;
    for (int h = 0; h < Hq; h++) rmsnorm(q + (size_t)h * hd, q + (size_t)h * hd, y->q_norm, hd, cfg->eps);
    if (cfg->kv_source[l] != l) {
        rope2_tab(q, Hq, NULL, 0, hd, inv, cs, sn);
        return;
    }
    gm_kv_layer *kv = &c->kv[l];
    float *k = c->k + (size_t)t * kw, *v = c->v + (size_t)t * kw;
    for (int h = 0; h < nkv; h++) {
        rmsnorm(k + (size_t)h * hd, k + (size_t)h * hd, y->k_norm, hd, cfg->eps);
        rmsnorm(v + (size_t)h * hd, v + (size_t)h * hd, NULL, hd, cfg->eps);
    }
    rope2_tab(q, Hq, k, nkv, hd, inv, cs, sn);
    gm_kv_store(kv, c->pos + t, k, v);
}

/* Token t after attention: x += post_attn_norm(o), then the FFN's input
 * xn = ffn_norm(x) while the row is in cache (one pass over the batch, not
 * two). */
static void attn_out_tok(gm_ctx *c, int l, int t)
{
    int H = c->m->cfg.hidden;
    float *o = c->o + (size_t)t * H, *x = c->x + (size_t)t * H;
    rmsnorm(o, o, c->m->layers[l].post_attn_norm, H, c->m->cfg.eps);
    gm_vec_axpy(x, 1.0f, o, H);   /* x + 1 * o: the bits of x + o, in the kernel family */
    rmsnorm(c->xn + (size_t)t * H, x, c->m->layers[l].ffn_norm, H, c->m->cfg.eps);
}

/* Token t at the end of layer l: x *= the layer's scalar (done by the
 * layer's last per-token pass, not a serial loop over the batch). */
static void layer_scale_tok(gm_ctx *c, int l, int t)
{
    int H = c->m->cfg.hidden;
    float s = c->m->layers[l].layer_scalar, *x = c->x + (size_t)t * H;
    if (s != 1.0f)
        for (int i = 0; i < H; i++) x[i] *= s;
}

/* Attention block of layer l for the batch; x holds the input, xn scratch. */
static int attention(gm_ctx *c, int l, int n, gm_err *err)
{
    const gm_model *m = c->m;
    const gm_config *cfg = &m->cfg;
    const gm_layer *y = &m->layers[l];
    int H = cfg->hidden, Hq = cfg->n_heads, hd = cfg->head_dim_l[l], nkv = cfg->n_kv_heads_l[l];
    int full = cfg->is_full[l], qw = Hq * hd, kw = nkv * hd;
    gm_kv_layer *kv = &c->kv[cfg->kv_source[l]];
    const gm_tensor *W[3] = { y->wq, y->wk, y->wv };
    float *Y[3] = { c->q, c->k, c->v };
    int64_t ld[3] = { qw, kw, kw };
    int nw = cfg->kv_source[l] != l ? 1 : y->wv ? 3 : 2;   /* a layer that reuses another's KV needs only q */
    made_rows mr = { c, l, attn_in_tok };
    double t = ph_start(c);
    if (gm_qmatmul_made(m->pool, nw, W, c->xn, H, n, Y, ld, made_row, &mr) != 0) {   /* float weights */
        for_tokens(c, l, n, attn_in_tok);
        if (mm_multi(c, nw, W, c->xn, H, n, Y, ld, err)) return -1;
    }
    if (nw == 2) memcpy(c->v, c->k, (size_t)n * kw * sizeof(float));   /* K = V: raw projection */
    t = ph_end(c, PH_QKV, t);
    for_tokens(c, l, n, qkv_tok);
    t = ph_end(c, PH_ROPE_KV, t);
    /* Tokens per work item: the most (up to GM_ATTN_TOKENS) that leave at
     * least 4 blocks per thread per KV head and whose score rows fit the
     * scratch.  Heads per item: the largest share of a KV group (so K and V
     * rows are read once per share) that still splits evenly over the
     * threads, or leaves at least 8 items per thread to balance. */
    int G = Hq / nkv, gh = 1, tb = GM_ATTN_TOKENS, nth = gm_pool_size(m->pool), window = full ? 0 : cfg->sliding_window;
    int gmax = G < c->scores_heads ? G : c->scores_heads;
    for (; tb > 1; tb /= 2) {
        long span = window && window + tb - 1 < c->pos + n ? window + tb - 1 : c->pos + n;
        if ((long)((n + tb - 1) / tb) * nkv >= 4L * nth && (size_t)tb * gmax * span <= c->scores_floats) break;
    }
    for (int d = gmax; d > 1; d--) {
        long items = (long)((n + tb - 1) / tb) * nkv * (G / d);
        if (G % d == 0 && (items % nth == 0 || items >= 8L * nth)) { gh = d; break; }
    }
    int kc = GM_ATTN_KEY_BYTES / (hd * (int)sizeof(float)) & ~3, kv_c = GM_ATTN_VALUE_BYTES / (hd * (int)sizeof(float));
    /* a pass's rows must fit the thread's scratch when an f16 cache widens them */
    int fit = (int)(GM_POOL_SCRATCH / ((size_t)hd * sizeof(float)));
    kc = kc < 4 ? 4 : kc;
    kv_c = kv_c < 32 ? 32 : kv_c;
    kc = kc > fit ? fit : kc;
    kv_c = kv_c > fit ? fit : kv_c;
    attn_job j = {c, kv, c->q, c->att, n, c->pos, Hq, hd, G, window, gh, tb, kc, kv_c, 0};
    gm_pool_run(m->pool, attn_worker, &j);
    t = ph_end(c, PH_ATTN, t);
    if (mm(c, y->wo, 0, c->att, qw, n, c->o, H, err)) return -1;
    t = ph_end(c, PH_O, t);
    for_tokens(c, l, n, attn_out_tok);
    ph_end(c, PH_NORMS, t);
    return 0;
}

/* ---- feed-forward --------------------------------------------------------- */

/* Token t's GeGLU: g = gelu(g) * u over layer l's MLP width. */
static void geglu_tok(gm_ctx *c, int l, int t)
{
    int F = c->m->cfg.ffn_width[l];
    float *g = c->g + (size_t)t * F;
    const float *u = c->u + (size_t)t * F;
    gm_vec_geglu(g, g, u, F);
}

/* Dense GeGLU MLP of layer l on rows in (n x H) -> out (n x H), no norms. */
static int mlp(gm_ctx *c, int l, const float *in, int n, float *out, gm_err *err)
{
    const gm_layer *y = &c->m->layers[l];
    int H = c->m->cfg.hidden, F = c->m->cfg.ffn_width[l];
    const gm_tensor *W[2] = { y->gate, y->up };
    float *Y[2] = { c->g, c->u };
    int64_t ld[2] = { F, F };
    double t = ph_start(c);
    /* 1: g already holds the GeGLU (prefill on AVX-512); else the two
     * products, and the GeGLU is made row by row below */
    int fused = gm_qmatmul_geglu(c->m->pool, y->gate, y->up, in, H, n, c->g, c->u, F);
    if (fused < 0 && mm_multi(c, 2, W, in, H, n, Y, ld, err)) return -1;
    t = ph_end(c, PH_UP, t);
    made_rows mr = { c, l, geglu_tok };
    int64_t ldo = H;
    if (gm_qmatmul_made(c->m->pool, 1, &y->down, c->g, F, n, &out, &ldo, fused == 1 ? NULL : made_row, &mr) != 0) {
        if (fused != 1) for_tokens(c, l, n, geglu_tok);    /* float down projection */
        if (mm(c, y->down, 0, c->g, F, n, out, H, err)) return -1;
    }
    ph_end(c, PH_DOWN, t);
    return 0;
}

/* Token t's router input: xn = rmsnorm(x) * router_scale / sqrt(H). */
static void route_in_tok(gm_ctx *c, int l, int t)
{
    const gm_config *cfg = &c->m->cfg;
    const gm_layer *y = &c->m->layers[l];
    int H = cfg->hidden;
    float rs = 1.0f / sqrtf((float)H), *r = c->xn + (size_t)t * H;
    rmsnorm(r, c->x + (size_t)t * H, NULL, H, cfg->eps);
    for (int i = 0; i < H; i++) r[i] = r[i] * y->router_scale[i] * rs;
}

/* Token t's routing from its router logits in tmp: softmax over all
 * experts, top-k (lowest index first on ties), renormalised and scaled per
 * expert; and the experts' input moe_z = pre_ffn_norm2(x). */
static void route_tok(gm_ctx *c, int l, int t)
{
    const gm_config *cfg = &c->m->cfg;
    const gm_layer *y = &c->m->layers[l];
    int H = cfg->hidden, E = cfg->n_experts, K = cfg->top_k_experts;
    float *lg = c->tmp + (size_t)t * E, mx = -INFINITY;
    for (int e = 0; e < E; e++) if (lg[e] > mx) mx = lg[e];
    double sum = 0;
    for (int e = 0; e < E; e++) { lg[e] = expf(lg[e] - mx); sum += lg[e]; }
    for (int e = 0; e < E; e++) lg[e] = (float)(lg[e] / sum);
    int *idx = c->moe_idx + (size_t)t * K;
    float *w = c->moe_w + (size_t)t * K, wsum = 0;
    for (int k = 0; k < K; k++) {
        int best = -1;
        for (int e = 0; e < E; e++) {
            bool used = false;
            for (int i = 0; i < k; i++) used |= idx[i] == e;
            if (!used && (best < 0 || lg[e] > lg[best])) best = e;
        }
        idx[k] = best;
        w[k] = lg[best];
        wsum += w[k];
    }
    for (int k = 0; k < K; k++) w[k] = w[k] / wsum * y->expert_scale[idx[k]];
    rmsnorm(c->moe_z + (size_t)t * H, c->x + (size_t)t * H, y->pre_ffn_norm2, H, cfg->eps);
}

/* Row r of one expert's batch after its gate/up product: GeGLU into
 * moe_act.  (for_tokens runs these over the expert's rows; l is unused.) */
static void moe_geglu_row(gm_ctx *c, int l, int r)
{
    (void)l;
    int I = c->m->cfg.moe_inter;
    const float *gu = c->moe_gu + (size_t)r * 2 * I;
    gm_vec_geglu(c->moe_act + (size_t)r * I, gu, gu + I, I);
}

/* Row r after the expert's down product: its weighted output added to its
 * token's sum (an expert holds a token at most once, so rows never share a
 * sum). */
static void moe_acc_row(gm_ctx *c, int l, int r)
{
    (void)l;
    int H = c->m->cfg.hidden, K = c->m->cfg.top_k_experts;
    float w = c->moe_w[c->moe_tok[r]];
    const float *o = c->moe_out + (size_t)r * H;
    float *acc = c->moe_acc + (size_t)(c->moe_tok[r] / K) * H;
    for (int i = 0; i < H; i++) acc[i] += w * o[i];
}

/* Routed experts (26B) of layer l: routing per token (route_tok); tokens
 * are grouped by expert so each expert's weights are read once per batch.
 * Experts are visited in index order for every token, so the sum is the
 * same in prefill and decode.  Result: c->moe_acc (n x H). */
static int experts(gm_ctx *c, int l, int n, gm_err *err)
{
    const gm_config *cfg = &c->m->cfg;
    const gm_layer *y = &c->m->layers[l];
    int H = cfg->hidden, E = cfg->n_experts, K = cfg->top_k_experts, I = cfg->moe_inter;
    for_tokens(c, l, n, route_in_tok);
    if (mm(c, y->router, 0, c->xn, H, n, c->tmp, E, err)) return -1;
    for_tokens(c, l, n, route_tok);
    memset(c->moe_acc, 0, (size_t)n * H * sizeof(float));
    for (int e = 0; e < E; e++) {
        int ne = 0;
        for (int t = 0; t < n; t++)
            for (int k = 0; k < K; k++)
                if (c->moe_idx[t * K + k] == e) {
                    c->moe_tok[ne] = t * K + k;
                    memcpy(c->moe_out + (size_t)ne * H, c->moe_z + (size_t)t * H, (size_t)H * sizeof(float));
                    ne++;
                }
        if (!ne) continue;
        if (mm(c, y->gate_up_exps, e, c->moe_out, H, ne, c->moe_gu, 2 * I, err)) return -1;
        for_tokens(c, l, ne, moe_geglu_row);
        if (mm(c, y->down_exps, e, c->moe_act, I, ne, c->moe_out, H, err)) return -1;
        for_tokens(c, l, ne, moe_acc_row);
    }
    return 0;
}

/* Token t before the FFN: xn = ffn_norm(x). */

/* Token t after the FFN: x += post_ffn_norm(f). */
static void ffn_out_tok(gm_ctx *c, int l, int t)
{
    int H = c->m->cfg.hidden;
    float *f = c->f + (size_t)t * H, *x = c->x + (size_t)t * H;
    rmsnorm(f, f, c->m->layers[l].post_ffn_norm, H, c->m->cfg.eps);
    gm_vec_axpy(x, 1.0f, f, H);
    if (c->m->cfg.ple_dim == 0) layer_scale_tok(c, l, t);   /* else ple_out_tok ends the layer */
}

/* The FFN block: dense MLP, or dense + experts (26B); adds to the residual. */
static int ffn(gm_ctx *c, int l, int n, gm_err *err)
{
    const gm_config *cfg = &c->m->cfg;
    const gm_layer *y = &c->m->layers[l];
    int H = cfg->hidden;
    /* xn = ffn_norm(x): made by attention's last pass (attn_out_tok) */
    if (mlp(c, l, c->xn, n, c->f, err)) return -1;
    double t = ph_start(c);
    if (cfg->moe) {
        for (int t = 0; t < n; t++) rmsnorm(c->f + (size_t)t * H, c->f + (size_t)t * H, y->post_ffn_norm1, H, cfg->eps);
        if (experts(c, l, n, err)) return -1;
        for (int t = 0; t < n; t++) {
            float *f = c->f + (size_t)t * H, *a = c->moe_acc + (size_t)t * H;
            rmsnorm(a, a, y->post_ffn_norm2, H, cfg->eps);
            for (int i = 0; i < H; i++) f[i] += a[i];
        }
        t = ph_end(c, PH_EXPERTS, t);
    }
    for_tokens(c, l, n, ffn_out_tok);
    ph_end(c, PH_NORMS, t);
    return 0;
}

/* ---- per-layer embeddings (E2B/E4B) ------------------------------------------ */

/* Per-token work around the first products of a pass, split across the
 * pool like for_tokens (the token ids are not in the context yet): the
 * scaled embedding into x (ple false), or the per-layer inputs into ple. */
typedef struct { gm_ctx *c; const int32_t *tok; int n; bool ple; } tok_in_job;

static void tok_in_worker(void *arg, int ith, int nth)
{
    const tok_in_job *j = arg;
    gm_ctx *c = j->c;
    const gm_model *m = c->m;
    const gm_config *cfg = &m->cfg;
    int H = cfg->hidden, P = cfg->ple_dim, LP = cfg->n_layers * P;
    float es = (float)sqrt((double)H), hs = 1.0f / sqrtf((float)H), ps = sqrtf((float)P), r2 = 1.0f / sqrtf(2.0f);
    for (int t = ith; t < j->n; t += nth) {
        if (!j->ple) {
            float *x = c->x + (size_t)t * H;
            gm_tensor_row(m->embed, 0, j->tok[t], x);
            for (int i = 0; i < H; i++) x[i] *= es;
            continue;
        }
        /* the embedding row: in the thread's pool scratch (no product runs
         * now), or in tmp when one thread does it all */
        float *p = c->ple + (size_t)t * LP, *e = nth > 1 ? gm_pool_scratch(m->pool, ith) : c->tmp;
        gm_tensor_row(m->ple_embed, 0, j->tok[t] < cfg->ple_vocab ? j->tok[t] : cfg->pad_id, e);
        for (int i = 0; i < LP; i++) p[i] *= hs;
        for (int l = 0; l < cfg->n_layers; l++)
            rmsnorm(p + (size_t)l * P, p + (size_t)l * P, m->ple_proj_norm, P, cfg->eps);
        for (int i = 0; i < LP; i++) p[i] = (p[i] + e[i] * ps) * r2;
    }
}

static void tok_in(gm_ctx *c, const int32_t *tok, int n, bool ple)
{
    tok_in_job j = { c, tok, n, ple };
    size_t row = (size_t)c->m->cfg.n_layers * c->m->cfg.ple_dim * sizeof(float);
    if (n < 4 || gm_pool_size(c->m->pool) < 2 || (ple && row > GM_POOL_SCRATCH)) tok_in_worker(&j, 0, 1);
    else gm_pool_run(c->m->pool, tok_in_worker, &j);
}

/* ple[t] = (rmsnorm_slices(Wpm·h0 / sqrt(H)) + Eple[tok]·sqrt(P)) / sqrt(2),
 * computed once per batch before layer 0; h0 is the scaled embedding in x. */
static int ple_inputs(gm_ctx *c, const int32_t *tok, int n, gm_err *err)
{
    const gm_model *m = c->m;
    const gm_config *cfg = &m->cfg;
    int H = cfg->hidden, LP = cfg->n_layers * cfg->ple_dim;
    if (mm(c, m->ple_model_proj, 0, c->x, H, n, c->ple, LP, err)) return -1;
    tok_in(c, tok, n, true);
    return 0;
}

/* Token t's gate of layer l's per-layer input: g = gelu(g) * ple[l]. */
static void ple_gate_tok(gm_ctx *c, int l, int t)
{
    int P = c->m->cfg.ple_dim, LP = c->m->cfg.n_layers * P;
    float *g = c->g + (size_t)t * P;
    gm_vec_geglu(g, g, c->ple + (size_t)t * LP + (size_t)l * P, P);
}

/* Token t after the per-layer projection: x += ple_post_norm(o). */
static void ple_out_tok(gm_ctx *c, int l, int t)
{
    int H = c->m->cfg.hidden;
    float *o = c->o + (size_t)t * H, *x = c->x + (size_t)t * H;
    rmsnorm(o, o, c->m->layers[l].ple_post_norm, H, c->m->cfg.eps);
    gm_vec_axpy(x, 1.0f, o, H);
    layer_scale_tok(c, l, t);
}

/* x += rmsnorm(Wp · (gelu(Wg · x) ⊙ ple[l])), after the FFN residual add. */
static int ple_inject(gm_ctx *c, int l, int n, gm_err *err)
{
    const gm_config *cfg = &c->m->cfg;
    const gm_layer *y = &c->m->layers[l];
    int H = cfg->hidden, P = cfg->ple_dim;
    if (mm(c, y->ple_gate, 0, c->x, H, n, c->g, P, err)) return -1;
    for_tokens(c, l, n, ple_gate_tok);
    if (mm(c, y->ple_proj, 0, c->g, P, n, c->o, H, err)) return -1;
    for_tokens(c, l, n, ple_out_tok);
    return 0;
}

/* ---- the whole pass ---------------------------------------------------------- */

/* Token t's final hidden state: hidden = final_norm(x). */
static void final_norm_tok(gm_ctx *c, int l, int t)
{
    (void)l;
    int H = c->m->cfg.hidden;
    rmsnorm(c->hidden + (size_t)t * H, c->x + (size_t)t * H, c->m->final_norm, H, c->m->cfg.eps);
}

int gm_forward(gm_ctx *c, const int32_t *tok, int n, float *logits, bool all_logits, gm_err *err)
{
    const gm_model *m = c->m;
    const gm_config *cfg = &m->cfg;
    int H = cfg->hidden, V = cfg->vocab;
    double t = ph_start(c);
    tok_in(c, tok, n, false);
    if (cfg->ple_dim > 0 && ple_inputs(c, tok, n, err)) return -1;
    ph_end(c, PH_EMBED, t);
    for (int l = 0; l < cfg->n_layers; l++) {
        if (c->interrupt && *c->interrupt)
            return gm_err_set(err, GM_E_INTERRUPTED, "interrupted");
        if (attention(c, l, n, err) || ffn(c, l, n, err)) return -1;
        if (cfg->ple_dim > 0) {
            t = ph_start(c);
            if (ple_inject(c, l, n, err)) return -1;
            ph_end(c, PH_PLE, t);
        }
    }
    t = ph_start(c);
    for_tokens(c, 0, n, final_norm_tok);
    t = ph_end(c, PH_NORMS, t);
    c->n_hidden_rows = n;
    if (!logits) return 0;
    int first = all_logits ? 0 : n - 1, rows = n - first;
    if (mm(c, m->lm_head, 0, c->hidden + (size_t)first * H, H, rows, logits, V, err)) return -1;
    float cap = cfg->final_softcap;
    if (cap > 0) gm_vec_softcap(logits, (int64_t)rows * V, cap);
    ph_end(c, PH_LM_HEAD, t);
    return 0;
}
