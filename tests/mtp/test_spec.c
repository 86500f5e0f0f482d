/* test_spec.c: speculative decoding gives plain decoding's tokens and cache.
 *
 * On every target fixture (with its drafter where there is one): greedy
 * output with the MTP drafter, with prompt lookup, and with forced drafts
 * (always right, always wrong, wrong at each position of the round in turn)
 * must equal plain decoding token for token, and after the run the KV cache
 * must equal plain decoding's bit for bit in every owner layer (so the
 * rollbacks after rejections leave nothing behind).  Also: a fixed seed at
 * temperature > 0 gives plain decoding's tokens (each token is the sampler's
 * own draw), a mask hook is honoured at every position, and the stop rules
 * (stop token, callback, length, context end) end where plain decoding does. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "mtp.h"
#include "spec_util.h"

static const int32_t NEVER[1] = {-7};

typedef struct {
    gm_model *m;
    gm_drafter *d;
    const char *name;
    int32_t prompt[512];
    int n_prompt;
} fixture;

/* Forbid every token whose id is a multiple of 3 (a stand-in grammar). */
static int mask_thirds(void *ud, uint32_t *allow, int vocab)
{
    collect *c = ud;
    (void)c;
    for (int i = 0; i < vocab; i += 3) allow[i >> 5] &= ~(1u << (i & 31));
    return 1;
}

/* Mask hook plus collector in one user-data. */
static int mask_collect_tok(void *ud, int32_t id, const char *t, size_t l) { return collect_tok(ud, id, t, l); }

/* Run one generation (plain when sp is NULL) in a fresh context. */
static int gen(fixture *f, int n_ctx, const gm_gen_params *base, const gm_spec_params *sp, collect *out,
               gm_ctx **ctx_out, gm_gen_result *res, gm_spec_stats *st)
{
    gm_err err = {0};
    gm_ctx *c = gm_ctx_new(f->m, n_ctx, &err);
    if (!c) return -1;
    gm_gen_params p = *base;
    p.on_token = p.mask ? mask_collect_tok : collect_tok;
    p.ud = out;
    int rc = sp ? gm_generate_spec(c, f->prompt, f->n_prompt, &p, sp, res, st, &err)
                : gm_generate(c, f->prompt, f->n_prompt, &p, res, &err);
    if (rc) printf("# %s: %s\n", f->name, err.msg);
    *ctx_out = c;
    return rc;
}

/* Compare one speculative configuration against plain decoding. */
static void compare(fixture *f, const char *what, int n_ctx, const gm_gen_params *gp, const gm_spec_params *sp)
{
    collect a = {.stop_after = 0}, b = {.stop_after = 0};
    a.stop_after = b.stop_after = gp->ud ? ((collect *)gp->ud)->stop_after : 0;
    gm_ctx *ca = NULL, *cb = NULL;
    gm_gen_result ra, rb;
    gm_spec_stats st;
    int r1 = gen(f, n_ctx, gp, NULL, &a, &ca, &ra, NULL);
    int r2 = gen(f, n_ctx, gp, sp, &b, &cb, &rb, &st);
    char why[128] = "";
    long acc = 0, dr = 0;
    for (int j = 0; j < GM_SPEC_KMAX; j++) { acc += st.accepted[j]; dr += st.drafted[j]; }
    CHECK(r1 == 0 && r2 == 0 && a.n == b.n && !memcmp(a.toks, b.toks, (size_t)a.n * sizeof *a.toks) &&
          ra.reason == rb.reason && ra.n_generated == rb.n_generated,
          "%s: %s: %d tokens equal plain decoding (stop %d/%d; %d passes for %d tokens, %ld/%ld drafts kept)",
          f->name, what, b.n, ra.reason, rb.reason, st.target_passes, rb.n_generated, acc, dr);
    CHECK(ca && cb && same_cache(ca, cb, why, sizeof why), "%s: %s: KV cache equals plain decoding's (%s)",
          f->name, what, why);
    gm_ctx_free(ca);
    gm_ctx_free(cb);
}

