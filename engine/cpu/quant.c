/* quant.c: reference quantizers and dequantizers for the block formats.
 *
 * Dequantization follows the GGUF definitions exactly (a Q4_K_M file from
 * any producer decodes to the same floats).  Quantization is our own: it
 * must produce valid blocks of the format and keep the error small; the
 * K-type quantizers refit scale and min by least squares a few times. */
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "quant.h"

/* Short names for the half-precision scale conversions and clamping. */
static inline float h2f(uint16_t h) { return gm_f16_to_f32(h); }
static inline uint16_t f2h(float f) { return gm_f32_to_f16(f); }
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- Q8_0 ---------------------------------------------------------------- */

/* roundf (halves away from zero) as an int, without the library call that
 * was a third of quantizing a checkpoint at load: below 2^23 in magnitude
 * v - trunc(v) is exact, so the comparison with 0.5 decides as roundf does;
 * anything else (huge, NaN) goes to roundf itself. */
static inline int round_away(float v)
{
    if (!(fabsf(v) < 8388608.0f)) return (int)roundf(v);
    int t = (int)v;
    float f = v - (float)t;
    return t + (f >= 0.5f) - (f <= -0.5f);
}

/* 32 levels clamp(round_away(x * id), -127, 127) of a block with no NaN or
 * infinity (so |x * id| <= 127 and a bit): on x86-64 four at a time with
 * SSE2, which every such CPU has (truncate, compare the exact remainder
 * with +-0.5, saturating packs), since the compiler leaves this loop scalar. */
static void q8_0_finite(const float *x, float id, int8_t *qs)
{
#if defined(__SSE2__)
    const __m128 s = _mm_set1_ps(id), half = _mm_set1_ps(0.5f), nhalf = _mm_set1_ps(-0.5f);
    for (int h = 0; h < GM_QK; h += 16) {
        __m128i q[4];
        for (int k = 0; k < 4; k++) {
            __m128 v = _mm_mul_ps(_mm_loadu_ps(x + h + 4 * k), s);
            __m128i t = _mm_cvttps_epi32(v);
            __m128 f = _mm_sub_ps(v, _mm_cvtepi32_ps(t));
            /* compares give -1 where true: t + (f >= .5) - (f <= -.5) */
            q[k] = _mm_add_epi32(_mm_sub_epi32(t, _mm_castps_si128(_mm_cmpge_ps(f, half))),
                                 _mm_castps_si128(_mm_cmple_ps(f, nhalf)));
        }
        const __m128i lo = _mm_set1_epi16(-127);
        __m128i a = _mm_max_epi16(_mm_packs_epi32(q[0], q[1]), lo), c = _mm_max_epi16(_mm_packs_epi32(q[2], q[3]), lo);
        _mm_storeu_si128((__m128i *)(void *)(qs + h), _mm_packs_epi16(a, c));
    }
#else
    for (int i = 0; i < GM_QK; i++) qs[i] = (int8_t)clampi(round_away(x[i] * id), -127, 127);
#endif
}

/* d = max|x|/127 and q = round(x/d): the 32-element 8-bit format.  (The
 * running max keeps amax when |x| is NaN, as fmaxf did.) */
static void quantize_q8_0(const float *x, gm_block_q8_0 *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        float amax = 0.0f;
        int odd = 0;   /* a NaN or an infinity in the block */
        for (int i = 0; i < GM_QK; i++) {
            amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
            odd |= !(fabsf(x[i]) <= 3.4e38f);
        }
        float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
        y[b].d = f2h(d);
        if (odd) {
            for (int i = 0; i < GM_QK; i++) y[b].qs[i] = (int8_t)clampi(round_away(x[i] * id), -127, 127);
            continue;
        }
        q8_0_finite(x, id, y[b].qs);
    }
}

/* y = d * q. */
static void dequantize_q8_0(const gm_block_q8_0 *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++) {
        float d = h2f(x[b].d);
        for (int i = 0; i < GM_QK; i++) *y++ = d * (float)x[b].qs[i];
    }
}

