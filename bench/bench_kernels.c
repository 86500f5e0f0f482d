/* bench_kernels.c: the matrix kernels alone, per kernel family, at the
 * sizes a Gemma 4 E2B forward pass uses: decode GEMV on the tied LM head
 * (262144 x 1536 BF16) and on MLP matrices cycled through more memory than
 * the caches hold, and 512-token prefill GEMM on the MLP matrices.  Prints
 * GB/s (weights streamed) and GFLOP/s, next to the machine's read bandwidth
 * and FMA peak.  Usage: bench_kernels [--threads N] [--runs R] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measure.h"

#define VOCAB 262144
#define HID   1536
#define FFN   6144

/* Weights as a view of the shared buffer: rows x cols of type t at offset. */
static gm_tensor view(const char *buf, size_t off, gm_type t, int64_t cols, int64_t rows)
{
    size_t rb = gm_type_row_bytes(t, cols);
    gm_tensor W = { t, {cols, rows, 1}, rb, rb * (size_t)rows, buf + off, "bench", NULL };
    return W;
}

/* Median seconds of `runs` passes of GEMV over `count` matrices laid end to end. */
static double time_gemv(gm_pool *p, gm_isa isa, const char *buf, gm_type t, int64_t cols, int64_t rows,
                        int count, const float *x, float *y, int runs, double *cpu)
{
    double v[64], cv[64];
    if (runs > 64) runs = 64;
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now(), c0 = bench_cpu();
        for (int k = 0; k < count; k++) {
            gm_tensor W = view(buf, (size_t)k * gm_type_row_bytes(t, cols) * (size_t)rows, t, cols, rows);
            gm_matmul_isa(p, isa, &W, 0, x, cols, 1, y, rows);
        }
        v[r] = bench_now() - t0;
        cv[r] = (bench_cpu() - c0) / gm_pool_size(p);
    }
    *cpu = bench_median(cv, runs);
    return bench_median(v, runs);
}

/* Median seconds of `runs` n-token products with one matrix. */
static double time_gemm(gm_pool *p, gm_isa isa, const char *buf, gm_type t, int64_t cols, int64_t rows,
                        int n, const float *X, float *Y, int runs, double *cpu)
{
    double v[64], cv[64];
    if (runs > 64) runs = 64;
    gm_tensor W = view(buf, 0, t, cols, rows);
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now(), c0 = bench_cpu();
        gm_matmul_isa(p, isa, &W, 0, X, cols, n, Y, rows);
        v[r] = bench_now() - t0;
        cv[r] = (bench_cpu() - c0) / gm_pool_size(p);
    }
    *cpu = bench_median(cv, runs);
    return bench_median(v, runs);
}

