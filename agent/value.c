/* value.c: reading Gemma 4's native value syntax into cJSON.
 *
 * Tool-call arguments are not JSON: keys are bare, strings sit between two
 * <|"|> control tokens, and nothing is escaped.  This file reads one call
 * body ("call:NAME{...}") or one value from a symbol array (agent.h) and says
 * precisely where and why a malformed one fails, because that message goes
 * back to the model so that it can fix its call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "agent.h"

static const char *const sym_texts[AG_SYM_COUNT - 256] = {
    "<|\"|>", "<|tool_call>", "<tool_call|>", "<|tool_response>", "<tool_response|>",
    "<|channel>", "<channel|>", "<|turn>", "<turn|>", "<eos>", NULL,
};

/* The literal text of a control symbol, for printing and re-encoding. */
const char *ag_sym_text(int sym)
{
    if (sym < 256 || sym >= AG_SYM_COUNT) return NULL;
    return sym_texts[sym - 256];
}

/* Map a vocabulary piece to the protocol symbol it stands for. */
int ag_sym_of_piece(const char *piece, size_t n)
{
    for (int s = 256; s < AG_SYM_OTHER; s++) {
        const char *t = sym_texts[s - 256];
        if (strlen(t) == n && memcmp(t, piece, n) == 0) return s;
    }
    return -1;
}

/* Tests and history parsing start from text; control tokens become symbols. */
int *ag_text_to_syms(const char *s, size_t n, size_t *n_out)
{
    int *out = malloc((n + 1) * sizeof *out);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        int hit = -1; size_t len = 0;
        if (s[i] == '<')
            for (int sym = 256; sym < AG_SYM_OTHER; sym++) {
                const char *t = sym_texts[sym - 256];
                size_t tl = strlen(t);
                if (tl <= n - i && memcmp(s + i, t, tl) == 0) { hit = sym; len = tl; break; }
            }
        if (hit >= 0) { out[k++] = hit; i += len; }
        else out[k++] = (unsigned char)s[i++];
    }
    *n_out = k;
    return out;
}

typedef struct {
    const int *s;
    size_t     n, i;
    char      *err;
    size_t     cap;
    int        depth;
} rd;

#define MAX_DEPTH 64

/* Describe the symbol at the cursor the way an error message quotes it. */
static void describe(const rd *r, char *buf, size_t cap)
{
    if (r->i >= r->n) { snprintf(buf, cap, "the end of the call"); return; }
    int c = r->s[r->i];
    if (c >= 256) snprintf(buf, cap, "%s", c == AG_SYM_OTHER ? "a control token" : ag_sym_text(c));
    else if (c >= 32 && c < 127) snprintf(buf, cap, "'%c'", c);
    else snprintf(buf, cap, "byte 0x%02x", c);
}

/* Record the first error: what was expected, what was found, and where. */
static cJSON *fail(rd *r, const char *expected)
{
    if (r->err && r->err[0] == 0) {
        char what[48];
        describe(r, what, sizeof what);
        snprintf(r->err, r->cap, "expected %s at character %zu, found %s", expected, r->i, what);
    }
    return NULL;
}

/* Whitespace between tokens is tolerated when reading (not when generating). */
static void skip_ws(rd *r)
{
    while (r->i < r->n && r->s[r->i] < 256 && isspace(r->s[r->i])) r->i++;
}

/* Characters a bare argument name may hold. */
static bool is_key_char(int c)
{
    return c < 256 && (isalnum(c) || c == '_' || c == '-' || c == '.' || c == '$' || c >= 128);
}

/* Append symbol bytes [a, b) to a new NUL-terminated string. */
static char *bytes_dup(const int *s, size_t a, size_t b)
{
    char *o = malloc(b - a + 1);
    if (!o) return NULL;
    for (size_t k = a; k < b; k++) o[k - a] = (char)s[k];
    o[b - a] = 0;
    return o;
}