/* ---- Q4_0 ---------------------------------------------------------------- */

/* The value of largest magnitude in a block of GM_QK, sign kept (the first
 * on ties): Q4_0 and Q5_0 map it to their lowest level exactly. */
static float signed_max(const float *x)
{
    float amax = 0.0f, mx = 0.0f;
    for (int i = 0; i < GM_QK; i++)
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); mx = x[i]; }
    return mx;
}

/* The value of largest magnitude maps to -8 exactly; q = (x/d) + 8 in 0..15. */
static void quantize_q4_0(const float *x, gm_block_q4_0 *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        float d = signed_max(x) / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = f2h(d);
        for (int i = 0; i < 16; i++) {
            int lo = clampi((int)(x[i] * id + 8.5f), 0, 15);
            int hi = clampi((int)(x[i + 16] * id + 8.5f), 0, 15);
            y[b].qs[i] = (uint8_t)(lo | hi << 4);
        }
    }
}

/* y = d * (q - 8); low nibbles are elements 0..15, high nibbles 16..31. */
static void dequantize_q4_0(const gm_block_q4_0 *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, y += GM_QK) {
        float d = h2f(x[b].d);
        for (int i = 0; i < 16; i++) {
            y[i]      = d * (float)((x[b].qs[i] & 0xF) - 8);
            y[i + 16] = d * (float)((x[b].qs[i] >> 4) - 8);
        }
    }
}

/* The fifth bits of a Q5 block into qh (gm_q5_bits reads them back). */
static void q5_bits_put(uint8_t qh[4], uint32_t bits)
{
    for (int i = 0; i < 4; i++) qh[i] = (uint8_t)(bits >> (8 * i));
}

/* The 32 levels q[] (0..31) of a block into its nibbles and fifth bits. */
static void q5_store(const int q[32], uint8_t qs[16], uint8_t qh[4])
{
    uint32_t bits = 0;
    for (int i = 0; i < 16; i++) {
        qs[i] = (uint8_t)((q[i] & 0xF) | (q[i + 16] & 0xF) << 4);
        bits |= (uint32_t)(q[i] >> 4) << i | (uint32_t)(q[i + 16] >> 4) << (i + 16);
    }
    q5_bits_put(qh, bits);
}

/* v truncated into 0..31; NaN gives 0 (no undefined float-to-int cast). */
static inline int q5_trunc(float v)
{
    return v >= 31.0f ? 31 : v > 0.0f ? (int)v : 0;
}

/* Q5_0: d = max / -16 for the value of largest magnitude, q = x/d + 16 in 0..31. */
static void quantize_q5_0(const float *x, gm_block_q5_0 *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        float d = signed_max(x) / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        int q[32];
        for (int i = 0; i < GM_QK; i++) q[i] = q5_trunc(x[i] * id + 16.5f);
        y[b].d = f2h(d);
        q5_store(q, y[b].qs, y[b].qh);
    }
}

/* y = d * (q - 16). */
static void dequantize_q5_0(const gm_block_q5_0 *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, y += GM_QK) {
        float d = h2f(x[b].d);
        uint32_t bits = gm_q5_bits(x[b].qh);
        for (int i = 0; i < GM_QK; i++) y[i] = d * (float)(gm_q5_level(x[b].qs, bits, i) - 16);
    }
}

/* Q5_1: m = the minimum, d = (max - min) / 31, q = (x - m) / d rounded. */
static void quantize_q5_1(const float *x, gm_block_q5_1 *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        float lo = x[0], hi = x[0];
        for (int i = 1; i < GM_QK; i++) { lo = fminf(lo, x[i]); hi = fmaxf(hi, x[i]); }
        float d = (hi - lo) / 31.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        int q[32];
        for (int i = 0; i < GM_QK; i++) q[i] = q5_trunc((x[i] - lo) * id + 0.5f);
        y[b].d = f2h(d);
        y[b].m = f2h(lo);
        q5_store(q, y[b].qs, y[b].qh);
    }
}

