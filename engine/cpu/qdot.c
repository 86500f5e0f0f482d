/* qdot.c: the portable integer dot products (the reference every SIMD path
 * is tested against) and the run-time choice of kernel path.
 *
 * Each kernel sums integer products per block exactly, then accumulates in
 * float: for the K types one float update per 256-element super-block, in
 * the same expression on every path, so all paths agree bit for bit; for
 * Q8_0/Q4_0 the SIMD paths (qdot_simd.h) accumulate blocks in vector lanes,
 * so they agree with this file only to float rounding. */
#include <math.h>
#include <string.h>
#include "quant.h"

/* The block scales are half precision. */
static inline float h2f(uint16_t h) { return gm_f16_to_f32(h); }

/* Q8_0 weights x gm_bq8 activations. */
static float dot_q8_0(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q8_0 *w = wv;
    const gm_bq8 *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int i = 0; i < 32; i++) isum += w[b].qs[i] * x[b].qs[i];
        sum += h2f(w[b].d) * x[b].d * (float)isum;
    }
    return sum;
}

/* Q4_0 weights: sum (q-8)*x = sum q*x - 8*sum x. */
static float dot_q4_0(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q4_0 *w = wv;
    const gm_bq8 *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int i = 0; i < 16; i++)
            isum += (w[b].qs[i] & 0xF) * x[b].qs[i] + (w[b].qs[i] >> 4) * x[b].qs[i + 16];
        isum -= 8 * x[b].sum;
        sum += h2f(w[b].d) * x[b].d * (float)isum;
    }
    return sum;
}

/* Q5_0 weights: sum (q-16)*x = sum q*x - 16*sum x. */
static float dot_q5_0(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q5_0 *w = wv;
    const gm_bq8 *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = gm_q5_isum(w[b].qs, w[b].qh, x[b].qs) - 16 * x[b].sum;
        sum += h2f(w[b].d) * x[b].d * (float)isum;
    }
    return sum;
}

/* Q5_1 weights: sum (d*q + m) * dx*x = d*dx * sum q*x + m*dx * sum x. */
static float dot_q5_1(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q5_1 *w = wv;
    const gm_bq8 *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = gm_q5_isum(w[b].qs, w[b].qh, x[b].qs);
        sum += h2f(w[b].d) * x[b].d * (float)isum + h2f(w[b].m) * x[b].d * (float)x[b].sum;
    }
    return sum;
}

/* Q4_K: per super-block, sum_j sc_j*dot_j and sum_j m_j*bsum_j, both exact. */
static float dot_q4_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q4_K *w = wv;
    const gm_bq8k *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0, msum = 0;
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1, s0 = 0, s1 = 0;
            gm_k_scale_min(2 * c, w[b].scales, &sc0, &m0);
            gm_k_scale_min(2 * c + 1, w[b].scales, &sc1, &m1);
            const uint8_t *q = w[b].qs + 32 * c;
            const int8_t *a = x[b].qs + 64 * c;
            for (int l = 0; l < 32; l++) { s0 += (q[l] & 0xF) * a[l]; s1 += (q[l] >> 4) * a[l + 32]; }
            isum += sc0 * s0 + sc1 * s1;
            msum += m0 * (x[b].bsums[4 * c] + x[b].bsums[4 * c + 1]) +
                    m1 * (x[b].bsums[4 * c + 2] + x[b].bsums[4 * c + 3]);
        }
        sum += gm_ksum(x[b].d, h2f(w[b].d), h2f(w[b].dmin), isum, msum);
    }
    return sum;
}

