/* fake_model.h: a scripted model and fake tools for agent-loop tests.
 *
 * The model side follows gm_generate's contract on the real (fixture)
 * tokenizer: it keeps a token cache and reports as prefilled only what
 * differs from it (as gm_ctx_sync does), asks the mask hook every step, and
 * emits its script token by token.  When the mask refuses a scripted token
 * (or there is no script) it picks among the allowed tokens with random
 * logits, like an untrained model would.  Requests to summarise get a fixed
 * summary. */
#ifndef TESTS_FAKE_MODEL_H
#define TESTS_FAKE_MODEL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"

typedef struct fake_model {
    gm_tokenizer *tok;
    const char  **script;       /* one output per generate call; NULL entry = random */
    int           n_script, next;
    bool          ignore_mask;
    int32_t      *cache;
    int           ncache, n_ctx;
    uint64_t      rng;
    int           gens, summaries;
} fake_model;

static double fm_rand(fake_model *f)
{
    f->rng ^= f->rng << 13; f->rng ^= f->rng >> 7; f->rng ^= f->rng << 17;
    return (double)(f->rng >> 11) / 9007199254740992.0;
}

static int fm_allowed(const uint32_t *a, int32_t t) { return (a[t / 32] >> (t % 32)) & 1; }

/* Random logits over the allowed tokens; punctuation and control tokens get
 * a bonus so that strings and calls end in reasonable time. */
static int32_t fm_pick(fake_model *f, const uint32_t *allow, int vocab)
{
    int32_t best = -1;
    double bw = -1;
    for (int32_t t = 0; t < vocab; t++) {
        if (!fm_allowed(allow, t)) continue;
        char b[8];
        size_t n = gm_tok_bytes(f->tok, t, b, sizeof b);
        int ty = gm_tok_type(f->tok, t);
        double w = fm_rand(f);
        if (ty == GM_TOK_CONTROL) w += 0.97;
        else if (n == 1 && !((b[0] | 32) >= 'a' && (b[0] | 32) <= 'z')) w += 0.9;
        if (w > bw) { bw = w; best = t; }
    }
    return best;
}

static int fm_generate(void *ud, const int32_t *prompt, int n, const gm_gen_params *p,
                       gm_gen_result *res, gm_err *err)
{
    fake_model *f = ud;
    memset(res, 0, sizeof *res);
    res->stop_token = -1;
    f->gens++;
    int common = 0;
    while (common < f->ncache && common < n && f->cache[common] == prompt[common]) common++;
    res->n_prompt = n - common;
    if (n > f->n_ctx) return gm_err_set(err, GM_E_CONTEXT, "fake: prompt of %d tokens over %d", n, f->n_ctx);
    memcpy(f->cache, prompt, (size_t)n * sizeof *prompt);
    f->ncache = n;
    char *ptxt = gm_tok_decode(f->tok, prompt, (size_t)n, false);
    bool summary = ptxt && strstr(ptxt, "Summarise the conversation below");
    free(ptxt);
    const char *out = summary ? "Earlier: the agent echoed several long texts.<turn|>"
                              : (f->next < f->n_script ? f->script[f->next++] : NULL);
    if (summary) f->summaries++;
    if (p->sampling.temperature == 0)       /* greedy: the same prompt gives the same output */
        f->rng = (p->sampling.seed + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)n * 0xD1B54A32D192ED03ull;
    int32_t *ids = NULL;
    size_t nids = 0;
    if (out && gm_tok_encode(f->tok, out, strlen(out), true, &ids, &nids, err)) return -1;
    int vocab = gm_tok_vocab_size(f->tok);
    uint32_t *allow = malloc(((size_t)vocab + 31) / 32 * 4);
    size_t i = 0;
    int max = p->max_tokens > 0 ? p->max_tokens : f->n_ctx - n;
    res->reason = GM_STOP_LENGTH;
    for (int step = 0; step < max; step++) {
        if (f->ncache >= f->n_ctx) { res->reason = GM_STOP_CONTEXT; break; }
        memset(allow, 0xff, ((size_t)vocab + 31) / 32 * 4);
        int m = p->mask && !f->ignore_mask ? p->mask(p->ud, allow, vocab) : 0;
        if (m < 0) { res->reason = GM_STOP_ERROR; break; }
        if (!m) memset(allow, 0xff, ((size_t)vocab + 31) / 32 * 4);
        int32_t t;
        if (i < nids && fm_allowed(allow, ids[i])) t = ids[i++];
        else { i = nids; t = fm_pick(f, allow, vocab); }
        if (t < 0) { res->reason = GM_STOP_ERROR; break; }
        f->cache[f->ncache++] = t;
        res->n_generated++;
        if (p->on_token) {
            char b[64];
            size_t bl = gm_tok_bytes(f->tok, t, b, sizeof b);
            if (p->on_token(p->ud, t, b, bl < sizeof b ? bl : sizeof b)) { res->reason = GM_STOP_CALLBACK; break; }
        }
        bool stop = false;
        for (int k = 0; k < p->n_stop; k++) if (p->stop[k] == t) stop = true;
        if (stop) { res->reason = GM_STOP_EOS; res->stop_token = t; break; }
        if (p->interrupt && *p->interrupt) { res->reason = GM_STOP_INTERRUPT; break; }
    }
    free(allow);
    free(ids);
    return 0;
}

