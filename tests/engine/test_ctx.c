/* test_ctx.c: the KV cache's bookkeeping: truncation (shallow, inside the
 * ring slack, and deep, where the sliding rings must be rebuilt), prefix
 * reuse by gm_ctx_sync, the context limit, and that chunking a prompt never
 * changes the logits.  Uses the E2B-like fixture (window 8, KV sharing) and,
 * for chunking, the 26B-like one (two query heads per KV group, MoE).
 * Both KV cache types: f16 (the default) and f32, and what the f16 cache
 * stores and gives back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "check.h"
#include "engine.h"
#include "model.h"

static const char *fixture(const char *name)
{
    static char p[4096];
    const char *f = getenv("FIXTURES");
    snprintf(p, sizeof p, "%s/gemma4-ref/%s", f ? f : "tests/fixtures", name);
    return p;
}

/* Logits of the last token after feeding toks[0..n) to a fresh context. */
static int fresh_logits(gm_model *m, const int32_t *toks, int n, float *out)
{
    gm_err err = {0};
    gm_ctx *c = gm_ctx_new(m, 0, &err);
    if (!c) return -1;
    int rc = gm_ctx_eval(c, toks, n, out, false, &err);
    gm_ctx_free(c);
    return rc;
}

/* T tokens as one prefill, in chunks of 37 and one at a time: the same
 * last logits, bit for bit. */
static void chunking_is_invisible(gm_model *m, const int32_t *toks, int T)
{
    gm_err err = {0};
    int V = gm_model_config(m)->vocab;
    float *d = malloc(sizeof *d * (size_t)V), *b = malloc(sizeof *b * (size_t)V);
    gm_ctx *s = gm_ctx_new(m, 0, &err);
    int ok = s != NULL && d != NULL && b != NULL;
    for (int t = 0; ok && t < T; t++) ok = gm_ctx_eval(s, toks + t, 1, d, false, &err) == 0;
    CHECK(ok, "decode %d tokens one at a time: %s", T, err.msg);
    ok = ok && fresh_logits(m, toks, T, b) == 0;
    CHECK(ok && memcmp(d, b, sizeof *d * (size_t)V) == 0, "a %d-token prefill equals %d single-token steps", T, T);
    ok = ok && gm_ctx_truncate(s, 0, &err) == 0;
    for (int t = 0; ok && t < T; t += 37) ok = gm_ctx_eval(s, toks + t, T - t < 37 ? T - t : 37, d, false, &err) == 0;
    CHECK(ok && memcmp(d, b, sizeof *d * (size_t)V) == 0, "chunks of 37 give the same logits as one prefill");
    gm_ctx_free(s);
    free(d);
    free(b);
}

/* The f16 cache against the f32 one on the same tokens: layer 0's K and V
 * (whose inputs do not depend on the cache) are stored as the f32 rows
 * rounded to half, and gm_kv_rows widens a run of them back exactly, for
 * the columns asked for. */