/* Read a string delimited by <|"|>; its content is taken verbatim. */
static char *read_gstring(rd *r)
{
    size_t start = ++r->i;
    while (r->i < r->n && r->s[r->i] != AG_SYM_QUOTE) {
        if (r->s[r->i] >= 256) {
            fail(r, "text or the closing <|\"|> of a string");
            return NULL;
        }
        r->i++;
    }
    if (r->i >= r->n) {
        r->i = start - 1;
        fail(r, "a string closed by <|\"|> (this one is never closed)");
        return NULL;
    }
    char *o = bytes_dup(r->s, start, r->i);
    r->i++;
    return o;
}

/* Leniency: a JSON-style "..." string (with escapes) is read too. */
static char *read_jstring(rd *r)
{
    size_t start = r->i++;
    while (r->i < r->n && r->s[r->i] != '"') {
        if (r->s[r->i] >= 256) break;
        if (r->s[r->i] == '\\') r->i++;
        r->i++;
    }
    if (r->i >= r->n || r->s[r->i] != '"') {
        r->i = start;
        fail(r, "a closing '\"' for this string");
        return NULL;
    }
    r->i++;
    char *raw = bytes_dup(r->s, start, r->i);
    if (!raw) return NULL;
    cJSON *j = cJSON_Parse(raw);
    free(raw);
    if (!cJSON_IsString(j)) {
        cJSON_Delete(j);
        r->i = start;
        fail(r, "a valid JSON string escape");
        return NULL;
    }
    char *o = strdup(j->valuestring);
    cJSON_Delete(j);
    return o;
}

static cJSON *read_value(rd *r);

/* Read an object body after '{' up to the matching '}'. */
static cJSON *read_object(rd *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return fail(r, "memory for the arguments");
    r->i++;
    skip_ws(r);
    if (r->i < r->n && r->s[r->i] == '}') { r->i++; return o; }
    for (;;) {
        skip_ws(r);
        char *key = NULL;
        size_t kstart = r->i;
        if (r->i < r->n && r->s[r->i] == AG_SYM_QUOTE) key = read_gstring(r);
        else if (r->i < r->n && r->s[r->i] == '"') key = read_jstring(r);
        else {
            while (r->i < r->n && is_key_char(r->s[r->i])) r->i++;
            if (r->i == kstart) { cJSON_Delete(o); return fail(r, "an argument name"); }
            key = bytes_dup(r->s, kstart, r->i);
        }
        if (!key) { cJSON_Delete(o); return NULL; }
        skip_ws(r);
        if (r->i >= r->n || r->s[r->i] != ':') {
            char exp[160];
            snprintf(exp, sizeof exp, "':' after the argument name '%.100s'", key);
            free(key); cJSON_Delete(o);
            return fail(r, exp);
        }
        r->i++;
        if (cJSON_GetObjectItemCaseSensitive(o, key)) {
            char msg[200];
            snprintf(msg, sizeof msg, "each argument once, but '%.100s' appears twice", key);
            r->i = kstart;
            free(key); cJSON_Delete(o);
            return fail(r, msg);
        }
        cJSON *v = read_value(r);
        if (!v) { free(key); cJSON_Delete(o); return NULL; }
        cJSON_AddItemToObject(o, key, v);
        free(key);
        skip_ws(r);
        if (r->i < r->n && r->s[r->i] == ',') { r->i++; continue; }
        if (r->i < r->n && r->s[r->i] == '}') { r->i++; return o; }
        cJSON_Delete(o);
        return fail(r, "',' or '}' after an argument");
    }
}

/* Read an array after '[' up to the matching ']'. */
static cJSON *read_array(rd *r)
{
    cJSON *a = cJSON_CreateArray();
    if (!a) return fail(r, "memory for the arguments");
    r->i++;
    skip_ws(r);
    if (r->i < r->n && r->s[r->i] == ']') { r->i++; return a; }
    for (;;) {
        cJSON *v = read_value(r);
        if (!v) { cJSON_Delete(a); return NULL; }
        cJSON_AddItemToArray(a, v);
        skip_ws(r);
        if (r->i < r->n && r->s[r->i] == ',') { r->i++; continue; }
        if (r->i < r->n && r->s[r->i] == ']') { r->i++; return a; }
        cJSON_Delete(a);
        return fail(r, "',' or ']' in a list");
    }
}

