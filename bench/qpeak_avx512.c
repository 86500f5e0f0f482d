/* qpeak_avx512.c: the int8 multiply-add peak of one core with AVX-512
 * VNNI: vpdpbusd into sixteen independent accumulators, unrolled so they
 * stay in registers (with eight, the five-cycle latency was the limit and
 * the "peak" came out well below what the quantized tiles reach). */
#include <immintrin.h>
#include <time.h>

double gm_bench_peak_avx512(double seconds);

/* Operations (multiply + add = 2) per second over about `seconds`. */
double gm_bench_peak_avx512(double seconds)
{
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
    __m512i acc[16];
    for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_si512();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long iters = 0;
    double el;
    do {
        for (int k = 0; k < 4096; k++) {
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
        }
        iters += 4096;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        __asm__ volatile("" : "+v"(a), "+v"(b));
    } while (el < seconds);
    int s = 0;
    for (int i = 0; i < 16; i++) s += _mm512_reduce_add_epi32(acc[i]);
    volatile int sink = s;
    (void)sink;
    return (double)iters * 16 * 64 * 2 / el / 1e9;
}
