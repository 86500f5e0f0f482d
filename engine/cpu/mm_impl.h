/* mm_impl.h: what matmul.c shares with its per-instruction-set kernels.
 *
 * A kernel computes Y[t][r] for a band of weight rows [r0, r1) and all n
 * tokens.  Every kernel obeys one rule that makes decode and prefill agree
 * bit for bit: the value for a (row, token) pair is computed by the same
 * sequence of operations whatever tile, band or thread computes it. */
#ifndef GEMMASH_MM_IMPL_H
#define GEMMASH_MM_IMPL_H

#include "kernels.h"

typedef struct gm_mm_args {
    gm_type      type;        /* F32, F16 or BF16 */
    const char  *base;        /* first row of the slice */
    size_t       row_bytes;
    int64_t      cols;        /* ne[0] */
    const float *X;
    int64_t      ldx;
    int          n;           /* tokens */
    float       *Y;
    int64_t      ldy;
} gm_mm_args;

/* scratch: the calling thread's GM_POOL_SCRATCH bytes, or NULL. */
typedef void (*gm_mm_band_fn)(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch);

void gm_mm_band_scalar(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch);
#if defined(__x86_64__)
void gm_mm_band_avx2(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch);
void gm_mm_band_avx512(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch);
#endif

/* Vector ops per kernel family (gm_vec_dot, gm_vec_axpy). */
float gm_vec_dot_scalar(const float *a, const float *b, int64_t n);
void  gm_vec_axpy_scalar(float *y, float a, const float *x, int64_t n);
void  gm_vec_wsum_scalar(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n);
void  gm_vec_softcap_scalar(float *x, int64_t n, float cap);
void  gm_vec_geglu_scalar(float *out, const float *g, const float *u, int64_t n);
void  gm_vec_softmax_scalar(float *x, int64_t n);
void  gm_vec_rmsnorm_scalar(float *y, const float *x, const float *w, int64_t n, float eps);
void  gm_vec_h2f_scalar(float *y, const uint16_t *x, int64_t n);
void  gm_vec_f2h_scalar(uint16_t *y, const float *x, int64_t n);
void  gm_vec_wsum_g_scalar(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v,
                           int64_t ldv, int m, int64_t n);
#if defined(__x86_64__)
float gm_vec_dot_avx2(const float *a, const float *b, int64_t n);
void  gm_vec_axpy_avx2(float *y, float a, const float *x, int64_t n);
void  gm_vec_wsum_avx2(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n);
void  gm_vec_softcap_avx2(float *x, int64_t n, float cap);
void  gm_vec_geglu_avx2(float *out, const float *g, const float *u, int64_t n);
void  gm_vec_softmax_avx2(float *x, int64_t n);
void  gm_vec_rmsnorm_avx2(float *y, const float *x, const float *w, int64_t n, float eps);
void  gm_vec_wsum_g_avx2(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v,
                         int64_t ldv, int m, int64_t n);
void  gm_vec_h2f_avx2(float *y, const uint16_t *x, int64_t n);
void  gm_vec_f2h_avx2(uint16_t *y, const float *x, int64_t n);
float gm_vec_dot_avx512(const float *a, const float *b, int64_t n);
void  gm_vec_axpy_avx512(float *y, float a, const float *x, int64_t n);
void  gm_vec_wsum_avx512(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n);
void  gm_vec_softcap_avx512(float *x, int64_t n, float cap);
void  gm_vec_geglu_avx512(float *out, const float *g, const float *u, int64_t n);
void  gm_vec_softmax_avx512(float *x, int64_t n);
void  gm_vec_rmsnorm_avx512(float *y, const float *x, const float *w, int64_t n, float eps);
void  gm_vec_qk_avx512(const float *q, int64_t ldq, int g, const float *k, int64_t ldk, int nk, int64_t n,
                      float *out, int64_t ldo);
void  gm_vec_wsum_g_avx512(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v,
                           int64_t ldv, int m, int64_t n);
void  gm_vec_h2f_avx512(float *y, const uint16_t *x, int64_t n);
void  gm_vec_f2h_avx512(uint16_t *y, const float *x, int64_t n);
#endif

/* Tokens per cache block: enough that the block of X (tokens x cols floats)
 * stays in a core's L2 while a band of rows sweeps over it; a multiple of
 * the kernel's token tile nr. */
static inline int gm_mm_token_block(int64_t cols, int nr)
{
    int64_t tb = (int64_t)(384 * 1024) / (cols * 4 > 0 ? cols * 4 : 4);
    tb = tb / nr * nr;
    if (tb < nr) tb = nr;
    if (tb > 1 << 20) tb = 1 << 20;
    return (int)tb;
}

#endif
