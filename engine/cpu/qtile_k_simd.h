/* qtile_k_simd.h: the K types' packed tiles (Q4_K, Q5_K, Q6_K) with 256-bit
 * registers, and the tables of the 256-bit tiles; included after
 * qtile_simd.h (QT2_TOKENS, QT2_SPLIT, the Q8_0/Q4_0 tiles) by qdot_avx2.c
 * and qdot_avxvnni.c. */

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

/* Token u's activation sums 2j and 2j+1 of super-block b as an int16 pair
 * (16-element sums, or with k32 the 32-element bsums32). */
ALWAYS_INLINE __m256i qk2_bsums(const void *xv, size_t xs, int u, int64_t b, int j, bool k32)
{
    const gm_bq8k *x = XROW(gm_bq8k, xv, u, xs) + b;
    int32_t pr;
    memcpy(&pr, (k32 ? x->bsums32 : x->bsums) + 2 * j, 4);
    return _mm256_set1_epi32(pr);
}

/* Four activation bytes of token u, super-block b, from element e. */
ALWAYS_INLINE __m256i qk2_x4(const void *xv, size_t xs, int u, int64_t b, int e)
{
    int32_t s;
    memcpy(&s, XROW(gm_bq8k, xv, u, xs)[b].qs + e, 4);
    return _mm256_set1_epi32(s);
}

/* Levels of Q4_K or Q5_K sub-block j, elements 4 s4 .. 4 s4 + 3 of this
 * half's 8 rows (q: the super-block's qs, advanced to the half): the nibble
 * of chunk j/2 (the low one for even j), for Q5_K with bit j of the
 * element's qh byte as the fifth bit. */
ALWAYS_INLINE __m256i qk2_levels(bool five, const unsigned char *q, int j, int s4)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), m10 = _mm256_set1_epi8(0x10);
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(q + 64 * (8 * (j / 2) + s4)));
    __m256i lv = _mm256_and_si256((j & 1) ? _mm256_srli_epi16(v, 4) : v, m4);
    if (!five) return lv;
    __m256i hv = _mm256_loadu_si256((const __m256i *)(const void *)(q + 2048 + 64 * s4));
    __m256i hb = j <= 4 ? _mm256_slli_epi16(hv, 4 - j) : _mm256_srli_epi16(hv, j - 4);
    return _mm256_or_si256(lv, _mm256_and_si256(hb, m10));
}

/* Sub-block j of a Q4_K or Q5_K super-block (levels at q, this half's
 * scale dwords in D) for nt tokens, added to isum. */
ALWAYS_INLINE void qk2_sub(bool five, int j, const unsigned char *q, const __m256i D[3], const void *xv, size_t xs,
                           int64_t b, int nt, __m256i *isum)
{
    __m256i acc[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) acc[u] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int s4 = 0; s4 < 8; s4++) {
        __m256i lv = qk2_levels(five, q, j, s4);
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
            for (int u = 0; u < nt; u++) msum[u] = DPWSSD(msum[u], mm, qk2_bsums(xv, xs, u, b, j, false));
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
            for (int u = 0; u < nt; u++) corr[u] = DPWSSD(corr[u], sp, qk2_bsums(xv, xs, u, b, p, false));
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

/* ---- K types on prefill's rewritten runs (gm_qprep_k_portable) ----------
 *
 * The same integer sums and float update as qk2_half / q6k2_half, from
 * levels already unpacked to bytes and scales to int32 / int16 pairs, so a
 * token tile does no unpacking. */

/* Rows 8h..8h+7 of a rewritten Q4_K or Q5_K run times nt <= QT2_TOKENS
 * tokens.  For Q4_K (fl) each sub-block's scale is applied by one float
 * FMA instead of vpmulld (two uops) and an add; as in the AVX-512 run tile
 * (q4kr_tile_f), sub-blocks 0-3 and 4-7 stay exact in two float halves
 * below 2^24 and their one rounded sum is vcvtdq2ps of the integer total. */
ALWAYS_INLINE void q4kr2_half(bool fl, int h, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt,
                              float *y, int64_t ldy, bool cont)
{
    __m256 sum[QT2_TOKENS];
    __attribute__((aligned(32))) float lo_half[QT2_TOKENS][8];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) sum[u] = cont ? _mm256_loadu_ps(y + (int64_t)u * ldy + 8 * h) : _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const unsigned char *o = g + (size_t)b * GM_Q4KR_BYTES + 32 * h;
        __m256i isum[QT2_TOKENS], msum[QT2_TOKENS];
        __m256 fs[QT2_TOKENS];
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) {
            isum[u] = msum[u] = _mm256_setzero_si256();
            fs[u] = _mm256_setzero_ps();
        }
