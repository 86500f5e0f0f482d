/* vmath.c: math over whole vectors (GeGLU, attention softmax, RMS norm,
 * final softcap) in portable C; matmul.c's family table dispatches them.
 *
 * They run on every element of the MLP width, every attention score, every
 * row of every layer and every logit, so the SIMD families vectorise them
 * around one shared exp approximation (vmath_avx2.c, vmath_avx512.c).  The
 * C versions here use libm and are the definition the SIMD ones are tested
 * against. */
#include <math.h>
#include "mm_impl.h"

/* Softmax weights below FLT_MIN are stored as 0.  Subnormal floats make
 * every multiply-add they touch take a microcode assist (tens of times
 * slower); peaked attention over a long context yields thousands of them
 * per row.  A weight that small changes no output by more than 1e-38. */
static inline float flush_tiny(float p) { return p < 1.17549435e-38f ? 0.0f : p; }

/* exp(d) for d = score - max <= 0, as 0 where the result would be subnormal
 * (d < -87.3), for the same reason. */
static inline float softmax_exp(float d) { return d < -87.3f ? 0.0f : expf(d); }

/* tanh-approximated GELU, written as x * sigmoid(2u) = 0.5x(1 + tanh(u)):
 * one expf instead of a tanhf, which is several times cheaper. */
static inline float gelu(float x)
{
    const float k2 = 2.0f * 0.7978845608028654f;    /* 2 sqrt(2/pi) */
    float u2 = k2 * (x + 0.044715f * x * x * x);
    return x / (1.0f + expf(-u2));
}

/* y = x * r * w (or x * r), r = 1 / sqrt(mean(x^2) + eps), the sum of
 * squares in double in index order. */
void gm_vec_rmsnorm_scalar(float *y, const float *x, const float *w, int64_t n, float eps)
{
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float r = (float)(1.0 / sqrt(ss / (double)n + eps));
    if (w) for (int64_t i = 0; i < n; i++) y[i] = x[i] * r * w[i];
    else for (int64_t i = 0; i < n; i++) y[i] = x[i] * r;
}

/* cap * tanh(x / cap) with libm. */
void gm_vec_softcap_scalar(float *x, int64_t n, float cap)
{
    for (int64_t i = 0; i < n; i++) x[i] = cap * tanhf(x[i] / cap);
}

/* out = gelu(g) * u. */
void gm_vec_geglu_scalar(float *out, const float *g, const float *u, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] = gelu(g[i]) * u[i];
}

/* Softmax with the sum in double and subnormal weights stored as 0. */
void gm_vec_softmax_scalar(float *x, int64_t n)
{
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) if (x[i] > mx) mx = x[i];
    double sum = 0;
    for (int64_t i = 0; i < n; i++) { x[i] = softmax_exp(x[i] - mx); sum += x[i]; }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] = flush_tiny(x[i] * inv);
}
