/* html.c: HTML reduced to plain text for fetch_url.
 *
 * A single pass, no DOM: comments, script, style and similar elements are
 * dropped, block elements become line breaks, inline tags vanish, common
 * entities are decoded and whitespace is collapsed (kept inside <pre>).
 * Good enough to let the model read documentation pages. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem, also when built alone for fuzzing */
#endif
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "tools_int.h"

typedef struct hstate {
    gt_buf out;
    size_t max;
    bool   in_pre;
} hstate;

/* Drop trailing blanks, then make the text end in at least k newlines. */
static void hnewline(hstate *h, int k)
{
    while (h->out.len && (h->out.p[h->out.len - 1] == ' ')) h->out.len--;
    if (!h->out.len) return;
    int have = 0;
    for (size_t i = h->out.len; i > 0 && h->out.p[i - 1] == '\n' && have < 2; i--) have++;
    for (; have < k; have++) gb_putc(&h->out, '\n');
}

/* One blank between words, none at a line start. */
static void hspace(hstate *h)
{
    if (h->out.len && h->out.p[h->out.len - 1] != ' ' && h->out.p[h->out.len - 1] != '\n') gb_putc(&h->out, ' ');
}

/* Append a code point as UTF-8. */
static void put_cp(gt_buf *b, unsigned cp)
{
    char u[4];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) { u[0] = (char)cp; gb_put(b, u, 1); }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); gb_put(b, u, 2); }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F));
        gb_put(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F));
        gb_put(b, u, 4);
    }
}

static const struct { const char *name; unsigned cp; } ENTITIES[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", ' '},
    {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026}, {"copy", 0xA9}, {"reg", 0xAE},
    {"trade", 0x2122}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"laquo", 0xAB}, {"raquo", 0xBB}, {"middot", 0xB7}, {"bull", 0x2022}, {"times", 0xD7},
    {"deg", 0xB0}, {"euro", 0x20AC}, {"larr", 0x2190}, {"rarr", 0x2192},
};

/* Decode the entity at s[0] == '&'; returns bytes consumed (0: not one). */
static size_t entity(const char *s, size_t n, hstate *h)
{
    size_t i = 1;
    char name[16];
    size_t k = 0;
    if (i < n && s[i] == '#') {
        i++;
        bool hex = i < n && (s[i] == 'x' || s[i] == 'X');
        if (hex) i++;
        unsigned long cp = 0;
        size_t digits = 0;
        while (i < n && digits < 8 && (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]))) {
            cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10));
            i++;
            digits++;
        }
        if (!digits) return 0;
        if (i < n && s[i] == ';') i++;
        put_cp(&h->out, cp > 0x10FFFF ? 0xFFFD : (unsigned)cp);
        return i;
    }
    while (i < n && k < sizeof name - 1 && isalnum((unsigned char)s[i])) name[k++] = s[i++];
    name[k] = 0;
    if (!k || i >= n || s[i] != ';') return 0;
    for (size_t e = 0; e < sizeof ENTITIES / sizeof ENTITIES[0]; e++)
        if (!strcmp(ENTITIES[e].name, name)) {
            if (ENTITIES[e].cp == ' ') hspace(h);
            else put_cp(&h->out, ENTITIES[e].cp);
            return i + 1;
        }
    return 0;
}

/* Is name one of the words in list (space separated)? */
static bool in_list(const char *name, const char *list)
{
    size_t l = strlen(name);
    if (!l) return false;
    for (const char *p = list; (p = strstr(p, name)); p += l)
        if ((p == list || p[-1] == ' ') && (p[l] == ' ' || p[l] == 0)) return true;
    return false;
}

/* Reduce HTML to text (see tools_int.h). */
char *gt_html_to_text(const char *s, size_t n, size_t max_out)
{
    hstate h = {.max = max_out};
    size_t i = 0;
    while (i < n && h.out.len < h.max) {
        char ch = s[i];
        if (ch == '<') {
            if (i + 3 < n && !strncmp(s + i, "<!--", 4)) {
                const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
                i = e ? (size_t)(e - s) + 3 : n;
                continue;
            }
            size_t j = i + 1;
            bool closing = j < n && s[j] == '/';
            if (closing) j++;
            char name[16];
            size_t k = 0;
            while (j < n && k < sizeof name - 1 && (isalnum((unsigned char)s[j]))) name[k++] = (char)tolower((unsigned char)s[j++]);
            name[k] = 0;
            if (!k && !(j < n && (s[j] == '!' || s[j] == '?'))) {   /* a lone '<' is text */
                gb_putc(&h.out, '<');
                i++;
                continue;
            }
            char q = 0;   /* find the tag's end, minding quoted attributes */
            while (j < n && (q || s[j] != '>')) {
                if (q && s[j] == q) q = 0;
                else if (!q && (s[j] == '"' || s[j] == '\'')) q = s[j];
                j++;
            }
            i = j < n ? j + 1 : n;
            if (!closing && in_list(name, "script style noscript template svg iframe object")) {
                /* skip to the matching end tag */
                size_t t = i;
                for (; t + k + 2 <= n; t++)
                    if (s[t] == '<' && s[t + 1] == '/' && !strncasecmp(s + t + 2, name, k)) break;
                if (t + k + 2 > n) { i = n; continue; }
                const char *e = memchr(s + t, '>', n - t);
                i = e ? (size_t)(e - s) + 1 : n;
                continue;
            }
            if (!strcmp(name, "pre")) { h.in_pre = !closing; hnewline(&h, 2); continue; }
            if (in_list(name, "br tr dt dd")) { hnewline(&h, 1); continue; }
            if (!strcmp(name, "li")) {
                hnewline(&h, 1);
                if (!closing) gb_puts(&h.out, "- ");
                continue;
            }
            if (in_list(name, "td th")) { hspace(&h); continue; }
            if (in_list(name, "p div h1 h2 h3 h4 h5 h6 ul ol table section article header footer nav "
                              "blockquote hr title form main aside figure figcaption dl address body html head")) {
                hnewline(&h, 2);
                continue;
            }
            continue;   /* inline tag: nothing */
        }
        if (ch == '&') {
            size_t used = entity(s + i, n - i, &h);
            if (used) { i += used; continue; }
        }
        if (!h.in_pre && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f')) {
            hspace(&h);
            i++;
            continue;
        }
        if (h.in_pre && ch == '\r') { i++; continue; }
        gb_putc(&h.out, ch);
        i++;
    }
    /* trim the end */
    while (h.out.len && (h.out.p[h.out.len - 1] == ' ' || h.out.p[h.out.len - 1] == '\n')) h.out.len--;
    if (h.out.p) h.out.p[h.out.len] = 0;
    return gb_take(&h.out);
}
