/* test_sampler.c: the sampler draws from exactly the distribution it reports.
 *
 * Small hand-computed distributions for each filter, selection checked
 * against a full sort on bigger vocabularies, a chi-square test of the
 * empirical frequencies, masks, odd logits and determinism by seed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine.h"
#include "check.h"

/* A sampler or a failed check. */
static gm_sampler *mk(float t, int k, float p, float minp, uint64_t seed, int vocab)
{
    gm_sampler_params sp = { .temperature = t, .top_k = k, .top_p = p, .min_p = minp, .seed = seed };
    gm_err err = {0};
    gm_sampler *s = gm_sampler_new(&sp, vocab, &err);
    if (!s) printf("# gm_sampler_new: %s\n", err.msg);
    return s;
}

/* |a-b| <= tol for every entry. */
static bool close_all(const float *a, const double *b, int n, double tol)
{
    for (int i = 0; i < n; i++)
        if (fabs((double)a[i] - b[i]) > tol) {
            printf("# entry %d: got %.9f want %.9f\n", i, (double)a[i], b[i]);
            return false;
        }
    return true;
}

/* Softmax of x[0..n) / t restricted to keep[] (others 0). */
static void softmax_keep(const float *x, const bool *keep, int n, double t, double *out)
{
    double mx = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++) if (keep[i] && x[i] > mx) mx = x[i];
    for (int i = 0; i < n; i++) { out[i] = keep[i] ? exp((x[i] - mx) / t) : 0.0; sum += out[i]; }
    for (int i = 0; i < n; i++) out[i] /= sum;
}

