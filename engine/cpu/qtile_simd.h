/* qtile_simd.h: the packed 16-row tiles (quant.h) with 256-bit registers,
 * for CPUs without AVX-512: written once, compiled into qdot_avx2.c and
 * qdot_avxvnni.c after qdot_simd.h (whose DPBUSD, KERNEL, ALWAYS_INLINE
 * and XROW it uses).  QT_VNNI is defined where DPBUSD is the real vpdpbusd.
 *
 * The first 32 bytes of a 64-byte quant row hold 4 columns of rows 0..7,
 * the last 32 of rows 8..15, so a tile takes the group as two halves of 8
 * rows, each with up to 4 tokens' sums in the 16 registers.  Q8_0 weights
 * are stored w + 128:
 *   - with VNNI, vpdpbusd multiplies those bytes by x and the sum starts
 *     from the correction c = -128 * sum(x), as in the AVX-512 tile;
 *   - without, vpmaddubsw would saturate (255 * 127 * 2 > 32767), so the
 *     tile takes the row kernels' sign trick, |w| times x with w's sign (at
 *     most 2 * 128 * 127 per pair), and starts from zero.
 * Either way isum is the exact sum of w * x.  Q4_0's nibbles times x never
 * saturate and start from c.  Then per block acc = fma(float(isum), dw * dx,
 * acc), the portable tile's operations, so every path gives its bits.
 * Q5_0 and Q5_1 (qt2_q5_half) are read the same way, with the fifth bits
 * from the qh row.
 * The K types' tiles and the path's tables are in qtile_k_simd.h, which
 * the same files include next. */

#define QT2_TOKENS 4

/* Rows 8h..8h+7 of a packed Q8_0 (q4 = false) or Q4_0 group times nt <=
 * QT2_TOKENS tokens (nt a constant after inlining). */
ALWAYS_INLINE void qt2_half(bool q4, int h, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt,
                            float *y, int64_t ldy, bool cont)
{
    const gm_type t = q4 ? GM_TYPE_Q4_0 : GM_TYPE_Q8_0;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
#ifndef QT_VNNI
    const __m256i ones = _mm256_set1_epi16(1), flip = _mm256_set1_epi8((char)0x80);
#endif
    __m256 accf[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) accf[u] = cont ? _mm256_loadu_ps(y + (int64_t)u * ldy + 8 * h) : _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, dof;
        gm_qp_offsets(t, nb, b, &qo, &dof);
        const unsigned char *q = g + qo + 32 * h;
        __m256i acci[QT2_TOKENS];
#ifdef QT_VNNI
        const bool seed = true;
#else
        const bool seed = q4;
#endif
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++)
            acci[u] = seed ? _mm256_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b].c) : _mm256_setzero_si256();
        if (q4) {
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(q + 64 * k));
                __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
#pragma GCC unroll 4
                for (int u = 0; u < nt; u++) {
                    const int8_t *a = XROW(gm_bq8c, xv, u, xs)[b].qs;
                    int32_t s0, s1;
                    memcpy(&s0, a + 4 * k, 4);
                    memcpy(&s1, a + 16 + 4 * k, 4);
                    acci[u] = DPBUSD(acci[u], lo, _mm256_set1_epi32(s0));
                    acci[u] = DPBUSD(acci[u], hi, _mm256_set1_epi32(s1));
                }
            }
        } else {
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(q + 64 * k));
#ifndef QT_VNNI
                __m256i w = _mm256_xor_si256(v, flip), aw = _mm256_abs_epi8(w);
#endif
#pragma GCC unroll 4
                for (int u = 0; u < nt; u++) {
                    int32_t s;
                    memcpy(&s, XROW(gm_bq8c, xv, u, xs)[b].qs + 4 * k, 4);
#ifdef QT_VNNI
                    acci[u] = DPBUSD(acci[u], v, _mm256_set1_epi32(s));
#else
                    __m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(_mm256_set1_epi32(s), w));
                    acci[u] = _mm256_add_epi32(acci[u], _mm256_madd_epi16(p, ones));
#endif
                }
            }
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(g + dof + 16 * h)));
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) {
            __m256 sc = _mm256_mul_ps(dw, _mm256_set1_ps(XROW(gm_bq8c, xv, u, xs)[b].d));
            accf[u] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acci[u]), sc, accf[u]);
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) _mm256_storeu_ps(y + (int64_t)u * ldy + 8 * h, accf[u]);
}

/* Levels of quant row k (0..7) of a packed Q5_0/Q5_1 block for 8 rows (v:
 * that half's 32 bytes of quant row k & 3, qh: its 8 qh dwords): the
 * nibbles (low for k < 4, high after), plus 16 where bit 4k + i of the
 * row's qh is set (byte k / 2 copied to the dword's 4 bytes, tested against
 * 1, 2, 4, 8 shifted by 4 (k & 1)). */
