/* matmul_avx512.c: F32/F16/BF16 matrix kernels for AVX-512 (16 lanes).
 *
 * Every (row, token) pair owns one 16-lane accumulator that walks the row
 * from left to right with fused multiply-adds, then one horizontal sum.  The
 * prefill tile (4 rows x up to 6 tokens, 24 accumulators) and the decode
 * tile (8 rows x 1 token) run exactly that sequence per pair, so their
 * results are bit-identical.  A tile widens each weight vector once and
 * applies it to all of its tokens; X is blocked so a block of tokens stays
 * in L2 while a band of rows sweeps over it.
 *
 * F32 and F16 step 16 columns at a time.  BF16 steps 32: one 64-byte load
 * gives the even columns (shift left) and the odd columns (mask) as floats
 * in two instructions, half the cost of widening 16 at a time; X is split
 * the same way, once per token block into the thread's scratch for prefill
 * or on the fly for decode (the same values either way).  Each pair adds
 * the even products of a step, then the odd ones. */
#if defined(__x86_64__)
#include <immintrin.h>
#include "mm_impl.h"

#define AI static inline __attribute__((always_inline))
#define PF_AHEAD 256   /* decode prefetch distance, columns */
#define PF_AHEAD_NT 512   /* the same for 2-6 token tiles: slower per column, so further ahead */
#define ES(type) ((type) == GM_TYPE_F32 ? 4 : 2)   /* bytes per weight */

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

/* Horizontal sums of 4 accumulators, stored to y[0..rv).  Each sum uses
 * one fixed tree (256-bit halves, 128-bit halves, then pairs) whichever
 * tile calls it; doing four at once shares the shuffles. */
AI void hsum4_store(__m512 a, __m512 b, __m512 c, __m512 d, float *y, int rv)
{
    if (rv <= 0) return;
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xee));
    __m512 u = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xdd));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, 0x4e));
    u = _mm512_add_ps(u, _mm512_permute_ps(u, 0xb1));
    __m512 r = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), u);
    _mm_mask_storeu_ps(y, (__mmask8)((1u << (rv < 4 ? rv : 4)) - 1u), _mm512_castps512_ps128(r));
}

/* Sums of a tile's accumulators (R = 4 or 8 rows) for its valid pairs. */
AI void tile_store(const int R, const int NT, __m512 acc[8][6], float *y, int64_t ldy, int rv, int tv)
{
#pragma GCC unroll 6
    for (int t = 0; t < NT; t++) {
        if (t >= tv) break;
#pragma GCC unroll 2
        for (int g = 0; g < R; g += 4)
            hsum4_store(acc[g][t], acc[g + 1][t], acc[g + 2][t], acc[g + 3][t], y + t * ldy + g, rv - g);
    }
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
        if (NT == 1 && ((c * ES(type)) & 63) == 0) {   /* decode streams rows: fetch ahead */
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) _mm_prefetch(wr[i] + (c + PF_AHEAD) * ES(type), _MM_HINT_T0);
        }
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
    tile_store(R, NT, acc, y, ldy, rv, tv);
}

/* ---- BF16: 32 columns per step ---------------------------------------------- */

/* The 32-bit lanes of 32 bf16 as floats: even columns (e = 1) or odd (e = 0). */
AI __m512 bf16_half(__m512i raw, const int e)
{
    if (e) return _mm512_castsi512_ps(_mm512_slli_epi32(raw, 16));
    return _mm512_castsi512_ps(_mm512_and_si512(raw, _mm512_set1_epi32((int)0xffff0000u)));
}

/* 32 bf16 weights from column c (m < 32 valid when masked, rest zero). */
AI __m512i bf16_load(const char *row, int64_t c, __mmask32 m, const int masked)
{
    const uint16_t *p = (const uint16_t *)row + c;
    return masked ? _mm512_maskz_loadu_epi16(m, p) : _mm512_loadu_si512(p);
}

