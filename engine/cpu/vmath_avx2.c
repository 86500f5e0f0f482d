/* vmath_avx2.c: vmath.c's element-wise functions, 8 lanes at a time, by
 * the method of vmath_avx512.c.  AVX2 has no scalef, so 2^k is built in
 * the exponent bits, which holds for k in [-126, 127]: exp8()'s callers
 * keep x within [-87.3, 88].  Tails go through a small buffer (AVX2's masked
 * moves fault on nothing, but a plain copy is simpler to read). */
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include "mm_impl.h"

#define AI static inline __attribute__((always_inline))

/* e^x for x in [-87, 88]. */
AI __m256 exp8(__m256 x)
{
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i ki = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(ki));
}

/* 8 floats from p, or the first left of them and fill after (left < 8). */
AI __m256 load8(const float *p, int64_t left, float fill)
{
    if (left >= 8) return _mm256_loadu_ps(p);
    float t[8];
    for (int l = 0; l < 8; l++) t[l] = l < left ? p[l] : fill;
    return _mm256_loadu_ps(t);
}

/* Store the first left (<= 8) lanes of v at p. */
AI void store8(float *p, __m256 v, int64_t left)
{
    if (left >= 8) { _mm256_storeu_ps(p, v); return; }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (int l = 0; l < left; l++) p[l] = t[l];
}

/* RMS norm (see gm_vec_rmsnorm_avx512): 4 double chains of 4. */
void gm_vec_rmsnorm_avx2(float *y, const float *x, const float *w, int64_t n, float eps)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), b = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
        __m256d c = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 8)), d = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 12));
        s0 = _mm256_fmadd_pd(a, a, s0); s1 = _mm256_fmadd_pd(b, b, s1);
        s2 = _mm256_fmadd_pd(c, c, s2); s3 = _mm256_fmadd_pd(d, d, s3);
    }
    double st[4], ss = 0;
    _mm256_storeu_pd(st, _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
    for (; i < n; i++) ss += (double)x[i] * x[i];
    ss += (st[0] + st[1]) + (st[2] + st[3]);
    const __m256 r = _mm256_set1_ps((float)(1.0 / sqrt(ss / (double)n + eps)));
    for (i = 0; i < n; i += 8) {
        __m256 v = _mm256_mul_ps(load8(x + i, n - i, 0.0f), r);
        if (w) v = _mm256_mul_ps(v, load8(w + i, n - i, 0.0f));
        store8(y + i, v, n - i);
    }
}

/* The final softcap (see gm_vec_softcap_avx512). */
void gm_vec_softcap_avx2(float *x, int64_t n, float cap)
{
    const __m256 vcap = _mm256_set1_ps(cap), icap = _mm256_set1_ps(1.0f / cap), one = _mm256_set1_ps(1.0f);
    const __m256 lim = _mm256_set1_ps(9.0f), two = _mm256_set1_ps(2.0f);
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    for (int64_t i = 0; i < n; i += 8) {
        __m256 u = _mm256_mul_ps(load8(x + i, n - i, 0.0f), icap);
        __m256 a = _mm256_min_ps(_mm256_andnot_ps(sign, u), lim);
        __m256 big = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(exp8(_mm256_mul_ps(a, two)), one)));
        __m256 s2 = _mm256_mul_ps(a, a);
        __m256 q = _mm256_set1_ps(-5.70498872745e-3f);
        q = _mm256_fmadd_ps(q, s2, _mm256_set1_ps(2.06390887954e-2f));
        q = _mm256_fmadd_ps(q, s2, _mm256_set1_ps(-5.37397155531e-2f));
        q = _mm256_fmadd_ps(q, s2, _mm256_set1_ps(1.33314422036e-1f));
        q = _mm256_fmadd_ps(q, s2, _mm256_set1_ps(-3.33332819422e-1f));
        __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(q, s2), a, a);
        __m256 t = _mm256_blendv_ps(big, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
        store8(x + i, _mm256_mul_ps(vcap, _mm256_or_ps(t, _mm256_and_ps(u, sign))), n - i);
    }
}

/* out = gelu(g) * u (see gm_vec_geglu_avx512); exponent clamped below at -87. */
void gm_vec_geglu_avx2(float *out, const float *g, const float *u, int64_t n)
{
    const __m256 k2 = _mm256_set1_ps(-2.0f * 0.7978845608028654f), c3 = _mm256_set1_ps(0.044715f);
    const __m256 lo = _mm256_set1_ps(-87.0f), hi = _mm256_set1_ps(88.0f), one = _mm256_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 8) {
        __m256 x = load8(g + i, n - i, 0.0f);
        __m256 z = _mm256_mul_ps(k2, _mm256_fmadd_ps(_mm256_mul_ps(c3, x), _mm256_mul_ps(x, x), x));
        __m256 live = _mm256_cmp_ps(z, hi, _CMP_NGT_UQ);
        z = _mm256_min_ps(hi, _mm256_max_ps(lo, z));   /* NaN stays NaN */
        __m256 y = _mm256_and_ps(live, _mm256_div_ps(x, _mm256_add_ps(one, exp8(z))));
        store8(out + i, _mm256_mul_ps(y, load8(u + i, n - i, 0.0f)), n - i);
    }
}

/* Softmax in place (see gm_vec_softmax_avx512). */
void gm_vec_softmax_avx2(float *x, int64_t n)
{
    if (n <= 0) return;
    __m256 mv = _mm256_set1_ps(-__builtin_inff());
    for (int64_t i = 0; i < n; i += 8) mv = _mm256_max_ps(mv, load8(x + i, n - i, -__builtin_inff()));
    float mt[8];
    _mm256_storeu_ps(mt, mv);
    float mx = mt[0];
    for (int l = 1; l < 8; l++) if (mt[l] > mx) mx = mt[l];
    const __m256 vmx = _mm256_set1_ps(mx), floor = _mm256_set1_ps(-87.3f);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (int64_t i = 0; i < n; i += 8) {
        __m256 d = _mm256_sub_ps(load8(x + i, n - i, -__builtin_inff()), vmx);
        __m256 e = _mm256_and_ps(exp8(_mm256_max_ps(floor, d)), _mm256_cmp_ps(d, floor, _CMP_NLT_UQ));
        store8(x + i, e, n - i);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double st[4];
    _mm256_storeu_pd(st, _mm256_add_pd(s0, s1));
    const __m256 inv = _mm256_set1_ps((float)(1.0 / ((st[0] + st[1]) + (st[2] + st[3]))));
    const __m256 tiny = _mm256_set1_ps(1.17549435e-38f);
    for (int64_t i = 0; i < n; i += 8) {
        __m256 p = _mm256_mul_ps(load8(x + i, n - i, 0.0f), inv);
        store8(x + i, _mm256_and_ps(p, _mm256_cmp_ps(p, tiny, _CMP_NLT_UQ)), n - i);
    }
}
#endif
