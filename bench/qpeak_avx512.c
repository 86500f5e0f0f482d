/* qpeak_avx512.c: the int8 multiply-add peak of one core with AVX-512
 * VNNI (vpdpbusd, eight independent accumulators). */
#include <immintrin.h>
#include <time.h>

double gm_bench_peak_avx512(double seconds);

double gm_bench_peak_avx512(double seconds)
{
    __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
    __m512i acc[8];
    for (int i = 0; i < 8; i++) acc[i] = _mm512_setzero_si512();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long iters = 0;
    double el;
    do {
        for (int k = 0; k < 4096; k++)
            for (int i = 0; i < 8; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
        iters += 4096;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        __asm__ volatile("" : "+v"(a), "+v"(b));
    } while (el < seconds);
    volatile int sink = _mm512_reduce_add_epi32(acc[0]) + _mm512_reduce_add_epi32(acc[7]);
    (void)sink;
    return (double)iters * 8 * 64 * 2 / el / 1e9;
}
