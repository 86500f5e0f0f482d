/* quant_extra.c: the weight formats gemmash reads in place but never packs
 * (quant.h): Q4_1, Q2_K, Q3_K, IQ4_NL and IQ4_XS.  llama.cpp's Q2_K and
 * Q3_K mixes, the IQ4 files many publishers ship and old Q4_1 files use
 * them; refusing those would turn users away at the door.
 *
 * Here: the dequantizers (the formats' definitions, element by element),
 * quantizers of our own (valid blocks with a small error, for `convert` and
 * the tests), and the portable dot products every SIMD path is tested
 * against.  The 256-element types make one float update per super-block
 * with exact integer sums (gm_ksum, gm_k6sum), so every path gives the same
 * bits; Q4_1 and IQ4_NL accumulate per block like Q5_1 and Q4_0. */
#include <math.h>
#include <string.h>
#include "quant.h"

const int8_t gm_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static inline float h2f(uint16_t h) { return gm_f16_to_f32(h); }
static inline uint16_t f2h(float f) { return gm_f32_to_f16(f); }
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
/* Round to nearest, NaN and infinities to 0 (a quantizer's input may hold them). */
static inline int rnd(float v) { return isfinite(v) ? (int)lrintf(fmaxf(fminf(v, 1e6f), -1e6f)) : 0; }

/* ---- dequantize: the definitions ---------------------------------------------- */

static void dequantize_q4_1(const gm_block_q4_1 *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, y += GM_QK) {
        float d = h2f(x[b].d), m = h2f(x[b].m);
        for (int i = 0; i < GM_QK; i++) y[i] = d * (float)gm_nibble32(x[b].qs, i) + m;
    }
}

static void dequantize_iq4_nl(const gm_block_iq4_nl *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, y += GM_QK) {
        float d = h2f(x[b].d);
        for (int i = 0; i < GM_QK; i++) y[i] = d * (float)gm_iq4nl_values[gm_nibble32(x[b].qs, i)];
    }
}

static void dequantize_q2_K(const gm_block_q2_K *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, y += GM_QKK) {
        float d = h2f(x[b].d), dmin = h2f(x[b].dmin);
        for (int e = 0; e < GM_QKK; e++) {
            int sc = x[b].scales[e / 16];
            y[e] = d * (float)(sc & 0xF) * (float)gm_q2k_level(&x[b], e) - dmin * (float)(sc >> 4);
        }
    }
}

static void dequantize_q3_K(const gm_block_q3_K *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, y += GM_QKK) {
        float d = h2f(x[b].d);
        for (int e = 0; e < GM_QKK; e++)
            y[e] = d * (float)gm_q3k_scale(x[b].scales, e / 16) * (float)(gm_q3k_level(&x[b], e) - 4);
    }
}

static void dequantize_iq4_xs(const gm_block_iq4_xs *x, float *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, y += GM_QKK) {
        float d = h2f(x[b].d);
        for (int j = 0; j < 8; j++) {
            float dl = d * (float)gm_iq4xs_scale(&x[b], j);
            for (int i = 0; i < 32; i++) y[32 * j + i] = dl * (float)gm_iq4nl_values[gm_nibble32(x[b].qs + 16 * j, i)];
        }
    }
}

int gm_dequantize_extra(gm_type t, const void *src, float *y, int64_t n)
{
    switch (t) {
    case GM_TYPE_Q4_1: dequantize_q4_1(src, y, n); return 0;
    case GM_TYPE_IQ4_NL: dequantize_iq4_nl(src, y, n); return 0;
    case GM_TYPE_Q2_K: dequantize_q2_K(src, y, n); return 0;
    case GM_TYPE_Q3_K: dequantize_q3_K(src, y, n); return 0;
    case GM_TYPE_IQ4_XS: dequantize_iq4_xs(src, y, n); return 0;
    default: return -1;
    }
}

