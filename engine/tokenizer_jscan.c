/* tokenizer_jscan.c: a one-pass reader for the two big parts of a
 * tokenizer.json, model.vocab and model.merges.
 *
 * Gemma's tokenizer.json is 33 MB, nearly all of it vocabulary and merges.
 * Parsed into a cJSON tree it costs ~200 MB and most of a second; read here
 * straight into flat arrays it costs a fraction of both.  Every other value
 * (added_tokens, normalizer, model options, ...) is small: its text is
 * handed to cJSON and placed in a cJSON document, so the checks that read
 * them stay simple.  Strings are decoded (escapes, \u surrogate pairs) into
 * one arena and referred to by offset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tokenizer_internal.h"

#define MAX_DEPTH 256

/* Reader state over buf[0..len). */
typedef struct scan {
    const char *p, *end, *buf;
    const char *name;
    gm_err *err;
    tok_json_big *out;
} scan;

/* Report a syntax problem at the current offset; returns -1. */
static int bad(scan *s, const char *what)
{
    return gm_err_set(s->err, GM_E_FORMAT, "%s: %s at byte %ld; the file is not valid tokenizer.json",
                      s->name, what, (long)(s->p - s->buf));
}

/* Skip JSON whitespace. */
static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

/* Consume character c (after whitespace) or fail. */
static int expect(scan *s, char c)
{
    ws(s);
    if (s->p >= s->end || *s->p != c) {
        char m[32];
        snprintf(m, sizeof m, "expected '%c'", c);
        return bad(s, m);
    }
    s->p++;
    return 0;
}

/* Append bytes to the string arena. */
static int arena_put(scan *s, const void *b, size_t n)
{
    tok_json_big *o = s->out;
    if (o->strs_len + n + 1 > o->strs_cap) {
        size_t nc = o->strs_cap ? o->strs_cap : 1 << 16;
        while (nc < o->strs_len + n + 1) nc *= 2;
        char *q = realloc(o->strs, nc);
        if (!q) return gm_err_set(s->err, GM_E_NOMEM, "%s: out of memory for strings", s->name);
        o->strs = q;
        o->strs_cap = nc;
    }
    memcpy(o->strs + o->strs_len, b, n);
    o->strs_len += n;
    return 0;
}

/* Four hex digits at p, or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

/* Decode one JSON string into the arena, NUL-terminated; *off gets its
 * offset.  A NUL or a lone surrogate in the text is refused. */
static int string(scan *s, uint32_t *off)
{
    if (expect(s, '"') < 0) return -1;
    if (s->out->strs_len >= UINT32_MAX / 2)
        return gm_err_set(s->err, GM_E_FORMAT, "%s: strings exceed 2 GiB", s->name);
    *off = (uint32_t)s->out->strs_len;
    for (;;) {
        const char *run = s->p;
        while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (unsigned char)*s->p >= 0x20) s->p++;
        if (arena_put(s, run, (size_t)(s->p - run)) < 0) return -1;
        if (s->p >= s->end) return bad(s, "unterminated string");
        char c = *s->p++;
        if (c == '"') break;
        if (c != '\\') return bad(s, "control character in a string");
        if (s->p >= s->end) return bad(s, "unterminated escape");
        char e = *s->p++, one;
        switch (e) {
        case '"': case '\\': case '/': one = e; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': {
            long cp = s->end - s->p >= 4 ? hex4(s->p) : -1;
            if (cp < 0) return bad(s, "bad \\u escape");
            s->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u' ? hex4(s->p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) return bad(s, "lone surrogate in a \\u escape");
                s->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                return bad(s, cp ? "lone surrogate in a \\u escape" : "NUL character in a string");
            }
            unsigned char u[4];
            size_t n;
            if (cp < 0x80) { u[0] = (unsigned char)cp; n = 1; }
            else if (cp < 0x800) { u[0] = (unsigned char)(0xC0 | cp >> 6); u[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2; }
            else if (cp < 0x10000) {
                u[0] = (unsigned char)(0xE0 | cp >> 12); u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                u[2] = (unsigned char)(0x80 | (cp & 0x3F)); n = 3;
            } else {
                u[0] = (unsigned char)(0xF0 | cp >> 18); u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
                u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)); u[3] = (unsigned char)(0x80 | (cp & 0x3F)); n = 4;
            }
            if (arena_put(s, u, n) < 0) return -1;
            continue;
        }
        default: return bad(s, "unknown escape");
        }
        if (arena_put(s, &one, 1) < 0) return -1;
    }
    return arena_put(s, "", 1);
}

/* Skip any value (validating its structure loosely: cJSON or the big
 * readers check what is used). */
