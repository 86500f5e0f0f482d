/* types.c: facts about weight types (block sizes, names) and the scalar
 * conversions between float and the 16-bit formats, shared by the loaders
 * and the kernels. */
#include <math.h>
#include <string.h>
#include "kernels.h"

typedef struct { gm_type t; const char *name; int block; size_t bytes; } type_info;

static const type_info TYPES[] = {
    {GM_TYPE_F32,  "F32",  1,   4},
    {GM_TYPE_F16,  "F16",  1,   2},
    {GM_TYPE_BF16, "BF16", 1,   2},
    {GM_TYPE_Q8_0, "Q8_0", 32,  34},
    {GM_TYPE_Q4_0, "Q4_0", 32,  18},
    {GM_TYPE_Q5_0, "Q5_0", 32,  22},
    {GM_TYPE_Q5_1, "Q5_1", 32,  24},
    {GM_TYPE_Q4_K, "Q4_K", 256, 144},
    {GM_TYPE_Q5_K, "Q5_K", 256, 176},
    {GM_TYPE_Q6_K, "Q6_K", 256, 210},
    {GM_TYPE_Q4_1, "Q4_1", 32,  20},
    {GM_TYPE_Q2_K, "Q2_K", 256, 84},
    {GM_TYPE_Q3_K, "Q3_K", 256, 110},
    {GM_TYPE_IQ4_NL, "IQ4_NL", 32, 18},
    {GM_TYPE_IQ4_XS, "IQ4_XS", 256, 136},
};

static const type_info *info(gm_type t)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].t == t) return &TYPES[i];
    return NULL;
}

const char *gm_type_name(gm_type t) { const type_info *i = info(t); return i ? i->name : "unknown"; }
int gm_type_block(gm_type t) { const type_info *i = info(t); return i ? i->block : 0; }
size_t gm_type_block_bytes(gm_type t) { const type_info *i = info(t); return i ? i->bytes : 0; }

size_t gm_type_row_bytes(gm_type t, int64_t n)
{
    const type_info *i = info(t);
    if (!i || n < 0 || n % i->block) return 0;
    return (size_t)(n / i->block) * i->bytes;
}

float gm_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round to nearest even; NaN stays NaN. */
uint16_t gm_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float gm_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0) u = sign;
        else {                               /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            u = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) u = sign | 0x7f800000u | man << 13;
    else u = sign | (exp + 112) << 23 | man << 13;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t gm_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    if (isnan(f)) return sign | 0x7e00;
    float a = fabsf(f);
    if (a >= 65520.0f) return sign | 0x7c00;
    if (a < 6.103515625e-05f) {              /* subnormal half */
        return sign | (uint16_t)lrintf(a * 16777216.0f);
    }
    int e = (int)((u >> 23) & 0xff) - 127 + 15;
    uint32_t man = u & 0x7fffff;
    uint32_t r = man >> 13, rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    uint32_t h = (uint32_t)e << 10 | 0;
    h += r;                                  /* carry into the exponent is correct */
    return sign | (uint16_t)h;
}
