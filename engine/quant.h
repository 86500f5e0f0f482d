/* quant.h: block-quantized weight formats (internal to the engine).
 *
 * The byte layouts are exactly GGUF's (GGML type numbers in kernels.h), so a
 * tensor mmapped from a GGUF file is used in place.  Activations are
 * quantized once per row to an 8-bit block format of our own (gm_bq8 for
 * the 32-element types, gm_bq8k for the 256-element "K" types); the matrix
 * kernels then do integer dot products block by block.
 *
 * Every kernel path (portable C, AVX2, AVX-VNNI, AVX-512 VNNI) computes the
 * same integer sums per block.  On the row layout the SIMD paths agree with
 * each other bit for bit; the portable path agrees with them bit for bit on
 * the K types and to float rounding on Q8_0/Q4_0 (it accumulates blocks in
 * another order).  Matrices quantized at load on an AVX-512 VNNI CPU are
 * repacked 16 rows at a time (below); their tiles equal the portable tile
 * bit for bit, and for the K types the row kernels too.  Within one path a
 * (row, token) pair is always computed by the same operations, so a decode
 * step (n = 1) and a prefill (n > 1) give bit-identical results. */
#ifndef GEMMASH_QUANT_H
#define GEMMASH_QUANT_H

#include <stdint.h>
#include <stddef.h>
#include "kernels.h"

#define GM_QK 32        /* block of Q8_0 / Q4_0 */
#define GM_QKK 256      /* super-block of the K types */

/* ---- weight blocks (GGUF layout, packed, little-endian) ------------------ */

typedef struct { uint16_t d; int8_t qs[32]; } gm_block_q8_0;            /* 34 B */
typedef struct { uint16_t d; uint8_t qs[16]; } gm_block_q4_0;           /* 18 B: lo nibbles = 0..15, hi = 16..31 */
/* Q5_0 and Q5_1: Q4_0's nibbles plus a fifth bit per element (bit i of qh,
 * little-endian, for element i); Q5_0 is d * (q - 16), Q5_1 d * q + m.  In
 * files they hold the rows a K type cannot (width not a multiple of 256):
 * llama.cpp's Q4_K_M and Q5_K_M mixes fall back to them. */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } gm_block_q5_0;       /* 22 B */
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } gm_block_q5_1;    /* 24 B */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } gm_block_q4_K;     /* 144 B */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } gm_block_q5_K; /* 176 B */
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } gm_block_q6_K; /* 210 B */

_Static_assert(sizeof(gm_block_q8_0) == 34, "Q8_0 block must be 34 bytes");
_Static_assert(sizeof(gm_block_q4_0) == 18, "Q4_0 block must be 18 bytes");
_Static_assert(sizeof(gm_block_q5_0) == 22, "Q5_0 block must be 22 bytes");
_Static_assert(sizeof(gm_block_q5_1) == 24, "Q5_1 block must be 24 bytes");

/* Q5_0 and Q5_1 keep element i's fifth bit in bit i of a little-endian word. */
static inline uint32_t gm_q5_bits(const uint8_t qh[4])
{
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
}
/* Level i (0..31) of a Q5_0 / Q5_1 block. */
static inline int gm_q5_level(const uint8_t qs[16], uint32_t bits, int i)
{
    int nib = i < 16 ? qs[i] & 0xF : qs[i - 16] >> 4;
    return nib | (int)((bits >> i) & 1) << 4;
}
/* Exact sum over a block of its levels times a[0..31]. */
static inline int32_t gm_q5_isum(const uint8_t qs[16], const uint8_t qh[4], const int8_t *a)
{
    uint32_t bits = gm_q5_bits(qh);
    int32_t isum = 0;
    for (int i = 0; i < 32; i++) isum += gm_q5_level(qs, bits, i) * a[i];
    return isum;
}
/* Formats read from files (and written by convert) but never packed: the
 * row kernels read them in place.
 *   Q4_1: d * q + m, Q4_0's nibble order.
 *   Q2_K: 16 sub-blocks of 16, d * (sc & 15) * q - dmin * (sc >> 4), q 0..3.
 *   Q3_K: 16 sub-blocks of 16, d * (s - 32) * (q - 4), q 0..7 (two low bits
 *         in qs, the third in hmask), s six bits packed in 12 bytes.
 *   IQ4_NL: d * gm_iq4nl_values[nibble], Q4_0's nibble order.
 *   IQ4_XS: 8 sub-blocks of 32, d * (ls - 32) * gm_iq4nl_values[nibble],
 *         ls four bits in scales_l and two in scales_h.
 * In the 256-element types element e = 128n + 32j + l (n 0..1, j 0..3, l
 * 0..31) is bits 2j..2j+1 of qs[32n + l] (Q3_K's third bit: bit 4n + j of
 * hmask[l]) and belongs to sub-block e / 16. */
