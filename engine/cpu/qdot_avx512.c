/* qdot_avx512.c: integer dot products with AVX-512 VNNI (vpdpbusd on
 * 512-bit registers).  Q8_0/Q4_0 take two 32-element blocks per step; the K
 * types take 64 elements per step.  Q5_K reuses the AVX2 kernel.  Integer
 * sums per block are exact and equal to qdot.c's. */
#include <immintrin.h>
#include "quant.h"

static inline int hsum_epi32_512(__m512i v) { return _mm512_reduce_add_epi32(v); }

/* Two scales in the low and high eight lanes. */
static inline __m512 two_scales(float d0, float d1)
{
    return _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
}

/* Q8_0: (w + 128) is unsigned, so dpbusd gives sum (w+128)*x; subtract 128*sum(x). */
static float dot_q8_0(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q8_0 *w = wv;
    const gm_bq8 *x = xv;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512 acc = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        __m512i qw = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)w[b].qs)),
                                        _mm256_loadu_si256((const __m256i *)w[b + 1].qs), 1);
        __m512i qx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x[b].qs)),
                                        _mm256_loadu_si256((const __m256i *)x[b + 1].qs), 1);
        __m512i init = _mm512_setr_epi32(-128 * x[b].sum, 0, 0, 0, 0, 0, 0, 0, -128 * x[b + 1].sum, 0, 0, 0, 0, 0, 0, 0);
        __m512i p = _mm512_dpbusd_epi32(init, _mm512_xor_si512(qw, flip), qx);
        acc = _mm512_fmadd_ps(two_scales(_cvtsh_ss(w[b].d) * x[b].d, _cvtsh_ss(w[b + 1].d) * x[b + 1].d),
                              _mm512_cvtepi32_ps(p), acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    for (; b < nb; b++) {
        __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_xor_si256(qw, _mm256_set1_epi8((char)0x80)), qx);
        __m512i p5 = _mm512_castsi256_si512(p);
        int isum = _mm512_reduce_add_epi32(_mm512_maskz_mov_epi32(0xFF, p5)) - 128 * x[b].sum;
        sum += _cvtsh_ss(w[b].d) * x[b].d * (float)isum;
    }
    return sum;
}

/* 32 nibbles of a Q4_0 block as bytes: low nibbles (0..15) then high (16..31). */
static inline __m256i q4_0_bytes(const uint8_t *q)
{
    __m128i raw = _mm_loadu_si128((const __m128i *)q), m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m), _mm_and_si128(raw, m));
}

static float dot_q4_0(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q4_0 *w = wv;
    const gm_bq8 *x = xv;
    __m512 acc = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(q4_0_bytes(w[b].qs)), q4_0_bytes(w[b + 1].qs), 1);
        __m512i qx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x[b].qs)),
                                        _mm256_loadu_si256((const __m256i *)x[b + 1].qs), 1);
        __m512i init = _mm512_setr_epi32(-8 * x[b].sum, 0, 0, 0, 0, 0, 0, 0, -8 * x[b + 1].sum, 0, 0, 0, 0, 0, 0, 0);
        __m512i p = _mm512_dpbusd_epi32(init, q, qx);
        acc = _mm512_fmadd_ps(two_scales(_cvtsh_ss(w[b].d) * x[b].d, _cvtsh_ss(w[b + 1].d) * x[b + 1].d),
                              _mm512_cvtepi32_ps(p), acc);
    }
    float sum = _mm512_reduce_add_ps(acc);
    for (; b < nb; b++) {
        __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), q4_0_bytes(w[b].qs),
                                        _mm256_loadu_si256((const __m256i *)x[b].qs));
        int isum = _mm512_reduce_add_epi32(_mm512_maskz_mov_epi32(0xFF, _mm512_castsi256_si512(p))) - 8 * x[b].sum;
        sum += _cvtsh_ss(w[b].d) * x[b].d * (float)isum;
    }
    return sum;
}

static float dot_q4_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q4_K *w = wv;
    const gm_bq8k *x = xv;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int sc[8], msum = 0;
        for (int j = 0; j < 8; j++) {
            int m;
            gm_k_scale_min(j, w[b].scales, &sc[j], &m);
            msum += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        __m512i acc = _mm512_setzero_si512();
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            __m512i qq = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(q, m4)),
                                            _mm256_and_si256(_mm256_srli_epi16(q, 4), m4), 1);
            __m512i a = _mm512_loadu_si512((const void *)(x[b].qs + 64 * c));
            __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), qq, a);
            __m512i s = _mm512_inserti64x4(_mm512_set1_epi32(sc[2 * c]), _mm256_set1_epi32(sc[2 * c + 1]), 1);
            acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(p, s));
        }
        sum += gm_ksum(x[b].d, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), hsum_epi32_512(acc), msum);
    }
    return sum;
}

static float dot_q6_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q6_K *w = wv;
    const gm_bq8k *x = xv;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    const __m128i rep = _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int corr = 0;
        for (int j = 0; j < 16; j++) corr += w[b].scales[j] * x[b].bsums[j];
        __m512i acc = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            __m256i q0 = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            __m256i q1 = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
            __m128i s8 = _mm_loadl_epi64((const __m128i *)(w[b].scales + 8 * h));
            __m512i s01 = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(s8, rep));
            __m512i s23 = _mm512_cvtepi8_epi32(_mm_shuffle_epi8(s8, _mm_add_epi8(rep, _mm_set1_epi8(4))));
            __m512i a01 = _mm512_loadu_si512((const void *)(x[b].qs + 128 * h));
            __m512i a23 = _mm512_loadu_si512((const void *)(x[b].qs + 128 * h + 64));
            __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1), a01);
            __m512i p23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_inserti64x4(_mm512_castsi256_si512(q2), q3, 1), a23);
            acc = _mm512_add_epi32(acc, _mm512_add_epi32(_mm512_mullo_epi32(p01, s01), _mm512_mullo_epi32(p23, s23)));
        }
        sum += gm_k6sum(x[b].d, _cvtsh_ss(w[b].d), hsum_epi32_512(acc) - 32 * corr);
    }
    return sum;
}

gm_qdot_fn gm_qdot_avx512(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q8_0: return dot_q8_0;
    case GM_TYPE_Q4_0: return dot_q4_0;
    case GM_TYPE_Q4_K: return dot_q4_K;
    case GM_TYPE_Q5_K: return gm_qdot_avx2(t);
    case GM_TYPE_Q6_K: return dot_q6_K;
    default: return NULL;
    }
}