/* Each filter on a four-token distribution with known probabilities. */
static void test_filters_small(void)
{
    /* probabilities 0.5, 0.3, 0.15, 0.05 given as logits log(p), shuffled ids */
    const int V = 4;
    float lg[4] = { logf(0.15f), logf(0.5f), logf(0.05f), logf(0.3f) };
    float pr[4];
    gm_sampler *s;

    s = mk(1.0f, 0, 1.0f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    double plain[4] = { 0.15, 0.5, 0.05, 0.3 };
    CHECK(close_all(pr, plain, V, 1e-6), "no filter: probs equal the softmax");
    gm_sampler_free(s);

    s = mk(1.0f, 2, 1.0f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    double k2[4] = { 0.0, 0.5 / 0.8, 0.0, 0.3 / 0.8 };
    CHECK(close_all(pr, k2, V, 1e-6), "top_k=2 keeps the two largest, renormalized");
    gm_sampler_free(s);

    s = mk(1.0f, 0, 0.7f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    CHECK(close_all(pr, k2, V, 1e-6), "top_p=0.7 keeps 0.5+0.3 (mass before 0.15 is 0.8 >= 0.7)");
    gm_sampler_free(s);

    s = mk(1.0f, 0, 0.9f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    double p9[4] = { 0.15 / 0.95, 0.5 / 0.95, 0.0, 0.3 / 0.95 };
    CHECK(close_all(pr, p9, V, 1e-6), "top_p=0.9 keeps three tokens");
    gm_sampler_free(s);

    s = mk(1.0f, 0, 0.2f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    double p2[4] = { 0, 1, 0, 0 };
    CHECK(close_all(pr, p2, V, 1e-6), "top_p=0.2 keeps only the most likely token");
    gm_sampler_free(s);

    s = mk(1.0f, 0, 1.0f, 0.2f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    CHECK(close_all(pr, p9, V, 1e-6), "min_p=0.2 drops p < 0.1 (keeps 0.5, 0.3, 0.15)");
    gm_sampler_free(s);

    s = mk(1.0f, 0, 1.0f, 0.7f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    CHECK(close_all(pr, p2, V, 1e-6), "min_p=0.7 keeps only tokens with p >= 0.35");
    gm_sampler_free(s);

    /* temperature 2 then top_k 3 then top_p 0.8: softmax(log p / 2) over the
     * top three = sqrt(p) normalized: 0.7071, 0.5477, 0.3873 -> /1.6421 =
     * 0.4306, 0.3335, 0.2359; mass before the third is 0.764 < 0.8: keep all. */
    s = mk(2.0f, 3, 0.8f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    double sq = sqrt(0.5) + sqrt(0.3) + sqrt(0.15);
    double t2[4] = { sqrt(0.15) / sq, sqrt(0.5) / sq, 0.0, sqrt(0.3) / sq };
    CHECK(close_all(pr, t2, V, 1e-6), "temperature 2 + top_k 3 + top_p 0.8 (hand-computed)");
    gm_sampler_free(s);
    /* same with top_p 0.7: the mass before the third (0.764) reaches 0.7 */
    s = mk(2.0f, 3, 0.7f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    double q = sqrt(0.5) + sqrt(0.3);
    double t3[4] = { 0.0, sqrt(0.5) / q, 0.0, sqrt(0.3) / q };
    CHECK(close_all(pr, t3, V, 1e-6), "temperature 2 + top_k 3 + top_p 0.7 (hand-computed)");
    gm_sampler_free(s);
    /* temperature 0.5 sharpens: p^2 normalized */
    s = mk(0.5f, 0, 1.0f, 0.0f, 1, V);
    gm_sampler_probs(s, lg, NULL, pr);
    double z = 0.25 + 0.09 + 0.0225 + 0.0025;
    double t5[4] = { 0.0225 / z, 0.25 / z, 0.0025 / z, 0.09 / z };
    CHECK(close_all(pr, t5, V, 1e-6), "temperature 0.5 squares the probabilities");
    gm_sampler_free(s);
}

/* Deterministic pseudo-random logits for the bigger tests. */
static void fill_logits(float *x, int n, uint32_t seed)
{
    uint32_t st = seed * 2654435761u + 1;
    for (int i = 0; i < n; i++) {
        st = st * 1664525u + 1013904223u;
        x[i] = (float)((st >> 8) % 20000) / 1000.0f - 10.0f;   /* many exact ties */
    }
}

typedef struct { float x; int id; } pair;
/* qsort comparator for the reference full sort: larger logit, then lower id. */
static int cmp_pair(const void *a, const void *b)
{
    const pair *p = a, *q = b;
    if (p->x != q->x) return p->x > q->x ? -1 : 1;
    return p->id - q->id;
}

/* top-k / top-p on a big vocabulary agree with a full sort. */
static void test_selection_vs_sort(void)
{
    const int V = 50000;
    float *x = malloc(V * sizeof *x), *pr = malloc(V * sizeof *pr);
    double *want = malloc(V * sizeof *want);
    bool *keep = malloc(V * sizeof *keep);
    pair *pp = malloc(V * sizeof *pp);
    if (!x || !pr || !want || !keep || !pp) { CHECK(0, "allocation"); return; }
    const struct { int k; float p; } cfg[] = { { 64, 1.0f }, { 1000, 1.0f }, { 0, 0.95f }, { 0, 0.3f },
                                                { 64, 0.95f }, { 0, 0.9999f }, { 5000, 0.9f } };
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
        fill_logits(x, V, (uint32_t)c + 7);
        for (int i = 0; i < V; i++) { pp[i].x = x[i]; pp[i].id = i; }
        qsort(pp, V, sizeof *pp, cmp_pair);
        int nk = cfg[c].k > 0 ? cfg[c].k : V;
        memset(keep, 0, V * sizeof *keep);
        for (int i = 0; i < nk; i++) keep[pp[i].id] = true;
        if (cfg[c].p < 1.0f) {
            softmax_keep(x, keep, V, 1.0, want);
            double cum = 0.0;
            for (int i = 0; i < nk; i++) {
                if (cum >= (double)cfg[c].p) keep[pp[i].id] = false;
                cum += want[pp[i].id];
            }
        }
        softmax_keep(x, keep, V, 1.0, want);
        gm_sampler *s = mk(1.0f, cfg[c].k, cfg[c].p, 0.0f, 3, V);
        gm_sampler_probs(s, x, NULL, pr);
        int nz = 0;
        for (int i = 0; i < V; i++) nz += pr[i] > 0;
        CHECK(close_all(pr, want, V, 1e-6), "vs full sort: top_k=%d top_p=%.4f (%d tokens kept)",
              cfg[c].k, (double)cfg[c].p, nz);
        gm_sampler_free(s);
    }
    free(x); free(pr); free(want); free(keep); free(pp);
}

/* Empirical frequencies match gm_sampler_probs (chi-square). */
static void test_chi_square(void)
{
    const int V = 10, N = 40000;
    float lg[10] = { 0.3f, 1.2f, -0.5f, 2.0f, 0.0f, 1.9f, -3.0f, 0.7f, 1.0f, -1.0f };
    float pr[10];
    const struct { float t; int k; float p; float mp; } cfg[] = {
        { 1.0f, 0, 1.0f, 0.0f }, { 0.8f, 6, 1.0f, 0.0f }, { 1.3f, 0, 0.9f, 0.0f }, { 1.0f, 8, 0.95f, 0.05f } };
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
        gm_sampler *s = mk(cfg[c].t, cfg[c].k, cfg[c].p, cfg[c].mp, 12345 + c, V);
        gm_sampler_probs(s, lg, NULL, pr);
        int count[10] = {0}, bad = 0;
        for (int i = 0; i < N; i++) {
            float tmp[10];
            memcpy(tmp, lg, sizeof tmp);
            int t = gm_sampler_sample(s, tmp, NULL);
            if (t < 0 || t >= V || pr[t] == 0.0f) bad++;
            else count[t]++;
        }
        double chi = 0.0;
        int df = -1;
        for (int i = 0; i < V; i++) {
            if (pr[i] == 0.0f) continue;
            double e = (double)N * pr[i];
            chi += (count[i] - e) * (count[i] - e) / e;
            df++;
        }
        /* With a fixed seed the statistic is deterministic; the bound is the
         * 0.9999 quantile of chi-square with df <= 9 degrees of freedom
         * (33.7 for df = 9, smaller for fewer), so a correct sampler fails
         * with probability < 1e-4 over seeds, while a draw from a wrong
         * distribution (an off-by-one in the cumulative walk, a missed
         * renormalization) gives statistics in the hundreds at N = 40000. */
        static const double q9999[10] = { 0, 15.14, 18.42, 21.11, 23.51, 25.74, 27.86, 29.88, 31.83, 33.72 };
        CHECK(bad == 0 && df >= 1 && chi < q9999[df],
              "chi-square config %zu: %.2f < %.2f (df %d), no draw outside the support", c, chi,
              df >= 1 ? q9999[df] : 0.0, df);
        gm_sampler_free(s);
    }
}

/* Greedy picks the masked argmax; masks restrict and renormalize sampling. */
static void test_greedy_and_mask(void)
{
    const int V = 70;   /* more than two mask words */
    float lg[70];
    for (int i = 0; i < V; i++) lg[i] = (float)(i % 7);
    uint32_t mask[3] = {0};
    gm_sampler *s = mk(0.0f, 1, 0.0f, 0.9f, 9, V);   /* greedy ignores k/p/min_p */
    CHECK(s != NULL, "greedy accepts top_p=0 (the filters are ignored)");
    if (!s) return;
    CHECK(gm_sampler_sample(s, lg, NULL) == 6, "greedy: lowest index among tied maxima");
    mask[1] = 1u << (40 - 32);                        /* only token 40 (logit 5) */
    mask[2] = 1u << (66 - 64);                        /* and token 66 (logit 3) */
    CHECK(gm_sampler_sample(s, lg, mask) == 40, "greedy with mask picks the masked argmax");
    float pr[70];
    gm_sampler_probs(s, lg, mask, pr);
    CHECK(pr[40] == 1.0f && pr[66] == 0.0f && pr[6] == 0.0f, "greedy probs are one-hot on the pick");
    memset(mask, 0, sizeof mask);
    CHECK(gm_sampler_sample(s, lg, mask) == -1, "greedy: a mask that allows nothing gives -1");
    gm_sampler_free(s);

    s = mk(1.0f, 0, 1.0f, 0.0f, 9, V);
    CHECK(gm_sampler_sample(s, lg, mask) == -1, "sampling: a mask that allows nothing gives -1");
    gm_sampler_probs(s, lg, mask, pr);
    double sum = 0;
    for (int i = 0; i < V; i++) sum += pr[i];
    CHECK(sum == 0.0, "probs are all zero when nothing is allowed");
    mask[0] = (1u << 3) | (1u << 5);
    bool only = true;
    for (int i = 0; i < 200; i++) {
        int t = gm_sampler_sample(s, lg, mask);
        if (t != 3 && t != 5) only = false;
    }
    CHECK(only, "sampling never leaves the mask");
    gm_sampler_probs(s, lg, mask, pr);
    CHECK(fabs(pr[3] - 1.0 / (1.0 + exp(2.0))) < 1e-6 && fabs(pr[5] - exp(2.0) / (1.0 + exp(2.0))) < 1e-6,
          "masked probs renormalize over the allowed tokens");
    gm_sampler_free(s);
}

/* NaN, -inf, +inf and overflow-prone logits. */
static void test_odd_logits(void)
{
    const int V = 6;
    float pr[6];
    gm_sampler *g = mk(0.0f, 0, 1.0f, 0.0f, 1, V), *s = mk(1.0f, 0, 1.0f, 0.0f, 1, V);
    float a[6] = { 1.0f, NAN, 2.0f, -INFINITY, 0.5f, NAN };
    CHECK(gm_sampler_sample(g, a, NULL) == 2, "greedy skips NaN");
    gm_sampler_probs(s, a, NULL, pr);
    CHECK(pr[1] == 0.0f && pr[3] == 0.0f && pr[5] == 0.0f && pr[2] > pr[0] && pr[0] > pr[4],
          "NaN and -inf get probability 0, the rest a softmax");
    bool ok = true;
    for (int i = 0; i < 300; i++) {
        float t[6];
        memcpy(t, a, sizeof t);
        int k = gm_sampler_sample(s, t, NULL);
        if (k == 1 || k == 3 || k == 5 || k < 0) ok = false;
    }
    CHECK(ok, "sampling never picks NaN or -inf tokens");
    float b[6] = { 1.0f, INFINITY, 2.0f, INFINITY, NAN, 0.0f };
    gm_sampler_probs(s, b, NULL, pr);
    CHECK(pr[1] == 0.5f && pr[3] == 0.5f && pr[0] == 0.0f, "+inf tokens share the mass uniformly");
    CHECK(gm_sampler_sample(g, b, NULL) == 1, "greedy picks the first +inf token");
    float c[6] = { NAN, NAN, -INFINITY, NAN, -INFINITY, NAN };
    CHECK(gm_sampler_sample(s, c, NULL) == -1 && gm_sampler_sample(g, c, NULL) == -1,
          "all NaN/-inf gives -1");
    float d[6] = { 3e38f, -3e38f, 1e38f, 0, 0, 0 };
    gm_sampler *cold = mk(0.01f, 0, 1.0f, 0.0f, 1, V);
    gm_sampler_probs(cold, d, NULL, pr);
    CHECK(pr[0] == 1.0f && !isnan(pr[1]), "huge logits at low temperature do not overflow");
    gm_sampler_free(cold);
    gm_sampler_free(g);
    gm_sampler_free(s);
}

/* Determinism by seed and rejection of bad parameters. */
static void test_seed_and_params(void)
{
    const int V = 1000;
    float *x = malloc(V * sizeof *x), *t = malloc(V * sizeof *t);
    if (!x || !t) { CHECK(0, "allocation"); return; }
    fill_logits(x, V, 99);
    for (int i = 0; i < V; i++) x[i] *= 0.3f;
    gm_sampler *a = mk(1.0f, 64, 0.95f, 0.0f, 42, V), *b = mk(1.0f, 64, 0.95f, 0.0f, 42, V),
               *c = mk(1.0f, 64, 0.95f, 0.0f, 43, V);
    int same_ab = 1, same_ac = 1;
    for (int i = 0; i < 300; i++) {
        memcpy(t, x, V * sizeof *t);
        int ta = gm_sampler_sample(a, t, NULL);
        memcpy(t, x, V * sizeof *t);
        int tb = gm_sampler_sample(b, t, NULL);
        memcpy(t, x, V * sizeof *t);
        int tc = gm_sampler_sample(c, t, NULL);
        same_ab &= ta == tb;
        same_ac &= ta == tc;
    }
    CHECK(same_ab, "same seed, same 300 tokens");
    CHECK(!same_ac, "another seed gives another sequence");
    gm_sampler_free(a); gm_sampler_free(b); gm_sampler_free(c);
    free(x); free(t);

    /* fixed seed, fixed first draws: guards against PRNG changes */
    float lg[4] = { 0, 0, 0, 0 };
    gm_sampler *s = mk(1.0f, 0, 1.0f, 0.0f, 0, 4);
    char seq[17];
    for (int i = 0; i < 16; i++) seq[i] = (char)('0' + gm_sampler_sample(s, lg, NULL));
    seq[16] = 0;
    gm_sampler_free(s);
    s = mk(1.0f, 0, 1.0f, 0.0f, 0, 4);
    char seq2[17];
    for (int i = 0; i < 16; i++) seq2[i] = (char)('0' + gm_sampler_sample(s, lg, NULL));
    seq2[16] = 0;
    gm_sampler_free(s);
    CHECK(strcmp(seq, seq2) == 0 && strspn(seq, "0123") == 16, "uniform draws reproducible: %s", seq);

    gm_err err = {0};
    gm_sampler_params bad[] = { { -1.0f, 0, 1.0f, 0.0f, 0 }, { 1.0f, -2, 1.0f, 0.0f, 0 },
                                { 1.0f, 0, 0.0f, 0.0f, 0 }, { 1.0f, 0, 1.5f, 0.0f, 0 },
                                { 1.0f, 0, 1.0f, -0.1f, 0 }, { NAN, 0, 1.0f, 0.0f, 0 } };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&err, 0, sizeof err);
        gm_sampler *z = gm_sampler_new(&bad[i], 10, &err);
        CHECK(!z && err.code == GM_E_ARG && strstr(err.msg, "sampler:"), "bad params %zu rejected: %s", i, err.msg);
        gm_sampler_free(z);
    }
    gm_sampler_params ok = { 1.0f, 0, 1.0f, 0.0f, 0 };
    memset(&err, 0, sizeof err);
    CHECK(!gm_sampler_new(&ok, 0, &err) && err.code == GM_E_ARG, "vocab 0 rejected: %s", err.msg);
    CHECK(!gm_sampler_new(NULL, 10, NULL), "NULL params rejected");
}

/* Speed on the real vocabulary size (a figure, not a pass/fail bound beyond
 * a generous sanity limit). */
static void test_speed(void)
{
    const int V = 262144, R = 20;
    float *x = malloc(V * sizeof *x), *t = malloc(V * sizeof *t);
    if (!x || !t) { CHECK(0, "allocation"); return; }
    fill_logits(x, V, 5);
    const struct { const char *name; float temp; int k; float p; } cfg[] = {
        { "greedy", 0.0f, 0, 1.0f }, { "top_k=64 top_p=0.95", 1.0f, 64, 0.95f },
        { "top_p=0.95 only", 1.0f, 0, 0.95f }, { "plain temperature", 1.0f, 0, 1.0f } };
    for (size_t c = 0; c < sizeof cfg / sizeof *cfg; c++) {
        gm_sampler *s = mk(cfg[c].temp, cfg[c].k, cfg[c].p, 0.0f, 1, V);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int ok = 1;
        for (int r = 0; r < R; r++) {
            memcpy(t, x, V * sizeof *t);
            ok &= gm_sampler_sample(s, t, NULL) >= 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ms = ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6) / R;
        CHECK(ok && ms < 200.0, "speed %s on 262144 logits: %.2f ms/token", cfg[c].name, ms);
        gm_sampler_free(s);
    }
    free(x); free(t);
}

/* Run every group; the exit status says whether any check failed. */
int main(void)
{
    test_filters_small();
    test_selection_vs_sort();
    test_chi_square();
    test_greedy_and_mask();
    test_odd_logits();
    test_seed_and_params();
    test_speed();
    return check_exit();
}
