/* kernels.h: the engine's internal compute interface (not public).
 *
 * The forward pass (forward.c) is written once against these calls; a
 * backend supplies them.  The CPU backend lives in engine/cpu/: a persistent
 * thread pool, matrix products for every weight type (chosen at run time
 * among AVX-512, AVX2 and portable C), and the small vector ops.
 *
 * Tensors use GGML's type numbers so GGUF files map one to one. */
#ifndef GEMMASH_KERNELS_H
#define GEMMASH_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "engine.h"

typedef enum gm_type {
    GM_TYPE_F32 = 0, GM_TYPE_F16 = 1, GM_TYPE_Q4_0 = 2, GM_TYPE_Q4_1 = 3, GM_TYPE_Q5_0 = 6, GM_TYPE_Q5_1 = 7,
    GM_TYPE_Q8_0 = 8, GM_TYPE_Q2_K = 10, GM_TYPE_Q3_K = 11, GM_TYPE_Q4_K = 12, GM_TYPE_Q5_K = 13, GM_TYPE_Q6_K = 14,
    GM_TYPE_IQ4_NL = 20, GM_TYPE_IQ4_XS = 23, GM_TYPE_BF16 = 30,
} gm_type;

/* A weight tensor as the kernels see it: ne[0] is the inner (contiguous)
 * dimension, ne[1] rows, ne[2] a stack (experts).  data points into an mmap
 * or an owned buffer. */
typedef struct gm_tensor {
    gm_type     type;
    int64_t     ne[3];
    size_t      row_bytes;     /* bytes of one row of ne[0] elements */
    size_t      nbytes;        /* whole tensor */
    const void *data;
    const char *name;
    void       *packed;        /* backend-private repacked copy, or NULL */
} gm_tensor;

/* Name, block size (elements) and bytes per block of a type; 0 if unknown. */
const char *gm_type_name(gm_type t);
int         gm_type_block(gm_type t);
size_t      gm_type_block_bytes(gm_type t);
size_t      gm_type_row_bytes(gm_type t, int64_t n); /* 0 if n is not a multiple of the block */

/* ---- thread pool ---------------------------------------------------------- */

typedef struct gm_pool gm_pool;
typedef void (*gm_pool_fn)(void *arg, int ith, int nth);

gm_pool *gm_pool_new(int n_threads, gm_err *err);  /* n_threads <= 0: physical cores */
void     gm_pool_free(gm_pool *p);
int      gm_pool_size(const gm_pool *p);
/* Run fn(arg, i, n) on every thread (the caller is thread 0); returns when all are done. */
void     gm_pool_run(gm_pool *p, gm_pool_fn fn, void *arg);
int      gm_physical_cores(void);
/* Thread ith's private scratch (GM_POOL_SCRATCH bytes, 64-byte aligned), made
 * once with the pool so kernels never allocate; NULL without a pool. */
#define GM_POOL_SCRATCH (4 * 1024 * 1024)
void    *gm_pool_scratch(gm_pool *p, int ith);

/* ---- matrix products -------------------------------------------------------- */

/* Y[t][r] = sum_c W[slice][r][c] * X[t][c] for t < n, r < ne[1].
 * X is n x ne[0] floats (row stride ldx), Y is n x ne[1] (row stride ldy).
 * Returns 0, or -1 if W's type has no kernel. */
int gm_matmul(gm_pool *p, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx,
              int n, float *Y, int64_t ldy);
/* Row r of slice s as floats (embedding lookups). */
void gm_tensor_row(const gm_tensor *W, int64_t slice, int64_t r, float *out);
/* Name of the matrix kernel family in use ("avx512", "avx2", "scalar"). */
const char *gm_kernel_isa(void);

/* Kernel families.  gm_matmul uses the best one this CPU runs, chosen once;
 * GEMMASH_ISA=scalar|avx2|avx512 in the environment forces one (tests,
 * benchmarks).  Whatever the family and thread count, Y[t][r] depends only
 * on row r and token t: decoding one token gives the same bits as the same
 * token inside a prefill batch. */
typedef enum gm_isa { GM_ISA_SCALAR = 0, GM_ISA_AVX2 = 1, GM_ISA_AVX512 = 2, GM_ISA_COUNT } gm_isa;
gm_isa      gm_isa_default(void);
bool        gm_isa_supported(gm_isa isa);
const char *gm_isa_name(gm_isa isa);
/* gm_matmul with an explicit family (falls back to scalar if unsupported). */
int gm_matmul_isa(gm_pool *p, gm_isa isa, const gm_tensor *W, int64_t slice, const float *X,
                  int64_t ldx, int n, float *Y, int64_t ldy);

/* Quantized types (Q8_0, Q4_0, Q4_K, ...) are provided by cpu/qmatmul.c;
 * gm_matmul and gm_tensor_row hand them over.  Both return 0, or -1 when
 * the type has no kernel. */
int gm_qmatmul(gm_pool *p, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx,
               int n, float *Y, int64_t ldy);
int gm_qtensor_row(const gm_tensor *W, int64_t slice, int64_t r, float *out);

/* Products of one input with up to GM_MM_MULTI matrices of the same width:
 * Y[i] = X W[i]^T (slice 0 of each).  Quantized matrices whose activations
 * take the same form (q/k/v, gate/up) share one quantization of X and one
 * pool region, so the threads wait for each other once instead of once per
 * matrix; anything else runs as separate gm_matmul calls.  Each Y gets the
 * bits a separate call gives.  gm_qmatmul_multi returns -1, doing nothing,
 * when the matrices cannot share. */
