/* mtp_spec.c: speculative decoding (gemma4-mtp.md §6-8, §11).
 *
 * Each round: the next token y is sampled as in plain decoding; a draft
 * d1..dK continuing it comes from the MTP drafter, from prompt lookup (the
 * latest earlier occurrence of the text's last n-gram), or from a caller's
 * hook; one target pass over [y, d1..dK] gives K+1 rows of logits; then each
 * following token is drawn by the sampler from its row, exactly as plain
 * decoding would draw it, and kept while it equals the draft.  The first
 * token that differs ends the round and becomes the next round's y; the cache
 * is cut back to the tokens actually kept (gm_ctx_truncate).
 *
 * Why this is exact: every emitted token is one sampler draw from the
 * target's distribution given the tokens before it (the mask hook is asked
 * before each draw, on_token told after each, in plain decoding's order).
 * With a greedy drafter this is standard speculative rejection sampling
 * (accept d with probability p(d), else draw from p without d: the same as
 * "draw y ~ p and accept iff y = d").  With batch-invariant kernels the
 * tokens equal plain decoding's for the same seed, at any temperature.
 *
 * K and the draft source are chosen per round from running per-position
 * acceptance rates: the expected tokens per unit of target time,
 * (1 + sum_j a[j]) / (1 + (beta + gamma) K), where beta is the extra cost of
 * one more verified token and gamma the drafter's cost per step, both in
 * target decode steps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mtp.h"
#include "mtp_spec.h"

#define LOOKUP_MAX_NGRAM 8
#define LOOKUP_MIN_NGRAM 2
#define EMA 0.1

/* Which released size a target is shaped like (drives K and the priors). */
gm_spec_size gm_spec_size_of(const gm_config *c)
{
    if (c->moe) return GM_SIZE_26B;
    if (c->ple_dim > 0) return c->double_wide ? GM_SIZE_E2B : GM_SIZE_E4B;
    return GM_SIZE_31B;
}

/* Published per-position acceptance (gemma4-mtp.md §11): 26B from the DGX
 * Spark n=4 run, 31B from the 2x3090 n=4 run.  E2B/E4B have no published
 * per-position figures; theirs are estimates consistent with the reported
 * 1.30x (E2B, K=2) and 1.78x (E4B, K=4) speedups.  Deeper positions decay
 * geometrically. */
static const double prior_acc[GM_SIZE_COUNT][4] = {
    {0.70, 0.45, 0.28, 0.17},   /* E2B (estimate) */
    {0.78, 0.56, 0.40, 0.29},   /* E4B (estimate) */
    {0.84, 0.60, 0.39, 0.27},   /* 26B-A4B */
    {0.92, 0.78, 0.67, 0.57},   /* 31B */
};
static const int default_k[GM_SIZE_COUNT] = {2, 3, 2, 4};
static const char *const size_names[GM_SIZE_COUNT] = {"E2B", "E4B", "26B-A4B", "31B"};

/* Names and default K per size (gemma4-mtp.md §11). */
const char *gm_spec_size_name(gm_spec_size s) { return size_names[s]; }
int gm_spec_default_k(gm_spec_size s) { return default_k[s]; }

/* Prior per-position acceptance, extended geometrically past position 4. */
void gm_spec_prior(gm_spec_size s, double *a, int n)
{
    for (int j = 0; j < n; j++)
        a[j] = j < 4 ? prior_acc[s][j] : a[j - 1] * (prior_acc[s][3] / prior_acc[s][2]);
}

/* K with the most expected tokens per unit of target time (mtp_spec.h). */
int gm_spec_best_k(const double *a, int kmax, double cost_per_draft, bool allow_zero)
{
    double best = allow_zero ? 1.0 : -1.0, tok = 1.0;
    int bk = allow_zero ? 0 : 1;
    for (int k = 1; k <= kmax; k++) {
        tok += a[k - 1];
        double rate = tok / (1.0 + cost_per_draft * k);
        if (rate > best + 1e-12) { best = rate; bk = k; }
    }
    return bk;
}

