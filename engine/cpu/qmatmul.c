/* qmatmul.c: matrix products with block-quantized weights, row reads of
 * quantized tables, and quantizing (and repacking) tensors at load time.
 *
 * The activations of up to a chunk of tokens are quantized once into the
 * calling thread's pool scratch (no allocation per call), then threads take
 * pieces of weight rows from a shared counter and apply them to every token
 * of the chunk while they are hot in cache: packed tensors (quant.h) as
 * 16-row tiles against up to 8 tokens, row-layout ones four tokens per
 * weight decode.  Every (row, token) pair goes through the same operations
 * whatever n is, so decode and prefill agree exactly. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include "quant.h"

/* Bytes of quantized activations per chunk of tokens: the pool's scratch of
 * the calling thread (GM_POOL_SCRATCH less QM_SPARE_BYTES), or this much
 * stack without a pool. */
#define QM_STACK_BYTES (192 * 1024)
/* In prefill a group is taken in runs of blocks of about this many bytes
 * (as the tile reads them), so a run stays in L1 while every token tile of
 * the chunk passes over it (a whole group of a 6144-wide matrix, 96 KiB
 * at Q8_0, was read from L2 by each); the end of every thread's scratch
 * holds a run rewritten by gm_qprep, or one of each of two groups for a
 * 32-row tile.  Those runs are not halved to fit L1 together: halving
 * them cost a Q4_0 prefill 2-3%, each token tile's sums then going back
 * to y between runs. */
#ifndef QM_RUN_BYTES
#define QM_RUN_BYTES (32 * 1024)
#endif
#define QM_SPARE_BYTES (2 * QM_RUN_BYTES)

/* One weight matrix of a product: its kernels, rows and output. */
typedef struct {
    gm_qkern k;                /* row kernels (unpacked tensors) */
    gm_qtile_fn tile;          /* 16-row tiles (packed tensors), else NULL */
    gm_qprep prep;             /* prefill's rewrite of a run of blocks, and its tile */
    gm_qrowprep rprep;         /* prefill of a format read in place (Q3_K, IQ4_XS): rewrite and tile */
    int64_t run;               /* blocks per run in prefill (even) */
    const char *wbase;         /* first row of the slice */
    size_t row_bytes;
    int64_t rows;
    gm_type wtype;
    float *Y; int64_t ldy;
    const char *pbase;         /* gm_qmatmul_geglu: the up matrix, row for row beside this gate one */
    float *Yp;                 /* and its sums between runs (Y's layout) */
    int64_t chunk;             /* rows per piece of work (a multiple of 16) */
    int64_t first;             /* index of this matrix's first piece in the job */
} qm_mat;

/* Products of one input with up to GM_MM_MULTI matrices whose activations
 * take the same form: quantized once per chunk of tokens, pieces of all
 * the matrices taken from one counter. */
typedef struct {
    qm_mat m[GM_MM_MULTI];
    int count;
    int64_t pieces;            /* over all matrices */
    gm_pool *pool;             /* whose scratch holds the rewritten runs */
    size_t act_block;          /* bytes of one activation block */
    int act;                   /* QA_* below */
    int64_t nb, K;
    const float *X; int64_t ldx;
    unsigned char *xq; size_t xq_bytes;   /* quantized activations, one row per token */
    int t0, nt;                /* tokens of this chunk */
    gm_row_fn make; void *make_arg;           /* gm_qmatmul_made: row t of X made first */
    atomic_llong next;         /* next piece to take */
} qm_job;

/* The forms of quantized activations: gm_bq8c for packed Q8_0/Q4_0 tiles,
 * gm_bq8 for their row kernels, Q8_K blocks for the K types. */
enum { QA_Q8C, QA_Q8, QA_Q8K };

static int qm_act_form(gm_type t, bool tile)
{
    if (gm_qact_block_bytes(t) != sizeof(gm_bq8)) return QA_Q8K;
    return tile ? QA_Q8C : QA_Q8;
}

/* Quantize the activation rows of the chunk; tokens are split across threads. */
static void qm_quant_worker(void *arg, int ith, int nth)
{
    const qm_job *j = arg;
    for (int t = ith; t < j->nt; t += nth) {
        const float *x = j->X + (int64_t)(j->t0 + t) * j->ldx;
        void *dst = j->xq + (size_t)t * j->xq_bytes;
        if (j->make) j->make(j->make_arg, j->t0 + t);   /* the row made here, then quantized while in L1 */
        if (j->act == QA_Q8C) gm_quantize_act_q8c(j->m[0].wtype, x, dst, j->K);
        else if (j->act == QA_Q8) gm_quantize_act_q8(j->m[0].wtype, x, dst, j->K);
        else gm_quantize_act_q8k(x, dst, j->K);
    }
}

