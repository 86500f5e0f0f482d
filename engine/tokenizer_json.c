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

#define MAX_VOCAB (1 << 24)

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

/* Fill the tok_source arrays from the parsed document and build. */
static gm_tokenizer *build_from_doc(const cJSON *doc, const char *name, gm_err *err)
{
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
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(doc, "added_tokens");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsObject(vocab)) {
        gm_err_set(err, GM_E_FORMAT, "%s: model.vocab is missing or not an object of piece -> id", name);
        return NULL;
    }
    if (added && !cJSON_IsArray(added) && !cJSON_IsNull(added)) {
        gm_err_set(err, GM_E_FORMAT, "%s: added_tokens is not an array", name);
        return NULL;
    }
    if (merges && !cJSON_IsArray(merges) && !cJSON_IsNull(merges)) {
        gm_err_set(err, GM_E_FORMAT, "%s: model.merges is not an array", name);
        return NULL;
    }
    int32_t max_id = -1, count = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) {
        int32_t id = as_id(it);
        if (id < 0) {
            gm_err_set(err, GM_E_FORMAT, "%s: model.vocab entry \"%.40s\" has no valid id (expected an "
                       "integer in 0..%d)", name, it->string ? it->string : "", MAX_VOCAB - 1);
            return NULL;
        }
        if (id > max_id) max_id = id;
        count++;
    }
    cJSON_ArrayForEach(it, added) {
        int32_t id = as_id(cJSON_GetObjectItemCaseSensitive(it, "id"));
        if (id < 0 || !get_str(it, "content")) {
            gm_err_set(err, GM_E_FORMAT, "%s: added_tokens[%d] needs an integer \"id\" and a string "
                       "\"content\"", name, count);
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
    int32_t n = max_id + 1;
    int32_t nm = cJSON_GetArraySize(merges);
    const char **tokens = calloc((size_t)n, sizeof *tokens);
    int32_t *types = calloc((size_t)n, sizeof *types);
    uint8_t *strip = calloc((size_t)n, 1);
    const char **left = calloc((size_t)nm + 1, sizeof *left);
    const char **right = calloc((size_t)nm + 1, sizeof *right);
    char *split = NULL;
    gm_tokenizer *tok = NULL;
    if (!tokens || !types || !strip || !left || !right) {
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory for %d tokens", name, n);
        goto out;
    }
    cJSON_ArrayForEach(it, vocab) {
        int32_t id = as_id(it);
        tokens[id] = it->string;
        types[id] = tok_is_byte_piece(it->string, strlen(it->string)) ? GM_TOK_BYTE : GM_TOK_NORMAL;
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
    /* "a b" strings: split like the reference, at the first space. */
    size_t total = 0;
    cJSON_ArrayForEach(it, merges)
        if (cJSON_IsString(it)) total += strlen(it->valuestring) + 1;
    split = malloc(total + 1);
    if (!split) {
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory for %d merges", name, nm);
        goto out;
    }
    size_t at = 0;
    int32_t r = 0;
    cJSON_ArrayForEach(it, merges) {
        if (cJSON_IsString(it)) {
            size_t l = strlen(it->valuestring);
            memcpy(split + at, it->valuestring, l + 1);
            char *sp = strchr(split + at, ' ');
            if (sp) {
                *sp = '\0';
                char *sp2 = strchr(sp + 1, ' ');
                if (sp2) *sp2 = '\0';
                left[r] = split + at;
                right[r] = sp + 1;
            }
            at += l + 1;
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2) {
            const cJSON *a = cJSON_GetArrayItem(it, 0), *b = cJSON_GetArrayItem(it, 1);
            if (cJSON_IsString(a) && cJSON_IsString(b)) {
                left[r] = a->valuestring;
                right[r] = b->valuestring;
            }
        }
        r++;
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
    free(split);
    return tok;
}

gm_tokenizer *gm_tok_load_json_buf(const char *buf, size_t len, const char *name, gm_err *err)
{
    if (!name) name = "tokenizer.json";
    if (!buf) {
        gm_err_set(err, GM_E_ARG, "%s: no buffer given", name);
        return NULL;
    }
    cJSON *doc = cJSON_ParseWithLength(buf, len);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        long off = (at && at >= buf && at <= buf + len) ? (long)(at - buf) : -1;
        gm_err_set(err, GM_E_FORMAT, "%s: not valid JSON (parse stopped at byte %ld of %zu); the file "
                   "may be truncated or not a tokenizer.json", name, off, len);
        return NULL;
    }
    gm_tokenizer *tok = build_from_doc(doc, name, err);
    cJSON_Delete(doc);
    return tok;
}

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
