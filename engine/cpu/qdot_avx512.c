/* qdot_avx512.c: the integer dot products with AVX-512 VNNI.
 *   - Row layout (GGUF files mapped in place): the 256-bit template of
 *     qdot_simd.h with EVEX vpdpbusd/vpdpwssd, which every AVX-512 VNNI CPU
 *     has, including those without AVX-VNNI.
 *   - Packed 16-row groups (matrices quantized at load, quant.h): 512-bit
 *     tiles, one register holding 4 columns of 16 rows, for decode and
 *     prefill alike; and the 512-bit activation quantizers.
 * Compiled with the AVX-512 flags; called only when the CPU has them. */
#include <immintrin.h>
#include <string.h>
#include "quant.h"

#define DPBUSD(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define DPWSSD(acc, a, b) _mm256_dpwssd_epi32((acc), (a), (b))
#define KERNEL(name) avx512_##name
#include "qdot_simd.h"
#include "qdot_extra_simd.h"

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

/* acc += u (16 lanes of 4 unsigned bytes) dotted with the 4 signed bytes at
 * p broadcast: vpdpbusd with an embedded-broadcast memory operand, which
 * compilers do not form from _mm512_set1_epi32 (a separate vpbroadcastd
 * per product; the tiles issue one per vpdpbusd and the front end, not the
 * multipliers, became the limit). */
ALWAYS_INLINE __m512i dp_bcast(__m512i acc, __m512i u, const int8_t *p)
{
#if defined(__GNUC__) && !defined(GM_NO_INLINE_ASM)
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*(const int32_t *)(const void *)p));
    return acc;
#else
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_dpbusd_epi32(acc, u, _mm512_set1_epi32(v));
#endif
}

/* A tile's float sums per token: from y when continuing a product split
 * along K (cont), else zero; and back to y. */
ALWAYS_INLINE void sums_load(int nt, const float *y, int64_t ldy, bool cont, __m512 *s)
{
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) s[u] = cont ? _mm512_loadu_ps(y + (int64_t)u * ldy) : _mm512_setzero_ps();
}
ALWAYS_INLINE void sums_store(int nt, float *y, int64_t ldy, const __m512 *s)
{
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) _mm512_storeu_ps(y + (int64_t)u * ldy, s[u]);
}

/* A block's float step for nt tokens: acc += isum * (dw * dx), then for
 * Q5_1 (one) acc += c * (mw * dx), c being the block's activation sum. */
ALWAYS_INLINE void q5_update(bool one, int nt, const void *xv, size_t xs, int64_t b, __m512 dw, __m512 mw,
                             const __m512i *acci, __m512 *accf)
{
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) {
        const gm_bq8c *x = XROW(gm_bq8c, xv, u, xs) + b;
        accf[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acci[u]), _mm512_mul_ps(dw, _mm512_set1_ps(x->d)), accf[u]);
        if (one)
            accf[u] = _mm512_fmadd_ps(_mm512_set1_ps((float)x->c), _mm512_mul_ps(mw, _mm512_set1_ps(x->d)), accf[u]);
    }
}

/* q5_update of block b of a group in the Q8_0 layout (its 16 f16 scales at
 * g + dof), or of a rewritten Q5_1 run (one: the mins after the levels). */
ALWAYS_INLINE void qp_update(bool one, const unsigned char *g, int64_t nb, size_t dof, int64_t b, int nt,
                             const void *xv, size_t xs, const __m512i *acci, __m512 *accf)
{
    __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(g + dof)));
    __m512 mw = one ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(g + gm_q5r_mins(nb, b)))) : dw;
    q5_update(one, nt, xv, xs, b, dw, mw, acci, accf);
}

/* Q8_0 layout, 16 rows x nt tokens (prefill: Q8_0, and Q4_0, Q5_0 and,
 * with one, Q5_1 runs rewritten; Q5_1 has no offset in c but adds its min
 * term): the blocks of a pair side by side, so 2 nt integer sums build up
 * at once.  With one block's nt chains, each vpdpbusd waited on the one
 * before it in its chain and the tile ran 5% slower; the float steps still
 * go block after block, so the bits are those of one block at a time. */
ALWAYS_INLINE void qp_tile_pairs(bool one, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt,
                                 float *y, int64_t ldy, bool cont)
{
    __m512 accf[GM_QP_TOKENS];
    sums_load(nt, y, ldy, cont, accf);
    int64_t b = 0;
    for (; b + 1 < nb; b += 2) {
        size_t qo, dof, qo1, dof1;
        gm_qp_offsets(GM_TYPE_Q8_0, nb, b, &qo, &dof);
        gm_qp_offsets(GM_TYPE_Q8_0, nb, b + 1, &qo1, &dof1);
        __m512i a0[GM_QP_TOKENS], a1[GM_QP_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) {
            a0[u] = one ? _mm512_setzero_si512() : _mm512_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b].c);
            a1[u] = one ? _mm512_setzero_si512() : _mm512_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b + 1].c);
        }
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            __m512i v0 = _mm512_loadu_si512((const void *)(g + qo + 64 * k));
            __m512i v1 = _mm512_loadu_si512((const void *)(g + qo1 + 64 * k));
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) {
                const gm_bq8c *x = XROW(gm_bq8c, xv, u, xs);
                a0[u] = dp_bcast(a0[u], v0, x[b].qs + 4 * k);
                a1[u] = dp_bcast(a1[u], v1, x[b + 1].qs + 4 * k);
            }
        }
        qp_update(one, g, nb, dof, b, nt, xv, xs, a0, accf);
        qp_update(one, g, nb, dof1, b + 1, nt, xv, xs, a1, accf);
    }
    if (b < nb) {                      /* a group's odd last block */
        size_t qo, dof;
        gm_qp_offsets(GM_TYPE_Q8_0, nb, b, &qo, &dof);
        __m512i a0[GM_QP_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) a0[u] = one ? _mm512_setzero_si512() : _mm512_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b].c);
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            __m512i v = _mm512_loadu_si512((const void *)(g + qo + 64 * k));
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) a0[u] = dp_bcast(a0[u], v, XROW(gm_bq8c, xv, u, xs)[b].qs + 4 * k);
        }
        qp_update(one, g, nb, dof, b, nt, xv, xs, a0, accf);
    }
    sums_store(nt, y, ldy, accf);
}

/* 16 rows x nt tokens (nt a compile-time constant after inlining). */
ALWAYS_INLINE void qp_tile(bool q4, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt,
                           float *y, int64_t ldy, bool cont)
{
    if (!q4 && nt > 1) {
        qp_tile_pairs(false, nb, g, xv, xs, nt, y, ldy, cont);
        return;
    }
    const gm_type t = q4 ? GM_TYPE_Q4_0 : GM_TYPE_Q8_0;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 accf[GM_QP_TOKENS];
    sums_load(nt, y, ldy, cont, accf);
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
                acci[0] = dp_bcast(acci[0], _mm512_and_si512(v, m4), a + 4 * k);
                acc2 = dp_bcast(acc2, _mm512_and_si512(v, mf0), a + 16 + 4 * k);
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
                    acci[u] = dp_bcast(acci[u], lo, (a + 4 * k));
                    acci[u] = dp_bcast(acci[u], hi, (a + 16 + 4 * k));
                }
            }
        } else {                       /* Q8_0 decode (prefill took qp_tile_pairs) */
            const int8_t *a = XROW(gm_bq8c, xv, 0, xs)[b].qs;
            __m512i acc2 = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int k = 0; k < 8; k += 2) {
                __m512i v0 = _mm512_loadu_si512((const void *)(q + 64 * k));
                __m512i v1 = _mm512_loadu_si512((const void *)(q + 64 * k + 64));
                acci[0] = dp_bcast(acci[0], v0, (a + 4 * k));
                acc2 = dp_bcast(acc2, v1, (a + 4 * k + 4));
            }
            acci[0] = _mm512_add_epi32(acci[0], acc2);
        }
        qp_update(false, g, nb, dof, b, nt, xv, xs, acci, accf);
    }
    sums_store(nt, y, ldy, accf);
}

