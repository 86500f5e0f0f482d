/* test_vmath.c: the element-wise vector functions of every kernel family
 * this CPU runs (final softcap, GeGLU, attention softmax) against float64
 * references written from their definitions; also the RMS norm.  Each family must stay within
 * a few ulp, keep NaN as NaN, never write past n, and never return a
 * subnormal softmax weight. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kernels.h"
#include "cpu/mm_impl.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

/* xorshift: a uniform float in [-1, 1). */
static float frand(void)
{
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

/* Distance in float steps between two finite floats. */
static int64_t ulp_dist(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0) ia = (int32_t)(0x80000000u - (uint32_t)ia);
    if (ib < 0) ib = (int32_t)(0x80000000u - (uint32_t)ib);
    return ia > ib ? (int64_t)ia - ib : (int64_t)ib - ia;
}

/* ulp distance, with values both within `tiny` of zero counted as equal. */
static int64_t dist(float got, double ref, float tiny)
{
    if (isnan(ref)) return isnan(got) ? 0 : 1 << 30;
    if (fabs(ref) < tiny) return fabsf(got - (float)ref) <= tiny ? 0 : 1 << 30;
    return ulp_dist(got, (float)ref);
}

typedef void (*cap_fn)(float *, int64_t, float);
typedef void (*geglu_fn)(float *, const float *, const float *, int64_t);
typedef void (*softmax_fn)(float *, int64_t);
typedef void (*rmsnorm_fn)(float *, const float *, const float *, int64_t, float);
static cap_fn CAP[GM_ISA_COUNT] = { gm_vec_softcap_scalar };
static geglu_fn GEGLU[GM_ISA_COUNT] = { gm_vec_geglu_scalar };
static softmax_fn SOFTMAX[GM_ISA_COUNT] = { gm_vec_softmax_scalar };
static rmsnorm_fn RMSNORM[GM_ISA_COUNT] = { gm_vec_rmsnorm_scalar };
typedef void (*h2f_fn)(float *, const uint16_t *, int64_t);
static h2f_fn H2F[GM_ISA_COUNT];
typedef void (*f2h_fn)(uint16_t *, const float *, int64_t);
static f2h_fn F2H[GM_ISA_COUNT];

/* The final-logit softcap against cap * tanh(x / cap): at most 4 ulp (or
 * 1e-30 absolute near zero), over random logits, the polynomial/exponential
 * switch at |x| = 0.625 cap, saturation, signed zeros, every tail length. */
static void check_softcap(int isa)
{
    enum { N = 4096 };
    static float x0[N], x[N];
    const float cap = 30.0f;
    for (int i = 0; i < N; i++) x0[i] = frand() * (i % 3 == 0 ? 400.0f : i % 3 == 1 ? 40.0f : 0.5f);
    const float special[] = { 0.0f, -0.0f, 1e-30f, -1e-20f, 18.75f, -18.75f, 18.7499981f, 18.7500019f,
                              270.0f, -270.0f, 1e6f, -1e30f, 0.001f, 29.0f, -31.0f };
    memcpy(x0, special, sizeof special);
    memcpy(x, x0, sizeof x);
    CAP[isa](x, N, cap);
    int64_t worst = 0;
    int worst_i = 0;
    for (int i = 0; i < N; i++) {
        int64_t d = dist(x[i], cap * tanh((double)x0[i] / cap), 1e-30f);
        if (d > worst) { worst = d; worst_i = i; }
    }
    int kept = 1;
    for (int n = 0; n <= 40; n++) {
        memcpy(x, x0, sizeof x);
        CAP[isa](x, n, cap);
        for (int i = n; i < 64; i++) kept &= memcmp(&x[i], &x0[i], 4) == 0;
    }
    CHECK(worst <= 4 && kept, "%s softcap: worst %lld ulp from cap*tanh(x/cap) (x = %g), nothing past n written (%s)",
          gm_isa_name((gm_isa)isa), (long long)worst, (double)x0[worst_i], kept ? "yes" : "NO");
}

/* gelu_tanh(x) * u in float64: 0.5 x (1 + tanh(a)) written as
 * x / (1 + e^-2a), which does not cancel for large negative x. */
static double geglu_ref(float x, float u)
{
    double xd = x, a = sqrt(2.0 / M_PI) * (xd + 0.044715 * xd * xd * xd);
    return xd / (1.0 + exp(-2.0 * a)) * u;
}

