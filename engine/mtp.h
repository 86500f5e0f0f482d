/* mtp.h: the MTP drafter (internal to engine/).
 *
 * A gemma4_assistant checkpoint is a 4-layer Gemma 4 decoder without K/V
 * projections: its layers attend to the target's cache (the last sliding and
 * the last full layer that own K/V), its input is the target's scaled token
 * embedding next to the target's post-norm hidden state, and it predicts with
 * its own tied head, dense (26B/31B) or clustered (E2B/E4B).  gm_drafter
 * holds the bound weights, the plan that ties each layer to a target cache,
 * and the scratch of one draft step (gemma4-mtp.md §1-5). */
#ifndef GEMMASH_MTP_H
#define GEMMASH_MTP_H

#include "model.h"

#define GM_DRAFT_MAX_LAYERS 16

typedef struct gm_draft_layer {
    const float     *attn_norm, *q_norm, *post_attn_norm, *ffn_norm, *post_ffn_norm;
    const gm_tensor *wq, *wo, *gate, *up, *down;
    float            layer_scalar;
    int              full;       /* 1: full attention, else sliding */
    int              hd, nkv;    /* head dim; KV heads of the target cache it reads */
    int              src;        /* target layer whose cache it reads */
} gm_draft_layer;

struct gm_drafter {
    gm_model        *target;
    gm_source       *src;
    gm_config        cfg;        /* the drafter's text config (kv sharing cleared) */
    int              Hb, d, V, nH, F, window;   /* window: sliding keys visible (W + 1) */
    const gm_tensor *embed, *pre, *post, *centroids;
    const int64_t   *ordering;   /* [V] token ids, cluster c owns [c*vpc, (c+1)*vpc) */
    int              n_centroids, top_clusters, vpc;
    const float     *final_norm;
    gm_draft_layer   layers[GM_DRAFT_MAX_LAYERS];
    int              n_layers;
    size_t           step_bytes; /* weight bytes one draft step reads */
    void           **owned;
    int              n_owned, cap_owned;
    /* scratch for one step */
    float *x2, *h, *a, *q, *att, *o, *g, *u, *nrm, *cs, *logits, *emb;
    int   *sel;
    float *scores;               /* per thread: scores_cap floats */
    int    scores_cap;
};

/* One draft step: token tok with carried hidden h_in (Hb floats) at RoPE
 * position pos over target cache positions [0, n_kv).  Writes h_out (Hb)
 * and either full logits (V floats, when logits is non-NULL) or only the
 * argmax; returns the drafted token or -1 with err. */
int32_t gm_drafter_step(gm_drafter *d, gm_ctx *c, int32_t tok, const float *h_in, int pos, int n_kv,
                        float *logits, float *h_out, gm_err *err);

/* Weight bytes of one draft step relative to one target decode step. */
double gm_drafter_cost_ratio(const gm_drafter *d);

#endif
