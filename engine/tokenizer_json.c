/* tokenizer_json.c: reading a Hugging Face tokenizer.json.
 *
 * Only what Gemma's file uses is accepted: a BPE model with byte fallback,
 * the normalizer that turns ' ' into U+2581, and no pre-tokenizer or the
 * Split-on-space one that is inert after that normalizer.  Anything else is
 * refused by name rather than tokenized differently from the reference.
 * Added tokens become CONTROL (special) or USER_DEFINED (not special) ids;
 * the file's unk token becomes UNKNOWN; "<0xXX>" pieces become BYTE.  An
 * added token's lstrip/rstrip eat the whitespace beside it; single_word is
 * ignored, as the reference tokenizer ignores it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tokenizer_internal.h"

#define MAX_VOCAB TOK_JSON_MAX_ID

/* The string member key of obj, or NULL. */
static const char *get_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Whether member key of obj is true (absent or null counts as false). */
static bool get_true(const cJSON *obj, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* Whether one normalizer object is the space escape; unsupported -> -1. */
static int check_normalizer(const cJSON *n, const char *name, bool *escape, gm_err *err)
{
    if (!n || cJSON_IsNull(n)) return 0;
    const char *type = get_str(n, "type");
    if (type && strcmp(type, "Sequence") == 0) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(n, "normalizers");
        const cJSON *it;
        cJSON_ArrayForEach(it, list)
            if (check_normalizer(it, name, escape, err) < 0) return -1;
        return 0;
    }
    if (type && strcmp(type, "Replace") == 0) {
        const char *from = get_str(cJSON_GetObjectItemCaseSensitive(n, "pattern"), "String");
        const char *to = get_str(n, "content");
        if (from && to && strcmp(from, " ") == 0 && strcmp(to, "\xe2\x96\x81") == 0) {
            *escape = true;
            return 0;
        }
    }
    return gm_err_set(err, GM_E_UNSUPPORTED, "%s: normalizer %s is not supported; only Replace(' ' -> "
                      "U+2581) as in Gemma's tokenizer.json", name, type ? type : "(no type)");
}

/* Check the model section's options against what encode implements. */
static int check_model(const cJSON *model, const char *name, gm_err *err)
{
    if (!cJSON_IsObject(model))
        return gm_err_set(err, GM_E_FORMAT, "%s: no \"model\" object; is this a tokenizer.json?", name);
    const char *type = get_str(model, "type");
    if (type && strcmp(type, "BPE") != 0)
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: model.type is \"%s\"; only BPE (Gemma) is supported",
                          name, type);
    if (get_true(model, "ignore_merges"))
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: model.ignore_merges=true is not supported", name);
    const char *pre = get_str(model, "continuing_subword_prefix");
    const char *suf = get_str(model, "end_of_word_suffix");
    if ((pre && *pre) || (suf && *suf))
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: BPE subword prefixes/suffixes are not supported", name);
    const cJSON *fb = cJSON_GetObjectItemCaseSensitive(model, "byte_fallback");
    if (fb && !cJSON_IsTrue(fb))
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: model.byte_fallback must be true (SentencePiece-style "
                          "BPE)", name);
    return 0;
}

/* The integer in v if it is a valid id, else -1. */
static int32_t as_id(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= MAX_VOCAB ||
        v->valuedouble != (double)(int32_t)v->valuedouble)
        return -1;
    return (int32_t)v->valuedouble;
}