/* JSON's number shape: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *b)
{
    if (*b == '-') b++;
    if (*b == '0') b++;
    else if (isdigit((unsigned char)*b)) while (isdigit((unsigned char)*b)) b++;
    else return false;
    if (*b == '.') {
        b++;
        if (!isdigit((unsigned char)*b)) return false;
        while (isdigit((unsigned char)*b)) b++;
    }
    if (*b == 'e' || *b == 'E') {
        b++;
        if (*b == '+' || *b == '-') b++;
        if (!isdigit((unsigned char)*b)) return false;
        while (isdigit((unsigned char)*b)) b++;
    }
    return *b == 0;
}

/* Read a bare number with JSON's shape (sign, digits, fraction, exponent). */
static cJSON *read_number(rd *r)
{
    size_t a = r->i;
    char buf[64];
    size_t k = 0;
    while (r->i < r->n && r->s[r->i] < 256 &&
           (isdigit(r->s[r->i]) || strchr("+-.eE", r->s[r->i])) && k < sizeof buf - 1)
        buf[k++] = (char)r->s[r->i++];
    buf[k] = 0;
    char *end;
    double d = strtod(buf, &end);
    if (k == 0 || *end != 0 || !json_number(buf)) {
        r->i = a;
        return fail(r, "a number (digits, optional sign, fraction and exponent)");
    }
    return cJSON_CreateNumber(d);
}

/* Read one value of any kind, dispatching on its first symbol. */
static cJSON *read_value(rd *r)
{
    skip_ws(r);
    if (r->i >= r->n) return fail(r, "a value");
    int c = r->s[r->i];
    if (++r->depth > MAX_DEPTH) return fail(r, "at most 64 levels of nesting");
    cJSON *v = NULL;
    if (c == AG_SYM_QUOTE || c == '"') {
        char *s = c == '"' ? read_jstring(r) : read_gstring(r);
        if (s) { v = cJSON_CreateString(s); free(s); }
    } else if (c == '{') v = read_object(r);
    else if (c == '[') v = read_array(r);
    else if (c == '-' || (c < 256 && isdigit(c))) v = read_number(r);
    else {
        static const char *const words[] = {"true", "false", "null"};
        for (int w = 0; w < 3 && !v; w++) {
            size_t L = strlen(words[w]), k = 0;
            while (k < L && r->i + k < r->n && r->s[r->i + k] == words[w][k]) k++;
            if (k == L && (r->i + L >= r->n || !is_key_char(r->s[r->i + L]))) {
                r->i += L;
                v = w == 2 ? cJSON_CreateNull() : cJSON_CreateBool(w == 0);
            }
        }
        if (!v) fail(r, "a value (<|\"|>string<|\"|>, number, true, false, null, [list] or {object})");
    }
    r->depth--;
    return v;
}

/* Public: one standalone value, nothing but whitespace after it. */
cJSON *ag_parse_value(const int *syms, size_t n, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    rd r = {syms, n, 0, err, cap, 0};
    cJSON *v = read_value(&r);
    if (!v) return NULL;
    skip_ws(&r);
    if (r.i < r.n) { cJSON_Delete(v); return fail(&r, "nothing after the value"); }
    return v;
}

