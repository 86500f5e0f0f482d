/* matmul_avx2.c: F32/F16/BF16 matrix kernels for AVX2 + FMA + F16C.
 *
 * The AVX-512 file's scheme with 8 lanes: every (row, token) pair owns one
 * 8-lane accumulator that walks the row left to right (a zero-padded step
 * for the tail), then one horizontal sum in a fixed order.  Prefill tiles
 * are 4 rows x up to 3 tokens (12 accumulators + 4 weight vectors fill the
 * 16 registers); decode tiles are 8 rows x 1 token.  Both run the same
 * sequence per pair, so decode and prefill agree bit for bit.  BF16 steps
 * 16 columns: a 32-byte load gives the even columns (shift) and the odd
 * ones (mask); X is split to match (into the thread's scratch per token
 * block for prefill, on the fly for decode).  Its prefill tile is 3 x 3:
 * with the mask constant, 4 x 3 would spill accumulators. */
#if defined(__x86_64__)
#include <string.h>
#include <immintrin.h>
#include "mm_impl.h"

#define AI static inline __attribute__((always_inline))
#define PF_AHEAD 256   /* decode prefetch distance, columns */
#define ES(type) ((type) == GM_TYPE_F32 ? 4 : 2)   /* bytes per weight */

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
        if (NT == 1) {         /* decode: one weight vector live at a time, rows fetched ahead */
            if (((c * ES(type)) & 63) == 0) {
#pragma GCC unroll 8
                for (int i = 0; i < R; i++) _mm_prefetch(wr[i] + (c + PF_AHEAD) * ES(type), _MM_HINT_T0);
            }
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

/* ---- BF16: 16 columns per step ---------------------------------------------- */

/* The 32-bit lanes of 16 bf16 as floats: even columns (e = 1) or odd (e = 0). */
AI __m256 bf16_half(__m256i raw, const int e)
{
    if (e) return _mm256_castsi256_ps(_mm256_slli_epi32(raw, 16));
    return _mm256_castsi256_ps(_mm256_and_si256(raw, _mm256_set1_epi32((int)0xffff0000u)));
}

/* 16 bf16 weights from column c; a tail of m < 16 is zero-padded. */
AI __m256i bf16_load(const char *row, int64_t c, int m, const int masked)
{
    const uint16_t *p = (const uint16_t *)row + c;
    if (!masked) return _mm256_loadu_si256((const __m256i *)p);
    uint16_t buf[16] = {0};
    memcpy(buf, p, (size_t)m * 2);
    return _mm256_loadu_si256((const __m256i *)buf);
}

/* Even (e = 1) or odd (e = 0) columns of 16 floats of X at p (m valid). */
AI __m256 x_half(const float *p, int m, const int masked, const int e)
{
    __m256 lo, hi;
    if (masked) {
        lo = _mm256_maskload_ps(p, tail_mask(m < 8 ? m : 8));
        hi = _mm256_maskload_ps(p + 8, tail_mask(m > 8 ? m - 8 : 0));
    } else {
        lo = _mm256_loadu_ps(p);
        hi = _mm256_loadu_ps(p + 8);
    }
    __m256 v = e ? _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)) : _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* One 16-column step of the BF16 tile, one half (e) at a time.  XP: X
 * pre-split (even 8 then odd 8 floats per step at xr[t] + c). */
AI void bf16_step(const int R, const int NT, const int XP, const int masked, const int e,
                  const char *const *wr, const float *const *xr, int64_t c, int m, __m256 acc[8][3])
{
    if (NT == 1) {
        __m256 xv = XP ? _mm256_load_ps(xr[0] + c + (e ? 0 : 8)) : x_half(xr[0] + c, m, masked, e);
#pragma GCC unroll 8
        for (int i = 0; i < R; i++)
            acc[i][0] = _mm256_fmadd_ps(bf16_half(bf16_load(wr[i], c, m, masked), e), xv, acc[i][0]);
        return;
    }
    __m256 w[8];
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) w[i] = bf16_half(bf16_load(wr[i], c, m, masked), e);
#pragma GCC unroll 3
    for (int t = 0; t < NT; t++) {
        __m256 xv = XP ? _mm256_load_ps(xr[t] + c + (e ? 0 : 8)) : x_half(xr[t] + c, m, masked, e);
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) acc[i][t] = _mm256_fmadd_ps(w[i], xv, acc[i][t]);
    }
}

/* The BF16 tile: R rows x NT tokens, 16 columns per step. */
AI void tile_bf16(const int R, const int NT, const int XP, const char *const *wr, int64_t cols,
                  const float *const *xr, float *y, int64_t ldy, int rv, int tv)
{
    __m256 acc[8][3];
#pragma GCC unroll 8
    for (int i = 0; i < R; i++)
#pragma GCC unroll 3
        for (int t = 0; t < NT; t++) acc[i][t] = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 16 <= cols; c += 16) {
        if (NT == 1 && ((c * 2) & 63) == 0) {
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) _mm_prefetch(wr[i] + (c + PF_AHEAD) * 2, _MM_HINT_T0);
        }
        bf16_step(R, NT, XP, 0, 1, wr, xr, c, 16, acc);
        bf16_step(R, NT, XP, 0, 0, wr, xr, c, 16, acc);
    }
    if (c < cols) {
        bf16_step(R, NT, XP, 1, 1, wr, xr, c, (int)(cols - c), acc);
        bf16_step(R, NT, XP, 1, 0, wr, xr, c, (int)(cols - c), acc);
    }
