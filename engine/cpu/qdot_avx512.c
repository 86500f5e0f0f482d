/* qdot_avx512.c: the integer dot products with AVX-512 VNNI (EVEX-encoded
 * vpdpbusd/vpdpwssd on 256-bit registers, which every AVX-512 VNNI CPU
 * has, including those without AVX-VNNI).  The kernels stream the weights
 * once per four tokens; 256-bit registers keep the block layout (34- and
 * 18-byte blocks) simple and measured as fast as 512-bit ones here.
 * Compiled with the AVX-512 flags; called only when the CPU has them. */
#include <immintrin.h>
#include <string.h>
#include "quant.h"

#define DPBUSD(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_epi32((acc), (a), (b))
#define KERNEL(name) avx512_##name
#include "qdot_simd.h"

gm_qkern gm_qdot_avx512(gm_type t) { return avx512_table(t); }

/* ---- packed 16-row tiles (512-bit) -------------------------------------------
 *
 * One zmm holds 4 columns of 16 interleaved rows; vpdpbusd multiplies them by
 * 4 activation bytes broadcast from memory, so a block's 16 exact integer
 * sums build up in one register per token with no horizontal work.  The
 * weights are the unsigned operand (Q8_0: stored as w + 128; Q4_0: the
 * nibbles), the activations the signed one, and the integer correction c
 * seeds the sum.  Then per block: acc = fma(float(isum), dw * dx, acc),
 * exactly the portable tile's operations, so decode (nt = 1) and any tile
 * of a prefill give the same bits. */

#ifndef QP_PF_AHEAD
#define QP_PF_AHEAD 2048   /* decode prefetch distance, bytes */
#endif

/* Four activation bytes as a broadcast operand. */
ALWAYS_INLINE __m512i bcast4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* 16 rows x nt tokens (nt a compile-time constant after inlining). */
ALWAYS_INLINE void qp_tile(bool q4, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt,
                           float *y, int64_t ldy)
{
    const gm_type t = q4 ? GM_TYPE_Q4_0 : GM_TYPE_Q8_0;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 accf[GM_QP_TOKENS];
    #pragma GCC unroll 8
    for (int u = 0; u < nt; u++) accf[u] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, dof;
        gm_qp_offsets(t, nb, b, &qo, &dof);
        const unsigned char *q = g + qo;
        if (nt == 1) {                 /* decode streams the group: fetch every line ahead */
            for (int k = 0; k < (q4 ? 5 : 9); k++) _mm_prefetch((const char *)q + QP_PF_AHEAD + 64 * k, _MM_HINT_T0);
        }
        __m512i acci[GM_QP_TOKENS];
        #pragma GCC unroll 8
        for (int u = 0; u < nt; u++) acci[u] = _mm512_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b].c);
        if (q4 && nt == 1) {           /* decode: two chains (integer sums: same result) */
            /* the high nibbles stay in place (16 * q, one mask, no shift); that
             * sum is a multiple of 16 and is shifted down once per block */
            const int8_t *a = XROW(gm_bq8c, xv, 0, xs)[b].qs;
            const __m512i mf0 = _mm512_set1_epi8((char)0xF0);
            __m512i acc2 = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m512i v = _mm512_loadu_si512((const void *)(q + 64 * k));
                acci[0] = _mm512_dpbusd_epi32(acci[0], _mm512_and_si512(v, m4), bcast4(a + 4 * k));
                acc2 = _mm512_dpbusd_epi32(acc2, _mm512_and_si512(v, mf0), bcast4(a + 16 + 4 * k));
            }
            acci[0] = _mm512_add_epi32(acci[0], _mm512_srai_epi32(acc2, 4));
        } else if (q4) {
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m512i v = _mm512_loadu_si512((const void *)(q + 64 * k));
                __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                #pragma GCC unroll 8
                for (int u = 0; u < nt; u++) {
                    const int8_t *a = XROW(gm_bq8c, xv, u, xs)[b].qs;
                    acci[u] = _mm512_dpbusd_epi32(acci[u], lo, bcast4(a + 4 * k));
                    acci[u] = _mm512_dpbusd_epi32(acci[u], hi, bcast4(a + 16 + 4 * k));
                }
            }
        } else if (nt == 1) {
            const int8_t *a = XROW(gm_bq8c, xv, 0, xs)[b].qs;
            __m512i acc2 = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int k = 0; k < 8; k += 2) {
                __m512i v0 = _mm512_loadu_si512((const void *)(q + 64 * k));
                __m512i v1 = _mm512_loadu_si512((const void *)(q + 64 * k + 64));
                acci[0] = _mm512_dpbusd_epi32(acci[0], v0, bcast4(a + 4 * k));
                acc2 = _mm512_dpbusd_epi32(acc2, v1, bcast4(a + 4 * k + 4));
            }
            acci[0] = _mm512_add_epi32(acci[0], acc2);
        } else {
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m512i v = _mm512_loadu_si512((const void *)(q + 64 * k));
                #pragma GCC unroll 8
                for (int u = 0; u < nt; u++)
                    acci[u] = _mm512_dpbusd_epi32(acci[u], v, bcast4(XROW(gm_bq8c, xv, u, xs)[b].qs + 4 * k));
            }
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + dof)));
        #pragma GCC unroll 8
        for (int u = 0; u < nt; u++) {
            __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(XROW(gm_bq8c, xv, u, xs)[b].d));
            accf[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acci[u]), sc, accf[u]);
        }
    }
    #pragma GCC unroll 8
    for (int u = 0; u < nt; u++) _mm512_storeu_ps(y + (int64_t)u * ldy, accf[u]);
}

