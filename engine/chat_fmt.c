/* chat_fmt.c: how single values are written into a Gemma 4 prompt.
 *
 * The official template is Jinja running over Python objects, so every value
 * prints the way Python prints it: ints bare, floats in repr form ("15.0",
 * "1e-05"), None, True/False inside reprs.  cJSON keeps numbers as doubles,
 * so an integral double below 2^53 is taken for a JSON integer; a caller that
 * needs "15.0" kept as a float passes a cJSON raw item holding "15.0". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chat_int.h"

/* Grow the buffer to hold n more bytes plus a NUL; false when out of memory. */
static bool chat_reserve(chat_buf *b, size_t n)
{
    if (b->oom) return false;
    if (n > (size_t)-1 / 2 - b->len - 1) { b->oom = true; return false; }
    if (b->len + n + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = true; return false; }
    b->p = p;
    b->cap = cap;
    return true;
}

/* Append n bytes. */
void chat_put(chat_buf *b, const char *s, size_t n)
{
    if (n == 0 || !chat_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Append a C string. */
void chat_puts(chat_buf *b, const char *s)
{
    chat_put(b, s, strlen(s));
}

/* Append upper-cased text (Jinja's |upper on ASCII type names). */
void chat_put_upper(chat_buf *b, const char *s, size_t n)
{
    if (n == 0 || !chat_reserve(b, n)) return;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        b->p[b->len + i] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    b->len += n;
    b->p[b->len] = '\0';
}

/* Give the caller the finished text; an empty render is "" not NULL. */
char *chat_take(chat_buf *b)
{
    if (b->oom) { free(b->p); b->p = NULL; return NULL; }
    if (!b->p && !chat_reserve(b, 0)) return NULL;
    if (b->len == 0) b->p[0] = '\0';
    char *p = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* Python truthiness (see chat_int.h). */
bool chat_truthy(const cJSON *v)
{
    if (!v) return false;
    if (cJSON_IsNull(v) || cJSON_IsFalse(v)) return false;
    if (cJSON_IsTrue(v)) return true;
    if (cJSON_IsNumber(v)) return v->valuedouble != 0.0;
    if (cJSON_IsString(v)) return v->valuestring && v->valuestring[0];
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
    if (cJSON_IsRaw(v)) return v->valuestring && v->valuestring[0];
    return false;
}

/* Case-sensitive member lookup; Jinja's getitem is case-sensitive. */
const cJSON *chat_get(const cJSON *obj, const char *key)
{
    if (!cJSON_IsObject(obj)) return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Length of the Unicode whitespace character at s (Python's str.isspace set),
 * or 0 if s does not start with one. */
static size_t ws_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
    if (c == 0xc2 && n >= 2 && (s[1] == 0x85 || s[1] == 0xa0)) return 2;
    if (n >= 3 && c == 0xe1 && s[1] == 0x9a && s[2] == 0x80) return 3;      /* U+1680 */
    if (n >= 3 && c == 0xe2 && s[1] == 0x80 &&
        (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf)) return 3;
    if (n >= 3 && c == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) return 3;      /* U+205F */
    if (n >= 3 && c == 0xe3 && s[1] == 0x80 && s[2] == 0x80) return 3;      /* U+3000 */
    return 0;
}

/* Python str.strip() over UTF-8 (Jinja's |trim). */
void chat_strip(const char *s, size_t n, const char **out, size_t *out_n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t a = 0, e = n, k;
    while (a < e && (k = ws_len(u + a, e - a)) > 0) a += k;
    while (e > a) {
        /* back up to the first byte of the last character and test it */
        size_t st = e - 1;
        while (st > a && (u[st] & 0xc0) == 0x80 && e - st < 4) st--;
        k = ws_len(u + st, e - st);
        if (k == 0 || k != e - st) break;
        e = st;
    }
    *out = s + a;
    *out_n = e - a;
}

/* Python's repr() of a float: shortest digits that round-trip, fixed
 * notation for decimal exponents in [-4, 16), otherwise d.ddde+XX. */
static void put_py_float(chat_buf *b, double v)
{
    char tmp[64], digits[32], out[64];
    if (isnan(v)) { chat_puts(b, "nan"); return; }
    if (isinf(v)) { chat_puts(b, v < 0 ? "-inf" : "inf"); return; }
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    /* tmp is [-]d[.ddd]e[+-]XX */
    const char *p = tmp;
    bool neg = false;
    if (*p == '-') { neg = true; p++; }
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    int exp10 = (*p == 'e') ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    int o = 0;
    if (neg) out[o++] = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++) out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > exp10 + 1) for (int i = exp10 + 1; i < nd; i++) out[o++] = digits[i];
            else out[o++] = '0';
        } else {
            out[o++] = '0'; out[o++] = '.';
            for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
            for (int i = 0; i < nd; i++) out[o++] = digits[i];
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++) out[o++] = digits[i];
        }
        snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", exp10 < 0 ? '-' : '+',
                 exp10 < 0 ? -exp10 : exp10);
    }
    chat_puts(b, out);
}

/* A JSON number as Python would print it after json.loads (int or float). */
static void put_py_number(chat_buf *b, double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.0f", v == 0.0 ? 0.0 : v);
        chat_puts(b, tmp);
    } else {
        put_py_float(b, v);
    }
}