/* Even (e = 1) or odd (e = 0) columns of 32 floats of X at p (m valid). */
AI __m512 x_half(const float *p, int m, const int masked, const int e)
{
    __m512 lo, hi;
    if (masked) {
        lo = _mm512_maskz_loadu_ps((__mmask16)(m >= 16 ? 0xffffu : (1u << m) - 1u), p);
        hi = _mm512_maskz_loadu_ps((__mmask16)(m <= 16 ? 0u : (1u << (m - 16)) - 1u), p + 16);
    } else {
        lo = _mm512_loadu_ps(p);
        hi = _mm512_loadu_ps(p + 16);
    }
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(lo, e ? even : odd, hi);
}

/* One 32-column step of the BF16 tile, one half (e) at a time so only 4-8
 * weight vectors are live.  XP: X pre-split (even 16 then odd 16 floats per
 * step at xr[t] + c); else split here. */
AI void bf16_step(const int R, const int NT, const int XP, const int masked, const int e,
                  const char *const *wr, const float *const *xr, int64_t c, int m, __m512 acc[8][6])
{
    __m512 w[8];
    __mmask32 mk = masked ? (__mmask32)((1ull << m) - 1ull) : 0;
#pragma GCC unroll 8
    for (int i = 0; i < R; i++) w[i] = bf16_half(bf16_load(wr[i], c, mk, masked), e);
#pragma GCC unroll 6
    for (int t = 0; t < NT; t++) {
        __m512 xv = XP ? _mm512_load_ps(xr[t] + c + (e ? 0 : 16)) : x_half(xr[t] + c, m, masked, e);
#pragma GCC unroll 8
        for (int i = 0; i < R; i++) acc[i][t] = _mm512_fmadd_ps(w[i], xv, acc[i][t]);
    }
}

/* The BF16 tile: R rows x NT tokens, as tile() but 32 columns per step. */
AI void tile_bf16(const int R, const int NT, const int XP, const char *const *wr, int64_t cols,
                  const float *const *xr, float *y, int64_t ldy, int rv, int tv, const int PF, size_t rb)
{
    __m512 acc[8][6];
#pragma GCC unroll 8
    for (int i = 0; i < R; i++)
#pragma GCC unroll 6
        for (int t = 0; t < NT; t++) acc[i][t] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 32 <= cols; c += 32) {
        if (PF) {   /* pd columns on; past the row end, the next tile's row */
            const int64_t pd = NT == 1 ? PF_AHEAD : PF_AHEAD_NT;
            size_t off = (size_t)(c + pd) * 2 + (c + pd >= cols ? (size_t)(R - 1) * rb : 0);
#pragma GCC unroll 8
            for (int i = 0; i < R; i++) _mm_prefetch(wr[i] + off, _MM_HINT_T0);
        }
        bf16_step(R, NT, XP, 0, 1, wr, xr, c, 32, acc);
        bf16_step(R, NT, XP, 0, 0, wr, xr, c, 32, acc);
    }
    if (c < cols) {
        bf16_step(R, NT, XP, 1, 1, wr, xr, c, (int)(cols - c), acc);
        bf16_step(R, NT, XP, 1, 0, wr, xr, c, (int)(cols - c), acc);
    }
    tile_store(R, NT, acc, y, ldy, rv, tv);
}

/* Split tokens [t0, t1) of X into out (stride cp floats per token): per
 * 32-column step, the even 16 then the odd 16, zero-padded at the end. */
