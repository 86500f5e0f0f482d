/* measure.h: machine limits the benchmarks compare against (memory
 * bandwidth, FMA and int8 peaks) and small timing helpers. */
#ifndef GEMMASH_BENCH_MEASURE_H
#define GEMMASH_BENCH_MEASURE_H

#include <stddef.h>
#include "kernels.h"

double bench_now(void);                       /* seconds, monotonic */
/* CPU seconds of this process, all threads: on a shared machine, rates per
 * CPU second show what the code does when it has the cores. */
double bench_cpu(void);
double bench_median(double *v, int n);        /* sorts v */
/* Streaming read of a buffer of `bytes` by every pool thread, best of
 * `reps`, in GB/s (1e9 bytes/s).  -1 if the buffer cannot be allocated. */
double bench_read_bw(gm_pool *p, size_t bytes, int reps);
/* Copy of bytes/2 into another bytes/2, counted as read + write, GB/s. */
double bench_copy_bw(gm_pool *p, size_t bytes, int reps);
/* Register-resident FMA chains on every pool thread, GFLOP/s (2 per FMA
 * lane); isa is GM_ISA_AVX512 or GM_ISA_AVX2; -1 if unsupported. */
double bench_fma_peak(gm_pool *p, gm_isa isa, int reps);
/* The same per CPU second of one thread (the core's peak when not shared). */
double bench_fma_peak_cpu(gm_pool *p, gm_isa isa, int reps);
/* int8 multiply-add peak (2 ops per multiply-add) with all pool threads at
 * once, GOP/s; *kind names the loop.  In int8peak.c, which needs the
 * qpeak_avx2/qpeak_avx512 objects; -1 without AVX2. */
double bench_int8_peak(gm_pool *p, double seconds, const char **kind);
/* Peak resident set of this process so far, MiB. */
double bench_peak_rss_mib(void);
/* CPU model name from /proc/cpuinfo into buf. */
void bench_cpu_name(char *buf, size_t cap);

#endif
