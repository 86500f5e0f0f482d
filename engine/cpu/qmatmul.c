/* qmatmul.c: matrix products and row lookups for quantized weight types.
 *
 * gm_matmul (matmul.c) handles F32, F16 and BF16 itself and hands every
 * other type here.  This file is the single place quantized kernels plug in;
 * until they do, every quantized type reports "no kernel". */
#include "kernels.h"

/* Y = W * X for a quantized W; -1: no kernel for this type. */
int gm_qmatmul(gm_pool *p, const gm_tensor *W, int64_t slice, const float *X, int64_t ldx,
               int n, float *Y, int64_t ldy)
{
    (void)p; (void)W; (void)slice; (void)X; (void)ldx; (void)n; (void)Y; (void)ldy;
    return -1;
}

/* One dequantized row; -1: no kernel for this type. */
int gm_qtensor_row(const gm_tensor *W, int64_t slice, int64_t r, float *out)
{
    (void)W; (void)slice; (void)r; (void)out;
    return -1;
}
