/* test_spec_dist.c: at temperature > 0 speculation samples the target's
 * distribution (chi-square test).
 *
 * Model: the moe_26b_like fixture (vocabulary 512) at temperature 1.5 with
 * top-k 5, so each step has 5 candidates and two steps 25 joint outcomes.
 * Each trial generates 2 tokens with speculation; the draft for the second
 * token is the target's most likely token after the first, so the draft is
 * accepted in some trials and rejected in others, and both paths feed the
 * counts.  Expected: p(y1) p(y2 | y1) from gm_sampler_probs on the target's
 * own logits.  3000 trials at fixed seeds 1..3000.
 *
 * Threshold: cells with an expected count below 5 are pooled; the statistic
 * is compared with the 0.999 quantile of chi-square with (cells - 1) degrees
 * of freedom (Wilson-Hilferty approximation).  A correct sampler fails this
 * for about 1 seed set in 1000; since the seeds are fixed the result is
 * deterministic.  To show the test has power, the same counts are also
 * tested against the distribution at temperature 1.0, which must fail. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "mtp.h"
#include "spec_util.h"

#define TOPK 5
#define TRIALS 3000

typedef struct {
    int32_t first[TOPK], guess[TOPK];   /* y1 candidates and the draft for each */
    int32_t second[TOPK][TOPK];         /* y2 candidates after each y1, by id */
    int n;
} guesses;

/* Draft hook: the target's most likely next token after the first token. */
static int guess_draft(void *ud, const int32_t *h, int n, int k, int32_t *out)
{
    guesses *g = ud;
    (void)k;
    for (int i = 0; i < g->n; i++)
        if (g->first[i] == h[n - 1]) { out[0] = g->guess[i]; return 1; }
    return 0;
}

/* 0.999 quantile of chi-square with k degrees of freedom (Wilson-Hilferty). */
static double chi2_crit(int k)
{
    double z = 3.0902, a = 2.0 / (9.0 * k);
    double t = 1.0 - a + z * sqrt(a);
    return k * t * t * t;
}

/* Pooled chi-square statistic of counts against probabilities; *dof out. */
static double chi2(const long *obs, const double *p, int n, long total, int *dof)
{
    double stat = 0, eo = 0;
    long oo = 0;
    int cells = 0;
    for (int i = 0; i < n; i++) {
        double e = p[i] * total;
        if (e >= 5) { stat += (obs[i] - e) * (obs[i] - e) / e; cells++; }
        else { eo += e; oo += obs[i]; }
    }
    if (eo > 0 || oo > 0) { double e = eo > 1e-9 ? eo : 1e-9; stat += (oo - e) * (oo - e) / e; cells++; }
    *dof = cells - 1;
    return stat;
}

/* Joint probabilities p(y1) p(y2|y1) over the top-k of each step at temperature t. */
static int joint(gm_model *m, const int32_t *prompt, int n, float temp, guesses *g, double *p)
{
    gm_err err = {0};
    int V = m->cfg.vocab;
    gm_sampler_params sp = {.temperature = temp, .top_k = TOPK, .top_p = 1.0f};
    gm_sampler *s = gm_sampler_new(&sp, V, &err);
    gm_ctx *c = gm_ctx_new(m, 0, &err);
    float *lg = malloc((size_t)V * sizeof *lg), *pr = malloc((size_t)V * sizeof *pr);
    float *pr2 = malloc((size_t)V * sizeof *pr2);
    int rc = -1;
    if (!s || !c || !lg || !pr || !pr2 || gm_ctx_eval(c, prompt, n, lg, false, &err)) goto out;
    gm_sampler_probs(s, lg, NULL, pr);
    g->n = 0;
    for (int i = 0; i < V && g->n < TOPK; i++) if (pr[i] > 0) g->first[g->n++] = i;
    for (int a = 0; a < g->n; a++) {
        if (gm_ctx_truncate(c, n, &err) || gm_ctx_eval(c, &g->first[a], 1, lg, false, &err)) goto out;
        gm_sampler_probs(s, lg, NULL, pr2);
        int best = 0, b = 0;
        for (int i = 0; i < V; i++) if (lg[i] > lg[best]) best = i;
        g->guess[a] = best;
        for (int i = 0; i < V; i++)
            if (pr2[i] > 0) {
                /* cell index: a * TOPK + rank of i among the candidates */
                if (b < TOPK) { p[a * TOPK + b] = (double)pr[g->first[a]] * pr2[i]; g->second[a][b] = i; }
                b++;
            }
    }
    rc = 0;
out:
    free(lg); free(pr); free(pr2);
    gm_ctx_free(c);
    gm_sampler_free(s);
    return rc;
}

