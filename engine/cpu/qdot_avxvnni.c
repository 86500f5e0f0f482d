/* qdot_avxvnni.c: integer dot products with AVX-VNNI (vpdpbusd on 256-bit
 * registers: four u8 x s8 products summed into each int32 lane in one
 * instruction, no 16-bit saturation).  For CPUs with AVX-VNNI but without
 * AVX-512, and as the 256-bit path on those with both.  Q5_K reuses the AVX2
 * kernel.  Integer sums per block are exact and equal to qdot.c's. */
#include <immintrin.h>
#include "quant.h"

static inline float hsum_ps(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int hsum_epi32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

static float dot_q8_0(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q8_0 *w = wv;
    const gm_bq8 *x = xv;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i p = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(w[b].d) * x[b].d), _mm256_cvtepi32_ps(p), acc);
    }
    return hsum_ps(acc);
}

static float dot_q4_0(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q4_0 *w = wv;
    const gm_bq8 *x = xv;
    const __m128i m = _mm_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m128i raw = _mm_loadu_si128((const __m128i *)w[b].qs);
        __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m), _mm_and_si128(raw, m));
        __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        __m256i p = _mm256_dpbusd_avx_epi32(_mm256_setr_epi32(-8 * x[b].sum, 0, 0, 0, 0, 0, 0, 0), q, qx);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(w[b].d) * x[b].d), _mm256_cvtepi32_ps(p), acc);
    }
    return hsum_ps(acc);
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
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            __m256i a0 = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c));
            __m256i a1 = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c + 32));
            __m256i s0 = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), lo, a0);
            __m256i s1 = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), hi, a1);
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(s0, _mm256_set1_epi32(sc[2 * c])));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(s1, _mm256_set1_epi32(sc[2 * c + 1])));
        }
        sum += gm_ksum(x[b].d, _cvtsh_ss(w[b].d), _cvtsh_ss(w[b].dmin), hsum_epi32(acc), msum);
    }
    return sum;
}

static float dot_q6_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q6_K *w = wv;
    const gm_bq8k *x = xv;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int corr = 0;
        for (int j = 0; j < 16; j++) corr += w[b].scales[j] * x[b].bsums[j];
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(w[b].ql + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w[b].qh + 32 * h));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
            for (int k = 0; k < 4; k++) {
                const int8_t *s = w[b].scales + 8 * h + 2 * k;
                __m256i scv = _mm256_set_m128i(_mm_set1_epi32(s[1]), _mm_set1_epi32(s[0]));
                __m256i a = _mm256_loadu_si256((const __m256i *)(x[b].qs + 128 * h + 32 * k));
                __m256i p = _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), q[k], a);
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p, scv));
            }
        }
        sum += gm_k6sum(x[b].d, _cvtsh_ss(w[b].d), hsum_epi32(acc) - 32 * corr);
    }
    return sum;
}

gm_qdot_fn gm_qdot_avxvnni(gm_type t)
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