/* GeGLU against float64 over gate values from -100 to 100 (both clamps of
 * the exponent), in place and out of place, every tail length, NaN kept.
 * Tolerance: 8 ulp, plus what rounding the exponent a to float costs,
 * |a| * 2^-22 relative (the result is x e^-|2a| for negative x: a small
 * value whose relative error grows with |a|), or 1e-30 absolute near 0. */
static void check_geglu(int isa)
{
    enum { N = 4096 };
    static float g[N], u[N], out[N], ref_in[N];
    for (int i = 0; i < N; i++) {
        g[i] = frand() * (i % 4 == 0 ? 100.0f : i % 4 == 1 ? 8.0f : i % 4 == 2 ? 1.0f : 0.01f);
        u[i] = frand() * 4.0f;
    }
    const float special[] = { 0.0f, -0.0f, 1e-30f, -9.0f, -10.0f, -12.0f, -30.0f, 30.0f, 88.0f, -88.0f, 1e30f, -1e30f, NAN };
    memcpy(g, special, sizeof special);
    for (int i = 0; i < (int)(sizeof special / sizeof special[0]); i++) u[i] = 1.5f;
    memcpy(ref_in, g, sizeof g);
    GEGLU[isa](out, g, u, N);
    double worst = 0;
    int worst_i = 0;
    for (int i = 0; i < N; i++) {
        double ref = geglu_ref(g[i], u[i]), a = 1.5957691216057308 * fabs((double)g[i] + 0.044715 * g[i] * g[i] * g[i]);
        double err;
        if (isnan(ref) || isnan(out[i])) err = isnan(ref) && isnan(out[i]) ? 0 : 1e9;
        else if (fabs(ref) < 1e-30) err = fabs(out[i] - ref) <= 1e-30 ? 0 : 1e9;
        else err = fabs(out[i] - ref) / (fabs(ref) * (8.0 * 5.96e-8 + (a < 1e6 ? a : 1e6) * 2.4e-7));
        if (err > worst) { worst = err; worst_i = i; }
    }
    GEGLU[isa](g, g, u, N);     /* in place: the same values */
    int same = memcmp(g, out, sizeof g) == 0;
    memcpy(g, ref_in, sizeof g);
    int kept = 1;
    for (int n = 0; n <= 40; n++) {
        for (int i = 0; i < 64; i++) out[i] = 7.0f;
        GEGLU[isa](out, g, u, n);
        for (int i = n; i < 64; i++) kept &= out[i] == 7.0f;
    }
    CHECK(worst <= 1.0 && same && kept,
          "%s geglu: worst error %.2f of the tolerance against float64 (g = %g); in place same bits (%s); "
          "nothing past n written (%s)", gm_isa_name((gm_isa)isa), worst, (double)ref_in[worst_i],
          same ? "yes" : "NO", kept ? "yes" : "NO");
}

/* Softmax rows of many lengths and spreads: each weight within 4 ulp of
 * the float64 softmax (or within 2e-38 near the flush threshold), no
 * subnormal weight, sums within 1e-6 of 1, -inf scores give 0, a NaN score
 * makes the row NaN, nothing past n written. */