/* Q5_K: Q4_K with a fifth bit from qh. */
static float dot_q5_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q5_K *w = wv;
    const gm_bq8k *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0, msum = 0;
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1, s0 = 0, s1 = 0;
            gm_k_scale_min(2 * c, w[b].scales, &sc0, &m0);
            gm_k_scale_min(2 * c + 1, w[b].scales, &sc1, &m1);
            const uint8_t *q = w[b].qs + 32 * c, *qh = w[b].qh;
            const int8_t *a = x[b].qs + 64 * c;
            for (int l = 0; l < 32; l++) {
                s0 += ((q[l] & 0xF) | (((qh[l] >> (2 * c)) & 1) << 4)) * a[l];
                s1 += ((q[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4)) * a[l + 32];
            }
            isum += sc0 * s0 + sc1 * s1;
            msum += m0 * (x[b].bsums[4 * c] + x[b].bsums[4 * c + 1]) +
                    m1 * (x[b].bsums[4 * c + 2] + x[b].bsums[4 * c + 3]);
        }
        sum += gm_ksum(x[b].d, h2f(w[b].d), h2f(w[b].dmin), isum, msum);
    }
    return sum;
}

/* Q6_K: sum_j sc_j * (sum q*x - 32*bsum_j) over 16 sub-blocks of 16. */
static float dot_q6_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q6_K *w = wv;
    const gm_bq8k *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int h = 0; h < 2; h++)
            for (int quarter = 0; quarter < 4; quarter++)
                for (int half = 0; half < 2; half++) {
                    int s = 0, e0 = 128 * h + 32 * quarter + 16 * half;
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        uint8_t lo = w[b].ql[64 * h + (quarter & 1) * 32 + l];
                        int q = (quarter < 2 ? (lo & 0xF) : (lo >> 4)) |
                                (((w[b].qh[32 * h + l] >> (2 * quarter)) & 3) << 4);
                        s += q * x[b].qs[128 * h + 32 * quarter + l];
                    }
                    isum += w[b].scales[e0 / 16] * (s - 32 * x[b].bsums[e0 / 16]);
                }
        sum += gm_k6sum(x[b].d, h2f(w[b].d), isum);
    }
    return sum;
}

gm_qkern gm_qdot_scalar(gm_type t)
{
    gm_qkern k = {NULL, NULL};
    switch (t) {
    case GM_TYPE_Q8_0: k.x1 = dot_q8_0; break;
    case GM_TYPE_Q4_0: k.x1 = dot_q4_0; break;
    case GM_TYPE_Q5_0: k.x1 = dot_q5_0; break;
    case GM_TYPE_Q5_1: k.x1 = dot_q5_1; break;
    case GM_TYPE_Q4_K: k.x1 = dot_q4_K; break;
    case GM_TYPE_Q5_K: k.x1 = dot_q5_K; break;
    case GM_TYPE_Q6_K: k.x1 = dot_q6_K; break;
    default: return gm_qdot_extra_scalar(t);
    }
    return k;
}

/* ---- packed tiles (the portable one defines the bits) ------------------------ */

/* 16 rows of a packed Q8_0, Q4_0, Q5_0 or Q5_1 group times nt tokens: per
 * block the exact integer sum with the stored offset (Q8_0 weights are
 * stored as w + 128; the correction c is in the activation block), then one
 * fmaf; Q5_1 then adds its min term, fmaf(c, m * dx, acc) with c the sum of
 * the block's activations.  The SIMD tiles reproduce this bit for bit. */
static void tile_scalar(gm_type t, int64_t nb, const void *group, const void *xv, size_t xs, int nt, float *y,
                        int64_t ldy, bool cont)
{
    const unsigned char *g = group;
    const bool q5 = t == GM_TYPE_Q5_0 || t == GM_TYPE_Q5_1;
    for (int u = 0; u < nt; u++) {
        const gm_bq8c *x = (const gm_bq8c *)((const char *)xv + (size_t)u * xs);
        for (int r = 0; r < GM_QP_ROWS; r++) {
            float acc = cont ? y[(int64_t)u * ldy + r] : 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                size_t qo, dof;
                gm_qp_offsets(t, nb, b, &qo, &dof);
                int32_t isum = t == GM_TYPE_Q5_1 ? 0 : x[b].c;
                uint32_t qh = 0;
                if (q5) memcpy(&qh, g + qo + 256 + 4 * r, 4);
                for (int k = 0; k < 8; k++)
                    for (int j = 0; j < 4; j++) {
                        int e = 4 * k + j, v;
                        if (t == GM_TYPE_Q8_0) v = g[qo + 64 * k + 4 * r + j];
                        else v = k < 4 ? g[qo + 64 * k + 4 * r + j] & 0xF : g[qo + 64 * (k - 4) + 4 * r + j] >> 4;
                        if (q5) v |= (int)((qh >> e) & 1) << 4;
                        isum += v * x[b].qs[e];
                    }
                uint16_t h;
                memcpy(&h, g + dof + 2 * r, 2);
                acc = fmaf((float)isum, h2f(h) * x[b].d, acc);
                if (t == GM_TYPE_Q5_1) {
                    memcpy(&h, g + dof + 32 + 2 * r, 2);
                    acc = fmaf((float)x[b].c, h2f(h) * x[b].d, acc);
                }
            }
            y[(int64_t)u * ldy + r] = acc;
        }
    }
}

