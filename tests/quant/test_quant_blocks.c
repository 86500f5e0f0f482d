/* Block formats: blocks built by hand from the format definitions (scale
 * bytes, nibbles, high bits) must dequantize to exactly the expected values;
 * quantize/dequantize round trips stay within each format's error bound. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "quant.h"

/* Fill sc/m (six bits each) into 12 bytes, as the K-quant format defines:
 * sub-blocks 0..3 in the low six bits of bytes 0..3 (scale) and 4..7 (min);
 * sub-blocks 4..7 split: low four bits in bytes 8..11, high two bits in the
 * top bits of bytes 0..3 (scale) and 4..7 (min). */
static void pack_scales(uint8_t s[12], const int sc[8], const int m[8])
{
    memset(s, 0, 12);
    for (int j = 0; j < 4; j++) { s[j] = (uint8_t)sc[j]; s[j + 4] = (uint8_t)m[j]; }
    for (int j = 4; j < 8; j++) {
        s[j + 4] = (uint8_t)((sc[j] & 15) | (m[j] & 15) << 4);
        s[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
        s[j] |= (uint8_t)((m[j] >> 4) << 6);
    }
}

static uint32_t rng = 12345;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)(rng >> 8) / 16777216.0f * 2.0f - 1.0f; }

static void test_q8_0(void)
{
    gm_block_q8_0 b[2];
    b[0].d = 0x3800;   /* 0.5 */
    b[1].d = 0xC000;   /* -2.0 */
    for (int i = 0; i < 32; i++) { b[0].qs[i] = (int8_t)(i * 8 - 127 + (i == 31 ? 6 : 0)); b[1].qs[i] = (int8_t)(i - 16); }
    float y[64];
    gm_dequantize_row(GM_TYPE_Q8_0, b, y, 64);
    int bad = 0;
    for (int i = 0; i < 32; i++) {
        bad += y[i] != 0.5f * (float)b[0].qs[i];
        bad += y[32 + i] != -2.0f * (float)(i - 16);
    }
    CHECK(bad == 0, "Q8_0 hand-built block dequantizes to d*q exactly (%d wrong)", bad);
    gm_block_q8_0 back[2];
    gm_quantize_row(GM_TYPE_Q8_0, y, back, 64);
    CHECK(back[0].d == b[0].d && !memcmp(back[0].qs, b[0].qs, 32),
          "Q8_0 re-quantizing exactly representable values (|q| max 127) gives the same block");

    /* levels are roundf(x / d) (halves away from zero, as llama.cpp's
     * reference), clamped to +-127: ties at +-k.5, near-ties, random
     * values; and blocks holding NaN or an infinity take the same rule */
    enum { NB = 40 };
    float x[NB * 32];
    for (int i = 0; i < NB * 32; i++) x[i] = frand() * (float)(1 + i % 7);
    for (int i = 0; i < 32; i++) {
        x[i] = (float)(i - 16) + 0.5f;                       /* amax 15.5: id = 127/15.5 */
        x[32 + i] = i == 0 ? 127.0f : (float)(i - 16) + 0.5f;   /* id = 1: the halves themselves */
        x[64 + i] = i == 0 ? -127.0f : nextafterf((float)(i - 16) + 0.5f, i % 2 ? 100.0f : -100.0f);
    }
    x[96 + 3] = NAN;
    x[128 + 5] = INFINITY;
    x[160 + 7] = -INFINITY;
    gm_block_q8_0 q[NB];
    gm_quantize_row(GM_TYPE_Q8_0, x, q, NB * 32);
    int wrong = 0;
    for (int b = 0; b < NB; b++) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[32 * b + i]));
        float d = amax / 127.0f, id = d > 0.0f ? 1.0f / d : 0.0f;
        for (int i = 0; i < 32; i++) {
            float v = x[32 * b + i] * id;
            int want = isnan(v) ? q[b].qs[i] : v >= 127.0f ? 127 : v <= -127.0f ? -127 : (int)roundf(v);
            wrong += q[b].qs[i] != want;
        }
    }
    CHECK(wrong == 0, "Q8_0 levels are roundf(x/d) clamped to +-127, ties away from zero, NaN/inf blocks too (%d wrong)",
          wrong);
    CHECK(q[1].qs[0] == 127 && q[1].qs[16] == 1 && q[1].qs[15] == -1 && q[1].qs[17] == 2 && q[1].qs[14] == -2,
          "Q8_0 ties: 0.5 -> 1, -0.5 -> -1, 1.5 -> 2, -1.5 -> -2");
}

