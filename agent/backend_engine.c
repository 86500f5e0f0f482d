/* backend_engine.c: the engine (engine.h) as the agent's model backend.
 *
 * Loads a checkpoint, sizes the context (the model's limit, or --ctx,
 * capped so that the KV cache fits in half of the available memory), and
 * generates with gm_generate_spec, whose gm_ctx_sync keeps the common prefix
 * of consecutive prompts in the cache.  Speculative decoding is on by
 * default: the MTP drafter found next to the model, and prompt lookup, which
 * pays off when the model quotes its context (file edits, tool arguments).
 * It never changes what is generated: at temperature 0 the tokens are those
 * of plain decoding, above it the distribution is the model's.
 * GEMMASH_SPEC=off|lookup|mtp|auto overrides the mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"

typedef struct eng { gm_model *m; gm_ctx *c; gm_drafter *d; gm_spec_mode mode; char name[256]; } eng;

/* Generation with prefix reuse (gm_ctx_sync inside the decode loop). */
static int eng_generate(void *ud, const int32_t *prompt, int n, const gm_gen_params *p,
                        gm_gen_result *res, gm_err *err)
{
    eng *e = ud;
    if (e->mode == GM_SPEC_OFF) return gm_generate(e->c, prompt, n, p, res, err);
    gm_spec_params sp = {.mode = e->mode, .draft = e->d};
    return gm_generate_spec(e->c, prompt, n, p, &sp, res, NULL, err);
}

/* The speculation mode from GEMMASH_SPEC (default auto). */
static gm_spec_mode spec_mode(void)
{
    const char *s = getenv("GEMMASH_SPEC");
    if (!s || !*s || !strcmp(s, "auto")) return GM_SPEC_AUTO;
    if (!strcmp(s, "off")) return GM_SPEC_OFF;
    if (!strcmp(s, "lookup")) return GM_SPEC_LOOKUP;
    if (!strcmp(s, "mtp")) return GM_SPEC_MTP;
    fprintf(stderr, "gemmash: GEMMASH_SPEC='%s' is not off, lookup, mtp or auto; using auto\n", s);
    return GM_SPEC_AUTO;
}

/* Free the context and the model. */
static void eng_close(void *ud)
{
    eng *e = ud;
    gm_ctx_free(e->c);
    gm_drafter_free(e->d);
    gm_model_free(e->m);
    free(e);
}

int ag_backend_open(ag_backend *b, const char *model, int threads, int n_ctx, gm_kv_type kv, gm_err *err)
{
    eng *e = calloc(1, sizeof *e);
    if (!e) return gm_err_set(err, GM_E_NOMEM, "out of memory");
    gm_load_opts lo = {.threads = threads, .kv_type = kv};
    e->m = gm_model_load(model, &lo, err);
    if (!e->m) { free(e); return -1; }
    const gm_config *cfg = gm_model_config(e->m);
    int n = n_ctx > 0 ? n_ctx : cfg->max_pos;
    if (n_ctx <= 0) {
        double avail = (double)sysconf(_SC_AVPHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        double per = gm_model_kv_bytes_per_token(e->m);
        if (per > 0 && avail > 0 && n * per > avail / 2) n = (int)(avail / 2 / per);
        if (n < 256) n = 256;
    }
    e->c = gm_ctx_new(e->m, n, err);
    if (!e->c) { gm_model_free(e->m); free(e); return -1; }
    snprintf(e->name, sizeof e->name, "%s", model);
    e->mode = spec_mode();
    char *dp = e->mode == GM_SPEC_OFF || e->mode == GM_SPEC_LOOKUP ? NULL : gm_drafter_find(model);
    if (dp) {                                    /* a drafter that does not fit is skipped, with a note */
        gm_err derr = {0};
        e->d = gm_drafter_load(dp, e->m, &derr);
        if (!e->d) fprintf(stderr, "gemmash: not using the drafter %s: %s\n", dp, derr.msg);
        free(dp);
    }
    if (e->mode == GM_SPEC_MTP && !e->d) e->mode = GM_SPEC_LOOKUP;
    const gm_genconfig *gc = gm_model_genconfig(e->m);
    b->ud = e;
    b->tok = gm_model_tokenizer(e->m);
    b->family = gm_model_chat_family(e->m);
    b->n_ctx = gm_ctx_capacity(e->c);
    b->name = e->name;
    b->kv_type = kv == GM_KV_F32 ? "f32" : "f16";
    b->defaults.temperature = gc ? gc->temperature : 1.0f;
    b->defaults.top_k = gc ? gc->top_k : 0;
    b->defaults.top_p = gc && gc->top_p > 0 ? gc->top_p : 1.0f;
    b->defaults.min_p = gc ? gc->min_p : 0;
    b->generate = eng_generate;
    b->close = eng_close;
    return 0;
}