static void check_softmax(int isa)
{
    enum { N = 3000 };
    static float x0[N], x[N];
    static const int lens[] = { 1, 2, 7, 15, 16, 17, 31, 33, 100, 513, 3000 };
    static const float spread[] = { 0.1f, 5.0f, 40.0f, 200.0f };
    int64_t worst = 0;
    int subnormal = 0, kept = 1, sums = 1, neginf = 1;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t si = 0; si < sizeof spread / sizeof spread[0]; si++) {
            int n = lens[li];
            for (int i = 0; i < N; i++) x0[i] = frand() * spread[si] + 3.0f;
            if (n > 3) x0[n / 2] = -INFINITY;
            memcpy(x, x0, sizeof x);
            SOFTMAX[isa](x, n);
            double mx = -INFINITY, sum = 0, got = 0;
            for (int i = 0; i < n; i++) if (x0[i] > mx) mx = x0[i];
            /* the exponent is the float difference, as every family computes it */
            for (int i = 0; i < n; i++) sum += exp((double)(float)(x0[i] - (float)mx));
            for (int i = 0; i < n; i++) {
                double ref = exp((double)(float)(x0[i] - (float)mx)) / sum;
                int64_t d = dist(x[i], ref, 2e-38f);
                if (d > worst) worst = d;
                if (x[i] != 0.0f && fabsf(x[i]) < 1.17549435e-38f) subnormal++;
                got += x[i];
            }
            if (n > 3) neginf &= x[n / 2] == 0.0f;
            sums &= fabs(got - 1.0) < 1e-6;
            for (int i = n; i < N && i < n + 40; i++) kept &= memcmp(&x[i], &x0[i], 4) == 0;
        }
    for (int i = 0; i < 40; i++) x0[i] = frand();
    x0[17] = NAN;
    memcpy(x, x0, sizeof x);
    SOFTMAX[isa](x, 40);
    int nan_row = 1;
    for (int i = 0; i < 40; i++) nan_row &= isnan(x[i]);
    CHECK(worst <= 4 && !subnormal && sums && neginf && nan_row && kept,
          "%s softmax: worst %lld ulp from float64; %d subnormal weights; sums 1 (%s); -inf -> 0 (%s); "
          "NaN spreads (%s); nothing past n written (%s)", gm_isa_name((gm_isa)isa), (long long)worst, subnormal,
          sums ? "yes" : "NO", neginf ? "yes" : "NO", nan_row ? "yes" : "NO", kept ? "yes" : "NO");
}

/* RMS norm against float64 (within 3 ulp), with and without a weight,
 * lengths 1..300 and 1536/2048 (every tail), rows of large and tiny
 * values, in place the same bits, nothing past n written. */
static void check_rmsnorm(int isa)
{
    enum { N = 2100 };
    static float x[N], w[N], y[N], z[N];
    static const int lens[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 100, 255, 256, 300, 1536, 2048 };
    static const float scale[] = { 1.0f, 1e-12f, 3e4f };
    int64_t worst = 0;
    int same = 1, kept = 1;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t si = 0; si < 3; si++)
            for (int wi = 0; wi < 2; wi++) {
                int n = lens[li];
                for (int i = 0; i < N; i++) { x[i] = frand() * scale[si]; w[i] = 1.0f + frand(); y[i] = 5.0f; }
                const float *wp = wi ? w : NULL;
                RMSNORM[isa](y, x, wp, n, 1e-6f);
                double ss = 0;
                for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
                double r = 1.0 / sqrt(ss / n + 1e-6);
                for (int i = 0; i < n; i++) {
                    int64_t d = dist(y[i], (double)x[i] * r * (wp ? wp[i] : 1.0), 1e-30f);
                    if (d > worst) worst = d;
                }
                for (int i = n; i < n + 20 && i < N; i++) kept &= y[i] == 5.0f;
                memcpy(z, x, sizeof z);
                RMSNORM[isa](z, z, wp, n, 1e-6f);
                same &= memcmp(z, y, (size_t)n * 4) == 0;
            }
    CHECK(worst <= 3 && same && kept, "%s rmsnorm: worst %lld ulp from float64; in place same bits (%s); "
          "nothing past n written (%s)", gm_isa_name((gm_isa)isa), (long long)worst, same ? "yes" : "NO", kept ? "yes" : "NO");
}

/* Half to float (the f16 KV cache's reads): all 65536 halves, every
 * length up to 40 (the masked tails), and nothing written past n. */