/* Prompt lookup (mtp_spec.h): latest, longest suffix n-gram match. */
int gm_spec_lookup(const int32_t *h, int n, int k, int32_t *out)
{
    int best_len = 0, best_at = -1;
    if (n < LOOKUP_MIN_NGRAM + 1 || k <= 0) return 0;
    int32_t last = h[n - 1];
    for (int i = n - 2; i >= LOOKUP_MIN_NGRAM - 1; i--) {
        if (h[i] != last) continue;
        int len = 1;
        while (len < LOOKUP_MAX_NGRAM && i - len >= 0 && h[i - len] == h[n - 1 - len]) len++;
        if (len > best_len) { best_len = len; best_at = i; }
        if (best_len == LOOKUP_MAX_NGRAM) break;
    }
    if (best_len < LOOKUP_MIN_NGRAM) return 0;
    int m = 0;
    for (int i = best_at + 1; i < n && m < k; i++) out[m++] = h[i];
    return m;
}

/* ---- the loop ------------------------------------------------------------------ */

typedef struct {
    gm_ctx *c;
    const gm_gen_params *p;
    const gm_spec_params *sp;
    gm_spec_stats *st;
    gm_sampler *s;
    float *rows;               /* (kmax+1) x V logits */
    float *carry, *hrows;      /* Hb; (kmax+1) x Hb */
    uint32_t *allow;
    int kmax, kdef;
    double a_mtp[GM_SPEC_KMAX], a_look[GM_SPEC_KMAX];
    double beta, gamma;
    int idle;                  /* rounds since the last draft (exploration) */
} spec;

/* Is t a stop token (the caller's list, else generation_config's)? */
static bool is_stop(const gm_gen_params *p, const gm_genconfig *g, int32_t t)
{
    const int32_t *s = p->stop ? p->stop : g->eos;
    int n = p->stop ? p->n_stop : g->n_eos;
    for (int i = 0; i < n; i++) if (s[i] == t) return true;
    return false;
}

/* Ask the mask hook and sample from logits; -2 when the hook aborts. */
static int32_t draw(spec *S, float *logits, gm_err *err)
{
    const uint32_t *use = NULL;
    int V = S->c->m->cfg.vocab;
    if (S->p->mask) {
        memset(S->allow, 0xff, ((size_t)V + 31) / 32 * sizeof *S->allow);
        int mr = S->p->mask(S->p->ud, S->allow, V);
        if (mr < 0) { gm_err_set(err, GM_E_ARG, "generation aborted by the token mask"); return -2; }
        if (mr > 0) use = S->allow;
    }
    int32_t t = gm_sampler_sample(S->s, logits, use);
    if (t < 0) { gm_err_set(err, GM_E_ARG, "the token mask allows no token"); return -2; }
    return t;
}

/* Expected tokens per unit of target time for the best K (in [0, kmax])
 * of a source with acceptance a and cost per draft; *k gets that K. */
static double rate_of(const double *a, int kmax, double cost, int *k)
{
    *k = gm_spec_best_k(a, kmax, cost, true);
    double tok = 1.0;
    for (int j = 0; j < *k; j++) tok += a[j];
    return tok / (1.0 + cost * *k);
}

/* Choose the source and K for this round and draft up to kcap tokens after
 * y (history: c->tokens[0..pos) + y).  Sets *src to 1 (drafter), 2
 * (lookup), 3 (hook) or 0 (no draft this round). */