/* The tile for any nt, each count compiled with its registers unrolled. */
#define QP_TILE_FN(name, q4)                                                                          \
    static void name(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy) \
    {                                                                                                 \
        switch (nt) {                                                                                 \
        case 1: qp_tile(q4, nb, g, x, xs, 1, y, ldy); break;                                          \
        case 2: qp_tile(q4, nb, g, x, xs, 2, y, ldy); break;                                          \
        case 3: qp_tile(q4, nb, g, x, xs, 3, y, ldy); break;                                          \
        case 4: qp_tile(q4, nb, g, x, xs, 4, y, ldy); break;                                          \
        case 5: qp_tile(q4, nb, g, x, xs, 5, y, ldy); break;                                          \
        case 6: qp_tile(q4, nb, g, x, xs, 6, y, ldy); break;                                          \
        case 7: qp_tile(q4, nb, g, x, xs, 7, y, ldy); break;                                          \
        default: qp_tile(q4, nb, g, x, xs, 8, y, ldy); break;                                         \
        }                                                                                             \
    }
QP_TILE_FN(avx512_tile_q8_0, false)
QP_TILE_FN(avx512_tile_q4_0, true)

gm_qtile_fn gm_qtile_avx512(gm_type t)
{
    return t == GM_TYPE_Q8_0 ? avx512_tile_q8_0 : t == GM_TYPE_Q4_0 ? avx512_tile_q4_0 : NULL;
}

/* gm_quantize_act_q8c with 512-bit registers: the same operations per
 * element as the portable quantizer (|x| max, d = amax / 127, q = round to
 * nearest even of x * (127 / amax), clamped), so the same bytes, without
 * the library calls that made activation quantization a tenth of a prefill. */
void gm_quantize_act_q8c_avx512(gm_type t, const float *x, gm_bq8c *y, int64_t n)
{
    const int32_t C = t == GM_TYPE_Q8_0 ? 128 : 8;
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float d = amax / 127.0f, id = d > 0.0f ? 127.0f / amax : 0.0f;
        __m512 s = _mm512_set1_ps(id);
        __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, s)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, s));
        q0 = _mm512_min_epi32(_mm512_max_epi32(q0, lo), hi);
        q1 = _mm512_min_epi32(_mm512_max_epi32(q1, lo), hi);
        _mm_storeu_si128((__m128i *)y[b].qs, _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(y[b].qs + 16), _mm512_cvtepi32_epi8(q1));
        y[b].d = d;
        y[b].c = -C * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}