/* y = d * q + m. */
static void dequantize_q5_1(const gm_block_q5_1 *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, y += GM_QK) {
        float d = h2f(x[b].d), m = h2f(x[b].m);
        uint32_t bits = gm_q5_bits(x[b].qh);
        for (int i = 0; i < GM_QK; i++) y[i] = d * (float)gm_q5_level(x[b].qs, bits, i) + m;
    }
}

/* ---- K types: shared helpers ---------------------------------------------- */

/* Fit x ~= s*q - m with q in 0..nmax for n values ("type-1"): start from the
 * min/max fit, then alternate rounding and a least-squares refit.  Returns s,
 * stores m (>= 0, since the minimum is clamped to <= 0). */
float gm_fit_scale_min(const float *x, int n, int nmax, float *m_out)
{
    float lo = x[0], hi = x[0];
    for (int i = 1; i < n; i++) { lo = fminf(lo, x[i]); hi = fmaxf(hi, x[i]); }
    if (lo > 0.0f) lo = 0.0f;
    if (hi <= lo) { *m_out = -lo; return 0.0f; }
    float s = (hi - lo) / (float)nmax, m = -lo;
    float best_err = INFINITY, best_s = s, best_m = m;
    for (int it = 0; it < 4; it++) {
        double sq = 0, sqq = 0, sx = 0, sqx = 0, err = 0;
        for (int i = 0; i < n; i++) {
            int q = clampi((int)lrintf((x[i] + m) / s), 0, nmax);
            float e = s * (float)q - m - x[i];
            err += (double)e * e;
            sq += q; sqq += (double)q * q; sx += x[i]; sqx += (double)q * x[i];
        }
        if (err < best_err) { best_err = (float)err; best_s = s; best_m = m; }
        /* least squares for x = s*q - m over the current q */
        double det = (double)n * sqq - sq * sq;
        if (det <= 0) break;
        double ns = ((double)n * sqx - sq * sx) / det, nm = (sq * sqx - sqq * sx) / det;
        if (ns <= 0 || nm < 0) break;           /* keep the min non-positive */
        s = (float)ns; m = (float)nm;
    }
    *m_out = best_m;
    return best_s;
}

/* Store six-bit scale sc and min m of sub-block j in the 12-byte array. */
static void put_scale_min(uint8_t *q, int j, int sc, int m)
{
    if (j < 4) {
        q[j] = (uint8_t)((q[j] & 0xC0) | sc);
        q[j + 4] = (uint8_t)((q[j + 4] & 0xC0) | m);
    } else {
        q[j + 4] = (uint8_t)((sc & 0xF) | ((m & 0xF) << 4));
        q[j - 4] = (uint8_t)((q[j - 4] & 0x3F) | ((sc >> 4) << 6));
        q[j] = (uint8_t)((q[j] & 0x3F) | ((m >> 4) << 6));
    }
}

/* Quantize one 256-block as "type-1" with 8 sub-blocks of 32 and levels
 * 0..nmax; fills the scale bytes, d, dmin and the integer levels L. */
static void quantize_k_type1(const float *x, int nmax, uint8_t scales[12], uint16_t *d_out,
                             uint16_t *dmin_out, uint8_t L[256])
{
    float s[8], m[8], smax = 0.0f, mmax = 0.0f;
    for (int j = 0; j < 8; j++) {
        s[j] = gm_fit_scale_min(x + 32 * j, 32, nmax, &m[j]);
        smax = fmaxf(smax, s[j]);
        mmax = fmaxf(mmax, m[j]);
    }
    float d = smax / 63.0f, dmin = mmax / 63.0f;
    *d_out = f2h(d);
    *dmin_out = f2h(dmin);
    d = h2f(*d_out);
    dmin = h2f(*dmin_out);
    memset(scales, 0, 12);
    for (int j = 0; j < 8; j++) {
        int sc = d > 0.0f ? clampi((int)lrintf(s[j] / d), 0, 63) : 0;
        int mi = dmin > 0.0f ? clampi((int)lrintf(m[j] / dmin), 0, 63) : 0;
        put_scale_min(scales, j, sc, mi);
        float ds = d * (float)sc, dm = dmin * (float)mi;
        for (int i = 0; i < 32; i++)
            L[32 * j + i] = (uint8_t)(ds > 0.0f ? clampi((int)lrintf((x[32 * j + i] + dm) / ds), 0, nmax) : 0);
    }
}

