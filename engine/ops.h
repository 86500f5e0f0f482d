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

/* The cos and sin of RoPE's angles at position pos, D/2 of each (entries
 * whose frequency is zero are left alone: those dims pass through).  A
 * forward pass computes them once per token and layer type, not in every
 * layer: cos and sin in double per frequency were 0.8% of a 6-layer
 * prefill, and scale with the layer count. */
static inline void rope_angles(float *cs, float *sn, int D, const float *inv_freq, int pos)
{
    for (int i = 0; i < D / 2; i++) {
        if (inv_freq[i] == 0.0f) continue;
        double a = (double)pos * inv_freq[i];
        cs[i] = (float)cos(a);
        sn[i] = (float)sin(a);
    }
}

/* NeoX rotate-half RoPE with the angles of rope_angles, over nh heads of D
 * dims at x and, when k is not NULL, nk more heads at k (a token's queries
 * and keys). */
static inline void rope2_tab(float *x, int nh, float *k, int nk, int D, const float *inv_freq, const float *cs,
                             const float *sn)
{
    int half = D / 2;
    for (int i = 0; i < half; i++) {
        if (inv_freq[i] == 0.0f) continue;
        for (int h = 0; h < nh + (k ? nk : 0); h++) {
            float *v = h < nh ? x + (size_t)h * D : k + (size_t)(h - nh) * D;
            float x0 = v[i], x1 = v[i + half];
            v[i] = x0 * cs[i] - x1 * sn[i];
            v[i + half] = x1 * cs[i] + x0 * sn[i];
        }
    }
}

/* rope2_tab with the angles computed here (D <= GM_ROPE_DIM_MAX, the
 * largest head dim config.c accepts). */
#define GM_ROPE_DIM_MAX 4096
static inline void rope2(float *x, int nh, float *k, int nk, int D, const float *inv_freq, int pos)
{
    float cs[GM_ROPE_DIM_MAX / 2], sn[GM_ROPE_DIM_MAX / 2];
    rope_angles(cs, sn, D, inv_freq, pos);
    rope2_tab(x, nh, k, nk, D, inv_freq, cs, sn);
}

/* RoPE over nh heads of D dims (see rope2). */
static inline void rope(float *x, int nh, int D, const float *inv_freq, int pos)
{
    rope2(x, nh, NULL, 0, D, inv_freq, pos);
}

#endif
