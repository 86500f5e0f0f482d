/* mtp_forward.c: one step of the MTP drafter (gemma4-mtp.md §4-5).
 *
 * Input: the target's embedding of the last token times sqrt(Hb), next to
 * the carried hidden state (the target's post-norm row on the first step of a
 * round, the drafter's own post_projection output after that).  pre_projection
 * brings it to the drafter width; four decoder layers whose queries attend to
 * the target's cache (keys already normed and rotated, values normed, exactly
 * as the target stored them); a final norm; then the tied head for the logits
 * and post_projection for the next carried state.  The RoPE position is the
 * same for every step of a round.  The math follows forward.c line for line
 * (same matrix kernel, same norms, same RoPE tables), with single queries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mtp.h"
#include "ops.h"

/* Matrix product through the shared kernel, with the tensor named on failure. */
static int mm(gm_drafter *d, const gm_tensor *W, const float *X, int64_t ldx, float *Y, int64_t ldy, gm_err *err)
{
    if (gm_matmul(d->target->pool, W, 0, X, ldx, 1, Y, ldy) == 0) return 0;
    return gm_err_set(err, GM_E_UNSUPPORTED, "drafter tensor '%s': no kernel for type %s", W->name,
                      gm_type_name(W->type));
}

typedef struct {
    gm_drafter *d;
    const gm_kv_layer *kv;
    int lo, hi, hd, G, nH;
} dattn_job;

/* One query head per work item: scores over cache positions [lo, hi),
 * softmax (scale 1.0), weighted sum of values.  Keys go in pieces that
 * lie one after another in the cache and fit the thread's pool scratch,
 * where an f16 cache's rows are widened (gm_kv_rows), as the target does. */
static void dattn_worker(void *arg, int ith, int nth)
{
    const dattn_job *j = arg;
    gm_drafter *d = j->d;
    float *sc = d->scores + (size_t)ith * (size_t)d->scores_cap;
    float *buf = gm_pool_scratch(d->target->pool, ith);
    int hd = j->hd, most = (int)(GM_POOL_SCRATCH / ((size_t)hd * sizeof(float)));
    for (int h = ith; h < j->nH; h += nth) {
        int kvh = h / j->G;
        const float *q = d->q + (size_t)h * hd;
        for (int u = j->lo, e; u < j->hi; u = e) {
            e = gm_kv_run(j->kv, u, j->hi);
            if (e - u > most) e = u + most;
            int64_t ld;
            const float *k = gm_kv_rows(j->kv, false, u, e - u, kvh * hd, hd, buf, &ld);
            gm_vec_qk(q, hd, 1, k, ld, e - u, hd, sc + (u - j->lo), 1);
        }
        gm_vec_softmax(sc, j->hi - j->lo);
        float *o = d->att + (size_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof *o);
        for (int u = j->lo, e; u < j->hi; u = e) {
            e = gm_kv_run(j->kv, u, j->hi);
            if (e - u > most) e = u + most;
            int64_t ld;
            const float *v = gm_kv_rows(j->kv, true, u, e - u, kvh * hd, hd, buf, &ld);
            gm_vec_wsum(o, sc + (u - j->lo), v, ld, e - u, hd);
        }
    }
}

/* Attention of drafter layer l: q in d->q, result in d->att. */
static int dattn(gm_drafter *d, gm_ctx *c, const gm_draft_layer *y, int n_kv, gm_err *err)
{
    const gm_kv_layer *kv = &c->kv[y->src];
    int lo = y->full ? 0 : n_kv - d->window;
    if (lo < 0) lo = 0;
    if (lo < gm_kv_ring_oldest(kv, c->pos))
        return gm_err_set(err, GM_E_ARG, "drafter: cache position %d is no longer held by layer %d's ring", lo,
                          y->src);
    int need = n_kv - lo;
    if (need > d->scores_cap) {
        int cap = d->scores_cap ? d->scores_cap : 1024;
        while (cap < need) cap *= 2;
        float *s = realloc(d->scores, (size_t)cap * (size_t)gm_pool_size(d->target->pool) * sizeof *s);
        if (!s) return gm_err_set(err, GM_E_NOMEM, "drafter: out of memory for attention over %d positions", need);
        d->scores = s;
        d->scores_cap = cap;
    }
    dattn_job j = {d, kv, lo, n_kv, y->hd, d->nH / y->nkv, d->nH};
    /* a short window is not worth waking the pool */
    if ((double)need * d->nH * y->hd < 65536.0) dattn_worker(&j, 0, 1);
    else gm_pool_run(d->target->pool, dattn_worker, &j);
    return 0;
}

/* The clustered head (E2B/E4B): score the centroids, keep the best
 * top_clusters, score their tokens exactly.  Returns the argmax (lowest id
 * on ties); fills logits (V) if asked, every unscored token at the minimum
 * scored logit minus 1 (as the reference does). */
