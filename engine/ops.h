/* ops.h: the small per-vector operations of the Gemma 4 layers (internal),
 * shared by the target's forward pass (forward.c) and the MTP drafter
 * (mtp_forward.c) so both compute them identically. */
#ifndef GEMMASH_OPS_H
#define GEMMASH_OPS_H

#include <math.h>
#include <stddef.h>
#include "kernels.h"

/* y = x / rms(x) * w (w NULL: no weight), sum of squares in double; in the
 * chosen kernel family (it runs on every row of every layer, several times). */
static inline void rmsnorm(float *y, const float *x, const float *w, int n, float eps)
{
    gm_vec_rmsnorm(y, x, w, n, eps);
}

/* NeoX rotate-half RoPE at position pos over nh heads of D dims at x and,
 * when k is not NULL, nk more heads at k (a token's queries and keys: one
 * sin/cos per frequency serves both).  inv_freq has D/2 entries, zeros
 * where the dims pass through unchanged. */
static inline void rope2(float *x, int nh, float *k, int nk, int D, const float *inv_freq, int pos)
{
    int half = D / 2;
    for (int i = 0; i < half; i++) {
        if (inv_freq[i] == 0.0f) continue;
        double a = (double)pos * inv_freq[i];
        float cs = (float)cos(a), sn = (float)sin(a);
        for (int h = 0; h < nh + (k ? nk : 0); h++) {
            float *v = h < nh ? x + (size_t)h * D : k + (size_t)(h - nh) * D;
            float x0 = v[i], x1 = v[i + half];
            v[i] = x0 * cs - x1 * sn;
            v[i + half] = x1 * cs + x0 * sn;
        }
    }
}

/* RoPE over nh heads of D dims (see rope2). */
static inline void rope(float *x, int nh, int D, const float *inv_freq, int pos)
{
    rope2(x, nh, NULL, 0, D, inv_freq, pos);
}

#endif
