/* qmatmul.c: matrix products with block-quantized weights, row reads of
 * quantized tables, and quantizing float tensors at load time.
 *
 * The activations of up to a chunk of tokens are quantized once into a
 * buffer on the caller's stack (no allocation per call), then each thread
 * takes a band of weight rows and applies every row to every token of the
 * chunk while the row is hot in cache, four tokens per weight decode.  Every (row, token) pair goes through
 * the same dot kernel whatever n is, so decode and prefill agree exactly. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include "quant.h"

/* Bytes of quantized activations kept on the stack per chunk. */
#define QM_STACK_BYTES (192 * 1024)
/* Rows handed out together (a multiple keeps threads off each other's lines). */
#define QM_ROW_GRAIN 16

typedef struct {
    gm_qkern k;
    const char *wbase;         /* first row of the slice */
    size_t row_bytes;
    int64_t rows, nb;
    const float *X; int64_t ldx;
    unsigned char *xq; size_t xq_bytes;   /* quantized activations, one row per token */
    float *Y; int64_t ldy;
    int t0, nt;                /* tokens of this chunk */
    gm_type wtype;
    int64_t K;
} qm_job;

/* Quantize the activation rows of the chunk; tokens are split across threads. */
static void qm_quant_worker(void *arg, int ith, int nth)
{
    const qm_job *j = arg;
    for (int t = ith; t < j->nt; t += nth) {
        const float *x = j->X + (int64_t)(j->t0 + t) * j->ldx;
        void *dst = j->xq + (size_t)t * j->xq_bytes;
        if (gm_qact_block_bytes(j->wtype) == sizeof(gm_bq8)) gm_quantize_act_q8(x, dst, j->K);
        else gm_quantize_act_q8k(x, dst, j->K);
    }
}

/* A band of rows times every token of the chunk. */
static void qm_dot_worker(void *arg, int ith, int nth)
{
    const qm_job *j = arg;
    int64_t groups = (j->rows + QM_ROW_GRAIN - 1) / QM_ROW_GRAIN;
    int64_t g0 = groups * ith / nth, g1 = groups * (ith + 1) / nth;
    int64_t r0 = g0 * QM_ROW_GRAIN, r1 = g1 * QM_ROW_GRAIN;
    if (r1 > j->rows) r1 = j->rows;
    for (int64_t r = r0; r < r1; r++) {
        const void *w = j->wbase + (size_t)r * j->row_bytes;
        int t = 0;
        if (j->k.x4)
            for (; t + 4 <= j->nt; t += 4) {
                float o[4];
                j->k.x4(j->nb, w, j->xq + (size_t)t * j->xq_bytes, j->xq_bytes, o);
                for (int u = 0; u < 4; u++) j->Y[(int64_t)(j->t0 + t + u) * j->ldy + r] = o[u];
            }
        for (; t < j->nt; t++)
            j->Y[(int64_t)(j->t0 + t) * j->ldy + r] = j->k.x1(j->nb, w, j->xq + (size_t)t * j->xq_bytes);
    }
}

int gm_qmatmul_isa(gm_pool *p, gm_qisa isa, const gm_tensor *W, int64_t slice, const float *X,
                   int64_t ldx, int n, float *Y, int64_t ldy)
{
    gm_qkern k = gm_qkern_get(W->type, isa);
    int blk = gm_type_block(W->type);
    if (!k.x1 || blk <= 0 || W->ne[0] % blk) return -1;
    if (n <= 0) return 0;
    int64_t nb = W->ne[0] / blk;
    size_t xq_bytes = (size_t)nb * gm_qact_block_bytes(W->type);
    _Alignas(64) unsigned char stack_buf[QM_STACK_BYTES];
    unsigned char *buf = stack_buf;
    int tc = (int)(QM_STACK_BYTES / xq_bytes);
    if (tc < 1) {                     /* a row wider than ~180k elements: rare, use the heap */
        buf = malloc(xq_bytes);
        if (!buf) return -1;
        tc = 1;
    }
    qm_job j = { k, (const char *)W->data + (size_t)slice * (size_t)W->ne[1] * W->row_bytes,
                 W->row_bytes, W->ne[1], nb, X, ldx, buf, xq_bytes, Y, ldy, 0, 0, W->type, W->ne[0] };
    for (int t0 = 0; t0 < n; t0 += tc) {
        j.t0 = t0;
        j.nt = n - t0 < tc ? n - t0 : tc;
        if (j.nt == 1) qm_quant_worker(&j, 0, 1);
        else gm_pool_run(p, qm_quant_worker, &j);
        gm_pool_run(p, qm_dot_worker, &j);
    }
    if (buf != stack_buf) free(buf);
    return 0;
}