static void test_q4_0(void)
{
    gm_block_q4_0 b;
    b.d = 0x4000;   /* 2.0 */
    for (int i = 0; i < 16; i++) b.qs[i] = (uint8_t)((i & 15) | ((15 - i) & 15) << 4);
    float y[32];
    gm_dequantize_row(GM_TYPE_Q4_0, &b, y, 32);
    int bad = 0;
    for (int i = 0; i < 16; i++) {
        bad += y[i] != 2.0f * (float)(i - 8);          /* low nibble = element i */
        bad += y[16 + i] != 2.0f * (float)(7 - i);      /* high nibble = element 16+i */
    }
    CHECK(bad == 0, "Q4_0 low nibbles are elements 0..15, high nibbles 16..31, value d*(q-8) (%d wrong)", bad);
    /* -16 is the largest magnitude, so d = -16/-8 = 2 and every value is exact */
    gm_block_q4_0 back;
    gm_quantize_row(GM_TYPE_Q4_0, y, &back, 32);
    CHECK(back.d == b.d && memcmp(back.qs, b.qs, 16) == 0, "Q4_0 re-quantizing an exact block gives it back");
}

/* Q5_0 / Q5_1 levels q[] into a block's nibbles and fifth bits, written from
 * the format: element i < 16 is the low nibble of qs[i], element 16 + i the
 * high one; its fifth bit is bit i of the little-endian 32-bit qh. */