static void prep_q5_0_portable(int64_t nb, const void *g, void *dst) { gm_qprep_q5_portable(GM_TYPE_Q5_0, nb, g, dst); }

/* The portable tiles, one per packed type. */
static void tile_q8_0_scalar(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy, bool cont)
{ tile_scalar(GM_TYPE_Q8_0, nb, g, x, xs, nt, y, ldy, cont); }
static void tile_q4_0_scalar(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy, bool cont)
{ tile_scalar(GM_TYPE_Q4_0, nb, g, x, xs, nt, y, ldy, cont); }
static void tile_q5_0_scalar(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy, bool cont)
{ tile_scalar(GM_TYPE_Q5_0, nb, g, x, xs, nt, y, ldy, cont); }
static void tile_q5_1_scalar(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy, bool cont)
{ tile_scalar(GM_TYPE_Q5_1, nb, g, x, xs, nt, y, ldy, cont); }

/* 16 rows of a packed K-type group times nt tokens: each block back to the
 * row layout and through the reference dot, one super-block at a time, so
 * the sum is the reference's sequence of gm_ksum / gm_k6sum updates. */
static void tile_k_scalar(gm_type t, gm_qdot_fn dot, int64_t nb, const void *group, const void *xv, size_t xs, int nt,
                          float *y, int64_t ldy, bool cont)
{
    for (int u = 0; u < nt; u++) {
        const gm_bq8k *x = (const gm_bq8k *)((const char *)xv + (size_t)u * xs);
        for (int r = 0; r < GM_QP_ROWS; r++) {
            float acc = cont ? y[(int64_t)u * ldy + r] : 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                unsigned char blk[sizeof(gm_block_q6_K)];
                gm_qunpack_block(t, nb, group, r, b, blk);
                acc += dot(1, blk, x + b);
            }
            y[(int64_t)u * ldy + r] = acc;
        }
    }
}

/* The portable K-type tiles. */
static void tile_q4_K_scalar(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy, bool cont)
{ tile_k_scalar(GM_TYPE_Q4_K, dot_q4_K, nb, g, x, xs, nt, y, ldy, cont); }
static void tile_q5_K_scalar(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy, bool cont)
{ tile_k_scalar(GM_TYPE_Q5_K, dot_q5_K, nb, g, x, xs, nt, y, ldy, cont); }
static void tile_q6_K_scalar(int64_t nb, const void *g, const void *x, size_t xs, int nt, float *y, int64_t ldy, bool cont)
{ tile_k_scalar(GM_TYPE_Q6_K, dot_q6_K, nb, g, x, xs, nt, y, ldy, cont); }

gm_qtile_fn gm_qtile_scalar(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q8_0: return tile_q8_0_scalar;
    case GM_TYPE_Q4_0: return tile_q4_0_scalar;
    case GM_TYPE_Q5_0: return tile_q5_0_scalar;
    case GM_TYPE_Q5_1: return tile_q5_1_scalar;
    case GM_TYPE_Q4_K: return tile_q4_K_scalar;
    case GM_TYPE_Q5_K: return tile_q5_K_scalar;
    case GM_TYPE_Q6_K: return tile_q6_K_scalar;
    default: return NULL;
    }
}