#pragma GCC unroll 1
        for (int j = 0; j < 8; j++) {
            __m256i acc[QT2_TOKENS];
#pragma GCC unroll 4
            for (int u = 0; u < nt; u++) acc[u] = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int s = 0; s < 8; s++) {
                __m256i op = _mm256_loadu_si256((const __m256i *)(const void *)(o + 64 * (8 * j + s)));
#pragma GCC unroll 4
                for (int u = 0; u < nt; u++) acc[u] = DPBUSD(acc[u], op, qk2_x4(xv, xs, u, b, 32 * j + 4 * s));
            }
            __m256i sc = _mm256_loadu_si256((const __m256i *)(const void *)(o + 4096 + 64 * j));
            const __m256 scf = _mm256_cvtepi32_ps(sc);
#pragma GCC unroll 4
            for (int u = 0; u < nt; u++) {
                if (fl) fs[u] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[u]), scf, fs[u]);
                else isum[u] = _mm256_add_epi32(isum[u], _mm256_mullo_epi32(acc[u], sc));
            }
            if (j & 1) {   /* the mins of sub-blocks j - 1 and j against their 32-element sums */
                __m256i mm = _mm256_loadu_si256((const __m256i *)(const void *)(o + GM_Q4KR_MINS + 64 * (j / 2)));
#pragma GCC unroll 4
                for (int u = 0; u < nt; u++) msum[u] = DPWSSD(msum[u], mm, qk2_bsums(xv, xs, u, b, j / 2, true));
            }
            if (fl && j == 3) {
#pragma GCC unroll 4
                for (int u = 0; u < nt; u++) {
                    _mm256_store_ps(lo_half[u], fs[u]);
                    fs[u] = _mm256_setzero_ps();
                }
            }
        }
        __m256 wd = _mm256_loadu_ps((const float *)(const void *)(o + GM_Q4KR_D));
        __m256 wm = _mm256_loadu_ps((const float *)(const void *)(o + GM_Q4KR_DMIN));
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) {   /* gm_ksum */
            __m256 xd = _mm256_set1_ps(XROW(gm_bq8k, xv, u, xs)[b].d);
            __m256 is = fl ? _mm256_add_ps(_mm256_load_ps(lo_half[u]), fs[u]) : _mm256_cvtepi32_ps(isum[u]);
            __m256 v = _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(xd, wd), is),
                                     _mm256_mul_ps(_mm256_mul_ps(xd, wm), _mm256_cvtepi32_ps(msum[u])));
            sum[u] = _mm256_add_ps(sum[u], v);
        }
    }
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) _mm256_storeu_ps(y + (int64_t)u * ldy + 8 * h, sum[u]);
}

/* Rows 8h..8h+7 of a rewritten Q6_K run times nt <= QT2_TOKENS tokens. */
ALWAYS_INLINE void q6kr2_half(int h, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y,
                              int64_t ldy, bool cont)
{
    __m256 sum[QT2_TOKENS];
#pragma GCC unroll 4
    for (int u = 0; u < nt; u++) sum[u] = cont ? _mm256_loadu_ps(y + (int64_t)u * ldy + 8 * h) : _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const unsigned char *o = g + (size_t)b * GM_Q6KR_BYTES + 32 * h;
        __m256i isum[QT2_TOKENS], corr[QT2_TOKENS];
#pragma GCC unroll 4
        for (int u = 0; u < nt; u++) isum[u] = corr[u] = _mm256_setzero_si256();
#pragma GCC unroll 1
        for (int p = 0; p < 8; p++) {
            __m256i sp = _mm256_loadu_si256((const __m256i *)(const void *)(o + 4096 + 64 * p));
#pragma GCC unroll 2
            for (int e = 0; e < 2; e++) {   /* sub-block j = 2p + e: level rows 4j..4j+3 */
                const int j = 2 * p + e;
                __m256i acc[QT2_TOKENS];
#pragma GCC unroll 4
                for (int u = 0; u < nt; u++) acc[u] = _mm256_setzero_si256();
#pragma GCC unroll 4
                for (int s = 0; s < 4; s++) {
                    __m256i op = _mm256_loadu_si256((const __m256i *)(const void *)(o + 64 * (4 * j + s)));
#pragma GCC unroll 4
                    for (int u = 0; u < nt; u++) acc[u] = DPBUSD(acc[u], op, qk2_x4(xv, xs, u, b, 16 * j + 4 * s));
                }
                __m256i sc = e ? _mm256_srai_epi32(sp, 16) : _mm256_srai_epi32(_mm256_slli_epi32(sp, 16), 16);
#pragma GCC unroll 4
                for (int u = 0; u < nt; u++) isum[u] = _mm256_add_epi32(isum[u], _mm256_mullo_epi32(acc[u], sc));
            }
#pragma GCC unroll 4
            for (int u = 0; u < nt; u++) corr[u] = DPWSSD(corr[u], sp, qk2_bsums(xv, xs, u, b, p, false));
        }
        __m256 wd = _mm256_loadu_ps((const float *)(const void *)(o + 4608));
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

static void KERNEL(tile_q4_K_run)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y,
                                  int64_t ldy, bool cont)
{
#define QT2_Q4KR(n) q4kr2_half(true, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q4KR)
#undef QT2_Q4KR
}

static void KERNEL(tile_q5_K_run)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y,
                                  int64_t ldy, bool cont)
{
#define QT2_Q5KR(n) q4kr2_half(false, h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q5KR)
#undef QT2_Q5KR
}