static void q5_fill(const int q[32], uint8_t qs[16], uint8_t qh[4])
{
    memset(qh, 0, 4);
    for (int i = 0; i < 16; i++) qs[i] = (uint8_t)((q[i] & 15) | (q[i + 16] & 15) << 4);
    for (int i = 0; i < 32; i++)
        if (q[i] & 16) qh[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void test_q5_0(void)
{
    int q[32];
    for (int i = 0; i < 32; i++) q[i] = (i * 7 + 3) % 32;   /* every level once, 0 included */
    gm_block_q5_0 b;
    b.d = 0x3800;   /* 0.5 */
    q5_fill(q, b.qs, b.qh);
    float y[32];
    gm_dequantize_row(GM_TYPE_Q5_0, &b, y, 32);
    int bad = 0;
    for (int i = 0; i < 32; i++) bad += y[i] != 0.5f * (float)(q[i] - 16);
    CHECK(bad == 0, "Q5_0 hand-built block: nibbles plus bit i of qh, value d*(q-16) (%d wrong)", bad);
    /* -8 (q = 0) is the largest magnitude, so d = -8/-16 = 0.5 and every value is exact */
    gm_block_q5_0 back;
    gm_quantize_row(GM_TYPE_Q5_0, y, &back, 32);
    CHECK(back.d == b.d && !memcmp(back.qs, b.qs, 16) && !memcmp(back.qh, b.qh, 4),
          "Q5_0 re-quantizing an exact block gives it back");
    float x[64];
    for (int i = 0; i < 64; i++) x[i] = i < 32 ? NAN : (float)(i - 40);
    gm_block_q5_0 nb[2];
    CHECK(gm_quantize_row(GM_TYPE_Q5_0, x, nb, 64) == 0 && gm_f16_to_f32(nb[1].d) == 23.0f / -16.0f,
          "Q5_0 quantizes a block of NaN without harm to the next one");
}

static void test_q5_1(void)
{
    int q[32];
    for (int i = 0; i < 32; i++) q[i] = (i * 11 + 5) % 32;
    gm_block_q5_1 b;
    b.d = 0x3400;   /* 0.25 */
    b.m = 0xBE00;   /* -1.5 */
    q5_fill(q, b.qs, b.qh);
    float y[32];
    gm_dequantize_row(GM_TYPE_Q5_1, &b, y, 32);
    int bad = 0;
    for (int i = 0; i < 32; i++) bad += y[i] != 0.25f * (float)q[i] - 1.5f;
    CHECK(bad == 0, "Q5_1 hand-built block: value d*q + m (%d wrong)", bad);
    /* min -1.5 (q = 0) and max 6.25 (q = 31) give back d = 7.75/31 = 0.25 and m */
    gm_block_q5_1 back;
    gm_quantize_row(GM_TYPE_Q5_1, y, &back, 32);
    CHECK(back.d == b.d && back.m == b.m && !memcmp(back.qs, b.qs, 16) && !memcmp(back.qh, b.qh, 4),
          "Q5_1 re-quantizing an exact block gives it back");
}

static void test_q4_K(void)
{
    gm_block_q4_K b;
    int sc[8], m[8];
    for (int j = 0; j < 8; j++) { sc[j] = 10 + 7 * j; m[j] = 63 - 5 * j; }
    pack_scales(b.scales, sc, m);
    b.d = 0x3C00;     /* 1.0 */
    b.dmin = 0x3800;  /* 0.5 */
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) b.qs[32 * c + l] = (uint8_t)((l % 16) | (15 - l % 16) << 4);
    float y[256];
    gm_dequantize_row(GM_TYPE_Q4_K, &b, y, 256);
    int bad = 0;
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            bad += y[64 * c + l] != (float)(sc[2 * c] * (l % 16)) - 0.5f * (float)m[2 * c];
            bad += y[64 * c + 32 + l] != (float)(sc[2 * c + 1] * (15 - l % 16)) - 0.5f * (float)m[2 * c + 1];
        }
    CHECK(bad == 0, "Q4_K hand-built block (6-bit scales/mins incl. high bits) dequantizes exactly (%d wrong)", bad);
    int s2, m2, ok = 1;
    for (int j = 0; j < 8; j++) { gm_k_scale_min(j, b.scales, &s2, &m2); ok &= s2 == sc[j] && m2 == m[j]; }
    CHECK(ok, "Q4_K scale/min unpacking returns the packed values for all 8 sub-blocks");
}

static void test_q5_K(void)
{
    gm_block_q5_K b;
    int sc[8], m[8];
    for (int j = 0; j < 8; j++) { sc[j] = 63 - 6 * j; m[j] = 3 + 8 * j; }
    pack_scales(b.scales, sc, m);
    b.d = 0x3400;     /* 0.25 */
    b.dmin = 0x3C00;  /* 1.0 */
    int L[256];
    for (int e = 0; e < 256; e++) L[e] = (e * 11 + 3) % 32;
    memset(b.qh, 0, 32);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            int a = L[64 * c + l], h = L[64 * c + 32 + l];
            b.qs[32 * c + l] = (uint8_t)((a & 15) | (h & 15) << 4);
            if (a & 16) b.qh[l] |= (uint8_t)(1 << (2 * c));
            if (h & 16) b.qh[l] |= (uint8_t)(1 << (2 * c + 1));
        }
    float y[256];
    gm_dequantize_row(GM_TYPE_Q5_K, &b, y, 256);
    int bad = 0;
    for (int e = 0; e < 256; e++) {
        int j = e / 32;
        bad += y[e] != 0.25f * (float)(sc[j] * L[e]) - (float)m[j];
    }
    CHECK(bad == 0, "Q5_K hand-built block (fifth bit in qh bit 2c / 2c+1) dequantizes exactly (%d wrong)", bad);
}