/* The rewrite of a run of packed K-type super-blocks (quant.h's layouts),
 * one byte at a time: the definition the AVX-512 and 256-bit rewrites
 * match byte for byte (test_qdot). */
void gm_qprep_k_portable(gm_type t, int64_t nb, const void *group, void *dst)
{
    const unsigned char *g = group;
    for (int64_t b = 0; b < nb; b++) {
        size_t qo, so;
        gm_qp_offsets(t, nb, b, &qo, &so);
        const unsigned char *q = g + qo, *S = g + so;
        unsigned char *o = (unsigned char *)dst + (size_t)b * (t == GM_TYPE_Q6_K ? GM_Q6KR_BYTES : GM_Q4KR_BYTES);
        if (t == GM_TYPE_Q6_K) {
            /* row i: elements 128 hh + 32 qt + 4 l4; low 4 bits from ql, 2 high from qh */
            for (int i = 0; i < 64; i++) {
                int hh = i / 32, qt = (i % 32) / 8, l4 = i % 8;
                for (int k = 0; k < 64; k++) {
                    int lv = q[64 * (16 * hh + 8 * (qt & 1) + l4) + k], hv = q[2048 + 64 * (8 * hh + l4) + k];
                    o[64 * i + k] = (unsigned char)(((qt < 2 ? lv : lv >> 4) & 15) | ((hv >> (2 * qt)) & 3) << 4);
                }
            }
            for (int p = 0; p < 8; p++)
                for (int k = 0; k < 32; k++) {
                    int16_t v = (int8_t)S[32 * p + k];
                    memcpy(o + 4096 + 64 * p + 2 * k, &v, 2);
                }
            for (int r = 0; r < GM_QP_ROWS; r++) {
                uint16_t h;
                memcpy(&h, S + 256 + 2 * r, 2);
                float f = h2f(h);
                memcpy(o + 4608 + 4 * r, &f, 4);
            }
            continue;
        }
        for (int j = 0; j < 8; j++)
            for (int s4 = 0; s4 < 8; s4++)
                for (int k = 0; k < 64; k++) {
                    int v = q[64 * (8 * (j / 2) + s4) + k];
                    int lv = ((j & 1) ? v >> 4 : v) & 15;
                    if (t == GM_TYPE_Q5_K) lv |= ((q[2048 + 64 * s4 + k] >> j) & 1) << 4;
                    o[64 * (8 * j + s4) + k] = (unsigned char)lv;
                }
        for (int r = 0; r < GM_QP_ROWS; r++) {
            uint8_t sc12[12];
            for (int i = 0; i < 3; i++) memcpy(sc12 + 4 * i, S + 64 + 64 * i + 4 * r, 4);
            int mins[8];
            for (int j = 0; j < 8; j++) {
                int sc;
                gm_k_scale_min(j, sc12, &sc, &mins[j]);
                int32_t s32 = sc;
                memcpy(o + 4096 + 64 * j + 4 * r, &s32, 4);
            }
            for (int p = 0; p < 4; p++) {
                int32_t m32 = mins[2 * p] | mins[2 * p + 1] << 16;
                memcpy(o + GM_Q4KR_MINS + 64 * p + 4 * r, &m32, 4);
            }
            uint16_t hd, hm;
            memcpy(&hd, S + 2 * r, 2);
            memcpy(&hm, S + 32 + 2 * r, 2);
            float fd = h2f(hd), fm = h2f(hm);
            memcpy(o + GM_Q4KR_D + 4 * r, &fd, 4);
            memcpy(o + GM_Q4KR_DMIN + 4 * r, &fm, 4);
        }
    }
}

