/* generate.c: the decode loop every caller shares: bring the cache to the
 * prompt (reusing what is already there), then sample, stream and stop.
 *
 * The mask hook runs before each sample so a caller (the agent's tool-call
 * grammar) can restrict the next token; the stop token itself is appended to
 * the cache so the next turn can continue from it. */
#include <stdlib.h>
#include <string.h>
#include "model.h"

static bool is_stop(const gm_gen_params *p, const gm_genconfig *g, int32_t t)
{
    const int32_t *s = p->stop ? p->stop : g->eos;
    int n = p->stop ? p->n_stop : g->n_eos;
    for (int i = 0; i < n; i++) if (s[i] == t) return true;
    return false;
}

int gm_generate(gm_ctx *c, const int32_t *prompt, int n, const gm_gen_params *p,
                gm_gen_result *res, gm_err *err)
{
    gm_model *m = c->m;
    int V = m->cfg.vocab;
    gm_gen_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    res->stop_token = -1;
    res->reason = GM_STOP_ERROR;
    if (n <= 0) return gm_err_set(err, GM_E_ARG, "empty prompt: nothing to generate from");
    float *logits = malloc((size_t)V * sizeof *logits);
    uint32_t *allow = p->mask ? malloc(((size_t)V + 31) / 32 * sizeof *allow) : NULL;
    gm_sampler *s = gm_sampler_new(&p->sampling, V, err);
    int rc = -1;
    if (!logits || (p->mask && !allow) || !s) {
        if (!s && err && err->code) goto out;
        gm_err_set(err, GM_E_NOMEM, "out of memory");
        goto out;
    }
    gm_ctx_set_interrupt(c, p->interrupt);
    double t0 = gm_now_s();
    int pre = gm_ctx_sync(c, prompt, n, logits, err);
    res->prefill_s = gm_now_s() - t0;
    if (pre < 0) {
        res->reason = err && err->code == GM_E_INTERRUPTED ? GM_STOP_INTERRUPT :
                      err && err->code == GM_E_CONTEXT ? GM_STOP_CONTEXT : GM_STOP_ERROR;
        goto out;
    }
    res->n_prompt = pre;
    gm_detok dt;
    gm_detok_init(&dt);
    char text[1024];
    t0 = gm_now_s();
    for (;;) {
        if (p->interrupt && *p->interrupt) { res->reason = GM_STOP_INTERRUPT; break; }
        if (p->max_tokens > 0 && res->n_generated >= p->max_tokens) { res->reason = GM_STOP_LENGTH; break; }
        const uint32_t *use = NULL;
        if (p->mask) {
            memset(allow, 0xff, ((size_t)V + 31) / 32 * sizeof *allow);
            int mr = p->mask(p->ud, allow, V);
            if (mr < 0) { gm_err_set(err, GM_E_ARG, "generation aborted by the token mask"); goto out; }
            if (mr > 0) use = allow;
        }
        int32_t t = gm_sampler_sample(s, logits, use);
        if (t < 0) { gm_err_set(err, GM_E_ARG, "the token mask allows no token"); goto out; }
        res->n_generated++;
        bool stop = is_stop(p, &m->gen, t);
        size_t len = stop ? 0 : gm_detok_push(m->tok, &dt, t, text, sizeof text);
        if (c->pos >= c->n_ctx) { res->reason = GM_STOP_CONTEXT; break; }
        /* append the sampled token; its logits drive the next step */
        if (gm_ctx_eval(c, &t, 1, stop ? NULL : logits, false, err)) {
            res->reason = err && err->code == GM_E_INTERRUPTED ? GM_STOP_INTERRUPT : GM_STOP_ERROR;
            if (res->reason == GM_STOP_INTERRUPT) rc = 0;
            goto out;
        }
        int cb = p->on_token ? p->on_token(p->ud, t, text, len) : 0;
        if (stop) { res->reason = GM_STOP_EOS; res->stop_token = t; break; }
        if (cb) { res->reason = GM_STOP_CALLBACK; break; }
    }
    if (p->on_token) {
        size_t len = gm_detok_flush(&dt, text, sizeof text);
        if (len) p->on_token(p->ud, -1, text, len);
    }
    res->decode_s = gm_now_s() - t0;
    rc = 0;
out:
    gm_ctx_set_interrupt(c, NULL);
    gm_sampler_free(s);
    free(allow);
    free(logits);
    return rc;
}