static void test_q6_K(void)
{
    gm_block_q6_K b;
    int L[256];
    for (int e = 0; e < 256; e++) L[e] = (e * 7 + 5) % 64;
    for (int j = 0; j < 16; j++) b.scales[j] = (int8_t)((j - 8) * 15);
    b.d = 0x3400;   /* 0.25 */
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const int *q = L + 128 * h;
            b.ql[64 * h + l] = (uint8_t)((q[l] & 15) | (q[l + 64] & 15) << 4);
            b.ql[64 * h + 32 + l] = (uint8_t)((q[l + 32] & 15) | (q[l + 96] & 15) << 4);
            b.qh[32 * h + l] = (uint8_t)((q[l] >> 4) | (q[l + 32] >> 4) << 2 | (q[l + 64] >> 4) << 4 | (q[l + 96] >> 4) << 6);
        }
    float y[256];
    gm_dequantize_row(GM_TYPE_Q6_K, &b, y, 256);
    int bad = 0;
    for (int e = 0; e < 256; e++) bad += y[e] != 0.25f * (float)b.scales[e / 16] * (float)(L[e] - 32);
    CHECK(bad == 0, "Q6_K hand-built block (ql nibbles, qh 2-bit pairs, int8 scales) dequantizes exactly (%d wrong)", bad);
}

/* Q4_1: d * nibble + m, low nibbles elements 0..15, high ones 16..31. */
static void test_q4_1(void)
{
    gm_block_q4_1 b;
    b.d = 0x3800;      /* 0.5 */
    b.m = 0xBD00;      /* -1.25 */
    for (int i = 0; i < 16; i++) b.qs[i] = (uint8_t)(i | (15 - i) << 4);
    float y[32];
    gm_dequantize_row(GM_TYPE_Q4_1, &b, y, 32);
    int bad = 0;
    for (int i = 0; i < 16; i++) {
        bad += y[i] != 0.5f * (float)i - 1.25f;
        bad += y[16 + i] != 0.5f * (float)(15 - i) - 1.25f;
    }
    CHECK(bad == 0, "Q4_1 hand-built block (d, m, nibbles) dequantizes exactly (%d wrong)", bad);
}