/* ---- Q4_K ---------------------------------------------------------------- */

/* Levels 0..15 per sub-block; qs[32c+l] holds elements 64c+l (low) and 64c+32+l (high). */
static void quantize_q4_K(const float *x, gm_block_q4_K *y, int64_t n)
{
    uint8_t L[256];
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        quantize_k_type1(x, 15, y[b].scales, &y[b].d, &y[b].dmin, L);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[b].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | L[64 * c + 32 + l] << 4);
    }
}

/* y = d*sc*q - dmin*m; each 32-byte run of qs holds two sub-blocks (lo, hi nibbles). */
static void dequantize_q4_K(const gm_block_q4_K *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++) {
        float d = h2f(x[b].d), dmin = h2f(x[b].dmin);
        const uint8_t *q = x[b].qs;
        for (int c = 0; c < 4; c++, q += 32) {
            int sc0, m0, sc1, m1;
            gm_k_scale_min(2 * c, x[b].scales, &sc0, &m0);
            gm_k_scale_min(2 * c + 1, x[b].scales, &sc1, &m1);
            float d0 = d * (float)sc0, n0 = dmin * (float)m0, d1 = d * (float)sc1, n1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) *y++ = d0 * (float)(q[l] & 0xF) - n0;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] >> 4) - n1;
        }
    }
}

/* ---- Q5_K ---------------------------------------------------------------- */

/* Levels 0..31: four low bits as in Q4_K, the fifth in qh. */
static void quantize_q5_K(const float *x, gm_block_q5_K *y, int64_t n)
{
    uint8_t L[256];
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        quantize_k_type1(x, 31, y[b].scales, &y[b].d, &y[b].dmin, L);
        memset(y[b].qh, 0, 32);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int a = L[64 * c + l], h = L[64 * c + 32 + l];
                y[b].qs[32 * c + l] = (uint8_t)((a & 0xF) | (h & 0xF) << 4);
                y[b].qh[l] |= (uint8_t)(((a >> 4) << (2 * c)) | ((h >> 4) << (2 * c + 1)));
            }
    }
}

/* Like Q4_K plus a fifth bit: bit 2c of qh[l] for sub-block 2c, bit 2c+1 for 2c+1. */
static void dequantize_q5_K(const gm_block_q5_K *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++) {
        float d = h2f(x[b].d), dmin = h2f(x[b].dmin);
        const uint8_t *q = x[b].qs, *qh = x[b].qh;
        for (int c = 0; c < 4; c++, q += 32) {
            int sc0, m0, sc1, m1;
            gm_k_scale_min(2 * c, x[b].scales, &sc0, &m0);
            gm_k_scale_min(2 * c + 1, x[b].scales, &sc1, &m1);
            float d0 = d * (float)sc0, n0 = dmin * (float)m0, d1 = d * (float)sc1, n1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) *y++ = d0 * (float)((q[l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4)) - n0;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)((q[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4)) - n1;
        }
    }
}

/* ---- Q6_K ---------------------------------------------------------------- */