/* Fill the tok_source arrays from what was read and build. */
static gm_tokenizer *build_from_doc(const tok_json_big *big, const char *name, gm_err *err)
{
    const cJSON *doc = big->doc;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(doc, "model");
    if (check_model(model, name, err) < 0) return NULL;
    bool escape = false;
    if (check_normalizer(cJSON_GetObjectItemCaseSensitive(doc, "normalizer"), name, &escape, err) < 0)
        return NULL;
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(doc, "pre_tokenizer");
    if (pt && !cJSON_IsNull(pt)) {
        const char *t = get_str(pt, "type");
        const char *pat = get_str(cJSON_GetObjectItemCaseSensitive(pt, "pattern"), "String");
        if (!(t && strcmp(t, "Split") == 0 && pat && strcmp(pat, " ") == 0 && escape)) {
            gm_err_set(err, GM_E_UNSUPPORTED, "%s: pre_tokenizer %s is not supported; only Gemma's "
                       "Split(\" \") after the space normalizer", name, t ? t : "(no type)");
            return NULL;
        }
    }
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(doc, "added_tokens");
    if (!big->has_vocab) {
        gm_err_set(err, GM_E_FORMAT, "%s: model.vocab is missing; expected an object of piece -> id", name);
        return NULL;
    }
    if (added && !cJSON_IsArray(added) && !cJSON_IsNull(added)) {
        gm_err_set(err, GM_E_FORMAT, "%s: added_tokens is not an array", name);
        return NULL;
    }
    int32_t max_id = -1, count = big->n_vocab;
    for (int32_t i = 0; i < big->n_vocab; i++)
        if (big->vocab_id[i] > max_id) max_id = big->vocab_id[i];
    const cJSON *it;
    cJSON_ArrayForEach(it, added) {
        int32_t id = as_id(cJSON_GetObjectItemCaseSensitive(it, "id"));
        if (id < 0 || !get_str(it, "content")) {
            gm_err_set(err, GM_E_FORMAT, "%s: added_tokens[%d] needs an integer \"id\" and a string "
                       "\"content\"", name, count - big->n_vocab);
            return NULL;
        }
        if (id > max_id) max_id = id;
        count++;
    }
    if (max_id < 0 || max_id > 16 * count + 65536) {
        gm_err_set(err, GM_E_FORMAT, "%s: %d pieces but highest id %d; the vocabulary is empty or "
                   "mostly holes", name, count, max_id);
        return NULL;
    }
    int32_t n = max_id + 1, nm = big->n_merges;
    const char **tokens = calloc((size_t)n, sizeof *tokens);
    int32_t *types = calloc((size_t)n, sizeof *types);
    uint8_t *strip = calloc((size_t)n, 1);
    const char **left = calloc((size_t)nm + 1, sizeof *left);
    const char **right = calloc((size_t)nm + 1, sizeof *right);
    gm_tokenizer *tok = NULL;
    if (!tokens || !types || !strip || !left || !right) {
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory for %d tokens", name, n);
        goto out;
    }
    for (int32_t i = 0; i < big->n_vocab; i++) {
        const char *p = big->strs + big->vocab_key[i];
        tokens[big->vocab_id[i]] = p;
        types[big->vocab_id[i]] = tok_is_byte_piece(p, strlen(p)) ? GM_TOK_BYTE : GM_TOK_NORMAL;
    }
    const char *unk = get_str(model, "unk_token");
    cJSON_ArrayForEach(it, added) {
        int32_t id = as_id(cJSON_GetObjectItemCaseSensitive(it, "id"));
        const char *c = get_str(it, "content");
        tokens[id] = c;
        types[id] = !get_true(it, "special") ? GM_TOK_USER_DEFINED
                  : (unk && strcmp(unk, c) == 0) ? GM_TOK_UNKNOWN : GM_TOK_CONTROL;
        strip[id] = (uint8_t)((get_true(it, "lstrip") ? TOK_LSTRIP : 0) |
                              (get_true(it, "rstrip") ? TOK_RSTRIP : 0));
    }
    for (int32_t r = 0; r < nm; r++) {
        if (big->merge_l[r] == TOK_NO_STR || big->merge_r[r] == TOK_NO_STR) continue;
        left[r] = big->strs + big->merge_l[r];
        right[r] = big->strs + big->merge_r[r];
    }
    tok_source src = { .n_tokens = n, .tokens = tokens, .types = types, .n_merges = nm,
                       .merge_left = left, .merge_right = right, .escape_spaces = escape,
                       .strip = strip };
    tok = tok_build(&src, name, err);
out:
    free(tokens);
    free(types);
    free(strip);
    free(left);
    free(right);
    return tok;
}

/* Load from memory: the fuzzing entry and the file loader's back end. */
gm_tokenizer *gm_tok_load_json_buf(const char *buf, size_t len, const char *name, gm_err *err)
{
    if (!name) name = "tokenizer.json";
    if (!buf) {
        gm_err_set(err, GM_E_ARG, "%s: no buffer given", name);
        return NULL;
    }
    tok_json_big big;
    gm_tokenizer *tok = NULL;
    if (tok_json_scan(buf, len, name, &big, err) == 0) tok = build_from_doc(&big, name, err);
    tok_json_big_free(&big);
    return tok;
}

/* Load a tokenizer.json file. */
gm_tokenizer *gm_tok_load_json(const char *path, gm_err *err)
{
    if (!path) {
        gm_err_set(err, GM_E_ARG, "gm_tok_load_json: no path given");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        gm_err_set(err, GM_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    gm_tokenizer *tok = NULL;
    for (;;) {
        if (cap - len < 65536) {
            size_t nc = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, nc);
            if (!nb) {
                gm_err_set(err, GM_E_NOMEM, "%s: out of memory reading %zu bytes", path, nc);
                goto out;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        gm_err_set(err, GM_E_IO, "%s: read error after %zu bytes", path, len);
        goto out;
    }
    tok = gm_tok_load_json_buf(buf, len, path, err);
out:
    free(buf);
    fclose(f);
    return tok;
}
