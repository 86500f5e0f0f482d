/* qdot_simd.h: the 256-bit integer dot-product kernels, written once and
 * compiled three times (qdot_avx2.c, qdot_avxvnni.c, qdot_avx512.c) with a
 * different instruction for the two multiply-accumulate steps:
 *   DPBUSD(acc, u8, s8): acc[i] += sum of four u8*s8 products (lane i = bytes 4i..4i+3)
 *   DPWSSD(acc, a, b):   acc[i] += a[2i]*b[2i] + a[2i+1]*b[2i+1] (16-bit lanes)
 * AVX2 emulates them with vpmaddubsw/vpmaddwd (exact here: every u8 operand
 * is at most 128 and every s8 at most 127 in magnitude, so no 16-bit
 * saturation); AVX-VNNI and AVX-512 VNNI have them as single instructions.
 * So every path computes the same int32 lanes and, with the same float
 * sequence, bit-identical results.
 *
 * Each kernel exists for one token (x1) and four tokens (x4); x4 decodes a
 * weight block once and runs exactly x1's per-token sequence for each
 * token, so a prefill and a decode step agree bit for bit.
 *
 * The including file defines DPBUSD, DPWSSD and KERNEL(name) (a unique
 * prefix), and includes <immintrin.h> and "quant.h". */

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Sum of the eight float lanes (one fixed order, shared by x1 and x4). */
ALWAYS_INLINE float hsum_ps(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Sum of the eight int32 lanes. */
ALWAYS_INLINE int hsum_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* Activation row t of a group (rows are xs bytes apart). */
#define XROW(type, xv, t, xs) ((const type *)((const char *)(xv) + (size_t)(t) * (xs)))

/* ---- Q8_0: |w| (u8) times x with w's sign ---------------------------------- */

/* One block of 32 signed weight bytes qw (scale dw) times block b of nt
 * activation rows: |w| as the unsigned operand, w's sign moved onto x,
 * acc[t] += (dw * dx) * isum.  Q8_0's blocks, and IQ4_NL's after their
 * table lookup (qdot_extra_simd.h). */
ALWAYS_INLINE void signed_block_n(__m256i qw, float dw, const void *xv, size_t xs, int64_t b, int nt, __m256 *acc)
{
    __m256i aw = _mm256_sign_epi8(qw, qw);
    for (int t = 0; t < nt; t++) {
        const gm_bq8 *x = XROW(gm_bq8, xv, t, xs) + b;
        __m256i p = DPBUSD(_mm256_setzero_si256(), aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)x->qs), qw));
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x->d), _mm256_cvtepi32_ps(p), acc[t]);
    }
}

/* Q8_0 rows times nt activation rows. */
ALWAYS_INLINE void q8_0_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q8_0 *w = wv;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nb; b++)
        signed_block_n(_mm256_loadu_si256((const __m256i *)w[b].qs), _cvtsh_ss(w[b].d), xv, xs, b, nt, acc);
    for (int t = 0; t < nt; t++) out[t] = hsum_ps(acc[t]);
}

/* ---- Q4_0: nibbles (u8) times x, minus 8*sum(x) in lane 0 ------------------- */

/* The 32 nibbles of a 16-byte block as bytes, byte i = element i (the low
 * nibbles, then the high ones): Q4_0's, and Q5_x's, Q4_1's and IQ4's. */
ALWAYS_INLINE __m256i nibbles32(const uint8_t *qs)
{
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m128i raw = _mm_loadu_si128((const __m128i *)(const void *)qs);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4), _mm_and_si128(raw, m4));
}

/* Q4_0 rows times nt activation rows. */
ALWAYS_INLINE void q4_0_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q4_0 *w = wv;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nb; b++) {
        __m256i q = nibbles32(w[b].qs);
        float dw = _cvtsh_ss(w[b].d);
        for (int t = 0; t < nt; t++) {
            const gm_bq8 *x = XROW(gm_bq8, xv, t, xs) + b;
            __m256i p = DPBUSD(_mm256_setr_epi32(-8 * x->sum, 0, 0, 0, 0, 0, 0, 0), q,
                               _mm256_loadu_si256((const __m256i *)x->qs));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x->d), _mm256_cvtepi32_ps(p), acc[t]);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = hsum_ps(acc[t]);
}

/* ---- Q5_0 / Q5_1: Q4_0's nibbles with a fifth bit from qh ------------------- */

/* The 32 levels (0..31) of a Q5_0 / Q5_1 block, byte i = element i: the
 * nibbles as in q4_0_n, and bit i of qh as 0x10 (each byte picks the qh
 * byte holding its bit, tests it, and keeps 0x10 where it is set). */