int main(void)
{
    const char *fx = getenv("FIXTURES");
    char dir[4096], file[4200];
    snprintf(dir, sizeof dir, "%s/gemma4-ref/moe_26b_like", fx ? fx : "tests/fixtures");
    snprintf(file, sizeof file, "%s/tokens.txt", dir);
    gm_err err = {0};
    gm_load_opts lo = {.threads = 1};
    gm_model *m = gm_model_load(dir, &lo, &err);
    if (!CHECK(m, "moe_26b_like loads (%s)", err.msg)) return check_exit();
    int32_t prompt[256];
    int n = read_tokens_file(file, prompt, 256);
    guesses g;
    double p[TOPK * TOPK] = {0}, pwrong[TOPK * TOPK] = {0};
    guesses g2;
    CHECK(joint(m, prompt, n, 1.5f, &g, p) == 0 && g.n == TOPK, "target distribution over %d x %d outcomes",
          TOPK, TOPK);
    joint(m, prompt, n, 1.0f, &g2, pwrong);
    double tot = 0;
    for (int i = 0; i < TOPK * TOPK; i++) tot += p[i];
    CHECK(fabs(tot - 1.0) < 1e-4, "joint probabilities sum to 1 (%.6f)", tot);

    long obs[TOPK * TOPK] = {0}, acc = 0, drafted = 0, bad = 0;
    gm_ctx *c = gm_ctx_new(m, 0, &err);
    for (int t = 1; c && t <= TRIALS; t++) {
        collect out = {0};
        gm_gen_params gp = {.sampling = {.temperature = 1.5f, .top_k = TOPK, .top_p = 1.0f, .seed = (uint64_t)t},
                            .max_tokens = 2, .stop = (const int32_t[]){-7}, .n_stop = 1,
                            .on_token = collect_tok, .ud = &out};
        gm_spec_params sp = {.mode = GM_SPEC_AUTO, .k = 1, .draft_hook = guess_draft, .draft_ud = &g};
        gm_spec_stats st;
        gm_gen_result res;
        if (gm_generate_spec(c, prompt, n, &gp, &sp, &res, &st, &err) || out.n != 2) { bad++; continue; }
        acc += st.accepted[0];
        drafted += st.drafted[0];
        int a = -1, b = -1;
        for (int i = 0; i < g.n; i++) if (g.first[i] == out.toks[0]) a = i;
        if (a >= 0)
            for (int i = 0; i < TOPK; i++) if (g.second[a][i] == out.toks[1]) b = i;
        if (a < 0 || b < 0) { bad++; continue; }
        obs[a * TOPK + b]++;
    }
    gm_ctx_free(c);
    CHECK(bad == 0, "every trial gave two tokens among the candidates (%ld bad)", bad);
    CHECK(acc > TRIALS / 10 && drafted - acc > TRIALS / 10, "drafts were both accepted (%ld) and rejected (%ld)",
          acc, drafted - acc);
    int dof;
    double x = chi2(obs, p, TOPK * TOPK, TRIALS - bad, &dof);
    CHECK(x < chi2_crit(dof), "chi-square %.1f < %.1f (0.999 quantile, %d dof): speculation samples the target's "
          "distribution", x, chi2_crit(dof), dof);
    int dof2;
    double xw = chi2(obs, pwrong, TOPK * TOPK, TRIALS - bad, &dof2);
    CHECK(xw > chi2_crit(dof2), "the same counts reject the temperature-1.0 distribution (chi-square %.1f > %.1f)",
          xw, chi2_crit(dof2));
    gm_model_free(m);
    return check_exit();
}