/* ---- quantize: ours ------------------------------------------------------------- */

/* Q4_1: m = the minimum, d = (max - min) / 15, q = (x - m) / d rounded. */
static void quantize_q4_1(const float *x, gm_block_q4_1 *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        float lo = x[0], hi = x[0];
        for (int i = 1; i < GM_QK; i++) { lo = fminf(lo, x[i]); hi = fmaxf(hi, x[i]); }
        y[b].d = f2h((hi - lo) / 15.0f);
        y[b].m = f2h(lo);
        float d = h2f(y[b].d), m = h2f(y[b].m), id = d != 0.0f ? 1.0f / d : 0.0f;
        memset(y[b].qs, 0, 16);
        for (int i = 0; i < GM_QK; i++) {
            int q = clampi(rnd((x[i] - m) * id), 0, 15);
            y[b].qs[i & 15] |= (uint8_t)(i < 16 ? q : q << 4);
        }
    }
}

/* Midpoints between neighbouring IQ4 levels: level i is nearest to v when
 * MID[i-1] < v <= MID[i]. */
static const float IQ4_MID[15] = {-115.5f, -93.5f, -74.0f, -57.0f, -42.0f, -28.5f, -16.0f, -4.5f,
                                  7.0f, 19.0f, 31.5f, 45.5f, 61.0f, 79.0f, 101.0f};

/* The IQ4 level nearest v: a branch-free binary search over the midpoints
 * (the branchy one made quantizing a model to IQ4 take a minute). */
static inline int iq4_nearest(float v)
{
    int i = (v > IQ4_MID[7]) << 3;
    i += (v > IQ4_MID[i + 3]) << 2;
    i += (v > IQ4_MID[i + 1]) << 1;
    return i + (v > IQ4_MID[i]);
}

/* The best scale for n values on the IQ4 levels: for each candidate (the
 * one mapping the largest magnitude to -127, and nearby ones) the levels
 * nearest x / d and their least-squares scale sum(x*l) / sum(l*l), whose
 * error is sum(x^2) - sum(x*l)^2 / sum(l*l): the candidate maximizing
 * sum(x*l)^2 / sum(l*l) wins.  Callers take the levels against the scale
 * as they store it. */
static float iq4_fit(const float *x, int n)
{
    float amax = 0.0f, mx = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) { amax = fabsf(x[i]); mx = x[i]; }
    if (!(amax > 0.0f) || !isfinite(amax)) return 0.0f;   /* levels then 8 (+1), times 0 */
    float best = -1.0f, best_d = 0.0f;
    for (int k = -4; k <= 4; k++) {
        float id = (-127.0f + 6.0f * (float)k) / mx, sxl = 0.0f, sll = 0.0f;
        for (int i = 0; i < n; i++) {
            float l = (float)gm_iq4nl_values[iq4_nearest(x[i] * id)];
            sxl += x[i] * l; sll += l * l;
        }
        if (sll > 0.0f && sxl * sxl / sll > best) { best = sxl * sxl / sll; best_d = sxl / sll; }
    }
    return best_d;
}

/* Levels (0..15) of 32 elements as nibbles in Q4_0's order. */
static void put_nibbles32(const uint8_t *L, uint8_t qs[16])
{
    for (int i = 0; i < 16; i++) qs[i] = (uint8_t)(L[i] | L[i + 16] << 4);
}

static void quantize_iq4_nl(const float *x, gm_block_iq4_nl *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QK; b++, x += GM_QK) {
        uint8_t L[32];
        y[b].d = f2h(iq4_fit(x, 32));
        float d = h2f(y[b].d), id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int i = 0; i < 32; i++) L[i] = (uint8_t)iq4_nearest(x[i] * id);   /* against the stored scale */
        put_nibbles32(L, y[b].qs);
    }
}

/* IQ4_XS: each sub-block's own fit, then d = the largest |scale| / 32 and
 * the six-bit ls = round(scale / d) + 32; levels against d * (ls - 32). */