/* A row past the last full group of a packed tensor (row layout) times one
 * token in gm_bq8c form: rare (rows not a multiple of 16), so portable; the
 * operations of the type's portable tile. */
static float qm_tail_dot(gm_type t, int64_t nb, const void *wv, const gm_bq8c *x)
{
    float acc = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int32_t isum = 0;
        uint16_t h;
        if (t == GM_TYPE_Q8_0) {
            const gm_block_q8_0 *w = (const gm_block_q8_0 *)wv + b;
            for (int i = 0; i < 32; i++) isum += w->qs[i] * x[b].qs[i];
            h = w->d;
        } else if (t == GM_TYPE_Q5_0) {
            const gm_block_q5_0 *w = (const gm_block_q5_0 *)wv + b;
            isum = x[b].c + gm_q5_isum(w->qs, w->qh, x[b].qs);
            h = w->d;
        } else if (t == GM_TYPE_Q5_1) {
            const gm_block_q5_1 *w = (const gm_block_q5_1 *)wv + b;
            acc = fmaf((float)gm_q5_isum(w->qs, w->qh, x[b].qs), gm_f16_to_f32(w->d) * x[b].d, acc);
            acc = fmaf((float)x[b].c, gm_f16_to_f32(w->m) * x[b].d, acc);
            continue;
        } else {
            const gm_block_q4_0 *w = (const gm_block_q4_0 *)wv + b;
            isum = x[b].c;
            for (int i = 0; i < 16; i++) isum += (w->qs[i] & 0xF) * x[b].qs[i] + (w->qs[i] >> 4) * x[b].qs[i + 16];
            h = w->d;
        }
        acc = fmaf((float)isum, gm_f16_to_f32(h) * x[b].d, acc);
    }
    return acc;
}

/* Rows [r0, r1) of an unpacked matrix times every token of the chunk, four
 * tokens per weight decode. */
static void qm_rows(const qm_job *j, const qm_mat *w0, int64_t r0, int64_t r1)
{
    for (int64_t r = r0; r < r1; r++) {
        const void *w = w0->wbase + (size_t)r * w0->row_bytes;
        int t = 0;
        if (w0->k.x4)
            for (; t + 4 <= j->nt; t += 4) {
                float o[4];
                w0->k.x4(j->nb, w, j->xq + (size_t)t * j->xq_bytes, j->xq_bytes, o);
                for (int u = 0; u < 4; u++) w0->Y[(int64_t)(j->t0 + t + u) * w0->ldy + r] = o[u];
            }
        for (; t < j->nt; t++)
            w0->Y[(int64_t)(j->t0 + t) * w0->ldy + r] = w0->k.x1(j->nb, w, j->xq + (size_t)t * j->xq_bytes);
    }
}

/* Where the thread reads next while it passes token tiles over a run:
 * up to two ranges (a run of each group in a pair) to bring into L2. */
typedef struct { const char *p[2]; size_t n[2]; } qm_next;

/* Ask for the next share of nx's lines (one of `tiles` calls; *done counts
 * the lines asked for so far): the first tile over a run otherwise waits on
 * memory line by line, which cost 5-6% of a Q8_0 prefill whose weights come
 * from DRAM. */
static void qm_prefetch(const qm_next *nx, size_t tiles, size_t *done)
{
    size_t l0 = (nx->n[0] + 63) / 64, lines = l0 + (nx->n[1] + 63) / 64, per = (lines + tiles - 1) / tiles;
    for (size_t i = 0; i < per && *done < lines; i++, (*done)++)
        __builtin_prefetch(*done < l0 ? nx->p[0] + 64 * *done : nx->p[1] + 64 * (*done - l0), 0, 2);
}

/* The last run of a paired tile (gm_qmatmul_geglu): the sums, continued
 * from Y and Yp when cont, land in a block on the stack and leave as
 * gelu(gate) * up into Y, the gate's place.  Neither product's sums go to
 * memory on their own, and the GeGLU pass that read them back is gone:
 * gm_vec_geglu treats each element alone, so the bits are those of the
 * products followed by gm_vec_geglu over the rows. */
static void qm_geglu_tile(const qm_mat *w, int64_t nb, const void *g0, const void *g1, const void *x, size_t xs,
                          int nt, float *y0, const float *y1, bool cont)
{
    _Alignas(64) float s[2][GM_QP2_TOKENS * GM_QP_ROWS];
    const size_t row = GM_QP_ROWS * sizeof(float);
    for (int u = 0; cont && u < nt; u++) {
        memcpy(s[0] + u * GM_QP_ROWS, y0 + u * w->ldy, row);
        memcpy(s[1] + u * GM_QP_ROWS, y1 + u * w->ldy, row);
    }
    w->prep.tile2(nb, g0, g1, x, xs, nt, s[0], s[1], GM_QP_ROWS, cont);
    gm_vec_geglu(s[0], s[0], s[1], (int64_t)nt * GM_QP_ROWS);
    for (int u = 0; u < nt; u++) memcpy(y0 + u * w->ldy, s[0] + u * GM_QP_ROWS, row);
}

