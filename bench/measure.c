/* measure.c: the machine's memory bandwidth and FMA peak, measured with the
 * engine's own thread pool so the benchmarks compare like with like.
 *
 * Bandwidth: every thread sums its share of a buffer far larger than the
 * last-level cache with 512-bit (or 256-bit) loads.  FMA peak: every thread
 * runs independent FMA chains on registers, enough chains to cover the FMA
 * latency on both FMA ports. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "measure.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* qsort comparator for doubles. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct { const char *src; char *dst; size_t bytes; float sums[512]; } bw_job;

/* Sum of floats in [p, p+n) with 4 independent 512-bit accumulators. */
__attribute__((target("avx512f")))
static float sum_avx512(const float *p, size_t n)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        _mm_prefetch((const char *)(p + i) + 1024, _MM_HINT_T0);
        _mm_prefetch((const char *)(p + i) + 1024 + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)(p + i) + 1024 + 128, _MM_HINT_T0);
        _mm_prefetch((const char *)(p + i) + 1024 + 192, _MM_HINT_T0);
        a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
        a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* The same with 256-bit loads, for CPUs without AVX-512. */
__attribute__((target("avx")))
static float sum_avx(const float *p, size_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm_prefetch((const char *)(p + i) + 1024, _MM_HINT_T0);
        _mm_prefetch((const char *)(p + i) + 1024 + 64, _MM_HINT_T0);
        a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    float l[8];
    _mm256_storeu_ps(l, s);
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* Each thread reads its contiguous share (4 KiB aligned). */
static void read_worker(void *arg, int ith, int nth)
{
    bw_job *j = arg;
    size_t pages = j->bytes / 4096, p0 = pages * (size_t)ith / (size_t)nth, p1 = pages * (size_t)(ith + 1) / (size_t)nth;
    const float *p = (const float *)(j->src + p0 * 4096);
    size_t n = (p1 - p0) * 1024;
    j->sums[ith & 511] = __builtin_cpu_supports("avx512f") ? sum_avx512(p, n) : sum_avx(p, n);
}

/* Each thread copies its share of the source half into the destination half. */
static void copy_worker(void *arg, int ith, int nth)
{
    bw_job *j = arg;
    size_t pages = j->bytes / 4096, p0 = pages * (size_t)ith / (size_t)nth, p1 = pages * (size_t)(ith + 1) / (size_t)nth;
    memcpy(j->dst + p0 * 4096, j->src + p0 * 4096, (p1 - p0) * 4096);
}

/* Time `reps` runs of fn over a freshly touched buffer; best GB/s. */
static double bw_run(gm_pool *p, size_t bytes, int reps, int copy)
{
    bytes &= ~(size_t)4095;
    char *buf = aligned_alloc(4096, bytes);
    if (!buf) return -1;
    for (size_t i = 0; i < bytes; i += 4096) memset(buf + i, (int)(i >> 12) & 0x3f, 4096);
    bw_job j = { buf, buf + bytes / 2, copy ? bytes / 2 : bytes, {0} };
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        gm_pool_run(p, copy ? copy_worker : read_worker, &j);
        double dt = bench_now() - t0, gbs = (double)(copy ? bytes : bytes) / dt * 1e-9;
        if (gbs > best) best = gbs;
    }
    free(buf);
    return best;
}

double bench_read_bw(gm_pool *p, size_t bytes, int reps) { return bw_run(p, bytes, reps, 0); }
double bench_copy_bw(gm_pool *p, size_t bytes, int reps) { return bw_run(p, bytes, reps, 1); }

#define FMA_ITERS 4000000L

typedef struct { gm_isa isa; float out[512]; } fma_job;

/* 24 independent 16-lane FMA chains: 2 ports x 4-cycle latency x 3. */
__attribute__((target("avx512f")))
static float fma_avx512(long iters)
{
    __m512 a[24], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int k = 0; k < 24; k++) a[k] = _mm512_set1_ps((float)k);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 24
        for (int k = 0; k < 24; k++) a[k] = _mm512_fmadd_ps(a[k], m, c);
    }
    __m512 s = a[0];
    for (int k = 1; k < 24; k++) s = _mm512_add_ps(s, a[k]);
    return _mm512_reduce_add_ps(s);
}

/* 12 independent 8-lane FMA chains (16 ymm registers). */
__attribute__((target("avx2,fma")))
static float fma_avx2(long iters)
{
    __m256 a[12], m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int k = 0; k < 12; k++) a[k] = _mm256_set1_ps((float)k);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
        for (int k = 0; k < 12; k++) a[k] = _mm256_fmadd_ps(a[k], m, c);
    }
    __m256 s = a[0];
    for (int k = 1; k < 12; k++) s = _mm256_add_ps(s, a[k]);
    float l[8];
    _mm256_storeu_ps(l, s);
    return l[0] + l[7];
}

/* Each thread runs its chains (threads start together in the pool). */
static void fma_worker(void *arg, int ith, int nth)
{
    (void)nth;
    fma_job *j = arg;
    j->out[ith & 511] = j->isa == GM_ISA_AVX512 ? fma_avx512(FMA_ITERS) : fma_avx2(FMA_ITERS);
}

/* Best of reps; per_cpu: per CPU second of one thread instead of wall time. */
static double fma_peak(gm_pool *p, gm_isa isa, int reps, int per_cpu)
{
    if (isa == GM_ISA_SCALAR || !gm_isa_supported(isa)) return -1;
    fma_job j;
    memset(&j, 0, sizeof j);
    j.isa = isa;
    double best = 0;
    int nth = gm_pool_size(p);
    double flops = (double)FMA_ITERS * (isa == GM_ISA_AVX512 ? 24 * 16 : 12 * 8) * 2.0 * nth;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now(), c0 = bench_cpu();
        gm_pool_run(p, fma_worker, &j);
        double g = per_cpu ? flops / nth / (bench_cpu() - c0) * 1e-9 : flops / (bench_now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

double bench_fma_peak(gm_pool *p, gm_isa isa, int reps) { return fma_peak(p, isa, reps, 0); }
double bench_fma_peak_cpu(gm_pool *p, gm_isa isa, int reps) { return fma_peak(p, isa, reps, 1); }

double bench_peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

void bench_cpu_name(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && c) {
            c += 2;
            c[strcspn(c, "\n")] = 0;
            snprintf(buf, cap, "%s", c);
            break;
        }
    }
    fclose(f);
}
