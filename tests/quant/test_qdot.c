/* Integer dot-product kernels: every path this CPU runs (portable, AVX2,
 * AVX-VNNI, AVX-512 VNNI) against the portable reference on random data;
 * the reference against a float dot of the dequantized weights; and
 * gm_qmatmul giving bit-identical rows for n = 1 and n > 1, any thread
 * count, chunked batches and expert slices. */
#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "quant.h"

static uint32_t rng = 777;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)(rng >> 8) / 16777216.0f * 2.0f - 1.0f; }

/* The types with integer kernels; the last five (quant_extra.c, SIMD rows
 * in qdot_extra_simd.h) are read in place only, never packed. */
static const gm_type TYPES[] = { GM_TYPE_Q8_0, GM_TYPE_Q4_0, GM_TYPE_Q5_0, GM_TYPE_Q5_1, GM_TYPE_Q4_K, GM_TYPE_Q5_K,
                                 GM_TYPE_Q6_K, GM_TYPE_Q4_1, GM_TYPE_IQ4_NL, GM_TYPE_Q2_K, GM_TYPE_Q3_K,
                                 GM_TYPE_IQ4_XS };

/* Quantize activations in the format the weight type's kernels read. */
static void quant_act(gm_type t, const float *x, void *dst, int64_t n)
{
    if (gm_qact_block_bytes(t) == sizeof(gm_bq8)) gm_quantize_act_q8(t, x, dst, n);
    else gm_quantize_act_q8k(x, dst, n);
}

static void test_paths(gm_type t)
{
    enum { K = 2816, ROWS = 24 };           /* 11 super-blocks, 88 blocks: odd tails too */
    int blk = gm_type_block(t);
    int64_t nb = K / blk;
    size_t rb = gm_type_row_bytes(t, K);
    unsigned char *w = malloc(rb * ROWS), *xq = malloc((size_t)nb * gm_qact_block_bytes(t));
    float *wf = malloc(sizeof(float) * K), *x = malloc(sizeof(float) * K);
    for (int i = 0; i < K; i++) x[i] = frand() * 2.0f;
    quant_act(t, x, xq, K);
    gm_qdot_fn ref = gm_qdot_scalar(t).x1;
    double max_float_err = 0;
    int n_exact[GM_QISA_COUNT] = {0}, n_close[GM_QISA_COUNT] = {0}, n_simd_same[GM_QISA_COUNT] = {0};
    int n_x4_same[GM_QISA_COUNT] = {0};
    size_t ab = (size_t)nb * gm_qact_block_bytes(t);
    unsigned char *xq4 = malloc(ab * 4);
    float *x4f = malloc(sizeof(float) * K);
    for (int u = 0; u < 4; u++) {
        for (int i = 0; i < K; i++) x4f[i] = frand() * (float)(u + 1);
        quant_act(t, x4f, xq4 + ab * (size_t)u, K);
    }
    for (int r = 0; r < ROWS; r++) {
        for (int i = 0; i < K; i++) wf[i] = frand() * (r % 3 + 1) + (r == 5 ? 0.7f : 0.0f);
        if (r == 7) memset(wf, 0, sizeof(float) * K);          /* an all-zero row */
        gm_quantize_row(t, wf, w + rb * r, K);
        float s_ref = ref(nb, w + rb * r, xq);
        /* float dot of dequantized weights with the original activations */
        gm_dequantize_row(t, w + rb * r, wf, K);
        double exact = 0, mag = 0;
        for (int i = 0; i < K; i++) { exact += (double)wf[i] * x[i]; mag += fabs((double)wf[i] * x[i]); }
        double e = fabs(s_ref - exact) / (mag + 1e-9);
        if (e > max_float_err) max_float_err = e;
        float s_first = 0;
        for (int isa = 1; isa < GM_QISA_COUNT; isa++) {
            gm_qkern k = gm_qkern_get(t, (gm_qisa)isa);
            if (!k.x1 || !k.x4) continue;
            float s = k.x1(nb, w + rb * r, xq);
            if (isa == 1) s_first = s;
            n_simd_same[isa] += s == s_first;
            n_exact[isa] += s == s_ref;
            n_close[isa] += fabs((double)s - s_ref) <= 1e-5 * (mag + 1e-9);
            float o[4];
            k.x4(nb, w + rb * r, xq4, ab, o);
            int same = 1;
            for (int u = 0; u < 4; u++) same &= o[u] == k.x1(nb, w + rb * r, xq4 + ab * (size_t)u);
            n_x4_same[isa] += same;
        }
    }
    /* activations are 8-bit: relative error ~ 1/127/sqrt(32) per block */
    CHECK(max_float_err < 4e-3, "%s reference dot within %.1e of the float dot of dequantized weights (worst %.2e)",
          gm_type_name(t), 4e-3, max_float_err);
    bool k_type = blk == GM_QKK;
    for (int isa = 1; isa < GM_QISA_COUNT; isa++) {
        if (!gm_qdot_get(t, (gm_qisa)isa)) {
            CHECK(!gm_qisa_supported((gm_qisa)isa), "%s path %s exists where the CPU supports it",
                  gm_type_name(t), gm_qisa_name((gm_qisa)isa));
            continue;
        }
        /* gm_qkern_get falls back to the portable kernel where a path has
         * none: every SIMD path must have its own, with a four-token one */
        gm_qkern own = gm_qkern_get(t, (gm_qisa)isa);
        CHECK(own.x1 != gm_qdot_scalar(t).x1 && own.x4, "%s %s path has its own one- and four-token kernels",
              gm_type_name(t), gm_qisa_name((gm_qisa)isa));
        CHECK(n_simd_same[isa] == ROWS && n_x4_same[isa] == ROWS,
              "%s %s path: same bits as the avx2 path (%d/%d rows); four-token kernel == one-token kernel (%d/%d)",
              gm_type_name(t), gm_qisa_name((gm_qisa)isa), n_simd_same[isa], ROWS, n_x4_same[isa], ROWS);
        if (k_type)
            CHECK(n_exact[isa] == ROWS, "%s %s path equals the reference bit for bit on %d/%d rows",
                  gm_type_name(t), gm_qisa_name((gm_qisa)isa), n_exact[isa], ROWS);
        else
            CHECK(n_close[isa] == ROWS, "%s %s path within 1e-5 relative of the reference on %d/%d rows",
                  gm_type_name(t), gm_qisa_name((gm_qisa)isa), n_close[isa], ROWS);
    }
    free(w); free(xq); free(wf); free(x); free(xq4); free(x4f);
}

