/* qbench.c: kernel-level figures for the quantized matrix products.
 *
 * For each weight type (BF16 through gm_matmul, Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K
 * and the formats read in place only, Q4_1, IQ4_NL, Q2_K, Q3_K, IQ4_XS, through
 * gm_qmatmul) and each integer kernel path the CPU runs:
 *   - GEMV (one token, the decode step): weight bytes streamed per second,
 *     with a matrix larger than the last-level cache;
 *   - GEMM (a batch of tokens, prefill): integer multiply-adds per second;
 *   - for the row-interleaved layout, also the 16-row tile alone on one
 *     thread with its data in L1 cache, as a fraction of one core's int8
 *     peak: the most a prefill's matrix products can get from that kernel.
 * The int8 peak of one core (a register-only vpdpbusd/vpmaddubsw loop) is
 * measured separately (qpeak_*.c, all threads at once via int8peak.c) so
 * the kernels can be read against it.
 * Usage: qbench [threads] [gemv_mib] [type]   (defaults: all cores, 384 MiB, every type). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "measure.h"
#include "quant.h"

double gm_bench_peak_avx2(double seconds);
double gm_bench_peak_avx512(double seconds);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fill a buffer with random bytes, then give every block a sane scale so
 * the float work is ordinary (no NaN/denormal slow paths). */
static void fill_blocks(gm_type t, unsigned char *p, size_t nbytes)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i + 8 <= nbytes; i += 8) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; memcpy(p + i, &s, 8); }
    size_t bb = gm_type_block_bytes(t);
    for (size_t off = 0; off + bb <= nbytes; off += bb) {
        uint16_t h = 0x2C00;   /* 1/16 */
        switch (t) {
        case GM_TYPE_Q8_0: case GM_TYPE_Q4_0: case GM_TYPE_Q5_0: case GM_TYPE_IQ4_NL: case GM_TYPE_IQ4_XS:
            memcpy(p + off, &h, 2);
            break;
        case GM_TYPE_Q5_1: case GM_TYPE_Q4_1: memcpy(p + off, &h, 2); memcpy(p + off + 2, &h, 2); break;
        case GM_TYPE_Q2_K: memcpy(p + off + 80, &h, 2); memcpy(p + off + 82, &h, 2); break;
        case GM_TYPE_Q3_K: memcpy(p + off + 108, &h, 2); break;
        case GM_TYPE_Q4_K: case GM_TYPE_Q5_K: memcpy(p + off, &h, 2); memcpy(p + off + 2, &h, 2); break;
        case GM_TYPE_Q6_K: memcpy(p + off + 208, &h, 2); break;
        case GM_TYPE_BF16: case GM_TYPE_F16: case GM_TYPE_F32:
            for (size_t i = off; i + 2 <= off + bb; i += 2) { uint16_t v = (uint16_t)(0x3C00 | (p[i] & 0x3F)); memcpy(p + i, &v, 2); }
            break;
        }
    }
}

typedef struct { const uint64_t *p; size_t n; uint64_t sum[64]; } read_job;

/* Each thread sums its share of the buffer: the plain streaming-read rate. */
static void read_worker(void *arg, int ith, int nth)
{
    read_job *j = arg;
    size_t a = j->n * (size_t)ith / (size_t)nth, b = j->n * (size_t)(ith + 1) / (size_t)nth;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = a; i + 4 <= b; i += 4) { s0 += j->p[i]; s1 += j->p[i + 1]; s2 += j->p[i + 2]; s3 += j->p[i + 3]; }
    j->sum[ith & 63] = s0 + s1 + s2 + s3;
}

static int run(gm_pool *pool, gm_qisa isa, const gm_tensor *W, const float *X, int n, float *Y)
{
    if (W->type == GM_TYPE_BF16 || W->type == GM_TYPE_F32 || W->type == GM_TYPE_F16)
        return gm_matmul(pool, W, 0, X, W->ne[0], n, Y, W->ne[1]);
    return gm_qmatmul_isa(pool, isa, W, 0, X, W->ne[0], n, Y, W->ne[1]);
}