static void bf16_split_x(const gm_mm_args *a, int t0, int t1, float *out, int64_t cp)
{
    for (int t = t0; t < t1; t++) {
        const float *x = a->X + (int64_t)t * a->ldx;
        float *o = out + (int64_t)(t - t0) * cp;
        int64_t c = 0;
        for (; c + 32 <= a->cols; c += 32) {
            _mm512_store_ps(o + c, x_half(x + c, 32, 0, 1));
            _mm512_store_ps(o + c + 16, x_half(x + c, 32, 0, 0));
        }
        if (c < a->cols) {
            _mm512_store_ps(o + c, x_half(x + c, (int)(a->cols - c), 1, 1));
            _mm512_store_ps(o + c + 16, x_half(x + c, (int)(a->cols - c), 1, 0));
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

/* A 4-row BF16 tile over tv (1..6) tokens, so no batch size pays for
 * unused lanes (speculative verify runs 2..9 tokens). */
AI void tile_bf16_tv(int tv, const int XP, const int PF, const char *const *wr, int64_t cols, const float *const *xr,
                     float *y, int64_t ldy, int rv, size_t rb)
{
    switch (tv) {
    case 1: tile_bf16(4, 1, XP, wr, cols, xr, y, ldy, rv, tv, PF, rb); break;
    case 2: tile_bf16(4, 2, XP, wr, cols, xr, y, ldy, rv, tv, PF, rb); break;
    case 3: tile_bf16(4, 3, XP, wr, cols, xr, y, ldy, rv, tv, PF, rb); break;
    case 4: tile_bf16(4, 4, XP, wr, cols, xr, y, ldy, rv, tv, PF, rb); break;
    case 5: tile_bf16(4, 5, XP, wr, cols, xr, y, ldy, rv, tv, PF, rb); break;
    default: tile_bf16(4, 6, XP, wr, cols, xr, y, ldy, rv, tv, PF, rb); break;
    }
}

/* BF16 band: decode splits X on the fly; prefill splits each token block
 * into the thread's scratch once (on the fly too if there is no scratch). */
static void band_bf16(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch)
{
    const char *wr[8];
    const float *xr[6];
    if (a->n == 1) {
        xr[0] = a->X;
        for (int64_t r = r0; r < r1; r += 8) {
            int rv = row_ptrs(a, r, r1, 8, wr);
            tile_bf16(8, 1, 0, wr, a->cols, xr, a->Y + r, a->ldy, rv, 1, 1, a->row_bytes);
        }
        return;
    }
    int64_t cp = (a->cols + 31) / 32 * 32;
    int tb = gm_mm_token_block(cp, 6);
    int xp = scratch && (int64_t)GM_POOL_SCRATCH / (cp * 4) >= 6;
    if (xp && tb > (int64_t)GM_POOL_SCRATCH / (cp * 4)) tb = (int)((int64_t)GM_POOL_SCRATCH / (cp * 4)) / 6 * 6;
    for (int t0 = 0; t0 < a->n; t0 += tb) {
        int t1 = t0 + tb < a->n ? t0 + tb : a->n;
        if (xp) bf16_split_x(a, t0, t1, scratch, cp);
        for (int64_t r = r0; r < r1; r += 4) {
            int rv = row_ptrs(a, r, r1, 4, wr);
            for (int t = t0; t < t1; t += 6) {
                int tv = t1 - t < 6 ? t1 - t : 6;
                for (int k = 0; k < 6; k++) {
                    int tk = t + (k < tv ? k : tv - 1);
                    xr[k] = xp ? (const float *)scratch + (int64_t)(tk - t0) * cp : a->X + (int64_t)tk * a->ldx;
                }
                float *y = a->Y + (int64_t)t * a->ldy + r;
                if (xp && t == t0)      /* first pass over these rows: stream them in */
                    tile_bf16_tv(tv, 1, 1, wr, a->cols, xr, y, a->ldy, rv, a->row_bytes);
                else if (xp) tile_bf16_tv(tv, 1, 0, wr, a->cols, xr, y, a->ldy, rv, a->row_bytes);
                else tile_bf16_tv(tv, 0, 0, wr, a->cols, xr, y, a->ldy, rv, a->row_bytes);
            }
        }
    }
}

/* Dot product: 4 accumulators over 64-float steps, then 16, then a masked
 * tail, combined in a fixed order. */
float gm_vec_dot_avx512(const float *a, const float *b, int64_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* y += a x, 16 lanes, masked tail. */
void gm_vec_axpy_avx512(float *y, float a, const float *x, int64_t n)
{
    __m512 av = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

/* y += sum_u w[u] v_u: 64 columns of y in registers across all m rows,
 * each element updated by the same FMA sequence as m calls of axpy. */
void gm_vec_wsum_avx512(float *y, const float *w, const float *v, int64_t ldv, int m, int64_t n)
{
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a0 = _mm512_loadu_ps(y + i), a1 = _mm512_loadu_ps(y + i + 16);
        __m512 a2 = _mm512_loadu_ps(y + i + 32), a3 = _mm512_loadu_ps(y + i + 48);
        for (int u = 0; u < m; u++) {
            const float *x = v + (int64_t)u * ldv + i;
            __m512 wu = _mm512_set1_ps(w[u]);
            a0 = _mm512_fmadd_ps(wu, _mm512_loadu_ps(x), a0);
            a1 = _mm512_fmadd_ps(wu, _mm512_loadu_ps(x + 16), a1);
            a2 = _mm512_fmadd_ps(wu, _mm512_loadu_ps(x + 32), a2);
            a3 = _mm512_fmadd_ps(wu, _mm512_loadu_ps(x + 48), a3);
        }
        _mm512_storeu_ps(y + i, a0); _mm512_storeu_ps(y + i + 16, a1);
        _mm512_storeu_ps(y + i + 32, a2); _mm512_storeu_ps(y + i + 48, a3);
    }
    for (; i < n; i += 16) {
        __mmask16 mk = (__mmask16)(n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1u);
        __m512 a0 = _mm512_maskz_loadu_ps(mk, y + i);
        for (int u = 0; u < m; u++)
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(w[u]), _mm512_maskz_loadu_ps(mk, v + (int64_t)u * ldv + i), a0);
        _mm512_mask_storeu_ps(y + i, mk, a0);
    }
}

/* Scores of G query rows (q + j*ldq) against 4 key rows kr[0..3], n dims:
 * one accumulator per pair walks the dims 16 at a time (masked tail), then
 * hsum4_store's fixed tree, symmetric in its four inputs.  So a score's bits
 * depend only on its two rows and n, never on G, on which slot its key
 * took, or on the keys beside it; slots past kv alias a valid key and are
 * not stored.  Each step loads 4 keys and G queries for 4G FMAs, where a
 * dot product per pair loads two vectors per FMA. */
AI void qk_tile(const int G, const float *q, int64_t ldq, const float *const *kr, int64_t n, float *out,
                int64_t ldo, int kv)
{
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int j = 0; j < G; j++)
#pragma GCC unroll 4
        for (int u = 0; u < 4; u++) acc[j][u] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 kk[4];
#pragma GCC unroll 4
        for (int u = 0; u < 4; u++) kk[u] = _mm512_loadu_ps(kr[u] + i);
#pragma GCC unroll 4
        for (int j = 0; j < G; j++) {
            __m512 qv = _mm512_loadu_ps(q + j * ldq + i);
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++) acc[j][u] = _mm512_fmadd_ps(qv, kk[u], acc[j][u]);
        }
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        __m512 kk[4];
#pragma GCC unroll 4
        for (int u = 0; u < 4; u++) kk[u] = _mm512_maskz_loadu_ps(m, kr[u] + i);
#pragma GCC unroll 4
        for (int j = 0; j < G; j++) {
            __m512 qv = _mm512_maskz_loadu_ps(m, q + j * ldq + i);
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++) acc[j][u] = _mm512_fmadd_ps(qv, kk[u], acc[j][u]);
        }
    }
