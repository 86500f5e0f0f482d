/* qpeak_avx2.c: the int8 multiply-add peak of one core with AVX2
 * (vpmaddubsw + vpmaddwd into int32, eight independent chains; the
 * products stay inside the loop and differ per chain, which the compiler
 * would otherwise hoist or share). */
#include <immintrin.h>
#include <time.h>

double gm_bench_peak_avx2(double seconds);

/* Operations (multiply + add = 2) per second over about `seconds`. */
double gm_bench_peak_avx2(double seconds)
{
    __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(5), one = _mm256_set1_epi16(1);
    __m256i acc[8], bs[8];
    for (int i = 0; i < 8; i++) { acc[i] = _mm256_setzero_si256(); bs[i] = _mm256_add_epi8(b, _mm256_set1_epi8((char)i)); }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long iters = 0;
    double el;
    do {
        for (int k = 0; k < 4096; k++) {
            __asm__ volatile("" : "+x"(a));     /* keeps the products inside the loop */
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++)
                acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(a, bs[i]), one));
        }
        iters += 4096;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        __asm__ volatile("" : "+x"(a), "+x"(b));
    } while (el < seconds);
    __m256i all = acc[0];
    for (int i = 1; i < 8; i++) all = _mm256_add_epi32(all, acc[i]);   /* every chain is used */
    volatile int sink = _mm256_extract_epi32(all, 0) + _mm256_extract_epi32(all, 3);
    (void)sink;
    return (double)iters * 8 * 32 * 2 / el / 1e9;
}