int main(int argc, char **argv)
{
    int threads = 0, runs = 5, ntok = 512;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) ntok = atoi(argv[++i]);
        else { fprintf(stderr, "usage: bench_kernels [--threads N] [--runs R] [--tokens N]\n"); return 2; }
    }
    if (runs < 1) runs = 1;
    gm_err err = {0};
    gm_pool *p = gm_pool_new(threads, &err);
    if (!p) { fprintf(stderr, "bench_kernels: %s\n", err.msg); return 1; }
    size_t lm_bytes = (size_t)VOCAB * HID * 2;
    uint16_t *buf = malloc(lm_bytes);
    float *X = malloc((size_t)ntok * FFN * 4), *Y = malloc((size_t)ntok * VOCAB * 4 > (size_t)VOCAB * 4 * 2 ?
                                                             (size_t)ntok * FFN * 4 + (size_t)VOCAB * 4 : 0);
    if (!buf || !X || !Y) { fprintf(stderr, "bench_kernels: out of memory for the %zu MiB test matrices\n", lm_bytes >> 20); return 1; }
    uint32_t h = 12345;
    for (size_t i = 0; i < lm_bytes / 2; i++) { h = h * 1664525u + 1013904223u; buf[i] = (uint16_t)(0x3c00 | (h >> 21) | (h & 0x8000)); }
    for (size_t i = 0; i < (size_t)ntok * FFN; i++) X[i] = (float)((i * 2654435761u) >> 22) / 1024.0f - 0.5f;

    char cpu[256];
    bench_cpu_name(cpu, sizeof cpu);
    double bw = bench_read_bw(p, (size_t)1 << 30, 5), peak[GM_ISA_COUNT] = {0}, peak_cpu[GM_ISA_COUNT] = {0};
    printf("# %s, %d threads; read bandwidth %.1f GB/s\n", cpu, gm_pool_size(p), bw);
    for (int isa = GM_ISA_AVX512; isa >= GM_ISA_AVX2; isa--)
        if (gm_isa_supported((gm_isa)isa)) {
            peak[isa] = bench_fma_peak(p, (gm_isa)isa, 3);
            peak_cpu[isa] = bench_fma_peak_cpu(p, (gm_isa)isa, 3);
            printf("# fma %s: %.1f GFLOP/s (all threads, wall clock); %.1f GFLOP/s per thread per CPU second\n",
                   gm_isa_name((gm_isa)isa), peak[isa], peak_cpu[isa]);
        }
    printf("# 'cpu' columns: the rate per thread per CPU second (what a core does when it runs); "
           "%% of peak is against that ISA's per-thread FMA peak\n");
    printf("%-6s %-6s %-5s %-24s %9s %12s %14s\n", "kernel", "isa", "type", "rows x cols x tokens", "ms",
           "wall rate", "cpu rate");
    int mlp_count = (int)(lm_bytes / ((size_t)FFN * HID * 2));
    for (int isa = GM_ISA_COUNT - 1; isa >= 0; isa--) {
        if (!gm_isa_supported((gm_isa)isa)) continue;
        int r = isa == GM_ISA_SCALAR ? 1 : runs;
        double c, s = time_gemv(p, (gm_isa)isa, (const char *)buf, GM_TYPE_BF16, HID, VOCAB, 1, X, Y, r, &c);
        printf("%-6s %-6s %-5s %-24s %9.2f %7.1f GB/s %7.1f GB/s  (wall: %.0f%% of read bw)\n", "gemv",
               gm_isa_name((gm_isa)isa), "bf16", "262144x1536 (LM head)", s * 1e3, lm_bytes / s * 1e-9,
               lm_bytes / c * 1e-9 / gm_pool_size(p), 100 * lm_bytes / s * 1e-9 / bw);
        static const int64_t shp[2][2] = { {HID, FFN}, {FFN, HID} };
        for (int k = 0; k < 2; k++) {
            int64_t cols = shp[k][0], rows = shp[k][1];
            char what[64];
            snprintf(what, sizeof what, "%lldx%lld x%d cycled", (long long)rows, (long long)cols, mlp_count);
            s = time_gemv(p, (gm_isa)isa, (const char *)buf, GM_TYPE_BF16, cols, rows, mlp_count, X, Y, r, &c) / mlp_count;
            c /= mlp_count;
            double bytes = (double)rows * cols * 2;
            printf("%-6s %-6s %-5s %-24s %9.3f %7.1f GB/s %7.1f GB/s  (wall: %.0f%% of read bw)\n", "gemv",
                   gm_isa_name((gm_isa)isa), "bf16", what, s * 1e3, bytes / s * 1e-9,
                   bytes / c * 1e-9 / gm_pool_size(p), 100 * bytes / s * 1e-9 / bw);
        }
        int n = isa == GM_ISA_SCALAR ? 32 : ntok;
        double pk = peak_cpu[isa == GM_ISA_SCALAR ? GM_ISA_AVX2 : isa];
        static const gm_type tt[3] = { GM_TYPE_BF16, GM_TYPE_F16, GM_TYPE_F32 };
        for (int ti = 0; ti < 3; ti++)
            for (int k = 0; k < 2; k++) {
                if (ti > 0 && k > 0) continue;
                int64_t cols = shp[k][0], rows = shp[k][1];
                char what[64];
                snprintf(what, sizeof what, "%lldx%lldx%d", (long long)rows, (long long)cols, n);
                s = time_gemm(p, (gm_isa)isa, (const char *)buf, tt[ti], cols, rows, n, X, Y, r, &c);
                double fl = 2.0 * rows * cols * n;
                printf("%-6s %-6s %-5s %-24s %9.2f %7.1f GFLOP/s %5.1f GFLOP/s  (cpu: %.0f%% of peak)\n", "gemm",
                       gm_isa_name((gm_isa)isa), gm_type_name(tt[ti]), what, s * 1e3, fl / s * 1e-9,
                       fl / c * 1e-9 / gm_pool_size(p), pk > 0 ? 100 * fl / c * 1e-9 / gm_pool_size(p) / pk : 0);
            }
    }
    free(buf); free(X); free(Y);
    gm_pool_free(p);
    return 0;
}
