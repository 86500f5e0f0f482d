/* qdot_avx512.c: the integer dot products with AVX-512 VNNI (EVEX-encoded
 * vpdpbusd/vpdpwssd on 256-bit registers, which every AVX-512 VNNI CPU
 * has, including those without AVX-VNNI).  The kernels stream the weights
 * once per four tokens; 256-bit registers keep the block layout (34- and
 * 18-byte blocks) simple and measured as fast as 512-bit ones here.
 * Compiled with the AVX-512 flags; called only when the CPU has them. */
#include <immintrin.h>
#include "quant.h"

#define DPBUSD(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_epi32((acc), (a), (b))
#define KERNEL(name) avx512_##name
#include "qdot_simd.h"

gm_qkern gm_qdot_avx512(gm_type t) { return avx512_table(t); }