typedef struct { uint16_t d, m; uint8_t qs[16]; } gm_block_q4_1;                                   /* 20 B */
typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; } gm_block_q2_K;             /* 84 B */
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; } gm_block_q3_K; /* 110 B */
typedef struct { uint16_t d; uint8_t qs[16]; } gm_block_iq4_nl;                                    /* 18 B */
typedef struct { uint16_t d, scales_h; uint8_t scales_l[4]; uint8_t qs[128]; } gm_block_iq4_xs;    /* 136 B */
_Static_assert(sizeof(gm_block_q4_1) == 20, "Q4_1 block must be 20 bytes");
_Static_assert(sizeof(gm_block_q2_K) == 84, "Q2_K block must be 84 bytes");
_Static_assert(sizeof(gm_block_q3_K) == 110, "Q3_K block must be 110 bytes");
_Static_assert(sizeof(gm_block_iq4_nl) == 18, "IQ4_NL block must be 18 bytes");
_Static_assert(sizeof(gm_block_iq4_xs) == 136, "IQ4_XS block must be 136 bytes");

/* The 16 levels of IQ4_NL and IQ4_XS (a fixed table of the format). */
extern const int8_t gm_iq4nl_values[16];

/* Signed scale (s - 32) of sub-block j (0..15) of a Q3_K block: the low four
 * bits in byte j (j < 8) or the high nibble of byte j - 8, the top two in
 * byte 8 + j % 4 at bits 2 * (j / 4). */