/* 16 sub-blocks of 16, "type-0" with q in -32..31 and signed 8-bit scales. */
static void quantize_q6_K(const float *x, gm_block_q6_K *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        float s[16], smax = 0.0f, sabs = 0.0f;
        for (int j = 0; j < 16; j++) {
            float amax = 0.0f, mx = 0.0f;
            for (int i = 0; i < 16; i++)
                if (fabsf(x[16 * j + i]) > amax) { amax = fabsf(x[16 * j + i]); mx = x[16 * j + i]; }
            s[j] = mx / -32.0f;
            if (fabsf(s[j]) > sabs) { sabs = fabsf(s[j]); smax = s[j]; }
        }
        float d = smax / -128.0f;      /* the largest scale maps to -128..127 range */
        y[b].d = f2h(d);
        d = h2f(y[b].d);
        uint8_t L[256];
        for (int j = 0; j < 16; j++) {
            int sc = d != 0.0f ? clampi((int)lrintf(s[j] / d), -128, 127) : 0;
            y[b].scales[j] = (int8_t)sc;
            float ds = d * (float)sc;
            for (int i = 0; i < 16; i++)
                L[16 * j + i] = (uint8_t)(ds != 0.0f ? clampi((int)lrintf(x[16 * j + i] / ds), -32, 31) + 32 : 32);
        }
        for (int h = 0; h < 2; h++) {
            const uint8_t *q = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                y[b].ql[64 * h + l]      = (uint8_t)((q[l] & 0xF) | (q[l + 64] & 0xF) << 4);
                y[b].ql[64 * h + 32 + l] = (uint8_t)((q[l + 32] & 0xF) | (q[l + 96] & 0xF) << 4);
                y[b].qh[32 * h + l] = (uint8_t)((q[l] >> 4) | (q[l + 32] >> 4) << 2 |
                                                (q[l + 64] >> 4) << 4 | (q[l + 96] >> 4) << 6);
            }
        }
    }
}

/* The level of element e (0..255) of a Q6_K block, before the -32 offset. */
static inline int q6_level(const gm_block_q6_K *x, int e)
{
    int h = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
    uint8_t lo = x->ql[64 * h + (quarter & 1) * 32 + l];
    int low = quarter < 2 ? (lo & 0xF) : (lo >> 4);
    int high = (x->qh[32 * h + l] >> (2 * quarter)) & 3;
    return low | high << 4;
}

/* y = d * scale[e/16] * (level - 32). */
static void dequantize_q6_K(const gm_block_q6_K *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++) {
        float d = h2f(x[b].d);
        for (int e = 0; e < 256; e++)
            *y++ = d * (float)x[b].scales[e / 16] * (float)(q6_level(&x[b], e) - 32);
    }
}

/* ---- activations ---------------------------------------------------------- */

void gm_quantize_act_q8_portable(gm_type t, const float *x, gm_bq8 *y, int64_t n)
{
    const bool pow2 = gm_act_pow2(t);
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        float amax = 0.0f;
        for (int i = 0; i < GM_QK; i++) amax = fmaxf(amax, fabsf(x[i]));
        float id, d = gm_act_scale(pow2, amax, &id);
        int sum = 0;
        for (int i = 0; i < GM_QK; i++) {
            int q = clampi((int)lrintf(x[i] * id), -127, 127);
            y[b].qs[i] = (int8_t)q;
            sum += q;
        }
        y[b].d = d;
        y[b].sum = sum;
    }
}

void gm_quantize_act_q8k_portable(const float *x, gm_bq8k *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        float amax = 0.0f;
        for (int i = 0; i < GM_QKK; i++) amax = fmaxf(amax, fabsf(x[i]));
        float d = amax / 127.0f, id = d > 0.0f ? 127.0f / amax : 0.0f;
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                int q = clampi((int)lrintf(x[16 * j + i] * id), -127, 127);
                y[b].qs[16 * j + i] = (int8_t)q;
                sum += q;
            }
            y[b].bsums[j] = (int16_t)sum;
        }
        for (int j = 0; j < 8; j++) y[b].bsums32[j] = (int16_t)(y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
        y[b].d = d;
    }
}

void gm_quantize_act_q8(gm_type t, const float *x, gm_bq8 *y, int64_t n)
{
#if defined(__x86_64__)
    if (gm_qisa_best() == GM_QISA_AVX512) { gm_quantize_act_q8_avx512(t, x, y, n); return; }
#endif
    gm_quantize_act_q8_portable(t, x, y, n);
}