static int skip_value(scan *s, int depth)
{
    if (depth > MAX_DEPTH) return bad(s, "nesting too deep");
    ws(s);
    if (s->p >= s->end) return bad(s, "unexpected end of file");
    char c = *s->p;
    if (c == '"') {
        s->p++;
        while (s->p < s->end && *s->p != '"')
            s->p += (*s->p == '\\' && s->end - s->p > 1) ? 2 : 1;
        if (s->p >= s->end) return bad(s, "unterminated string");
        s->p++;
        return 0;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->p++;
        ws(s);
        if (s->p < s->end && *s->p == close) { s->p++; return 0; }
        for (;;) {
            if (c == '{') {
                uint32_t off;
                size_t mark = s->out->strs_len;
                if (string(s, &off) < 0 || expect(s, ':') < 0) return -1;
                s->out->strs_len = mark;       /* the key is not kept */
            }
            if (skip_value(s, depth + 1) < 0) return -1;
            ws(s);
            if (s->p < s->end && *s->p == ',') { s->p++; continue; }
            return expect(s, close);
        }
    }
    const char *start = s->p;
    while (s->p < s->end && (strchr("+-.eE", *s->p) || (*s->p >= '0' && *s->p <= '9') ||
                             (*s->p >= 'a' && *s->p <= 'z'))) s->p++;
    return s->p > start ? 0 : bad(s, "unexpected character");
}

/* Parse the value at the cursor with cJSON and add it to obj under key. */
static int small_value(scan *s, cJSON *obj, const char *key)
{
    ws(s);
    const char *start = s->p;
    if (skip_value(s, 0) < 0) return -1;
    cJSON *v = cJSON_ParseWithLength(start, (size_t)(s->p - start));
    if (!v) return bad(s, "malformed value");
    if (!cJSON_AddItemToObject(obj, key, v)) {
        cJSON_Delete(v);
        return gm_err_set(s->err, GM_E_NOMEM, "%s: out of memory", s->name);
    }
    return 0;
}

/* Grow a flat array to hold need elements. */
static int grow(scan *s, void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 4096;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * sz);
    if (!q) return gm_err_set(s->err, GM_E_NOMEM, "%s: out of memory", s->name);
    *p = q;
    *cap = nc;
    return 0;
}

/* model.vocab: {"piece": id, ...} into vocab_key/vocab_id. */
static int read_vocab(scan *s)
{
    tok_json_big *o = s->out;
    o->has_vocab = true;
    if (expect(s, '{') < 0) return -1;
    ws(s);
    if (s->p < s->end && *s->p == '}') { s->p++; return 0; }
    for (;;) {
        size_t cap = o->vocab_cap;
        if (grow(s, (void **)&o->vocab_key, &o->vocab_cap, (size_t)o->n_vocab + 1, sizeof *o->vocab_key) < 0)
            return -1;
        if (o->vocab_cap != cap) {
            int32_t *ids = realloc(o->vocab_id, o->vocab_cap * sizeof *ids);
            if (!ids) return gm_err_set(s->err, GM_E_NOMEM, "%s: out of memory", s->name);
            o->vocab_id = ids;
        }
        uint32_t off;
        if (string(s, &off) < 0 || expect(s, ':') < 0) return -1;
        ws(s);
        char num[32];
        size_t k = 0;
        while (s->p < s->end && k + 1 < sizeof num && strchr("+-.eE0123456789", *s->p)) num[k++] = *s->p++;
        num[k] = '\0';
        char *e;
        double v = strtod(num, &e);
        if (k == 0 || *e || v < 0 || v >= TOK_JSON_MAX_ID || v != (double)(int32_t)v)
            return gm_err_set(s->err, GM_E_FORMAT, "%s: model.vocab entry \"%.40s\" has no valid id "
                              "(expected an integer in 0..%d)", s->name, o->strs + off, TOK_JSON_MAX_ID - 1);
        o->vocab_key[o->n_vocab] = off;
        o->vocab_id[o->n_vocab++] = (int32_t)v;
        if (o->n_vocab >= TOK_JSON_MAX_ID)
            return gm_err_set(s->err, GM_E_FORMAT, "%s: more than %d vocabulary entries", s->name,
                              TOK_JSON_MAX_ID);
        ws(s);
        if (s->p < s->end && *s->p == ',') { s->p++; continue; }
        return expect(s, '}');
    }
}

/* model.merges: ["a b", ...] or [["a", "b"], ...] into merge_l/merge_r.
 * A string is split at its first space and the part after a second space
 * dropped, as the reference does; a malformed entry keeps its rank but
 * gets NO_STR (it can never apply). */
