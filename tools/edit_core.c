/* edit_core.c: the matching behind edit_file, without any I/O (fuzzable).
 *
 * gt_edit_apply does the exact replacement: it keeps CRLF files CRLF (the
 * model writes "\n"), accepts an old_string that ends with a newline at the
 * end of a file that has none, and refuses ambiguous matches unless
 * replace_all.  gt_edit_closest finds, on a miss, the window of lines that
 * looks most like old_string (mean per-line bigram similarity), so the model
 * sees what the file really says there. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem, also when built alone for fuzzing */
#endif
#include <stdlib.h>
#include <string.h>
#include "tools_int.h"

/* A file counts as CRLF when most of its newlines are CRLF. */
static bool is_crlf_text(const char *s, size_t n)
{
    size_t lf = 0, crlf = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n') {
            lf++;
            if (i && s[i - 1] == '\r') crlf++;
        }
    return crlf > 0 && crlf * 2 >= lf;
}

/* Copy of s with every line ending made CRLF; NULL on oom. */
static char *to_crlf(const char *s, size_t n, size_t *out_len)
{
    char *o = malloc(n * 2 + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') continue;
        if (s[i] == '\n') o[k++] = '\r';
        o[k++] = s[i];
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

/* Non-overlapping occurrences of needle; first positions into pos[]. */
static int count_matches(const char *h, size_t hl, const char *nd, size_t nl, size_t *pos, int maxpos)
{
    int count = 0;
    size_t i = 0;
    while (i + nl <= hl) {
        const char *f = memmem(h + i, hl - i, nd, nl);
        if (!f) break;
        size_t at = (size_t)(f - h);
        if (count < maxpos) pos[count] = at;
        count++;
        i = at + nl;
    }
    return count;
}

/* Exact replacement (see tools_int.h). */
void gt_edit_apply(const char *content, size_t len, const char *old_s, size_t old_len, const char *new_s,
                   size_t new_len, bool replace_all, size_t max_out, gt_edit_out *out)
{
    memset(out, 0, sizeof *out);
    if (!old_len) { out->status = GT_EDIT_EMPTY_OLD; return; }
    if (old_len == new_len && !memcmp(old_s, new_s, old_len)) { out->status = GT_EDIT_NO_CHANGE; return; }
    bool crlf = is_crlf_text(content, len);
    char *o2 = NULL, *n2 = NULL;
    const char *o = old_s, *nw = new_s;
    size_t ol = old_len, nwl = new_len;
    if (crlf) {
        n2 = to_crlf(new_s, new_len, &nwl);
        if (!n2) { out->status = GT_EDIT_OOM; return; }
        nw = n2;
    }
    size_t pos[20];
    int count = count_matches(content, len, o, ol, pos, 20);
    if (!count && crlf) {
        size_t l2;
        o2 = to_crlf(old_s, old_len, &l2);
        if (!o2) { out->status = GT_EDIT_OOM; goto done; }
        if (l2 != ol || memcmp(o2, o, ol)) {
            int c2 = count_matches(content, len, o2, l2, pos, 20);
            if (c2) { o = o2; ol = l2; count = c2; out->crlf = true; }
        }
    }
    if (!count && len && content[len - 1] != '\n' && ol && o[ol - 1] == '\n') {
        /* old_string ends with a newline the file's last line lacks. */
        size_t cut = ol >= 2 && o[ol - 2] == '\r' ? 2 : 1;
        size_t sl = ol - cut;
        if (sl && sl <= len && !memcmp(content + len - sl, o, sl)) {
            ol = sl;
            pos[0] = len - sl;
            count = 1;
            out->eof_nl_fixed = true;
            if (nwl && nw[nwl - 1] == '\n') nwl -= (nwl >= 2 && nw[nwl - 2] == '\r') ? 2 : 1;
        }
    }
    out->count = count;
    out->crlf = out->crlf || (crlf && n2 && (nwl != new_len || memcmp(n2, new_s, new_len)));
    /* Line numbers of the first matches, counted in one pass. */
    int line = 1;
    size_t at = 0;
    for (int i = 0; i < count && i < 20; i++) {
        for (; at < pos[i]; at++)
            if (content[at] == '\n') line++;
        out->lines[out->n_lines++] = line;
    }
    if (!count) { out->status = GT_EDIT_NOT_FOUND; goto done; }
    if (count > 1 && !replace_all) { out->status = GT_EDIT_MULTIPLE; goto done; }
    if (ol == nwl && !memcmp(o, nw, ol)) { out->status = GT_EDIT_NO_CHANGE; goto done; }
    size_t grow = nwl > ol ? (nwl - ol) * (size_t)count : 0, shrink = ol > nwl ? (ol - nwl) * (size_t)count : 0;
    size_t nlen = len + grow - shrink;
    if (nlen > max_out) { out->status = GT_EDIT_TOO_BIG; out->len = nlen; goto done; }
    char *d = malloc(nlen + 1);
    if (!d) { out->status = GT_EDIT_OOM; goto done; }
    size_t r = 0, w = 0;
    int done_n = 0;
    while (r < len) {
        const char *f = done_n < count ? memmem(content + r, len - r, o, ol) : NULL;
        if (out->eof_nl_fixed) f = content + pos[0];
        if (!f) { memcpy(d + w, content + r, len - r); w += len - r; break; }
        size_t fa = (size_t)(f - content);
        memcpy(d + w, content + r, fa - r);
        w += fa - r;
        memcpy(d + w, nw, nwl);
        w += nwl;
        r = fa + ol;
        done_n++;
        if (out->eof_nl_fixed) break;
    }
    d[w] = 0;
    out->data = d;
    out->len = w;
    out->status = GT_EDIT_OK;
done:
    free(o2);
    free(n2);
}

/* ---- closest region ---- */

#define NEAR_BIGRAMS 64
#define NEAR_PAIR_BUDGET 1000000L

typedef struct span_t { const char *p; size_t n; } span_t;

/* Lines of text with "\r" and surrounding blanks dropped; raw keeps the
 * untrimmed line (without "\r\n"). */
static span_t *lines_of(const char *s, size_t n, int *count, span_t **raw)
{
    int k = gt_count_lines(s, n);
    span_t *v = malloc(sizeof *v * (size_t)(k ? k : 1)), *r = malloc(sizeof *r * (size_t)(k ? k : 1));
    if (!v || !r) { free(v); free(r); *count = 0; *raw = NULL; return NULL; }
    size_t i = 0;
    for (int j = 0; j < k; j++) {
        const char *e = memchr(s + i, '\n', n - i);
        size_t len = e ? (size_t)(e - (s + i)) : n - i;
        const char *p = s + i;
        size_t l = len;
        if (l && p[l - 1] == '\r') l--;
        r[j] = (span_t){p, l};
        while (l && (*p == ' ' || *p == '\t')) { p++; l--; }
        while (l && (p[l - 1] == ' ' || p[l - 1] == '\t')) l--;
        v[j] = (span_t){p, l};
        i += len + (e ? 1 : 0);
    }
    *count = k;
    *raw = r;
    return v;
}

/* Sorted bigrams of a line (at most NEAR_BIGRAMS). */
static int bigrams(span_t s, unsigned short *g)
{
    int n = 0;
    for (size_t i = 0; i + 1 < s.n && n < NEAR_BIGRAMS; i++)
        g[n++] = (unsigned short)(((unsigned char)s.p[i] << 8) | (unsigned char)s.p[i + 1]);
    for (int i = 1; i < n; i++) {   /* insertion sort: n is small */
        unsigned short x = g[i];
        int j = i - 1;
        while (j >= 0 && g[j] > x) { g[j + 1] = g[j]; j--; }
        g[j + 1] = x;
    }
    return n;
}

/* Dice similarity of two lines given their bigrams. */
static double line_sim(span_t a, const unsigned short *ga, int na, span_t b, const unsigned short *gb, int nb)
{
    if (a.n == b.n && !memcmp(a.p, b.p, a.n)) return 1.0;
    if (!na || !nb) return 0.0;
    int i = 0, j = 0, common = 0;
    while (i < na && j < nb) {
        if (ga[i] == gb[j]) { common++; i++; j++; }
        else if (ga[i] < gb[j]) i++;
        else j++;
    }
    return 2.0 * common / (na + nb);
}

/* Equal once all blanks are ignored? */
static bool ws_equal(span_t a, span_t b)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a.n && (a.p[i] == ' ' || a.p[i] == '\t' || a.p[i] == '\r')) i++;
        while (j < b.n && (b.p[j] == ' ' || b.p[j] == '\t' || b.p[j] == '\r')) j++;
        if (i == a.n || j == b.n) return i == a.n && j == b.n;
        if (a.p[i++] != b.p[j++]) return false;
    }
}