/* One run of blocks [b0, b0 + nb) of a group (g1 NULL) or of two side by
 * side (rows r..r+31 of the matrix, or with w->pbase rows r..r+15 of it
 * and of its pair) times every token of the chunk: GM_QP_TOKENS at a time
 * through tile, GM_QP2_TOKENS through the path's 32-row tile.  The sums
 * continue from earlier runs (cont); the last run of a pair ends in its
 * GeGLU; what nx names is brought in between token tiles. */
static void qm_run_tiles(const qm_job *j, const qm_mat *w, gm_qtile_fn tile, int64_t nb, const void *g0,
                         const void *g1, int64_t b0, int64_t r, bool cont, bool last, const qm_next *nx)
{
    const int step = g1 ? GM_QP2_TOKENS : GM_QP_TOKENS;
    size_t tiles = (size_t)(j->nt + step - 1) / (size_t)step, done = 0;
    for (int t = 0; t < j->nt; t += step) {
        int nt = j->nt - t < step ? j->nt - t : step;
        const unsigned char *x = j->xq + (size_t)t * j->xq_bytes + (size_t)b0 * j->act_block;
        int64_t at = (int64_t)(j->t0 + t) * w->ldy + r;
        float *y0 = w->Y + at, *y1 = w->pbase ? w->Yp + at : y0 + GM_QP_ROWS;
        qm_prefetch(nx, tiles, &done);
        if (!g1) tile(nb, g0, x, j->xq_bytes, nt, y0, w->ldy, cont);
        else if (w->pbase && last) qm_geglu_tile(w, nb, g0, g1, x, j->xq_bytes, nt, y0, y1, cont);
        else w->prep.tile2(nb, g0, g1, x, j->xq_bytes, nt, y0, y1, w->ldy, cont);
    }
}

/* Rows [r0, r1) of a packed matrix: whole groups of 16 through the tile,
 * GM_QP_TOKENS tokens at a time while the group stays in cache; rows past
 * the last full group through qm_tail_dot.  With more than one token tile,
 * a group goes in runs of w->run blocks, each first rewritten to the
 * thread's scratch where the type has a gm_qprep; where the path has a
 * 32-row tile, two groups at a time, a run of each side by side: the next
 * group of the matrix, or with w->pbase (whatever the token count) the
 * same rows of the paired matrix. */
