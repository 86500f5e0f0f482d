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
 * acc), the portable tile's operations, so every path gives its bits. */

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

/* 16 rows x nt <= GM_QP_TOKENS tokens: each half, QT2_TOKENS tokens at a time. */
ALWAYS_INLINE void qt2_tile(bool q4, int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y,
                            int64_t ldy, bool cont)
{
    for (int u0 = 0; u0 < nt; u0 += QT2_TOKENS) {
        const void *x = (const char *)xv + (size_t)u0 * xs;
        float *yy = y + (int64_t)u0 * ldy;
        for (int h = 0; h < 2; h++) {
            switch (nt - u0 < QT2_TOKENS ? nt - u0 : QT2_TOKENS) {
            case 1: qt2_half(q4, h, nb, g, x, xs, 1, yy, ldy, cont); break;
            case 2: qt2_half(q4, h, nb, g, x, xs, 2, yy, ldy, cont); break;
            case 3: qt2_half(q4, h, nb, g, x, xs, 3, yy, ldy, cont); break;
            default: qt2_half(q4, h, nb, g, x, xs, 4, yy, ldy, cont); break;
            }
        }
    }
}

/* ---- K types: exact integer sums per super-block, then gm_ksum / gm_k6sum --
 *
 * As the AVX-512 tiles (qdot_avx512.c), per half: per sub-block the dot of
 * levels and activations builds up per token, is multiplied by the rows'
 * sub-block scales (vpmulld) into isum; the mins (Q4_K, Q5_K) or the level
 * offset 32 (Q6_K) times the activation sums come from 16-bit pairs; then
 * the row kernels' float expression.  Levels are plain bytes (Q4_K 0..15,
 * Q5_K 0..31, Q6_K 0..63), so vpmaddubsw cannot saturate (63 * 127 * 2). */

/* Decode streams a group: fetch super-block b + 2 of type t's group ahead. */
ALWAYS_INLINE void qk2_prefetch(gm_type t, const unsigned char *g, int64_t b, int64_t nb)
{
    const size_t bpb = gm_qp_quant_bytes(t) + gm_qp_scale_bytes(t);
    if (b + 2 >= nb) return;
    for (size_t o = 0; o < bpb; o += 64) _mm_prefetch((const char *)g + (size_t)(b + 2) * bpb + o, _MM_HINT_T0);
}

/* Sub-block j's 6-bit scale (hi = 0) or min (hi = 1) of 8 rows, from the
 * three interleaved dwords of the 12 scale bytes (gm_k_scale_min). */
ALWAYS_INLINE __m256i qk2_scale(const __m256i D[3], int j, int hi)
{
    const __m256i m63 = _mm256_set1_epi32(63), m15 = _mm256_set1_epi32(15), m3 = _mm256_set1_epi32(3);
    if (j < 4) return _mm256_and_si256(_mm256_srli_epi32(D[hi], 8 * j), m63);
    int jj = j - 4;
    return _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(D[2], 8 * jj + 4 * hi), m15),
                           _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(D[hi], 8 * jj + 6), m3), 4));
}

/* Token u's activation sums 2j and 2j+1 of super-block b as an int16 pair. */
ALWAYS_INLINE __m256i qk2_bsums(const void *xv, size_t xs, int u, int64_t b, int j)
{
    int32_t pr;
    memcpy(&pr, XROW(gm_bq8k, xv, u, xs)[b].bsums + 2 * j, 4);
    return _mm256_set1_epi32(pr);
}

/* Four activation bytes of token u, super-block b, from element e. */
ALWAYS_INLINE __m256i qk2_x4(const void *xv, size_t xs, int u, int64_t b, int e)
{
    int32_t s;
    memcpy(&s, XROW(gm_bq8k, xv, u, xs)[b].qs + e, 4);
    return _mm256_set1_epi32(s);
}

/* Sub-block j of a Q4_K or Q5_K super-block (levels at q, this half's
 * scale dwords in D) for nt tokens, added to isum. */