/* The IQ4 levels as the format publishes them. */
static const int IQ4[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static void test_iq4_nl(void)
{
    gm_block_iq4_nl b;
    b.d = 0xB400;      /* -0.25 */
    for (int i = 0; i < 16; i++) b.qs[i] = (uint8_t)((i * 7) % 16 | (15 - i) << 4);
    float y[32];
    gm_dequantize_row(GM_TYPE_IQ4_NL, &b, y, 32);
    int bad = 0;
    for (int i = 0; i < 16; i++) {
        bad += y[i] != -0.25f * (float)IQ4[(i * 7) % 16];
        bad += y[16 + i] != -0.25f * (float)IQ4[15 - i];
    }
    CHECK(bad == 0, "IQ4_NL hand-built block (the 16 published levels) dequantizes exactly (%d wrong)", bad);
}

/* Q2_K: per 128 elements, 32 bytes of qs hold four 2-bit planes (bits 0-1
 * the first 32 elements, 2-3 the next ...); scales byte j: low nibble the
 * scale, high the min, of elements 16j..16j+15. */
static void test_q2_K(void)
{
    gm_block_q2_K b;
    int L[256];
    memset(&b, 0, sizeof b);
    for (int e = 0; e < 256; e++) L[e] = (e * 5 + e / 64) % 4;
    for (int j = 0; j < 16; j++) b.scales[j] = (uint8_t)(j | (15 - j) << 4);
    for (int half = 0; half < 2; half++)
        for (int plane = 0; plane < 4; plane++)
            for (int l = 0; l < 32; l++) b.qs[32 * half + l] |= (uint8_t)(L[128 * half + 32 * plane + l] << (2 * plane));
    b.d = 0x3800;      /* 0.5 */
    b.dmin = 0x3400;   /* 0.25 */
    float y[256];
    gm_dequantize_row(GM_TYPE_Q2_K, &b, y, 256);
    int bad = 0;
    for (int e = 0; e < 256; e++) {
        int j = e / 16;
        bad += y[e] != 0.5f * (float)j * (float)L[e] - 0.25f * (float)(15 - j);
    }
    CHECK(bad == 0, "Q2_K hand-built block (2-bit planes, 4-bit scales and mins) dequantizes exactly (%d wrong)", bad);
}

/* Q3_K: the 2-bit planes of Q2_K plus a third bit per element in hmask
 * (bit 4 * half + plane of byte l), value level - 4; sixteen 6-bit scales
 * (minus 32): low nibbles in bytes 0..7 (scales 0..7 low, 8..15 high
 * nibble), the top two bits of scale k + 4i at bits 2i of byte 8 + k. */
static void test_q3_K(void)
{
    gm_block_q3_K b;
    int L[256], u[16];
    memset(&b, 0, sizeof b);
    for (int e = 0; e < 256; e++) L[e] = (e * 3 + e / 32) % 8;
    for (int j = 0; j < 16; j++) u[j] = (j * 13 + 7) % 64;         /* every high-bit pair occurs */
    for (int j = 0; j < 8; j++) b.scales[j] = (uint8_t)((u[j] & 15) | (u[j + 8] & 15) << 4);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 4; i++) b.scales[8 + k] |= (uint8_t)((u[k + 4 * i] >> 4) << (2 * i));
    for (int half = 0; half < 2; half++)
        for (int plane = 0; plane < 4; plane++)
            for (int l = 0; l < 32; l++) {
                int lv = L[128 * half + 32 * plane + l];
                b.qs[32 * half + l] |= (uint8_t)((lv & 3) << (2 * plane));
                b.hmask[l] |= (uint8_t)((lv >> 2) << (4 * half + plane));
            }
    b.d = 0x3400;      /* 0.25 */
    float y[256];
    gm_dequantize_row(GM_TYPE_Q3_K, &b, y, 256);
    int bad = 0;
    for (int e = 0; e < 256; e++) bad += y[e] != 0.25f * (float)(u[e / 16] - 32) * (float)(L[e] - 4);
    CHECK(bad == 0, "Q3_K hand-built block (2-bit planes, hmask bits, packed 6-bit scales) dequantizes exactly "
          "(%d wrong)", bad);
}

/* IQ4_XS: eight sub-blocks of 32 in IQ4_NL's nibble order, each scaled by
 * d * (ls - 32), ls's low four bits in scales_l (sub-block 2i low nibble,
 * 2i+1 high), its top two at bits 2j of scales_h. */
static void test_iq4_xs(void)
{
    gm_block_iq4_xs b;
    int ls[8], idx[256];
    memset(&b, 0, sizeof b);
    for (int j = 0; j < 8; j++) ls[j] = (j * 23 + 5) % 64;
    for (int j = 0; j < 8; j++) {
        b.scales_l[j / 2] |= (uint8_t)((ls[j] & 15) << (4 * (j % 2)));
        b.scales_h |= (uint16_t)((ls[j] >> 4) << (2 * j));
    }
    for (int e = 0; e < 256; e++) idx[e] = (e * 7 + e / 32) % 16;
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < 16; i++) b.qs[16 * j + i] = (uint8_t)(idx[32 * j + i] | idx[32 * j + 16 + i] << 4);
    b.d = 0x3800;      /* 0.5 */
    float y[256];
    gm_dequantize_row(GM_TYPE_IQ4_XS, &b, y, 256);
    int bad = 0;
    for (int e = 0; e < 256; e++) bad += y[e] != 0.5f * (float)(ls[e / 32] - 32) * (float)IQ4[idx[e]];
    CHECK(bad == 0, "IQ4_XS hand-built block (split 6-bit scales, IQ4 levels) dequantizes exactly (%d wrong)", bad);
}