static void run_fixture(const char *fx, const char *case_name, const char *drafter)
{
    fixture f = {.name = case_name};
    char dir[4096], file[4200];
    gm_err err = {0};
    gm_load_opts lo = {.threads = 1};
    snprintf(dir, sizeof dir, "%s/gemma4-ref/%s", fx, case_name);
    f.m = gm_model_load(dir, &lo, &err);
    if (!CHECK(f.m, "%s loads (%s)", case_name, err.msg)) return;
    if (drafter) {
        char dd[4096];
        snprintf(dd, sizeof dd, "%s/gemma4-ref/%s", fx, drafter);
        f.d = gm_drafter_load(dd, f.m, &err);
        CHECK(f.d, "%s: drafter %s loads (%s)", case_name, drafter, err.msg);
    }
    snprintf(file, sizeof file, "%s/tokens.txt", dir);
    int n = read_tokens_file(file, f.prompt, 256);
    /* the prompt twice: prompt lookup has something to find */
    memcpy(f.prompt + n, f.prompt + 1, (size_t)(n - 1) * sizeof *f.prompt);
    f.n_prompt = 2 * n - 1;
    int V = f.m->cfg.vocab;
    gm_gen_params gp = {.sampling = {.temperature = 0}, .max_tokens = 40, .stop = NEVER, .n_stop = 1};

    /* the expected continuation, for the oracle drafts */
    collect plain = {0};
    gm_ctx *pc = NULL;
    gm_gen_result pr;
    gm_gen_params gpl = gp;
    gpl.max_tokens = 400;
    gen(&f, 0, &gpl, NULL, &plain, &pc, &pr, NULL);
    gm_ctx_free(pc);
    int32_t seq[4096];
    memcpy(seq, f.prompt, (size_t)f.n_prompt * sizeof *seq);
    memcpy(seq + f.n_prompt, plain.toks, (size_t)plain.n * sizeof *seq);
    oracle o = {.seq = seq, .n_seq = f.n_prompt + plain.n, .vocab = V};

    if (f.d) {
        gm_spec_params sp = {.mode = GM_SPEC_MTP, .draft = f.d};
        compare(&f, "MTP drafter, adaptive K", 0, &gp, &sp);
        gm_spec_params sp4 = {.mode = GM_SPEC_MTP, .draft = f.d, .k = 4, .fixed_k = true};
        compare(&f, "MTP drafter, K = 4", 0, &gp, &sp4);
        gm_spec_params spa = {.mode = GM_SPEC_AUTO, .draft = f.d, .k = 3};
        compare(&f, "auto (drafter or lookup)", 0, &gp, &spa);
    }
    gm_spec_params sl = {.mode = GM_SPEC_LOOKUP, .k = 4, .fixed_k = true};
    compare(&f, "prompt lookup, K = 4", 0, &gp, &sl);
    gm_spec_params sh = {.mode = GM_SPEC_AUTO, .k = 4, .draft_hook = oracle_draft, .draft_ud = &o};
    o.period = 0;
    compare(&f, "drafts always right, K = 4", 0, &gp, &sh);
    o.period = 1;
    compare(&f, "drafts always wrong, K = 4", 0, &gp, &sh);
    for (int ph = 0; ph < 5; ph++) {
        char what[64];
        o.period = 5;
        o.phase = ph;
        snprintf(what, sizeof what, "drafts wrong at index %% 5 == %d, K = 4", ph);
        compare(&f, what, 0, &gp, &sh);
    }
    /* a long run: the sliding rings wrap and roll back many times */
    gm_gen_params glong = gp;
    glong.max_tokens = 300;
    o.period = 3; o.phase = 1;
    gm_spec_params s7 = {.mode = GM_SPEC_AUTO, .k = 7, .draft_hook = oracle_draft, .draft_ud = &o};
    compare(&f, "300 tokens, K = 7, every third draft wrong", 0, &glong, &s7);
    /* temperature > 0: same seed, same tokens */
    gm_gen_params gt = gp;
    gt.sampling = (gm_sampler_params){.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .seed = 11};
    o.period = 0;
    compare(&f, "temperature 0.8, oracle drafts", 0, &gt, &sh);
    if (f.d) {
        gm_spec_params sp = {.mode = GM_SPEC_MTP, .draft = f.d, .k = 3, .fixed_k = true};
        compare(&f, "temperature 0.8, MTP drafter", 0, &gt, &sp);
    }
    /* a mask hook at every position */
    gm_gen_params gm = gp;
    gm.mask = mask_thirds;
    o.period = 4; o.phase = 2;
    compare(&f, "mask hook, K = 4", 0, &gm, &sh);
    /* stops: callback after 9 tokens, context end, a stop token inside a draft */
    collect stopper = {.stop_after = 9};
    gm_gen_params gc = gp;
    gc.ud = &stopper;
    o.period = 0;
    compare(&f, "callback stop after 9 tokens", 0, &gc, &sh);
    compare(&f, "context end at 80 tokens", 80, &gp, &sh);
    int32_t stop_tok[1] = {plain.toks[17]};
    gm_gen_params gs = gp;
    gs.stop = stop_tok;
    compare(&f, "stop token met inside an accepted draft", 0, &gs, &sh);
    CHECK(o.calls > 0, "%s: the draft hook was used (%ld calls)", case_name, o.calls);
    gm_drafter_free(f.d);
    gm_model_free(f.m);
}

int main(void)
{
    const char *fx = getenv("FIXTURES");
    if (!fx) fx = "tests/fixtures";
    run_fixture(fx, "e2b_like", "e2b_like_assistant");
    run_fixture(fx, "moe_26b_like", "moe_26b_like_assistant");
    run_fixture(fx, "dense_31b_like", NULL);
    run_fixture(fx, "e4b_like_released_bf16", NULL);
    return check_exit();
}