static int make_draft(spec *S, int32_t y, int kcap, int32_t *out, int *src, gm_err *err)
{
    gm_ctx *c = S->c;
    const gm_spec_params *sp = S->sp;
    c->tokens[c->pos] = y;     /* scratch slot: the next eval writes it anyway */
    const int32_t *h = c->tokens;
    int n = c->pos + 1, fixed = sp->fixed_k || sp->draft_hook;
    int kmax = kcap < S->kmax ? kcap : S->kmax;
    *src = 0;
    if (kmax <= 0) return 0;
    if (sp->draft_hook) {
        *src = 3;
        int m = sp->draft_hook(sp->draft_ud, h, n, kmax, out);
        return m < 0 ? 0 : m > kmax ? kmax : m;
    }
    int32_t look[GM_SPEC_KMAX];
    int nl = sp->mode == GM_SPEC_MTP ? 0 : gm_spec_lookup(h, n, kmax, look);
    bool mtp = sp->draft && sp->mode != GM_SPEC_LOOKUP;
    int kl = 0, km = 0;
    double rl = nl > 0 ? rate_of(S->a_look, nl, S->beta, &kl) : 0.0;
    double rm = mtp ? rate_of(S->a_mtp, kmax, S->beta + S->gamma, &km) : 0.0;
    if (fixed) { kl = nl; km = kmax; }
    if (nl > 0 && (!mtp || rl >= rm) && (kl > 0 || ++S->idle >= 16)) {
        S->idle = 0;
        *src = 2;
        if (kl <= 0) kl = 1;
        if (kl > nl) kl = nl;
        for (int j = 0; j < kl; j++) out[j] = look[j];
        return kl;
    }
    if (!mtp) return 0;
    if (km == 0) {
        if (++S->idle < 16) return 0;    /* nothing pays; probe now and then to keep measuring */
        km = 1;
    }
    S->idle = 0;
    *src = 1;
    gm_drafter *d = sp->draft;
    double t0 = gm_now_s();
    float *cur = S->carry, *nxt = S->hrows;     /* hrows is free until the verify pass */
    int m = 0;
    int32_t tok = y;
    for (; m < km; m++) {
        int32_t t = gm_drafter_step(d, c, tok, cur, c->pos, c->pos, NULL, nxt, err);
        if (t < 0) return -1;
        out[m] = tok = t;
        float *sw = cur; cur = nxt; nxt = sw;
        if (is_stop(S->p, &c->m->gen, t)) { m++; break; }   /* nothing useful follows a stop */
    }
    S->st->draft_s += gm_now_s() - t0;
    return m;
}

/* Update the running acceptance of the source that drafted m tokens, of which n were kept. */
static void learn(spec *S, int src, int m, int n)
{
    double *a = src == 1 ? S->a_mtp : src == 2 ? S->a_look : NULL;
    for (int j = 0; j < m; j++) {
        S->st->drafted[j]++;
        if (j < n) S->st->accepted[j]++;
        if (a) a[j] = a[j] * (1 - EMA) + (j < n ? EMA : 0.0);
    }
    if (src == 1) S->st->mtp_rounds++;
    else if (src == 2) S->st->lookup_rounds++;
    else if (src == 3) S->st->hook_rounds++;
    S->st->rounds++;
}