gm_qprep gm_qprep_get(gm_type t, gm_qisa isa)
{
    gm_qprep r = { NULL, gm_qtile_get(t, isa), 0, NULL };
    if (!r.tile) return r;
#if defined(__x86_64__)
    if (isa == GM_QISA_AVX512) return gm_qprep_avx512(t);
    if (isa == GM_QISA_AVX2 || isa == GM_QISA_AVXVNNI) {   /* K runs rewritten; Q8_0, Q4_0 read as they are */
        gm_qprep k = isa == GM_QISA_AVX2 ? gm_qprep_avx2(t) : gm_qprep_avxvnni(t);
        return k.prep && r.tile != gm_qtile_scalar(t) ? k : r;
    }
#endif
    if (t == GM_TYPE_Q4_0)
        r = (gm_qprep){ gm_qprep_q4_0_portable, gm_qtile_get(GM_TYPE_Q8_0, isa),
                        gm_qp_quant_bytes(GM_TYPE_Q8_0) + gm_qp_scale_bytes(GM_TYPE_Q8_0), NULL };
    if (t == GM_TYPE_Q5_0) r = (gm_qprep){ prep_q5_0_portable, gm_qtile_get(GM_TYPE_Q8_0, isa), GM_Q5R_BYTES(t), NULL };
    return r;
}

bool gm_qpack_native(gm_type t, gm_qisa isa)
{
    gm_qtile_fn f = isa == GM_QISA_SCALAR ? NULL : gm_qtile_get(t, isa);
    return f && f != gm_qtile_scalar(t);
}

gm_qtile_fn gm_qtile_get(gm_type t, gm_qisa isa)
{
    if (!gm_qpack_type(t) || !gm_qisa_supported(isa)) return NULL;
#if defined(__x86_64__)
    if (isa == GM_QISA_AVX512) return gm_qtile_avx512(t);
    if (isa == GM_QISA_AVX2 && gm_qtile_avx2(t)) return gm_qtile_avx2(t);
    if (isa == GM_QISA_AVXVNNI && gm_qtile_avxvnni(t)) return gm_qtile_avxvnni(t);
#endif
    return gm_qtile_scalar(t);
}

bool gm_qisa_supported(gm_qisa isa)
{
    switch (isa) {
    case GM_QISA_SCALAR: return true;
    case GM_QISA_AVX2: return gm_cpu_has(GM_CPU_AVX2);
    case GM_QISA_AVXVNNI: return gm_cpu_has(GM_CPU_AVX2) && gm_cpu_has(GM_CPU_AVXVNNI);
    case GM_QISA_AVX512: return gm_cpu_has(GM_CPU_AVX2) && gm_cpu_has(GM_CPU_AVX512VNNI);
    default: return false;
    }
}

gm_qkern gm_qkern_get(gm_type t, gm_qisa isa)
{
    gm_qkern none = {NULL, NULL}, k = none;
    if (!gm_qisa_supported(isa)) return none;
    switch (isa) {
    case GM_QISA_SCALAR: return gm_qdot_scalar(t);
#if defined(__x86_64__)
    case GM_QISA_AVX2: k = gm_qdot_avx2(t); break;
    case GM_QISA_AVXVNNI: k = gm_qdot_avxvnni(t); break;
    case GM_QISA_AVX512: k = gm_qdot_avx512(t); break;
#endif
    default: return none;
    }
    /* a type a SIMD path has no kernel for still runs, on the portable one */
    return k.x1 ? k : gm_qdot_scalar(t);
}

gm_qdot_fn gm_qdot_get(gm_type t, gm_qisa isa) { return gm_qkern_get(t, isa).x1; }

gm_qisa gm_qisa_best(void)
{
    /* no wider than the float family (GEMMASH_ISA=avx2 rules out AVX-512,
     * scalar everything), so one variable forces all the matrix kernels */
    gm_isa f = gm_isa_default();
    int top = f == GM_ISA_SCALAR ? GM_QISA_SCALAR : f == GM_ISA_AVX2 ? GM_QISA_AVXVNNI : GM_QISA_AVX512;
    for (int i = top; i > 0; i--)
        if (gm_qisa_supported((gm_qisa)i)) return (gm_qisa)i;
    return GM_QISA_SCALAR;
}

const char *gm_qisa_name(gm_qisa isa)
{
    static const char *const names[GM_QISA_COUNT] = {"scalar", "avx2", "avxvnni", "avx512vnni"};
    return isa < GM_QISA_COUNT ? names[isa] : "unknown";
}