/* The tile for any nt, each count compiled with its registers unrolled
 * (body(nb, g, x, xs, nt, y, ldy, cont) with nt a constant). */
#define QP_TILE_FN(name, body)                                                                        \
    static void name(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy,  \
                     bool cont)                                                                       \
    {                                                                                                 \
        switch (nt) {                                                                                 \
        case 1: body(nb, g, x, xs, 1, y, ldy, cont); break;                                           \
        case 2: body(nb, g, x, xs, 2, y, ldy, cont); break;                                           \
        case 3: body(nb, g, x, xs, 3, y, ldy, cont); break;                                           \
        case 4: body(nb, g, x, xs, 4, y, ldy, cont); break;                                           \
        case 5: body(nb, g, x, xs, 5, y, ldy, cont); break;                                           \
        case 6: body(nb, g, x, xs, 6, y, ldy, cont); break;                                           \
        case 7: body(nb, g, x, xs, 7, y, ldy, cont); break;                                           \
        default: body(nb, g, x, xs, 8, y, ldy, cont); break;                                          \
        }                                                                                             \
    }
#define QP_Q8_0(nb, g, x, xs, nt, y, ldy, cont) qp_tile(false, nb, g, x, xs, nt, y, ldy, cont)
#define QP_Q4_0(nb, g, x, xs, nt, y, ldy, cont) qp_tile(true, nb, g, x, xs, nt, y, ldy, cont)
QP_TILE_FN(avx512_tile_q8_0, QP_Q8_0)
QP_TILE_FN(avx512_tile_q4_0, QP_Q4_0)

/* The 4 activation bytes at p broadcast into a register once, then times
 * the columns of both groups of a 32-row tile (w0 and w1). */
ALWAYS_INLINE void dp_pair(__m512i *a0, __m512i *a1, __m512i w0, __m512i w1, const int8_t *p)
{
    int32_t s4;
    memcpy(&s4, p, 4);
    __m512i s = _mm512_set1_epi32(s4);
    *a0 = _mm512_dpbusd_epi32(*a0, w0, s);
    *a1 = _mm512_dpbusd_epi32(*a1, w1, s);
}

/* The exponent e of a power-of-two activation scale d = 2^e, as a float
 * for vscalefps: what vgetexpps gives, read from a table by d's exponent
 * field and top mantissa bit (gm_act_scale makes d a normal power of two,
 * +inf or a quiet NaN: the last two entries).  The load takes none of the
 * two ports vpdpbusd uses, where vgetexpps took one: the 32-row tile runs
 * 3% faster (Zen 5, one getexp per token and block against 16 products). */
#define PE1(i) (float)(((i) >> 1) - 127)
#define PE2(i) PE1(i), PE1((i) + 1)
#define PE4(i) PE2(i), PE2((i) + 2)
#define PE8(i) PE4(i), PE4((i) + 4)
#define PE16(i) PE8(i), PE8((i) + 8)
#define PE32(i) PE16(i), PE16((i) + 16)
#define PE64(i) PE32(i), PE32((i) + 32)
#define PE128(i) PE64(i), PE64((i) + 64)
#define PE256(i) PE128(i), PE128((i) + 128)
static const float POW2_EXP[512] = { PE256(0), PE128(256), PE64(384), PE32(448), PE16(480), PE8(496), PE4(504),
                                     PE2(508), __builtin_inff(), __builtin_nanf("") };
_Static_assert(sizeof POW2_EXP / sizeof POW2_EXP[0] == 512, "one entry per exponent field and top mantissa bit");

ALWAYS_INLINE __m512 pow2_exp(float d)
{
    uint32_t u;
    memcpy(&u, &d, sizeof u);
    return _mm512_set1_ps(POW2_EXP[(u >> 22) & 0x1FF]);
}

/* Two groups in the Q8_0 layout (32 rows: g0's into y0, g1's into y1)
 * times nt <= GM_QP2_TOKENS tokens.  Each token's 4 activation bytes
 * are broadcast into a register once and multiply both groups' columns.
 * The 16-row tile takes them as a memory operand of every vpdpbusd: one
 * broadcast load per product, which on CPUs that load two vectors a cycle
 * and multiply two (AMD Zen 5) holds a tile to about 88% of the multiplier
 * rate before any float work; here it is one per two products.  Per block
 * and (row, token) the operations of qp_tile_pairs (exact isum, then
 * fma(float(isum), dw * dx, acc) in block order), so the same bits.
 * With nib the groups are packed Q4_0, read in place: each 64-byte row
 * gives the levels of two Q8_0 rows (low nibbles: elements 4k..4k+3, high:
 * 16+4k..), split by an and and a shift.  That costs the tile 1-2% against
 * reading Q4_0 rewritten to bytes; without the rewrite (and its stores of
 * twice each run per chunk of tokens) the prefill measured the same. */
ALWAYS_INLINE void qp_tile32(bool pow2, bool nib, int64_t nb, const unsigned char *g0, const unsigned char *g1,
                             const void *xv, size_t xs, int nt, float *y0, float *y1, int64_t ldy, bool cont)
{
    __m512 f0[GM_QP2_TOKENS], f1[GM_QP2_TOKENS];
    sums_load(nt, y0, ldy, cont, f0);
    sums_load(nt, y1, ldy, cont, f1);
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, dof;
        gm_qp_offsets(nib ? GM_TYPE_Q4_0 : GM_TYPE_Q8_0, nb, b, &qo, &dof);
        const unsigned char *q0 = g0 + qo, *q1 = g1 + qo;
        __m512i a0[GM_QP2_TOKENS], a1[GM_QP2_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) a0[u] = a1[u] = _mm512_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b].c);
        if (nib) {
            const __m512i m4 = _mm512_set1_epi8(0x0F);
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) {
                __m512i v0 = _mm512_loadu_si512((const void *)(q0 + 64 * k));
                __m512i v1 = _mm512_loadu_si512((const void *)(q1 + 64 * k));
                __m512i l0 = _mm512_and_si512(v0, m4), h0 = _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4);
                __m512i l1 = _mm512_and_si512(v1, m4), h1 = _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4);
#pragma GCC unroll 8
                for (int u = 0; u < nt; u++) {
                    const int8_t *qs = XROW(gm_bq8c, xv, u, xs)[b].qs;
                    dp_pair(&a0[u], &a1[u], l0, l1, qs + 4 * k);
                    dp_pair(&a0[u], &a1[u], h0, h1, qs + 16 + 4 * k);
                }
            }
        } else {
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m512i v0 = _mm512_loadu_si512((const void *)(q0 + 64 * k));
                __m512i v1 = _mm512_loadu_si512((const void *)(q1 + 64 * k));
#pragma GCC unroll 8
                for (int u = 0; u < nt; u++) dp_pair(&a0[u], &a1[u], v0, v1, XROW(gm_bq8c, xv, u, xs)[b].qs + 4 * k);
            }
        }
        __m512 dw0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(g0 + dof)));
        __m512 dw1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(g1 + dof)));
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) {
            float d = XROW(gm_bq8c, xv, u, xs)[b].d;
            __m512 s0, s1;
            if (pow2) {                /* d = 2^e (gm_act_scale): dw * d = scalef(dw, e), exactly */
                __m512 e = pow2_exp(d);
                s0 = _mm512_scalef_ps(dw0, e);
                s1 = _mm512_scalef_ps(dw1, e);
            } else {
                __m512 dx = _mm512_set1_ps(d);
                s0 = _mm512_mul_ps(dw0, dx);
                s1 = _mm512_mul_ps(dw1, dx);
            }
            f0[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a0[u]), s0, f0[u]);
            f1[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a1[u]), s1, f1[u]);
        }
    }
    sums_store(nt, y0, ldy, f0);
    sums_store(nt, y1, ldy, f1);
}