static void f16_storage(const int32_t *toks, int n)
{
    gm_err err = {0};
    gm_load_opts o16 = {.threads = 2, .kv_type = GM_KV_F16}, o32 = {.threads = 2, .kv_type = GM_KV_F32};
    gm_model *m16 = gm_model_load(fixture("e2b_like"), &o16, &err), *m32 = gm_model_load(fixture("e2b_like"), &o32, &err);
    gm_ctx *a = m16 ? gm_ctx_new(m16, 0, &err) : NULL, *b = m32 ? gm_ctx_new(m32, 0, &err) : NULL;
    int ok = a && b && gm_ctx_eval(a, toks, n, NULL, false, &err) == 0 && gm_ctx_eval(b, toks, n, NULL, false, &err) == 0;
    if (!CHECK(ok, "f16 and f32 caches run %d tokens: %s", n, err.msg)) goto out;
    const gm_kv_layer *h = &a->kv[0], *f = &b->kv[0];
    CHECK(h->owner && h->f16 && !f->f16 && gm_kv_row_bytes(h) * 2 == gm_kv_row_bytes(f),
          "layer 0 owns a cache: half rows of %zu bytes against %zu", gm_kv_row_bytes(h), gm_kv_row_bytes(f));
    long bad = 0, back = 0, rows = 0;
    float buf[4096];
    for (int p = gm_kv_ring_oldest(h, n); p < n; p++)
        for (int vals = 0; vals < 2; vals++) {
            const uint16_t *hr = gm_kv_raw(h, vals, p);
            const float *fr = gm_kv_raw(f, vals, p);
            for (int i = 0; i < h->row; i++) bad += hr[i] != gm_f32_to_f16(fr[i]);
            rows++;
        }
    /* a run of rows widened: columns [2, row - 1) of up to 5 positions */
    int u = gm_kv_ring_oldest(h, n), e = gm_kv_run(h, u, u + 5 < n ? u + 5 : n), cols = h->row - 3;
    int64_t ld = 0;
    const float *w = (e - u) * cols <= 4096 ? gm_kv_rows(h, true, u, e - u, 2, cols, buf, &ld) : NULL;
    for (int p = u; w && p < e; p++)
        for (int i = 0; i < cols; i++) back += w[(p - u) * ld + i] != gm_f16_to_f32(((const uint16_t *)gm_kv_raw(h, true, p))[2 + i]);
    CHECK(rows > 0 && bad == 0, "%ld K/V rows of layer 0: %ld halves differ from the f32 rows rounded to nearest even", rows, bad);
    CHECK(w && ld == cols && back == 0, "gm_kv_rows widens %d rows x %d columns exactly (%ld differ)", e - u, cols, back);
    const float *d = gm_kv_rows(f, false, u, e - u, 2, cols, buf, &ld);
    CHECK(d == (const float *)gm_kv_raw(f, false, u) + 2 && ld == f->row, "an f32 cache's rows are read in place");
out:
    gm_ctx_free(a);
    gm_ctx_free(b);
    gm_model_free(m16);
    gm_model_free(m32);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Phase timing: off by default (all totals 0 after an eval); on, an eval
 * of n tokens gives every phase the model has a positive total, phases it
 * lacks 0 (experts in a dense model, per-layer inputs without PLE), their
 * sum at most the call's wall time; turning it on again zeroes them; the
 * logits are the same bits as untimed. */
static void phase_timing(gm_model *m, const int32_t *toks, int n, bool moe)
{
    gm_err err = {0};
    int V = gm_model_config(m)->vocab;
    float *a = malloc(sizeof *a * (size_t)V), *b = malloc(sizeof *b * (size_t)V);
    gm_ctx *c = gm_ctx_new(m, 0, &err);
    if (!CHECK(c && a && b, "a context for phase timing%s%s", err.msg[0] ? ": " : "", err.msg)) { free(a); free(b); gm_ctx_free(c); return; }
    const char *names[GM_PHASES + 1] = {0};
    double s[GM_PHASES + 1];
    int k = gm_ctx_phase_times(c, names, s, GM_PHASES + 1), zero = 1;
    CHECK(gm_ctx_eval(c, toks, n, a, false, &err) == 0, "untimed eval: %s", err.msg);
    gm_ctx_phase_times(c, NULL, s, GM_PHASES);
    for (int i = 0; i < GM_PHASES; i++) zero &= s[i] == 0.0;
    CHECK(k == GM_PHASES && zero, "%d phases, all 0 when timing is off", k);
    gm_ctx_truncate(c, 0, &err);
    gm_ctx_time_phases(c, true);
    double t0 = wall();
    CHECK(gm_ctx_eval(c, toks, n, b, false, &err) == 0, "timed eval: %s", err.msg);
    double w = wall() - t0, sum = 0;
    gm_ctx_phase_times(c, NULL, s, GM_PHASES);
    int ok = 1;
    for (int i = 0; i < GM_PHASES; i++) {
        bool absent = (!moe && !strcmp(names[i], "experts")) || (moe && !strcmp(names[i], "per-layer"));
        ok &= names[i] && (absent ? s[i] == 0.0 : s[i] > 0.0);
        sum += s[i];
    }
    CHECK(ok && sum <= w, "%s: every phase the model has takes time (%s %.2g s ... %s %.2g s), their sum %.3g s "
          "within the call's %.3g s", moe ? "MoE" : "dense", names[0], s[0], names[GM_PHASES - 1],
          s[GM_PHASES - 1], sum, w);
    CHECK(memcmp(a, b, sizeof *a * (size_t)V) == 0, "timing leaves the logits' bits unchanged");
    gm_ctx_time_phases(c, true);
    gm_ctx_phase_times(c, NULL, s, GM_PHASES);
    zero = 1;
    for (int i = 0; i < GM_PHASES; i++) zero &= s[i] == 0.0;
    CHECK(zero, "turning timing on again zeroes the totals");
    gm_ctx_free(c);
    free(a); free(b);
}

int main(void)
{
    gm_err err = {0};
    gm_load_opts o = {.threads = 2};
    gm_model *m = gm_model_load(fixture("e2b_like"), &o, &err);
    if (!CHECK(m != NULL, "load the E2B-like fixture: %s", err.msg)) return check_exit();
    int V = gm_model_config(m)->vocab, N = 400;
    int32_t *toks = malloc(sizeof *toks * (size_t)N);
    float *a = malloc(sizeof *a * (size_t)V), *b = malloc(sizeof *b * (size_t)V);
    toks[0] = 2;
    for (int i = 1; i < N; i++) toks[i] = 3 + (int32_t)((i * 2654435761u) % (unsigned)(V - 3));

    gm_ctx *c = gm_ctx_new(m, 0, &err);
    CHECK(c && gm_ctx_pos(c) == 0, "new context is empty");
    CHECK(gm_ctx_eval(c, toks, 30, NULL, false, &err) == 0 && gm_ctx_pos(c) == 30, "prefill 30 tokens");
    /* shallow rollback, then continue: same as a fresh run */
    CHECK(gm_ctx_truncate(c, 25, &err) == 0 && gm_ctx_pos(c) == 25, "truncate 30 -> 25");
    gm_ctx_eval(c, toks + 25, 1, a, false, &err);
    fresh_logits(m, toks, 26, b);
    CHECK(memcmp(a, b, sizeof *a * (size_t)V) == 0, "after a shallow rollback the next logits equal a fresh run's");

    /* deep rollback: the rings no longer hold the window and are rebuilt */
    gm_ctx_truncate(c, 0, &err);
    CHECK(gm_ctx_eval(c, toks, N, NULL, false, &err) == 0, "prefill %d tokens (past the ring of window + batch)", N);
    CHECK(gm_ctx_truncate(c, 20, &err) == 0 && gm_ctx_pos(c) == 20, "deep truncate %d -> 20", N);
    gm_ctx_eval(c, toks + 20, 1, a, false, &err);
    fresh_logits(m, toks, 21, b);
    CHECK(memcmp(a, b, sizeof *a * (size_t)V) == 0, "after a deep rollback the next logits equal a fresh run's");

    /* sync: only the new suffix is prefilled */
    gm_ctx_truncate(c, 0, &err);
    int pre = gm_ctx_sync(c, toks, 50, a, &err);
    CHECK(pre == 50, "sync on an empty cache prefills all 50 tokens (got %d)", pre);
    pre = gm_ctx_sync(c, toks, 60, a, &err);
    CHECK(pre == 10, "sync with 10 more tokens prefills 10 (got %d)", pre);
    fresh_logits(m, toks, 60, b);
    CHECK(memcmp(a, b, sizeof *a * (size_t)V) == 0, "logits after incremental sync equal a fresh run's");
    int32_t *edit = malloc(sizeof *edit * 60);
    memcpy(edit, toks, sizeof *edit * 60);
    edit[40] = 7;
    pre = gm_ctx_sync(c, edit, 60, a, &err);
    CHECK(pre == 20, "an edit at token 40 re-prefills from there: 20 tokens (got %d)", pre);
    fresh_logits(m, edit, 60, b);
    CHECK(memcmp(a, b, sizeof *a * (size_t)V) == 0, "logits after an edit equal a fresh run's");
    pre = gm_ctx_sync(c, edit, 60, a, &err);
    CHECK(pre == 1, "syncing the same tokens re-runs only the last one (got %d)", pre);

    /* Blocks of tokens in prefill attention: one 300-token call, chunks of
     * 37, and one token at a time give the same bits (window 8 and the full
     * layers' growing spans cross every block boundary). */
    chunking_is_invisible(m, toks, 300);
    phase_timing(m, toks, 40, false);
    f16_storage(toks, 40);
    {   /* the same with an f32 cache */
        gm_load_opts o32 = {.threads = 2, .kv_type = GM_KV_F32};
        gm_model *m32 = gm_model_load(fixture("e2b_like"), &o32, &err);
        if (CHECK(m32 != NULL, "load the E2B-like fixture with an f32 cache: %s", err.msg)) chunking_is_invisible(m32, toks, 300);
        gm_model_free(m32);
    }
    {   /* the 26B-like fixture: two query heads per KV group, so a block's
         * tokens share kernel calls, and 512-token chunks (MoE) */
        gm_model *moe = gm_model_load(fixture("moe_26b_like"), &o, &err);
        if (CHECK(moe != NULL, "load the 26B-like fixture: %s", err.msg)) {
            int mv = gm_model_config(moe)->vocab;
            int32_t *mt = malloc(sizeof *mt * 600);
            for (int i = 0; mt && i < 600; i++) mt[i] = i ? 3 + (int32_t)((i * 2654435761u) % (unsigned)(mv - 3)) : 2;
            if (CHECK(mt != NULL, "token buffer")) chunking_is_invisible(moe, mt, 600);
            if (mt) phase_timing(moe, mt, 40, true);
            free(mt);
            gm_model_free(moe);
        }
    }

    /* capacity */
    gm_ctx *small = gm_ctx_new(m, 16, &err);
    CHECK(small && gm_ctx_capacity(small) == 16, "a 16-token context");
    memset(&err, 0, sizeof err);
    CHECK(gm_ctx_eval(small, toks, 17, NULL, false, &err) != 0 && err.code == GM_E_CONTEXT,
          "17 tokens into 16 fail with a context error: %s", err.msg);
    CHECK(gm_ctx_pos(small) == 0, "a refused eval leaves the cache unchanged");
    memset(&err, 0, sizeof err);
    CHECK(gm_ctx_eval(small, toks, 0, NULL, false, &err) != 0 && err.code == GM_E_ARG, "empty eval refused: %s",
          err.msg);
    gm_ctx_free(small);
    gm_ctx_free(c);
    free(edit);
    free(toks);
    free(a);
    free(b);
    gm_model_free(m);
    return check_exit();
}
