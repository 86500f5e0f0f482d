/* backend_engine.c: the engine (engine.h) as the agent's model backend.
 *
 * Loads a checkpoint, sizes the context (the model's limit, or --ctx,
 * capped so that the KV cache fits in half of the available memory), and
 * generates with gm_generate, whose gm_ctx_sync keeps the common prefix of
 * consecutive prompts in the cache. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "agent.h"

typedef struct eng { gm_model *m; gm_ctx *c; char name[256]; } eng;

/* Generation with prefix reuse (gm_ctx_sync inside gm_generate). */
static int eng_generate(void *ud, const int32_t *prompt, int n, const gm_gen_params *p,
                        gm_gen_result *res, gm_err *err)
{
    eng *e = ud;
    return gm_generate(e->c, prompt, n, p, res, err);
}

/* Free the context and the model. */
static void eng_close(void *ud)
{
    eng *e = ud;
    gm_ctx_free(e->c);
    gm_model_free(e->m);
    free(e);
}

/* Bytes of KV cache per token: owner layers only (shared layers read them). */
static double kv_bytes_per_token(const gm_config *c)
{
    double b = 0;
    for (int l = 0; l < c->n_layers && l < GM_MAX_LAYERS; l++)
        if (c->kv_source[l] == l) b += 2.0 * c->n_kv_heads_l[l] * c->head_dim_l[l] * sizeof(float);
    return b;
}

int ag_backend_open(ag_backend *b, const char *model, int threads, int n_ctx, gm_err *err)
{
    eng *e = calloc(1, sizeof *e);
    if (!e) return gm_err_set(err, GM_E_NOMEM, "out of memory");
    gm_load_opts lo = {.threads = threads};
    e->m = gm_model_load(model, &lo, err);
    if (!e->m) { free(e); return -1; }
    const gm_config *cfg = gm_model_config(e->m);
    int n = n_ctx > 0 ? n_ctx : cfg->max_pos;
    if (n_ctx <= 0) {
        double avail = (double)sysconf(_SC_AVPHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        double per = kv_bytes_per_token(cfg);
        if (per > 0 && avail > 0 && n * per > avail / 2) n = (int)(avail / 2 / per);
        if (n < 256) n = 256;
    }
    e->c = gm_ctx_new(e->m, n, err);
    if (!e->c) { gm_model_free(e->m); free(e); return -1; }
    snprintf(e->name, sizeof e->name, "%s", model);
    const gm_genconfig *gc = gm_model_genconfig(e->m);
    b->ud = e;
    b->tok = gm_model_tokenizer(e->m);
    b->family = gm_model_chat_family(e->m);
    b->n_ctx = gm_ctx_capacity(e->c);
    b->name = e->name;
    b->defaults.temperature = gc ? gc->temperature : 1.0f;
    b->defaults.top_k = gc ? gc->top_k : 0;
    b->defaults.top_p = gc && gc->top_p > 0 ? gc->top_p : 1.0f;
    b->defaults.min_p = gc ? gc->min_p : 0;
    b->generate = eng_generate;
    b->close = eng_close;
    return 0;
}