static void fm_close(void *ud)
{
    fake_model *f = ud;
    gm_tok_free(f->tok);
    free(f->cache);
    free(f);
}

/* A backend around a new fake model; script entries are not copied. */
static fake_model *fm_backend(ag_backend *b, const char *tokjson, int n_ctx, const char **script, int n_script,
                              uint64_t seed)
{
    fake_model *f = calloc(1, sizeof *f);
    gm_err e = {0};
    f->tok = gm_tok_load_json(tokjson, &e);
    if (!f->tok) { fprintf(stderr, "fake: %s\n", e.msg); free(f); return NULL; }
    f->n_ctx = n_ctx;
    f->cache = calloc((size_t)n_ctx + 1, sizeof *f->cache);
    f->script = script; f->n_script = n_script;
    f->rng = seed * 0x9E3779B97F4A7C15ull + 1;
    memset(b, 0, sizeof *b);
    b->ud = f; b->tok = f->tok; b->family = GM_CHAT_SMALL; b->n_ctx = n_ctx; b->name = "fake";
    b->defaults.temperature = 1; b->defaults.top_p = 1;
    b->generate = fm_generate; b->close = fm_close;
    return f;
}

/* ---- fake tools --------------------------------------------------------- */

typedef struct fake_tools { int calls; char last[256]; bool fence_fail; } fake_tools;

static cJSON *ft_decl(void *ud)
{
    (void)ud;
    return cJSON_Parse(
        "[{\"type\":\"function\",\"function\":{\"name\":\"echo\",\"description\":\"Echo a text.\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"]}}},"
        "{\"type\":\"function\",\"function\":{\"name\":\"write_file\",\"description\":\"Write a file.\","
        "\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"}},"
        "\"required\":[\"path\",\"content\"]}}}]");
}

static cJSON *ft_call(void *ud, const char *name, const cJSON *args, bool *failed, bool *fence)
{
    fake_tools *t = ud;
    t->calls++;
    snprintf(t->last, sizeof t->last, "%s", name);
    *failed = false;
    *fence = t->fence_fail;
    cJSON *r = cJSON_CreateObject();
    if (t->fence_fail) { cJSON_AddStringToObject(r, "error", "sandbox unavailable"); *failed = true; return r; }
    if (!strcmp(name, "echo")) cJSON_AddStringToObject(r, "output", cJSON_GetStringValue(cJSON_GetObjectItem(args, "text")));
    else cJSON_AddStringToObject(r, "output", "written");
    return r;
}

static bool ft_mut(void *ud, const char *name) { (void)ud; return strcmp(name, "echo") != 0; }
static void ft_close(void *ud) { (void)ud; }

static void ft_box(ag_toolbox *tb, fake_tools *t)
{
    memset(tb, 0, sizeof *tb);
    tb->ud = t; tb->declarations = ft_decl; tb->call = ft_call; tb->is_mutating = ft_mut; tb->close = ft_close;
}

#endif