ALWAYS_INLINE __m256i q5_levels(const uint8_t *qs, const uint8_t *qh)
{
    __m256i q = nibbles32(qs);
    int32_t bits;
    memcpy(&bits, qh, 4);
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
    __m256i v = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(bits), pick), bit);
    __m256i h = _mm256_and_si256(_mm256_cmpeq_epi8(v, bit), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(q, h);
}

/* Q5_0 rows times nt activation rows: levels (u8) times x, minus 16*sum(x) in lane 0. */
ALWAYS_INLINE void q5_0_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q5_0 *w = wv;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t b = 0; b < nb; b++) {
        __m256i q = q5_levels(w[b].qs, w[b].qh);
        float dw = _cvtsh_ss(w[b].d);
        for (int t = 0; t < nt; t++) {
            const gm_bq8 *x = XROW(gm_bq8, xv, t, xs) + b;
            __m256i p = DPBUSD(_mm256_setr_epi32(-16 * x->sum, 0, 0, 0, 0, 0, 0, 0), q,
                               _mm256_loadu_si256((const __m256i *)x->qs));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x->d), _mm256_cvtepi32_ps(p), acc[t]);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = hsum_ps(acc[t]);
}

/* One block of 32 unsigned levels q with scale dw and min mw times block b
 * of nt activation rows: acc[t] += (dw * dx) * (q . x) in the lanes, and
 * m * dx * sum(x) kept in the scalar off[t] (added once, after the lanes).
 * Q5_1's blocks, and Q4_1's (qdot_extra_simd.h). */
ALWAYS_INLINE void min_block_n(__m256i q, float dw, float mw, const void *xv, size_t xs, int64_t b, int nt,
                               __m256 *acc, float *off)
{
    for (int t = 0; t < nt; t++) {
        const gm_bq8 *x = XROW(gm_bq8, xv, t, xs) + b;
        __m256i p = DPBUSD(_mm256_setzero_si256(), q, _mm256_loadu_si256((const __m256i *)x->qs));
        acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x->d), _mm256_cvtepi32_ps(p), acc[t]);
        off[t] += mw * x->d * (float)x->sum;
    }
}

/* Q5_1 rows times nt activation rows: d*dx * levels.x, plus m*dx*sum(x). */
ALWAYS_INLINE void q5_1_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q5_1 *w = wv;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float off[4] = {0, 0, 0, 0};
    for (int64_t b = 0; b < nb; b++)
        min_block_n(q5_levels(w[b].qs, w[b].qh), _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].m), xv, xs, b, nt, acc, off);
    for (int t = 0; t < nt; t++) out[t] = hsum_ps(acc[t]) + off[t];
}

/* ---- Q4_K / Q5_K: per 32-element sub-block, maddubs then scale by sc_j ------- */

/* Q4_K (five = false) or Q5_K rows times nt activation rows. */
ALWAYS_INLINE void qk_type1_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out, bool five)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), b16 = _mm256_set1_epi8(16);
    float sum[4] = {0, 0, 0, 0};
    size_t bsz = five ? sizeof(gm_block_q5_K) : sizeof(gm_block_q4_K);
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = (const uint8_t *)wv + (size_t)b * bsz;
        const gm_block_q4_K *w4 = (const gm_block_q4_K *)blk;          /* d, dmin, scales: same place in both */
        const uint8_t *qs = five ? ((const gm_block_q5_K *)blk)->qs : w4->qs;
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) gm_k_scale_min(j, w4->scales, &sc[j], &mn[j]);
        __m256i qh = five ? _mm256_loadu_si256((const __m256i *)((const gm_block_q5_K *)blk)->qh) : _mm256_setzero_si256();
        __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            if (five) {
                __m256i bit0 = _mm256_set1_epi8((char)(1 << (2 * c))), bit1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
                lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit0), bit0), b16));
                hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bit1), bit1), b16));
            }
            __m256i s0 = _mm256_set1_epi16((short)sc[2 * c]), s1 = _mm256_set1_epi16((short)sc[2 * c + 1]);
            for (int t = 0; t < nt; t++) {
                const int8_t *a = XROW(gm_bq8k, xv, t, xs)[b].qs + 64 * c;
                acc[t] = DPWSSD(acc[t], _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)a)), s0);
                acc[t] = DPWSSD(acc[t], _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 32))), s1);
            }
        }
        float d = _cvtsh_ss(w4->d), dmin = _cvtsh_ss(w4->dmin);
        for (int t = 0; t < nt; t++) {
            const gm_bq8k *x = XROW(gm_bq8k, xv, t, xs) + b;
            int msum = 0;
            for (int j = 0; j < 8; j++) msum += mn[j] * (x->bsums[2 * j] + x->bsums[2 * j + 1]);
            sum[t] += gm_ksum(x->d, d, dmin, hsum_epi32(acc[t]), msum);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = sum[t];
}