#pragma GCC unroll 4
    for (int j = 0; j < G; j++) hsum4_store(acc[j][0], acc[j][1], acc[j][2], acc[j][3], out + j * ldo, kv);
}

/* Scores of g query rows against nk key rows (k + u*ldk) into
 * out[j*ldo + u]: tiles of up to 4 queries x 4 keys (see qk_tile). */
void gm_vec_qk_avx512(const float *q, int64_t ldq, int g, const float *k, int64_t ldk, int nk, int64_t n,
                      float *out, int64_t ldo)
{
    for (int u0 = 0; u0 < nk; u0 += 4) {
        int kv = nk - u0 < 4 ? nk - u0 : 4;
        const float *kr[4];
        for (int u = 0; u < 4; u++) kr[u] = k + (int64_t)(u0 + (u < kv ? u : kv - 1)) * ldk;
        for (int j = 0; j < g; j += 4) {
            const float *qj = q + j * ldq;
            float *o = out + j * ldo + u0;
            switch (g - j < 4 ? g - j : 4) {
            case 1: qk_tile(1, qj, ldq, kr, n, o, ldo, kv); break;
            case 2: qk_tile(2, qj, ldq, kr, n, o, ldo, kv); break;
            case 3: qk_tile(3, qj, ldq, kr, n, o, ldo, kv); break;
            default: qk_tile(4, qj, ldq, kr, n, o, ldo, kv); break;
            }
        }
    }
}