ALWAYS_INLINE void qk2_sub(bool five, int j, const unsigned char *q, const __m256i D[3], const void *xv, size_t xs,
                           int64_t b, int nt, __m256i *isum)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), m10 = _mm256_set1_epi8(0x10);
    __m256i acc[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) acc[u] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int s4 = 0; s4 < 8; s4++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(q + 64 * (8 * (j / 2) + s4)));
        __m256i lv = _mm256_and_si256((j & 1) ? _mm256_srli_epi16(v, 4) : v, m4);
        if (five) {   /* the fifth bit: bit j of the element's qh byte */
            __m256i hv = _mm256_loadu_si256((const __m256i *)(const void *)(q + 2048 + 64 * s4));
            __m256i hb = j <= 4 ? _mm256_slli_epi16(hv, 4 - j) : _mm256_srli_epi16(hv, j - 4);
            lv = _mm256_or_si256(lv, _mm256_and_si256(hb, m10));
        }
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) acc[u] = DPBUSD(acc[u], lv, qk2_x4(xv, xs, u, b, 32 * j + 4 * s4));
    }
    __m256i sc = qk2_scale(D, j, 0);
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) isum[u] = _mm256_add_epi32(isum[u], _mm256_mullo_epi32(acc[u], sc));
}

/* Rows 8h..8h+7 of a packed Q4_K or Q5_K group times nt <= QT2_TOKENS tokens. */
ALWAYS_INLINE void qk2_half(bool five, int h, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt,
                            float *y, int64_t ldy, bool cont)
{
    const gm_type t = five ? GM_TYPE_Q5_K : GM_TYPE_Q4_K;
    __m256 sum[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) sum[u] = cont ? _mm256_loadu_ps(y + (int64_t)u * ldy + 8 * h) : _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(t, nb, b, &qo, &so);
        if (nt == 1 && h == 0) qk2_prefetch(t, g, b, nb);
        const unsigned char *q = g + qo + 32 * h, *S = g + so;
        __m256i D[3];
        for (int i = 0; i < 3; i++) D[i] = _mm256_loadu_si256((const __m256i *)(const void *)(S + 64 + 64 * i + 32 * h));
        __m256i isum[QT2_TOKENS], msum[QT2_TOKENS];
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) isum[u] = _mm256_setzero_si256();
        /* decode (1 or 2 tokens) unrolls the sub-blocks, so each one's
         * shifts are constants; more tokens would not fit the registers */
        if (nt <= 2) {
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) qk2_sub(five, j, q, D, xv, xs, b, nt, isum);
        } else {
#pragma GCC unroll 1
            for (int j = 0; j < 8; j++) qk2_sub(five, j, q, D, xv, xs, b, nt, isum);
        }
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) msum[u] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            __m256i m = qk2_scale(D, j, 1), mm = _mm256_or_si256(m, _mm256_slli_epi32(m, 16));
#pragma GCC unroll 4
            for (int u = 0; u < nt; u++) msum[u] = DPWSSD(msum[u], mm, qk2_bsums(xv, xs, u, b, j));
        }
        __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(S + 16 * h)));
        __m256 wm = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(S + 32 + 16 * h)));
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) {   /* gm_ksum */
            __m256 xd = _mm256_set1_ps(XROW(gm_bq8k, xv, u, xs)[b].d);
            __m256 v = _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(xd, wd), _mm256_cvtepi32_ps(isum[u])),
                                     _mm256_mul_ps(_mm256_mul_ps(xd, wm), _mm256_cvtepi32_ps(msum[u])));
            sum[u] = _mm256_add_ps(sum[u], v);
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) _mm256_storeu_ps(y + (int64_t)u * ldy + 8 * h, sum[u]);
}

/* Levels 0..63 (ql nibble | 2 qh bits << 4) of elements 128 hh + 32 qt +
 * 4 l4 .. +3 of rows 8h..8h+7 of a packed Q6_K super-block (L: ql, H: qh). */
ALWAYS_INLINE __m256i q6k2_levels(const unsigned char *L, const unsigned char *H, int h, int hh, int qt, int l4)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    __m256i lv = _mm256_loadu_si256((const __m256i *)(const void *)(L + 64 * (16 * hh + 8 * (qt & 1) + l4) + 32 * h));
    __m256i hv = _mm256_loadu_si256((const __m256i *)(const void *)(H + 64 * (8 * hh + l4) + 32 * h));
    __m256i lo = _mm256_and_si256(qt < 2 ? lv : _mm256_srli_epi16(lv, 4), m4);
    __m256i hb = qt == 0 ? _mm256_slli_epi16(hv, 4) : qt == 1 ? _mm256_slli_epi16(hv, 2)
               : qt == 2 ? hv : _mm256_srli_epi16(hv, 2);
    return _mm256_or_si256(lo, _mm256_and_si256(hb, m30));
}

/* Sub-block j (elements 16j..16j+15) of a Q6_K super-block for nt tokens,
 * added to isum. */