/* The int8 peak of one core, by the loop int8peak.c uses on this CPU. */
static double core_peak(double seconds)
{
    return gm_qisa_supported(GM_QISA_AVX512) ? gm_bench_peak_avx512(seconds) : gm_bench_peak_avx2(seconds);
}

/* The tile prefill runs for t with isa (on a run rewritten by the type's
 * gm_qprep where it has one, as qmatmul.c does) on one thread with its data
 * in L1: the first blocks of one 16-row group (at most about 24 KiB of
 * weights as stored) times GM_QP_TOKENS tokens, over and over.  Best of 20
 * rounds, each beside a short peak run (the machine may be shared): the
 * fraction of the peak, with the tile's GOP/s in *gops.  -1 when there is
 * no tile or no memory. */
static double tile_hot(gm_type t, gm_qisa isa, const unsigned char *group, size_t gbytes, int64_t K, const float *X,
                       double *gops, double *gops2)
{
    gm_qtile_fn f = gm_qtile_get(t, isa);
    gm_qprep pr = gm_qprep_get(t, isa);
    int64_t nb = K / gm_type_block(t);
    size_t gb = 16 * gm_type_block_bytes(t);           /* one block of the group's 16 rows */
    int64_t hb = (int64_t)(24576 / gb) & ~(int64_t)1;
    if (hb < 2) hb = 2;
    if (hb > nb) hb = nb;
    bool k_form = gm_qact_block_bytes(t) != sizeof(gm_bq8);
    size_t xs = (size_t)nb * (k_form ? sizeof(gm_bq8k) : sizeof(gm_bq8c));
    unsigned char *xq = malloc(xs * GM_QP_TOKENS), *run = NULL;
    const unsigned char *g2 = group;    /* the 32-row tile's two groups (or runs) */
    size_t g2_off = gbytes;
    if (pr.prep) {
        run = malloc(2 * pr.bytes_per_block * (size_t)hb);
        if (run) {
            pr.prep(hb, group, run);
            pr.prep(hb, group + gbytes, run + pr.bytes_per_block * (size_t)hb);
        }
        g2 = group = run;
        g2_off = pr.bytes_per_block * (size_t)hb;
        f = pr.tile;
    }
    if (!f || !xq || !group) { free(xq); free(run); return -1; }
    for (int u = 0; u < GM_QP_TOKENS; u++) {
        if (k_form) gm_quantize_act_q8k(X + (int64_t)u * K, (gm_bq8k *)(void *)(xq + (size_t)u * xs), K);
        else gm_quantize_act_q8c(t, X + (int64_t)u * K, (gm_bq8c *)(void *)(xq + (size_t)u * xs), K);
    }
    float y[32 * GM_QP_TOKENS];
    int64_t iters = 1 + 2000000 / (hb * gm_type_block(t));
    double best = 1e9, best2 = 1e9, peak = 0;
    for (int r = 0; r < 20; r++) {
        double p = core_peak(0.01);
        if (p > peak) peak = p;
        double t0 = now();
        for (int64_t i = 0; i < iters; i++) f(hb, group, xq, xs, GM_QP_TOKENS, y, 16, false);
        double e = now() - t0;
        if (e < best) best = e;
        if (!pr.tile2) continue;
        t0 = now();
        for (int64_t i = 0; i < iters; i++) pr.tile2(hb, g2, g2_off, xq, xs, GM_QP2_TOKENS, y, 32, false);
        e = now() - t0;
        if (e < best2) best2 = e;
    }
    free(xq);
    free(run);
    *gops = 2.0 * (double)iters * (double)(hb * gm_type_block(t)) * 16 * GM_QP_TOKENS / best / 1e9;
    *gops2 = pr.tile2 ? 2.0 * (double)iters * (double)(hb * gm_type_block(t)) * 32 * GM_QP2_TOKENS / best2 / 1e9 : 0;
    return *gops / peak;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    size_t gemv_bytes = (size_t)(argc > 2 ? atoi(argv[2]) : 384) << 20;
    gm_err err = {0};
    gm_pool *pool = gm_pool_new(threads, &err);
    if (!pool) { fprintf(stderr, "qbench: %s\n", err.msg); return 1; }
    const int64_t K = 4096;
    unsigned char *buf = malloc(gemv_bytes);
    float *X = malloc(sizeof(float) * (size_t)K * 64), *Y = malloc(sizeof(float) * 65536 * 64);
    if (!buf || !X || !Y) { fprintf(stderr, "qbench: out of memory\n"); return 1; }
    for (int64_t i = 0; i < K * 64; i++) X[i] = (float)((i * 7919) % 2001 - 1000) / 1000.0f;
    printf("threads %d; GEMV matrix ~%zu MiB (K=%lld); GEMM K=%lld, 1024 rows, 64 tokens\n",
           gm_pool_size(pool), gemv_bytes >> 20, (long long)K, (long long)K);
    double p2 = gm_bench_peak_avx2(0.2), p5 = gm_qisa_supported(GM_QISA_AVX512) ? gm_bench_peak_avx512(0.2) : 0;
    const char *kind = "";
    double all = bench_int8_peak(pool, 0.3, &kind);
    printf("int8 peak, one core: avx2 maddubs %.0f GOP/s, avx512 vnni %.0f GOP/s; all %d threads at once: %.0f GOP/s "
           "(%s; the figure to read GEMM and prefill against)\n", p2, p5, gm_pool_size(pool), all, kind);
    read_job rj = { (const uint64_t *)buf, gemv_bytes / 8, {0} };
    memset(buf, 1, gemv_bytes);
    gm_pool_run(pool, read_worker, &rj);
    double r0 = now();
    for (int i = 0; i < 3; i++) gm_pool_run(pool, read_worker, &rj);
    double rd = now() - r0;
    for (int rep = 0; rep < 2; rep++) {
        r0 = now();
        for (int i = 0; i < 3; i++) gm_pool_run(pool, read_worker, &rj);
        if (now() - r0 < rd) rd = now() - r0;
    }
    printf("plain streaming read of the same buffer: %.1f GB/s (best of 3; the bandwidth a GEMV can reach here)\n",
           3.0 * (double)gemv_bytes / rd / 1e9);
    printf("%-6s %-15s %10s %10s %12s   %s\n", "type", "path", "GEMV GB/s", "GEMV ms", "GEMM GOP/s",
           "pack: best of 3; tile alone, one thread, data in L1");
    const gm_type types[] = {GM_TYPE_BF16, GM_TYPE_Q8_0, GM_TYPE_Q4_0, GM_TYPE_Q5_0, GM_TYPE_Q5_1, GM_TYPE_Q4_K,
                             GM_TYPE_Q5_K, GM_TYPE_Q6_K, GM_TYPE_Q4_1, GM_TYPE_IQ4_NL, GM_TYPE_Q2_K, GM_TYPE_Q3_K,
                             GM_TYPE_IQ4_XS};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        gm_type t = types[ti];
        if (argc > 3 && gm_type_from_name(argv[3]) != (int)t) continue;   /* one type only */
        size_t rb = gm_type_row_bytes(t, K);
        int64_t rows = (int64_t)(gemv_bytes / rb);
        if (rows > 65536) rows = 65536;
        fill_blocks(t, buf, rb * (size_t)rows);
        gm_tensor Wv = { t, {K, rows, 1}, rb, rb * (size_t)rows, buf, "gemv", NULL };
        gm_tensor Wm = { t, {K, 1024, 1}, rb, rb * 1024, buf, "gemm", NULL };
        bool is_float = t == GM_TYPE_BF16;
        for (int isa = is_float ? GM_QISA_SCALAR : GM_QISA_SCALAR; isa < (is_float ? 1 : GM_QISA_COUNT); isa++) {
            if (!is_float && !gm_qdot_get(t, (gm_qisa)isa)) continue;
            if (run(pool, (gm_qisa)isa, &Wv, X, 1, Y)) continue;    /* warm up */
            int iters = isa == GM_QISA_SCALAR ? 1 : 5;
            double t0 = now();
            for (int i = 0; i < iters; i++) run(pool, (gm_qisa)isa, &Wv, X, 1, Y);
            double gemv = (now() - t0) / iters;
            int gi = isa == GM_QISA_SCALAR || is_float ? 1 : 4;
            run(pool, (gm_qisa)isa, &Wm, X, 64, Y);
            t0 = now();
            for (int i = 0; i < gi; i++) run(pool, (gm_qisa)isa, &Wm, X, 64, Y);
            double gemm = (now() - t0) / gi;
            printf("%-6s %-15s %10.1f %10.2f %12.1f\n", gm_type_name(t), is_float ? "gm_matmul" : gm_qisa_name((gm_qisa)isa),
                   (double)Wv.nbytes / gemv / 1e9, gemv * 1e3, 2.0 * (double)K * 1024 * 64 / gemm / 1e9);
            fflush(stdout);
        }
        /* the row-interleaved layout (gm_quantize_tensor gives it where the
         * best path has its own tile), read by every path with a tile of t */
        bool any = false;
        for (int isa = GM_QISA_AVX2; !is_float && isa < GM_QISA_COUNT; isa++) any |= gm_qpack_native(t, (gm_qisa)isa);
        if (any) {
            unsigned char *tmp = malloc(16 * rb);
            if (!tmp) continue;
            for (int64_t g = 0; g + 16 <= rows; g += 16) {
                memcpy(tmp, buf + (size_t)g * rb, 16 * rb);
                gm_qpack_group(t, K / gm_type_block(t), tmp, rb, buf + (size_t)g * rb);
            }
            free(tmp);
            Wv.packed = Wm.packed = buf;
        }
        for (int isa = GM_QISA_AVX2; any && isa < GM_QISA_COUNT; isa++) {
            if (!gm_qpack_native(t, (gm_qisa)isa)) continue;
            double best = 1e9, bestm = 1e9;
            for (int rep = 0; rep < 3; rep++) {
                run(pool, (gm_qisa)isa, &Wv, X, 1, Y);
                double t0 = now();
                for (int i = 0; i < 5; i++) run(pool, (gm_qisa)isa, &Wv, X, 1, Y);
                double g1 = (now() - t0) / 5;
                if (g1 < best) best = g1;
                run(pool, (gm_qisa)isa, &Wm, X, 64, Y);
                t0 = now();
                for (int i = 0; i < 4; i++) run(pool, (gm_qisa)isa, &Wm, X, 64, Y);
                double g2 = (now() - t0) / 4;
                if (g2 < bestm) bestm = g2;
            }
            char label[32], hot[128] = "";
            snprintf(label, sizeof label, "%s pack", gm_qisa_name((gm_qisa)isa));
            double hg = 0, hg2 = 0, hf = tile_hot(t, (gm_qisa)isa, buf, 16 * rb, K, X, &hg, &hg2);
            if (hf > 0) {
                int at = snprintf(hot, sizeof hot, "tile %.0f GOP/s, %.0f%% of a core's int8 peak", hg, 100 * hf);
                if (hg2 > 0) snprintf(hot + at, sizeof hot - (size_t)at, "; 32-row tile %.0f GOP/s, %.0f%%", hg2,
                                      100 * hf * hg2 / hg);
            }
            printf("%-6s %-15s %10.1f %10.2f %12.1f   %s\n", gm_type_name(t), label,
                   (double)Wv.nbytes / best / 1e9, best * 1e3, 2.0 * (double)K * 1024 * 64 / bestm / 1e9, hot);
            fflush(stdout);
        }
    }
    gm_pool_free(pool);
    free(buf); free(X); free(Y);
    return 0;
}
