/* matmul_avx2.c: F32/F16/BF16 matrix kernels for AVX2 + FMA + F16C.
 *
 * The AVX-512 file's scheme with 8 lanes: every (row, token) pair owns one
 * 8-lane accumulator that walks the row in steps of 8 columns (a zero-padded
 * step for the tail), then one horizontal sum in a fixed order.  Prefill
 * tiles are 4 rows x up to 3 tokens (12 accumulators + 4 weight vectors fill
 * the 16 registers); decode tiles are 8 rows x 1 token.  Both run the same
 * sequence per pair, so decode and prefill agree bit for bit. */
#if defined(__x86_64__)
#include <string.h>
#include <immintrin.h>
#include "mm_impl.h"

#define AI static inline __attribute__((always_inline))

/* Lanes [0, m) set: the mask for a tail of m < 8 columns. */
AI __m256i tail_mask(int m)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* 8 16-bit weights widened to float. */
AI __m256 widen(const int type, __m128i h)
{
    if (type == GM_TYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* 8 weights from column c of a row (full step). */
AI __m256 load_w(const int type, const char *row, int64_t c)
{
    if (type == GM_TYPE_F32) return _mm256_loadu_ps((const float *)row + c);
    return widen(type, _mm_loadu_si128((const __m128i *)((const uint16_t *)row + c)));
}

/* The m < 8 tail weights from column c, zero-padded. */
AI __m256 load_w_tail(const int type, const char *row, int64_t c, int m, __m256i mask)
{
    if (type == GM_TYPE_F32) return _mm256_maskload_ps((const float *)row + c, mask);
    uint16_t buf[8] = {0};
    memcpy(buf, (const uint16_t *)row + c, (size_t)m * 2);
    return widen(type, _mm_loadu_si128((const __m128i *)buf));
}

/* Horizontal sum of 8 lanes in a fixed order. */
AI float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The tile: R rows x NT tokens; rows/tokens past rv/tv alias valid ones and
 * are not stored. */
AI void tile(const int type, const int R, const int NT, const char *const *wr, int64_t cols,
             const float *const *xr, float *y, int64_t ldy, int rv, int tv)
{
    __m256 acc[8][3];
#pragma GCC unroll 8
    for (int i = 0; i < R; i++)
#pragma GCC unroll 3
        for (int t = 0; t < NT; t++) acc[i][t] = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        if (NT == 1) {         /* decode: one weight vector live at a time */
            __m256 xv = _mm256_loadu_ps(xr[0] + c);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) acc[i][0] = _mm256_fmadd_ps(load_w(type, wr[i], c), xv, acc[i][0]);
            continue;
        }
        __m256 wv[8];
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) wv[i] = load_w(type, wr[i], c);
#pragma GCC unroll 3
        for (int t = 0; t < NT; t++) {
            __m256 xv = _mm256_loadu_ps(xr[t] + c);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) acc[i][t] = _mm256_fmadd_ps(wv[i], xv, acc[i][t]);
        }
    }
    if (c < cols) {
        int m = (int)(cols - c);
        __m256i mask = tail_mask(m);
        __m256 wv[8];
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) wv[i] = load_w_tail(type, wr[i], c, m, mask);
#pragma GCC unroll 3
        for (int t = 0; t < NT; t++) {
            __m256 xv = _mm256_maskload_ps(xr[t] + c, mask);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) acc[i][t] = _mm256_fmadd_ps(wv[i], xv, acc[i][t]);
        }
    }
#pragma GCC unroll 3
    for (int t = 0; t < NT; t++)
#pragma GCC unroll 8
        for (int i = 0; i < R; i++)
            if (t < tv && i < rv) y[t * ldy + i] = hsum(acc[i][t]);
}

/* Rows [r, r+R) clamped to the band end, as pointers. */
AI int row_ptrs(const gm_mm_args *a, int64_t r, int64_t r1, const int R, const char **wr)
{
    int rv = (int)(r1 - r < R ? r1 - r : R);
    for (int i = 0; i < R; i++) wr[i] = a->base + (size_t)(r + (i < rv ? i : rv - 1)) * a->row_bytes;
    return rv;
}

/* One weight type's band: decode tile for n = 1, blocked prefill tiles otherwise. */
AI void band(const int type, const gm_mm_args *a, int64_t r0, int64_t r1)
{
    const char *wr[8];
    const float *xr[3];
    if (a->n == 1) {
        xr[0] = a->X;
        for (int64_t r = r0; r < r1; r += 8) {
            int rv = row_ptrs(a, r, r1, 8, wr);
            tile(type, 8, 1, wr, a->cols, xr, a->Y + r, a->ldy, rv, 1);
        }
        return;
    }
    int tb = gm_mm_token_block(a->cols, 3);
    for (int t0 = 0; t0 < a->n; t0 += tb) {
        int t1 = t0 + tb < a->n ? t0 + tb : a->n;
        for (int64_t r = r0; r < r1; r += 4) {
            int rv = row_ptrs(a, r, r1, 4, wr);
            for (int t = t0; t < t1; t += 3) {
                int tv = t1 - t < 3 ? t1 - t : 3;
                for (int k = 0; k < 3; k++) xr[k] = a->X + (int64_t)(t + (k < tv ? k : tv - 1)) * a->ldx;
                float *y = a->Y + (int64_t)t * a->ldy + r;
                switch (tv) {
                case 1: tile(type, 4, 1, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                case 2: tile(type, 4, 2, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                default: tile(type, 4, 3, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                }
            }
        }
    }
}

/* Entry point: Y rows [r0, r1) for all tokens. */
void gm_mm_band_avx2(const gm_mm_args *a, int64_t r0, int64_t r1)
{
    switch (a->type) {
    case GM_TYPE_F32: band(GM_TYPE_F32, a, r0, r1); break;
    case GM_TYPE_F16: band(GM_TYPE_F16, a, r0, r1); break;
    case GM_TYPE_BF16: band(GM_TYPE_BF16, a, r0, r1); break;
    default: break;
    }
}
#endif