static void quantize_iq4_xs(const float *x, gm_block_iq4_xs *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        uint8_t L[32];
        float s[8], smax = 0.0f, sabs = 0.0f;
        for (int j = 0; j < 8; j++) {
            s[j] = iq4_fit(x + 32 * j, 32);
            if (fabsf(s[j]) > sabs) { sabs = fabsf(s[j]); smax = s[j]; }
        }
        y[b].d = f2h(smax / -32.0f);
        float d = h2f(y[b].d);
        y[b].scales_h = 0;
        memset(y[b].scales_l, 0, 4);
        for (int j = 0; j < 8; j++) {
            int ls = d != 0.0f ? clampi(rnd(s[j] / d), -32, 31) + 32 : 32;
            y[b].scales_l[j >> 1] |= (uint8_t)((ls & 0xF) << (4 * (j & 1)));
            y[b].scales_h |= (uint16_t)((ls >> 4) << (2 * j));
            float dl = d * (float)(ls - 32), id = dl != 0.0f ? 1.0f / dl : 0.0f;
            for (int i = 0; i < 32; i++) L[i] = (uint8_t)iq4_nearest(x[32 * j + i] * id);
            put_nibbles32(L, y[b].qs + 16 * j);
        }
    }
}

/* Q2_K: per sub-block of 16 the type-1 fit with levels 0..3, then four-bit
 * scales and mins against d = max scale / 15, dmin = max min / 15. */
static void quantize_q2_K(const float *x, gm_block_q2_K *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        float s[16], m[16], smax = 0.0f, mmax = 0.0f;
        for (int j = 0; j < 16; j++) {
            s[j] = gm_fit_scale_min(x + 16 * j, 16, 3, &m[j]);
            smax = fmaxf(smax, s[j]);
            mmax = fmaxf(mmax, m[j]);
        }
        y[b].d = f2h(smax / 15.0f);
        y[b].dmin = f2h(mmax / 15.0f);
        float d = h2f(y[b].d), dmin = h2f(y[b].dmin);
        memset(y[b].qs, 0, 64);
        for (int j = 0; j < 16; j++) {
            int sc = d > 0.0f ? clampi(rnd(s[j] / d), 0, 15) : 0, mi = dmin > 0.0f ? clampi(rnd(m[j] / dmin), 0, 15) : 0;
            y[b].scales[j] = (uint8_t)(sc | mi << 4);
            float ds = d * (float)sc, dm = dmin * (float)mi;
            for (int i = 0; i < 16; i++) {
                int e = 16 * j + i, q = ds > 0.0f ? clampi(rnd((x[e] + dm) / ds), 0, 3) : 0;
                y[b].qs[32 * (e >> 7) + (e & 31)] |= (uint8_t)(q << (2 * ((e >> 5) & 3)));
            }
        }
    }
}

/* Q3_K: per sub-block of 16 the symmetric scale that maps the largest
 * magnitude to -4, then six-bit signed scales against d = the largest / -32. */