static void qm_groups(const qm_job *j, const qm_mat *w, int ith, int64_t r0, int64_t r1)
{
    int64_t full = w->rows / GM_QP_ROWS * GM_QP_ROWS, end = r1 < full ? r1 : full;
    bool runs = (j->nt > GM_QP_TOKENS || w->pbase) && w->run > 0;
    unsigned char *spare = runs && w->prep.prep ? (unsigned char *)gm_pool_scratch(j->pool, ith) +
                                                      GM_POOL_SCRATCH - QM_SPARE_BYTES : NULL;
    size_t gbytes = (size_t)GM_QP_ROWS * w->row_bytes;
    for (int64_t r = r0; r < end;) {
        const char *g = w->wbase + (size_t)r * w->row_bytes;
        if (!runs) {
            qm_next none = {{NULL, NULL}, {0, 0}};
            qm_run_tiles(j, w, w->tile, j->nb, g, NULL, 0, r, false, true, &none);
            r += GM_QP_ROWS;
            continue;
        }
        int ng = w->pbase || (w->prep.tile2 && r + 2 * GM_QP_ROWS <= end) ? 2 : 1;
        const char *base[2] = { g, w->pbase ? w->pbase + (size_t)r * w->row_bytes : g + gbytes };
        /* a group's runs lie back to back; after its last run, the next
         * step's group starts `stride` bytes on (past the pair of groups of
         * one matrix, or the next group of each paired one) */
        size_t stride = (w->pbase ? 1 : (size_t)ng) * gbytes, left = (size_t)(end - r) * w->row_bytes;
        for (int64_t b0 = 0; b0 < j->nb; b0 += w->run) {
            int64_t nb = j->nb - b0 < w->run ? j->nb - b0 : w->run;
            bool last = b0 + nb >= j->nb;
            size_t qo, so, qe = stride;
            gm_qp_offsets(w->wtype, j->nb, b0, &qo, &so);   /* b0 is even: the start of a pair */
            if (!last) gm_qp_offsets(w->wtype, j->nb, b0 + nb, &qe, &so);
            size_t run_bytes = last ? gbytes - qo : qe - qo;
            qm_next nx = {{NULL, NULL}, {0, 0}};
            for (int i = 0; i < ng; i++) {
                size_t lim = w->pbase ? left : left - (size_t)i * gbytes;   /* from base[i] to the piece's end */
                if (qe < lim) {
                    nx.p[i] = base[i] + qe;
                    nx.n[i] = run_bytes < lim - qe ? run_bytes : lim - qe;
                }
            }
            const void *p0 = base[0] + qo, *p1 = ng == 2 ? base[1] + qo : NULL;
            gm_qtile_fn tile = w->tile;
            if (spare) {
                size_t half = (size_t)nb * w->prep.bytes_per_block;
                w->prep.prep(nb, p0, spare);
                if (p1) w->prep.prep(nb, p1, spare + half);
                p0 = spare;
                p1 = p1 ? spare + half : NULL;
                tile = w->prep.tile;
            }
            qm_run_tiles(j, w, tile, nb, p0, p1, b0, r, b0 > 0, last, &nx);
        }
        r += w->pbase ? GM_QP_ROWS : ng * GM_QP_ROWS;
    }
    bool ktype = j->act == QA_Q8K;   /* same activations as the row kernels */
    for (int64_t r = r0 > full ? r0 : full; r < r1; r++)
        for (int t = 0; t < j->nt; t++) {
            const char *wr = w->wbase + (size_t)r * w->row_bytes;
            const unsigned char *x = j->xq + (size_t)t * j->xq_bytes;
            w->Y[(int64_t)(j->t0 + t) * w->ldy + r] =
                ktype ? w->k.x1(j->nb, wr, x) : qm_tail_dot(w->wtype, j->nb, wr, (const gm_bq8c *)x);
        }
}

/* Rows [r0, r1) of a row-layout Q3_K or IQ4_XS matrix in prefill: each 16
 * rows, a run of w->run super-blocks at a time, rewritten into the
 * thread's scratch as a K-type run (w->rprep) and passed under every token
 * tile of the chunk by that run's tile; rows past the last 16 by the row
 * kernels.  Either way a (row, token) gets the row kernel's bits. */
static void qm_row_runs(const qm_job *j, const qm_mat *w, int ith, int64_t r0, int64_t r1)
{
    unsigned char *spare = (unsigned char *)gm_pool_scratch(j->pool, ith) + GM_POOL_SCRATCH - QM_SPARE_BYTES;
    size_t bb = gm_type_block_bytes(w->wtype);
    const qm_next none = {{NULL, NULL}, {0, 0}};
    int64_t r = r0;
    for (; r + GM_QP_ROWS <= r1; r += GM_QP_ROWS)
        for (int64_t b0 = 0; b0 < j->nb; b0 += w->run) {
            int64_t nb = j->nb - b0 < w->run ? j->nb - b0 : w->run;
            w->rprep.prep(nb, w->wbase + (size_t)r * w->row_bytes + (size_t)b0 * bb, w->row_bytes, spare);
            qm_run_tiles(j, w, w->rprep.tile, nb, spare, NULL, b0, r, b0 > 0, true, &none);
        }
    if (r < r1) qm_rows(j, w, r, r1);
}

/* Threads take pieces of rows from a shared counter (a thread the OS pauses
 * on a shared machine leaves its rows to the others); which thread computes
 * a row never changes its bits. */
static void qm_dot_worker(void *arg, int ith, int nth)
{
    (void)nth;
    qm_job *j = arg;
    for (;;) {
        int64_t i = (int64_t)atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (i >= j->pieces) break;
        int mi = j->count - 1;
        while (j->m[mi].first > i) mi--;
        const qm_mat *w = &j->m[mi];
        int64_t r0 = (i - w->first) * w->chunk, r1 = r0 + w->chunk < w->rows ? r0 + w->chunk : w->rows;
        if (w->tile) qm_groups(j, w, ith, r0, r1);
        else if (w->rprep.prep && j->nt > GM_QP_TOKENS) qm_row_runs(j, w, ith, r0, r1);
        else qm_rows(j, w, r0, r1);
    }
}

/* Fill m for W's slice with isa's kernels; -1 when the type has none.
 * paired: W's rows go through the 32-row tile beside another matrix's
 * (gm_qmatmul_geglu), so pieces are whole groups and read twice the bytes. */