/* A 32-row tile for any nt <= GM_QP2_TOKENS, each count compiled with its
 * registers unrolled (body(nb, g0, g1, x, xs, nt, y0, y1, ldy, cont), nt a
 * constant). */
#define QP2_TILE_FN(name, body)                                                                       \
    static void name(int64_t nb, const void *g0, const void *g1, const void *x, size_t xs, int nt,       \
                     float *y0, float *y1, int64_t ldy, bool cont)                                    \
    {                                                                                                 \
        switch (nt) {                                                                                 \
        case 1: body(nb, g0, g1, x, xs, 1, y0, y1, ldy, cont); break;                                 \
        case 2: body(nb, g0, g1, x, xs, 2, y0, y1, ldy, cont); break;                                 \
        case 3: body(nb, g0, g1, x, xs, 3, y0, y1, ldy, cont); break;                                 \
        case 4: body(nb, g0, g1, x, xs, 4, y0, y1, ldy, cont); break;                                 \
        case 5: body(nb, g0, g1, x, xs, 5, y0, y1, ldy, cont); break;                                 \
        default: body(nb, g0, g1, x, xs, 6, y0, y1, ldy, cont); break;                                \
        }                                                                                             \
    }
#define QP2_Q8_0(nb, g0, g1, x, xs, nt, y0, y1, ldy, cont) qp_tile32(false, false, nb, g0, g1, x, xs, nt, y0, y1, ldy, cont)
#define QP2_POW2(nb, g0, g1, x, xs, nt, y0, y1, ldy, cont) qp_tile32(true, false, nb, g0, g1, x, xs, nt, y0, y1, ldy, cont)
#define QP2_Q4_0(nb, g0, g1, x, xs, nt, y0, y1, ldy, cont) qp_tile32(true, true, nb, g0, g1, x, xs, nt, y0, y1, ldy, cont)
QP2_TILE_FN(avx512_tile2_q8_0, QP2_Q8_0)
QP2_TILE_FN(avx512_tile2_q4_0, QP2_Q4_0)
QP2_TILE_FN(avx512_tile2_pow2, QP2_POW2)     /* Q5_0 runs rewritten in the Q8_0 layout */

/* ---- packed Q5_0 / Q5_1 ------------------------------------------------------
 *
 * A block's 16 rows hold 4 quant rows of nibble pairs and one row of qh
 * dwords.  Levels of quant row k (elements 4k..4k+3 of the 16 rows; k < 4
 * the low nibbles of row k, else the high ones of row k - 4) get their
 * fifth bit from byte k / 2 of each row's qh dword: vpshufb copies that
 * byte to the dword's 4 bytes, vptestmb against 1, 2, 4, 8 (shifted by
 * 4 (k & 1)) makes a byte mask, and a masked add puts 16 there.  Decode
 * reads the packed group like this; prefill first rewrites runs to bytes
 * (Q5_0 then goes through the Q8_0 tile, its c holding the offset 16;
 * Q5_1 through the same tile with one set, which adds the min term). */

ALWAYS_INLINE __m512i q5p_levels(__m512i v, __m512i qh, int k)
{
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i lanes = _mm512_set_epi32(0x0C0C0C0C, 0x08080808, 0x04040404, 0, 0x0C0C0C0C, 0x08080808, 0x04040404, 0,
                                           0x0C0C0C0C, 0x08080808, 0x04040404, 0, 0x0C0C0C0C, 0x08080808, 0x04040404, 0);
    __m512i nib = k < 4 ? _mm512_and_si512(v, m4) : _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    __m512i sel = _mm512_shuffle_epi8(qh, _mm512_add_epi32(lanes, _mm512_set1_epi32((k >> 1) * 0x01010101)));
    __mmask64 hb = _mm512_test_epi8_mask(sel, _mm512_set1_epi32(k & 1 ? (int)0x80402010u : 0x08040201));
    return _mm512_mask_add_epi8(nib, hb, nib, _mm512_set1_epi8(16));
}

/* 16 rows of a packed Q5_0 (one = false) or Q5_1 group x nt tokens: the
 * portable tile's operations. */
ALWAYS_INLINE void q5p_tile(bool one, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y,
                            int64_t ldy, bool cont)
{
    const gm_type t = one ? GM_TYPE_Q5_1 : GM_TYPE_Q5_0;
    __m512 accf[GM_QP_TOKENS];
    sums_load(nt, y, ldy, cont, accf);
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, dof;
        gm_qp_offsets(t, nb, b, &qo, &dof);
        const unsigned char *q = g + qo;
        if (nt == 1)
            for (int k = 0; k < 6; k++) _mm_prefetch((const char *)q + QP_PF_AHEAD + 64 * k, _MM_HINT_T0);
        __m512i acci[GM_QP_TOKENS], acc2 = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) acci[u] = one ? _mm512_setzero_si512() : _mm512_set1_epi32(XROW(gm_bq8c, xv, u, xs)[b].c);
        const __m512i qh = _mm512_loadu_si512((const void *)(q + 256));
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m512i v = _mm512_loadu_si512((const void *)(q + 64 * k));
            __m512i lo = q5p_levels(v, qh, k), hi = q5p_levels(v, qh, k + 4);
            if (nt == 1) {         /* decode: two chains (integer sums: same result) */
                const int8_t *a = XROW(gm_bq8c, xv, 0, xs)[b].qs;
                acci[0] = dp_bcast(acci[0], lo, a + 4 * k);
                acc2 = dp_bcast(acc2, hi, a + 16 + 4 * k);
                continue;
            }
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) {
                const int8_t *a = XROW(gm_bq8c, xv, u, xs)[b].qs;
                acci[u] = dp_bcast(acci[u], lo, a + 4 * k);
                acci[u] = dp_bcast(acci[u], hi, a + 16 + 4 * k);
            }
        }
        if (nt == 1) acci[0] = _mm512_add_epi32(acci[0], acc2);
        __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(g + dof)));
        __m512 mw = one ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(g + dof + 32))) : dw;
        q5_update(one, nt, xv, xs, b, dw, mw, acci, accf);
    }
    sums_store(nt, y, ldy, accf);
}

#define QP_Q5_0(nb, g, x, xs, nt, y, ldy, cont) q5p_tile(false, nb, g, x, xs, nt, y, ldy, cont)
#define QP_Q5_1(nb, g, x, xs, nt, y, ldy, cont) q5p_tile(true, nb, g, x, xs, nt, y, ldy, cont)
QP_TILE_FN(avx512_tile_q5_0, QP_Q5_0)
QP_TILE_FN(avx512_tile_q5_1, QP_Q5_1)
#define QP_Q5_1_RUN(nb, g, x, xs, nt, y, ldy, cont) qp_tile_pairs(true, nb, g, x, xs, nt, y, ldy, cont)
QP_TILE_FN(avx512_tile_q5_1_run, QP_Q5_1_RUN)

/* gm_qprep_q5_portable with 512-bit registers (same bytes). */
ALWAYS_INLINE void q5_prep(bool one, int64_t nb, const void *group, void *dst)
{
    const gm_type t = one ? GM_TYPE_Q5_1 : GM_TYPE_Q5_0;
    const unsigned char *g = group;
    unsigned char *d = dst;
    for (int64_t b = 0; b < nb; b++) {
        size_t qi, si, qo, so;
        gm_qp_offsets(t, nb, b, &qi, &si);
        gm_qp_offsets(GM_TYPE_Q8_0, nb, b, &qo, &so);
        const __m512i qh = _mm512_loadu_si512((const void *)(g + qi + 256));
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            __m512i v = _mm512_loadu_si512((const void *)(g + qi + 64 * k));
            _mm512_storeu_si512((void *)(d + qo + 64 * k), q5p_levels(v, qh, k));
            _mm512_storeu_si512((void *)(d + qo + 256 + 64 * k), q5p_levels(v, qh, k + 4));
        }
        memcpy(d + so, g + si, 32);
        if (one) memcpy(d + gm_q5r_mins(nb, b), g + si + 32, 32);
    }
}
static void q5_0_prep(int64_t nb, const void *group, void *dst) { q5_prep(false, nb, group, dst); }
static void q5_1_prep(int64_t nb, const void *group, void *dst) { q5_prep(true, nb, group, dst); }