/* gm_qmatmul: n = 1 and n > 1 agree exactly, for 1 and 3 threads, over chunks and slices. */
static void test_matmul(gm_type t, gm_pool *p1, gm_pool *p3)
{
    enum { K = 4096, ROWS = 37, SLICES = 2, N = 90 };   /* 90 tokens x 4.7 KB > one stack chunk */
    size_t rb = gm_type_row_bytes(t, K);
    unsigned char *w = malloc(rb * ROWS * SLICES);
    float *row = malloc(sizeof(float) * K), *X = malloc(sizeof(float) * K * N);
    float *Y1 = malloc(sizeof(float) * ROWS * N), *Yn = malloc(sizeof(float) * ROWS * N), *Y3 = malloc(sizeof(float) * ROWS * N);
    for (int r = 0; r < ROWS * SLICES; r++) {
        for (int i = 0; i < K; i++) row[i] = frand();
        gm_quantize_row(t, row, w + rb * r, K);
    }
    for (int i = 0; i < K * N; i++) X[i] = frand() * 3.0f;
    gm_tensor W = { t, {K, ROWS, SLICES}, rb, rb * ROWS * SLICES, w, "test.weight", NULL };
    int rc = 0;
    for (int tok = 0; tok < N; tok++) rc |= gm_qmatmul(p1, &W, 1, X + (size_t)tok * K, K, 1, Y1 + tok * ROWS, ROWS);
    rc |= gm_qmatmul(p1, &W, 1, X, K, N, Yn, ROWS);
    rc |= gm_qmatmul(p3, &W, 1, X, K, N, Y3, ROWS);
    CHECK(rc == 0, "%s gm_qmatmul runs", gm_type_name(t));
    CHECK(memcmp(Y1, Yn, sizeof(float) * ROWS * N) == 0, "%s gm_qmatmul: %d tokens one at a time == one batch (bit-identical)",
          gm_type_name(t), N);
    CHECK(memcmp(Yn, Y3, sizeof(float) * ROWS * N) == 0, "%s gm_qmatmul: 1 thread == 3 threads (bit-identical)", gm_type_name(t));
    float *Yh = malloc(sizeof(float) * ROWS * N), rowa[K], rowb[K];
    int hook = gm_matmul(p3, &W, 1, X, K, N, Yh, ROWS) == 0 && memcmp(Yh, Yn, sizeof(float) * ROWS * N) == 0;
    gm_tensor_row(&W, 1, 9, rowa);
    hook &= gm_qtensor_row(&W, 1, 9, rowb) == 0 && memcmp(rowa, rowb, sizeof rowa) == 0;
    CHECK(hook, "%s gm_matmul and gm_tensor_row hand the type to the quantized kernels", gm_type_name(t));
    free(Yh);
    /* slice 1 row 4 against a float product */
    gm_qtensor_row(&W, 1, 4, row);
    double exact = 0, mag = 0;
    for (int i = 0; i < K; i++) { exact += (double)row[i] * X[i]; mag += fabs((double)row[i] * X[i]); }
    CHECK(fabs(Yn[4] - exact) < 4e-3 * mag, "%s slice 1 row 4 matches the float product of gm_qtensor_row (%.4f vs %.4f)",
          gm_type_name(t), Yn[4], exact);
    /* strided X and Y (ldx > K, ldy > rows) */
    float *Xs = calloc((size_t)(K + 5) * 3, sizeof(float)), Ys[3 * 40];
    for (int tok = 0; tok < 3; tok++) memcpy(Xs + (size_t)tok * (K + 5), X + (size_t)tok * K, sizeof(float) * K);
    gm_qmatmul(p3, &W, 1, Xs, K + 5, 3, Ys, 40);
    int same = 1;
    for (int tok = 0; tok < 3; tok++) same &= memcmp(Ys + tok * 40, Yn + tok * ROWS, sizeof(float) * ROWS) == 0;
    CHECK(same, "%s gm_qmatmul honours ldx and ldy", gm_type_name(t));
    free(Xs); free(w); free(row); free(X); free(Y1); free(Yn); free(Y3);
}

/* Pack the full groups of each slice of a row-layout tensor (as gm_quantize_tensor does). */
static void pack_tensor(gm_type t, int64_t K, int64_t rows, int slices, const unsigned char *src, unsigned char *dst)
{
    size_t rb = gm_type_row_bytes(t, K);
    memcpy(dst, src, rb * (size_t)rows * (size_t)slices);
    for (int s = 0; s < slices; s++)
        for (int64_t g = 0; g + GM_QP_ROWS <= rows; g += GM_QP_ROWS) {
            size_t off = ((size_t)s * (size_t)rows + (size_t)g) * rb;
            gm_qpack_group(t, K / gm_type_block(t), src + off, rb, dst + off);
        }
}

/* The tile over a group of nb blocks in runs of 2, 6 and the rest (with
 * cont), against ref (the portable tile over all 8 tokens at once). */
static int split_tiles(gm_type t, gm_qtile_fn tile, int64_t nb, const unsigned char *pk, const unsigned char *xq,
                       size_t ab, const float *ref)
{
    float got[GM_QP_TOKENS * 16];
    size_t xb = gm_qact_block_bytes(t);
    int64_t cuts[] = {0, 2, 8, nb};
    for (int i = 0; i < 3; i++) {
        size_t qo, so;
        gm_qp_offsets(t, nb, cuts[i], &qo, &so);
        tile(cuts[i + 1] - cuts[i], pk + qo, xq + (size_t)cuts[i] * xb, ab, GM_QP_TOKENS, got, 16, i > 0);
    }
    return memcmp(got, ref, sizeof got) == 0;
}

/* gm_qprep on path isa: runs of a group rewritten (for Q4_0, Q5_0, Q5_1 and the K types
 * the portable and SIMD rewrites write the same bytes) and read by the
 * rewrite's tile give ref. */
static int prepped_tiles(gm_type t, gm_qisa isa, int64_t nb, const unsigned char *pk, const unsigned char *xq,
                         size_t ab, const float *ref)
{
    gm_qprep q = gm_qprep_get(t, isa);
    if (!q.prep) return q.tile == gm_qtile_get(t, isa);
    float got[GM_QP_TOKENS * 16];
    size_t xb = gm_qact_block_bytes(t);
    unsigned char *a = malloc(q.bytes_per_block * (size_t)nb), *b = malloc(q.bytes_per_block * (size_t)nb);
    int same = a && b;
    int64_t cuts[] = {0, 4, 10, nb};
    for (int i = 0; same && i < 3; i++) {
        size_t qo, so, n = (size_t)(cuts[i + 1] - cuts[i]);
        gm_qp_offsets(t, nb, cuts[i], &qo, &so);
        q.prep(cuts[i + 1] - cuts[i], pk + qo, a);
        if (t == GM_TYPE_Q4_0) {
            gm_qprep_q4_0_portable(cuts[i + 1] - cuts[i], pk + qo, b);
            same &= memcmp(a, b, q.bytes_per_block * n) == 0;
        } else if (t == GM_TYPE_Q5_0 || t == GM_TYPE_Q5_1) {
            gm_qprep_q5_portable(t, cuts[i + 1] - cuts[i], pk + qo, b);
            same &= memcmp(a, b, q.bytes_per_block * n) == 0;
        } else if (gm_type_block(t) == GM_QKK) {
            gm_qprep_k_portable(t, cuts[i + 1] - cuts[i], pk + qo, b);
            same &= memcmp(a, b, q.bytes_per_block * n) == 0;
        }
        q.tile(cuts[i + 1] - cuts[i], a, xq + (size_t)cuts[i] * xb, ab, GM_QP_TOKENS, got, 16, i > 0);
    }
    free(a);
    free(b);
    return same && memcmp(got, ref, sizeof got) == 0;
}

/* The 32-row tile of path isa (gm_qprep's tile2, where it has one) over
 * the first two groups of pk (gbytes apart; their sums into two separate
 * arrays, 16 floats a token), in runs of blocks rewritten
 * as prefill rewrites them (or read in place) with the sums continued,
 * for every token count up to GM_QP2_TOKENS: the bits of ref and ref1 (the
 * portable 16-row tile on each group, GM_QP_TOKENS tokens).  1 where the
 * path has no 32-row tile. */