#pragma GCC unroll 3
    for (int t = 0; t < NT; t++)
#pragma GCC unroll 8
        for (int i = 0; i < R; i++)
            if (t < tv && i < rv) y[t * ldy + i] = hsum(acc[i][t]);
}

/* Split tokens [t0, t1) of X into out (stride cp floats per token): per
 * 16-column step, the even 8 then the odd 8, zero-padded at the end. */
static void bf16_split_x(const gm_mm_args *a, int t0, int t1, float *out, int64_t cp)
{
    for (int t = t0; t < t1; t++) {
        const float *x = a->X + (int64_t)t * a->ldx;
        float *o = out + (int64_t)(t - t0) * cp;
        int64_t c = 0;
        for (; c + 16 <= a->cols; c += 16) {
            _mm256_store_ps(o + c, x_half(x + c, 16, 0, 1));
            _mm256_store_ps(o + c + 8, x_half(x + c, 16, 0, 0));
        }
        if (c < a->cols) {
            _mm256_store_ps(o + c, x_half(x + c, (int)(a->cols - c), 1, 1));
            _mm256_store_ps(o + c + 8, x_half(x + c, (int)(a->cols - c), 1, 0));
        }
    }
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

/* BF16 band: decode splits X on the fly; prefill splits each token block
 * into the thread's scratch once (on the fly too if there is no scratch). */
static void band_bf16(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch)
{
    const char *wr[8];
    const float *xr[3];
    if (a->n == 1) {
        xr[0] = a->X;
        for (int64_t r = r0; r < r1; r += 8) {
            int rv = row_ptrs(a, r, r1, 8, wr);
            tile_bf16(8, 1, 0, wr, a->cols, xr, a->Y + r, a->ldy, rv, 1);
        }
        return;
    }
    int64_t cp = (a->cols + 15) / 16 * 16;
    int tb = gm_mm_token_block(cp, 3);
    int xp = scratch && (int64_t)GM_POOL_SCRATCH / (cp * 4) >= 3;
    if (xp && tb > (int64_t)GM_POOL_SCRATCH / (cp * 4)) tb = (int)((int64_t)GM_POOL_SCRATCH / (cp * 4)) / 3 * 3;
    for (int t0 = 0; t0 < a->n; t0 += tb) {
        int t1 = t0 + tb < a->n ? t0 + tb : a->n;
        if (xp) bf16_split_x(a, t0, t1, scratch, cp);
        for (int64_t r = r0; r < r1; r += 3) {
            int rv = row_ptrs(a, r, r1, 3, wr);
            for (int t = t0; t < t1; t += 3) {
                int tv = t1 - t < 3 ? t1 - t : 3;
                for (int k = 0; k < 3; k++) {
                    int tk = t + (k < tv ? k : tv - 1);
                    xr[k] = xp ? (const float *)scratch + (int64_t)(tk - t0) * cp : a->X + (int64_t)tk * a->ldx;
                }
                float *y = a->Y + (int64_t)t * a->ldy + r;
                if (xp) switch (tv) {
                case 1: tile_bf16(3, 1, 1, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                case 2: tile_bf16(3, 2, 1, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                default: tile_bf16(3, 3, 1, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                } else switch (tv) {
                case 1: tile_bf16(3, 1, 0, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                default: tile_bf16(3, 3, 0, wr, a->cols, xr, y, a->ldy, rv, tv); break;
                }
            }
        }
    }
}

/* Dot product: 4 accumulators over 32-float steps, then 8, then a masked
 * tail, combined in a fixed order. */
float gm_vec_dot_avx2(const float *a, const float *b, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < n) {
        __m256i m = tail_mask((int)(n - i));
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* y += a x, 8 lanes, masked tail. */
void gm_vec_axpy_avx2(float *y, float a, const float *x, int64_t n)
{
    __m256 av = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    if (i < n) {
        __m256i m = tail_mask((int)(n - i));
        _mm256_maskstore_ps(y + i, m, _mm256_fmadd_ps(av, _mm256_maskload_ps(x + i, m), _mm256_maskload_ps(y + i, m)));
    }
}

/* y += sum_u w[u] v_u: 32 columns of y in registers across all m rows,
 * each element updated by the same FMA sequence as m calls of axpy. */
void gm_vec_wsum_avx2(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a0 = _mm256_loadu_ps(y + i), a1 = _mm256_loadu_ps(y + i + 8);
        __m256 a2 = _mm256_loadu_ps(y + i + 16), a3 = _mm256_loadu_ps(y + i + 24);
        for (int u = 0; u < m; u++) {
            const float *x = v + (int64_t)u * ldv + i;
            __m256 wu = _mm256_set1_ps(w[u]);
            a0 = _mm256_fmadd_ps(wu, _mm256_loadu_ps(x), a0);
            a1 = _mm256_fmadd_ps(wu, _mm256_loadu_ps(x + 8), a1);
            a2 = _mm256_fmadd_ps(wu, _mm256_loadu_ps(x + 16), a2);
            a3 = _mm256_fmadd_ps(wu, _mm256_loadu_ps(x + 24), a3);
        }
        _mm256_storeu_ps(y + i, a0); _mm256_storeu_ps(y + i + 8, a1);
        _mm256_storeu_ps(y + i + 16, a2); _mm256_storeu_ps(y + i + 24, a3);
    }
    for (; i < n; i += 8) {
        __m256i mk = tail_mask(n - i >= 8 ? 8 : (int)(n - i));
        __m256 a0 = _mm256_maskload_ps(y + i, mk);
        for (int u = 0; u < m; u++)
            a0 = _mm256_fmadd_ps(_mm256_set1_ps(w[u]), _mm256_maskload_ps(v + (int64_t)u * ldv + i, mk), a0);
        _mm256_maskstore_ps(y + i, mk, a0);
    }
}

/* G heads' weighted sums, 16 columns at a time (gm_vec_wsum_g_avx512's
 * method in 8-lane registers). */
AI void wsum_heads(const int G, float *y, int64_t ldy, const float *w, int64_t ldw, const float *v,
                   int64_t ldv, int m, int64_t n)
{
    for (int64_t i = 0; i < n; i += 16) {
        __m256i m0 = tail_mask(n - i >= 8 ? 8 : (int)(n - i));
        __m256i m1 = tail_mask(n - i >= 16 ? 8 : n - i <= 8 ? 0 : (int)(n - i - 8));
        __m256 a0[6], a1[6];
#pragma GCC unroll 6
        for (int j = 0; j < G; j++) {
            a0[j] = _mm256_maskload_ps(y + j * ldy + i, m0);
            a1[j] = _mm256_maskload_ps(y + j * ldy + i + 8, m1);
        }
        for (int u = 0; u < m; u++) {
            const float *x = v + (int64_t)u * ldv + i;
            __m256 x0 = _mm256_maskload_ps(x, m0), x1 = _mm256_maskload_ps(x + 8, m1);
#pragma GCC unroll 6
            for (int j = 0; j < G; j++) {
                __m256 b = _mm256_set1_ps(w[j * ldw + u]);
                a0[j] = _mm256_fmadd_ps(b, x0, a0[j]);
                a1[j] = _mm256_fmadd_ps(b, x1, a1[j]);
            }
        }
#pragma GCC unroll 6
        for (int j = 0; j < G; j++) {
            _mm256_maskstore_ps(y + j * ldy + i, m0, a0[j]);
            _mm256_maskstore_ps(y + j * ldy + i + 8, m1, a1[j]);
        }
    }
}

/* g weighted sums over the same rows of v, up to 6 heads per pass (16
 * registers): the same bits as g calls of gm_vec_wsum_avx2. */
void gm_vec_wsum_g_avx2(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v,
                        int64_t ldv, int m, int64_t n)
{
    for (int j0 = 0; j0 < g; j0 += 6) {
        float *yj = y + j0 * ldy;
        const float *wj = w + j0 * ldw;
        switch (g - j0 < 6 ? g - j0 : 6) {
        case 1: wsum_heads(1, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 2: wsum_heads(2, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 3: wsum_heads(3, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 4: wsum_heads(4, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 5: wsum_heads(5, yj, ldy, wj, ldw, v, ldv, m, n); break;
        default: wsum_heads(6, yj, ldy, wj, ldw, v, ldv, m, n); break;
        }
    }
}

/* Half to float, 8 at a time with F16C (exact), the tail one by one. */
void gm_vec_h2f_avx2(float *y, const uint16_t *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) y[i] = gm_f16_to_f32(x[i]);
}

/* Float to half, 8 at a time with F16C (vcvtps2ph rounds to nearest even,
 * as gm_f32_to_f16 does, which also writes 8 with a NaN, keeping NaN's
 * sign | 0x7e00 where the instruction keeps payload bits), the tail one by
 * one. */
void gm_vec_f2h_avx2(uint16_t *y, const float *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) {
            for (int k = 0; k < 8; k++) y[i + k] = gm_f32_to_f16(x[i + k]);
            continue;
        }
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    for (; i < n; i++) y[i] = gm_f32_to_f16(x[i]);
}

/* Entry point: Y rows [r0, r1) for all tokens. */
void gm_mm_band_avx2(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch)
{
    switch (a->type) {
    case GM_TYPE_F32: band(GM_TYPE_F32, a, r0, r1); break;
    case GM_TYPE_F16: band(GM_TYPE_F16, a, r0, r1); break;
    case GM_TYPE_BF16: band_bf16(a, r0, r1, scratch); break;
    default: break;
    }
}
#endif
