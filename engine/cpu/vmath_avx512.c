/* vmath_avx512.c: vmath.c's element-wise functions, 16 lanes at a time.
 *
 * All of them rest on exp16(): e^x = 2^k * e^r with k = round(x / ln 2),
 * r = x - k ln 2 (ln 2 in two parts, so r is exact to float precision),
 * e^r from the degree-7 minimax polynomial of Cephes' expf, and 2^k applied
 * with scalef.  Within 2 ulp of libm's expf over the ranges used here. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include "mm_impl.h"

#define AI static inline __attribute__((always_inline))

/* Lanes [0, n) of a 16-lane step as a mask. */
AI __mmask16 lanes(int64_t n) { return (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u); }

/* e^x for x in [-88, 88] (callers clamp or mask outside it). */
AI __m512 exp16(__m512 x)
{
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, k);
}

/* RMS norm: squares summed in double, 4 chains of 8 (fixed order), then
 * y = (x * r) * w elementwise as in the C version. */
void gm_vec_rmsnorm_avx512(float *y, const float *x, const float *w, int64_t n, float eps)
{
    __m512d s0 = _mm512_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512d a = _mm512_cvtps_pd(_mm256_loadu_ps(x + i)), b = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8));
        __m512d c = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 16)), d = _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 24));
        s0 = _mm512_fmadd_pd(a, a, s0); s1 = _mm512_fmadd_pd(b, b, s1);
        s2 = _mm512_fmadd_pd(c, c, s2); s3 = _mm512_fmadd_pd(d, d, s3);
    }
    for (; i < n; i += 8) {
        __m512d a = _mm512_cvtps_pd(_mm256_maskz_loadu_ps((__mmask8)(n - i >= 8 ? 0xff : (1u << (n - i)) - 1u), x + i));
        s0 = _mm512_fmadd_pd(a, a, s0);
    }
    double ss = _mm512_reduce_add_pd(_mm512_add_pd(_mm512_add_pd(s0, s1), _mm512_add_pd(s2, s3)));
    const __m512 r = _mm512_set1_ps((float)(1.0 / sqrt(ss / (double)n + eps)));
    for (i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), r);
        if (w) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

/* x[i] = cap * tanh(x[i] / cap) over a logits row: the final softcap runs on
 * every vocabulary entry of every verified token, so libm's tanhf (one call
 * per logit) cost more than the LM head's compute in a speculative pass.
 * tanh(a) is an odd polynomial for |a| < 0.625 and 1 - 2/(e^2a + 1) above;
 * within a few ulp of tanhf. */
void gm_vec_softcap_avx512(float *x, int64_t n, float cap)
{
    const __m512 vcap = _mm512_set1_ps(cap), icap = _mm512_set1_ps(1.0f / cap), one = _mm512_set1_ps(1.0f);
    const __m512 lim = _mm512_set1_ps(9.0f), two = _mm512_set1_ps(2.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        __m512 u = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), icap);
        __m512 a = _mm512_min_ps(_mm512_abs_ps(u), lim);
        __m512 big = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(exp16(_mm512_mul_ps(a, two)), one)));
        __m512 s2 = _mm512_mul_ps(a, a);
        __m512 q = _mm512_set1_ps(-5.70498872745e-3f);
        q = _mm512_fmadd_ps(q, s2, _mm512_set1_ps(2.06390887954e-2f));
        q = _mm512_fmadd_ps(q, s2, _mm512_set1_ps(-5.37397155531e-2f));
        q = _mm512_fmadd_ps(q, s2, _mm512_set1_ps(1.33314422036e-1f));
        q = _mm512_fmadd_ps(q, s2, _mm512_set1_ps(-3.33332819422e-1f));
        __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(q, s2), a, a);
        __m512 t = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(0.625f), _CMP_LT_OQ), big, small);
        t = _mm512_or_ps(t, _mm512_and_ps(u, _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u))));
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(vcap, t));
    }
}

/* out = gelu(g) * u, gelu(x) = x / (1 + e^(-2 sqrt(2/pi) (x + 0.044715 x^3)))
 * as in ops.h.  An exponent below -88 is clamped (the quotient is x to
 * float precision); above 88 the result is 0 (it is below 1e-37 in
 * magnitude, and the cube would overflow for huge x).  out may be g. */
void gm_vec_geglu_avx512(float *out, const float *g, const float *u, int64_t n)
{
    const __m512 k2 = _mm512_set1_ps(-2.0f * 0.7978845608028654f), c3 = _mm512_set1_ps(0.044715f);
    const __m512 lo = _mm512_set1_ps(-88.0f), hi = _mm512_set1_ps(88.0f), one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        __m512 x = _mm512_maskz_loadu_ps(m, g + i);
        __m512 z = _mm512_mul_ps(k2, _mm512_fmadd_ps(_mm512_mul_ps(c3, x), _mm512_mul_ps(x, x), x));
        __mmask16 live = _mm512_cmp_ps_mask(z, hi, _CMP_NGT_UQ);   /* above: x e^-z < 1e-37 */
        z = _mm512_min_ps(hi, _mm512_max_ps(lo, z));   /* NaN stays NaN */
        __m512 y = _mm512_maskz_div_ps(live, x, _mm512_add_ps(one, exp16(z)));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(y, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

/* Softmax in place: max, then e^(x - max) with the sum in double (exactly
 * as many terms as a long context has), then the scale; weights whose
 * exponent is below -87.3 or that scale below FLT_MIN are stored as 0,
 * since subnormals make every later FMA on them take a microcode assist. */
void gm_vec_softmax_avx512(float *x, int64_t n)
{
    if (n <= 0) return;
    __m512 mv = _mm512_set1_ps(-__builtin_inff());
    for (int64_t i = 0; i < n; i += 16) mv = _mm512_max_ps(mv, _mm512_mask_loadu_ps(mv, lanes(n - i), x + i));
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(mv)), floor = _mm512_set1_ps(-87.3f);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mx);
        __mmask16 keep = _mm512_mask_cmp_ps_mask(m, d, floor, _CMP_NLT_UQ);
        __m512 e = _mm512_maskz_mov_ps(keep, exp16(_mm512_max_ps(floor, d)));   /* NaN stays NaN */
        _mm512_mask_storeu_ps(x + i, m, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
    const __m512 tiny = _mm512_set1_ps(1.17549435e-38f);
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 m = lanes(n - i);
        __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv);
        _mm512_mask_storeu_ps(x + i, m, _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(p, tiny, _CMP_NLT_UQ), p));
    }
}
#endif
