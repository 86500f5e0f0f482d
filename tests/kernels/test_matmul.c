/* test_matmul.c: the CPU matrix kernels against a float64 reference.
 *
 * Every kernel family this CPU runs, F32/F16/BF16 weights, odd sizes (tails
 * of every length, rows not a multiple of the tile), 3-D expert slices,
 * strided X and Y; decode (n = 1) must give the same bits as the same token
 * inside a batch, and the thread count must not change a bit.  Also the
 * 16-bit conversions (all values, NaN, inf, subnormals, ties) and the pool.
 * The element-wise functions (softcap, GeGLU, softmax) are in test_vmath.c. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kernels.h"
#include "cpu/mm_impl.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift: a uniform float in [-1, 1). */
static float frand(void)
{
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

/* A weight tensor of the given type filled with random values. */
static gm_tensor make_tensor(gm_type t, int64_t cols, int64_t rows, int64_t slices, size_t off, void **mem)
{
    size_t rb = gm_type_row_bytes(t, cols), nb = rb * (size_t)rows * (size_t)slices;
    char *base = aligned_alloc(64, (nb + off + 64) / 64 * 64);   /* data off bytes past a cache line */
    if (!base) { perror("aligned_alloc"); exit(2); }
    char *p = base + off;
    for (int64_t i = 0; i < cols * rows * slices; i++) {
        float v = frand();
        if (t == GM_TYPE_F32) ((float *)p)[i] = v;
        else if (t == GM_TYPE_BF16) ((uint16_t *)p)[i] = gm_f32_to_bf16(v);
        else ((uint16_t *)p)[i] = gm_f32_to_f16(v);
    }
    *mem = base;
    gm_tensor W = { t, {cols, rows, slices}, rb, nb, p, "test", NULL };
    return W;
}

/* float64 reference of one (row, token) pair; *mag gets sum |w x|. */
static double ref_dot(const gm_tensor *W, int64_t slice, int64_t r, const float *x, double *mag)
{
    float *row = malloc((size_t)W->ne[0] * 4);
    if (!row) { perror("malloc"); exit(2); }
    gm_tensor_row(W, slice, r, row);
    double s = 0, m = 0;
    for (int64_t c = 0; c < W->ne[0]; c++) { s += (double)row[c] * x[c]; m += fabs((double)row[c] * x[c]); }
    free(row);
    *mag = m;
    return s;
}

/* One product checked against the reference, strided X/Y; also checks that
 * Y's padding is untouched.  Returns the computed Y (caller frees). */
static float *run_case(gm_pool *pool, gm_isa isa, gm_type t, int64_t cols, int64_t rows, int n,
                       int slices, int slice, const float *X, int64_t ldx, int check_ref)
{
    void *mem;
    uint64_t saved = rng_state;
    rng_state = 0x1234567ull + (uint64_t)(cols * 131 + rows * 7 + slices + t);
    /* odd batches read weights 24 bytes into a cache line, as a safetensors file
     * may place them; even ones line-aligned (both paths of the BF16 prefill) */
    gm_tensor W = make_tensor(t, cols, rows, slices, (n & 1) ? 24 : 0, &mem);
    rng_state = saved;
    int64_t ldy = rows + 5;
    float *Y = malloc((size_t)(ldy * n) * 4);
    if (!Y) { perror("malloc"); exit(2); }
    for (int64_t i = 0; i < ldy * n; i++) Y[i] = 12345.0f;
    int rc = gm_matmul_isa(pool, isa, &W, slice, X, ldx, n, Y, ldy);
    if (check_ref) {
        double worst = 0;
        int pad_ok = 1;
        for (int tk = 0; tk < n; tk++) {
            for (int64_t r = 0; r < rows; r++) {
                double mag, ref = ref_dot(&W, slice, r, X + tk * ldx, &mag);
                double err = fabs(Y[tk * ldy + r] - ref) / (mag + 1e-30);
                if (!(err <= worst)) worst = err;   /* NaN-safe */
            }
            for (int64_t r = rows; r < ldy; r++) pad_ok &= Y[tk * ldy + r] == 12345.0f;
        }
        CHECK(rc == 0 && worst < 2e-6 * sqrt((double)cols) + 1e-6 && pad_ok,
              "%s %s %lldx%lld n=%d slice %d/%d: rel err %.2e, padding %s", gm_isa_name(isa),
              gm_type_name(t), (long long)rows, (long long)cols, n, slice, slices, worst,
              pad_ok ? "kept" : "WRITTEN");
    }
    free(mem);
    return Y;
}

/* Decode vs prefill and thread counts: all results must be the same bits. */
static void check_identity(gm_pool **pools, gm_isa isa, gm_type t, int64_t cols, int64_t rows, int n)
{
    int64_t ldx = cols + 3, ldy = rows + 5;
    float *X = malloc((size_t)(ldx * n) * 4);
    if (!X) { perror("malloc"); exit(2); }
    for (int64_t i = 0; i < ldx * n; i++) X[i] = frand();
    float *Yb[3];
    for (int k = 0; k < 3; k++) Yb[k] = run_case(pools[k], isa, t, cols, rows, n, 2, 1, X, ldx, 0);
    int same_threads = 1, same_decode = 1;
    for (int tk = 0; tk < n; tk++)
        for (int64_t r = 0; r < rows; r++) {
            same_threads &= memcmp(&Yb[0][tk * ldy + r], &Yb[1][tk * ldy + r], 4) == 0;
            same_threads &= memcmp(&Yb[0][tk * ldy + r], &Yb[2][tk * ldy + r], 4) == 0;
        }
    for (int tk = 0; tk < n; tk++) {
        float *Y1 = run_case(pools[tk % 3], isa, t, cols, rows, 1, 2, 1, X + tk * ldx, ldx, 0);
        for (int64_t r = 0; r < rows; r++) same_decode &= memcmp(&Y1[r], &Yb[0][tk * ldy + r], 4) == 0;
        free(Y1);
    }
    /* no pool: no scratch, so the kernels split X on the fly */
    {
        float *Yn = run_case(NULL, isa, t, cols, rows, n, 2, 1, X, ldx, 0);
        for (int tk = 0; tk < n; tk++)
            for (int64_t r = 0; r < rows; r++) same_threads &= memcmp(&Yn[tk * ldy + r], &Yb[0][tk * ldy + r], 4) == 0;
        free(Yn);
    }
    /* a batch that starts mid-way (odd offsets into the token tiles) */
    if (n > 3) {
        float *Ys = run_case(pools[1], isa, t, cols, rows, n - 3, 2, 1, X + 3 * ldx, ldx, 0);
        for (int tk = 0; tk < n - 3; tk++)
            for (int64_t r = 0; r < rows; r++)
                same_decode &= memcmp(&Ys[tk * ldy + r], &Yb[0][(tk + 3) * ldy + r], 4) == 0;
        free(Ys);
    }
    CHECK(same_threads && same_decode, "%s %s %lldx%lld n=%d: bit-identical across 0/1/2/3 threads (%s) "
          "and decode vs batch (%s)", gm_isa_name(isa), gm_type_name(t), (long long)rows,
          (long long)cols, n, same_threads ? "yes" : "NO", same_decode ? "yes" : "NO");
    for (int k = 0; k < 3; k++) free(Yb[k]);
    free(X);
}

/* Every 16-bit value through each kernel family's widening: W holds all
 * 65536 values, X is one-hot per token, so Y is W transposed exactly. */
static void check_all_halves(gm_pool *pool, gm_isa isa, gm_type t)
{
    uint16_t *w = malloc(65536 * 2);
    float *X = calloc(16 * 16, 4), *Y = malloc(65536 * 4);
    if (!w || !X || !Y) { perror("malloc"); exit(2); }
    for (int i = 0; i < 65536; i++) w[i] = (uint16_t)i;
    for (int k = 0; k < 16; k++) X[k * 16 + k] = 1.0f;
    gm_tensor W = { t, {16, 4096, 1}, 32, 65536 * 2, w, "halves", NULL };
    gm_matmul_isa(pool, isa, &W, 0, X, 16, 16, Y, 4096);
    int bad = 0;
    for (int r = 0; r < 4096; r++)
        for (int k = 0; k < 16; k++) {
            uint16_t h = w[r * 16 + k];
            float want = t == GM_TYPE_BF16 ? gm_bf16_to_f32(h) : gm_f16_to_f32(h), got = Y[k * 4096 + r];
            if (isnan(want) || isinf(want)) continue;   /* inf * 0 in other lanes: NaN by design */
            if (want == 0.0f) want = 0.0f;               /* -0 + 0 = +0 */
            bad += memcmp(&want, &got, 4) != 0;
        }
    CHECK(bad == 0, "%s %s: every finite 16-bit value widens exactly (%d mismatches)", gm_isa_name(isa),
          gm_type_name(t), bad);
    free(w); free(X); free(Y);
}

/* Scalar conversions: round trips, NaN, inf, subnormals, ties to even. */
static void check_conversions(void)
{
    int bad_bf = 0, bad_h = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        float f = gm_bf16_to_f32((uint16_t)i);
        if (isnan(f)) bad_bf += !isnan(gm_bf16_to_f32(gm_f32_to_bf16(f)));
        else bad_bf += gm_f32_to_bf16(f) != i;
        float g = gm_f16_to_f32((uint16_t)i);
        if (isnan(g)) bad_h += !isnan(gm_f16_to_f32(gm_f32_to_f16(g)));
        else bad_h += gm_f32_to_f16(g) != i;
    }
    CHECK(bad_bf == 0, "bf16 -> f32 -> bf16 round-trips all 65536 values (%d bad)", bad_bf);
    CHECK(bad_h == 0, "f16 -> f32 -> f16 round-trips all 65536 values (%d bad)", bad_h);
    union { uint32_t u; float f; } v;
    v.u = 0x3f808000u; uint16_t a = gm_f32_to_bf16(v.f);   /* tie, even below */
    v.u = 0x3f818000u; uint16_t b = gm_f32_to_bf16(v.f);   /* tie, odd below: up */
    v.u = 0x3f808001u; uint16_t c = gm_f32_to_bf16(v.f);   /* just above tie */
    CHECK(a == 0x3f80 && b == 0x3f82 && c == 0x3f81, "bf16 rounds to nearest, ties to even (%04x %04x %04x)", a, b, c);
    v.u = 0x7f7fffffu;
    CHECK(gm_f32_to_bf16(v.f) == 0x7f80 && gm_f32_to_bf16(-INFINITY) == 0xff80,
          "bf16: FLT_MAX rounds to inf, -inf kept");
    v.u = 0x7f800001u;   /* signalling NaN with payload only in the low bits */
    CHECK(isnan(gm_bf16_to_f32(gm_f32_to_bf16(v.f))) && isnan(gm_bf16_to_f32(gm_f32_to_bf16(NAN))),
          "bf16: NaN stays NaN even when its payload is in the dropped bits");
    v.u = 0x00008000u;   /* f32 subnormal, tie between 0 and the smallest bf16 subnormal */
    uint16_t sub = gm_f32_to_bf16(v.f);
    v.u = 0x00018000u;
    uint16_t sub2 = gm_f32_to_bf16(v.f);
    CHECK(sub == 0x0000 && sub2 == 0x0002, "bf16: subnormal ties to even (%04x %04x)", sub, sub2);
    CHECK(gm_f32_to_f16(65504.0f) == 0x7bff && gm_f32_to_f16(65519.0f) == 0x7bff &&
          gm_f32_to_f16(65520.0f) == 0x7c00 && gm_f32_to_f16(-INFINITY) == 0xfc00,
          "f16: max finite, rounding to inf at 65520, -inf");
    CHECK(gm_f32_to_f16(ldexpf(1, -24)) == 0x0001 && gm_f32_to_f16(ldexpf(1, -25)) == 0x0000 &&
          gm_f32_to_f16(ldexpf(3, -25)) == 0x0002 && gm_f32_to_f16(ldexpf(1.0001f, -25)) == 0x0001 &&
          gm_f32_to_f16(-ldexpf(1, -24)) == 0x8001,
          "f16: smallest subnormal, ties to even below it, sign kept");
    CHECK(gm_f32_to_f16(1.0f + ldexpf(1, -11)) == 0x3c00 && gm_f32_to_f16(1.0f + ldexpf(3, -11)) == 0x3c02 &&
          gm_f32_to_f16(ldexpf(1023, -24) + ldexpf(1, -25)) == 0x0400,
          "f16: normal ties to even, subnormal rounding carries into the exponent");
    CHECK((gm_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (gm_f32_to_f16(NAN) & 0x3ff) != 0 &&
          gm_f16_to_f32(0x0001) == ldexpf(1, -24) && gm_f16_to_f32(0x03ff) == ldexpf(1023, -24),
          "f16: NaN encodes as NaN, subnormals widen exactly");
}

/* The vector ops of each family against float64, every tail length. */
static void check_vec_ops(void)
{
    typedef float (*dot_fn)(const float *, const float *, int64_t);
    typedef void (*axpy_fn)(float *, float, const float *, int64_t);
    dot_fn dots[GM_ISA_COUNT] = { gm_vec_dot_scalar };
    axpy_fn axpys[GM_ISA_COUNT] = { gm_vec_axpy_scalar };
#if defined(__x86_64__)
    dots[GM_ISA_AVX2] = gm_vec_dot_avx2; axpys[GM_ISA_AVX2] = gm_vec_axpy_avx2;
    dots[GM_ISA_AVX512] = gm_vec_dot_avx512; axpys[GM_ISA_AVX512] = gm_vec_axpy_avx512;
#endif
    float a[300], b[300], y[300], y0[300];
    for (int i = 0; i < 300; i++) { a[i] = frand(); b[i] = frand(); y0[i] = frand(); }
    for (int isa = 0; isa < GM_ISA_COUNT; isa++) {
        if (!gm_isa_supported((gm_isa)isa) || !dots[isa]) continue;
        double worst_dot = 0, worst_axpy = 0;
        int kept = 1;
        for (int n = 0; n <= 290; n += (n < 70 ? 1 : 37)) {
            double ref = 0, mag = 1e-30;
            for (int i = 0; i < n; i++) { ref += (double)a[i] * b[i]; mag += fabs((double)a[i] * b[i]); }
            double e = fabs(dots[isa](a, b, n) - ref) / mag;
            if (!(e <= worst_dot)) worst_dot = e;
            memcpy(y, y0, sizeof y);
            axpys[isa](y, 0.75f, a, n);
            for (int i = 0; i < n; i++) {
                double ea = fabs(y[i] - (y0[i] + 0.75 * a[i]));
                if (!(ea <= worst_axpy)) worst_axpy = ea;
            }
            for (int i = n; i < 300; i++) kept &= y[i] == y0[i];
        }
        CHECK(worst_dot < 1e-6 && worst_axpy < 1e-6 && kept,
              "%s vec ops: dot rel err %.1e, axpy err %.1e, nothing past n written (%s)", gm_isa_name((gm_isa)isa),
              worst_dot, worst_axpy, kept ? "yes" : "NO");
    }
    /* wsum: the same bits as m axpys, every tail length */
    int same = 1;
    for (int n = 1; n <= 140; n += 3) {
        float ys[300], yw[300];
        memcpy(ys, y0, sizeof ys);
        memcpy(yw, y0, sizeof yw);
        for (int u = 0; u < 5; u++) gm_vec_axpy(ys, b[u], a + u * 30, n);
        gm_vec_wsum(yw, b, a, 30, 5, n);
        same &= memcmp(ys, yw, sizeof ys) == 0;
    }
    CHECK(same, "gm_vec_wsum gives the bits of repeated gm_vec_axpy and writes nothing past n (%s)", gm_kernel_isa());
    /* wsum_g (a KV group's heads at once): the bits of g wsums, per family */
    typedef void (*wsumg_fn)(float *, int64_t, const float *, int64_t, int, const float *, int64_t, int, int64_t);
    typedef void (*wsum_fn)(float *, const float *, const float *, int64_t, int, int64_t);
    wsumg_fn wgs[GM_ISA_COUNT] = { gm_vec_wsum_g_scalar };
    wsum_fn ws[GM_ISA_COUNT] = { gm_vec_wsum_scalar };
#if defined(__x86_64__)
    wgs[GM_ISA_AVX2] = gm_vec_wsum_g_avx2; ws[GM_ISA_AVX2] = gm_vec_wsum_avx2;
    wgs[GM_ISA_AVX512] = gm_vec_wsum_g_avx512; ws[GM_ISA_AVX512] = gm_vec_wsum_avx512;
#endif
    for (int isa = 0; isa < GM_ISA_COUNT; isa++) {
        if (!gm_isa_supported((gm_isa)isa) || !wgs[isa]) continue;
        int same_g = 1;
        static float yg[12 * 80], yr[12 * 80], wt[12 * 16], vs[9 * 30 + 80];
        for (int i = 0; i < 12 * 16; i++) wt[i] = frand();
        for (int i = 0; i < 9 * 30 + 80; i++) vs[i] = frand();
        for (int g = 1; g <= 11; g++)
            for (int n = 1; n <= 70; n += (n < 40 ? 1 : 13))
                for (int m = 1; m <= 9; m += 4) {
                    for (int i = 0; i < 12 * 80; i++) yg[i] = yr[i] = frand();
                    wgs[isa](yg, 80, wt, 16, g, vs, 30, m, n);
                    for (int j = 0; j < g; j++) ws[isa](yr + j * 80, wt + j * 16, vs, 30, m, n);
                    same_g &= memcmp(yg, yr, sizeof yg) == 0;
                }
        CHECK(same_g, "%s wsum_g over 1..11 heads: the bits of one wsum per head, nothing else written",
              gm_isa_name((gm_isa)isa));
    }
    /* qk (attention scores, g queries x nk keys): each score's bits are
     * those of the same pair computed alone, whatever g, nk and its place;
     * within 1e-5 of the float64 dot (relative to sum |q k|); nothing
     * outside the g x nk block written */
    int same_d = 1, close = 1, untouched = 1;
    static float qs[9 * 300], ks[11 * 301], outg[9 * 16], one;
    for (int i = 0; i < 9 * 300; i++) qs[i] = frand();
    for (int i = 0; i < 11 * 301; i++) ks[i] = frand();
    for (int g = 1; g <= 9; g++)
        for (int nk = 1; nk <= 11; nk += (g % 3) + 1)
            for (int n = 0; n <= 290; n += (n < 70 ? 1 : 37)) {
                for (int i = 0; i < 9 * 16; i++) outg[i] = -7.0f;
                gm_vec_qk(qs, 300, g, ks, 301, nk, n, outg, 16);
                for (int j = 0; j < 9; j++)
                    for (int u = 0; u < 16; u++) {
                        if (j >= g || u >= nk) { untouched &= outg[j * 16 + u] == -7.0f; continue; }
                        gm_vec_qk(qs + j * 300, 300, 1, ks + u * 301, 301, 1, n, &one, 1);
                        same_d &= memcmp(&one, &outg[j * 16 + u], 4) == 0;
                        double ref = 0, mag = 0;
                        for (int i = 0; i < n; i++) {
                            ref += (double)qs[j * 300 + i] * ks[u * 301 + i];
                            mag += fabs((double)qs[j * 300 + i] * ks[u * 301 + i]);
                        }
                        close &= fabs(outg[j * 16 + u] - ref) <= 1e-5 * mag + 1e-30;
                    }
            }
    CHECK(same_d && close && untouched, "gm_vec_qk over 1..9 queries x 1..11 keys: each score the bits of the pair "
          "alone (%s), within 1e-5 of float64 (%s), nothing else written (%s) (%s)", same_d ? "yes" : "NO",
          close ? "yes" : "NO", untouched ? "yes" : "NO", gm_kernel_isa());
    float d1 = gm_vec_dot(a, b, 256), d2 = gm_vec_dot(a, b, 256);
    CHECK(memcmp(&d1, &d2, 4) == 0, "gm_vec_dot is deterministic (%s)", gm_kernel_isa());
}

typedef struct { atomic_int calls; atomic_int seen[8]; int nth; } pool_probe;

/* Pool worker for the probe: counts calls and which ith ran. */
static void probe_fn(void *arg, int ith, int nth)
{
    pool_probe *p = arg;
    atomic_fetch_add(&p->calls, 1);
    if (ith >= 0 && ith < 8) atomic_fetch_add(&p->seen[ith], 1);
    p->nth = nth;
}

/* Pools of 1, 2, 3: every thread index runs once per region. */
static void check_pools(gm_pool **pools)
{
    for (int k = 0; k < 3; k++) {
        pool_probe pr;
        memset(&pr, 0, sizeof pr);
        for (int it = 0; it < 2000; it++) gm_pool_run(pools[k], probe_fn, &pr);
        int ok = gm_pool_size(pools[k]) == k + 1 && pr.nth == k + 1 && atomic_load(&pr.calls) == 2000 * (k + 1);
        for (int i = 0; i <= k; i++) ok &= atomic_load(&pr.seen[i]) == 2000;
        CHECK(ok, "pool of %d: 2000 regions, each thread index ran every region", k + 1);
    }
    /* a region started right after creation, before the workers ran */
    int ok = 1;
    for (int it = 0; it < 50 && ok; it++) {
        gm_err err = {0};
        gm_pool *p = gm_pool_new(3, &err);
        if (!p) { ok = 0; break; }
        pool_probe pr;
        memset(&pr, 0, sizeof pr);
        gm_pool_run(p, probe_fn, &pr);
        ok &= atomic_load(&pr.calls) == 3;
        gm_pool_free(p);
    }
    CHECK(ok, "a region run at once after gm_pool_new reaches every thread (50 pools)");
}

int main(void)
{
    gm_err err = {0};
    gm_pool *pools[3];
    for (int k = 0; k < 3; k++) {
        pools[k] = gm_pool_new(k + 1, &err);
        if (!pools[k]) { printf("not ok - gm_pool_new(%d): %s\n", k + 1, err.msg); return 1; }
    }
    CHECK(gm_physical_cores() >= 1, "physical cores: %d", gm_physical_cores());
    check_pools(pools);
    check_conversions();
    check_vec_ops();
    CHECK(gm_isa_supported(gm_isa_default()) && gm_isa_supported(GM_ISA_SCALAR),
          "default kernel family %s is supported", gm_kernel_isa());

    static const gm_type types[] = { GM_TYPE_F32, GM_TYPE_F16, GM_TYPE_BF16 };
    static const int64_t shapes[][2] = { {1, 1}, {17, 5}, {33, 13}, {100, 37}, {257, 19}, {1536, 40} };
    static const int ns[] = { 1, 2, 3, 4, 5, 6, 7, 64 };
    for (int isa = 0; isa < GM_ISA_COUNT; isa++) {
        if (!gm_isa_supported((gm_isa)isa)) { printf("# %s: not supported here, skipped\n", gm_isa_name(isa)); continue; }
        for (size_t ti = 0; ti < 3; ti++) {
            for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
                for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
                    int64_t cols = shapes[si][0], rows = shapes[si][1], ldx = cols + 3;
                    int n = ns[ni];
                    float *X = malloc((size_t)(ldx * n) * 4);
                    if (!X) { perror("malloc"); return 2; }
                    for (int64_t i = 0; i < ldx * n; i++) X[i] = frand();
                    int slices = si % 2 ? 3 : 1;
                    free(run_case(pools[(si + ni) % 3], (gm_isa)isa, types[ti], cols, rows, n, slices,
                                  slices - 1, X, ldx, 1));
                    free(X);
                }
            check_identity(pools, (gm_isa)isa, types[ti], 257, 19, 7);
            check_identity(pools, (gm_isa)isa, types[ti], 1536, 43, 130);  /* spans token blocks */
            check_identity(pools, (gm_isa)isa, types[ti], 31, 70, 64);
            check_identity(pools, (gm_isa)isa, types[ti], 1536, 43, 5);  /* speculative verify tiles */
            check_identity(pools, (gm_isa)isa, types[ti], 100, 37, 6);
            check_identity(pools, (gm_isa)isa, types[ti], 33, 13, 4);
        }
        check_all_halves(pools[1], (gm_isa)isa, GM_TYPE_BF16);
        check_all_halves(pools[2], (gm_isa)isa, GM_TYPE_F16);
    }
    for (int k = 0; k < 3; k++) gm_pool_free(pools[k]);
    return check_exit();
}
