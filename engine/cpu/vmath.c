/* vmath.c: element-wise math over whole vectors (GeGLU, attention softmax,
 * final softcap) in portable C; matmul.c's family table dispatches them.
 *
 * These run on every element of the MLP width, every attention score and
 * every logit, and the RMS norm on every row of every layer, so in the SIMD families they are vectorised with one shared
 * exp approximation (vmath_avx2.c, vmath_avx512.c).  The C versions here
 * use libm and are the definition the SIMD ones are tested against. */
#include <math.h>
#include "mm_impl.h"
#include "ops.h"

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

/* out = gelu(g) * u with ops.h's gelu. */
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
    for (int64_t i = 0; i < n; i++) { x[i] = gm_softmax_exp(x[i] - mx); sum += x[i]; }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] = gm_flush_tiny(x[i] * inv);
}