/* The main loop; see gm_generate_spec in engine.h.  rc 0/-1. */
static int run(spec *S, const int32_t *prompt, int n, gm_gen_result *res, gm_err *err)
{
    gm_ctx *c = S->c;
    gm_model *m = c->m;
    const gm_gen_params *p = S->p;
    int V = m->cfg.vocab, Hb = m->cfg.hidden;
    double t0 = gm_now_s();
    int pre = gm_ctx_sync(c, prompt, n, S->rows, err);
    res->prefill_s = gm_now_s() - t0;
    if (pre < 0) {
        res->reason = err && err->code == GM_E_INTERRUPTED ? GM_STOP_INTERRUPT :
                      err && err->code == GM_E_CONTEXT ? GM_STOP_CONTEXT : GM_STOP_ERROR;
        return res->reason == GM_STOP_INTERRUPT ? 0 : -1;
    }
    res->n_prompt = pre;
    int nr;
    const float *hid = gm_ctx_hidden(c, &nr);
    memcpy(S->carry, hid + (size_t)(nr - 1) * Hb, (size_t)Hb * sizeof(float));
    gm_detok dt;
    gm_detok_init(&dt);
    char text[1024];
    int32_t draft[GM_SPEC_KMAX], y = -1;
    bool pending = false;
    float *cur = S->rows;
    t0 = gm_now_s();
    for (;;) {
        if (!pending) {
            if (p->interrupt && *p->interrupt) { res->reason = GM_STOP_INTERRUPT; break; }
            if (p->max_tokens > 0 && res->n_generated >= p->max_tokens) { res->reason = GM_STOP_LENGTH; break; }
            if ((y = draw(S, cur, err)) == -2) return -1;
            res->n_generated++;
        }
        pending = false;
        bool stop = is_stop(p, &m->gen, y);
        size_t len = stop ? 0 : gm_detok_push(m->tok, &dt, y, text, sizeof text);
        if (c->pos >= c->n_ctx) { res->reason = GM_STOP_CONTEXT; break; }
        int k = stop ? 0 : S->kmax, src = 0;
        if (k > c->n_ctx - c->pos - 1) k = c->n_ctx - c->pos - 1;
        if (p->max_tokens > 0 && k > p->max_tokens - res->n_generated) k = p->max_tokens - res->n_generated;
        int nd = k > 0 ? make_draft(S, y, k, draft, &src, err) : 0;
        if (nd < 0) return -1;
        int32_t batch[GM_SPEC_KMAX + 1];
        batch[0] = y;
        memcpy(batch + 1, draft, (size_t)nd * sizeof *draft);
        int base = c->pos;
        double tv = gm_now_s();
        if (gm_ctx_eval(c, batch, nd + 1, stop ? NULL : S->rows, true, err)) {
            res->reason = err && err->code == GM_E_INTERRUPTED ? GM_STOP_INTERRUPT : GM_STOP_ERROR;
            return res->reason == GM_STOP_INTERRUPT ? 0 : -1;
        }
        S->st->verify_s += gm_now_s() - tv;
        S->st->target_passes++;
        if (nd > 0) memcpy(S->hrows, gm_ctx_hidden(c, NULL), (size_t)(nd + 1) * Hb * sizeof(float));
        else memcpy(S->carry, gm_ctx_hidden(c, NULL), (size_t)Hb * sizeof(float));
        int cb = p->on_token ? p->on_token(p->ud, y, text, len) : 0;
        if (stop) { res->reason = GM_STOP_EOS; res->stop_token = y; break; }
        if (cb) { res->reason = GM_STOP_CALLBACK; break; }
        /* walk the draft: each next token is the sampler's own draw from its row */
        int kept = 0;
        bool done = false;
        for (int j = 1; j <= nd; j++) {
            if (p->interrupt && *p->interrupt) { res->reason = GM_STOP_INTERRUPT; done = true; break; }
            if (p->max_tokens > 0 && res->n_generated >= p->max_tokens) { res->reason = GM_STOP_LENGTH; done = true; break; }
            int32_t t = draw(S, S->rows + (size_t)(j - 1) * V, err);
            if (t == -2) return -1;
            res->n_generated++;
            if (t != draft[j - 1]) {                  /* rejected: t is the next round's y */
                memcpy(S->carry, S->hrows + (size_t)(j - 1) * Hb, (size_t)Hb * sizeof(float));
                y = t;
                pending = true;
                break;
            }
            kept = j;
            bool st = is_stop(p, &m->gen, t);
            size_t l2 = st ? 0 : gm_detok_push(m->tok, &dt, t, text, sizeof text);
            int cb2 = p->on_token ? p->on_token(p->ud, t, text, l2) : 0;
            if (st) { res->reason = GM_STOP_EOS; res->stop_token = t; done = true; break; }
            if (cb2) { res->reason = GM_STOP_CALLBACK; done = true; break; }
        }
        if (nd > 0) learn(S, src, nd, kept);
        if (gm_ctx_truncate(c, base + 1 + kept, err)) return -1;
        if (done) break;
        if (!pending && nd > 0) {                     /* all kept: the last row drives the next draw */
            memcpy(S->carry, S->hrows + (size_t)nd * Hb, (size_t)Hb * sizeof(float));
            memmove(S->rows, S->rows + (size_t)nd * V, (size_t)V * sizeof(float));
        }
        cur = S->rows;
    }
    if (p->on_token) {
        size_t len = gm_detok_flush(&dt, text, sizeof text);
        if (len) p->on_token(p->ud, -1, text, len);
    }
    res->decode_s = gm_now_s() - t0;
    return 0;
}