static int paired_tiles(gm_type t, gm_qisa isa, int64_t nb, const unsigned char *pk, size_t gbytes,
                        const unsigned char *xq, size_t ab, const float *ref, const float *ref1)
{
    gm_qprep q = gm_qprep_get(t, isa);
    if (!q.tile2) return 1;
    float got[GM_QP2_TOKENS * 16], got1[GM_QP2_TOKENS * 16];
    size_t xb = gm_qact_block_bytes(t), half = q.bytes_per_block * (size_t)nb;
    unsigned char *a = q.prep ? malloc(2 * half) : NULL;
    if (q.prep && !a) return 0;
    int same = 1;
    int64_t cuts[] = {0, 4, 10, nb};
    for (int nt = 1; nt <= GM_QP2_TOKENS; nt++)
        for (int u0 = 0; u0 + nt <= GM_QP_TOKENS; u0 += nt) {
            for (int i = 0; i < 3; i++) {
                size_t qo, so;
                int64_t n = cuts[i + 1] - cuts[i];
                gm_qp_offsets(t, nb, cuts[i], &qo, &so);
                const unsigned char *x = xq + ab * (size_t)u0 + (size_t)cuts[i] * xb;
                if (q.prep) {
                    q.prep(n, pk + qo, a);
                    q.prep(n, pk + gbytes + qo, a + q.bytes_per_block * (size_t)n);
                    q.tile2(n, a, a + q.bytes_per_block * (size_t)n, x, ab, nt, got, got1, 16, i > 0);
                } else {
                    q.tile2(n, pk + qo, pk + gbytes + qo, x, ab, nt, got, got1, 16, i > 0);
                }
            }
            for (int u = 0; u < nt; u++) {
                same &= memcmp(got + 16 * u, ref + 16 * (u0 + u), sizeof(float) * 16) == 0;
                same &= memcmp(got1 + 16 * u, ref1 + 16 * (u0 + u), sizeof(float) * 16) == 0;
            }
        }
    free(a);
    return same;
}

/* Packed (16-row interleaved) Q8_0/Q4_0/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K: layout round trip, every tile path
 * equal to the portable tile bit for bit, close to the row reference, and
 * gm_qmatmul on a packed tensor bit-identical for n = 1 and n > 1, 1 and 3
 * threads; gm_quantize_tensor packs exactly when the best path has its own tile. */
static void test_packed(gm_type t, gm_pool *p1, gm_pool *p3)
{
    /* 121 blocks (11 super-blocks): a lone last block, and prefill takes a
     * group in runs (3 of Q8_0/Q4_0, 2 of Q6_K); 5 tail rows */
    enum { KMAX = 3872, ROWS = 37, SLICES = 2, N = 21 };
    const bool ktype = gm_type_block(t) == GM_QKK;
    const int K = ktype ? 2816 : 3872, blk = gm_type_block(t);
    size_t rb = gm_type_row_bytes(t, K), nbytes = rb * ROWS * SLICES;
    float *wf = malloc(sizeof(float) * K * ROWS * SLICES), *X = malloc(sizeof(float) * K * N);
    unsigned char *rowq = malloc(nbytes), *pk = malloc(nbytes), *back = malloc(rb);
    float *Yr = malloc(sizeof(float) * ROWS * N), *Ys = malloc(sizeof(float) * ROWS * N);
    float *Y1 = malloc(sizeof(float) * ROWS * N), *Yn = malloc(sizeof(float) * ROWS * N), *Y3 = malloc(sizeof(float) * ROWS * N);
    for (int i = 0; i < K * ROWS * SLICES; i++) wf[i] = frand() * (float)(i / K % 3 + 1);
    for (int i = 0; i < K * N; i++) X[i] = frand() * 2.5f;
    gm_err err = {0};
    gm_tensor src = { GM_TYPE_F32, {K, ROWS, SLICES}, K * 4, sizeof(float) * K * ROWS * SLICES, wf, "p.weight", NULL };
    CHECK(gm_quantize_tensor_into(&src, t, rowq, nbytes, p3, &err) == 0, "%s packed: row-layout reference quantized", gm_type_name(t));
    pack_tensor(t, K, ROWS, SLICES, rowq, pk);
    int round = 1;
    for (int r = 0; r < GM_QP_ROWS; r++) {
        gm_qunpack_row(t, K / blk, pk + rb * ROWS, r, back);
        round &= memcmp(back, rowq + rb * (ROWS + (size_t)r), rb) == 0;
    }
    gm_tensor Wr = { t, {K, ROWS, SLICES}, rb, nbytes, rowq, "p.weight", NULL };
    gm_tensor Wp = { t, {K, ROWS, SLICES}, rb, nbytes, pk, "p.weight", pk };
    float a[KMAX], b[KMAX];
    for (int r = 0; r < ROWS; r += 3) {
        gm_tensor_row(&Wr, 1, r, a);
        gm_tensor_row(&Wp, 1, r, b);
        round &= memcmp(a, b, sizeof(float) * (size_t)K) == 0;
    }
    CHECK(round, "%s packed: groups unpack to the row layout; gm_tensor_row reads packed rows", gm_type_name(t));
    /* the portable tile (scalar path on a packed tensor) against the row reference */
    int rc = gm_qmatmul_isa(p1, GM_QISA_SCALAR, &Wr, 1, X, K, N, Yr, ROWS);
    rc |= gm_qmatmul_isa(p1, GM_QISA_SCALAR, &Wp, 1, X, K, N, Ys, ROWS);
    double worst = 0;
    for (int tok = 0; tok < N; tok++)
        for (int r = 0; r < ROWS; r++) {
            gm_tensor_row(&Wr, 1, r, a);
            double mag = 0;
            for (int i = 0; i < K; i++) mag += fabs((double)a[i] * X[(size_t)tok * K + i]);
            double e = fabs((double)Ys[tok * ROWS + r] - Yr[tok * ROWS + r]) / (mag + 1e-9);
            if (e > worst) worst = e;
        }
    CHECK(rc == 0 && worst < 1e-5, "%s packed portable tile within 1e-5 relative of the row reference (worst %.2e)",
          gm_type_name(t), worst);
    if (ktype)
        CHECK(memcmp(Ys, Yr, sizeof(float) * ROWS * N) == 0, "%s packed portable tile == row reference bit for bit",
              gm_type_name(t));
    for (int isa = 1; isa < GM_QISA_COUNT; isa++) {
        if (!gm_qisa_supported((gm_qisa)isa)) continue;
        rc = 0;
        for (int tok = 0; tok < N; tok++)
            rc |= gm_qmatmul_isa(p1, (gm_qisa)isa, &Wp, 1, X + (size_t)tok * K, K, 1, Y1 + tok * ROWS, ROWS);
        rc |= gm_qmatmul_isa(p1, (gm_qisa)isa, &Wp, 1, X, K, N, Yn, ROWS);
        rc |= gm_qmatmul_isa(p3, (gm_qisa)isa, &Wp, 1, X, K, N, Y3, ROWS);
        CHECK(rc == 0 && memcmp(Y1, Yn, sizeof(float) * ROWS * N) == 0 && memcmp(Yn, Y3, sizeof(float) * ROWS * N) == 0 &&
              memcmp(Yn, Ys, sizeof(float) * ROWS * N) == 0,
              "%s packed, %s path: same bits as the portable tile; %d tokens one at a time == one batch; 1 == 3 threads",
              gm_type_name(t), gm_qisa_name((gm_qisa)isa), N);
    }
    /* every token count of a tile (1..GM_QP_TOKENS) on every tile path */
    size_t ab = (size_t)(K / blk) * gm_qact_block_bytes(t);
    unsigned char *xq = malloc(ab * GM_QP_TOKENS);
    for (int u = 0; u < GM_QP_TOKENS; u++) {
        if (ktype) gm_quantize_act_q8k(X + (size_t)u * K, (gm_bq8k *)(xq + ab * (size_t)u), K);
        else gm_quantize_act_q8c(t, X + (size_t)u * K, (gm_bq8c *)(xq + ab * (size_t)u), K);
    }
    float ref[GM_QP_TOKENS * 16], ref1[GM_QP_TOKENS * 16], got[GM_QP_TOKENS * 16];
    gm_qtile_scalar(t)(K / blk, pk, xq, ab, GM_QP_TOKENS, ref, 16, false);
    gm_qtile_scalar(t)(K / blk, pk + GM_QP_ROWS * rb, xq, ab, GM_QP_TOKENS, ref1, 16, false);
    for (int isa = 0; isa < GM_QISA_COUNT; isa++) {
        gm_qtile_fn tile = gm_qtile_get(t, (gm_qisa)isa);
        if (!tile || (isa > 0 && tile == gm_qtile_scalar(t))) continue;   /* paths without their own tile */
        int same = 1;
        for (int nt = 1; nt <= GM_QP_TOKENS; nt++) {
            for (int u0 = 0; u0 + nt <= GM_QP_TOKENS; u0 += nt) {
                tile(K / blk, pk, xq + ab * (size_t)u0, ab, nt, got, 16, false);
                same &= memcmp(got, ref + 16 * u0, sizeof(float) * 16 * (size_t)nt) == 0;
            }
        }
        CHECK(same, "%s packed %s tile: every token count gives the portable tile's bits", gm_type_name(t),
              gm_qisa_name((gm_qisa)isa));
        same = split_tiles(t, tile, K / blk, pk, xq, ab, ref);
        CHECK(same, "%s packed %s tile: a group taken in runs of blocks (sums continued) gives the same bits",
              gm_type_name(t), gm_qisa_name((gm_qisa)isa));
        same = prepped_tiles(t, (gm_qisa)isa, K / blk, pk, xq, ab, ref);
        CHECK(same, "%s packed %s path: prefill's rewritten runs (gm_qprep) give the same bits and bytes on every path",
              gm_type_name(t), gm_qisa_name((gm_qisa)isa));
        if (gm_qprep_get(t, (gm_qisa)isa).tile2)
            CHECK(paired_tiles(t, (gm_qisa)isa, K / blk, pk, GM_QP_ROWS * rb, xq, ab, ref, ref1),
                  "%s packed %s path: the 32-row tile, every token count, in runs, gives each group's 16-row bits",
                  gm_type_name(t), gm_qisa_name((gm_qisa)isa));
    }
    /* the activation quantizers agree byte for byte (ties, zeros, a large block) */
    if (!ktype) {
        float xa[KMAX];
        for (int i = 0; i < K; i++) xa[i] = i % 97 == 0 ? 0.5f * (float)(i % 5) : frand() * (float)(1 + i / 320);
        for (int i = 64; i < 96; i++) xa[i] = 0.0f;
        gm_bq8c *qa = malloc(ab), *qb = malloc(ab);
        gm_quantize_act_q8c_portable(t, xa, qa, K);
        gm_quantize_act_q8c(t, xa, qb, K);
        int same = memcmp(qa, qb, ab) == 0;
        if (gm_qisa_supported(GM_QISA_AVX512)) {
            gm_quantize_act_q8c_avx512(t, xa, qb, K);
            same &= memcmp(qa, qb, ab) == 0;
        }
        CHECK(same, "%s gm_bq8c activation quantizers (portable, chosen%s) write the same bytes", gm_type_name(t),
              gm_qisa_supported(GM_QISA_AVX512) ? ", avx512" : "");
        free(qa); free(qb);
    }
    bool want = gm_qpack_native(t, gm_qisa_best());
    /* a row-layout tensor (a mapped file) repacked */
    gm_tensor rp;
    int prc = gm_qpack_tensor(&Wr, &rp, p3, &err);
    CHECK(want ? prc == 0 && rp.packed == rp.data && memcmp(rp.data, pk, nbytes) == 0 && rp.nbytes == nbytes
               : prc == 1, "%s gm_qpack_tensor %s", gm_type_name(t), want ? "repacks a row-layout tensor" : "leaves rows alone here");
    if (prc == 0) free((void *)rp.data);
    /* what gm_quantize_tensor gives */
    gm_tensor q;
    CHECK(gm_quantize_tensor(&src, t, &q, p3, &err) == 0, "%s gm_quantize_tensor", gm_type_name(t));
    CHECK((q.packed != NULL) == want && q.packed == (want ? q.data : NULL) &&
          memcmp(q.data, want ? pk : rowq, nbytes) == 0,
          "%s gm_quantize_tensor %s (the best path %s its own tile)", gm_type_name(t), want ? "packs 16-row groups" : "keeps rows",
          want ? "has" : "lacks");
    free((void *)q.data);
    free(xq); free(wf); free(X); free(rowq); free(pk); free(back); free(Yr); free(Ys); free(Y1); free(Yn); free(Y3);
}