ALWAYS_INLINE void q6k2_sub(int j, int h, const unsigned char *L, const unsigned char *H, const unsigned char *S,
                            const void *xv, size_t xs, int64_t b, int nt, __m256i *isum)
{
    const int hh = j / 8, qt = (j % 8) / 2, half = j % 2;
    __m256i acc[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) acc[u] = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int l4 = 4 * half; l4 < 4 * half + 4; l4++) {
        __m256i op = q6k2_levels(L, H, h, hh, qt, l4);
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) acc[u] = DPBUSD(acc[u], op, qk2_x4(xv, xs, u, b, 128 * hh + 32 * qt + 4 * l4));
    }
    /* the 8 rows' scales of sub-blocks 2p, 2p+1 as int16 pairs; this one's */
    __m256i sp = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(S + 32 * (j / 2) + 16 * h)));
    __m256i sc = half ? _mm256_srai_epi32(sp, 16) : _mm256_srai_epi32(_mm256_slli_epi32(sp, 16), 16);
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) isum[u] = _mm256_add_epi32(isum[u], _mm256_mullo_epi32(acc[u], sc));
}

/* Rows 8h..8h+7 of a packed Q6_K group times nt <= QT2_TOKENS tokens. */
ALWAYS_INLINE void q6k2_half(int h, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y,
                             int64_t ldy, bool cont)
{
    __m256 sum[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) sum[u] = cont ? _mm256_loadu_ps(y + (int64_t)u * ldy + 8 * h) : _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(GM_TYPE_Q6_K, nb, b, &qo, &so);
        if (nt == 1 && h == 0) qk2_prefetch(GM_TYPE_Q6_K, g, b, nb);
        const unsigned char *L = g + qo, *H = g + qo + 2048, *S = g + so;
        __m256i isum[QT2_TOKENS], corr[QT2_TOKENS];
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) isum[u] = _mm256_setzero_si256();
        if (nt <= 2) {   /* as qk2_half */
#pragma GCC unroll 16
            for (int j = 0; j < 16; j++) q6k2_sub(j, h, L, H, S, xv, xs, b, nt, isum);
        } else {
#pragma GCC unroll 1
            for (int j = 0; j < 16; j++) q6k2_sub(j, h, L, H, S, xv, xs, b, nt, isum);
        }
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) corr[u] = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) {
            __m256i sp = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(S + 32 * p + 16 * h)));
#pragma GCC unroll 4
            for (int u = 0; u < nt; u++) corr[u] = DPWSSD(corr[u], sp, qk2_bsums(xv, xs, u, b, p));
        }
        __m256 wd = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(S + 256 + 16 * h)));
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) {   /* gm_k6sum of isum - 32 * corr */
            __m256 xd = _mm256_set1_ps(XROW(gm_bq8k, xv, u, xs)[b].d);
            __m256i is = _mm256_sub_epi32(isum[u], _mm256_slli_epi32(corr[u], 5));
            sum[u] = _mm256_add_ps(sum[u], _mm256_mul_ps(_mm256_mul_ps(xd, wd), _mm256_cvtepi32_ps(is)));
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) _mm256_storeu_ps(y + (int64_t)u * ldy + 8 * h, sum[u]);
}

/* Any of the halves above for 16 rows x nt <= GM_QP_TOKENS tokens. */
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

static void KERNEL(tile_q4_K)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
#define QT2_Q4K(n) qk2_half(false, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q4K)
#undef QT2_Q4K
}

static void KERNEL(tile_q5_K)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
#define QT2_Q5K(n) qk2_half(true, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q5K)
#undef QT2_Q5K
}

static void KERNEL(tile_q6_K)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
#define QT2_Q6K(n) q6k2_half(h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q6K)
#undef QT2_Q6K
}

static void KERNEL(tile_q8_0)(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
    qt2_tile(false, nb, g, x, xs, nt, y, ldy, cont);
}

static void KERNEL(tile_q4_0)(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy,
                              bool cont)
{
    qt2_tile(true, nb, g, x, xs, nt, y, ldy, cont);
}

/* This path's tile for a packed type, or NULL. */
static gm_qtile_fn KERNEL(tiles)(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q8_0: return KERNEL(tile_q8_0);
    case GM_TYPE_Q4_0: return KERNEL(tile_q4_0);
    case GM_TYPE_Q4_K: return KERNEL(tile_q4_K);
    case GM_TYPE_Q5_K: return KERNEL(tile_q5_K);
    case GM_TYPE_Q6_K: return KERNEL(tile_q6_K);
    default: return NULL;
    }
}