static int qm_mat_init(qm_mat *m, gm_pool *p, gm_qisa isa, const gm_tensor *W, int64_t slice, int n, float *Y,
                       int64_t ldy, bool paired)
{
    *m = (qm_mat){ .k = gm_qkern_get(W->type, isa), .tile = W->packed ? gm_qtile_get(W->type, isa) : NULL,
                   .wbase = (const char *)W->data + (size_t)slice * (size_t)W->ne[1] * W->row_bytes,
                   .row_bytes = W->row_bytes, .rows = W->ne[1], .wtype = W->type, .Y = Y, .ldy = ldy };
    int blk = gm_type_block(W->type);
    if (!m->k.x1 || blk <= 0 || W->ne[0] % blk || (W->packed && !m->tile)) return -1;
    int64_t nb = W->ne[0] / blk;
    if (!W->packed && p) {
        gm_qrowprep rp = gm_qrowprep_get(W->type, isa);
        int64_t most = rp.prep ? (int64_t)(QM_RUN_BYTES / rp.bytes_per_block) & ~(int64_t)1 : 0;
        if (most >= 2) {
            m->rprep = rp;
            m->run = most;
        }
    }
    if (m->tile && p) {
        /* runs of at most QM_RUN_BYTES as read, as even as the count allows */
        m->prep = gm_qprep_get(W->type, isa);
        size_t per = m->prep.prep ? m->prep.bytes_per_block : gm_qp_quant_bytes(W->type) + gm_qp_scale_bytes(W->type);
        int64_t most = (int64_t)(QM_RUN_BYTES / per) & ~(int64_t)1;
        if (most >= 2) {
            int64_t count = (nb + most - 1) / most, run = (nb + count - 1) / count;
            m->run = (run + 1) & ~(int64_t)1;
        }
    }
    /* At least 8 pieces per thread (32 in prefill, where a piece is long)
     * and at most ~256 KiB of weights each (the wait for the last piece at
     * the end of a product is then short), whole groups of 16 rows, or
     * pairs of them for a 32-row tile. */
    int64_t pieces = (int64_t)gm_pool_size(p) * (n > GM_QP_TOKENS ? 32 : 8), chunk = (W->ne[1] + pieces - 1) / pieces;
    int64_t cap = (int64_t)((256 << 10) / W->row_bytes) / (paired ? 2 : 1);
    if (chunk > cap) chunk = cap;
    int64_t unit = !paired && n > GM_QP_TOKENS && m->prep.tile2 ? 2 * GM_QP_ROWS : GM_QP_ROWS;   /* pairs of groups */
    m->chunk = chunk < unit ? unit : (chunk + unit - 1) / unit * unit;
    return 0;
}

/* The products of X with count matrices (one, or several of the same width
 * whose activations take the same form, else -1 and nothing is done); or,
 * with up (count 1, W[0] the gate, gm_qmatmul_geglu's checks made), the
 * GeGLU of W[0] and up into Y[0], U holding up's sums between runs. */
static int qm_multi(gm_pool *p, gm_qisa isa, int count, const gm_tensor *const *W, int64_t slice, const float *X,
                    int64_t ldx, int n, float *const *Y, const int64_t *ldy, gm_row_fn make, void *make_arg,
                    const gm_tensor *up, float *U)
{
    if (count < 1 || count > GM_MM_MULTI || (up && count != 1)) return -1;
    qm_job j = { .count = count, .pool = p, .X = X, .ldx = ldx, .K = W[0]->ne[0], .make = make,
                 .make_arg = make_arg };
    for (int i = 0; i < count; i++) {
        if (W[i]->ne[0] != j.K || qm_mat_init(&j.m[i], p, isa, W[i], slice, n, Y[i], ldy[i], up != NULL)) return -1;
        int act = qm_act_form(W[i]->type, j.m[i].tile != NULL);
        if (i == 0) j.act = act;
        else if (act != j.act || (act == QA_Q8C && W[i]->type != W[0]->type) ||
                 gm_act_pow2(W[i]->type) != gm_act_pow2(W[0]->type)) return -1;
        j.m[i].first = j.pieces;
        j.pieces += (j.m[i].rows + j.m[i].chunk - 1) / j.m[i].chunk;
    }
    if (up) {
        j.m[0].pbase = up->data;
        j.m[0].Yp = U;
    }
    if (n <= 0) return 0;
    j.nb = j.K / gm_type_block(W[0]->type);
    j.act_block = gm_qact_block_bytes(W[0]->type);
    j.xq_bytes = (size_t)j.nb * j.act_block;
    _Alignas(64) unsigned char stack_buf[QM_STACK_BYTES];
    unsigned char *heap = NULL;
    j.xq = p ? gm_pool_scratch(p, 0) : stack_buf;
    size_t buf_bytes = p ? GM_POOL_SCRATCH - QM_SPARE_BYTES : QM_STACK_BYTES;
    int tc = (int)(buf_bytes / j.xq_bytes);
    if (tc < 1) {                     /* a row wider than ~900k elements: rare, use the heap */
        j.xq = heap = malloc(j.xq_bytes);
        if (!heap) return -1;
        tc = 1;
    }
    for (int t0 = 0; t0 < n; t0 += tc) {
        j.t0 = t0;
        j.nt = n - t0 < tc ? n - t0 : tc;
        atomic_store_explicit(&j.next, 0, memory_order_relaxed);
        if (j.nt == 1) qm_quant_worker(&j, 0, 1);
        else gm_pool_run(p, qm_quant_worker, &j);
        gm_pool_run(p, qm_dot_worker, &j);
    }
    free(heap);
    return 0;
}

