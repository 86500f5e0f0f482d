/* matmul_avx512.c: F32/F16/BF16 matrix kernels for AVX-512 (16 lanes).
 *
 * Every (row, token) pair owns one 16-lane accumulator that walks the row
 * in steps of 16 columns (a masked step for the tail) with fused
 * multiply-adds, then one horizontal sum.  The prefill tile (4 rows x up to
 * 6 tokens, 24 accumulators) and the decode tile (8 rows x 1 token) both
 * run exactly that sequence per pair, so their results are bit-identical.
 * The tile loads and widens each weight vector once and applies it to all
 * of its tokens; X is blocked so a block of tokens stays in L2 while a band
 * of rows sweeps over it. */
#if defined(__x86_64__)
#include <immintrin.h>
#include "mm_impl.h"

#define AI static inline __attribute__((always_inline))

/* 16 weights from column c of a row, widened to float (masked lanes = 0). */
AI __m512 load_w(const int type, const char *row, int64_t c, __mmask16 m, const int masked)
{
    if (type == GM_TYPE_F32) {
        const float *p = (const float *)row + c;
        return masked ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p);
    }
    const uint16_t *p = (const uint16_t *)row + c;
    __m256i h = masked ? _mm256_maskz_loadu_epi16(m, p) : _mm256_loadu_si256((const __m256i *)p);
    if (type == GM_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The tile: R rows (row i at w + i*rb) x NT tokens (token t at x + xo[t]).
 * Rows/tokens past the valid counts alias valid ones and are not stored. */
AI void tile(const int type, const int R, const int NT, const char *const *wr, int64_t cols,
             const float *const *xr, float *y, int64_t ldy, int rv, int tv)
{
    __m512 acc[8][6];
#pragma GCC unroll 8
    for (int i = 0; i < R; i++)
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) acc[i][t] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) {
        __m512 wv[8];
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) wv[i] = load_w(type, wr[i], c, 0, 0);
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) {
            __m512 xv = _mm512_loadu_ps(xr[t] + c);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) acc[i][t] = _mm512_fmadd_ps(wv[i], xv, acc[i][t]);
        }
    }
    if (c < cols) {
        __mmask16 m = (__mmask16)((1u << (cols - c)) - 1u);
        __m512 wv[8];
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) wv[i] = load_w(type, wr[i], c, m, 1);
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, xr[t] + c);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) acc[i][t] = _mm512_fmadd_ps(wv[i], xv, acc[i][t]);
        }
    }
#pragma GCC unroll 6
    for (int t = 0; t < NT; t++)
#pragma GCC unroll 8
        for (int i = 0; i < R; i++)
            if (t < tv && i < rv) y[t * ldy + i] = _mm512_reduce_add_ps(acc[i][t]);
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
    const float *xr[6];
    if (a->n == 1) {
        xr[0] = a->X;
        for (int64_t r = r0; r < r1; r += 8) {
            int rv = row_ptrs(a, r, r1, 8, wr);
            tile(type, 8, 1, wr, a->cols, xr, a->Y + r, a->ldy, rv, 1);
        }
        return;
    }
    int tb = gm_mm_token_block(a->cols, 6);
    for (int t0 = 0; t0 < a->n; t0 += tb) {
        int t1 = t0 + tb < a->n ? t0 + tb : a->n;
        for (int64_t r = r0; r < r1; r += 4) {
            int rv = row_ptrs(a, r, r1, 4, wr);
            for (int t = t0; t < t1; t += 6) {
                int tv = t1 - t < 6 ? t1 - t : 6;
                for (int k = 0; k < 6; k++) xr[k] = a->X + (int64_t)(t + (k < tv ? k : tv - 1)) * a->ldx;
                float *y = a->Y + (int64_t)t * a->ldy + r;
                switch (tv) {   /* small batches (speculative decoding) waste no lanes */
                case 1: tile(type, 4, 1, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                case 2: tile(type, 4, 2, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                case 3: tile(type, 4, 3, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                case 4: tile(type, 4, 4, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                default: tile(type, 4, 6, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                }
            }
        }
    }
}

/* Entry point: Y rows [r0, r1) for all tokens. */
void gm_mm_band_avx512(const gm_mm_args *a, int64_t r0, int64_t r1)
{
    switch (a->type) {
    case GM_TYPE_F32: band(GM_TYPE_F32, a, r0, r1); break;
    case GM_TYPE_F16: band(GM_TYPE_F16, a, r0, r1); break;
    case GM_TYPE_BF16: band(GM_TYPE_BF16, a, r0, r1); break;
    default: break;
    }
}
#endif