static void quantize_q3_K(const float *x, gm_block_q3_K *y, int64_t n)
{
    for (int64_t b = 0; b < n / GM_QKK; b++, x += GM_QKK) {
        float s[16], smax = 0.0f, sabs = 0.0f;
        for (int j = 0; j < 16; j++) {
            float amax = 0.0f, mx = 0.0f;
            for (int i = 0; i < 16; i++)
                if (fabsf(x[16 * j + i]) > amax) { amax = fabsf(x[16 * j + i]); mx = x[16 * j + i]; }
            s[j] = isfinite(mx) ? mx / -4.0f : 0.0f;
            if (fabsf(s[j]) > sabs) { sabs = fabsf(s[j]); smax = s[j]; }
        }
        y[b].d = f2h(smax / -32.0f);
        float d = h2f(y[b].d);
        memset(y[b].scales, 0, 12);
        memset(y[b].qs, 0, 64);
        memset(y[b].hmask, 0, 32);
        for (int j = 0; j < 16; j++) {
            int sc = d != 0.0f ? clampi(rnd(s[j] / d), -32, 31) : 0, u = sc + 32;
            y[b].scales[j & 7] |= (uint8_t)((u & 0xF) << (j < 8 ? 0 : 4));
            y[b].scales[8 + (j & 3)] |= (uint8_t)((u >> 4) << (2 * (j >> 2)));
            float ds = d * (float)sc;
            for (int i = 0; i < 16; i++) {
                int e = 16 * j + i, lv = ds != 0.0f ? clampi(rnd(x[e] / ds), -4, 3) + 4 : 4;
                int nn = e >> 7, jj = (e >> 5) & 3, l = e & 31;
                y[b].qs[32 * nn + l] |= (uint8_t)((lv & 3) << (2 * jj));
                y[b].hmask[l] |= (uint8_t)((lv >> 2) << (4 * nn + jj));
            }
        }
    }
}

int gm_quantize_extra(gm_type t, const float *x, void *dst, int64_t n)
{
    switch (t) {
    case GM_TYPE_Q4_1: quantize_q4_1(x, dst, n); return 0;
    case GM_TYPE_IQ4_NL: quantize_iq4_nl(x, dst, n); return 0;
    case GM_TYPE_Q2_K: quantize_q2_K(x, dst, n); return 0;
    case GM_TYPE_Q3_K: quantize_q3_K(x, dst, n); return 0;
    case GM_TYPE_IQ4_XS: quantize_iq4_xs(x, dst, n); return 0;
    default: return -1;
    }
}

/* ---- portable dot products -------------------------------------------------------- */


/* Q4_1: d*dx * sum q*x + m*dx * sum x per block (Q5_1's expression). */
static float dot_q4_1(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q4_1 *w = wv;
    const gm_bq8 *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int i = 0; i < 16; i++) isum += (w[b].qs[i] & 0xF) * x[b].qs[i] + (w[b].qs[i] >> 4) * x[b].qs[i + 16];
        sum += h2f(w[b].d) * x[b].d * (float)isum + h2f(w[b].m) * x[b].d * (float)x[b].sum;
    }
    return sum;
}

/* IQ4_NL: d*dx * sum value*x per block. */
static float dot_iq4_nl(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_iq4_nl *w = wv;
    const gm_bq8 *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int i = 0; i < 32; i++) isum += gm_iq4nl_values[gm_nibble32(w[b].qs, i)] * x[b].qs[i];
        sum += h2f(w[b].d) * x[b].d * (float)isum;
    }
    return sum;
}

/* Q2_K: isum = sum_j sc_j * (sum q*x over sub-block j), msum = sum_j m_j * bsum_j. */
static float dot_q2_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q2_K *w = wv;
    const gm_bq8k *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0, msum = 0;
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int e = 16 * j; e < 16 * j + 16; e++) s += gm_q2k_level(&w[b], e) * x[b].qs[e];
            isum += (w[b].scales[j] & 0xF) * s;
            msum += (w[b].scales[j] >> 4) * x[b].bsums[j];
        }
        sum += gm_ksum(x[b].d, h2f(w[b].d), h2f(w[b].dmin), isum, msum);
    }
    return sum;
}

/* Q3_K: isum = sum_j sc_j * (sum level*x - 4 * bsum_j), levels 0..7. */
static float dot_q3_K(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_q3_K *w = wv;
    const gm_bq8k *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int s = 0;
            for (int e = 16 * j; e < 16 * j + 16; e++) s += gm_q3k_level(&w[b], e) * x[b].qs[e];
            isum += gm_q3k_scale(w[b].scales, j) * (s - 4 * x[b].bsums[j]);
        }
        sum += gm_k6sum(x[b].d, h2f(w[b].d), isum);
    }
    return sum;
}