static void check_h2f(int isa)
{
    static uint16_t h[65536 + 64];
    static float y[65536 + 64];
    for (int i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    for (int i = 0; i < 64; i++) y[65536 + i] = -7.0f;
    H2F[isa](y, h, 65536);
    long bad = 0;
    for (int i = 0; i < 65536; i++) {
        float want = gm_f16_to_f32((uint16_t)i);
        if (isnan(want) ? !isnan(y[i]) : memcmp(&want, &y[i], 4) != 0) bad++;
    }
    int kept = y[65536] == -7.0f, tails = 1;
    for (int n = 0; n <= 40; n++) {
        float z[48];
        for (int i = 0; i < 48; i++) z[i] = -7.0f;
        H2F[isa](z, h + 15360, n);   /* 0x3c00.. : 1.0, then up */
        for (int i = 0; i < 48; i++) tails &= i < n ? z[i] == gm_f16_to_f32((uint16_t)(15360 + i)) : z[i] == -7.0f;
    }
    CHECK(bad == 0 && kept && tails, "%s half to float: %ld of 65536 values differ from the portable conversion; "
          "every length 0..40 exact, nothing past n written (%s)", gm_isa_name((gm_isa)isa), bad,
          kept && tails ? "yes" : "NO");
}

/* Float to half (the f16 KV cache's writes) against gm_f32_to_f16 bit for
 * bit: every half value, the midpoint above each (ties to even), random
 * floats over the whole half range and beyond (overflow to inf, subnormal
 * halves, underflow to zero), NaNs of both signs with payloads; every
 * length up to 40 and nothing written past n. */
static void check_f2h(int isa)
{
    enum { N = 3 * 65536 };
    static float x[N];
    static uint16_t y[N + 64];
    int n = 0;
    for (int i = 0; i < 65536; i++) {
        float a = gm_f16_to_f32((uint16_t)i), b = gm_f16_to_f32((uint16_t)(i + 1));
        x[n++] = a;
        if (!isnan(a) && !isnan(b) && !isinf(a) && !isinf(b) && (i & 0x7fff) != 0x7bff && (i & 0x7fff) != 0x7fff)
            x[n++] = a + (b - a) * 0.5f;                      /* the tie between two halves */
    }
    uint32_t nans[] = {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff812345u, 0x7fffffffu};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) memcpy(&x[n++], &nans[i], 4);
    while (n < N) {
        float r = frand();
        x[n] = r * ldexpf(1.0f, (n % 60) - 30);               /* 2^-30 .. 2^29 */
        n++;
    }
    for (int i = 0; i < 64; i++) y[N + i] = 0x1234;
    F2H[isa](y, x, N);
    long bad = 0;
    for (int i = 0; i < N; i++) bad += y[i] != gm_f32_to_f16(x[i]);
    int kept = y[N] == 0x1234, tails = 1;
    for (int m = 0; m <= 40; m++) {
        uint16_t z[48];
        for (int i = 0; i < 48; i++) z[i] = 0x1234;
        F2H[isa](z, x + 65530, m);
        for (int i = 0; i < 48; i++) tails &= i < m ? z[i] == gm_f32_to_f16(x[65530 + i]) : z[i] == 0x1234;
    }
    CHECK(bad == 0 && kept && tails, "%s float to half: %ld of %d values differ from gm_f32_to_f16; "
          "every length 0..40 exact, nothing past n written (%s)", gm_isa_name((gm_isa)isa), bad, N,
          kept && tails ? "yes" : "NO");
}

int main(void)
{
    H2F[GM_ISA_SCALAR] = gm_vec_h2f_scalar;
    F2H[GM_ISA_SCALAR] = gm_vec_f2h_scalar;
#if defined(__x86_64__)
    CAP[GM_ISA_AVX2] = gm_vec_softcap_avx2;
    CAP[GM_ISA_AVX512] = gm_vec_softcap_avx512;
    GEGLU[GM_ISA_AVX2] = gm_vec_geglu_avx2;
    GEGLU[GM_ISA_AVX512] = gm_vec_geglu_avx512;
    SOFTMAX[GM_ISA_AVX2] = gm_vec_softmax_avx2;
    SOFTMAX[GM_ISA_AVX512] = gm_vec_softmax_avx512;
    RMSNORM[GM_ISA_AVX2] = gm_vec_rmsnorm_avx2;
    RMSNORM[GM_ISA_AVX512] = gm_vec_rmsnorm_avx512;
    H2F[GM_ISA_AVX2] = gm_vec_h2f_avx2;
    H2F[GM_ISA_AVX512] = gm_vec_h2f_avx512;
    F2H[GM_ISA_AVX2] = gm_vec_f2h_avx2;
    F2H[GM_ISA_AVX512] = gm_vec_f2h_avx512;
#endif
    for (int isa = 0; isa < GM_ISA_COUNT; isa++) {
        if (!gm_isa_supported((gm_isa)isa) || !CAP[isa]) {
            printf("# %s: not supported here, skipped\n", gm_isa_name((gm_isa)isa));
            continue;
        }
        check_softcap(isa);
        check_geglu(isa);
        check_softmax(isa);
        check_rmsnorm(isa);
        check_h2f(isa);
        check_f2h(isa);
    }
    return check_exit();
}
