/* spec_util.h: shared pieces of the speculative-decoding tests.
 *
 * A token collector for on_token, an "oracle" draft hook that replays a
 * known continuation with chosen positions corrupted (so every acceptance
 * length, and rejection at every position, can be forced), and a comparison
 * of two contexts' KV caches over the positions both still hold. */
#ifndef GEMMASH_TEST_SPEC_UTIL_H
#define GEMMASH_TEST_SPEC_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

typedef struct {
    int32_t toks[4096];
    int     n;
    int     stop_after;    /* > 0: return 1 once this many tokens came */
} collect;

/* on_token: keep real tokens (id -1 is the final flush). */
static inline int collect_tok(void *ud, int32_t id, const char *text, size_t len)
{
    (void)text; (void)len;
    collect *c = ud;
    if (id >= 0 && c->n < 4096) c->toks[c->n++] = id;
    return c->stop_after > 0 && c->n >= c->stop_after;
}

typedef struct {
    const int32_t *seq;   /* the full expected sequence: prompt + continuation */
    int  n_seq;
    int  period, phase;   /* corrupt draft tokens at absolute index i with i % period == phase */
    int  vocab;
    long calls;
} oracle;

/* Draft hook: the expected continuation, with chosen positions replaced by
 * a different token (period 1: every draft is wrong). */
static inline int oracle_draft(void *ud, const int32_t *h, int n, int k, int32_t *out)
{
    oracle *o = ud;
    o->calls++;
    for (int j = 0; j < k; j++) {
        int i = n + j;
        int32_t t = i < o->n_seq ? o->seq[i] : 3;
        if (o->period > 0 && i % o->period == o->phase) t = (t + 1) % o->vocab;
        out[j] = t;
    }
    (void)h;
    return k;
}

/* Do two contexts hold the same tokens and bit-identical K/V in every
 * owner layer, over every position both still hold? */
static inline int same_cache(const gm_ctx *a, const gm_ctx *b, char *why, size_t cap)
{
    if (a->pos != b->pos) { snprintf(why, cap, "lengths %d vs %d", a->pos, b->pos); return 0; }
    if (memcmp(a->tokens, b->tokens, (size_t)a->pos * sizeof *a->tokens)) {
        snprintf(why, cap, "token histories differ");
        return 0;
    }
    const gm_config *cfg = &a->m->cfg;
    for (int l = 0; l < cfg->n_layers; l++) {
        const gm_kv_layer *x = &a->kv[l], *y = &b->kv[l];
        if (!x->owner) continue;
        int lo = gm_kv_ring_oldest(x, a->pos), lo2 = gm_kv_ring_oldest(y, b->pos);
        if (lo2 > lo) lo = lo2;
        for (int p = lo; p < a->pos; p++)
            if (memcmp(gm_kv_raw(x, false, p), gm_kv_raw(y, false, p), gm_kv_row_bytes(x)) ||
                memcmp(gm_kv_raw(x, true, p), gm_kv_raw(y, true, p), gm_kv_row_bytes(x))) {
                snprintf(why, cap, "layer %d position %d differs", l, p);
                return 0;
            }
    }
    snprintf(why, cap, "%d positions", a->pos);
    return 1;
}

static inline int read_tokens_file(const char *file, int32_t *out, int cap)
{
    FILE *f = fopen(file, "r");
    if (!f) return -1;
    int n = 0;
    long v;
    while (n < cap && fscanf(f, "%ld,", &v) == 1) out[n++] = (int32_t)v;
    fclose(f);
    return n;
}
#endif
