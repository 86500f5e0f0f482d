/* matmul.c: the CPU backend's matrix product, the one hot loop of the engine.
 *
 * Decode (n = 1) is a matrix-vector product bounded by memory bandwidth; the
 * rows are split across the pool.  Prefill (n > 1) reads each weight row once
 * and applies it to every token, so the weights stream from memory once per
 * batch.  The per-type row kernels are chosen here; SIMD versions live in
 * files with an ISA suffix and are picked at run time. */
#include <string.h>
#include "kernels.h"

/* Dot product of one weight row (any float type) with a float vector. */
static float dot_row_scalar(gm_type t, const void *row, const float *x, int64_t n)
{
    float acc = 0.0f;
    switch (t) {
    case GM_TYPE_F32: { const float *w = row; for (int64_t i = 0; i < n; i++) acc += w[i] * x[i]; break; }
    case GM_TYPE_BF16: { const uint16_t *w = row; for (int64_t i = 0; i < n; i++) acc += gm_bf16_to_f32(w[i]) * x[i]; break; }
    case GM_TYPE_F16: { const uint16_t *w = row; for (int64_t i = 0; i < n; i++) acc += gm_f16_to_f32(w[i]) * x[i]; break; }
    default: break;
    }
    return acc;
}

void gm_tensor_row(const gm_tensor *W, int64_t slice, int64_t r, float *out)
{
    const char *row = (const char *)W->data + ((size_t)slice * (size_t)W->ne[1] + (size_t)r) * W->row_bytes;
    int64_t n = W->ne[0];
    switch (W->type) {
    case GM_TYPE_F32: memcpy(out, row, (size_t)n * 4); break;
    case GM_TYPE_BF16: for (int64_t i = 0; i < n; i++) out[i] = gm_bf16_to_f32(((const uint16_t *)row)[i]); break;
    case GM_TYPE_F16: for (int64_t i = 0; i < n; i++) out[i] = gm_f16_to_f32(((const uint16_t *)row)[i]); break;
    default: memset(out, 0, (size_t)n * 4); break;
    }
}

typedef struct {
    const gm_tensor *W;
    const char *base;
    const float *X; int64_t ldx;
    float *Y; int64_t ldy;
    int n;
} mm_job;

/* Each thread takes a contiguous band of rows and applies it to all tokens. */
static void mm_worker(void *arg, int ith, int nth)
{
    const mm_job *j = arg;
    int64_t rows = j->W->ne[1], cols = j->W->ne[0];
    int64_t r0 = rows * ith / nth, r1 = rows * (ith + 1) / nth;
    for (int64_t r = r0; r < r1; r++) {
        const void *row = j->base + (size_t)r * j->W->row_bytes;
        for (int t = 0; t < j->n; t++)
            j->Y[t * j->ldy + r] = dot_row_scalar(j->W->type, row, j->X + t * j->ldx, cols);
    }
}

int gm_matmul(gm_pool *p, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx,
              int n, float *Y, int64_t ldy)
{
    if (W->type != GM_TYPE_F32 && W->type != GM_TYPE_BF16 && W->type != GM_TYPE_F16) return -1;
    mm_job j = { W, (const char *)W->data + (size_t)slice * (size_t)W->ne[1] * W->row_bytes,
                 X, ldx, Y, ldy, n };
    gm_pool_run(p, mm_worker, &j);
    return 0;
}

const char *gm_kernel_isa(void) { return "scalar"; }