static inline int gm_q3k_scale(const uint8_t s[12], int j)
{
    int lo = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
    int hi = (s[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
    return (lo | hi << 4) - 32;
}
/* Level 0..7 of element e of a Q3_K block (the value is level - 4). */
static inline int gm_q3k_level(const gm_block_q3_K *x, int e)
{
    int n = e >> 7, j = (e >> 5) & 3, l = e & 31;
    return ((x->qs[32 * n + l] >> (2 * j)) & 3) | ((x->hmask[l] >> (4 * n + j)) & 1) << 2;
}
/* Level 0..3 of element e of a Q2_K block. */
static inline int gm_q2k_level(const gm_block_q2_K *x, int e)
{
    return (x->qs[32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
}
/* Signed scale (ls - 32) of sub-block j (0..7) of an IQ4_XS block. */
static inline int gm_iq4xs_scale(const gm_block_iq4_xs *x, int j)
{
    return (((x->scales_l[j >> 1] >> (4 * (j & 1))) & 0xF) | ((x->scales_h >> (2 * j)) & 3) << 4) - 32;
}
/* Nibble i (0..31) of a 32-element block in Q4_0's order (i < 16 low). */
static inline int gm_nibble32(const uint8_t qs[16], int i) { return i < 16 ? qs[i] & 0xF : qs[i - 16] >> 4; }

/* quant_extra.c: the reference quantizers and dequantizers of the formats
 * above (n a whole number of blocks); -1 for any other type. */
int gm_quantize_extra(gm_type t, const float *x, void *dst, int64_t n);
int gm_dequantize_extra(gm_type t, const void *src, float *y, int64_t n);
/* Fit x ~= s*q - m over n values with q in 0..nmax (the K types' "type-1"
 * fit): returns s, stores m >= 0. */
float gm_fit_scale_min(const float *x, int n, int nmax, float *m_out);

_Static_assert(sizeof(gm_block_q4_K) == 144, "Q4_K block must be 144 bytes");
_Static_assert(sizeof(gm_block_q5_K) == 176, "Q5_K block must be 176 bytes");
_Static_assert(sizeof(gm_block_q6_K) == 210, "Q6_K block must be 210 bytes");

/* ---- activation blocks (ours; never stored in files) --------------------- */

typedef struct { float d; int32_t sum; int8_t qs[32]; } gm_bq8;              /* x ~= d*qs; sum = sum(qs) */

/* Whether the 32-element activation blocks (gm_bq8, gm_bq8c) for weight
 * type t take power-of-two scales (gm_act_scale): for Q4_0 and Q5_0, whose
 * prefill goes through the AVX-512 32-row tile, where the scale product is
 * then exact (dw * 2^e, formed by vscalefps off the ports vpdpbusd use,
 * instead of a vmulps per token and row register that took one slot in
 * nine from them: 10% more tile speed).  It costs an activation block at
 * most one bit against amax / 127: next to a 4- or 5-bit weight's own
 * error nothing (a model's relative RMS to F32 moves by 0.3%), but it
 * would double Q8_0's, so Q8_0 and the rest keep amax / 127. */
static inline bool gm_act_pow2(gm_type t) { return t == GM_TYPE_Q4_0 || t == GM_TYPE_Q5_0; }

/* The scale d of a 32-element activation block whose largest magnitude is
 * amax, and 1/d in *id (0 when d is 0 or not finite).  With pow2, the
 * smallest power of two with 127 d >= amax, at least 2^-126, so d and 1/d
 * are exact normal floats (a non-finite amax gives d = amax); else
 * amax / 127. */
static inline float gm_act_scale(bool pow2, float amax, float *id)
{
    if (!pow2 || !(amax <= 3.4028234663852886e38f)) {
        float d = amax / 127.0f;
        *id = d > 0.0f ? 127.0f / amax : 0.0f;
        return d;
    }
    /* amax = m 2^E with m in [1, 2): 127 2^(E-6) = 1.984375 2^E covers it
     * unless m's fraction exceeds 0.984375 (bits above 0x7E0000); from the
     * bits: frexpf and ldexpf per block cost a 512-token prefill over 10% */
    union { float f; uint32_t u; } a = { amax }, d, i;
    int e = (int)(a.u >> 23) - 127 - 6 + ((a.u & 0x7FFFFFu) > 0x7E0000u);
    if (e < -126) e = -126;
    d.u = (uint32_t)(e + 127) << 23;
    i.u = (uint32_t)(127 - e) << 23;
    *id = i.f;
    return d.f;
}
/* bsums: sums of 16 qs each; bsums32[j] = bsums[2j] + bsums[2j+1] (a Q4_K/Q5_K
 * sub-block's, so a pair of them meets a pair of mins in one vpdpwssd). */
typedef struct { float d; int16_t bsums[16]; int16_t bsums32[8]; int8_t qs[256]; } gm_bq8k;

/* Which activation format a weight type's kernels consume, and its size per
 * block of weights; 0 for types without an integer kernel. */
size_t gm_qact_block_bytes(gm_type t);

/* ---- reference quantize / dequantize (portable C) ------------------------ */

/* Quantize n floats (a multiple of the type's block) into dst; returns 0 or
 * -1 if the type is not quantizable.  F32/F16/BF16 are accepted too. */
int  gm_quantize_row(gm_type t, const float *x, void *dst, int64_t n);
/* Dequantize n elements of a row of type t into y.  Returns 0, -1 on an
 * unknown type. */
int  gm_dequantize_row(gm_type t, const void *src, float *y, int64_t n);

/* Activation quantizers: n floats -> n/32 gm_bq8 or n/256 gm_bq8k, on the
 * fastest path this CPU runs (every path writes the same bytes; the
 * portable ones define them). */
void gm_quantize_act_q8(gm_type t, const float *x, gm_bq8 *y, int64_t n);
void gm_quantize_act_q8k(const float *x, gm_bq8k *y, int64_t n);
void gm_quantize_act_q8_portable(gm_type t, const float *x, gm_bq8 *y, int64_t n);
void gm_quantize_act_q8k_portable(const float *x, gm_bq8k *y, int64_t n);
void gm_quantize_act_q8_avx512(gm_type t, const float *x, gm_bq8 *y, int64_t n);
void gm_quantize_act_q8k_avx512(const float *x, gm_bq8k *y, int64_t n);

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block. */
static inline void gm_k_scale_min(int j, const uint8_t *q, int *sc, int *m)
{
    if (j < 4) { *sc = q[j] & 63; *m = q[j + 4] & 63; }
    else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m  = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* The float update of one K-type super-block, written once so every kernel
 * path rounds it the same way (isum, msum: exact integer sums). */
static inline float gm_ksum(float xd, float wd, float wdmin, int isum, int msum)
{
    return xd * wd * (float)isum - xd * wdmin * (float)msum;
}
static inline float gm_k6sum(float xd, float wd, int isum) { return xd * wd * (float)isum; }
/* IQ4_XS's update, in the K-type-with-mins form gm_ksum so that prefill can
 * run it through the Q5_K run tile (levels stored as value + 128, mins
 * 128 * scale, dmin = d): isum is the exact sum of scale * value * x,
 * msum = 128 * sum_j scale_j * bsums32[j] (gm_iq4xs_msum). */
static inline int gm_iq4xs_msum(const gm_block_iq4_xs *w, const gm_bq8k *x)
{
    int m = 0;
    for (int j = 0; j < 8; j++) m += gm_iq4xs_scale(w, j) * x->bsums32[j];
    return 128 * m;
}
static inline float gm_iq4xs_sum(float xd, float wd, int isum, int msum)
{
    return gm_ksum(xd, wd, wd, isum + msum, msum);
}

/* ---- dot-product kernels --------------------------------------------------- */

/* Dot of one weight row (nb blocks of the weight type) with one quantized
 * activation row (the matching activation format). */
typedef float (*gm_qdot_fn)(int64_t nb, const void *w, const void *x);
/* The same for four activation rows xs bytes apart (out[0..3]); each result
 * is bit-identical to the one-row kernel's on that row. */
typedef void (*gm_qdot4_fn)(int64_t nb, const void *w, const void *x, size_t xs, float *out);
typedef struct { gm_qdot_fn x1; gm_qdot4_fn x4; } gm_qkern;

typedef enum { GM_QISA_SCALAR = 0, GM_QISA_AVX2, GM_QISA_AVXVNNI, GM_QISA_AVX512, GM_QISA_COUNT } gm_qisa;

/* CPU + OS support for a kernel family (cpufeat.c).  AVX2 includes FMA and
 * F16C; AVX512VNNI includes F, DQ, BW and VL. */
typedef enum { GM_CPU_AVX2, GM_CPU_AVXVNNI, GM_CPU_AVX512VNNI } gm_cpu_feature;
bool gm_cpu_has(gm_cpu_feature f);

/* The kernel for weight type t on path isa, or NULL if that path has none
 * (or the CPU lacks it).  gm_qisa_best() is the fastest path this CPU runs
 * no wider than gm_isa_default() (so GEMMASH_ISA=avx2 rules out AVX-512
 * here too, and scalar every SIMD path). */
gm_qdot_fn  gm_qdot_get(gm_type t, gm_qisa isa);
gm_qkern    gm_qkern_get(gm_type t, gm_qisa isa);   /* x4 may be NULL */
gm_qisa     gm_qisa_best(void);
bool        gm_qisa_supported(gm_qisa isa);
const char *gm_qisa_name(gm_qisa isa);

/* Per-ISA tables (defined in qdot*.c; entries NULL where absent). */
gm_qkern gm_qdot_scalar(gm_type t);
gm_qkern gm_qdot_extra_scalar(gm_type t);   /* quant_extra.c: the formats read in place only */
gm_qkern gm_qdot_avx2(gm_type t);
gm_qkern gm_qdot_avxvnni(gm_type t);
gm_qkern gm_qdot_avx512(gm_type t);

/* ---- row-interleaved ("packed") matrices ---------------------------------------
 *
 * For prefill tiles and wide decode loads, gm_quantize_tensor stores Q8_0,
 * Q4_0, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K matrices with 16 rows interleaved where the best
 * path has its own tile for the type (gm_qpack_native: AVX-512 VNNI, AVX-VNNI
 * and AVX2 all have them): one vpdpbusd then multiplies 4 elements of 16
 * rows by 4 broadcast activation bytes, and a block's exact integer sums
 * for 16 rows land in one register.  The size is unchanged (same bytes,
 * reordered): within a slice, every full group of 16 rows takes 16 *
 * row_bytes bytes; rows past the last full group keep the GGUF row layout.
 * A group is a run of blocks (32 columns, or 256 for the K types), in pairs
 *     [quants b][quants b+1][scales b][scales b+1]
 * (a lone last block: [quants][scales]), so with even block counts every
 * 64-byte quant row is 64-byte aligned.  Quant bytes are interleaved 4 at a
 * time: 64-byte row k holds bytes 4k..4k+3 of rows 0..15 in turn (Q8_0 qs,
 * stored plus 128 (w ^ 0x80), the unsigned operand; Q4_0 and Q4_K qs; Q5_0,
 * Q5_1 and Q5_K qs then qh; Q6_K ql then qh).  The scale part holds the 16
 * rows' f16 scales (Q5_1: the 16 d, then the 16 m; Q4_K and Q5_K: d,
 * dmin, then the 12 scale bytes as three interleaved dwords; Q6_K: the
 * int8 scales in pairs per row, [sub-block pair][row][2], then d).
 * qpack_pos in quant.c is the map.
 * The tensor's packed field then equals data. */
#define GM_QP_ROWS 16

/* Activation block of the packed kernels: like gm_bq8, but c = -C * sum(qs)
 * with the weight offset C (128 for Q8_0, whose packed kernels read the
 * weights as w + 128; 8 for Q4_0; 16 for Q5_0).  Q5_1 has no offset but a
 * per-block min m, and takes c = sum(qs) (C = -1) for the m * dx * sum term. */
typedef struct { float d; int32_t c; int8_t qs[32]; } gm_bq8c;
_Static_assert(sizeof(gm_bq8c) == sizeof(gm_bq8), "gm_bq8c has gm_bq8's layout");
static inline int32_t gm_q8c_offset(gm_type t)
{
    return t == GM_TYPE_Q8_0 ? 128 : t == GM_TYPE_Q5_0 ? 16 : t == GM_TYPE_Q5_1 ? -1 : 8;
}

/* Whether type t has a packed layout (Q8_0, Q4_0, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). */
bool gm_qpack_type(gm_type t);
/* Interleave 16 rows of nb blocks (row layout, rows row_bytes apart) into one
 * packed group at dst (16 * row_bytes bytes). */
void gm_qpack_group(gm_type t, int64_t nb, const void *rows, size_t row_bytes, void *dst);
/* Copy row r (0..15) of a packed group back to the row layout. */
void gm_qunpack_row(gm_type t, int64_t nb, const void *group, int r, void *dst);
/* Copy block b of row r of a packed group to dst (one block, row layout). */
void gm_qunpack_block(gm_type t, int64_t nb, const void *group, int r, int64_t b, void *dst);
/* Quantize n floats into gm_bq8c blocks for weight type t (the fastest
 * path this CPU runs; every path writes the same bytes). */
void gm_quantize_act_q8c(gm_type t, const float *x, gm_bq8c *y, int64_t n);
void gm_quantize_act_q8c_portable(gm_type t, const float *x, gm_bq8c *y, int64_t n);
void gm_quantize_act_q8c_avx512(gm_type t, const float *x, gm_bq8c *y, int64_t n);

/* Bytes of one block's quants and of its scales for 16 rows. */
static inline size_t gm_qp_quant_bytes(gm_type t)
{
    switch (t) {
    case GM_TYPE_Q8_0: return 512;
    case GM_TYPE_Q4_0: return 256;
    case GM_TYPE_Q5_0: case GM_TYPE_Q5_1: return 320;
    case GM_TYPE_Q4_K: return 2048;
    case GM_TYPE_Q5_K: return 2560;
    default: return 3072;
    }
}
static inline size_t gm_qp_scale_bytes(gm_type t)
{
    return t == GM_TYPE_Q4_K || t == GM_TYPE_Q5_K ? 256 : t == GM_TYPE_Q6_K ? 288 : t == GM_TYPE_Q5_1 ? 64 : 32;
}

/* Where block b's quants and its 16 rows' scales start inside a packed
 * group of nb blocks (byte offsets; see the layout above). */
static inline void gm_qp_offsets(gm_type t, int64_t nb, int64_t b, size_t *q, size_t *d)
{
    size_t qb = gm_qp_quant_bytes(t), base = (size_t)(b >> 1) * 2 * (qb + gm_qp_scale_bytes(t));
    size_t npair = (b | 1) < nb ? 2 : 1;
    *q = base + (size_t)(b & 1) * qb;
    *d = base + npair * qb + (size_t)(b & 1) * gm_qp_scale_bytes(t);
}

/* The 16 rows of a packed group times nt <= GM_QP_TOKENS activation rows (xs
 * bytes apart; gm_bq8c for Q8_0/Q4_0/Q5_0/Q5_1, gm_bq8k for the K types);
 * y[u * ldy + i] = row i times token u.  With cont, the sums start from
 * what y holds instead of zero: a product split along K into runs of
 * blocks (each run an even count, or the group's end; group and x advanced
 * to the run's first block) gives the same bits as one call over all.  Every (row, token) gets the same
 * operations whatever nt is: Q8_0/Q4_0/Q5_0 per block the exact integer sum,
 * then acc = fma((float)isum, dw * dx, acc) in block order (Q5_1: then
 * acc = fma((float)c, mw * dx, acc), c = sum(qs)); the K types
 * exactly the row kernels' per-super-block update (gm_ksum, gm_k6sum), so
 * packed and row layouts give the same bits there. */
#define GM_QP_TOKENS 8
typedef void (*gm_qtile_fn)(int64_t nb, const void *group, const void *x, size_t xs, int nt, float *y, int64_t ldy,
                            bool cont);
/* The portable tile (same bits as every SIMD tile) and each SIMD path's
 * own (AVX2 and AVX-VNNI: qtile_simd.h, 8 rows at a time; AVX-512), NULL
 * for types a path has no tile of; gm_qtile_get falls back to the portable
 * one. */
gm_qtile_fn gm_qtile_get(gm_type t, gm_qisa isa);
/* Whether path isa has its own (SIMD) tile for type t: where the best path
 * does, gm_quantize_tensor and gm_qpack_tensor store t packed. */
bool gm_qpack_native(gm_type t, gm_qisa isa);
gm_qtile_fn gm_qtile_scalar(gm_type t);
gm_qtile_fn gm_qtile_avx2(gm_type t);
gm_qtile_fn gm_qtile_avxvnni(gm_type t);
gm_qtile_fn gm_qtile_avx512(gm_type t);

/* Prefill reads each packed group once per 8 tokens.  Where a type's tile
 * spends operations unpacking weights, a run of a group's blocks is first
 * rewritten into a form a faster tile reads, once for all the tokens: Q4_0
 * nibbles become bytes in the Q8_0 layout, read by the Q8_0 tile (with the
 * Q4_0 activation blocks, whose c holds the offset 8).  The integer sums
 * are the same numbers and the float operations the same, so the bits equal
 * the type's own tile.  Q5_0 and Q5_1 levels (nibble and fifth bit) become
 * bytes the same way: Q5_0's run is a Q8_0 group (c holds the offset 16),
 * Q5_1's (AVX-512 only) a Q8_0 group of its d scales followed by nb x 16
 * f16 mins, read by a tile that adds the min term.  prep writes a run of nb blocks (group
 * advanced as for a tile) to dst, bytes_per_block each; tile reads dst.
 * prep is NULL for types read as they are. */
/* tile2, where a path has one, takes two groups (or two rewritten runs) of
 * the layout tile reads, g0 and g1 (two groups of one matrix, or the same
 * rows of two matrices): 32 rows times nt <= GM_QP2_TOKENS tokens, group
 * g0's row i into y0[u * ldy + i] and g1's into y1[u * ldy + i], with the
 * bits tile gives each group. */
#define GM_QP2_TOKENS 6
typedef void (*gm_qtile2_fn)(int64_t nb, const void *g0, const void *g1, const void *x, size_t xs, int nt,
                             float *y0, float *y1, int64_t ldy, bool cont);
typedef struct {
    void (*prep)(int64_t nb, const void *group, void *dst);
    gm_qtile_fn tile;
    size_t bytes_per_block;
    gm_qtile2_fn tile2;
} gm_qprep;
gm_qprep gm_qprep_get(gm_type t, gm_qisa isa);
gm_qprep gm_qprep_avx512(gm_type t);
gm_qprep gm_qprep_avx2(gm_type t);      /* the K types' rewrites; {NULL} for others */
gm_qprep gm_qprep_avxvnni(gm_type t);
void gm_qprep_q4_0_portable(int64_t nb, const void *group, void *dst);
/* The Q5_0 (Q5_1) rewrite above, portable: the bytes the SIMD rewrite writes. */
void gm_qprep_q5_portable(gm_type t, int64_t nb, const void *group, void *dst);
#define GM_Q5R_BYTES(t) ((t) == GM_TYPE_Q5_1 ? 512 + 32 + 32 : 512 + 32)
/* Where block b's 16 f16 mins start in a rewritten Q5_1 run of nb blocks. */
static inline size_t gm_q5r_mins(int64_t nb, int64_t b) { return (size_t)nb * (512 + 32) + 32 * (size_t)b; }
/* The K types' rewritten runs, per super-block of 16 rows (levels: 64-byte
 * row i holds elements 4i..4i+3 of the 16 rows, as plain bytes):
 *   Q4_K, Q5_K: [levels 4096][scales 8 x 16 int32][mins 4 x 16 int32
 *               (m_2p | m_2p+1 << 16, against gm_bq8k.bsums32)][d 16 floats]
 *               [dmin 16 floats]
 *   Q6_K:       [levels 4096][scale pairs 8 x 16 x 2 int16][d 16 floats]
 * written by the AVX-512 rewrite and, with the same bytes, the portable one
 * (gm_qprep_k_portable; the 256-bit paths use it). */
#define GM_Q4KR_MINS 4608                    /* offsets within a rewritten super-block */
#define GM_Q4KR_D (GM_Q4KR_MINS + 256)
#define GM_Q4KR_DMIN (GM_Q4KR_D + 64)
#define GM_Q4KR_BYTES (GM_Q4KR_DMIN + 64)
#define GM_Q6KR_BYTES (4096 + 512 + 64)
void gm_qprep_k_portable(gm_type t, int64_t nb, const void *group, void *dst);
/* Q3_K's prefill (quant_extra.c): 16 rows of the row layout (row_bytes
 * apart, advanced to the run's first super-block) over nb super-blocks
 * written as a rewritten Q6_K run, which the Q6_K run tile of
 * gm_qprep_get(GM_TYPE_Q6_K, isa) reads with the Q3_K row kernels' bits. */
void gm_qrowprep_q3_K(int64_t nb, const void *rows, size_t row_bytes, void *dst);
/* IQ4_XS's the same way as a rewritten Q5_K run, read by the AVX-512 Q5_K
 * run tile only (levels up to 241). */
void gm_qrowprep_iq4_xs(int64_t nb, const void *rows, size_t row_bytes, void *dst);
/* The prefill rewrite of a format read in place on path isa: prep writes
 * 16 rows' run (row layout, row_bytes apart) of nb super-blocks to dst,
 * bytes_per_block each, which tile reads; {NULL} where the rows go through
 * the row kernels (the other formats, or a path without the tile). */
typedef struct {
    void (*prep)(int64_t nb, const void *rows, size_t row_bytes, void *dst);
    gm_qtile_fn tile;
    size_t bytes_per_block;
} gm_qrowprep;
gm_qrowprep gm_qrowprep_get(gm_type t, gm_qisa isa);

/* gm_qmatmul with an explicit kernel path (tests and the benchmark). */
int gm_qmatmul_isa(gm_pool *p, gm_qisa isa, const gm_tensor *W, int64_t slice, const float *X,
                   int64_t ldx, int n, float *Y, int64_t ldy);

/* gm_qmatmul and gm_qtensor_row (declared in kernels.h) are the hooks
 * gm_matmul and gm_tensor_row call for these types. */

/* Quantize a float tensor (F32/F16/BF16) to dst (Q8_0, Q4_0, Q5_0, Q5_1,
 * Q4_K, Q5_K, Q6_K, or a float type).  out gets a malloc'd buffer it owns (free
 * out->data) and src's name and shape.  Rows are split across the pool. */
int  gm_quantize_tensor(const gm_tensor *src, gm_type dst, gm_tensor *out, gm_pool *p, gm_err *err);
/* A quantized tensor in the GGUF row layout (a mapped file) repacked into
 * an owned buffer (out->data, which the caller frees; out->packed ==
 * out->data) when this CPU's best kernels read the packed layout: returns
 * 0, 1 when there is nothing to do (out untouched), or -1 on error.  Call
 * gm_tensor_release_pages(src) after, so the mapped copy leaves memory. */
int  gm_qpack_tensor(const gm_tensor *src, gm_tensor *out, gm_pool *p, gm_err *err);
/* The same into a caller's buffer of exactly the converted size. */
int  gm_quantize_tensor_into(const gm_tensor *src, gm_type dst, void *out, size_t out_bytes, gm_pool *p, gm_err *err);
/* The type a tensor gets under a scheme ("f32", "f16", "bf16", "q8_0",
 * "q4_0", "q4_k_m" or its alias "q4_k", "q5_k_m" or "q5_k"), or -1: keep a float type (vectors
 * and the MoE router, or rows that fit no block; K types fall back to Q8_0
 * first).  hf_name without prefix; layer -1 for global tensors.  Shared by
 * `gemmash convert` and quantization at load. */
int gm_quant_type_for(const char *scheme, const char *hf_name, int layer, int n_layers, const gm_tensor *t);

/* Tell the kernel the pages of a mapped tensor are no longer needed (after
 * it was quantized into an owned copy), so a model's resident memory stays
 * near the size of what it uses.  Only whole pages inside the tensor are
 * released; a file-backed private mapping reads them again if touched. */
void gm_tensor_release_pages(const gm_tensor *t);
/* Parse "q8_0" | "q4_0" | "q4_k" | "q5_k" | "q6_k" | "bf16" | "f16" | "f32"
 * (case-insensitive); returns -1 when unknown. */
int  gm_type_from_name(const char *s);

#endif