/* A type without a packed layout (the formats read in place only): no
 * path has a tile for it, gm_qpack_tensor leaves a row-layout tensor alone
 * and gm_quantize_tensor keeps rows (gm_quantize_row's bytes), whatever
 * the CPU; test_packed does not apply. */
static void test_unpacked(gm_type t, gm_pool *p)
{
    enum { K = 512, ROWS = 40 };
    size_t rb = gm_type_row_bytes(t, K);
    float *wf = malloc(sizeof(float) * K * ROWS);
    unsigned char *rowq = malloc(rb * ROWS);
    for (int i = 0; i < K * ROWS; i++) wf[i] = frand();
    for (int r = 0; r < ROWS; r++) gm_quantize_row(t, wf + (size_t)r * K, rowq + rb * (size_t)r, K);
    bool tile = false;
    for (int isa = 0; isa < GM_QISA_COUNT; isa++) tile |= gm_qtile_get(t, (gm_qisa)isa) != NULL || gm_qpack_native(t, (gm_qisa)isa);
    gm_err err = {0};
    gm_tensor Wr = { t, {K, ROWS, 1}, rb, rb * ROWS, rowq, "u.weight", NULL }, rp, q;
    int prc = gm_qpack_tensor(&Wr, &rp, p, &err);
    gm_tensor src = { GM_TYPE_F32, {K, ROWS, 1}, K * 4, sizeof(float) * K * ROWS, wf, "u.weight", NULL };
    int qrc = gm_quantize_tensor(&src, t, &q, p, &err);
    CHECK(!tile && prc == 1 && qrc == 0 && q.packed == NULL && memcmp(q.data, rowq, rb * ROWS) == 0,
          "%s has no packed layout: no tile on any path, gm_qpack_tensor leaves rows alone, gm_quantize_tensor "
          "keeps gm_quantize_row's rows (packed tests skipped)", gm_type_name(t));
    if (qrc == 0) free((void *)q.data);
    free(wf);
    free(rowq);
}

/* The in-place formats on raw bit patterns at the edges of their range:
 * blocks of all-zero bytes (IQ4: every level -127; Q3_K: level 0 = -4
 * with scale -32), all-ones bytes (IQ4: 113; Q3_K: level 7 with scale 31;
 * Q2_K: level 3, scale and min 15) and random bytes, with sane f16
 * scales, times activations at +-127, equal in pairs (the pairs vpmaddubsw
 * adds in 16 bits, at most 2 * 127 * 127 here) and of random signs.
 * Every SIMD path: the K types the portable kernel's bits, the others
 * within 1e-5 relative; all paths the same bits; x4 == x1. */