/* IQ4_XS: isum = sum_j (ls_j - 32) * (sum value*x over sub-block j of 32),
 * updated as gm_iq4xs_sum (the form its prefill tile computes). */
static float dot_iq4_xs(int64_t nb, const void *wv, const void *xv)
{
    const gm_block_iq4_xs *w = wv;
    const gm_bq8k *x = xv;
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        int isum = 0;
        for (int j = 0; j < 8; j++) {
            int s = 0;
            for (int i = 0; i < 32; i++) s += gm_iq4nl_values[gm_nibble32(w[b].qs + 16 * j, i)] * x[b].qs[32 * j + i];
            isum += gm_iq4xs_scale(&w[b], j) * s;
        }
        sum += gm_iq4xs_sum(x[b].d, h2f(w[b].d), isum, gm_iq4xs_msum(&w[b], &x[b]));
    }
    return sum;
}

gm_qkern gm_qdot_extra_scalar(gm_type t)
{
    gm_qkern k = {NULL, NULL};
    switch (t) {
    case GM_TYPE_Q4_1: k.x1 = dot_q4_1; break;
    case GM_TYPE_IQ4_NL: k.x1 = dot_iq4_nl; break;
    case GM_TYPE_Q2_K: k.x1 = dot_q2_K; break;
    case GM_TYPE_Q3_K: k.x1 = dot_q3_K; break;
    case GM_TYPE_IQ4_XS: k.x1 = dot_iq4_xs; break;
    default: break;
    }
    return k;
}

/* ---- Q3_K prefill: rows rewritten as a Q6_K run ------------------------------------ */

/* Sixteen Q3_K rows (row layout, row_bytes apart) over nb super-blocks as a
 * rewritten Q6_K run (quant.h: GM_Q6KR_BYTES per super-block): level + 28
 * as the byte (so the Q6_K tile's level - 32 is Q3_K's level - 4), the
 * signed sub-block scales as int16 pairs, d as float.  The tile then sums
 * exactly the integers the Q3_K row kernels sum and makes the same
 * gm_k6sum update: a prefill through it gives decode's bits.  Prefill reads
 * each run once per 8 tokens instead of decoding each weight per 4. */
void gm_qrowprep_q3_K(int64_t nb, const void *rows, size_t row_bytes, void *dst)
{
    /* each row's 256 levels in element order first (loops over 32
     * contiguous bytes, which the compiler vectorizes), then the 4-byte
     * interleave: a byte-by-byte scatter was slower than the tile it feeds */
    unsigned char lv[GM_QP_ROWS][GM_QKK];
    for (int64_t b = 0; b < nb; b++) {
        unsigned char *o = (unsigned char *)dst + (size_t)b * GM_Q6KR_BYTES;
        for (int r = 0; r < GM_QP_ROWS; r++) {
            const gm_block_q3_K *w = (const gm_block_q3_K *)(const void *)((const char *)rows + (size_t)r * row_bytes) + b;
            for (int n = 0; n < 2; n++)
                for (int j = 0; j < 4; j++) {
                    unsigned char *v = lv[r] + 128 * n + 32 * j;
                    const uint8_t *q = w->qs + 32 * n;
                    for (int l = 0; l < 32; l++)
                        v[l] = (unsigned char)(28 + (((q[l] >> (2 * j)) & 3) | ((w->hmask[l] >> (4 * n + j)) & 1) << 2));
                }
            for (int sb = 0; sb < 16; sb++) {
                int16_t v = (int16_t)gm_q3k_scale(w->scales, sb);
                memcpy(o + 4096 + 64 * (sb / 2) + 4 * r + 2 * (sb & 1), &v, 2);
            }
            float d = h2f(w->d);
            memcpy(o + 4608 + 4 * r, &d, 4);
        }
        for (int i = 0; i < 64; i++)            /* 64-byte row i: elements 4i..4i+3 of the 16 rows */
            for (int r = 0; r < GM_QP_ROWS; r++) memcpy(o + 64 * i + 4 * r, lv[r] + 4 * i, 4);
    }
}

