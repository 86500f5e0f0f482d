/* gguf_source.c: a GGUF file as a weight source for the model loader.
 *
 * The loader speaks Hugging Face: it asks for a flat text config and for
 * tensors by HF names.  This source synthesizes the config from the gemma4
 * metadata (gguf_model.c), translates names through the one table, builds
 * the tokenizer from the tokenizer.ggml.* arrays and hands over the chat
 * template.  Tensors stay in the mapping: nothing is copied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gguf.h"
#include "source.h"

typedef struct {
    gm_source base;
    gm_gguf  *g;
} gguf_source;

/* source->find: HF name -> GGUF tensor in the map. */
static const gm_tensor *gs_find(gm_source *s, const char *hf_name)
{
    gguf_source *gs = (gguf_source *)s;
    char name[128];
    if (gm_gguf_name_from_hf(hf_name, name, sizeof name) != 0) return NULL;
    const gm_gguf_tensor *t = gm_gguf_find_tensor(gs->g, name);
    return t ? &t->t : NULL;
}

/* source->free: everything the source owns, then the mapping. */
static void gs_free(gm_source *s)
{
    gguf_source *gs = (gguf_source *)s;
    if (!gs) return;
    cJSON_Delete(s->config);
    cJSON_Delete(s->genconfig);
    gm_tok_free(s->tok);
    free(s->chat_template);
    gm_gguf_close(gs->g);
    free(gs);
}

/* The tokenizer from tokenizer.ggml.{tokens,scores,token_type,merges}. */
static gm_tokenizer *load_vocab(const gm_gguf *g, gm_err *err)
{
    const gm_gguf_kv *model = gm_gguf_find_kv(g, "tokenizer.ggml.model");
    const gm_gguf_kv *toks = gm_gguf_find_kv(g, "tokenizer.ggml.tokens");
    const gm_gguf_kv *scores = gm_gguf_find_kv(g, "tokenizer.ggml.scores");
    const gm_gguf_kv *types = gm_gguf_find_kv(g, "tokenizer.ggml.token_type");
    const gm_gguf_kv *merges = gm_gguf_find_kv(g, "tokenizer.ggml.merges");
    if (!model || model->type != GM_GGUF_STR || strcmp(model->str, "gemma4") != 0) {
        gm_err_set(err, GM_E_UNSUPPORTED, "%s: tokenizer.ggml.model is '%s'; gemmash reads the 'gemma4' BPE "
                   "vocabulary that llama.cpp's converter writes for Gemma 4", g->path,
                   model && model->str ? model->str : "(missing)");
        return NULL;
    }
    if (!toks || toks->type != GM_GGUF_ARR || toks->arr_type != GM_GGUF_STR || toks->n == 0 || toks->n > (1u << 24)) {
        gm_err_set(err, GM_E_FORMAT, "%s: tokenizer.ggml.tokens is missing or not an array of strings", g->path);
        return NULL;
    }
    int32_t n = (int32_t)toks->n;
    if ((scores && (scores->type != GM_GGUF_ARR || scores->n != toks->n)) ||
        (types && (types->type != GM_GGUF_ARR || types->n != toks->n)) ||
        (merges && (merges->type != GM_GGUF_ARR || merges->arr_type != GM_GGUF_STR))) {
        gm_err_set(err, GM_E_FORMAT, "%s: tokenizer.ggml.scores/token_type/merges do not match the %d tokens",
                   g->path, n);
        return NULL;
    }
    float *sc = scores ? malloc(sizeof(float) * (size_t)n) : NULL;
    int32_t *ty = types ? malloc(sizeof(int32_t) * (size_t)n) : NULL;
    gm_tokenizer *tok = NULL;
    if ((scores && !sc) || (types && !ty)) {
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory for the vocabulary", g->path);
        goto out;
    }
    for (int32_t i = 0; i < n; i++) {
        double d;
        int64_t v;
        if (sc && !gm_gguf_num(scores, (uint64_t)i, &d)) { gm_err_set(err, GM_E_FORMAT, "%s: tokenizer.ggml.scores is not numeric", g->path); goto out; }
        if (sc) sc[i] = (float)d;
        if (ty && !gm_gguf_int(types, (uint64_t)i, &v)) { gm_err_set(err, GM_E_FORMAT, "%s: tokenizer.ggml.token_type is not integer", g->path); goto out; }
        if (ty) ty[i] = (int32_t)v;
    }
    gm_vocab_spec spec = { n, (const char **)toks->strs, sc, ty, merges ? (int32_t)merges->n : 0,
                           merges ? (const char **)merges->strs : NULL };
    tok = gm_tok_from_vocab(&spec, err);
    if (!tok && err) {
        char msg[GM_ERR_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        gm_err_set(err, err->code, "%s: tokenizer: %s", g->path, msg);
    }
out:
    free(sc);
    free(ty);
    return tok;
}

gm_tokenizer *gm_tok_load_gguf(const char *path, gm_err *err)
{
    gm_gguf *g = gm_gguf_open(path, err);
    if (!g) return NULL;
    gm_tokenizer *tok = load_vocab(g, err);
    gm_gguf_close(g);
    return tok;
}

gm_source *gm_source_open_gguf(const char *path, gm_err *err)
{
    gguf_source *gs = calloc(1, sizeof *gs);
    if (!gs) { gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path); return NULL; }
    gs->base.find = gs_find;
    gs->base.free = gs_free;
    gs->base.path = path;
    if (!(gs->g = gm_gguf_open(path, err)) || !(gs->base.config = gm_gguf_config_json(gs->g, err)) ||
        !(gs->base.tok = load_vocab(gs->g, err))) {
        gs_free(&gs->base);
        return NULL;
    }
    gs->base.file_bytes = gs->g->size;
    const gm_gguf_kv *tmpl = gm_gguf_find_kv(gs->g, "tokenizer.chat_template");
    if (tmpl && tmpl->type == GM_GGUF_STR && !(gs->base.chat_template = strdup(tmpl->str))) {
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path);
        gs_free(&gs->base);
        return NULL;
    }
    return &gs->base;
}
