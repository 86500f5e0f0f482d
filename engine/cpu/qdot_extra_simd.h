/* qdot_extra_simd.h: the 256-bit row kernels of the formats gemmash reads in
 * place but never packs (Q4_1, IQ4_NL, Q2_K, Q3_K, IQ4_XS; quant.h), written
 * once and compiled three times like qdot_simd.h, which each of qdot_avx2.c,
 * qdot_avxvnni.c and qdot_avx512.c includes just before this file (its
 * DPBUSD, DPWSSD, KERNEL, ALWAYS_INLINE, XROW, hsum_ps, hsum_epi32,
 * nibbles32, signed_block_n, min_block_n and GM_QDOT_PAIR are used here).  Without these a GGUF file of one of these
 * types ran on the portable kernels (quant_extra.c): 2 to 25 times slower
 * per weight byte than the SIMD ones, so slower than a Q4_K file of the
 * same model although decode streams fewer bytes.
 *
 * The portable kernels define what is computed; here:
 *   - Q2_K, Q3_K, IQ4_XS: the same exact integer sums per super-block, then
 *     the same float update (gm_ksum / gm_k6sum, same arguments), so every
 *     path equals the portable kernel bit for bit.
 *   - Q4_1, IQ4_NL: exact integer sums per 32-element block, accumulated in
 *     eight float lanes like q4_0_n and q5_1_n; the three SIMD paths agree
 *     bit for bit with each other, and with the portable kernel to float
 *     rounding.
 * The operand ranges keep the AVX2 emulation of DPBUSD and every
 * vpmaddubsw exact: the unsigned operand is a level (at most 15) or an
 * IQ4 magnitude (at most 127; the value's sign moves onto the activation,
 * as in q8_0_n), and activations lie in -127..127, so a pair of products
 * is at most 2 * 127 * 127 = 32258 < 32767.
 * x4 decodes a weight block once and runs exactly x1's per-token sequence
 * for each token (the *_n bodies with nt = 1 or 4), so they agree bit for
 * bit. */

/* The 16 IQ4 levels (gm_iq4nl_values) in both lanes, for a _mm256_shuffle_epi8 lookup by nibble. */
ALWAYS_INLINE __m256i qx_iq4_table(void)
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)gm_iq4nl_values));
}

/* Bit k (0..7) of each byte of h moved to bit 2 (the value 4 or 0): the
 * third bit of a Q3_K level.  16-bit shifts are safe: the mask keeps one
 * bit that came from the same byte. */
ALWAYS_INLINE __m256i qx_bit_to_4(__m256i h, int k)
{
    __m256i v = k > 2 ? _mm256_srli_epi16(h, k - 2) : k < 2 ? _mm256_slli_epi16(h, 2 - k) : h;
    return _mm256_and_si256(v, _mm256_set1_epi8(4));
}

/* The int16 scale pair of sub-blocks 8n + 2p (low lane) and 8n + 2p + 1
 * (high lane), for DPWSSD against the vpmaddubsw pairs of elements
 * 128n + 32p .. +31 (the low lane holds the first 16 of them): half holds
 * the int16 scales of sub-blocks 8n .. 8n + 7 in both lanes, and a byte
 * shuffle picks word 2p in the low lane and word 2p + 1 in the high one. */
ALWAYS_INLINE __m256i qx_scale_pair(__m256i half, int p)
{
    const __m256i pick = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
                                          2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3);
    return _mm256_shuffle_epi8(half, _mm256_add_epi8(pick, _mm256_set1_epi8((char)(4 * p))));
}

/* The 2-bit field p (bits 2p..2p+1) of each byte: the low bits of the
 * Q2_K / Q3_K levels of elements 128n + 32p + l (q = qs[32n .. 32n + 31]). */
ALWAYS_INLINE __m256i qx_crumb(__m256i q, int p)
{
    return _mm256_and_si256(p ? _mm256_srli_epi16(q, 2 * p) : q, _mm256_set1_epi8(3));
}

/* Exact sums of the int32 lanes of a and of b. */
ALWAYS_INLINE void qx_hsum2_epi32(__m256i a, __m256i b, int *sa, int *sb)
{
    __m256i h = _mm256_hadd_epi32(a, b);        /* a01 a23 b01 b23 | a45 a67 b45 b67 */
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    *sa = _mm_cvtsi128_si32(s);
    *sb = _mm_extract_epi32(s, 2);
}

/* ---- Q4_1 and IQ4_NL: 32-element blocks, lanes accumulate in float ------------ */

/* Q4_1 rows times nt activation rows: Q5_1's scheme (min_block_n) on the
 * nibbles. */
ALWAYS_INLINE void q4_1_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q4_1 *w = wv;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float off[4] = {0, 0, 0, 0};
    for (int64_t b = 0; b < nb; b++)
        min_block_n(nibbles32(w[b].qs), _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].m), xv, xs, b, nt, acc, off);
    for (int t = 0; t < nt; t++) out[t] = hsum_ps(acc[t]) + off[t];
}

/* IQ4_NL rows times nt activation rows: each nibble looked up in the level
 * table, |level| (u8) times x with the level's sign, d*dx per block. */
