/* diff.c: unified diffs for /diff and for the edit results shown to the user.
 *
 * Lines are compared by hash then bytes.  The common head and tail are cut
 * off first; the middle goes through Myers' O(ND) shortest edit script with
 * a bound on D, past which the middle is shown as removed then added (still
 * a correct diff, only not the smallest). */
#include <stdlib.h>
#include <string.h>
#include "tools_int.h"

#define DIFF_MAX_D 2000

typedef struct line_t {
    const char *p;
    size_t      n;      /* without the newline */
    bool        nl;     /* ends with a newline */
    uint64_t    h;
} line_t;

/* Split text into lines; NULL on oom (count 0 is fine with a NULL text). */
static line_t *split_lines(const char *s, size_t n, int *count, bool *oom)
{
    int k = gt_count_lines(s, n);
    *count = k;
    *oom = false;
    if (!k) return NULL;
    line_t *v = malloc(sizeof *v * (size_t)k);
    if (!v) { *oom = true; return NULL; }
    size_t i = 0;
    for (int j = 0; j < k; j++) {
        const char *e = memchr(s + i, '\n', n - i);
        size_t len = e ? (size_t)(e - (s + i)) : n - i;
        v[j] = (line_t){s + i, len, e != NULL, gt_hash(s + i, len) ^ (e ? 1 : 0)};
        i += len + (e ? 1 : 0);
    }
    return v;
}

/* Same line? */
static bool leq(const line_t *a, const line_t *b)
{
    return a->h == b->h && a->n == b->n && a->nl == b->nl && !memcmp(a->p, b->p, a->n);
}

/* Myers on A[0..N) x B[0..M): writes 'E','D','I' ops to ops (room N+M);
 * returns the op count, or -1 when D would pass the bound or on oom. */
static long myers(const line_t *A, int N, const line_t *B, int M, char *ops)
{
    int dmax = N + M < DIFF_MAX_D ? N + M : DIFF_MAX_D;
    int off = dmax + 1;
    int *v = calloc((size_t)(2 * dmax + 3), sizeof *v);
    int *trace = NULL;
    size_t *tstart = malloc(sizeof *tstart * (size_t)(dmax + 1));
    size_t tlen = 0, tcapnow = 0;
    long nops = -1;
    int D = -1;
    if (!v || !tstart) goto done;
    for (int d = 0; d <= dmax && D < 0; d++) {
        for (int k = -d; k <= d; k += 2) {
            int x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1] : v[off + k - 1] + 1;
            int y = x - k;
            while (x < N && y < M && leq(&A[x], &B[y])) { x++; y++; }
            v[off + k] = x;
            if (x >= N && y >= M) { D = d; }
        }
        /* save v[-d..d] */
        size_t need = tlen + (size_t)(2 * d + 1);
        if (need > tcapnow) {
            size_t nc = tcapnow ? tcapnow * 2 : 1024;
            while (nc < need) nc *= 2;
            int *nt = realloc(trace, sizeof *nt * nc);
            if (!nt) goto done;
            trace = nt;
            tcapnow = nc;
        }
        tstart[d] = tlen;
        memcpy(trace + tlen, v + off - d, sizeof *v * (size_t)(2 * d + 1));
        tlen = need;
    }
    if (D < 0) goto done;
    /* Walk back from (N, M), writing ops from the end. */
    long pos = N + M;
    int x = N, y = M;
    for (int d = D; d > 0; d--) {
        const int *vp = trace + tstart[d - 1] + (d - 1);   /* vp[k] for k in -(d-1)..d-1 */
        int k = x - y;
        int pk = (k == -d || (k != d && vp[k - 1] < vp[k + 1])) ? k + 1 : k - 1;
        int px = vp[pk], py = px - pk;
        while (x > px && y > py) { ops[--pos] = 'E'; x--; y--; }
        if (x == px) { ops[--pos] = 'I'; y--; }
        else { ops[--pos] = 'D'; x--; }
    }
    while (x > 0 && y > 0) { ops[--pos] = 'E'; x--; y--; }
    nops = N + M - pos;
    memmove(ops, ops + pos, (size_t)nops);