int gm_qmatmul_isa(gm_pool *p, gm_qisa isa, const gm_tensor *W, int64_t slice, const float *X,
                   int64_t ldx, int n, float *Y, int64_t ldy)
{
    return qm_multi(p, isa, 1, &W, slice, X, ldx, n, &Y, &ldy, NULL, NULL, NULL, NULL);
}

int gm_qmatmul(gm_pool *p, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx,
               int n, float *Y, int64_t ldy)
{
    return gm_qmatmul_isa(p, gm_qisa_best(), W, slice, X, ldx, n, Y, ldy);
}

int gm_qmatmul_multi(gm_pool *p, int count, const gm_tensor *const *W, const float *X, int64_t ldx, int n,
                     float *const *Y, const int64_t *ldy)
{
    return qm_multi(p, gm_qisa_best(), count, W, 0, X, ldx, n, Y, ldy, NULL, NULL, NULL, NULL);
}

int gm_qmatmul_made(gm_pool *p, int count, const gm_tensor *const *W, const float *X, int64_t ldx, int n,
                    float *const *Y, const int64_t *ldy, gm_row_fn make, void *arg)
{
    return qm_multi(p, gm_qisa_best(), count, W, 0, X, ldx, n, Y, ldy, make, arg, NULL, NULL);
}

int gm_qmatmul_geglu(gm_pool *p, const gm_tensor *gate, const gm_tensor *up, const float *X, int64_t ldx, int n,
                     float *G, float *U, int64_t ldy)
{
    const gm_tensor *W[2] = { gate, up };
    float *Y[2] = { G, U };
    int64_t ld[2] = { ldy, ldy };
    gm_qisa isa = gm_qisa_best();
    qm_mat m;
    /* paired where prefill has a 32-row tile and runs to take it by: same
     * type and shape, both packed, whole groups (no tail rows to mend) */
    bool pair = n > GM_QP_TOKENS && gate->packed && up->packed && gate->type == up->type &&
                gate->ne[0] == up->ne[0] && gate->ne[1] == up->ne[1] && gate->ne[1] % GM_QP_ROWS == 0 &&
                qm_mat_init(&m, p, isa, gate, 0, n, G, ldy, true) == 0 && m.prep.tile2 && m.run > 0;
    if (pair) return qm_multi(p, isa, 1, W, 0, X, ldx, n, Y, ld, NULL, NULL, up, U) == 0 ? 1 : -1;
    return qm_multi(p, isa, 2, W, 0, X, ldx, n, Y, ld, NULL, NULL, NULL, NULL) == 0 ? 0 : -1;
}

int gm_qtensor_row(const gm_tensor *W, int64_t slice, int64_t r, float *out)
{
    const char *base = (const char *)W->data + (size_t)slice * (size_t)W->ne[1] * W->row_bytes;
    int64_t full = W->ne[1] / GM_QP_ROWS * GM_QP_ROWS;
    if (!W->packed || r >= full) return gm_dequantize_row(W->type, base + (size_t)r * W->row_bytes, out, W->ne[0]);
    /* a packed row: one block at a time back to the row layout, then dequantized */
    int blk = gm_type_block(W->type);
    int64_t nb = W->ne[0] / blk;
    const char *g = base + (size_t)(r / GM_QP_ROWS * GM_QP_ROWS) * W->row_bytes;
    for (int64_t b = 0; b < nb; b++) {
        unsigned char tmp[sizeof(gm_block_q6_K)];
        gm_qunpack_block(W->type, nb, g, (int)(r % GM_QP_ROWS), b, tmp);
        gm_dequantize_row(W->type, tmp, out + b * blk, blk);
    }
    return 0;
}

/* ---- quantizing a float tensor at load time -------------------------------- */

typedef struct {
    const gm_tensor *src;
    gm_tensor *out;
    float **scratch;           /* per thread: one row of floats, then 16 quantized rows when packing */
    int64_t rows;              /* all rows (slices x ne[1]) */
    bool pack;                 /* write packed groups of 16 rows */
} qt_job;