void gm_quantize_act_q8k(const float *x, gm_bq8k *y, int64_t n)
{
#if defined(__x86_64__)
    if (gm_qisa_best() == GM_QISA_AVX512) { gm_quantize_act_q8k_avx512(x, y, n); return; }
#endif
    gm_quantize_act_q8k_portable(x, y, n);
}

size_t gm_qact_block_bytes(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q8_0: case GM_TYPE_Q4_0: case GM_TYPE_Q5_0: case GM_TYPE_Q5_1: case GM_TYPE_Q4_1:
    case GM_TYPE_IQ4_NL: return sizeof(gm_bq8);
    case GM_TYPE_Q4_K: case GM_TYPE_Q5_K: case GM_TYPE_Q6_K: case GM_TYPE_Q2_K: case GM_TYPE_Q3_K:
    case GM_TYPE_IQ4_XS: return sizeof(gm_bq8k);
    default: return 0;
    }
}

/* ---- packed (row-interleaved) matrices --------------------------------------- */

bool gm_qpack_type(gm_type t)
{
    return t == GM_TYPE_Q8_0 || t == GM_TYPE_Q4_0 || t == GM_TYPE_Q5_0 || t == GM_TYPE_Q5_1 || t == GM_TYPE_Q4_K ||
           t == GM_TYPE_Q5_K || t == GM_TYPE_Q6_K;
}

/* Where byte i of row r's block goes in a packed group, given the block's
 * quant (qo) and scale (so) offsets: the one map pack and unpack share. */
static size_t qpack_pos(gm_type t, int r, size_t i, size_t qo, size_t so)
{
    size_t rr = (size_t)r;
    switch (t) {
    case GM_TYPE_Q8_0: case GM_TYPE_Q4_0:
        if (i < 2) return so + 2 * rr + i;
        i -= 2;
        return qo + 64 * (i / 4) + 4 * rr + i % 4;
    case GM_TYPE_Q5_0: case GM_TYPE_Q5_1: {
        size_t hdr = t == GM_TYPE_Q5_1 ? 4 : 2;                         /* d (, m), then qh, qs */
        if (i < hdr) return so + 32 * (i / 2) + 2 * rr + i % 2;
        i -= hdr;
        if (i < 4) return qo + 256 + 4 * rr + i;
        i -= 4;
        return qo + 64 * (i / 4) + 4 * rr + i % 4;
    }
    case GM_TYPE_Q4_K: case GM_TYPE_Q5_K:
        if (i < 4) return so + 32 * (i / 2) + 2 * rr + i % 2;          /* d, dmin */
        if (i < 16) { i -= 4; return so + 64 + 64 * (i / 4) + 4 * rr + i % 4; }
        i -= 16;
        if (t == GM_TYPE_Q5_K) {                                        /* qh after all of qs */
            if (i < 32) return qo + 2048 + 64 * (i / 4) + 4 * rr + i % 4;
            i -= 32;
        }
        return qo + 64 * (i / 4) + 4 * rr + i % 4;
    default:                                                            /* Q6_K: ql, qh, scales, d */
        if (i < 192) return qo + 64 * (i / 4) + 4 * rr + i % 4;
        if (i < 208) { i -= 192; return so + 32 * (i / 2) + 2 * rr + i % 2; }    /* scale pairs per row */
        return so + 256 + 2 * rr + (i - 208);
    }
}

/* Whether byte i of a block is a Q8_0 quant (stored plus 128 when packed). */
static bool qpack_flip(gm_type t, size_t i) { return t == GM_TYPE_Q8_0 && i >= 2; }