/* Closest region (see tools_int.h). */
void gt_edit_closest(const char *content, size_t len, const char *old_s, size_t old_len, gt_near *out)
{
    memset(out, 0, sizeof *out);
    out->first_diff = -1;
    int n, k;
    span_t *hraw, *nraw;
    span_t *hay = lines_of(content, len, &n, &hraw);
    size_t ol = old_len;
    if (ol && old_s[ol - 1] == '\n') ol--;   /* a final newline does not add a line */
    span_t *nd = lines_of(old_s, ol, &k, &nraw);
    unsigned short *ng = NULL;
    int *ngn = NULL;
    double *score = NULL;
    if (!hay || !nd || !n || !k) goto done;
    int win = k <= n ? k : n, P = n - win + 1;
    long stride = ((long)n * win + NEAR_PAIR_BUDGET - 1) / NEAR_PAIR_BUDGET;
    if (stride < 1) stride = 1;
    ng = malloc(sizeof *ng * NEAR_BIGRAMS * (size_t)win);
    ngn = malloc(sizeof *ngn * (size_t)win);
    score = calloc((size_t)P, sizeof *score);
    if (!ng || !ngn || !score) goto done;
    int used = 0;
    for (int j = 0; j < win; j++) {
        ngn[j] = bigrams(nd[j], ng + (size_t)j * NEAR_BIGRAMS);
        if (j % stride == 0) used++;
    }
    unsigned short hg[NEAR_BIGRAMS];
    for (int h = 0; h < n; h++) {
        int hn = bigrams(hay[h], hg);
        for (int j = 0; j < win; j += (int)stride) {
            int i = h - j;
            if (i < 0) break;
            if (i >= P) continue;
            score[i] += line_sim(hay[h], hg, hn, nd[j], ng + (size_t)j * NEAR_BIGRAMS, ngn[j]);
        }
    }
    int best = 0;
    for (int i = 1; i < P; i++)
        if (score[i] > score[best]) best = i;
    out->start = best + 1;
    out->end = best + win;
    out->score = score[best] / used;
    out->ws_only = k <= n;
    for (int j = 0; j < win; j++) {
        span_t a = hraw[best + j], b = nraw[j];
        if (out->first_diff < 0 && (a.n != b.n || memcmp(a.p, b.p, a.n))) out->first_diff = j;
        if (!ws_equal(a, b)) out->ws_only = false;
    }
    if (k > n && out->first_diff < 0) out->first_diff = n;
done:
    free(hay);
    free(hraw);
    free(nd);
    free(nraw);
    free(ng);
    free(ngn);
    free(score);
}