done:
    free(v);
    free(trace);
    free(tstart);
    return nops;
}

/* Print one line with its prefix, and the no-newline marker when needed. */
static void put_line(gt_buf *out, char tag, const line_t *l)
{
    gb_putc(out, tag);
    gb_put(out, l->p, l->n);
    gb_putc(out, '\n');
    if (!l->nl) gb_puts(out, "\\ No newline at end of file\n");
}

/* Unified diff of a -> b. */
void gt_udiff(gt_buf *out, const char *a, size_t al, const char *b, size_t bl, const char *label_a,
              const char *label_b, int context)
{
    int n, m;
    bool oa, ob;
    line_t *A = split_lines(a, al, &n, &oa), *B = split_lines(b, bl, &m, &ob);
    char *ops = NULL;
    int *ai = NULL, *bi = NULL;
    if (oa || ob) { out->oom = true; goto done; }
    int pre = 0;
    while (pre < n && pre < m && leq(&A[pre], &B[pre])) pre++;
    int suf = 0;
    while (suf < n - pre && suf < m - pre && leq(&A[n - 1 - suf], &B[m - 1 - suf])) suf++;
    if (pre == n && pre == m) goto done;   /* equal */
    size_t total = (size_t)n + (size_t)m;
    ops = malloc(total + 1);
    ai = malloc(sizeof *ai * (total + 2));
    bi = malloc(sizeof *bi * (total + 2));
    if (!ops || !ai || !bi) { out->oom = true; goto done; }
    long k = 0;
    for (int i = 0; i < pre; i++) ops[k++] = 'E';
    int mn = n - pre - suf, mm = m - pre - suf;
    long mid = myers(A ? A + pre : NULL, mn, B ? B + pre : NULL, mm, ops + k);
    if (mid < 0) {   /* too different: remove then add */
        for (int i = 0; i < mn; i++) ops[k++] = 'D';
        for (int i = 0; i < mm; i++) ops[k++] = 'I';
    } else {
        k += mid;
    }
    for (int i = 0; i < suf; i++) ops[k++] = 'E';
    long nops = k;
    ai[0] = bi[0] = 0;
    for (long i = 0; i < nops; i++) {
        ai[i + 1] = ai[i] + (ops[i] != 'I');
        bi[i + 1] = bi[i] + (ops[i] != 'D');
    }
    gb_printf(out, "--- %s\n+++ %s\n", label_a, label_b);
    long i = 0;
    while (i < nops) {
        while (i < nops && ops[i] == 'E') i++;
        if (i >= nops) break;
        long start = i - context < 0 ? 0 : i - context;
        long last = i;   /* last changed op in this hunk */
        long j = i;
        while (j < nops) {
            if (ops[j] != 'E') { last = j; j++; continue; }
            long run = j;
            while (run < nops && ops[run] == 'E') run++;
            if (run >= nops || run - j > 2 * context) break;
            j = run;
        }
        long end = last + 1 + context > nops ? nops : last + 1 + context;
        int as = ai[start], ac = ai[end] - ai[start], bs = bi[start], bc = bi[end] - bi[start];
        gb_printf(out, "@@ -%d,%d +%d,%d @@\n", ac ? as + 1 : as, ac, bc ? bs + 1 : bs, bc);
        for (long t = start; t < end; t++) {
            if (ops[t] == 'E') put_line(out, ' ', &A[ai[t]]);
            else if (ops[t] == 'D') put_line(out, '-', &A[ai[t]]);
            else put_line(out, '+', &B[bi[t]]);
        }
        i = end;
    }
done:
    free(A);
    free(B);
    free(ops);
    free(ai);
    free(bi);
}
