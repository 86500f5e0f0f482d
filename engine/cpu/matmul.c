/* matmul.c: the CPU backend's matrix product, the one hot loop of the engine.
 *
 * Decode (n = 1) is a matrix-vector product bounded by memory bandwidth; the
 * rows are split across the pool.  Prefill (n > 1) splits rows the same way
 * and each thread applies its pieces of rows to every token in register
 * tiles, so every weight is read from memory by one thread per batch.  The kernel
 * family (AVX-512, AVX2, portable C) is chosen once per process; the SIMD
 * kernels live in files with an ISA suffix (compiled with those flags).
 * Quantized types are handed to qmatmul.c. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include "mm_impl.h"
#include "quant.h"

/* ---- portable C kernel ---------------------------------------------------- */

#define SC_LANES 8      /* partial sums per (row, token) pair */
#define SC_CHUNK 128    /* weights widened at a time */
#define SC_NT    8      /* tokens per tile */

/* Widen cnt weights of a row starting at column c into out. */
static void widen_scalar(gm_type t, const char *row, int64_t c, int cnt, float *out)
{
    if (t == GM_TYPE_F32) { memcpy(out, (const float *)row + c, (size_t)cnt * 4); return; }
    const uint16_t *w = (const uint16_t *)row + c;
    if (t == GM_TYPE_BF16) for (int i = 0; i < cnt; i++) out[i] = gm_bf16_to_f32(w[i]);
    else for (int i = 0; i < cnt; i++) out[i] = gm_f16_to_f32(w[i]);
}

/* One row against up to SC_NT tokens.  Each pair keeps SC_LANES partial sums
 * (column c goes to lane c % SC_LANES), summed in a fixed order at the end;
 * the same sequence whatever nt is, so decode and prefill agree. */
static void row_tile_scalar(const gm_mm_args *a, const char *row, int64_t r, int t0, int nt)
{
    float acc[SC_NT][SC_LANES] = {{0}};
    float wbuf[SC_CHUNK];
    for (int64_t c = 0; c < a->cols; c += SC_CHUNK) {
        int cnt = a->cols - c < SC_CHUNK ? (int)(a->cols - c) : SC_CHUNK;
        widen_scalar(a->type, row, c, cnt, wbuf);
        for (int t = 0; t < nt; t++) {
            const float *x = a->X + (int64_t)(t0 + t) * a->ldx + c;
            float *s = acc[t];
            int i = 0;
            for (; i + SC_LANES <= cnt; i += SC_LANES)
                for (int l = 0; l < SC_LANES; l++) s[l] += wbuf[i + l] * x[i + l];
            for (; i < cnt; i++) s[i % SC_LANES] += wbuf[i] * x[i];
        }
    }
    for (int t = 0; t < nt; t++) {
        const float *s = acc[t];
        float v = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
        a->Y[(int64_t)(t0 + t) * a->ldy + r] = v;
    }
}

/* Portable band: every row against every token, SC_NT tokens at a time. */
void gm_mm_band_scalar(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch)
{
    (void)scratch;
    for (int t0 = 0; t0 < a->n; t0 += SC_NT) {
        int nt = a->n - t0 < SC_NT ? a->n - t0 : SC_NT;
        for (int64_t r = r0; r < r1; r++)
            row_tile_scalar(a, a->base + (size_t)r * a->row_bytes, r, t0, nt);
    }
}

