/* cpufeat.c: which instruction-set extensions this CPU and OS support,
 * read with cpuid/xgetbv directly (compilers differ in the feature names
 * __builtin_cpu_supports knows: clang 14 has neither "f16c" nor "avxvnni"). */
#include <stdbool.h>
#include <stdint.h>
#include "quant.h"
#if defined(__x86_64__)
#include <cpuid.h>

/* The OS's enabled register state (XCR0), or 0 without OSXSAVE. */
static uint64_t xcr0(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

bool gm_cpu_has(gm_cpu_feature f)
{
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0, a7 = 0, b7 = 0, c7 = 0, d7 = 0, a71 = 0, b71 = 0, c71 = 0, d71 = 0;
    __get_cpuid(1, &a1, &b1, &c1, &d1);
    __get_cpuid_count(7, 0, &a7, &b7, &c7, &d7);
    __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71);
    uint64_t x = xcr0();
    bool ymm = (x & 6) == 6, zmm = (x & 0xE6) == 0xE6;
    switch (f) {
    case GM_CPU_AVX2: return ymm && (b7 & (1u << 5)) && (c1 & (1u << 12)) && (c1 & (1u << 29));  /* + FMA, F16C */
    case GM_CPU_AVXVNNI: return ymm && (a71 & (1u << 4));
    case GM_CPU_AVX512VNNI:
        return zmm && (b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) && (b7 & (1u << 31)) &&
               (c7 & (1u << 11));                                              /* F, DQ, BW, VL, VNNI */
    }
    return false;
}
#else
bool gm_cpu_has(gm_cpu_feature f) { (void)f; return false; }
#endif
