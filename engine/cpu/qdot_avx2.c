/* qdot_avx2.c: the integer dot products for CPUs with AVX2 but no VNNI.
 * The two multiply-accumulate steps are vpmaddubsw+vpmaddwd and vpmaddwd
 * (exact for the operand ranges the kernels use; see qdot_simd.h).
 * Also the packed 16-row tiles (qtile_simd.h).
 * Compiled with -mavx2 -mfma -mf16c; called only when the CPU has them. */
#include <immintrin.h>
#include <string.h>
#include "quant.h"

#define DPBUSD(acc, u, s) _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1)))
#define DPWSSD(acc, a, b) _mm256_add_epi32((acc), _mm256_madd_epi16((a), (b)))
#define KERNEL(name) avx2_##name
#include "qdot_simd.h"
#include "qdot_extra_simd.h"
#include "qtile_simd.h"
#include "qtile_k_simd.h"

gm_qkern gm_qdot_avx2(gm_type t) { return avx2_table(t); }
gm_qtile_fn gm_qtile_avx2(gm_type t) { return avx2_tiles(t); }
gm_qprep gm_qprep_avx2(gm_type t) { return avx2_preps(t); }