/* ---- packed K types: integer sums per super-block, then the row kernels' update
 *
 * Per sub-block the exact dot of levels and activations builds up in one
 * register per token (16 rows), is multiplied by the rows' sub-block scales
 * (vpmulld) and summed into isum; the other integer term (Q4_K's mins times
 * the activation sums, Q6_K's level offset 32 times scale times sum) comes
 * from vpdpwssd on 16-bit pairs; then per super-block the same float
 * expression as gm_ksum / gm_k6sum, so the bits equal the row kernels' and
 * the reference's.  One operand at a time (reloaded from L1 as needed)
 * keeps the per-token registers to three, so 8 tokens share each decode. */

/* Sub-block j's 6-bit scale (hi = 0) or min (hi = 1) of 16 rows, from the
 * three interleaved dwords of the 12 scale bytes (gm_k_scale_min). */
ALWAYS_INLINE __m512i q4k_scale(const __m512i D[3], int j, int hi)
{
    const __m512i m63 = _mm512_set1_epi32(63), m15 = _mm512_set1_epi32(15), m3 = _mm512_set1_epi32(3);
    if (j < 4) return _mm512_and_si512(_mm512_srli_epi32(D[hi], 8 * j), m63);
    int jj = j - 4;
    return _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(D[2], 8 * jj + 4 * hi), m15),
                           _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(D[hi], 8 * jj + 6), m3), 4));
}

/* Token u's activation sums 2j and 2j+1 of super-block b (16 elements
 * each, or with k32 the 32-element bsums32) as a broadcast int16 pair: the
 * operand that vpdpwssd multiplies with a pair of per-row scales or mins. */
ALWAYS_INLINE __m512i bsum_pair(const void *xv, size_t xs, int u, int64_t b, int j, bool k32)
{
    const gm_bq8k *x = XROW(gm_bq8k, xv, u, xs) + b;
    int32_t pr;
    memcpy(&pr, (k32 ? x->bsums32 : x->bsums) + 2 * j, 4);
    return _mm512_set1_epi32(pr);
}

/* End of a Q4_K super-block: sum += (dx * d) * isum - (dx * dmin) * msum,
 * gm_ksum's float expression (wd, wm: the 16 rows' d and dmin). */
ALWAYS_INLINE void q4k_update(int nt, const void *xv, size_t xs, int64_t b, __m512 wd, __m512 wm, const __m512i *isum,
                              const __m512i *msum, __m512 *sum)
{
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) {
        __m512 xd = _mm512_set1_ps(XROW(gm_bq8k, xv, u, xs)[b].d);
        __m512 v = _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(xd, wd), _mm512_cvtepi32_ps(isum[u])),
                                 _mm512_mul_ps(_mm512_mul_ps(xd, wm), _mm512_cvtepi32_ps(msum[u])));
        sum[u] = _mm512_add_ps(sum[u], v);
    }
}

/* q4k_update with the levels' sum already a float (fisum = (float)isum). */
ALWAYS_INLINE void q4k_update_f(int nt, const void *xv, size_t xs, int64_t b, __m512 wd, __m512 wm, const __m512 *fisum,
                                const __m512i *msum, __m512 *sum)
{
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) {
        __m512 xd = _mm512_set1_ps(XROW(gm_bq8k, xv, u, xs)[b].d);
        __m512 v = _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(xd, wd), fisum[u]),
                                 _mm512_mul_ps(_mm512_mul_ps(xd, wm), _mm512_cvtepi32_ps(msum[u])));
        sum[u] = _mm512_add_ps(sum[u], v);
    }
}

/* End of a Q6_K super-block: sum += (dx * d) * (isum - 32 * corr), gm_k6sum's
 * float expression (corr: the scales times the activation sums). */
ALWAYS_INLINE void q6k_update(int nt, const void *xv, size_t xs, int64_t b, __m512 wd, const __m512i *isum,
                              const __m512i *corr, __m512 *sum)
{
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) {
        __m512 xd = _mm512_set1_ps(XROW(gm_bq8k, xv, u, xs)[b].d);
        __m512i is = _mm512_sub_epi32(isum[u], _mm512_slli_epi32(corr[u], 5));
        sum[u] = _mm512_add_ps(sum[u], _mm512_mul_ps(_mm512_mul_ps(xd, wd), _mm512_cvtepi32_ps(is)));
    }
}

/* Levels 0..63 (ql nibble | 2 qh bits << 4) of elements 128h + 32qt + 4l4
 * .. +3 of 16 rows of a packed Q6_K super-block (low bits at L, high at H). */
ALWAYS_INLINE __m512i q6k_levels(const unsigned char *L, const unsigned char *H, int h, int qt, int l4)
{
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    __m512i lv = _mm512_loadu_si512((const void *)(L + 64 * (16 * h + 8 * (qt & 1) + l4)));
    __m512i hv = _mm512_loadu_si512((const void *)(H + 64 * (8 * h + l4)));
    __m512i lo = _mm512_and_si512(qt < 2 ? lv : _mm512_srli_epi16(lv, 4), m4);
    __m512i hb = qt == 0 ? _mm512_slli_epi16(hv, 4) : qt == 1 ? _mm512_slli_epi16(hv, 2)
               : qt == 2 ? hv : _mm512_srli_epi16(hv, 2);
    return _mm512_or_si512(lo, _mm512_and_si512(hb, m30));
}

#ifndef QP_PF_BLOCKS
#define QP_PF_BLOCKS 2   /* K-type decode prefetch distance, super-blocks */
#endif

/* Decode of a K-type group: prefetch the bytes of super-block b + QP_PF_BLOCKS
 * (a group's super-blocks of type t lie end to end, and groups too).
 * A super-block's loads jump between its low, high and scale parts, so a
 * fixed distance past each load landed in the block being read. */
ALWAYS_INLINE void pf_superblock(gm_type t, const unsigned char *g, int64_t b)
{
    const size_t bpb = gm_qp_quant_bytes(t) + gm_qp_scale_bytes(t);
    const char *p = (const char *)g + (size_t)(b + QP_PF_BLOCKS) * bpb;
    for (size_t o = 0; o < bpb; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
}

/* Sub-block j of a Q4_K super-block (levels at q, scales in D) for nt
 * tokens, added to isum: the low nibbles of chunk j/2 (j even) or the high
 * ones, kept in place as 16 * level (one mask); that sum is shifted down
 * after the scale multiply. */
ALWAYS_INLINE void q4kp_sub(int j, const unsigned char *q, const __m512i D[3], const void *xv, size_t xs, int64_t b,
                            int nt, __m512i *isum)
{
    const __m512i m4 = _mm512_set1_epi8(0x0F), mf0 = _mm512_set1_epi8((char)0xF0);
    const int c = j / 2, hi = j & 1;
    __m512i acc[GM_QP_TOKENS];
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) acc[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int s4 = 0; s4 < 8; s4++) {
        const unsigned char *qq = q + 64 * (8 * c + s4);
        __m512i op = _mm512_and_si512(_mm512_loadu_si512((const void *)qq), hi ? mf0 : m4);
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++)
            acc[u] = dp_bcast(acc[u], op, (XROW(gm_bq8k, xv, u, xs)[b].qs + 32 * j + 4 * s4));
    }
    __m512i sc = q4k_scale(D, j, 0);
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) {
        __m512i p = _mm512_mullo_epi32(acc[u], sc);
        isum[u] = _mm512_add_epi32(isum[u], hi ? _mm512_srai_epi32(p, 4) : p);
    }
}