/* Source row r to floats to the destination type at dst (a copy when the
 * types are the same). */
static void qt_row(const qt_job *j, int64_t r, float *tmp, void *dst)
{
    const char *s = (const char *)j->src->data + (size_t)r * j->src->row_bytes;
    if (j->src->type == j->out->type) { memcpy(dst, s, j->out->row_bytes); return; }   /* a repack */
    gm_dequantize_row(j->src->type, s, tmp, j->src->ne[0]);
    gm_quantize_row(j->out->type, tmp, dst, j->src->ne[0]);
}

/* Each thread converts a band of units: single rows, or when packing whole
 * groups of 16 rows of a slice (quantized to its scratch, then interleaved)
 * and the slice's leftover rows one by one. */
static void qt_worker(void *arg, int ith, int nth)
{
    const qt_job *j = arg;
    float *tmp = j->scratch[ith];
    char *out = (char *)j->out->data;
    size_t rb = j->out->row_bytes;
    if (!j->pack) {
        int64_t r0 = j->rows * ith / nth, r1 = j->rows * (ith + 1) / nth;
        for (int64_t r = r0; r < r1; r++) qt_row(j, r, tmp, out + (size_t)r * rb);
        return;
    }
    int64_t ne1 = j->out->ne[1], per_slice = (ne1 + GM_QP_ROWS - 1) / GM_QP_ROWS;
    int64_t units = per_slice * (j->rows / ne1), full = ne1 / GM_QP_ROWS;
    int64_t u0 = units * ith / nth, u1 = units * (ith + 1) / nth, nb = j->src->ne[0] / gm_type_block(j->out->type);
    char *rows16 = (char *)(tmp + j->src->ne[0]);
    for (int64_t u = u0; u < u1; u++) {
        int64_t s = u / per_slice, g = u % per_slice, r0 = s * ne1 + g * GM_QP_ROWS;
        if (g < full) {
            for (int i = 0; i < GM_QP_ROWS; i++) qt_row(j, r0 + i, tmp, rows16 + (size_t)i * rb);
            gm_qpack_group(j->out->type, nb, rows16, rb, out + (size_t)r0 * rb);
        } else {
            for (int64_t r = r0; r < (s + 1) * ne1; r++) qt_row(j, r, tmp, out + (size_t)r * rb);
        }
    }
}

/* Convert src into out (its buffer already sized); packs when asked. */
static int qt_convert(const gm_tensor *src, gm_tensor *o, bool pack, gm_pool *p, gm_err *err)
{
    const char *name = src->name ? src->name : "(unnamed)";
    int64_t K = src->ne[0], rows = src->ne[1] * (src->ne[2] > 0 ? src->ne[2] : 1);
    int nth = gm_pool_size(p);
    float **scratch = calloc((size_t)nth, sizeof *scratch);
    size_t sb = (size_t)K * sizeof(float) + 1 + (pack ? GM_QP_ROWS * o->row_bytes : 0);
    int ok = scratch != NULL;
    for (int i = 0; ok && i < nth; i++) ok = (scratch[i] = malloc(sb)) != NULL;
    if (ok) {
        qt_job j = { src, o, scratch, rows, pack };
        gm_pool_run(p, qt_worker, &j);
    }
    for (int i = 0; scratch && i < nth; i++) free(scratch[i]);
    free(scratch);
    return ok ? 0 : gm_err_set(err, GM_E_NOMEM, "quantize %s: out of memory", name);
}

int gm_quantize_tensor_into(const gm_tensor *src, gm_type dst, void *out, size_t out_bytes, gm_pool *p, gm_err *err)
{
    const char *name = src->name ? src->name : "(unnamed)";
    if (gm_type_block(src->type) == 0)
        return gm_err_set(err, GM_E_UNSUPPORTED, "quantize %s: source type %d is unknown", name, (int)src->type);
    int64_t K = src->ne[0];
    size_t row_bytes = gm_type_row_bytes(dst, K);
    if (gm_type_block(dst) == 0 || row_bytes == 0)
        return gm_err_set(err, GM_E_UNSUPPORTED,
                          "quantize %s: rows of %lld elements cannot be stored as %s (blocks of %d); "
                          "keep this tensor in a float type", name, (long long)K, gm_type_name(dst),
                          gm_type_block(dst));
    int64_t rows = src->ne[1] * (src->ne[2] > 0 ? src->ne[2] : 1);
    if (out_bytes != row_bytes * (size_t)rows)
        return gm_err_set(err, GM_E_ARG, "quantize %s: output buffer is %zu bytes, %s needs %zu", name, out_bytes,
                          gm_type_name(dst), row_bytes * (size_t)rows);
    gm_tensor o = { dst, {src->ne[0], src->ne[1], src->ne[2]}, row_bytes, out_bytes, out, src->name, NULL };
    return qt_convert(src, &o, false, p, err);
}

