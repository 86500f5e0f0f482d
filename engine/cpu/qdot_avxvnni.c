/* qdot_avxvnni.c: the integer dot products with AVX-VNNI (VEX-encoded
 * vpdpbusd/vpdpwssd: CPUs such as Alder Lake that have VNNI without
 * AVX-512), and the packed 16-row tiles (qtile_simd.h).
 * Compiled with -mavxvnni; called only when the CPU has it. */
#include <immintrin.h>
#include <string.h>
#include "quant.h"

#define DPBUSD(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_avx_epi32((acc), (a), (b))
#define KERNEL(name) avxvnni_##name
#define QT_VNNI 1
#include "qdot_simd.h"
#include "qdot_extra_simd.h"
#include "qtile_simd.h"
#include "qtile_k_simd.h"

gm_qkern gm_qdot_avxvnni(gm_type t) { return avxvnni_table(t); }
gm_qtile_fn gm_qtile_avxvnni(gm_type t) { return avxvnni_tiles(t); }
gm_qprep gm_qprep_avxvnni(gm_type t) { return avxvnni_preps(t); }