/* Levels 0..31 of Q5_K sub-block j, elements 4 s4 .. 4 s4 + 3 of 16 rows
 * of a packed super-block (qs at q, qh 2048 bytes on): the nibble of chunk
 * j/2 (the low one for even j) with bit j of the element's qh byte as the
 * fifth bit.  The 16-bit shifts move bits within each byte only where the
 * 0x10 mask keeps them. */
ALWAYS_INLINE __m512i q5k_levels(const unsigned char *q, int j, int s4)
{
    const __m512i m4 = _mm512_set1_epi8(0x0F), m10 = _mm512_set1_epi8(0x10);
    __m512i v = _mm512_loadu_si512((const void *)(q + 64 * (8 * (j / 2) + s4)));
    __m512i h = _mm512_loadu_si512((const void *)(q + 2048 + 64 * s4));
    __m512i lo = _mm512_and_si512((j & 1) ? _mm512_srli_epi16(v, 4) : v, m4);
    __m512i hb = j <= 4 ? _mm512_slli_epi16(h, (unsigned)(4 - j)) : _mm512_srli_epi16(h, (unsigned)(j - 4));
    return _mm512_or_si512(lo, _mm512_and_si512(hb, m10));
}

/* q4kp_sub for Q5_K: the levels with their fifth bit, one register each. */
ALWAYS_INLINE void q5kp_sub(int j, const unsigned char *q, const __m512i D[3], const void *xv, size_t xs, int64_t b,
                            int nt, __m512i *isum)
{
    __m512i acc[GM_QP_TOKENS];
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) acc[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int s4 = 0; s4 < 8; s4++) {
        __m512i op = q5k_levels(q, j, s4);
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++)
            acc[u] = dp_bcast(acc[u], op, (XROW(gm_bq8k, xv, u, xs)[b].qs + 32 * j + 4 * s4));
    }
    __m512i sc = q4k_scale(D, j, 0);
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) isum[u] = _mm512_add_epi32(isum[u], _mm512_mullo_epi32(acc[u], sc));
}

/* Q4_K (five = false) or Q5_K: 16 rows x nt <= GM_QP_TOKENS tokens.  The
 * two share the scale part and the float update (gm_ksum). */
ALWAYS_INLINE void q4kp_tile(bool five, int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y,
                             int64_t ldy, bool cont)
{
    const gm_type t = five ? GM_TYPE_Q5_K : GM_TYPE_Q4_K;
    __m512 sum[GM_QP_TOKENS];
    sums_load(nt, y, ldy, cont, sum);
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(t, nb, b, &qo, &so);
        if (nt == 1) pf_superblock(t, g, b);
        const unsigned char *q = g + qo, *S = g + so;
        __m512i D[3] = {_mm512_loadu_si512((const void *)(S + 64)), _mm512_loadu_si512((const void *)(S + 128)),
                        _mm512_loadu_si512((const void *)(S + 192))};
        /* the mins' sums after the levels'; with more than 2 tokens the
         * sub-block loop is not unrolled (the compiler then spilled the
         * sums to the stack), with 1 or 2 (decode) it is */
        __m512i isum[GM_QP_TOKENS], msum[GM_QP_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) isum[u] = _mm512_setzero_si512();
        if (nt <= 2) {
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                five ? q5kp_sub(j, q, D, xv, xs, b, nt, isum) : q4kp_sub(j, q, D, xv, xs, b, nt, isum);
        } else {
#pragma GCC unroll 1
            for (int j = 0; j < 8; j++)
                five ? q5kp_sub(j, q, D, xv, xs, b, nt, isum) : q4kp_sub(j, q, D, xv, xs, b, nt, isum);
        }
        /* mins: sum over the 16-element halves k of m_{k/2} * bsums[k], as
         * vpdpwssd of (m_j, m_j) against the pair bsums[2j], bsums[2j+1] */
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) msum[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            __m512i m = q4k_scale(D, j, 1);
            __m512i mm = _mm512_or_si512(m, _mm512_slli_epi32(m, 16));
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) msum[u] = _mm512_dpwssd_epi32(msum[u], mm, bsum_pair(xv, xs, u, b, j, false));
        }
        __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)S));
        __m512 wm = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + 32)));
        q4k_update(nt, xv, xs, b, wd, wm, isum, msum, sum);
    }
    sums_store(nt, y, ldy, sum);
}

/* Sub-blocks 2p and 2p+1 of a Q6_K super-block (low bits at L, high at H,
 * scales at S) for nt tokens, added to isum. */
ALWAYS_INLINE void q6kp_pair(int p, const unsigned char *L, const unsigned char *H, const unsigned char *S,
                             const void *xv, size_t xs, int64_t b, int nt, __m512i *isum)
{
    /* scales of sub-blocks 2p, 2p+1: int16 pairs per row */
    __m512i sp = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(S + 32 * p)));
#pragma GCC unroll 2
    for (int e = 0; e < 2; e++) {
        /* sub-block j = 2p + e: elements 16j..16j+15 = half h, quarter qt, l4 in [4*half, 4*half+4) */
        const int j = 2 * p + e, h = j / 8, qt = (j % 8) / 2, half = j % 2;
        __m512i acc[GM_QP_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) acc[u] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int l4 = 4 * half; l4 < 4 * half + 4; l4++) {
            __m512i op = q6k_levels(L, H, h, qt, l4);
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++)
                acc[u] = dp_bcast(acc[u], op, XROW(gm_bq8k, xv, u, xs)[b].qs + 128 * h + 32 * qt + 4 * l4);
        }
        __m512i sc = e ? _mm512_srai_epi32(sp, 16) : _mm512_srai_epi32(_mm512_slli_epi32(sp, 16), 16);
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) isum[u] = _mm512_add_epi32(isum[u], _mm512_mullo_epi32(acc[u], sc));
    }
}

/* Q6_K: 16 rows x nt <= GM_QP_TOKENS tokens.  Levels (ql nibble | 2 qh bits
 * << 4, 0..63) are the unsigned operand; the level offset contributes
 * -32 * sum_j sc_j * bsum_j, from vpdpwssd on the scale pairs. */
ALWAYS_INLINE void q6kp_tile(int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                             bool cont)
{
    __m512 sum[GM_QP_TOKENS];
    sums_load(nt, y, ldy, cont, sum);
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(GM_TYPE_Q6_K, nb, b, &qo, &so);
        if (nt == 1) pf_superblock(GM_TYPE_Q6_K, g, b);
        const unsigned char *L = g + qo, *H = g + qo + 2048, *S = g + so;
        /* the offset's sums after the levels'; with more than 2 tokens the
         * scale-pair loop is not unrolled (the compiler then spilled the
         * sums to the stack), with 1 or 2 (decode) it is */
        __m512i isum[GM_QP_TOKENS], corr[GM_QP_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) isum[u] = _mm512_setzero_si512();
        if (nt <= 2) {
#pragma GCC unroll 8
            for (int p = 0; p < 8; p++) q6kp_pair(p, L, H, S, xv, xs, b, nt, isum);
        } else {
#pragma GCC unroll 1
            for (int p = 0; p < 8; p++) q6kp_pair(p, L, H, S, xv, xs, b, nt, isum);
        }
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) corr[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int p = 0; p < 8; p++) {
            __m512i sp = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(S + 32 * p)));
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) corr[u] = _mm512_dpwssd_epi32(corr[u], sp, bsum_pair(xv, xs, u, b, p, false));
        }
        __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + 256)));
        q6k_update(nt, xv, xs, b, wd, isum, corr, sum);
    }
    sums_store(nt, y, ldy, sum);
}

#define QP_Q4_K(nb, g, x, xs, nt, y, ldy, cont) q4kp_tile(false, nb, g, x, xs, nt, y, ldy, cont)
#define QP_Q5_K(nb, g, x, xs, nt, y, ldy, cont) q4kp_tile(true, nb, g, x, xs, nt, y, ldy, cont)
QP_TILE_FN(avx512_tile_q4_K, QP_Q4_K)
QP_TILE_FN(avx512_tile_q5_K, QP_Q5_K)
QP_TILE_FN(avx512_tile_q6_K, q6kp_tile)