ALWAYS_INLINE void iq4_nl_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_iq4_nl *w = wv;
    const __m256i tbl = qx_iq4_table();
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nb; b++)   /* the values are Q8_0's signed bytes from here */
        signed_block_n(_mm256_shuffle_epi8(tbl, nibbles32(w[b].qs)), _cvtsh_ss(w[b].d), xv, xs, b, nt, acc);
    for (int t = 0; t < nt; t++) out[t] = hsum_ps(acc[t]);
}

/* ---- Q2_K, Q3_K: 2-bit fields, scaled per 16 elements ---------------------------- */

/* Q2_K rows times nt activation rows.  Per super-block: the levels 0..3
 * (u8) times x in int16 pairs, DPWSSD with the sub-blocks' four-bit scales
 * (isum); msum = sum of the four-bit mins times bsums in one vpmaddwd;
 * then gm_ksum as the portable kernel. */
ALWAYS_INLINE void q2_K_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q2_K *w = wv;
    const __m128i m4 = _mm_set1_epi8(0x0F);
    float sum[4] = {0, 0, 0, 0};
    for (int64_t b = 0; b < nb; b++) {
        __m128i s8 = _mm_loadu_si128((const __m128i *)(const void *)w[b].scales);
        __m256i sc = _mm256_cvtepu8_epi16(_mm_and_si128(s8, m4));
        __m256i mn = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s8, 4), m4));
        __m256i half[2] = {_mm256_permute4x64_epi64(sc, 0x44), _mm256_permute4x64_epi64(sc, 0xEE)};
        __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma GCC unroll 2
        for (int n = 0; n < 2; n++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w[b].qs + 32 * n));
#pragma GCC unroll 4
            for (int p = 0; p < 4; p++) {
                __m256i lv = qx_crumb(q, p), scv = qx_scale_pair(half[n], p);
                for (int t = 0; t < nt; t++) {
                    const int8_t *a = XROW(gm_bq8k, xv, t, xs)[b].qs + 128 * n + 32 * p;
                    acc[t] = DPWSSD(acc[t], _mm256_maddubs_epi16(lv, _mm256_loadu_si256((const __m256i *)a)), scv);
                }
            }
        }
        float d = _cvtsh_ss(w[b].d), dmin = _cvtsh_ss(w[b].dmin);
        for (int t = 0; t < nt; t++) {
            const gm_bq8k *x = XROW(gm_bq8k, xv, t, xs) + b;
            int isum, msum;
            qx_hsum2_epi32(acc[t], _mm256_madd_epi16(mn, _mm256_loadu_si256((const __m256i *)x->bsums)), &isum, &msum);
            sum[t] += gm_ksum(x->d, d, dmin, isum, msum);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = sum[t];
}

/* The 16 signed scales (s - 32) of a Q3_K block as bytes, sub-block order
 * (gm_q3k_scale): low nibbles from bytes 0..7 then their high nibbles; the
 * top two bits of scale 4k + i at bits 2k of byte 8 + i. */
ALWAYS_INLINE __m128i qx_q3k_scales(const uint8_t *s)
{
    uint64_t a;
    uint32_t h;
    memcpy(&a, s, 8);
    memcpy(&h, s + 8, 4);
    const uint64_t m = 0x0F0F0F0F0F0F0F0FULL;
    __m128i lo = _mm_set_epi64x((long long)((a >> 4) & m), (long long)(a & m));
    __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32((int)h), _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
    return _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
}

/* Q3_K rows times nt activation rows.  Per super-block: the levels 0..7
 * (two bits from qs, the third from hmask) as u8 times x in int16 pairs,
 * DPWSSD with the signed scales; the "- 4" of every level as -4 * scale
 * times bsums, one more DPWSSD that seeds the sum; then gm_k6sum as the
 * portable kernel (sum_j s_j * (dot_j - 4 * bsum_j), the same integer). */
ALWAYS_INLINE void q3_K_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q3_K *w = wv;
    float sum[4] = {0, 0, 0, 0};
    for (int64_t b = 0; b < nb; b++) {
        __m256i sc = _mm256_cvtepi8_epi16(qx_q3k_scales(w[b].scales));
        __m256i half[2] = {_mm256_permute4x64_epi64(sc, 0x44), _mm256_permute4x64_epi64(sc, 0xEE)};
        __m256i m4sc = _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(sc, 2));
        __m256i hm = _mm256_loadu_si256((const __m256i *)(const void *)w[b].hmask);
        __m256i acc[4];
        for (int t = 0; t < nt; t++)
            acc[t] = DPWSSD(_mm256_setzero_si256(),
                            _mm256_loadu_si256((const __m256i *)(XROW(gm_bq8k, xv, t, xs) + b)->bsums), m4sc);
#pragma GCC unroll 2
        for (int n = 0; n < 2; n++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(w[b].qs + 32 * n));