/* Set up the round state and run the loop (see engine.h). */
int gm_generate_spec(gm_ctx *c, const int32_t *prompt, int n, const gm_gen_params *p,
                     const gm_spec_params *sp, gm_gen_result *res, gm_spec_stats *stats, gm_err *err)
{
    gm_spec_params none = {.mode = GM_SPEC_AUTO};
    gm_spec_stats lst;
    gm_gen_result lres;
    if (!sp) sp = &none;
    if (!stats) stats = &lst;
    if (!res) res = &lres;
    memset(stats, 0, sizeof *stats);
    if (sp->mode == GM_SPEC_OFF) return gm_generate(c, prompt, n, p, res, err);
    memset(res, 0, sizeof *res);
    res->stop_token = -1;
    res->reason = GM_STOP_ERROR;
    if (n <= 0) return gm_err_set(err, GM_E_ARG, "empty prompt: nothing to generate from");
    if (sp->mode == GM_SPEC_MTP && !sp->draft && !sp->draft_hook)
        return gm_err_set(err, GM_E_ARG, "speculation mode mtp needs a drafter (give --draft DIR, or use "
                          "--spec lookup)");
    if (sp->draft && sp->draft->target != c->m)
        return gm_err_set(err, GM_E_ARG, "the drafter was loaded for another model than this context's");
    if (sp->k < 0 || sp->k > GM_SPEC_KMAX)
        return gm_err_set(err, GM_E_ARG, "draft length %d: expected 0 (automatic) to %d", sp->k, GM_SPEC_KMAX);
    gm_model *m = c->m;
    int V = m->cfg.vocab, Hb = m->cfg.hidden;
    gm_spec_size size = gm_spec_size_of(&m->cfg);
    spec S = {.c = c, .p = p, .sp = sp, .st = stats, .beta = GM_SPEC_VERIFY_COST};
    S.kdef = sp->k ? sp->k : default_k[size];
    /* adaptive: K moves between 0 and twice the default (at most 8, or the default if larger) */
    S.kmax = 2 * S.kdef > 8 ? 8 : 2 * S.kdef;
    if (sp->fixed_k || sp->draft_hook || S.kmax < S.kdef) S.kmax = S.kdef;
    gm_spec_prior(size, S.a_mtp, GM_SPEC_KMAX);
    for (int j = 0; j < GM_SPEC_KMAX; j++) S.a_look[j] = 0.5 * pow(0.75, j);
    S.gamma = sp->draft ? gm_drafter_cost_ratio(sp->draft) : 0.0;
    S.rows = malloc((size_t)(S.kmax + 1) * V * sizeof *S.rows);
    S.hrows = malloc((size_t)(S.kmax + 1) * Hb * sizeof *S.hrows);
    S.carry = malloc((size_t)Hb * sizeof *S.carry);
    S.allow = p->mask ? malloc(((size_t)V + 31) / 32 * sizeof *S.allow) : NULL;
    S.s = gm_sampler_new(&p->sampling, V, err);
    int rc = -1;
    if (S.s && S.rows && S.hrows && S.carry && (!p->mask || S.allow)) {
        gm_ctx_set_interrupt(c, p->interrupt);
        rc = run(&S, prompt, n, res, err);
        gm_ctx_set_interrupt(c, NULL);
    } else if (S.s) gm_err_set(err, GM_E_NOMEM, "out of memory for %d draft rows", S.kmax + 1);
    gm_sampler_free(S.s);
    free(S.rows); free(S.hrows); free(S.carry); free(S.allow);
    return rc;
}