#define GM_MM_MULTI 4
int gm_matmul_multi(gm_pool *p, int count, const gm_tensor *const *W, const float *X, int64_t ldx, int n,
                    float *const *Y, const int64_t *ldy);
int gm_qmatmul_multi(gm_pool *p, int count, const gm_tensor *const *W, const float *X, int64_t ldx, int n,
                     float *const *Y, const int64_t *ldy);
/* gm_qmatmul_multi over rows of X that its quantization pass makes: the
 * thread about to quantize row t (0 <= t < n) first calls make(arg, t),
 * which writes that row of X (a norm of the residual, a GeGLU), so the
 * row is quantized while in that core's cache.  Against a separate pool
 * pass over the batch and then gm_qmatmul_multi: one barrier and one read
 * of every row fewer, half of each written by the other core's products;
 * the same bits.  -1 with nothing made where gm_qmatmul_multi declines:
 * the caller then makes the rows itself. */
typedef void (*gm_row_fn)(void *arg, int t);
int gm_qmatmul_made(gm_pool *p, int count, const gm_tensor *const *W, const float *X, int64_t ldx, int n,
                    float *const *Y, const int64_t *ldy, gm_row_fn make, void *arg);
/* The GeGLU MLP's first half, G = gelu(X gate^T) * (X up^T), where the
 * AVX-512 path's 32-row tile can take each 16 rows of gate beside the
 * same rows of up (prefill: n > GM_QP_TOKENS; both packed, same type and
 * shape): the GeGLU is applied to the tile's sums while they are in
 * registers' reach, and neither product goes to memory on its own
 * (U only holds up's sums between runs of a wide input).  Returns 1 then.
 * Elsewhere it is gm_qmatmul_multi of the two into G and U, returning 0,
 * and the caller applies gm_vec_geglu; -1, nothing done, where that
 * declines.  Either way G ends with the bits of the products followed by
 * gm_vec_geglu. */
int gm_qmatmul_geglu(gm_pool *p, const gm_tensor *gate, const gm_tensor *up, const float *X, int64_t ldx, int n,
                     float *G, float *U, int64_t ldy);

/* ---- small vector ops --------------------------------------------------------- */

/* Dot product of two float vectors, SIMD in the chosen kernel family, with
 * a fixed summation order: the same inputs give the same bits whatever
 * batch the caller is in (attention scores in prefill and decode agree). */
float gm_vec_dot(const float *a, const float *b, int64_t n);
/* y[i] += a * x[i] (attention's weighted sum of values). */
void  gm_vec_axpy(float *y, float a, const float *x, int64_t n);
/* y[i] += sum over u < m of w[u] * v[u * ldv + i], i < n: m axpys in a row,
 * with y kept in registers (same bits as the gm_vec_axpy loop). */
void  gm_vec_wsum(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n);
/* Attention scores: g query rows (q + j*ldq) against nk key rows
 * (k + u*ldk), n dims, into out[j*ldo + u].  A score's bits depend only
 * on its two rows and n (not on g, nk, or its place among them), so
 * prefill, decode and any thread split give the same scores. */
void  gm_vec_qk(const float *q, int64_t ldq, int g, const float *k, int64_t ldk, int nk, int64_t n,
                float *out, int64_t ldo);
/* gm_vec_wsum for g outputs over the same rows of v (the query heads that
 * share one KV head): y[j*ldy + i] += sum_u w[j*ldw + u] * v[u*ldv + i].
 * Reads each row of v once for all g; the bits of g gm_vec_wsum calls. */
void  gm_vec_wsum_g(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v, int64_t ldv,
                    int m, int64_t n);
/* x[i] = cap * tanh(x[i] / cap) (the final logit softcap), vectorised in
 * the chosen family; within 4 ulp of libm's tanhf in the SIMD families. */
void  gm_vec_softcap(float *x, int64_t n, float cap);
/* out[i] = gelu_tanh(g[i]) * u[i] (the GeGLU of the MLPs and the per-layer
 * input gate); out may be g.  Within a few ulp of ops.h's gelu. */
void  gm_vec_geglu(float *out, const float *g, const float *u, int64_t n);
/* Softmax of x[0..n) in place, the sum in double, weights that would be
 * subnormal stored as 0 (attention scores). */
void  gm_vec_softmax(float *x, int64_t n);
/* y = x / sqrt(mean(x^2) + eps) * w (w NULL: no weight), the mean of
 * squares summed in double; y may be x. */
void  gm_vec_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
/* y[i] = x[i] widened from IEEE half (exact, so every family gives the same
 * bits): the rows of an f16 KV cache before the attention kernels. */
void  gm_vec_f16_to_f32(float *y, const uint16_t *x, int64_t n);
/* y[i] = gm_f32_to_f16(x[i]) (round to nearest even, NaN as sign | 0x7e00),
 * every family the same bits: gm_quantize_row's F16 rows, among them the
 * K and V rows an f16 cache stores, one pair per token and layer, which
 * one element at a time cost 1.5% of a prefill. */
void  gm_vec_f32_to_f16(uint16_t *y, const float *x, int64_t n);


float gm_bf16_to_f32(uint16_t h);
uint16_t gm_f32_to_bf16(float f);
float gm_f16_to_f32(uint16_t h);
uint16_t gm_f32_to_f16(float f);

#endif