static int32_t clustered_head(gm_drafter *d, float *logits, gm_err *err)
{
    int C = d->n_centroids, K = d->top_clusters, vpc = d->vpc, D = d->d;
    if (mm(d, d->centroids, d->nrm, D, d->cs, C, err)) return -1;
    int *sel = d->sel;               /* top-K clusters: K selection passes (K = 32) */
    for (int c = 0; c < C; c++) sel[c] = c;
    for (int k = 0; k < K; k++) {
        int b = k;
        for (int c = k + 1; c < C; c++)
            if (d->cs[sel[c]] > d->cs[sel[b]]) b = c;
        int t = sel[k]; sel[k] = sel[b]; sel[b] = t;
    }
    if (logits) for (int i = 0; i < d->V; i++) logits[i] = NAN;
    int32_t best = -1;
    float bx = -INFINITY, mn = INFINITY, *row = d->emb;
    for (int k = 0; k < K; k++) {
        const int64_t *ids = d->ordering + (size_t)sel[k] * vpc;
        for (int i = 0; i < vpc; i++) {
            int32_t id = (int32_t)ids[i];
            gm_tensor_row(d->embed, 0, id, row);
            float s = 0;
            for (int e = 0; e < D; e++) s += row[e] * d->nrm[e];
            if (s > bx || (s == bx && id < best)) { bx = s; best = id; }
            if (s < mn) mn = s;
            if (logits) logits[id] = s;
        }
    }
    if (logits)
        for (int i = 0; i < d->V; i++) if (isnan(logits[i])) logits[i] = mn - 1.0f;
    return best;
}

/* The dense tied head (26B/31B): all V logits; returns the argmax. */
static int32_t dense_head(gm_drafter *d, float *logits, gm_err *err)
{
    float *lg = logits ? logits : d->logits;
    if (mm(d, d->embed, d->nrm, d->d, lg, d->V, err)) return -1;
    int32_t best = 0;
    for (int i = 1; i < d->V; i++) if (lg[i] > lg[best]) best = i;
    return best;
}

/* One draft step (mtp.h): §4.1-4.5 of gemma4-mtp.md in order. */
int32_t gm_drafter_step(gm_drafter *d, gm_ctx *c, int32_t tok, const float *h_in, int pos, int n_kv,
                        float *logits, float *h_out, gm_err *err)
{
    const gm_model *t = d->target;
    int Hb = d->Hb, D = d->d, nH = d->nH;
    float eps = d->cfg.eps;
    if (tok < 0 || tok >= d->V)
        return gm_err_set(err, GM_E_ARG, "drafter: token %d is outside the vocabulary", tok);
    if (n_kv <= 0 || n_kv > c->pos)
        return gm_err_set(err, GM_E_ARG, "drafter: %d cache positions asked, the cache holds %d", n_kv, c->pos);
    float es = (float)sqrt((double)Hb);
    gm_tensor_row(t->embed, 0, tok, d->x2);
    for (int i = 0; i < Hb; i++) d->x2[i] *= es;
    memcpy(d->x2 + Hb, h_in, (size_t)Hb * sizeof(float));
    if (mm(d, d->pre, d->x2, 2 * Hb, d->h, D, err)) return -1;
    for (int l = 0; l < d->n_layers; l++) {
        const gm_draft_layer *y = &d->layers[l];
        int hd = y->hd, qw = nH * hd;
        rmsnorm(d->a, d->h, y->attn_norm, D, eps);
        if (mm(d, y->wq, d->a, D, d->q, qw, err)) return -1;
        for (int h = 0; h < nH; h++) rmsnorm(d->q + (size_t)h * hd, d->q + (size_t)h * hd, y->q_norm, hd, eps);
        rope(d->q, nH, hd, t->inv_freq[y->full], pos);
        if (dattn(d, c, y, n_kv, err)) return -1;
        if (mm(d, y->wo, d->att, qw, d->o, D, err)) return -1;
        rmsnorm(d->o, d->o, y->post_attn_norm, D, eps);
        for (int i = 0; i < D; i++) d->h[i] += d->o[i];
        rmsnorm(d->a, d->h, y->ffn_norm, D, eps);
        int F = d->cfg.ffn_width[l];
        if (mm(d, y->gate, d->a, D, d->g, F, err) || mm(d, y->up, d->a, D, d->u, F, err)) return -1;
        gm_vec_geglu(d->g, d->g, d->u, F);
        if (mm(d, y->down, d->g, F, d->o, D, err)) return -1;
        rmsnorm(d->o, d->o, y->post_ffn_norm, D, eps);
        for (int i = 0; i < D; i++) d->h[i] = (d->h[i] + d->o[i]) * y->layer_scalar;
    }
    rmsnorm(d->nrm, d->h, d->final_norm, D, eps);
    if (h_out && mm(d, d->post, d->nrm, D, h_out, Hb, err)) return -1;
    return d->n_centroids > 0 ? clustered_head(d, logits, err) : dense_head(d, logits, err);
}

/* k greedy steps from one start (engine.h); the carried state swaps buffers. */
int gm_drafter_round(gm_drafter *d, gm_ctx *c, int32_t tok, const float *hidden, int pos, int n_kv,
                     int k, int32_t *out, float *logits, float *hidden_out, gm_err *err)
{
    if (!d || !c || !hidden || !out || k <= 0 || c->m != d->target)
        return gm_err_set(err, GM_E_ARG, "drafter round: bad arguments (the context must belong to the "
                          "drafter's target)");
    float *h = malloc((size_t)d->Hb * 2 * sizeof *h);
    if (!h) return gm_err_set(err, GM_E_NOMEM, "out of memory");
    float *cur = h, *nxt = h + d->Hb;
    memcpy(cur, hidden, (size_t)d->Hb * sizeof *cur);
    int rc = 0;
    for (int s = 0; s < k; s++) {
        int32_t t = gm_drafter_step(d, c, tok, cur, pos, n_kv, logits ? logits + (size_t)s * d->V : NULL, nxt,
                                    err);
        if (t < 0) { rc = -1; break; }
        out[s] = tok = t;
        if (hidden_out) memcpy(hidden_out + (size_t)s * d->Hb, nxt, (size_t)d->Hb * sizeof *nxt);
        float *sw = cur; cur = nxt; nxt = sw;
    }
    free(h);
    return rc;
}