/* An owned, 64-byte aligned buffer for a converted tensor: big matrices on
 * 2 MiB boundaries in huge pages where the kernel allows them, since a
 * decode step streams every page once (fewer TLB walks; the resident size
 * stays the tensor's size, rounded to 2 MiB).  free() releases it. */
static void *qt_alloc(size_t nbytes)
{
    size_t huge = (size_t)2 << 20, align = nbytes >= 4 * huge ? huge : 64;
    size_t alloc = nbytes ? (nbytes + align - 1) / align * align : 64;
    void *data = NULL;
    if (posix_memalign(&data, align, alloc)) return NULL;
    if (align == huge) (void)madvise(data, alloc, MADV_HUGEPAGE);   /* advice only */
    return data;
}

/* Whether matrices of type t are stored packed on this CPU: only where the
 * best path has its own tile for t (the portable one reads them slowly). */
static bool qt_packs(gm_type t, int64_t rows)
{
    return gm_qpack_type(t) && rows >= GM_QP_ROWS && gm_qpack_native(t, gm_qisa_best());
}

int gm_quantize_tensor(const gm_tensor *src, gm_type dst, gm_tensor *out, gm_pool *p, gm_err *err)
{
    const char *name = src->name ? src->name : "(unnamed)";
    size_t row_bytes = gm_type_row_bytes(dst, src->ne[0]);
    int64_t rows = src->ne[1] * (src->ne[2] > 0 ? src->ne[2] : 1);
    memset(out, 0, sizeof *out);
    if (gm_type_block(dst) == 0 || row_bytes == 0 || gm_type_block(src->type) == 0)
        return gm_quantize_tensor_into(src, dst, NULL, 0, p, err);     /* reports the reason */
    size_t nbytes = row_bytes * (size_t)rows;
    void *data = qt_alloc(nbytes);
    if (!data)
        return gm_err_set(err, GM_E_NOMEM, "quantize %s to %s: out of memory (%zu bytes)", name, gm_type_name(dst), nbytes);
    bool pack = qt_packs(dst, src->ne[1]);
    gm_tensor o = { dst, {src->ne[0], src->ne[1], src->ne[2]}, row_bytes, nbytes, data, src->name, NULL };
    if (qt_convert(src, &o, pack, p, err)) { free(data); return -1; }
    *out = o;
    out->packed = pack ? data : NULL;
    return 0;
}

int gm_qpack_tensor(const gm_tensor *src, gm_tensor *out, gm_pool *p, gm_err *err)
{
    if (src->packed || !qt_packs(src->type, src->ne[1])) return 1;
    const char *name = src->name ? src->name : "(unnamed)";
    void *data = qt_alloc(src->nbytes);
    if (!data) return gm_err_set(err, GM_E_NOMEM, "repack %s: out of memory (%zu bytes)", name, src->nbytes);
    gm_tensor o = *src;
    o.data = data;
    if (qt_convert(src, &o, true, p, err)) { free(data); return -1; }
    *out = o;
    out->packed = data;
    return 0;
}

void gm_tensor_release_pages(const gm_tensor *t)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || !t->data) return;
    uintptr_t a = (uintptr_t)t->data, b = a + t->nbytes;
    a = (a + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    b &= ~((uintptr_t)page - 1);
    if (b > a) (void)madvise((void *)a, b - a, MADV_DONTNEED);   /* advice only: failure changes nothing */
}

int gm_type_from_name(const char *s)
{
    static const struct { const char *name; gm_type t; } names[] = {
        {"f32", GM_TYPE_F32}, {"f16", GM_TYPE_F16}, {"bf16", GM_TYPE_BF16}, {"q8_0", GM_TYPE_Q8_0},
        {"q4_0", GM_TYPE_Q4_0}, {"q5_0", GM_TYPE_Q5_0}, {"q5_1", GM_TYPE_Q5_1}, {"q4_k", GM_TYPE_Q4_K},
        {"q5_k", GM_TYPE_Q5_K}, {"q6_k", GM_TYPE_Q6_K}, {"q4_1", GM_TYPE_Q4_1}, {"q2_k", GM_TYPE_Q2_K},
        {"q3_k", GM_TYPE_Q3_K}, {"iq4_nl", GM_TYPE_IQ4_NL}, {"iq4_xs", GM_TYPE_IQ4_XS},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) return (int)names[i].t;
    return -1;
}