static int read_merges(scan *s)
{
    tok_json_big *o = s->out;
    if (expect(s, '[') < 0) return -1;
    ws(s);
    if (s->p < s->end && *s->p == ']') { s->p++; return 0; }
    for (;;) {
        size_t cap = o->merge_cap;
        if (grow(s, (void **)&o->merge_l, &o->merge_cap, (size_t)o->n_merges + 1, sizeof *o->merge_l) < 0)
            return -1;
        if (o->merge_cap != cap) {
            uint32_t *r = realloc(o->merge_r, o->merge_cap * sizeof *r);
            if (!r) return gm_err_set(s->err, GM_E_NOMEM, "%s: out of memory", s->name);
            o->merge_r = r;
        }
        uint32_t l = TOK_NO_STR, r = TOK_NO_STR;
        ws(s);
        if (s->p < s->end && *s->p == '"') {
            if (string(s, &l) < 0) return -1;
            char *a = o->strs + l, *sp = strchr(a, ' ');
            if (sp) {
                *sp = '\0';
                char *sp2 = strchr(sp + 1, ' ');
                if (sp2) *sp2 = '\0';
                r = (uint32_t)(sp + 1 - o->strs);
            } else {
                l = TOK_NO_STR;
            }
        } else if (s->p < s->end && *s->p == '[') {
            s->p++;
            ws(s);
            if (s->p < s->end && *s->p == '"') {
                if (string(s, &l) < 0 || expect(s, ',') < 0 || string(s, &r) < 0) return -1;
                ws(s);
                if (s->p < s->end && *s->p == ',') {     /* more than two parts: not a merge */
                    l = r = TOK_NO_STR;
                    while (s->p < s->end && *s->p == ',') {
                        s->p++;
                        if (skip_value(s, 1) < 0) return -1;
                        ws(s);
                    }
                }
                if (expect(s, ']') < 0) return -1;
            } else {
                s->p--;
                if (skip_value(s, 1) < 0) return -1;
            }
        } else if (skip_value(s, 1) < 0) {
            return -1;
        }
        o->merge_l[o->n_merges] = l;
        o->merge_r[o->n_merges++] = r;
        if (o->n_merges >= TOK_JSON_MAX_ID)
            return gm_err_set(s->err, GM_E_FORMAT, "%s: more than %d merges", s->name, TOK_JSON_MAX_ID);
        ws(s);
        if (s->p < s->end && *s->p == ',') { s->p++; continue; }
        return expect(s, ']');
    }
}

/* The members of an object: vocab and merges (in the model object) to the
 * big readers, "model" recursively, everything else to cJSON into `into`. */
static int members(scan *s, cJSON *into, bool model)
{
    if (expect(s, '{') < 0) return -1;
    ws(s);
    if (s->p < s->end && *s->p == '}') { s->p++; return 0; }
    for (;;) {
        uint32_t off;
        size_t mark = s->out->strs_len;
        if (string(s, &off) < 0 || expect(s, ':') < 0) return -1;
        char key[64];
        snprintf(key, sizeof key, "%s", s->out->strs + off);
        s->out->strs_len = mark;
        int rc;
        if (model && strcmp(key, "vocab") == 0) rc = read_vocab(s);
        else if (model && strcmp(key, "merges") == 0) rc = read_merges(s);
        else if (!model && strcmp(key, "model") == 0) {
            cJSON *m = cJSON_CreateObject();
            if (!m || !cJSON_AddItemToObject(into, "model", m)) {
                cJSON_Delete(m);
                return gm_err_set(s->err, GM_E_NOMEM, "%s: out of memory", s->name);
            }
            ws(s);
            rc = (s->p < s->end && *s->p == '{') ? members(s, m, true) : bad(s, "\"model\" is not an object");
        } else rc = small_value(s, into, key);
        if (rc < 0) return -1;
        ws(s);
        if (s->p < s->end && *s->p == ',') { s->p++; continue; }
        return expect(s, '}');
    }
}

/* Read a whole tokenizer.json: the top-level object and nothing after it. */
int tok_json_scan(const char *buf, size_t len, const char *name, tok_json_big *out, gm_err *err)
{
    memset(out, 0, sizeof *out);
    out->doc = cJSON_CreateObject();
    if (!out->doc) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory", name);
    scan s = { .p = buf, .end = buf + len, .buf = buf, .name = name, .err = err, .out = out };
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) s.p += 3;   /* a UTF-8 BOM */
    if (members(&s, out->doc, false) < 0) return -1;
    ws(&s);
    if (s.p != s.end) return bad(&s, "text after the top-level object");
    return 0;
}

/* Release what tok_json_scan allocated (also after a failure). */
void tok_json_big_free(tok_json_big *b)
{
    cJSON_Delete(b->doc);
    free(b->strs);
    free(b->vocab_key);
    free(b->vocab_id);
    free(b->merge_l);
    free(b->merge_r);
    memset(b, 0, sizeof *b);
}