static void test_extra_edges(gm_type t)
{
    enum { K = 2048, ROWS = 6 };
    int blk = gm_type_block(t);
    int64_t nb = K / blk;
    size_t bb = gm_type_block_bytes(t), rb = gm_type_row_bytes(t, K), ab = (size_t)nb * gm_qact_block_bytes(t);
    size_t dpos = 0, mpos = (size_t)-1;                 /* where the f16 scale and second f16 (m, dmin) sit */
    if (t == GM_TYPE_Q4_1) mpos = 2;
    if (t == GM_TYPE_Q2_K) { dpos = 80; mpos = 82; }
    if (t == GM_TYPE_Q3_K) dpos = 108;
    unsigned char *w = malloc(rb * ROWS), *xq = malloc(ab * 4);
    uint32_t s = 12345;
    for (int r = 0; r < ROWS; r++)
        for (int64_t b = 0; b < nb; b++) {
            unsigned char *blkp = w + rb * (size_t)r + bb * (size_t)b;
            for (size_t i = 0; i < bb; i++) {
                s = s * 1664525u + 1013904223u;
                blkp[i] = r % 3 == 0 ? 0x00 : r % 3 == 1 ? 0xFF : (unsigned char)(s >> 24);
            }
            uint16_t d = gm_f32_to_f16(0.002f * (float)(1 + (b + r) % 5)), m = gm_f32_to_f16(-0.01f * (float)(r + 1));
            memcpy(blkp + dpos, &d, 2);
            if (mpos != (size_t)-1) memcpy(blkp + mpos, &m, 2);
        }
    float *x = malloc(sizeof(float) * K);
    for (int u = 0; u < 4; u++) {
        for (int i = 0; i < K; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = u == 0 ? ((i / 2) % 2 ? 1.0f : -1.0f) : u == 1 ? -1.0f : (s >> 31) ? 1.0f : -1.0f;
            if (u == 3) x[i] = ((i / 2) % 2 ? 1.0f : -1.0f);     /* pairs alike, then */
            if (u == 3 && (i / 2) % 7 == 0) x[i] *= 0.5f;        /* a few smaller */
        }
        quant_act(t, x, xq + ab * (size_t)u, K);
    }
    gm_qdot_fn ref = gm_qdot_scalar(t).x1;
    for (int isa = 1; isa < GM_QISA_COUNT; isa++) {
        gm_qkern k = gm_qkern_get(t, (gm_qisa)isa), k0 = gm_qkern_get(t, GM_QISA_AVX2);
        if (!k.x1 || !k.x4) continue;
        int n_ok = 0, n = 0;
        double worst = 0;
        for (int r = 0; r < ROWS; r++) {
            const unsigned char *wr = w + rb * (size_t)r;
            float o[4];
            k.x4(nb, wr, xq, ab, o);
            for (int u = 0; u < 4; u++, n++) {
                const unsigned char *xu = xq + ab * (size_t)u;
                float want = ref(nb, wr, xu), got = k.x1(nb, wr, xu);
                float wd[K];
                gm_dequantize_row(t, wr, wd, K);
                const gm_bq8 *x32 = (const gm_bq8 *)xu;
                const gm_bq8k *x256 = (const gm_bq8k *)xu;
                double mag = 0;      /* sum |w * x| over the quantized activations */
                for (int i = 0; i < K; i++) {
                    double xv = blk == GM_QKK ? (double)x256[i / 256].d * x256[i / 256].qs[i % 256]
                                              : (double)x32[i / 32].d * x32[i / 32].qs[i % 32];
                    mag += fabs((double)wd[i] * xv);
                }
                double e = fabs((double)got - want) / (mag + 1e-30);
                if (e > worst) worst = e;
                bool close = blk == GM_QKK ? got == want : e <= 1e-5;
                n_ok += close && o[u] == got && got == k0.x1(nb, wr, xu);
            }
        }
        CHECK(n_ok == n, "%s edge bit patterns, %s path: %s the reference, same bits as avx2, x4 == x1 (%d/%d; worst %.1e)",
              gm_type_name(t), gm_qisa_name((gm_qisa)isa), blk == GM_QKK ? "bit for bit" : "within 1e-5 of", n_ok, n, worst);
    }
    free(w); free(xq); free(x);
}

/* Q8_0 weights at the edges of their range (-128, which no quantizer writes
 * but a GGUF file may hold, and +-127) times activations at +-127, equal
 * in pairs (the pairs vpmaddubsw adds in 16 bits): every
 * tile path (the 256-bit one without VNNI takes |w| with w's sign, where
 * vpmaddubsw must not saturate) gives the portable tile's bits. */
static void test_q8_edges(void)
{
    enum { K = 96, NB = K / 32 };
    gm_block_q8_0 rows[16][NB];
    for (int r = 0; r < 16; r++)
        for (int b = 0; b < NB; b++) {
            rows[r][b].d = gm_f32_to_f16(0.01f * (float)(r + 1));
            for (int i = 0; i < 32; i++)
                rows[r][b].qs[i] = (int8_t)((i / 2 + r + b) % 3 == 0 ? -128 : (i / 2 + r + b) % 3 == 1 ? 127 : -127);
        }
    unsigned char pk[sizeof rows];
    gm_qpack_group(GM_TYPE_Q8_0, NB, rows, sizeof rows[0], pk);
    float x[GM_QP_TOKENS][K];
    for (int u = 0; u < GM_QP_TOKENS; u++)
        for (int i = 0; i < K; i++) x[u][i] = ((i / 2 + u) % 2 ? 1.0f : -1.0f) * (float)(1 + u);   /* pairs alike */
    gm_bq8c xq[GM_QP_TOKENS][NB];
    for (int u = 0; u < GM_QP_TOKENS; u++) gm_quantize_act_q8c(GM_TYPE_Q8_0, x[u], xq[u], K);
    float ref[GM_QP_TOKENS * 16], got[GM_QP_TOKENS * 16];
    gm_qtile_scalar(GM_TYPE_Q8_0)(NB, pk, xq, sizeof xq[0], GM_QP_TOKENS, ref, 16, false);
    /* the exact sum of row 0, token 0, as a sanity check of the reference */
    double want = 0, mag = 0;
    for (int b = 0; b < NB; b++) {
        int isum = 0;
        for (int i = 0; i < 32; i++) isum += rows[0][b].qs[i] * xq[0][b].qs[i];
        want += (double)isum * gm_f16_to_f32(rows[0][b].d) * xq[0][b].d;
        mag += fabs((double)isum * gm_f16_to_f32(rows[0][b].d) * xq[0][b].d);
    }
    CHECK(fabs(ref[0] - want) <= 1e-6 * mag, "Q8_0 edge values: portable tile %g == exact %g (block sums up to %g)",
          ref[0], want, mag);
    for (int isa = 1; isa < GM_QISA_COUNT; isa++) {
        gm_qtile_fn tile = gm_qtile_get(GM_TYPE_Q8_0, (gm_qisa)isa);
        if (!tile || tile == gm_qtile_scalar(GM_TYPE_Q8_0)) continue;
        tile(NB, pk, xq, sizeof xq[0], GM_QP_TOKENS, got, 16, false);
        CHECK(memcmp(got, ref, sizeof got) == 0, "Q8_0 edge values (-128, +-127 times +-127): %s tile == portable",
              gm_qisa_name((gm_qisa)isa));
    }
}

/* Sub-block j's 6-bit scale and min into a K block's 12 scale bytes (the
 * format's packing, the inverse of gm_k_scale_min). */
static void k_put_scale_min(uint8_t *q, int j, int sc, int m)
{
    if (j < 4) {
        q[j] = (uint8_t)((q[j] & 0xC0) | sc);
        q[j + 4] = (uint8_t)((q[j + 4] & 0xC0) | m);
    } else {
        q[j + 4] = (uint8_t)((sc & 15) | ((m & 15) << 4));
        q[j - 4] = (uint8_t)((q[j - 4] & 0x3F) | ((sc >> 4) << 6));
        q[j] = (uint8_t)((q[j] & 0x3F) | ((m >> 4) << 6));
    }
}