#pragma GCC unroll 4
            for (int p = 0; p < 4; p++) {
                __m256i lv = _mm256_or_si256(qx_crumb(q, p), qx_bit_to_4(hm, 4 * n + p));
                __m256i scv = qx_scale_pair(half[n], p);
                for (int t = 0; t < nt; t++) {
                    const int8_t *a = XROW(gm_bq8k, xv, t, xs)[b].qs + 128 * n + 32 * p;
                    acc[t] = DPWSSD(acc[t], _mm256_maddubs_epi16(lv, _mm256_loadu_si256((const __m256i *)a)), scv);
                }
            }
        }
        float d = _cvtsh_ss(w[b].d);
        for (int t = 0; t < nt; t++) {
            const gm_bq8k *x = XROW(gm_bq8k, xv, t, xs) + b;
            sum[t] += gm_k6sum(x->d, d, hsum_epi32(acc[t]));
        }
    }
    for (int t = 0; t < nt; t++) out[t] = sum[t];
}

/* ---- IQ4_XS: IQ4 levels in sub-blocks of 32, six-bit signed scales ------------ */

/* The eight signed scales (ls - 32) of an IQ4_XS block (gm_iq4xs_scale)
 * as int16 words 0..7, the same in both lanes: computed in eight int32
 * lanes, then packed to 16 bits. */
ALWAYS_INLINE __m256i qx_iq4xs_scales(const gm_block_iq4_xs *w)
{
    uint32_t l;
    memcpy(&l, w->scales_l, 4);
    __m256i lo = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)l), _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                                  _mm256_set1_epi32(0xF));
    __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(w->scales_h), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
                                  _mm256_set1_epi32(3));
    __m256i s = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
    return _mm256_broadcastsi128_si256(_mm_packs_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)));
}

/* Word j of s (words 0..7 the same in both lanes) in all 16 words: one
 * byte shuffle, whose control is a constant once j is. */
ALWAYS_INLINE __m256i qx_word_bcast(__m256i s, int j)
{
    return _mm256_shuffle_epi8(s, _mm256_set1_epi16((short)(0x0100 + 0x0202 * j)));
}

/* IQ4_XS rows times nt activation rows.  Per sub-block of 32: nibbles
 * looked up in the level table, |level| (u8) times x with the level's
 * sign in int16 pairs, DPWSSD with the sub-block's scale; then gm_k6sum
 * of the super-block's exact sum as the portable kernel. */
ALWAYS_INLINE void iq4_xs_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_iq4_xs *w = wv;
    const __m256i tbl = qx_iq4_table();
    float sum[4] = {0, 0, 0, 0};
    for (int64_t b = 0; b < nb; b++) {
        __m256i sc = qx_iq4xs_scales(&w[b]);
        __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            __m256i v = _mm256_shuffle_epi8(tbl, nibbles32(w[b].qs + 16 * j));
            __m256i av = _mm256_abs_epi8(v), scv = qx_word_bcast(sc, j);
            for (int t = 0; t < nt; t++) {
                const int8_t *a = XROW(gm_bq8k, xv, t, xs)[b].qs + 32 * j;
                __m256i sx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)a), v);
                acc[t] = DPWSSD(acc[t], _mm256_maddubs_epi16(av, sx), scv);
            }
        }
        float d = _cvtsh_ss(w[b].d);
        for (int t = 0; t < nt; t++) {
            const gm_bq8k *x = XROW(gm_bq8k, xv, t, xs) + b;
            sum[t] += gm_iq4xs_sum(x->d, d, hsum_epi32(acc[t]), gm_iq4xs_msum(&w[b], x));
        }
    }
    for (int t = 0; t < nt; t++) out[t] = sum[t];
}

/* ---- the exported x1 / x4 entry points ------------------------------------------ */

GM_QDOT_PAIR(q4_1, q4_1_n)
GM_QDOT_PAIR(iq4_nl, iq4_nl_n)
GM_QDOT_PAIR(q2_K, q2_K_n)
GM_QDOT_PAIR(q3_K, q3_K_n)
GM_QDOT_PAIR(iq4_xs, iq4_xs_n)

/* The kernel pair for a type this file covers ({NULL, NULL} for others);
 * KERNEL(table) in qdot_simd.h (which declares it) hands it every type it
 * does not know. */
static gm_qkern KERNEL(extra_table)(gm_type t)
{
    gm_qkern k = {NULL, NULL};
    switch (t) {
    case GM_TYPE_Q4_1: k.x1 = KERNEL(q4_1_x1); k.x4 = KERNEL(q4_1_x4); break;
    case GM_TYPE_IQ4_NL: k.x1 = KERNEL(iq4_nl_x1); k.x4 = KERNEL(iq4_nl_x4); break;
    case GM_TYPE_Q2_K: k.x1 = KERNEL(q2_K_x1); k.x4 = KERNEL(q2_K_x4); break;
    case GM_TYPE_Q3_K: k.x1 = KERNEL(q3_K_x1); k.x4 = KERNEL(q3_K_x4); break;
    case GM_TYPE_IQ4_XS: k.x1 = KERNEL(iq4_xs_x1); k.x4 = KERNEL(iq4_xs_x4); break;
    default: break;
    }
    return k;
}
