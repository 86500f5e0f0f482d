/* test_qgeglu.c: gm_qmatmul_geglu, the MLP's gate and up products with
 * the GeGLU applied to the 32-row tile's sums.  Whether it fuses or not,
 * G must hold the bits of the two products (gm_qmatmul_multi) followed by
 * gm_vec_geglu, or prefill and decode would part ways. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "engine.h"
#include "kernels.h"
#include "quant.h"

static unsigned rng = 12345;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)(rng >> 8) / 16777216.0f * 2.0f - 1.0f; }

/* A rows x K matrix of type t from random floats (scaled by `scale`, so
 * the GeGLU sees both its tails), packed where the best path packs t. */
static int make_matrix(gm_type t, int64_t K, int64_t rows, float scale, gm_pool *p, gm_tensor *out)
{
    float *F = malloc(sizeof(float) * (size_t)(K * rows));
    if (!F) return -1;
    for (int64_t i = 0; i < K * rows; i++) F[i] = frand() * scale;
    gm_tensor src = { GM_TYPE_F32, { K, rows, 1 }, (size_t)K * 4, (size_t)(K * rows) * 4, F, "w", NULL };
    gm_err err = {0};
    int rc = gm_quantize_tensor(&src, t, out, p, &err);
    if (rc) fprintf(stderr, "# %s\n", err.msg);
    free(F);
    return rc;
}

/* One case: gate and up of type t (rows x K), n tokens of X, on pool p.
 * want is what the call must return (1 fused, 0 products only). */
static void check_case(gm_type t, int64_t K, int64_t rows, int n, gm_pool *p, int want, const char *why)
{
    gm_tensor gate, up;
    int64_t ld = rows + 7;   /* no multiple of 16: rows of G are not aligned */
    size_t ny = (size_t)n * (size_t)ld;
    float *X = malloc(sizeof(float) * (size_t)(n * K)), *Ga = malloc(sizeof(float) * ny), *Ua = malloc(sizeof(float) * ny);
    float *Gb = malloc(sizeof(float) * ny), *Ub = malloc(sizeof(float) * ny);
    CHECK(X && Ga && Ua && Gb && Ub, "buffers for %s", why);
    if (!X || !Ga || !Ua || !Gb || !Ub) goto out;
    for (int64_t i = 0; i < n * K; i++) X[i] = frand();
    if (make_matrix(t, K, rows, 0.4f, p, &gate) || make_matrix(t, K, rows, 0.2f, p, &up)) {
        CHECK(0, "%s: matrices made", why);
        goto out;
    }
    const gm_tensor *W[2] = { &gate, &up };
    float *Y[2] = { Ga, Ua };
    int64_t lds[2] = { ld, ld };
    for (size_t i = 0; i < ny; i++) Ga[i] = Ua[i] = Gb[i] = Ub[i] = -7.0f;   /* gaps between rows stay */
    int ok = gm_qmatmul_multi(p, 2, W, X, K, n, Y, lds) == 0;
    for (int u = 0; u < n; u++) gm_vec_geglu(Ga + (size_t)u * ld, Ga + (size_t)u * ld, Ua + (size_t)u * ld, rows);
    int rc = gm_qmatmul_geglu(p, &gate, &up, X, K, n, Gb, Ub, ld);
    if (rc == 0)   /* products only: the caller's GeGLU */
        for (int u = 0; u < n; u++) gm_vec_geglu(Gb + (size_t)u * ld, Gb + (size_t)u * ld, Ub + (size_t)u * ld, rows);
    ok &= rc == want && memcmp(Ga, Gb, sizeof(float) * ny) == 0;
    CHECK(ok, "gm_qmatmul_geglu %s (%s, %lld x %lld, %d tokens, %d threads): returns %d (got %d), G equals the "
          "products then gm_vec_geglu bit for bit", why, gm_type_name(t), (long long)rows, (long long)K, n,
          gm_pool_size(p), want, rc);
    free((void *)gate.data);
    free((void *)up.data);
out:
    free(X); free(Ga); free(Ua); free(Gb); free(Ub);
}

int main(void)
{
    gm_err err = {0};
    gm_pool *p1 = gm_pool_new(1, &err), *p3 = gm_pool_new(3, &err);
    CHECK(p1 && p3, "thread pools start");
    if (!p1 || !p3) return check_exit();
    /* fused wherever the best path has a 32-row tile for the type (the
     * AVX-512 path: Q8_0, Q4_0, Q5_0 and Q4_K) and prefill has runs */
    static const gm_type T[] = { GM_TYPE_Q8_0, GM_TYPE_Q4_0, GM_TYPE_Q5_0, GM_TYPE_Q4_K, GM_TYPE_Q6_K };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        gm_type t = T[i];
        int tiled = gm_qprep_get(t, gm_qisa_best()).tile2 != NULL;
        /* 121 blocks of 32 (Q4_K: 11 super-blocks): more than one run, so
         * the last run continues sums kept in G and U */
        int64_t K = gm_type_block(t) == 256 ? 11 * 256 : 121 * 32;
        check_case(t, K, 48, 1, p3, 0, "decode");
        check_case(t, K, 48, 8, p3, 0, "a batch of GM_QP_TOKENS");
        check_case(t, K, 48, 9, p1, tiled, "a short prefill, 1 thread");
        check_case(t, K, 48, 27, p3, tiled, "a prefill, 3 threads");
        check_case(t, 256, 80, 13, p3, tiled, "one run");
        check_case(t, K, 40, 27, p3, 0, "rows no multiple of 16");
    }
    /* past the chunk of tokens one quantization holds (the pool scratch
     * less the 64 KiB qmatmul.c keeps for rewritten runs): the last chunk
     * has 6 tokens, no more than a 16-row tile takes, and still goes
     * through the pair */
    int chunk = (int)((GM_POOL_SCRATCH - 64 * 1024) / (121 * gm_qact_block_bytes(GM_TYPE_Q4_0)));
    check_case(GM_TYPE_Q4_0, 121 * 32, 32, chunk + 6, p3, gm_qprep_get(GM_TYPE_Q4_0, gm_qisa_best()).tile2 != NULL,
               "two chunks, the last short");
    /* gate and up of different types: two products, the caller's GeGLU */
    {
        gm_tensor a, b;
        int ok = make_matrix(GM_TYPE_Q4_0, 512, 32, 0.4f, p3, &a) == 0 && make_matrix(GM_TYPE_Q8_0, 512, 32, 0.2f, p3, &b) == 0;
        float X[16 * 512], G[16 * 32], U[16 * 32];
        for (int i = 0; i < 16 * 512; i++) X[i] = frand();
        ok &= gm_qmatmul_geglu(p3, &a, &b, X, 512, 16, G, U, 32) == -1;
        CHECK(ok, "gm_qmatmul_geglu declines Q4_0 gate with Q8_0 up (different activation forms)");
        free((void *)a.data);
        free((void *)b.data);
        gm_tensor f;
        ok = make_matrix(GM_TYPE_BF16, 512, 32, 0.4f, p3, &f) == 0;
        ok &= gm_qmatmul_geglu(p3, &f, &f, X, 512, 16, G, U, 32) == -1;
        CHECK(ok, "gm_qmatmul_geglu declines BF16 weights");
        free((void *)f.data);
    }
    gm_pool_free(p1);
    gm_pool_free(p3);
    return check_exit();
}