/* ---- IQ4_XS prefill: rows rewritten as a Q5_K run -------------------------------- */

/* Sixteen IQ4_XS rows over nb super-blocks as a rewritten Q4_K/Q5_K run
 * (quant.h: GM_Q4KR_BYTES per super-block): each value + 128 as the level
 * byte (1..241), the signed scales as int32, mins 128 * scale as int16
 * pairs, d as both d and dmin.  The exact-integer Q5_K run tile then sums
 * isum + msum and msum of gm_iq4xs_sum: the IQ4_XS row kernels' bits.
 * Only AVX-512 reads it (vpdpbusd takes levels up to 255; the 256-bit
 * paths' vpmaddubsw would saturate). */
void gm_qrowprep_iq4_xs(int64_t nb, const void *rows, size_t row_bytes, void *dst)
{
    unsigned char lut[16], lv[GM_QP_ROWS][GM_QKK];
    for (int i = 0; i < 16; i++) lut[i] = (unsigned char)(gm_iq4nl_values[i] + 128);
    for (int64_t b = 0; b < nb; b++) {
        unsigned char *o = (unsigned char *)dst + (size_t)b * GM_Q4KR_BYTES;
        for (int r = 0; r < GM_QP_ROWS; r++) {
            const gm_block_iq4_xs *w = (const gm_block_iq4_xs *)(const void *)((const char *)rows + (size_t)r * row_bytes) + b;
            for (int j = 0; j < 8; j++) {
                const uint8_t *q = w->qs + 16 * j;
                for (int i = 0; i < 16; i++) {
                    lv[r][32 * j + i] = lut[q[i] & 0xF];
                    lv[r][32 * j + 16 + i] = lut[q[i] >> 4];
                }
                int32_t sc = gm_iq4xs_scale(w, j);
                memcpy(o + 4096 + 64 * j + 4 * r, &sc, 4);
            }
            for (int p = 0; p < 4; p++) {
                uint32_t m = (uint16_t)(int16_t)(128 * gm_iq4xs_scale(w, 2 * p)) |
                             (uint32_t)(uint16_t)(int16_t)(128 * gm_iq4xs_scale(w, 2 * p + 1)) << 16;
                memcpy(o + GM_Q4KR_MINS + 64 * p + 4 * r, &m, 4);
            }
            float d = h2f(w->d);
            memcpy(o + GM_Q4KR_D + 4 * r, &d, 4);
            memcpy(o + GM_Q4KR_DMIN + 4 * r, &d, 4);
        }
        for (int i = 0; i < 64; i++)
            for (int r = 0; r < GM_QP_ROWS; r++) memcpy(o + 64 * i + 4 * r, lv[r] + 4 * i, 4);
    }
}

gm_qrowprep gm_qrowprep_get(gm_type t, gm_qisa isa)
{
    gm_qrowprep none = {NULL, NULL, 0};
    /* Q3_K through the Q6_K run tile of any path that has one; IQ4_XS
     * through the Q5_K run tile of AVX-512 only (its levels reach 241) */
    bool q3 = t == GM_TYPE_Q3_K;
    if (!q3 && !(t == GM_TYPE_IQ4_XS && isa == GM_QISA_AVX512)) return none;
    gm_qprep k = gm_qprep_get(q3 ? GM_TYPE_Q6_K : GM_TYPE_Q5_K, isa);
    size_t per = q3 ? GM_Q6KR_BYTES : GM_Q4KR_BYTES;
    if (!k.prep || !k.tile || k.bytes_per_block != per) return none;
    return (gm_qrowprep){ q3 ? gm_qrowprep_q3_K : gm_qrowprep_iq4_xs, k.tile, per };
}