/* Public: "call:NAME{args}" into {"name","arguments"}. */
cJSON *ag_parse_call(const int *syms, size_t n, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    rd r = {syms, n, 0, err, cap, 0};
    skip_ws(&r);
    static const char call[] = "call:";
    for (int k = 0; k < 5; k++, r.i++)
        if (r.i >= n || syms[r.i] != call[k]) return fail(&r, "'call:' at the start of a tool call");
    size_t a = r.i;
    while (r.i < n && syms[r.i] < 256 && (isalnum(syms[r.i]) || strchr("_-.", syms[r.i]))) r.i++;
    if (r.i == a) return fail(&r, "a tool name after 'call:'");
    char *name = bytes_dup(syms, a, r.i);
    if (!name) return fail(&r, "memory for the tool name");
    skip_ws(&r);
    if (r.i >= n || syms[r.i] != '{') {
        char exp[160];
        snprintf(exp, sizeof exp, "'{' after the tool name '%.100s'", name);
        free(name);
        return fail(&r, exp);
    }
    cJSON *args = read_object(&r);
    if (!args) {
        if (err && cap) {   /* say which tool the broken call was for */
            char tmp[1024];
            snprintf(tmp, sizeof tmp, "in the arguments of '%s': %s", name, err);
            snprintf(err, cap, "%s", tmp);
        }
        free(name);
        return NULL;
    }
    skip_ws(&r);
    if (r.i < n) {
        cJSON_Delete(args);
        free(name);
        return fail(&r, "<tool_call|> right after the '}' that closes the arguments");
    }
    cJSON *c = cJSON_CreateObject();
    if (!c || !cJSON_AddStringToObject(c, "name", name)) {
        cJSON_Delete(c); cJSON_Delete(args); free(name);
        return fail(&r, "memory for the call");
    }
    cJSON_AddItemToObject(c, "arguments", args);
    free(name);
    return c;
}

/* Model text is bytes: byte-fallback tokens can leave a sequence unfinished
 * or invalid.  Messages, session files and events are JSON, so invalid
 * sequences become U+FFFD.  Returns a malloc'd string. */
char *ag_utf8_sanitize(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *o = malloc(n * 3 + 1);
    if (!o) return NULL;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        int need = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2
                 : (c >= 0xF0 && c <= 0xF4) ? 3 : -1;
        bool ok = need >= 0 && i + (size_t)need < n + (need == 0);
        for (int j = 1; ok && j <= need; j++) {
            unsigned d = p[i + (size_t)j];
            unsigned lo = 0x80, hi = 0xBF;
            if (j == 1 && c == 0xE0) lo = 0xA0;
            if (j == 1 && c == 0xED) hi = 0x9F;
            if (j == 1 && c == 0xF0) lo = 0x90;
            if (j == 1 && c == 0xF4) hi = 0x8F;
            ok = d >= lo && d <= hi;
        }
        if (ok) { memcpy(o + k, p + i, (size_t)need + 1); k += (size_t)need + 1; i += (size_t)need + 1; }
        else { memcpy(o + k, "\xEF\xBF\xBD", 3); k += 3; i++; }
    }
    o[k] = 0;
    return o;
}

/* Print the n bytes at s so that the terminal shows
 * what the bytes are and does nothing else: C0 controls (NUL included) other
 * than tab and newline, DEL and the C1 controls become ^X or <U+XXXX>, and so do the
 * bidirectional overrides and isolates that can make text read in another
 * order ("Trojan Source").  Model text, commands, paths, diffs and tool
 * output come from the model or the files it touched; a backspace or an
 * escape sequence in them must not change what the approval prompt appears
 * to ask, nor reach the terminal as a command (a clipboard write, a title). */
void ag_put_safe(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            fputc('^', f);
            fputc(c == 0x7f ? '?' : (int)(c + 0x40), f);
        } else if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
            fprintf(f, "<U+%04X>", p[i + 1]);                       /* C1 control */
            i++;
        } else if (c == 0xE2 && i + 2 < n && ((p[i + 1] == 0x80 && p[i + 2] >= 0xAA && p[i + 2] <= 0xAE) ||
                                              (p[i + 1] == 0x81 && p[i + 2] >= 0xA6 && p[i + 2] <= 0xA9))) {
            fprintf(f, "<U+%04X>", 0x2000 + ((p[i + 1] & 0x3F) << 6) + (p[i + 2] & 0x3F));   /* U+202A-E, U+2066-9 */
            i += 2;
        } else fputc((int)c, f);
    }
}