/* ---- prefill rewrites of the K types (gm_qprep) ------------------------------
 *
 * In prefill a run of a group's super-blocks is rewritten once, then read by
 * every token tile: the levels as plain bytes (no masks or shifts per tile)
 * and the scales already unpacked.  The integer sums are the same numbers
 * (Q4_K's high nibbles were read as 16 * level and shifted after the scale
 * multiply; exact either way), the float expression per super-block is the
 * packed tile's, so the bits are too.  The layouts are quant.h's
 * (GM_Q4KR_BYTES, GM_Q6KR_BYTES); Q4_K and Q5_K differ only in their levels
 * (0..15, 0..31), so one tile reads both. */

/* The rewrite of a run of Q4_K (five = false) or Q5_K super-blocks. */
ALWAYS_INLINE void qkr_prep(bool five, int64_t nb, const void *group, void *dst)
{
    const unsigned char *g = group;
    unsigned char *d = dst;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(five ? GM_TYPE_Q5_K : GM_TYPE_Q4_K, nb, b, &qo, &so);
        const unsigned char *q = g + qo, *S = g + so;
        unsigned char *o = d + (size_t)b * GM_Q4KR_BYTES;
        __m512i D[3] = {_mm512_loadu_si512((const void *)(S + 64)), _mm512_loadu_si512((const void *)(S + 128)),
                        _mm512_loadu_si512((const void *)(S + 192))};
        for (int j = 0; j < 8; j++) {
            for (int s4 = 0; s4 < 8; s4++) {
                __m512i v = _mm512_loadu_si512((const void *)(q + 64 * (8 * (j / 2) + s4)));
                if (j & 1) v = _mm512_srli_epi16(v, 4);
                _mm512_storeu_si512((void *)(o + 64 * (8 * j + s4)), five ? q5k_levels(q, j, s4) : _mm512_and_si512(v, m4));
            }
            _mm512_storeu_si512((void *)(o + 4096 + 64 * j), q4k_scale(D, j, 0));
        }
        for (int p = 0; p < 4; p++)
            _mm512_storeu_si512((void *)(o + GM_Q4KR_MINS + 64 * p),
                                _mm512_or_si512(q4k_scale(D, 2 * p, 1), _mm512_slli_epi32(q4k_scale(D, 2 * p + 1, 1), 16)));
        _mm512_storeu_ps(o + GM_Q4KR_D, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)S)));
        _mm512_storeu_ps(o + GM_Q4KR_DMIN, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + 32))));
    }
}

static void q4kr_prep(int64_t nb, const void *group, void *dst) { qkr_prep(false, nb, group, dst); }
static void q5kr_prep(int64_t nb, const void *group, void *dst) { qkr_prep(true, nb, group, dst); }

/* For the run tiles: isum[u] += sc x (dot products of n consecutive
 * 64-byte rows of levels at o with token u's activations from qs[off]). */
ALWAYS_INLINE void run_levels(const unsigned char *o, int n, const void *xv, size_t xs, int64_t b, int off, __m512i sc,
                              int nt, __m512i *isum)
{
    __m512i acc[GM_QP_TOKENS];
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) acc[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int s = 0; s < n; s++) {
        __m512i op = _mm512_loadu_si512((const void *)(o + 64 * s));
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) acc[u] = dp_bcast(acc[u], op, XROW(gm_bq8k, xv, u, xs)[b].qs + off + 4 * s);
    }
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) isum[u] = _mm512_add_epi32(isum[u], _mm512_mullo_epi32(acc[u], sc));
}

/* Two run_levels side by side: n rows of levels at o0 and o1 (activations
 * from qs[off0] and qs[off1]) with scales sc0 and sc1, so 2 nt chains of
 * vpdpbusd are in flight instead of nt.  Integer sums: the same numbers. */
ALWAYS_INLINE void run_levels2(const unsigned char *o0, const unsigned char *o1, int n, const void *xv, size_t xs,
                               int64_t b, int off0, int off1, __m512i sc0, __m512i sc1, int nt, __m512i *isum)
{
    __m512i a0[GM_QP_TOKENS], a1[GM_QP_TOKENS];
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) a0[u] = a1[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int s = 0; s < n; s++) {
        __m512i op0 = _mm512_loadu_si512((const void *)(o0 + 64 * s));
        __m512i op1 = _mm512_loadu_si512((const void *)(o1 + 64 * s));
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) {
            const int8_t *qs = XROW(gm_bq8k, xv, u, xs)[b].qs;
            a0[u] = dp_bcast(a0[u], op0, qs + off0 + 4 * s);
            a1[u] = dp_bcast(a1[u], op1, qs + off1 + 4 * s);
        }
    }
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++)
        isum[u] = _mm512_add_epi32(isum[u], _mm512_add_epi32(_mm512_mullo_epi32(a0[u], sc0), _mm512_mullo_epi32(a1[u], sc1)));
}

/* run_levels with the scale applied in floats, for sub-blocks j and j + 1
 * (levels at o and o + 512, token u's activations from qs[off] and
 * qs[off + 32]): fsum[u] += scf0 x dots of j, then scf1 x dots of j + 1.
 * Exact (so the same bits as the integer sums) while every product and
 * partial sum stays below 2^24 in magnitude; see q4kr_tile_f.  The two
 * sub-blocks go side by side, 2 nt chains of vpdpbusd: with one sub-block's
 * nt, each instruction waited on the one before it in its chain. */
ALWAYS_INLINE void run_levels_f2(const unsigned char *o, const void *xv, size_t xs, int64_t b, int off, __m512 scf0,
                                 __m512 scf1, int nt, __m512 *fsum)
{
    __m512i a0[GM_QP_TOKENS], a1[GM_QP_TOKENS];
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) a0[u] = a1[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int s = 0; s < 8; s++) {
        __m512i op0 = _mm512_loadu_si512((const void *)(o + 64 * s));
        __m512i op1 = _mm512_loadu_si512((const void *)(o + 512 + 64 * s));
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) {
            const int8_t *qs = XROW(gm_bq8k, xv, u, xs)[b].qs + off + 4 * s;
            a0[u] = dp_bcast(a0[u], op0, qs);
            a1[u] = dp_bcast(a1[u], op1, qs + 32);
        }
    }
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) {
        fsum[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a0[u]), scf0, fsum[u]);
        fsum[u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a1[u]), scf1, fsum[u]);
    }
}

/* For the run tiles: out[u] = the rows of int16 pairs at w against token
 * u's pairs of activation sums: Q6_K's scale pairs against the 16-element
 * sums (8 rows), or (k32) Q4_K/Q5_K's min pairs against the 32-element
 * sums, one per sub-block (4 rows: half the vpdpwssd of pairing each min
 * with itself against two 16-element sums; the same integers). */
ALWAYS_INLINE void run_pair_sums(bool k32, const unsigned char *w, const void *xv, size_t xs, int64_t b, int nt,
                                 __m512i *out)
{
#pragma GCC unroll 8
    for (int u = 0; u < nt; u++) out[u] = _mm512_setzero_si512();
    const int pairs = k32 ? 4 : 8;
#pragma GCC unroll 8
    for (int p = 0; p < pairs; p++) {
        __m512i wp = _mm512_loadu_si512((const void *)(w + 64 * p));
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) out[u] = _mm512_dpwssd_epi32(out[u], wp, bsum_pair(xv, xs, u, b, p, k32));
    }
}