void gm_qpack_group(gm_type t, int64_t nb, const void *rows, size_t row_bytes, void *dst)
{
    /* qpack_pos is affine in the row (a 2- or 4-byte step per row), so each
     * block's map is worked out for rows 0 and 1 only, not per byte of all 16
     * rows: repacking a GGUF file at load ran the switch 16 times per byte. */
    size_t bb = gm_type_block_bytes(t), pos0[sizeof(gm_block_q6_K)], step[sizeof(gm_block_q6_K)];
    unsigned char flip[sizeof(gm_block_q6_K)];
    unsigned char *out = dst;
    for (size_t i = 0; i < bb; i++) flip[i] = qpack_flip(t, i) ? 0x80 : 0;
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(t, nb, b, &qo, &so);
        for (size_t i = 0; i < bb; i++) {
            pos0[i] = qpack_pos(t, 0, i, qo, so);
            step[i] = qpack_pos(t, 1, i, qo, so) - pos0[i];
        }
        for (int r = 0; r < GM_QP_ROWS; r++) {
            const unsigned char *blk = (const unsigned char *)rows + (size_t)r * row_bytes + (size_t)b * bb;
            for (size_t i = 0; i < bb; i++) out[pos0[i] + (size_t)r * step[i]] = (unsigned char)(blk[i] ^ flip[i]);
        }
    }
}

void gm_qunpack_block(gm_type t, int64_t nb, const void *group, int r, int64_t b, void *dst)
{
    size_t bb = gm_type_block_bytes(t), qo, so;
    const unsigned char *g = group;
    unsigned char *o = dst;
    gm_qp_offsets(t, nb, b, &qo, &so);
    for (size_t i = 0; i < bb; i++) o[i] = (unsigned char)(g[qpack_pos(t, r, i, qo, so)] ^ (qpack_flip(t, i) ? 0x80 : 0));
}

void gm_qunpack_row(gm_type t, int64_t nb, const void *group, int r, void *dst)
{
    size_t bb = gm_type_block_bytes(t);
    for (int64_t b = 0; b < nb; b++) gm_qunpack_block(t, nb, group, r, b, (unsigned char *)dst + (size_t)b * bb);
}

/* A run of a packed Q4_0 group as a Q8_0 group: each 64-byte quant row k
 * holds 4 nibble pairs of 16 rows; its low nibbles (elements 4k..4k+3)
 * become Q8_0 row k and its high ones (16+4k..) row k + 4, as the unsigned
 * bytes 0..15; the f16 scales are copied. */
void gm_qprep_q4_0_portable(int64_t nb, const void *group, void *dst)
{
    const unsigned char *g = group;
    unsigned char *d = dst;
    for (int64_t b = 0; b < nb; b++) {
        size_t qi, si, qo, so;
        gm_qp_offsets(GM_TYPE_Q4_0, nb, b, &qi, &si);
        gm_qp_offsets(GM_TYPE_Q8_0, nb, b, &qo, &so);
        for (int i = 0; i < 256; i++) {
            d[qo + (size_t)i] = g[qi + (size_t)i] & 0x0F;
            d[qo + 256 + (size_t)i] = g[qi + (size_t)i] >> 4;
        }
        memcpy(d + so, g + si, 32);
    }
}

/* A run of a packed Q5_0 or Q5_1 group as a Q8_0 group: quant row k of
 * the result holds elements 4k..4k+3 of the 16 rows as bytes 0..31, the
 * nibble (low nibbles of quant row k for k < 4, high ones of row k - 4)
 * with bit 4k + i of the row's qh dword as bit 4; the d scales are copied
 * and, for Q5_1, the m scales follow the nb blocks, 16 f16 per block. */
void gm_qprep_q5_portable(gm_type t, int64_t nb, const void *group, void *dst)
{
    const unsigned char *g = group;
    unsigned char *d = dst;
    for (int64_t b = 0; b < nb; b++) {
        size_t qi, si, qo, so;
        gm_qp_offsets(t, nb, b, &qi, &si);
        gm_qp_offsets(GM_TYPE_Q8_0, nb, b, &qo, &so);
        for (int r = 0; r < GM_QP_ROWS; r++) {
            uint32_t qh;
            memcpy(&qh, g + qi + 256 + 4 * (size_t)r, 4);
            for (int k = 0; k < 8; k++)
                for (int i = 0; i < 4; i++) {
                    unsigned v = g[qi + 64 * (size_t)(k & 3) + 4 * (size_t)r + (size_t)i];
                    unsigned nib = k < 4 ? v & 0x0F : v >> 4;
                    d[qo + 64 * (size_t)k + 4 * (size_t)r + (size_t)i] = (unsigned char)(nib | ((qh >> (4 * k + i)) & 1) << 4);
                }
        }
        memcpy(d + so, g + si, 32);
        if (t == GM_TYPE_Q5_1) memcpy(d + gm_q5r_mins(nb, b), g + si + 32, 32);
    }
}

