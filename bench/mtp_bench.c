/* mtp_bench.c: what speculative decoding costs on this machine (built and
 * run by bench/mtp.sh).
 *
 * With random weights acceptance means nothing, so this measures what the
 * engine controls: the time of one target pass over K+1 tokens relative to
 * one decode step (K = 1..8), and the drafter's time per step relative to
 * the target's decode step.  Combined with per-position acceptance rates
 * (the published ones, gemma4-mtp.md §11) and each size's drafter/target
 * cost ratio (passed in from the real geometries), it prints the projected
 * speedup per model size: tokens per round / (verify cost + drafting cost).
 *
 * usage: mtp_bench MODEL DRAFTER THREADS REPS [SIZE:COST_RATIO ...] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mtp.h"
#include "mtp_spec.h"

#define KMAX 8
#define PREFIX 32

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Fastest of reps target passes (the machine may be shared: the minimum is
 * the least disturbed measurement) over n tokens at the end of the prefix. */
static double time_pass(gm_ctx *c, const int32_t *toks, int n, float *logits, int reps)
{
    double t[64];
    gm_err err = {0};
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        if (gm_ctx_eval(c, toks, n, logits, n > 1, &err)) { fprintf(stderr, "mtp_bench: %s\n", err.msg); exit(1); }
        t[r] = now_s() - t0;
        gm_ctx_truncate(c, PREFIX, &err);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    return t[0];
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: mtp_bench MODEL DRAFTER THREADS REPS [SIZE:COST_RATIO ...]\n");
        return 2;
    }
    int threads = atoi(argv[3]), reps = atoi(argv[4]);
    if (reps < 1) reps = 1;
    if (reps > 64) reps = 64;
    gm_err err = {0};
    gm_load_opts lo = {.threads = threads};
    gm_model *m = gm_model_load(argv[1], &lo, &err);
    if (!m) { fprintf(stderr, "mtp_bench: %s\n", err.msg); return 1; }
    gm_drafter *d = gm_drafter_load(argv[2], m, &err);
    gm_ctx *c = d ? gm_ctx_new(m, 4096, &err) : NULL;
    if (!c) { fprintf(stderr, "mtp_bench: %s\n", err.msg); return 1; }
    int V = m->cfg.vocab;
    int32_t toks[PREFIX + KMAX + 1];
    uint64_t x = 12345;
    for (int i = 0; i < PREFIX + KMAX + 1; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        toks[i] = 3 + (int32_t)((x >> 33) % (uint64_t)(V - 3));
    }
    float *logits = malloc((size_t)(KMAX + 1) * V * sizeof *logits);
    if (!logits || gm_ctx_eval(c, toks, PREFIX, logits, false, &err)) { fprintf(stderr, "mtp_bench: %s\n", err.msg); return 1; }
    /* warm up, then the decode step and the verify passes */
    time_pass(c, toks + PREFIX, 1, logits, 1);
    double t1 = time_pass(c, toks + PREFIX, 1, logits, reps), r[KMAX + 1];
    printf("model %s: %s kernels, %d threads, decode step %.2f ms (fastest of %d)\n", argv[1], gm_kernel_isa(),
           gm_pool_size(m->pool), t1 * 1e3, reps);
    printf("verify pass over K+1 tokens, relative to one decode step:\n");
    for (int k = 1; k <= KMAX; k++) {
        r[k] = time_pass(c, toks + PREFIX, k + 1, logits, reps) / t1;
        printf("  K=%d  %.2fx%s\n", k, r[k], k == 4 ? (r[k] <= 1.3 ? "  (target <= 1.3x: met)" : "  (target <= 1.3x: NOT met)") : "");
    }
    /* drafter step */
    int nr;
    const float *h = gm_ctx_hidden(c, &nr);
    float *hout = malloc((size_t)m->cfg.hidden * sizeof *hout);
    double td[64];
    for (int i = 0; i < reps; i++) {
        double t0 = now_s();
        if (gm_drafter_step(d, c, toks[PREFIX - 1], h, PREFIX - 1, PREFIX, NULL, hout, &err) < 0) {
            fprintf(stderr, "mtp_bench: %s\n", err.msg);
            return 1;
        }
        td[i] = now_s() - t0;
    }
    qsort(td, (size_t)reps, sizeof *td, cmp_d);
    double g = td[0] / t1;
    printf("drafter step %.3f ms = %.3f of a target decode step (weight bytes: %.3f)\n", td[0] * 1e3, g,
           gm_drafter_cost_ratio(d));
    /* projections: best K per size from the published acceptance */
    double ovh = gm_drafter_cost_ratio(d) > 0 ? g / gm_drafter_cost_ratio(d) : 1.0;
    if (ovh < 1) ovh = 1;
    printf("projected speedup (acceptance: gemma4-mtp.md §11; verify cost measured above;\n"
           "drafter cost: the real drafter/target weight ratio of each size, then that ratio\n"
           "times the drafter's measured time/weight overhead here, %.1fx):\n", ovh);
    for (int i = 5; i < argc; i++) {
        char name[32];
        double ratio;
        if (sscanf(argv[i], "%31[^:]:%lf", name, &ratio) != 2) continue;
        gm_spec_size s = GM_SIZE_E2B;
        for (int z = 0; z < GM_SIZE_COUNT; z++) if (!strcmp(name, gm_spec_size_name((gm_spec_size)z))) s = (gm_spec_size)z;
        double a[KMAX];
        gm_spec_prior(s, a, KMAX);
        int dk = gm_spec_default_k(s);
        /* twice: drafter cost as weight bytes say, and scaled by the overhead this machine showed */
        for (int pass = 0; pass < 2; pass++) {
            double cost = pass ? ratio * ovh : ratio, best = 0, tok = 1, at_def = 0;
            int bk = 0;
            for (int k = 1; k <= KMAX; k++) {
                tok += a[k - 1];
                double sp = tok / (r[k] + k * cost);
                if (sp > best) { best = sp; bk = k; }
                if (k == dk) at_def = sp;
            }
            double per_pass = 1;
            for (int k = 0; k < bk; k++) per_pass += a[k];
            printf("  %-8s drafter/target %.4f%s default K=%d: %.2fx   best K=%d: %.2fx  (%.2f tokens per pass)\n",
                   pass ? "" : name, cost, pass ? " (measured overhead)" : "", dk, at_def, bk, best, per_pass);
        }
    }
    free(hout);
    free(logits);
    gm_ctx_free(c);
    gm_drafter_free(d);
    gm_model_free(m);
    return 0;
}