/* Dot product in 8 lanes (column i to lane i % 8), summed in a fixed order. */
float gm_vec_dot_scalar(const float *a, const float *b, int64_t n)
{
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) s[l] += a[i + l] * b[i + l];
    for (; i < n; i++) s[i % 8] += a[i] * b[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* y += a x, one element at a time. */
void gm_vec_axpy_scalar(float *y, float a, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* Weighted sum of m rows as m axpys (the definition the SIMD ones follow). */
void gm_vec_wsum_scalar(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n)
{
    for (int u = 0; u < m; u++) gm_vec_axpy_scalar(y, w[u], v + (int64_t)u * ldv, n);
}

/* g weighted sums over the same rows of v, as g calls of gm_vec_wsum. */
void gm_vec_wsum_g_scalar(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v,
                          int64_t ldv, int m, int64_t n)
{
    for (int j = 0; j < g; j++) gm_vec_wsum_scalar(y + j * ldy, w + j * ldw, v, ldv, m, n);
}

/* Attention scores, one gm_vec_dot per pair: the families without a
 * tiled score kernel (scalar, AVX2) use these. */
static void qk_scalar(const float *q, int64_t ldq, int g, const float *k, int64_t ldk, int nk, int64_t n,
                      float *out, int64_t ldo)
{
    for (int j = 0; j < g; j++)
        for (int u = 0; u < nk; u++) out[j * ldo + u] = gm_vec_dot_scalar(q + j * ldq, k + u * ldk, n);
}

#if defined(__x86_64__)
static void qk_avx2(const float *q, int64_t ldq, int g, const float *k, int64_t ldk, int nk, int64_t n,
                    float *out, int64_t ldo)
{
    for (int j = 0; j < g; j++)
        for (int u = 0; u < nk; u++) out[j * ldo + u] = gm_vec_dot_avx2(q + j * ldq, k + u * ldk, n);
}
#endif

/* Half to float, one element at a time (exact). */
void gm_vec_h2f_scalar(float *y, const uint16_t *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = gm_f16_to_f32(x[i]);
}

/* Float to half, one element at a time. */
void gm_vec_f2h_scalar(uint16_t *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = gm_f32_to_f16(x[i]);
}

/* ---- kernel family choice --------------------------------------------------- */

typedef struct {
    const char   *name;
    gm_mm_band_fn band;
    float       (*dot)(const float *, const float *, int64_t);
    void        (*axpy)(float *, float, const float *, int64_t);
    void        (*wsum)(float *, const float *, const float *, int64_t, int, int64_t);
    void        (*softcap)(float *, int64_t, float);
    void        (*wsum_g)(float *, int64_t, const float *, int64_t, int, const float *, int64_t, int, int64_t);
    void        (*qk)(const float *, int64_t, int, const float *, int64_t, int, int64_t, float *, int64_t);
    void        (*geglu)(float *, const float *, const float *, int64_t);
    void        (*softmax)(float *, int64_t);
    void        (*rmsnorm)(float *, const float *, const float *, int64_t, float);
    void        (*h2f)(float *, const uint16_t *, int64_t);
    void        (*f2h)(uint16_t *, const float *, int64_t);
} isa_entry;

static const isa_entry ISA_TABLE[GM_ISA_COUNT] = {
    [GM_ISA_SCALAR] = { "scalar", gm_mm_band_scalar, gm_vec_dot_scalar, gm_vec_axpy_scalar, gm_vec_wsum_scalar, gm_vec_softcap_scalar,
                        gm_vec_wsum_g_scalar, qk_scalar, gm_vec_geglu_scalar, gm_vec_softmax_scalar,
                        gm_vec_rmsnorm_scalar, gm_vec_h2f_scalar, gm_vec_f2h_scalar },
#if defined(__x86_64__)
    [GM_ISA_AVX2]   = { "avx2",   gm_mm_band_avx2, gm_vec_dot_avx2, gm_vec_axpy_avx2, gm_vec_wsum_avx2, gm_vec_softcap_avx2,
                        gm_vec_wsum_g_avx2, qk_avx2, gm_vec_geglu_avx2, gm_vec_softmax_avx2,
                        gm_vec_rmsnorm_avx2, gm_vec_h2f_avx2, gm_vec_f2h_avx2 },
    [GM_ISA_AVX512] = { "avx512", gm_mm_band_avx512, gm_vec_dot_avx512, gm_vec_axpy_avx512, gm_vec_wsum_avx512, gm_vec_softcap_avx512,
                        gm_vec_wsum_g_avx512, gm_vec_qk_avx512, gm_vec_geglu_avx512, gm_vec_softmax_avx512,
                        gm_vec_rmsnorm_avx512, gm_vec_h2f_avx512, gm_vec_f2h_avx512 },
#else
    [GM_ISA_AVX2]   = { "avx2",   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
    [GM_ISA_AVX512] = { "avx512", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
#endif
};

/* Printable name of a kernel family. */
const char *gm_isa_name(gm_isa isa)
{
    return (unsigned)isa < GM_ISA_COUNT ? ISA_TABLE[isa].name : "unknown";
}

/* What the CPU (and the OS, for the wide registers) supports. */
bool gm_isa_supported(gm_isa isa)
{
    switch (isa) {
    case GM_ISA_SCALAR: return true;
#if defined(__x86_64__)
    case GM_ISA_AVX2:
        return gm_cpu_has(GM_CPU_AVX2);     /* AVX2 + FMA + F16C, checked with cpuid (cpufeat.c) */
    case GM_ISA_AVX512:
        return gm_isa_supported(GM_ISA_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
    default: return false;
    }
}

/* The process-wide choice: written once under isa_once, constant after. */
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static gm_isa isa_chosen = GM_ISA_SCALAR;

/* Pick the best family, or the one GEMMASH_ISA names if the CPU has it. */
static void isa_init(void)
{
    gm_isa best = GM_ISA_SCALAR;
    for (int i = GM_ISA_COUNT - 1; i > 0; i--)
        if (gm_isa_supported((gm_isa)i)) { best = (gm_isa)i; break; }
    const char *env = getenv("GEMMASH_ISA");
    if (env && *env) {
        int found = -1;
        for (int i = 0; i < GM_ISA_COUNT; i++)
            if (strcmp(env, ISA_TABLE[i].name) == 0) found = i;
        if (found < 0)
            fprintf(stderr, "gemmash: GEMMASH_ISA=%s is not a kernel family (scalar, avx2, avx512); "
                    "using %s\n", env, ISA_TABLE[best].name);
        else if (!gm_isa_supported((gm_isa)found))
            fprintf(stderr, "gemmash: GEMMASH_ISA=%s: this CPU lacks those instructions; using %s\n",
                    env, ISA_TABLE[best].name);
        else best = (gm_isa)found;
    }
    isa_chosen = best;
}

/* The family gm_matmul uses, decided on first use. */
gm_isa gm_isa_default(void)
{
    pthread_once(&isa_once, isa_init);
    return isa_chosen;
}

/* Name of the family in use, for logs and `gemmash info`. */
const char *gm_kernel_isa(void) { return gm_isa_name(gm_isa_default()); }

/* Dispatch to the chosen family. */
float gm_vec_dot(const float *a, const float *b, int64_t n)
{
    return ISA_TABLE[gm_isa_default()].dot(a, b, n);
}

/* Dispatch to the chosen family. */
void gm_vec_axpy(float *y, float a, const float *x, int64_t n)
{
    ISA_TABLE[gm_isa_default()].axpy(y, a, x, n);
}

/* Dispatch to the chosen family. */
void gm_vec_wsum(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n)
{
    ISA_TABLE[gm_isa_default()].wsum(y, w, v, ldv, m, n);
}

/* Dispatch to the chosen family. */
void gm_vec_f16_to_f32(float *y, const uint16_t *x, int64_t n)
{
    ISA_TABLE[gm_isa_default()].h2f(y, x, n);
}

void gm_vec_f32_to_f16(uint16_t *y, const float *x, int64_t n)
{
    ISA_TABLE[gm_isa_default()].f2h(y, x, n);
}

/* Dispatch to the chosen family. */
void gm_vec_qk(const float *q, int64_t ldq, int g, const float *k, int64_t ldk, int nk, int64_t n,
               float *out, int64_t ldo)
{
    ISA_TABLE[gm_isa_default()].qk(q, ldq, g, k, ldk, nk, n, out, ldo);
}

/* Dispatch to the chosen family. */
void gm_vec_wsum_g(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v, int64_t ldv,
                   int m, int64_t n)
{
    ISA_TABLE[gm_isa_default()].wsum_g(y, ldy, w, ldw, g, v, ldv, m, n);
}

/* Dispatch to the chosen family. */
void gm_vec_softcap(float *x, int64_t n, float cap)
{
    ISA_TABLE[gm_isa_default()].softcap(x, n, cap);
}

/* Dispatch to the chosen family. */
void gm_vec_geglu(float *out, const float *g, const float *u, int64_t n)
{
    ISA_TABLE[gm_isa_default()].geglu(out, g, u, n);
}

/* Dispatch to the chosen family. */
void gm_vec_softmax(float *x, int64_t n)
{
    ISA_TABLE[gm_isa_default()].softmax(x, n);
}

/* Dispatch to the chosen family. */
void gm_vec_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    ISA_TABLE[gm_isa_default()].rmsnorm(y, x, w, n, eps);
}

/* ---- driver ------------------------------------------------------------------ */

void gm_tensor_row(const gm_tensor *W, int64_t slice, int64_t r, float *out)
{
    int64_t n = W->ne[0];
    if (W->type != GM_TYPE_F32 && W->type != GM_TYPE_BF16 && W->type != GM_TYPE_F16) {
        if (gm_qtensor_row(W, slice, r, out) != 0) memset(out, 0, (size_t)n * 4);
        return;
    }
    const char *row = (const char *)W->data + ((size_t)slice * (size_t)W->ne[1] + (size_t)r) * W->row_bytes;
    widen_scalar(W->type, row, 0, (int)n, out);
}

typedef struct {
    gm_pool      *pool;
    gm_mm_args    a;
    gm_mm_band_fn band;
    int64_t       rows;
    int64_t       chunk;   /* rows per piece of work (a multiple of the tiles) */
    atomic_llong  next;    /* next piece to take */
} mm_job;

/* Threads take pieces of consecutive rows from a shared counter and apply
 * them to all tokens: every weight row is still read by one thread per
 * batch, and a thread the OS pauses (the machine may be shared) leaves its
 * rows to the others instead of holding up the whole product.  Which
 * thread computes a row never changes its bits. */
static void mm_worker(void *arg, int ith, int nth)
{
    (void)nth;
    mm_job *j = arg;
    void *scratch = gm_pool_scratch(j->pool, ith);
    for (;;) {
        int64_t r0 = (int64_t)atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed) * j->chunk;
        if (r0 >= j->rows) break;
        int64_t r1 = r0 + j->chunk < j->rows ? r0 + j->chunk : j->rows;
        j->band(&j->a, r0, r1, scratch);
    }
}

/* The product with an explicit family: rows split in pieces across the pool. */
int gm_matmul_isa(gm_pool *p, gm_isa isa, const gm_tensor *W, int64_t slice, const float *X,
                  int64_t ldx, int n, float *Y, int64_t ldy)
{
    if (W->type != GM_TYPE_F32 && W->type != GM_TYPE_BF16 && W->type != GM_TYPE_F16)
        return gm_qmatmul(p, W, slice, X, ldx, n, Y, ldy);
    if (n <= 0 || W->ne[1] <= 0) return 0;
    if ((unsigned)isa >= GM_ISA_COUNT || !ISA_TABLE[isa].band || !gm_isa_supported(isa))
        isa = GM_ISA_SCALAR;
    mm_job j = {
        .pool = p,
        .a = { W->type, (const char *)W->data + (size_t)slice * (size_t)W->ne[1] * W->row_bytes,
               W->row_bytes, W->ne[0], X, ldx, n, Y, ldy },
        .band = ISA_TABLE[isa].band, .rows = W->ne[1],
    };
    /* About 8 pieces per thread; multiples of the decode tile (8 rows) or of
     * every prefill tile (3, 4 rows), not so small that a piece is all edges. */
    int64_t align = n == 1 ? 8 : 12, pieces = (int64_t)gm_pool_size(p) * 8;
    int64_t chunk = (W->ne[1] + pieces - 1) / pieces;
    chunk = (chunk + align - 1) / align * align;
    j.chunk = chunk < 2 * align ? 2 * align : chunk;
    atomic_init(&j.next, 0);
    /* Tiny products are not worth waking the pool. */
    if ((double)W->ne[0] * (double)W->ne[1] * n < 32768.0) mm_worker(&j, 0, 1);
    else gm_pool_run(p, mm_worker, &j);
    return 0;
}

/* The product with the process-wide family. */
int gm_matmul(gm_pool *p, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx,
              int n, float *Y, int64_t ldy)
{
    return gm_matmul_isa(p, gm_isa_default(), W, slice, X, ldx, n, Y, ldy);
}

/* Several products of one input: shared where gm_qmatmul_multi can, else
 * one call each (see kernels.h). */
int gm_matmul_multi(gm_pool *p, int count, const gm_tensor *const *W, const float *X, int64_t ldx, int n,
                    float *const *Y, const int64_t *ldy)
{
    if (gm_qmatmul_multi(p, count, W, X, ldx, n, Y, ldy) == 0) return 0;   /* declines float types */
    for (int i = 0; i < count; i++)
        if (gm_matmul(p, W[i], 0, X, ldx, n, Y[i], ldy[i]) != 0) return -1;
    return 0;
}
