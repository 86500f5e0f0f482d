/* util.c: byte buffer, hashing, UTF-8 repair and binary sniffing for tools/.
 *
 * Everything the model sees must be valid UTF-8 (the tokenizer and JSON
 * need it), so text from files and commands goes through gt_put_utf8. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools_int.h"

/* Grow b so that n more bytes (plus a NUL) fit; false when out of memory. */
static bool gb_reserve(gt_buf *b, size_t n)
{
    if (b->oom) return false;
    if (b->len + n + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2) { b->oom = true; return false; }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = true; return false; }
    b->p = p;
    b->cap = cap;
    return true;
}

/* Append n bytes. */
void gb_put(gt_buf *b, const void *data, size_t n)
{
    if (!gb_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* Append a C string. */
void gb_puts(gt_buf *b, const char *s) { gb_put(b, s, strlen(s)); }

/* Append one byte. */
void gb_putc(gt_buf *b, char c) { gb_put(b, &c, 1); }

/* Append printf-style text. */
void gb_printf(gt_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = true; return; }
    if ((size_t)n < sizeof small) { gb_put(b, small, (size_t)n); return; }
    if (!gb_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Hand the text over to the caller; the buffer is left empty. */
char *gb_take(gt_buf *b)
{
    if (b->oom) { gb_free(b); return NULL; }
    char *p = b->p;
    if (!p) p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* Release the buffer's memory. */
void gb_free(gt_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

/* FNV-1a, 64 bits: enough to notice that a file changed under us. */
uint64_t gt_hash(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Binary test used by read_file, grep and fetch_url. */
bool gt_looks_binary(const char *data, size_t n)
{
    size_t lim = n < 8192 ? n : 8192, ctl = 0;
    for (size_t i = 0; i < lim; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (ch == 0) return true;
        if (ch < 32 && ch != '\n' && ch != '\r' && ch != '\t' && ch != '\f' && ch != '\v' && ch != 27 &&
            ch != '\b')
            ctl++;
    }
    return lim > 0 && ctl * 10 > lim;   /* more than 10% odd control bytes */
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* Append as valid UTF-8, replacing each bad byte by U+FFFD. */
size_t gt_put_utf8(gt_buf *b, const char *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0, run = 0, bad = 0;
    while (i < n) {
        size_t l = utf8_seq(p + i, n - i);
        if (l) { i += l; continue; }
        gb_put(b, data + run, i - run);
        gb_put(b, "\xEF\xBF\xBD", 3);
        bad++;
        i++;
        run = i;
    }
    gb_put(b, data + run, n - run);
    return bad;
}

/* Valid-UTF-8 copy. */
char *gt_utf8_dup(const char *data, size_t n, size_t *bad)
{
    gt_buf b = {0};
    size_t k = gt_put_utf8(&b, data, n);
    if (bad) *bad = k;
    return gb_take(&b);
}

/* Number of lines (a last line without newline counts). */
int gt_count_lines(const char *data, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        if (data[i] == '\n') k++;
    if (n && data[n - 1] != '\n') k++;
    return k;
}

/* 1-based line of a byte offset. */
int gt_line_of(const char *data, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        if (data[i] == '\n') line++;
    return line;
}

/* Size for humans. */
void gt_human_size(unsigned long long n, char *out, size_t outlen)
{
    if (n < 1024) snprintf(out, outlen, "%llu B", n);
    else if (n < 1024ULL * 1024) snprintf(out, outlen, "%.1f KiB", n / 1024.0);
    else if (n < 1024ULL * 1024 * 1024) snprintf(out, outlen, "%.1f MiB", n / (1024.0 * 1024));
    else snprintf(out, outlen, "%.1f GiB", n / (1024.0 * 1024 * 1024));
}

/* Terminal output made readable for the model: ANSI escape sequences (CSI,
 * OSC, two-byte ESC) are dropped, and a carriage return that is not part of
 * "\r\n" restarts the line, so progress bars leave only their last state.
 * The result is appended to b as valid UTF-8. */
void gt_put_terminal(gt_buf *b, const char *s, size_t n)
{
    gt_buf t = {0};
    size_t line_start = 0;   /* where the current line starts in t */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 27 && i + 1 < n) {
            unsigned char k = (unsigned char)s[i + 1];
            if (k == '[') {   /* CSI: parameters, then a final byte 0x40-0x7E */
                i += 2;
                while (i < n && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7E)) i++;
            } else if (k == ']') {   /* OSC: up to BEL or ESC \ */
                i += 2;
                while (i < n && s[i] != 7 && !(s[i] == 27 && i + 1 < n && s[i + 1] == '\\')) i++;
                if (i < n && s[i] == 27) i++;
            } else {
                i++;
            }
            continue;
        }
        if (c == '\r' && !(i + 1 < n && s[i + 1] == '\n')) {
            if (i + 1 < n) t.len = line_start;   /* the line is redrawn */
            continue;
        }
        gb_putc(&t, (char)c);
        if (c == '\n') line_start = t.len;
    }
    if (t.oom) { b->oom = true; gb_free(&t); return; }
    gt_put_utf8(b, t.p ? t.p : "", t.len);
    gb_free(&t);
}