/* Python repr() of a str: single quotes unless the text has ' and no ". */
static void put_py_repr_str(chat_buf *b, const char *s)
{
    char q = (strchr(s, '\'') && !strchr(s, '"')) ? '"' : '\'';
    chat_put(b, &q, 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '\\') chat_puts(b, "\\\\");
        else if (*p == (unsigned char)q) { esc[0] = '\\'; esc[1] = q; chat_put(b, esc, 2); }
        else if (*p == '\n') chat_puts(b, "\\n");
        else if (*p == '\r') chat_puts(b, "\\r");
        else if (*p == '\t') chat_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            chat_puts(b, esc);
        } else chat_put(b, (const char *)p, 1);
    }
    chat_put(b, &q, 1);
}

/* Python repr() of any value (used inside list/dict reprs). */
static void put_py_repr(chat_buf *b, const cJSON *v)
{
    if (cJSON_IsString(v)) { put_py_repr_str(b, v->valuestring ? v->valuestring : ""); return; }
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        chat_puts(b, obj ? "{" : "[");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child) chat_puts(b, ", ");
            if (obj) {
                put_py_repr_str(b, c->string ? c->string : "");
                chat_puts(b, ": ");
            }
            put_py_repr(b, c);
        }
        chat_puts(b, obj ? "}" : "]");
        return;
    }
    chat_py_str(b, v);
}

/* {{ v }} in the template (see chat_int.h). */
void chat_py_str(chat_buf *b, const cJSON *v)
{
    if (!v) return;
    if (cJSON_IsString(v)) chat_puts(b, v->valuestring ? v->valuestring : "");
    else if (cJSON_IsRaw(v)) chat_puts(b, v->valuestring ? v->valuestring : "");
    else if (cJSON_IsNumber(v)) put_py_number(b, v->valuedouble);
    else if (cJSON_IsTrue(v)) chat_puts(b, "True");
    else if (cJSON_IsFalse(v)) chat_puts(b, "False");
    else if (cJSON_IsNull(v)) chat_puts(b, "None");
    else put_py_repr(b, v);
}

/* One comparison step of Jinja's dictsort: lower-cased keys (ASCII), then
 * original position so equal keys keep their order (Python's sort is stable). */
typedef struct { const cJSON *item; size_t pos; } sort_ent;

/* qsort comparator for sort_ent (the dictsort order described above). */
static int cmp_key_ci(const void *pa, const void *pb)
{
    const sort_ent *a = pa, *b = pb;
    const unsigned char *x = (const unsigned char *)(a->item->string ? a->item->string : "");
    const unsigned char *y = (const unsigned char *)(b->item->string ? b->item->string : "");
    for (;; x++, y++) {
        unsigned cx = *x, cy = *y;
        if (cx >= 'A' && cx <= 'Z') cx += 32;
        if (cy >= 'A' && cy <= 'Z') cy += 32;
        if (cx != cy) return cx < cy ? -1 : 1;
        if (!cx) break;
    }
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Members in dictsort order (see chat_int.h). */
int chat_sorted_members(const cJSON *obj, const cJSON ***out)
{
    *out = NULL;
    size_t n = 0;
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) n++;
    if (n == 0) return 0;
    if (n > 0x7fffffff) return -1;
    sort_ent *e = malloc(n * sizeof *e);
    const cJSON **r = malloc(n * sizeof *r);
    if (!e || !r) { free(e); free(r); return -1; }
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next, i++) { e[i].item = c; e[i].pos = i; }
    qsort(e, n, sizeof *e, cmp_key_ci);
    for (i = 0; i < n; i++) r[i] = e[i].item;
    free(e);
    *out = r;
    return (int)n;
}

/* format_argument (see chat_int.h). */
void chat_format_arg(chat_buf *b, const cJSON *v, bool escape_keys)
{
    if (!v) return;
    if (cJSON_IsString(v)) {
        chat_puts(b, "<|\"|>");
        chat_puts(b, v->valuestring ? v->valuestring : "");
        chat_puts(b, "<|\"|>");
    } else if (cJSON_IsBool(v)) {
        chat_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsObject(v)) {
        const cJSON **m;
        int n = chat_sorted_members(v, &m);
        if (n < 0) { b->oom = true; return; }
        chat_puts(b, "{");
        for (int i = 0; i < n; i++) {
            if (i) chat_puts(b, ",");
            if (escape_keys) chat_puts(b, "<|\"|>");
            chat_puts(b, m[i]->string ? m[i]->string : "");
            if (escape_keys) chat_puts(b, "<|\"|>");
            chat_puts(b, ":");
            chat_format_arg(b, m[i], escape_keys);
        }
        chat_puts(b, "}");
        free(m);
    } else if (cJSON_IsArray(v)) {
        chat_puts(b, "[");
        for (const cJSON *c = v->child; c; c = c->next) {
            if (c != v->child) chat_puts(b, ",");
            chat_format_arg(b, c, escape_keys);
        }
        chat_puts(b, "]");
    } else {
        chat_py_str(b, v);
    }
}

/* Public: one value as tool-call arguments and tool responses write it. */
char *gm_chat_format_value(const cJSON *value, gm_err *err)
{
    if (!value) {
        gm_err_set(err, GM_E_ARG, "gm_chat_format_value: value is NULL; pass a cJSON item");
        return NULL;
    }
    chat_buf b = {0};
    chat_format_arg(&b, value, false);
    char *s = chat_take(&b);
    if (!s) gm_err_set(err, GM_E_NOMEM, "gm_chat_format_value: out of memory while formatting a value");
    return s;
}