/* q4kp_tile (Q4_K or Q5_K) on a rewritten run. */
ALWAYS_INLINE void q4kr_tile(int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                             bool cont)
{
    __m512 sum[GM_QP_TOKENS];
    sums_load(nt, y, ldy, cont, sum);
    for (int64_t b = 0; b < nb; b++) {
        const unsigned char *o = g + (size_t)b * GM_Q4KR_BYTES;
        /* the mins' sums are made after the levels' (not beside them): 8
         * tokens x 4 vectors in flight would not fit the 32 registers */
        __m512i isum[GM_QP_TOKENS], msum[GM_QP_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) isum[u] = _mm512_setzero_si512();
#pragma GCC unroll 1
        for (int j = 0; j < 8; j += 2)   /* not unrolled: the compiler then spilled the sums */
            run_levels2(o + 512 * j, o + 512 * j + 512, 8, xv, xs, b, 32 * j, 32 * j + 32,
                        _mm512_loadu_si512((const void *)(o + 4096 + 64 * j)),
                        _mm512_loadu_si512((const void *)(o + 4096 + 64 * j + 64)), nt, isum);
        run_pair_sums(true, o + GM_Q4KR_MINS, xv, xs, b, nt, msum);
        __m512 wd = _mm512_loadu_ps(o + GM_Q4KR_D), wm = _mm512_loadu_ps(o + GM_Q4KR_DMIN);
        q4k_update(nt, xv, xs, b, wd, wm, isum, msum, sum);
    }
    sums_store(nt, y, ldy, sum);
}

/* q4kr_tile for Q4_K, with each sub-block's scale applied by one float FMA
 * instead of vpmulld (two uops) and an add.  Levels 0..15, scales 0..63 and
 * activations within +-127 bound a sub-block's scaled sum by 3.9e6, so four
 * of them stay below 2^24: sub-blocks 0-3 and 4-7 are summed exactly in two
 * float halves, and their one rounded sum is the rounding of the integer
 * total, as vcvtdq2ps gives it: the same bits as q4kr_tile.  (Q5_K's levels
 * reach 31, which leaves room for only two sub-blocks per exact half.) */
ALWAYS_INLINE void q4kr_tile_f(int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y,
                               int64_t ldy, bool cont)
{
    __m512 sum[GM_QP_TOKENS];
    __attribute__((aligned(64))) float lo_half[GM_QP_TOKENS][16];
    sums_load(nt, y, ldy, cont, sum);
    for (int64_t b = 0; b < nb; b++) {
        const unsigned char *o = g + (size_t)b * GM_Q4KR_BYTES;
        __m512 fs[GM_QP_TOKENS];
        __m512i msum[GM_QP_TOKENS];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) fs[u] = _mm512_setzero_ps();
#pragma GCC unroll 1
            for (int j = 4 * h; j < 4 * h + 4; j += 2)
                run_levels_f2(o + 512 * j, xv, xs, b, 32 * j,
                              _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(o + 4096 + 64 * j))),
                              _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(o + 4096 + 64 * j + 64))), nt, fs);
            /* the first half waits in L1: 8 more live registers per token
             * set would spill the tile's sums */
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) {
                if (h == 0) _mm512_store_ps(lo_half[u], fs[u]);
                else fs[u] = _mm512_add_ps(_mm512_load_ps(lo_half[u]), fs[u]);
            }
        }
        run_pair_sums(true, o + GM_Q4KR_MINS, xv, xs, b, nt, msum);
        __m512 wd = _mm512_loadu_ps(o + GM_Q4KR_D), wm = _mm512_loadu_ps(o + GM_Q4KR_DMIN);
        q4k_update_f(nt, xv, xs, b, wd, wm, fs, msum, sum);
    }
    sums_store(nt, y, ldy, sum);
}

/* q4kr_tile_f over two rewritten runs (32 rows: g0's into y0, g1's into
 * y1) times nt <= GM_QP2_TOKENS tokens: each activation broadcast
 * once for both runs' levels, as in qp_tile32.  The sums of a half
 * super-block wait in an L1 array between sub-blocks (36 live vectors
 * would not fit the 32 registers; the tile's sums in y instead, rows
 * thousands of floats apart, made it half as fast); every operation and
 * its order is q4kr_tile_f's, so the same bits. */
ALWAYS_INLINE void q4kr_tile32_f(int64_t nb, const unsigned char *g0, const unsigned char *g1, const void *xv,
                                 size_t xs, int nt, float *y0, float *y1, int64_t ldy, bool cont)
{
    __attribute__((aligned(64))) float fh[2][2][GM_QP2_TOKENS][16];   /* [half][run][token] */
    __m512 s0[GM_QP2_TOKENS], s1[GM_QP2_TOKENS];
    sums_load(nt, y0, ldy, cont, s0);
    sums_load(nt, y1, ldy, cont, s1);
    for (int64_t b = 0; b < nb; b++) {
        const unsigned char *o0 = g0 + (size_t)b * GM_Q4KR_BYTES, *o1 = g1 + (size_t)b * GM_Q4KR_BYTES;
#pragma GCC unroll 1
        for (int j = 0; j < 8; j++) {
            float (*f)[GM_QP2_TOKENS][16] = fh[j / 4];
            __m512i a0[GM_QP2_TOKENS], a1[GM_QP2_TOKENS];
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) a0[u] = a1[u] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) {
                __m512i w0 = _mm512_loadu_si512((const void *)(o0 + 512 * j + 64 * k));
                __m512i w1 = _mm512_loadu_si512((const void *)(o1 + 512 * j + 64 * k));
#pragma GCC unroll 8
                for (int u = 0; u < nt; u++) {
                    int32_t s4;
                    memcpy(&s4, XROW(gm_bq8k, xv, u, xs)[b].qs + 32 * j + 4 * k, 4);
                    __m512i x4 = _mm512_set1_epi32(s4);
                    a0[u] = _mm512_dpbusd_epi32(a0[u], w0, x4);
                    a1[u] = _mm512_dpbusd_epi32(a1[u], w1, x4);
                }
            }
            __m512 sc0 = _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(o0 + 4096 + 64 * j)));
            __m512 sc1 = _mm512_cvtepi32_ps(_mm512_loadu_si512((const void *)(o1 + 4096 + 64 * j)));
            const bool first = j % 4 == 0;     /* a half's sums start from zero */
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) {
                __m512 p0 = first ? _mm512_setzero_ps() : _mm512_load_ps(f[0][u]);
                __m512 p1 = first ? _mm512_setzero_ps() : _mm512_load_ps(f[1][u]);
                _mm512_store_ps(f[0][u], _mm512_fmadd_ps(_mm512_cvtepi32_ps(a0[u]), sc0, p0));
                _mm512_store_ps(f[1][u], _mm512_fmadd_ps(_mm512_cvtepi32_ps(a1[u]), sc1, p1));
            }
        }
        __m512i m0[GM_QP2_TOKENS], m1[GM_QP2_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) m0[u] = m1[u] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int p = 0; p < 4; p++) {
            __m512i w0 = _mm512_loadu_si512((const void *)(o0 + GM_Q4KR_MINS + 64 * p));
            __m512i w1 = _mm512_loadu_si512((const void *)(o1 + GM_Q4KR_MINS + 64 * p));
#pragma GCC unroll 8
            for (int u = 0; u < nt; u++) {
                __m512i bs = bsum_pair(xv, xs, u, b, p, true);
                m0[u] = _mm512_dpwssd_epi32(m0[u], w0, bs);
                m1[u] = _mm512_dpwssd_epi32(m1[u], w1, bs);
            }
        }
        __m512 wd0 = _mm512_loadu_ps(o0 + GM_Q4KR_D), wm0 = _mm512_loadu_ps(o0 + GM_Q4KR_DMIN);
        __m512 wd1 = _mm512_loadu_ps(o1 + GM_Q4KR_D), wm1 = _mm512_loadu_ps(o1 + GM_Q4KR_DMIN);
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) {   /* q4k_update_f's operations on the two halves' sum */
            __m512 xd = _mm512_set1_ps(XROW(gm_bq8k, xv, u, xs)[b].d);
            __m512 h0 = _mm512_add_ps(_mm512_load_ps(fh[0][0][u]), _mm512_load_ps(fh[1][0][u]));
            __m512 h1 = _mm512_add_ps(_mm512_load_ps(fh[0][1][u]), _mm512_load_ps(fh[1][1][u]));
            s0[u] = _mm512_add_ps(s0[u], _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(xd, wd0), h0),
                                                       _mm512_mul_ps(_mm512_mul_ps(xd, wm0), _mm512_cvtepi32_ps(m0[u]))));
            s1[u] = _mm512_add_ps(s1[u], _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(xd, wd1), h1),
                                                       _mm512_mul_ps(_mm512_mul_ps(xd, wm1), _mm512_cvtepi32_ps(m1[u]))));
        }
    }
    sums_store(nt, y0, ldy, s0);
    sums_store(nt, y1, ldy, s1);
}