/* Quantize random rows and bound the error by what each format can do. */
static void test_roundtrip(gm_type t, float rel_rms_max)
{
    enum { N = 4096 };
    static float x[N], y[N];
    static unsigned char buf[N * 2];
    for (int i = 0; i < N; i++) x[i] = frand() * (1.0f + 3.0f * (float)((i / 256) % 3));
    CHECK(gm_quantize_row(t, x, buf, N) == 0, "%s quantize accepts a row of %d", gm_type_name(t), N);
    gm_dequantize_row(t, buf, y, N);
    double e2 = 0, x2 = 0;
    for (int i = 0; i < N; i++) { e2 += (double)(y[i] - x[i]) * (y[i] - x[i]); x2 += (double)x[i] * x[i]; }
    double rel = sqrt(e2 / x2);
    CHECK(rel < rel_rms_max, "%s round trip relative RMS error %.5f < %.4f", gm_type_name(t), rel, rel_rms_max);
    if (gm_type_block(t) > 1)
        CHECK(gm_quantize_row(t, x, buf, 33) == -1, "%s quantize refuses a row that is not a whole number of blocks",
              gm_type_name(t));
}

int main(void)
{
    test_q8_0();
    test_q4_0();
    test_q5_0();
    test_q5_1();
    test_q4_K();
    test_q5_K();
    test_q6_K();
    test_q4_1();
    test_iq4_nl();
    test_q2_K();
    test_q3_K();
    test_iq4_xs();
    /* Bounds: uniform data, error ~ step/sqrt(12); Q8_0 step = amax/127,
     * Q4_0 step = amax/8 (sign asymmetric), Q5_0 amax/16, Q5_1
     * (max-min)/31, Q4_K (max-min)/15 refit,
     * Q5_K /31, Q6_K /32 with 8-bit scales. Values are ~1.5x the ideal. */
    test_roundtrip(GM_TYPE_Q8_0, 0.008);
    test_roundtrip(GM_TYPE_Q4_0, 0.12);
    test_roundtrip(GM_TYPE_Q5_0, 0.06);
    test_roundtrip(GM_TYPE_Q5_1, 0.05);
    test_roundtrip(GM_TYPE_Q4_K, 0.08);
    test_roundtrip(GM_TYPE_Q5_K, 0.04);
    test_roundtrip(GM_TYPE_Q6_K, 0.03);
    test_roundtrip(GM_TYPE_BF16, 0.004);
    /* the formats read in place: Q4_1 (max-min)/15; IQ4_NL and IQ4_XS 16
     * non-uniform levels (denser near zero); Q3_K 8 levels per 16 with
     * 6-bit scales; Q2_K 4 levels per 16 with 4-bit scales and mins */
    test_roundtrip(GM_TYPE_Q4_1, 0.10);
    test_roundtrip(GM_TYPE_IQ4_NL, 0.10);
    test_roundtrip(GM_TYPE_IQ4_XS, 0.10);
    test_roundtrip(GM_TYPE_Q3_K, 0.20);
    test_roundtrip(GM_TYPE_Q2_K, 0.33);
    CHECK(gm_type_from_name("Q4_K") == GM_TYPE_Q4_K && gm_type_from_name("q8_0") == GM_TYPE_Q8_0 &&
          gm_type_from_name("q5_0") == GM_TYPE_Q5_0 && gm_type_from_name("Q5_1") == GM_TYPE_Q5_1 &&
          gm_type_from_name("iq4_xs") == GM_TYPE_IQ4_XS && gm_type_from_name("Q3_K") == GM_TYPE_Q3_K &&
          gm_type_from_name("iq2_xs") == -1, "type names parse case-insensitively; unknown ones are refused");
    return check_exit();
}