/* ---- Q6_K: 6-bit levels (u8) times x, scaled per 16, minus 32*sc*bsum ------- */

/* Q6_K rows times nt activation rows. */
ALWAYS_INLINE void q6_K_n(int64_t nb, const void *wv, const void *xv, size_t xs, int nt, float *out)
{
    const gm_block_q6_K *w = wv;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    float sum[4] = {0, 0, 0, 0};
    for (int64_t b = 0; b < nb; b++) {
        __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
            for (int k = 0; k < 4; k++) {
                const int8_t *s = w[b].scales + 8 * h + 2 * k;
                __m256i scv = _mm256_set_m128i(_mm_set1_epi16(s[1]), _mm_set1_epi16(s[0]));
                for (int t = 0; t < nt; t++) {
                    const int8_t *a = XROW(gm_bq8k, xv, t, xs)[b].qs + 128 * h + 32 * k;
                    acc[t] = DPWSSD(acc[t], _mm256_maddubs_epi16(q[k], _mm256_loadu_si256((const __m256i *)a)), scv);
                }
            }
        }
        float d = _cvtsh_ss(w[b].d);
        for (int t = 0; t < nt; t++) {
            const gm_bq8k *x = XROW(gm_bq8k, xv, t, xs) + b;
            int corr = 0;
            for (int j = 0; j < 16; j++) corr += w[b].scales[j] * x->bsums[j];
            sum[t] += gm_k6sum(x->d, d, hsum_epi32(acc[t]) - 32 * corr);
        }
    }
    for (int t = 0; t < nt; t++) out[t] = sum[t];
}

/* ---- the exported x1 / x4 entry points ------------------------------------------ */

#define GM_QDOT_PAIR(name, body)                                                                 \
    static float KERNEL(name##_x1)(int64_t nb, const void *w, const void *x)                    \
    { float o; body(nb, w, x, 0, 1, &o); return o; }                                             \
    static void KERNEL(name##_x4)(int64_t nb, const void *w, const void *x, size_t xs, float *o) \
    { body(nb, w, x, xs, 4, o); }

/* Q4_K and Q5_K share the type-1 kernel. */
ALWAYS_INLINE void q4_K_n(int64_t nb, const void *w, const void *x, size_t xs, int nt, float *o) { qk_type1_n(nb, w, x, xs, nt, o, false); }
ALWAYS_INLINE void q5_K_n(int64_t nb, const void *w, const void *x, size_t xs, int nt, float *o) { qk_type1_n(nb, w, x, xs, nt, o, true); }

GM_QDOT_PAIR(q8_0, q8_0_n)
GM_QDOT_PAIR(q4_0, q4_0_n)
GM_QDOT_PAIR(q5_0, q5_0_n)
GM_QDOT_PAIR(q5_1, q5_1_n)
GM_QDOT_PAIR(q4_K, q4_K_n)
GM_QDOT_PAIR(q5_K, q5_K_n)
GM_QDOT_PAIR(q6_K, q6_K_n)

/* The formats read in place only (Q4_1, IQ4_NL, Q2_K, Q3_K, IQ4_XS):
 * qdot_extra_simd.h, which every file including this one includes next. */
static gm_qkern KERNEL(extra_table)(gm_type t);

/* The kernel pair for a weight type on this path. */
static gm_qkern KERNEL(table)(gm_type t)
{
    gm_qkern k = {NULL, NULL};
    switch (t) {
    case GM_TYPE_Q8_0: k.x1 = KERNEL(q8_0_x1); k.x4 = KERNEL(q8_0_x4); break;
    case GM_TYPE_Q4_0: k.x1 = KERNEL(q4_0_x1); k.x4 = KERNEL(q4_0_x4); break;
    case GM_TYPE_Q5_0: k.x1 = KERNEL(q5_0_x1); k.x4 = KERNEL(q5_0_x4); break;
    case GM_TYPE_Q5_1: k.x1 = KERNEL(q5_1_x1); k.x4 = KERNEL(q5_1_x4); break;
    case GM_TYPE_Q4_K: k.x1 = KERNEL(q4_K_x1); k.x4 = KERNEL(q4_K_x4); break;
    case GM_TYPE_Q5_K: k.x1 = KERNEL(q5_K_x1); k.x4 = KERNEL(q5_K_x4); break;
    case GM_TYPE_Q6_K: k.x1 = KERNEL(q6_K_x1); k.x4 = KERNEL(q6_K_x4); break;
    default: k = KERNEL(extra_table)(t); break;   /* the formats read in place only */
    }
    return k;
}
