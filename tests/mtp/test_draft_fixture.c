/* test_draft_fixture.c: the MTP drafter against the transformers fixtures.
 *
 * For each drafter case: prefill the target with the case's tokens, run one
 * drafting round exactly as reference.json describes (token = last prompt
 * token, hidden = the target's post-norm last row, RoPE position T-1 for
 * every step, the whole cache visible), and compare the drafter's logits
 * and carried hidden states with draft_logits.npy / draft_last_hidden_state
 * .npy (max |error| <= 1e-3, argmax equal at every step).  Also: drafters
 * that do not belong to a target are refused with a message naming why. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "npy.h"
#include "mtp.h"

static char *path(const char *dir, const char *name)
{
    static char buf[4][4096];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/gemma4-ref/%s", dir, name);
    return buf[i];
}

static int read_tokens(const char *file, int32_t *out, int cap)
{
    FILE *f = fopen(file, "r");
    if (!f) return -1;
    int n = 0;
    long v;
    while (n < cap && fscanf(f, "%ld,", &v) == 1) out[n++] = (int32_t)v;
    fclose(f);
    return n;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}

static int argmax(const float *x, int n)
{
    int b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

static void run_case(const char *fx, const char *target, const char *drafter)
{
    gm_err err = {0};
    char tdir[4096], ddir[4096], f[4200];
    snprintf(tdir, sizeof tdir, "%s", path(fx, target));
    snprintf(ddir, sizeof ddir, "%s", path(fx, drafter));
    gm_load_opts lo = {.threads = 1, .kv_type = GM_KV_F32};
    gm_model *m = gm_model_load(tdir, &lo, &err);
    if (!CHECK(m, "%s: target loads (%s)", target, err.msg)) return;
    gm_drafter *d = gm_drafter_load(ddir, m, &err);
    gm_ctx *c = gm_ctx_new(m, 0, &err);
    if (!CHECK(d && c, "%s: drafter loads against %s (%s)", drafter, target, err.msg)) goto out;
    int32_t toks[256];
    snprintf(f, sizeof f, "%s/tokens.txt", ddir);
    int T = read_tokens(f, toks, 256);
    CHECK(T > 1 && gm_ctx_eval(c, toks, T, NULL, false, &err) == 0, "%s: prefill of %d tokens", drafter, T);
    int rows;
    const float *hid = gm_ctx_hidden(c, &rows);
    const float *last = hid + (size_t)(rows - 1) * d->Hb;
    size_t n;
    long dims[4];
    snprintf(f, sizeof f, "%s/target_last_hidden.npy", ddir);
    float *th = npy_load_f32(f, &n, dims);
    CHECK(th && n == (size_t)d->Hb && max_abs_diff(th, last, n) <= 1e-4,
          "%s: target's post-norm last hidden matches (%.2e)", drafter, th ? max_abs_diff(th, last, n) : -1.0);
    snprintf(f, sizeof f, "%s/draft_logits.npy", ddir);
    float *want = npy_load_f32(f, &n, dims);
    snprintf(f, sizeof f, "%s/draft_last_hidden_state.npy", ddir);
    size_t nh;
    long hd[4];
    float *wanth = npy_load_f32(f, &nh, hd);
    if (!CHECK(want && wanth && dims[1] == d->V && hd[1] == d->Hb, "%s: fixture arrays read", drafter)) {
        free(th); free(want); free(wanth);
        goto out;
    }
    int K = (int)dims[0];
    float *lg = malloc((size_t)K * d->V * sizeof *lg), *ho = malloc((size_t)K * d->Hb * sizeof *ho);
    int32_t draft[16];
    int rc = gm_drafter_round(d, c, toks[T - 1], last, T - 1, T, K, draft, lg, ho, &err);
    CHECK(rc == 0, "%s: drafting round of %d steps runs (%s)", drafter, K, err.msg);
    for (int s = 0; rc == 0 && s < K; s++) {
        const float *w = want + (size_t)s * d->V, *g = lg + (size_t)s * d->V;
        double e = max_abs_diff(w, g, (size_t)d->V);
        CHECK(e <= 1e-3, "%s: step %d logits max |error| %.2e <= 1e-3", drafter, s + 1, e);
        CHECK(argmax(w, d->V) == draft[s] && argmax(g, d->V) == draft[s],
              "%s: step %d argmax %d equals the reference's %d", drafter, s + 1, draft[s], argmax(w, d->V));
        double eh = max_abs_diff(wanth + (size_t)s * d->Hb, ho + (size_t)s * d->Hb, (size_t)d->Hb);
        CHECK(eh <= 1e-3, "%s: step %d carried hidden max |error| %.2e", drafter, s + 1, eh);
    }
    /* the argmax-only path (no logits asked) drafts the same tokens */
    int32_t again[16];
    CHECK(gm_drafter_round(d, c, toks[T - 1], last, T - 1, T, K, again, NULL, NULL, &err) == 0 &&
          memcmp(again, draft, (size_t)K * sizeof *draft) == 0, "%s: drafting without logits gives the same tokens",
          drafter);
    free(lg); free(ho); free(th); free(want); free(wanth);
out:
    gm_ctx_free(c);
    gm_drafter_free(d);
    gm_model_free(m);
}

/* A drafter for another geometry, or a non-drafter folder, is refused. */
static void mismatch(const char *fx, const char *target, const char *drafter, const char *expect)
{
    gm_err err = {0};
    gm_load_opts lo = {.threads = 1, .kv_type = GM_KV_F32};
    gm_model *m = gm_model_load(path(fx, target), &lo, &err);
    if (!CHECK(m, "%s loads", target)) return;
    gm_drafter *d = gm_drafter_load(path(fx, drafter), m, &err);
    CHECK(!d && strstr(err.msg, expect), "%s refused for %s: \"%s\"", drafter, target, err.msg);
    gm_drafter_free(d);
    gm_model_free(m);
}

int main(void)
{
    const char *fx = getenv("FIXTURES");
    if (!fx) fx = "tests/fixtures";
    run_case(fx, "e2b_like", "e2b_like_assistant");
    run_case(fx, "moe_26b_like", "moe_26b_like_assistant");
    mismatch(fx, "moe_26b_like", "e2b_like_assistant", "KV heads");
    mismatch(fx, "e2b_like", "moe_26b_like_assistant", "KV heads");
    mismatch(fx, "e2b_like", "moe_26b_like", "gemma4_assistant");
    mismatch(fx, "e2b_like", "no_such_folder", "not a folder");
    char *found = gm_drafter_find(path(fx, "e2b_like"));
    CHECK(found && strstr(found, "e2b_like_assistant"), "the drafter next to e2b_like is found (%s)",
          found ? found : "none");
    free(found);
    found = gm_drafter_find(path(fx, "dense_31b_like"));
    CHECK(!found, "no drafter is found next to dense_31b_like");
    free(found);
    return check_exit();
}