static void KERNEL(tile_q6_K_run)(int64_t nb, const void *g, const void *xv, size_t xs, int nt, float *y,
                                  int64_t ldy, bool cont)
{
#define QT2_Q6KR(n) q6kr2_half(h, nb, g, x, xs, n, yy, ldy, cont)
    QT2_SPLIT(QT2_Q6KR)
#undef QT2_Q6KR
}

/* gm_qprep_k_portable's bytes, 8 rows at a time (the portable rewrite,
 * a byte at a time, cost more than the tiles saved on short batches). */
ALWAYS_INLINE void qk2_prep(gm_type t, int64_t nb, const void *group, void *dst)
{
    const unsigned char *g = group;
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(t, nb, b, &qo, &so);
        const unsigned char *S = g + so;
        for (int h = 0; h < 2; h++) {
            const unsigned char *q = g + qo + 32 * h;
            if (t == GM_TYPE_Q6_K) {
                unsigned char *o = (unsigned char *)dst + (size_t)b * GM_Q6KR_BYTES + 32 * h;
                for (int i = 0; i < 64; i++)
                    _mm256_storeu_si256((__m256i *)(void *)(o + 64 * i),
                                        q6k2_levels(g + qo, g + qo + 2048, h, i / 32, (i % 32) / 8, i % 8));
                for (int p = 0; p < 8; p++)
                    _mm256_storeu_si256((__m256i *)(void *)(o + 4096 + 64 * p),
                                        _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(S + 32 * p + 16 * h))));
                _mm256_storeu_ps((float *)(void *)(o + 4608),
                                 _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(S + 256 + 16 * h))));
                continue;
            }
            const bool five = t == GM_TYPE_Q5_K;
            unsigned char *o = (unsigned char *)dst + (size_t)b * GM_Q4KR_BYTES + 32 * h;
            __m256i D[3];
            for (int i = 0; i < 3; i++) D[i] = _mm256_loadu_si256((const __m256i *)(const void *)(S + 64 + 64 * i + 32 * h));
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
#pragma GCC unroll 8
                for (int s4 = 0; s4 < 8; s4++)
                    _mm256_storeu_si256((__m256i *)(void *)(o + 64 * (8 * j + s4)), qk2_levels(five, q, j, s4));
                _mm256_storeu_si256((__m256i *)(void *)(o + 4096 + 64 * j), qk2_scale(D, j, 0));
            }
#pragma GCC unroll 4
            for (int p = 0; p < 4; p++)
                _mm256_storeu_si256((__m256i *)(void *)(o + GM_Q4KR_MINS + 64 * p),
                                    _mm256_or_si256(qk2_scale(D, 2 * p, 1), _mm256_slli_epi32(qk2_scale(D, 2 * p + 1, 1), 16)));
            _mm256_storeu_ps((float *)(void *)(o + GM_Q4KR_D), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(S + 16 * h))));
            _mm256_storeu_ps((float *)(void *)(o + GM_Q4KR_DMIN),
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(S + 32 + 16 * h))));
        }
    }
}

static void KERNEL(prep_q4_K)(int64_t nb, const void *g, void *d) { qk2_prep(GM_TYPE_Q4_K, nb, g, d); }
static void KERNEL(prep_q5_K)(int64_t nb, const void *g, void *d) { qk2_prep(GM_TYPE_Q5_K, nb, g, d); }
static void KERNEL(prep_q6_K)(int64_t nb, const void *g, void *d) { qk2_prep(GM_TYPE_Q6_K, nb, g, d); }

/* Prefill's rewrite and run tile for a packed type on this path: the K
 * types' runs are rewritten; Q8_0 and Q4_0 are read as they are. */
static gm_qprep KERNEL(preps)(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q4_K: return (gm_qprep){ KERNEL(prep_q4_K), KERNEL(tile_q4_K_run), GM_Q4KR_BYTES, NULL };
    case GM_TYPE_Q5_K: return (gm_qprep){ KERNEL(prep_q5_K), KERNEL(tile_q5_K_run), GM_Q4KR_BYTES, NULL };
    case GM_TYPE_Q6_K: return (gm_qprep){ KERNEL(prep_q6_K), KERNEL(tile_q6_K_run), GM_Q6KR_BYTES, NULL };
    default: return (gm_qprep){ NULL, NULL, 0, NULL };
    }
}

/* This path's tile for a packed type, or NULL. */
static gm_qtile_fn KERNEL(tiles)(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q8_0: return KERNEL(tile_q8_0);
    case GM_TYPE_Q4_0: return KERNEL(tile_q4_0);
    case GM_TYPE_Q5_0: return KERNEL(tile_q5_0);
    case GM_TYPE_Q5_1: return KERNEL(tile_q5_1);
    case GM_TYPE_Q4_K: return KERNEL(tile_q4_K);
    case GM_TYPE_Q5_K: return KERNEL(tile_q5_K);
    case GM_TYPE_Q6_K: return KERNEL(tile_q6_K);
    default: return NULL;
    }
}