ALWAYS_INLINE __m256i qt2_q5_levels(__m256i v, __m256i qh, int k)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i lanes = _mm256_set_epi32(0x0C0C0C0C, 0x08080808, 0x04040404, 0, 0x0C0C0C0C, 0x08080808, 0x04040404, 0);
    const __m256i bits = _mm256_set1_epi32(k & 1 ? (int)0x80402010u : 0x08040201);
    __m256i nib = k < 4 ? _mm256_and_si256(v, m4) : _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    __m256i sel = _mm256_shuffle_epi8(qh, _mm256_add_epi32(lanes, _mm256_set1_epi32((k >> 1) * 0x01010101)));
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(sel, bits), bits);
    return _mm256_or_si256(nib, _mm256_and_si256(set, _mm256_set1_epi8(16)));
}

/* Rows 8h..8h+7 of a packed Q5_0 (one = false) or Q5_1 group times nt <=
 * QT2_TOKENS tokens: levels up to 31 times x never saturate vpmaddubsw
 * (31 * 127 * 2), so both paths take them as they are; Q5_0's sum starts
 * from c, Q5_1 adds fma(c, mw * dx) after its block's own fma. */
ALWAYS_INLINE void qt2_q5_half(bool one, int h, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt,
                               float *y, int64_t ldy, bool cont)
{
    const gm_type t = one ? GM_TYPE_Q5_1 : GM_TYPE_Q5_0;
    __m256 accf[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) accf[u] = cont ? _mm256_loadu_ps(y + (int64_t)u * ldy + 8 * h) : _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, dof;
        gm_qp_offsets(t, nb, b, &qo, &dof);
        const unsigned char *q = g + qo + 32 * h;
        __m256i acci[QT2_TOKENS];
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++)
            acci[u] = one ? _mm256_setzero_si256() : _mm256_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b].c);
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(const void *)(q + 256));
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(q + 64 * k));
            __m256i lo = qt2_q5_levels(v, qh, k), hi = qt2_q5_levels(v, qh, k + 4);
#pragma GCC unroll 4
            for (int u = 0; u < nt; u++) {
                const int8_t *a = XROW(gm_bq8c, xv, u, xs)[b].qs;
                int32_t s0, s1;
                memcpy(&s0, a + 4 * k, 4);
                memcpy(&s1, a + 16 + 4 * k, 4);
                acci[u] = DPBUSD(acci[u], lo, _mm256_set1_epi32(s0));
                acci[u] = DPBUSD(acci[u], hi, _mm256_set1_epi32(s1));
            }
        }
        __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(g + dof + 16 * h)));
        __m256 mw = one ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(g + dof + 32 + 16 * h))) : dw;
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) {
            const gm_bq8c *x = XROW(gm_bq8c, xv, u, xs) + b;
            accf[u] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acci[u]), _mm256_mul_ps(dw, _mm256_set1_ps(x->d)), accf[u]);
            if (one)
                accf[u] = _mm256_fmadd_ps(_mm256_set1_ps((float)x->c), _mm256_mul_ps(mw, _mm256_set1_ps(x->d)), accf[u]);
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) _mm256_storeu_ps(y + (int64_t)u * ldy + 8 * h, accf[u]);
}

/* Any half function (call(n) with h, x, yy in scope) for 16 rows x nt <=
 * GM_QP_TOKENS tokens: the K-type tiles of qtile_k_simd.h use it too. */
#define QT2_SPLIT(call)                                                                                   \
    for (int u0 = 0; u0 < nt; u0 += QT2_TOKENS) {                                                         \
        const void *x = (const char *)xv + (size_t)u0 * xs;                                               \
        float *yy = y + (int64_t)u0 * ldy;                                                                \
        for (int h = 0; h < 2; h++) {                                                                     \
            switch (nt - u0 < QT2_TOKENS ? nt - u0 : QT2_TOKENS) {                                        \
            case 1: call(1); break;                                                                       \
            case 2: call(2); break;                                                                       \
            case 3: call(3); break;                                                                       \
            default: call(4); break;                                                                      \
            }                                                                                             \
        }                                                                                                 \
    }

static void KERNEL(tile_q8_0)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
#define QT2_Q8_0(n) qt2_half(false, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q8_0)
#undef QT2_Q8_0
}

static void KERNEL(tile_q4_0)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
#define QT2_Q4_0(n) qt2_half(true, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q4_0)
#undef QT2_Q4_0
}

static void KERNEL(tile_q5_0)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
#define QT2_Q5_0(n) qt2_q5_half(false, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q5_0)
#undef QT2_Q5_0
}

static void KERNEL(tile_q5_1)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
#define QT2_Q5_1(n) qt2_q5_half(true, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q5_1)
#undef QT2_Q5_1
}