/* G heads' weighted sums over columns [0, n), 32 at a time (see below). */
AI void wsum_heads(const int G, float *y, int64_t ldy, const float *w, int64_t ldw, const float *v,
                   int64_t ldv, int m, int64_t n)
{
    for (int64_t i = 0; i < n; i += 32) {
        __mmask16 m0 = (__mmask16)(n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1u);
        __mmask16 m1 = (__mmask16)(n - i >= 32 ? 0xffffu : n - i <= 16 ? 0u : (1u << (n - i - 16)) - 1u);
        __m512 a0[8], a1[8];
#pragma GCC unroll 8
        for (int j = 0; j < G; j++) {
            a0[j] = _mm512_maskz_loadu_ps(m0, y + j * ldy + i);
            a1[j] = _mm512_maskz_loadu_ps(m1, y + j * ldy + i + 16);
        }
        for (int u = 0; u < m; u++) {
            const float *x = v + (int64_t)u * ldv + i;
            __m512 x0 = _mm512_maskz_loadu_ps(m0, x), x1 = _mm512_maskz_loadu_ps(m1, x + 16);
#pragma GCC unroll 8
            for (int j = 0; j < G; j++) {
                __m512 b = _mm512_set1_ps(w[j * ldw + u]);
                a0[j] = _mm512_fmadd_ps(b, x0, a0[j]);
                a1[j] = _mm512_fmadd_ps(b, x1, a1[j]);
            }
        }
#pragma GCC unroll 8
        for (int j = 0; j < G; j++) {
            _mm512_mask_storeu_ps(y + j * ldy + i, m0, a0[j]);
            _mm512_mask_storeu_ps(y + j * ldy + i + 16, m1, a1[j]);
        }
    }
}

/* g weighted sums over the same m rows of v, one per query head of a KV
 * group: y_j += sum_u w_j[u] v_u for j < g.  Each v chunk is loaded once
 * for up to 8 heads instead of once per head; every element still gets the
 * FMA sequence of gm_vec_wsum (u ascending), so the bits are the same. */
void gm_vec_wsum_g_avx512(float *y, int64_t ldy, const float *w, int64_t ldw, int g, const float *v,
                          int64_t ldv, int m, int64_t n)
{
    for (int j0 = 0; j0 < g; j0 += 8) {
        float *yj = y + j0 * ldy;
        const float *wj = w + j0 * ldw;
        switch (g - j0 < 8 ? g - j0 : 8) {
        case 1: wsum_heads(1, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 2: wsum_heads(2, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 3: wsum_heads(3, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 4: wsum_heads(4, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 5: wsum_heads(5, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 6: wsum_heads(6, yj, ldy, wj, ldw, v, ldv, m, n); break;
        case 7: wsum_heads(7, yj, ldy, wj, ldw, v, ldv, m, n); break;
        default: wsum_heads(8, yj, ldy, wj, ldw, v, ldv, m, n); break;
        }
    }
}

/* Half to float, 16 at a time (vcvtph2ps is exact), masked tail. */
void gm_vec_h2f_avx512(float *y, const uint16_t *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i))));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)));
    }
}

/* Float to half, 16 at a time (vcvtps2ph rounds to nearest even, as
 * gm_f32_to_f16 does; NaN lanes get its sign | 0x7e00 instead of the
 * instruction's payload bits), masked tail. */
void gm_vec_f2h_avx512(uint16_t *y, const float *x, int64_t n)
{
    const __m256i qnan = _mm256_set1_epi16(0x7e00), sign = _mm256_set1_epi16((short)0x8000);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = (__mmask16)(n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        h = _mm256_mask_mov_epi16(h, nan, _mm256_or_si256(_mm256_and_si256(h, sign), qnan));
        _mm256_mask_storeu_epi16(y + i, m, h);
    }
}

/* Entry point: Y rows [r0, r1) for all tokens. */
void gm_mm_band_avx512(const gm_mm_args *a, int64_t r0, int64_t r1, void *scratch)
{
    switch (a->type) {
    case GM_TYPE_F32: band(GM_TYPE_F32, a, r0, r1); break;
    case GM_TYPE_F16: band(GM_TYPE_F16, a, r0, r1); break;
    case GM_TYPE_BF16: band_bf16(a, r0, r1, scratch); break;
    default: break;
    }
}
#endif