void gm_quantize_act_q8c_portable(gm_type t, const float *x, gm_bq8c *y, int64_t n)
{
    int32_t C = gm_q8c_offset(t);
    gm_quantize_act_q8_portable(t, x, (gm_bq8 *)y, n);     /* same layout; sum becomes c below */
    for (int64_t b = 0; b < n / GM_QK; b++) y[b].c = -C * y[b].c;
}

void gm_quantize_act_q8c(gm_type t, const float *x, gm_bq8c *y, int64_t n)
{
#if defined(__x86_64__)
    if (gm_qisa_best() == GM_QISA_AVX512) { gm_quantize_act_q8c_avx512(t, x, y, n); return; }
#endif
    gm_quantize_act_q8c_portable(t, x, y, n);
}

/* ---- dispatch ---------------------------------------------------------------- */

int gm_quantize_row(gm_type t, const float *x, void *dst, int64_t n)
{
    if (gm_type_row_bytes(t, n) == 0 && n > 0) return -1;
    switch (t) {
    case GM_TYPE_F32: memcpy(dst, x, (size_t)n * 4); return 0;
    case GM_TYPE_F16: gm_vec_f32_to_f16(dst, x, n); return 0;   /* gm_f32_to_f16's bits in every kernel family */
    case GM_TYPE_BF16: for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = gm_f32_to_bf16(x[i]); return 0;
    case GM_TYPE_Q8_0: quantize_q8_0(x, dst, n); return 0;
    case GM_TYPE_Q4_0: quantize_q4_0(x, dst, n); return 0;
    case GM_TYPE_Q5_0: quantize_q5_0(x, dst, n); return 0;
    case GM_TYPE_Q5_1: quantize_q5_1(x, dst, n); return 0;
    case GM_TYPE_Q4_K: quantize_q4_K(x, dst, n); return 0;
    case GM_TYPE_Q5_K: quantize_q5_K(x, dst, n); return 0;
    case GM_TYPE_Q6_K: quantize_q6_K(x, dst, n); return 0;
    default: return gm_quantize_extra(t, x, dst, n);   /* the formats read in place, or -1 */
    }
}

int gm_dequantize_row(gm_type t, const void *src, float *y, int64_t n)
{
    if (gm_type_row_bytes(t, n) == 0 && n > 0) return -1;
    switch (t) {
    case GM_TYPE_F32: memcpy(y, src, (size_t)n * 4); return 0;
    case GM_TYPE_F16: gm_vec_f16_to_f32(y, src, n); return 0;   /* exact in every kernel family */
    case GM_TYPE_BF16:   /* inline (not gm_bf16_to_f32) so the loop vectorizes: every load at --quant comes here */
        for (int64_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)((const uint16_t *)src)[i] << 16;
            memcpy(y + i, &u, 4);
        }
        return 0;
    case GM_TYPE_Q8_0: dequantize_q8_0(src, y, n); return 0;
    case GM_TYPE_Q4_0: dequantize_q4_0(src, y, n); return 0;
    case GM_TYPE_Q5_0: dequantize_q5_0(src, y, n); return 0;
    case GM_TYPE_Q5_1: dequantize_q5_1(src, y, n); return 0;
    case GM_TYPE_Q4_K: dequantize_q4_K(src, y, n); return 0;
    case GM_TYPE_Q5_K: dequantize_q5_K(src, y, n); return 0;
    case GM_TYPE_Q6_K: dequantize_q6_K(src, y, n); return 0;
    default: return gm_dequantize_extra(t, src, y, n);
    }
}