/* Q4_K and Q5_K at the top of their range: levels 15 (31), scales and
 * mins 63, activations at +-127 of one sign per token, so a super-block's
 * integer sum of scaled dots reaches 3e7 (Q4_K) or 6e7 (Q5_K), past 2^24
 * where a float cannot hold every integer.  One level per super-block is
 * one less (in a sub-block with an odd scale; another one's is even), so
 * the sum is odd and must be rounded: every tile
 * path and prefill's rewritten runs (which sum Q4_K's sub-blocks in float
 * halves) must give the portable tile's bits, and the portable tile must
 * be the exact sum rounded once. */
static void test_k_edges(gm_type t)
{
    enum { NB = 12, K = 256 * NB };
    const bool five = t == GM_TYPE_Q5_K;
    const int top = five ? 31 : 15;
    size_t bb = five ? sizeof(gm_block_q5_K) : sizeof(gm_block_q4_K), rb = bb * NB;
    unsigned char *rows = calloc(16, rb), *pk = calloc(16, rb);
    int lv[16][NB][256];
    for (int r = 0; r < 16; r++)
        for (int b = 0; b < NB; b++) {
            unsigned char *blk = rows + rb * (size_t)r + bb * (size_t)b;
            uint8_t *sc = blk + 4, *qs = blk + (five ? 48 : 16), *qh = blk + 16;
            uint16_t d = gm_f32_to_f16(0.001f * (float)(r + 1)), dmin = gm_f32_to_f16(0.0005f);
            memcpy(blk, &d, 2);
            memcpy(blk + 2, &dmin, 2);
            for (int j = 0; j < 8; j++) k_put_scale_min(sc, j, 60 + (3 * j + r + b) % 4, 63);
            for (int i = 0; i < 256; i++) {
                int l = top - ((37 * i + 11 * r + 5 * b) % 3 == 0);
                lv[r][b][i] = l;
                /* element i: chunk c = i / 64, low nibble for i % 64 < 32 */
                int c = i / 64, l32 = i % 32, hi = (i % 64) / 32;
                qs[32 * c + l32] |= (uint8_t)((l & 15) << (4 * hi));
                if (five && (l & 16)) qh[l32] |= (uint8_t)(1u << (2 * c + hi));
            }
        }
    gm_qpack_group(t, NB, rows, rb, pk);
    float x[GM_QP_TOKENS][K];
    for (int u = 0; u < GM_QP_TOKENS; u++)
        for (int i = 0; i < K; i++) x[u][i] = (u % 2 ? -1.0f : 1.0f) * (float)(u + 1);
    size_t ab = NB * gm_qact_block_bytes(t);
    unsigned char *xq = malloc(ab * GM_QP_TOKENS);
    for (int u = 0; u < GM_QP_TOKENS; u++) gm_quantize_act_q8k(x[u], (gm_bq8k *)(xq + ab * (size_t)u), K);
    float ref[GM_QP_TOKENS * 16], got[GM_QP_TOKENS * 16];
    gm_qtile_scalar(t)(NB, pk, xq, ab, GM_QP_TOKENS, ref, 16, false);
    /* token 0, row 0 by hand: per super-block gm_ksum of the exact sums */
    const gm_bq8k *x0 = (const gm_bq8k *)xq;
    float want = 0;
    long long biggest = 0;
    int inexact = 0;
    for (int b = 0; b < NB; b++) {
        const unsigned char *blk = rows + bb * (size_t)b;
        long long is = 0, ms = 0;
        for (int j = 0; j < 8; j++) {
            int s, m;
            gm_k_scale_min(j, blk + 4, &s, &m);
            long long dot = 0, bs = 0;
            for (int i = 32 * j; i < 32 * j + 32; i++) { dot += lv[0][b][i] * x0[b].qs[i]; bs += x0[b].qs[i]; }
            is += s * dot;
            ms += m * bs;
        }
        if (llabs(is) > biggest) biggest = llabs(is);
        inexact += (long long)(float)is != is;
        uint16_t d, dmin;
        memcpy(&d, blk, 2);
        memcpy(&dmin, blk + 2, 2);
        want += gm_ksum(x0[b].d, gm_f16_to_f32(d), gm_f16_to_f32(dmin), (int)is, (int)ms);
    }
    CHECK(biggest > (1 << 24) && inexact > NB / 2 && ref[0] == want,
          "%s edge values: portable tile %.9g == per-super-block exact sums %.9g (largest %lld > 2^24; "
          "%d of %d not a float)", gm_type_name(t), ref[0], want, biggest, inexact, NB);
    for (int isa = 1; isa < GM_QISA_COUNT; isa++) {
        if (!gm_qisa_supported((gm_qisa)isa)) continue;
        gm_qtile_fn tile = gm_qtile_get(t, (gm_qisa)isa);
        if (!tile || tile == gm_qtile_scalar(t)) continue;
        tile(NB, pk, xq, ab, GM_QP_TOKENS, got, 16, false);
        int same = memcmp(got, ref, sizeof got) == 0;
        same &= prepped_tiles(t, (gm_qisa)isa, NB, pk, xq, ab, ref);
        CHECK(same, "%s edge values: %s tile and its prefill runs == portable bit for bit", gm_type_name(t),
              gm_qisa_name((gm_qisa)isa));
    }
    free(rows);
    free(pk);
    free(xq);
}

/* gm_matmul_multi gives each output the bits of its own gm_matmul call:
 * matrices that share the activations (Q8_0 x 3 with a row count that is no
 * multiple of 16; Q4_K or Q5_K with Q6_K, as in Q4_K_M and Q5_K_M files) and ones that cannot
 * (Q8_0 with Q4_0, BF16 with Q8_0), for decode, a short and a long batch. */
static void test_multi(gm_pool *p)
{
    enum { K = 512, NMAX = 40 };
    static const struct { int count; gm_type t[3]; int rows[3]; bool share; } CASES[] = {
        { 3, { GM_TYPE_Q8_0, GM_TYPE_Q8_0, GM_TYPE_Q8_0 }, { 64, 40, 37 }, true },
        { 2, { GM_TYPE_Q4_K, GM_TYPE_Q6_K }, { 48, 32 }, true },
        { 3, { GM_TYPE_Q5_K, GM_TYPE_Q6_K, GM_TYPE_Q5_K }, { 48, 32, 21 }, true },
        { 2, { GM_TYPE_Q8_0, GM_TYPE_Q4_0 }, { 32, 48 }, false },
        { 2, { GM_TYPE_BF16, GM_TYPE_Q8_0 }, { 16, 32 }, false },
    };
    gm_err err = {0};
    float *X = malloc(sizeof(float) * K * NMAX), *F = malloc(sizeof(float) * K * 64);
    for (int i = 0; i < K * NMAX; i++) X[i] = frand();
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        gm_tensor W[3];
        const gm_tensor *Wp[3];
        float *Ya[3], *Yb[3];
        int64_t ld[3];
        int n_ok = 0;
        for (int i = 0; i < CASES[c].count; i++) {
            for (int k = 0; k < K * CASES[c].rows[i]; k++) F[k] = frand();
            gm_tensor src = { GM_TYPE_F32, { K, CASES[c].rows[i], 1 }, K * 4, (size_t)K * CASES[c].rows[i] * 4, F, "w", NULL };
            n_ok += gm_quantize_tensor(&src, CASES[c].t[i], &W[i], p, &err) == 0;
            Wp[i] = &W[i];
            ld[i] = CASES[c].rows[i] + 3;
            Ya[i] = calloc((size_t)NMAX * ld[i], sizeof(float));
            Yb[i] = calloc((size_t)NMAX * ld[i], sizeof(float));
        }
        CHECK(n_ok == CASES[c].count, "multi case %zu: matrices made: %s", c, err.msg);
        if (CASES[c].share) {
            float *y1[3] = { Yb[0], Yb[1], Yb[2] };
            CHECK(gm_qmatmul_multi(p, CASES[c].count, Wp, X, K, 9, y1, ld) == 0,
                  "%s and %s share one quantization of the input", gm_type_name(CASES[c].t[0]), gm_type_name(CASES[c].t[1]));
        } else {
            CHECK(gm_qmatmul_multi(p, CASES[c].count, Wp, X, K, 9, Yb, ld) == -1,
                  "%s and %s cannot share: gm_qmatmul_multi declines", gm_type_name(CASES[c].t[0]), gm_type_name(CASES[c].t[1]));
        }
        static const int NS[] = { 1, 9, NMAX };
        for (int s = 0; s < 3; s++) {
            int n = NS[s], rc = gm_matmul_multi(p, CASES[c].count, Wp, X, K, n, Yb, ld), same = rc == 0;
            for (int i = 0; i < CASES[c].count; i++) {
                rc |= gm_matmul(p, &W[i], 0, X, K, n, Ya[i], ld[i]);
                same &= rc == 0 && memcmp(Ya[i], Yb[i], sizeof(float) * (size_t)n * ld[i]) == 0;
            }
            CHECK(same, "gm_matmul_multi of %d matrices (%s, %s%s), %d tokens: each output equals its own gm_matmul",
                  CASES[c].count, gm_type_name(CASES[c].t[0]), gm_type_name(CASES[c].t[1]),
                  CASES[c].count > 2 ? ", ..." : "", n);
        }
        for (int i = 0; i < CASES[c].count; i++) {
            free(Ya[i]); free(Yb[i]);
            free((void *)W[i].data);
        }
    }
    free(X); free(F);
}