int gm_qmatmul(gm_pool *p, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx,
               int n, float *Y, int64_t ldy)
{
    return gm_qmatmul_isa(p, gm_qisa_best(), W, slice, X, ldx, n, Y, ldy);
}

int gm_qtensor_row(const gm_tensor *W, int64_t slice, int64_t r, float *out)
{
    const char *row = (const char *)W->data + ((size_t)slice * (size_t)W->ne[1] + (size_t)r) * W->row_bytes;
    return gm_dequantize_row(W->type, row, out, W->ne[0]);
}

/* ---- quantizing a float tensor at load time -------------------------------- */

typedef struct {
    const gm_tensor *src;
    gm_tensor *out;
    float **scratch;           /* one row of floats per thread */
    int64_t rows;
} qt_job;

/* Each thread converts a band of rows: source row to floats, floats to dst. */
static void qt_worker(void *arg, int ith, int nth)
{
    const qt_job *j = arg;
    int64_t r0 = j->rows * ith / nth, r1 = j->rows * (ith + 1) / nth;
    float *tmp = j->scratch[ith];
    for (int64_t r = r0; r < r1; r++) {
        const char *s = (const char *)j->src->data + (size_t)r * j->src->row_bytes;
        gm_dequantize_row(j->src->type, s, tmp, j->src->ne[0]);
        gm_quantize_row(j->out->type, tmp, (char *)j->out->data + (size_t)r * j->out->row_bytes, j->src->ne[0]);
    }
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
    int nth = gm_pool_size(p);
    float **scratch = calloc((size_t)nth, sizeof *scratch);
    int ok = scratch != NULL;
    for (int i = 0; ok && i < nth; i++) ok = (scratch[i] = malloc((size_t)K * sizeof(float) + 1)) != NULL;
    if (ok) {
        qt_job j = { src, &o, scratch, rows };
        gm_pool_run(p, qt_worker, &j);
    }
    for (int i = 0; scratch && i < nth; i++) free(scratch[i]);
    free(scratch);
    return ok ? 0 : gm_err_set(err, GM_E_NOMEM, "quantize %s: out of memory", name);
}

int gm_quantize_tensor(const gm_tensor *src, gm_type dst, gm_tensor *out, gm_pool *p, gm_err *err)
{
    const char *name = src->name ? src->name : "(unnamed)";
    size_t row_bytes = gm_type_row_bytes(dst, src->ne[0]);
    int64_t rows = src->ne[1] * (src->ne[2] > 0 ? src->ne[2] : 1);
    memset(out, 0, sizeof *out);
    if (gm_type_block(dst) == 0 || row_bytes == 0)
        return gm_quantize_tensor_into(src, dst, NULL, 0, p, err);     /* reports the reason */
    size_t nbytes = row_bytes * (size_t)rows;
    void *data = malloc(nbytes ? nbytes : 1);
    if (!data)
        return gm_err_set(err, GM_E_NOMEM, "quantize %s to %s: out of memory (%zu bytes)", name, gm_type_name(dst), nbytes);
    if (gm_quantize_tensor_into(src, dst, data, nbytes, p, err)) { free(data); return -1; }
    out->type = dst;
    memcpy(out->ne, src->ne, sizeof out->ne);
    out->row_bytes = row_bytes;
    out->nbytes = nbytes;
    out->data = data;
    out->name = src->name;
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
        {"q4_0", GM_TYPE_Q4_0}, {"q4_k", GM_TYPE_Q4_K}, {"q5_k", GM_TYPE_Q5_K}, {"q6_k", GM_TYPE_Q6_K},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i].name) == 0) return (int)names[i].t;
    return -1;
}