QP2_TILE_FN(avx512_tile2_q4_K_run, q4kr_tile32_f)

static void q6kr_prep(int64_t nb, const void *group, void *dst)
{
    const unsigned char *g = group;
    unsigned char *d = dst;
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(GM_TYPE_Q6_K, nb, b, &qo, &so);
        const unsigned char *L = g + qo, *H = g + qo + 2048, *S = g + so;
        unsigned char *o = d + (size_t)b * GM_Q6KR_BYTES;
        /* row i of the levels: elements 4i..4i+3 = 128 h + 32 qt + 4 l4 */
        for (int i = 0; i < 64; i++)
            _mm512_storeu_si512((void *)(o + 64 * i), q6k_levels(L, H, i / 32, (i % 32) / 8, i % 8));
        for (int p = 0; p < 8; p++)
            _mm512_storeu_si512((void *)(o + 4096 + 64 * p),
                                _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(S + 32 * p))));
        _mm512_storeu_ps(o + 4608, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + 256))));
    }
}

/* q6kp_tile on a rewritten run. */
ALWAYS_INLINE void q6kr_tile(int64_t nb, const unsigned char *g, const void *xv, size_t xs, int nt, float *y, int64_t ldy,
                             bool cont)
{
    __m512 sum[GM_QP_TOKENS];
    sums_load(nt, y, ldy, cont, sum);
    for (int64_t b = 0; b < nb; b++) {
        const unsigned char *o = g + (size_t)b * GM_Q6KR_BYTES;
        /* the offset's sums after the levels' (8 tokens x 4 vectors in
         * flight would not fit the 32 registers) */
        __m512i isum[GM_QP_TOKENS], corr[GM_QP_TOKENS];
#pragma GCC unroll 8
        for (int u = 0; u < nt; u++) isum[u] = _mm512_setzero_si512();
#pragma GCC unroll 1
        for (int p = 0; p < 8; p++) {   /* not unrolled: the compiler then spilled the sums */
            __m512i sp = _mm512_loadu_si512((const void *)(o + 4096 + 64 * p));
#pragma GCC unroll 2
            for (int e = 0; e < 2; e++) {
                const int j = 2 * p + e;
                __m512i sc = e ? _mm512_srai_epi32(sp, 16) : _mm512_srai_epi32(_mm512_slli_epi32(sp, 16), 16);
                run_levels(o + 256 * j, 4, xv, xs, b, 16 * j, sc, nt, isum);
            }
        }
        run_pair_sums(false, o + 4096, xv, xs, b, nt, corr);
        __m512 wd = _mm512_loadu_ps(o + 4608);
        q6k_update(nt, xv, xs, b, wd, isum, corr, sum);
    }
    sums_store(nt, y, ldy, sum);
}

QP_TILE_FN(avx512_tile_q4_K_run, q4kr_tile_f)
QP_TILE_FN(avx512_tile_q5_K_run, q4kr_tile)
QP_TILE_FN(avx512_tile_q6_K_run, q6kr_tile)

gm_qprep gm_qprep_avx512(gm_type t)
{
    gm_qprep r = { NULL, gm_qtile_avx512(t), 0, NULL };
    switch (t) {
    case GM_TYPE_Q8_0: r.tile2 = avx512_tile2_q8_0; break;
    case GM_TYPE_Q4_0: r.tile2 = avx512_tile2_q4_0; break;   /* read in place: no rewrite */
    case GM_TYPE_Q5_0: r = (gm_qprep){ q5_0_prep, avx512_tile_q8_0, GM_Q5R_BYTES(GM_TYPE_Q5_0), avx512_tile2_pow2 }; break;
    case GM_TYPE_Q5_1: r = (gm_qprep){ q5_1_prep, avx512_tile_q5_1_run, GM_Q5R_BYTES(GM_TYPE_Q5_1), NULL }; break;
    case GM_TYPE_Q4_K: r = (gm_qprep){ q4kr_prep, avx512_tile_q4_K_run, GM_Q4KR_BYTES, avx512_tile2_q4_K_run }; break;
    case GM_TYPE_Q5_K: r = (gm_qprep){ q5kr_prep, avx512_tile_q5_K_run, GM_Q4KR_BYTES, NULL }; break;
    case GM_TYPE_Q6_K: r = (gm_qprep){ q6kr_prep, avx512_tile_q6_K_run, GM_Q6KR_BYTES, NULL }; break;
    default: break;
    }
    return r;
}

gm_qtile_fn gm_qtile_avx512(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q8_0: return avx512_tile_q8_0;
    case GM_TYPE_Q4_0: return avx512_tile_q4_0;
    case GM_TYPE_Q5_0: return avx512_tile_q5_0;
    case GM_TYPE_Q5_1: return avx512_tile_q5_1;
    case GM_TYPE_Q4_K: return avx512_tile_q4_K;
    case GM_TYPE_Q5_K: return avx512_tile_q5_K;
    case GM_TYPE_Q6_K: return avx512_tile_q6_K;
    default: return NULL;
    }
}

/* 16 floats times id, rounded to nearest even (lrintf) and clamped to +-127. */
ALWAYS_INLINE __m512i q8_round16(__m512 v, __m512 id)
{
    __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(v, id));
    return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(-127)), _mm512_set1_epi32(127));
}

/* gm_quantize_act_q8 with 512-bit registers (same bytes as the portable one). */
void gm_quantize_act_q8_avx512(gm_type t, const float *x, gm_bq8 *y, int64_t n)
{
    const bool pow2 = gm_act_pow2(t);
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float id, d = gm_act_scale(pow2, amax, &id);
        __m512i q0 = q8_round16(v0, _mm512_set1_ps(id)), q1 = q8_round16(v1, _mm512_set1_ps(id));
        _mm_storeu_si128((__m128i *)y[b].qs, _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(y[b].qs + 16), _mm512_cvtepi32_epi8(q1));
        y[b].d = d;
        y[b].sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

/* gm_quantize_act_q8k with 512-bit registers (same bytes as the portable one). */
void gm_quantize_act_q8k_avx512(const float *x, gm_bq8k *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        __m512 m = _mm512_setzero_ps();
        for (int i = 0; i < GM_QKK; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
        float amax = _mm512_reduce_max_ps(m);
        float d = amax / 127.0f, id = d > 0.0f ? 127.0f / amax : 0.0f;
        __m512 s = _mm512_set1_ps(id);
        for (int j = 0; j < 16; j++) {
            __m512i q = q8_round16(_mm512_loadu_ps(x + 16 * j), s);
            _mm_storeu_si128((__m128i *)(y[b].qs + 16 * j), _mm512_cvtepi32_epi8(q));
            y[b].bsums[j] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        for (int j = 0; j < 8; j++) y[b].bsums32[j] = (int16_t)(y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
        y[b].d = d;
    }
}

/* gm_quantize_act_q8c with 512-bit registers: the same operations per
 * element as the portable quantizer (|x| max, d = gm_act_scale(amax), q =
 * round to nearest even of x / d, clamped), so the same bytes, without
 * the library calls that made activation quantization a tenth of a prefill. */
void gm_quantize_act_q8c_avx512(gm_type t, const float *x, gm_bq8c *y, int64_t n)
{
    const int32_t C = gm_q8c_offset(t);
    const bool pow2 = gm_act_pow2(t);
    const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        float id, d = gm_act_scale(pow2, amax, &id);
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