/* gm_qmatmul_made with rows made by GeGLU (G = gelu(G) * U, as the MLP
 * does): G and Y are the bits of gm_vec_geglu per row then gm_qmatmul,
 * for 1 and 21 tokens on 1 and 3 threads and types of each activation
 * form, and for three matrices at once; it declines for BF16 weights,
 * making no row. */
typedef struct { float *g; const float *u; int64_t ld; int k, calls; } geglu_rows;
static void geglu_row(void *arg, int t)
{
    geglu_rows *r = arg;
    gm_vec_geglu(r->g + (size_t)t * r->ld, r->g + (size_t)t * r->ld, r->u + (size_t)t * r->ld, r->k);
    __atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
}

static void test_made(gm_pool *p1, gm_pool *p3)
{
    enum { K = 512, R = 48, N = 21, LD = K + 5 };
    static const gm_type T[] = { GM_TYPE_Q4_0, GM_TYPE_Q8_0, GM_TYPE_Q4_K, GM_TYPE_IQ4_NL };
    gm_err err = {0};
    float *G0 = malloc(sizeof(float) * LD * N), *U = malloc(sizeof(float) * LD * N), *F = malloc(sizeof(float) * K * R);
    float *Ga = malloc(sizeof(float) * LD * N), *Gb = malloc(sizeof(float) * LD * N);
    float *Ya = malloc(sizeof(float) * R * N), *Yb = malloc(sizeof(float) * 3 * R * N);
    for (int i = 0; i < LD * N; i++) { G0[i] = frand() * 3.0f; U[i] = frand(); }
    for (int i = 0; i < K * R; i++) F[i] = frand();
    gm_tensor src = { GM_TYPE_F32, { K, R, 1 }, K * 4, (size_t)K * R * 4, F, "w", NULL };
    for (size_t c = 0; c < sizeof T / sizeof T[0]; c++) {
        gm_tensor W;
        int same = gm_quantize_tensor(&src, T[c], &W, p3, &err) == 0;
        static const int NS[] = { 1, N };
        for (int s = 0; same && s < 2; s++)
            for (int th = 0; th < 2; th++) {
                gm_pool *p = th ? p3 : p1;
                int n = NS[s];
                memcpy(Ga, G0, sizeof(float) * LD * N);
                memcpy(Gb, G0, sizeof(float) * LD * N);
                for (int t = 0; t < n; t++) gm_vec_geglu(Ga + (size_t)t * LD, Ga + (size_t)t * LD, U + (size_t)t * LD, K);
                same &= gm_qmatmul(p, &W, 0, Ga, LD, n, Ya, R) == 0;
                geglu_rows gr = { Gb, U, LD, K, 0 };
                const gm_tensor *Wp = &W;
                int64_t ldy = R;
                same &= gm_qmatmul_made(p, 1, &Wp, Gb, LD, n, &Yb, &ldy, geglu_row, &gr) == 0 && gr.calls == n;
                same &= memcmp(Ga, Gb, sizeof(float) * LD * N) == 0 && memcmp(Ya, Yb, sizeof(float) * (size_t)R * n) == 0;
                if (s == 1 && th == 1) {   /* three products of the made rows share them */
                    float *Y3[3] = { Yb, Yb + R * N, Yb + 2 * R * N };
                    const gm_tensor *W3[3] = { &W, &W, &W };
                    int64_t ld3[3] = { R, R, R };
                    memcpy(Gb, G0, sizeof(float) * LD * N);
                    gr.calls = 0;
                    same &= gm_qmatmul_made(p, 3, W3, Gb, LD, n, Y3, ld3, geglu_row, &gr) == 0 && gr.calls == n;
                    for (int i = 0; i < 3; i++) same &= memcmp(Ya, Y3[i], sizeof(float) * (size_t)R * n) == 0;
                }
            }
        CHECK(same, "gm_qmatmul_made (%s, rows made by GeGLU): G and Y are the bits of gm_vec_geglu per row then "
              "gm_qmatmul, 1 and %d tokens, 1 and 3 threads, 1 and 3 matrices", gm_type_name(T[c]), N);
        free((void *)W.data);
    }
    gm_tensor B;
    int ok = gm_quantize_tensor(&src, GM_TYPE_BF16, &B, p3, &err) == 0;
    memcpy(Gb, G0, sizeof(float) * LD * N);
    geglu_rows gr = { Gb, U, LD, K, 0 };
    const gm_tensor *Bp = &B;
    int64_t ldy = R;
    ok &= gm_qmatmul_made(p3, 1, &Bp, Gb, LD, N, &Yb, &ldy, geglu_row, &gr) == -1 && gr.calls == 0 &&
          memcmp(Gb, G0, sizeof(float) * LD * N) == 0;
    CHECK(ok, "gm_qmatmul_made declines BF16 weights and makes no row");
    free((void *)B.data);
    free(G0); free(U); free(F); free(Ga); free(Gb); free(Ya); free(Yb);
}

/* The chosen activation quantizers write the portable ones' bytes. */
static void test_act_quant(void)
{
    enum { N = 2816 };
    static float x[N];
    for (int i = 0; i < N; i++) x[i] = i % 89 == 0 ? 0.25f * (float)(i % 7) : frand() * (float)(1 + i / 256);
    for (int i = 512; i < 768; i++) x[i] = 0.0f;                 /* an all-zero super-block */
    static gm_bq8 a[N / 32], b[N / 32];
    static gm_bq8k ak[N / 256], bk[N / 256];
    int same = 1;
    for (int k = 0; k < 2; k++) {                                /* amax / 127, and powers of two */
        gm_type t = k ? GM_TYPE_Q4_0 : GM_TYPE_Q8_0;
        gm_quantize_act_q8_portable(t, x, a, N);
        gm_quantize_act_q8(t, x, b, N);
        same &= memcmp(a, b, sizeof a) == 0;
    }
    gm_quantize_act_q8k_portable(x, ak, N);
    gm_quantize_act_q8k(x, bk, N);
    CHECK(same && memcmp(ak, bk, sizeof ak) == 0,
          "gm_quantize_act_q8 / _q8k write the portable quantizers' bytes on this CPU's path");
}

/* gm_act_scale with powers of two: the smallest 2^e >= amax / 127 (at
 * least 2^-126) and its exact inverse, by hand for a few amax and by its
 * definition over a sweep; amax / 127 without; non-finite amax kept. */
static void test_act_scale(void)
{
    const struct { float amax, d; } hand[] = {
        {127.0f, 1.0f}, {127.5f, 2.0f}, {1.0f, 0x1p-6f}, {0.9921875f, 0x1p-7f}, {0.0f, 0x1p-126f},
        {1e-37f, 0x1p-126f}, {3e38f, 0x1p+121f},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        float id, d = gm_act_scale(true, hand[i].amax, &id);
        ok &= d == hand[i].d && id == 1.0f / hand[i].d;
    }
    for (float a = 1e-30f; a < 1e30f; a *= 1.37f) {
        float id, d = gm_act_scale(true, a, &id);
        int e;
        ok &= frexpf(d, &e) == 0.5f && 127.0f * d >= a && 127.0f * (d * 0.5f) < a && d * id == 1.0f;
    }
    float id, d = gm_act_scale(false, 2.54f, &id);
    ok &= d == 2.54f / 127.0f && id == 127.0f / 2.54f;
    d = gm_act_scale(true, INFINITY, &id);
    ok &= d == INFINITY && id == 0.0f;
    d = gm_act_scale(true, NAN, &id);
    ok &= isnan(d) && id == 0.0f;
    CHECK(ok, "gm_act_scale: powers of two by hand and by definition; amax / 127 without; inf and NaN kept");
    CHECK(gm_act_pow2(GM_TYPE_Q4_0) && gm_act_pow2(GM_TYPE_Q5_0) && !gm_act_pow2(GM_TYPE_Q8_0) &&
          !gm_act_pow2(GM_TYPE_Q5_1), "powers of two for Q4_0 and Q5_0 only");
}

/* gm_quantize_tensor converts a float tensor and refuses incompatible widths. */
static void test_quantize_tensor(gm_pool *p)
{
    enum { K = 512, R = 6 };
    static uint16_t src[K * R];
    for (int i = 0; i < K * R; i++) src[i] = gm_f32_to_bf16(frand());
    gm_tensor s = { GM_TYPE_BF16, {K, 3, 2}, K * 2, sizeof src, src, "layers.0.experts.down_proj", NULL }, q;
    gm_err err = {0};
    CHECK(gm_quantize_tensor(&s, GM_TYPE_Q4_K, &q, p, &err) == 0, "gm_quantize_tensor BF16 -> Q4_K (a 3D expert stack)");
    CHECK(q.nbytes == 6 * 2 * 144 && q.row_bytes == 288 && q.ne[2] == 2, "quantized tensor has the Q4_K size and shape");
    float a[K], b[K];
    gm_tensor_row(&s, 1, 2, a);   /* float source row via the float path */
    gm_qtensor_row(&q, 1, 2, b);
    double e2 = 0, x2 = 0;
    for (int i = 0; i < K; i++) { e2 += (double)(a[i] - b[i]) * (a[i] - b[i]); x2 += (double)a[i] * a[i]; }
    CHECK(sqrt(e2 / x2) < 0.08, "slice 1 row 2 survives quantization (rel RMS %.4f)", sqrt(e2 / x2));
    free((void *)q.data);
    gm_tensor odd = { GM_TYPE_BF16, {48, 2, 1}, 96, 192, src, "layers.0.mlp.up_proj.weight", NULL };
    CHECK(gm_quantize_tensor(&odd, GM_TYPE_Q4_K, &q, p, &err) == -1 && strstr(err.msg, "up_proj") &&
          strstr(err.msg, "48"), "a 48-wide tensor cannot become Q4_K; message names it: %s", err.msg);
}

/* Resident pages of this process (from /proc/self/statm). */
static long rss_pages(void)
{
    long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { if (fscanf(f, "%ld %ld", &size, &rss) != 2) rss = 0; fclose(f); }
    return rss;
}

/* gm_tensor_release_pages drops a mapped tensor's pages; reading again still works. */
static void test_release_pages(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/gemmash_release_%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    enum { BYTES = 16 << 20 };
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    char *blk = calloc(1, 1 << 20);
    for (int i = 0; i < (1 << 20); i++) blk[i] = (char)(i * 7);
    int ok = fd >= 0 && blk;
    for (int i = 0; ok && i < 16; i++) ok = write(fd, blk, 1 << 20) == (1 << 20);
    const unsigned char *map = ok ? mmap(NULL, BYTES, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    if (fd >= 0) close(fd);
    unlink(path);
    if (map == MAP_FAILED) { CHECK(0, "release pages: could not map a test file"); free(blk); return; }
    unsigned sum = 0;   /* touch every page so it is resident */
    for (size_t i = 0; i < BYTES; i += 4096) sum += map[i];
    __asm__ volatile("" : : "r"(sum));
    long before = rss_pages();
    gm_tensor t = { GM_TYPE_Q8_0, {32, BYTES / 34, 1}, 34, (size_t)(BYTES / 34) * 34, map, "big", NULL };
    gm_tensor_release_pages(&t);
    long after = rss_pages();
    int same = 1;
    for (size_t i = 0; i < BYTES; i += 4099) same &= map[i] == (unsigned char)(char)((i % (1 << 20)) * 7);
    CHECK(before - after > 3000 && same, "releasing a 16 MiB mapped tensor drops its pages (%ld -> %ld resident) and it still reads back",
          before, after);
    munmap((void *)map, BYTES);
    free(blk);
}

int main(void)
{
    gm_err err = {0};
    gm_pool *p1 = gm_pool_new(1, &err), *p3 = gm_pool_new(3, &err);
    CHECK(p1 && p3, "thread pools start");
    __builtin_cpu_init();
    CHECK(gm_cpu_has(GM_CPU_AVX2) == (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) &&
          gm_cpu_has(GM_CPU_AVX512VNNI) == (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
                                            __builtin_cpu_supports("avx512vl")),
          "cpuid feature detection agrees with the compiler's (avx2 %d, avx-vnni %d, avx512-vnni %d)",
          gm_cpu_has(GM_CPU_AVX2), gm_cpu_has(GM_CPU_AVXVNNI), gm_cpu_has(GM_CPU_AVX512VNNI));
    for (int isa = 0; isa < GM_QISA_COUNT; isa++)
        printf("# path %s: %s\n", gm_qisa_name((gm_qisa)isa), gm_qisa_supported((gm_qisa)isa) ? "supported" : "absent");
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) test_paths(TYPES[i]);
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) test_matmul(TYPES[i], p1, p3);
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        if (gm_qpack_type(TYPES[i])) test_packed(TYPES[i], p1, p3);
        else test_unpacked(TYPES[i], p3);
    }
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!gm_qpack_type(TYPES[i])) test_extra_edges(TYPES[i]);
    test_q8_edges();
    test_k_edges(GM_TYPE_Q4_K);
    test_k_edges(GM_TYPE_Q5_K);
    test_multi(p3);
    test_made(p1, p3);
    test_act_quant();
    test_act_scale();
    test_quantize_tensor(p3);
    test_release_pages();
    gm_pool_free(p1);
    gm_pool_free(p3);
    return check_exit();
}
