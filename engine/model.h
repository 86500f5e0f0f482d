/* model.h: the loaded model and a sequence's state (internal to engine/).
 *
 * gm_model holds the config, the tokenizer and, per layer, pointers to the
 * weight tensors (owned by the source's mmap, or by the model when converted
 * at load).  Small vectors (norm weights, scalars) are kept as float copies.
 * gm_ctx holds one sequence: the KV cache and all scratch the forward pass
 * needs, sized once, so a decode step allocates nothing. */
#ifndef GEMMASH_MODEL_H
#define GEMMASH_MODEL_H

#include "engine.h"
#include "kernels.h"
#include "source.h"
#include <time.h>

/* Monotonic seconds: the engine's one clock (generation and speculation
 * timings, phase timing). */
static inline double gm_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct gm_layer {
    /* attention */
    const float     *attn_norm, *q_norm, *k_norm, *post_attn_norm;
    const gm_tensor *wq, *wk, *wv, *wo;     /* wk/wv NULL on KV-shared layers; wv NULL when k_eq_v */
    /* dense MLP */
    const float     *ffn_norm, *post_ffn_norm;
    const gm_tensor *gate, *up, *down;
    /* MoE (26B) */
    const float     *pre_ffn_norm2, *post_ffn_norm1, *post_ffn_norm2, *router_scale, *expert_scale;
    const gm_tensor *router, *gate_up_exps, *down_exps;
    /* per-layer embeddings (E2B/E4B) */
    const gm_tensor *ple_gate, *ple_proj;
    const float     *ple_post_norm;
    float            layer_scalar;
} gm_layer;

struct gm_model {
    gm_config      cfg;
    gm_genconfig   gen;
    gm_chat_family family;
    gm_source     *src;
    gm_tokenizer  *tok;
    gm_pool       *pool;
    const gm_tensor *embed, *lm_head, *ple_embed, *ple_model_proj;
    const float   *final_norm, *ple_proj_norm;
    gm_layer      *layers;
    /* rope inverse frequencies per layer type (0 sliding, 1 full) */
    float         *inv_freq[2];
    int            rope_dim[2];             /* head dim the table belongs to */
    /* owned memory: float copies of small vectors, converted tensors */
    void         **owned;
    int            n_owned, cap_owned;
    size_t         weight_bytes;            /* bytes of all bound tensors */
    size_t         bytes_per_token;         /* weight bytes one decode step reads */
    bool           kv_f16;                  /* contexts store K/V as half (gm_load_opts.kv_type) */
};

/* Small-file helpers shared by the loaders: a whole file (at most max
 * bytes) as a NUL-terminated buffer, and a JSON file (NULL and no error when
 * an optional file is absent). */
char  *gm_read_file(const char *path, size_t max, size_t *len, gm_err *err);
cJSON *gm_read_json(const char *path, bool required, gm_err *err);

/* Validate a safetensors image in memory (header, offsets, sizes). */
int gm_safetensors_check_buf(const void *buf, size_t len, const char *name, gm_err *err);

/* Owned allocation tied to the model's lifetime (freed by gm_model_free). */
void *gm_model_alloc(gm_model *m, size_t bytes);

/* Parse a text config (flat gemma4_text, or nested under text_config) into
 * cfg, deriving the per-layer plan.  name is the file for messages. */
int gm_config_parse(const cJSON *root, const char *name, gm_config *cfg, gm_err *err);
/* generation_config.json (may be NULL: defaults). */
void gm_genconfig_parse(const cJSON *root, gm_genconfig *g);

/* ---- KV cache --------------------------------------------------------------- */

#define GM_KV_BLOCK 256          /* positions per block of a full-attention cache */

/* Tokens per forward chunk.  A chunk reads every weight once, so bigger
 * chunks read less per token; mixture-of-experts layers gain the most (each
 * expert sees only its share of a chunk, so its weights are read for a few
 * tokens), dense ones too little to pay for the larger ring of each sliding
 * layer's cache and the scratch, which grow with the chunk. */
#define GM_MAX_BATCH 256
#define GM_MAX_BATCH_MOE 512

/* One layer's cache.  Rows are row elements of f32, or of IEEE half when
 * f16 (stored once, rounded to nearest even); kernels read them as floats
 * through gm_kv_rows. */
typedef struct gm_kv_layer {
    int     owner;               /* 1 if this layer computes and stores K/V */
    int     ring;                /* sliding: ring size in positions; 0 = full (block table) */
    int     row;                 /* elements per position (nkv * hd) */
    int     f16;                 /* 1: elements are uint16_t halves, else float */
    void   *k, *v;               /* ring storage */
    void  **kb, **vb;            /* full: block tables */
    int     n_blocks, cap_blocks;
} gm_kv_layer;

struct gm_ctx {
    gm_model    *m;
    int          n_ctx;          /* capacity in tokens */
    int          pos;            /* tokens in the cache */
    int32_t     *tokens;         /* history, n_ctx entries */
    int          max_batch;      /* tokens per forward chunk */
    gm_kv_layer *kv;
    /* scratch, max_batch rows each */
    float *x, *xn, *q, *k, *v, *att, *o, *f, *g, *u, *ple, *tmp, *hidden;
    float *moe_z, *moe_gu, *moe_act, *moe_out, *moe_acc, *moe_w;
    int   *moe_idx, *moe_tok;
    float *rope;                 /* per batch token and layer type: hd_max / 2 cos, then sin */
    int    rope_half;            /* hd_max / 2 */
    float *scores;               /* per thread: scores_floats floats */
    float *attn_rows;            /* per thread: an attention item's query and output rows */
    size_t attn_rows_floats;
    size_t scores_floats;        /* >= scores_heads x scores_cap; more for blocks of tokens */
    int    scores_cap;           /* positions per head row (>= keys of any one token) */
    int    scores_heads;         /* head rows per thread: the largest KV group, at most 8 */
    int    n_hidden_rows;
    volatile sig_atomic_t *interrupt;
    bool   timing;               /* gm_ctx_time_phases */
    double phase_s[GM_PHASES];   /* seconds per phase (forward.c's PH_*) */
};

/* Query heads whose softmax rows one attention work item keeps at once. */
#define GM_ATTN_GROUP_MAX 8
/* Prefill attention takes up to this many consecutive tokens per work item,
 * so each K/V row read from memory serves all of them ... */
#ifndef GM_ATTN_TOKENS
#define GM_ATTN_TOKENS 8
#endif
/* ... while their score rows fit in this many floats per thread (8 MiB:
 * 8 tokens x 8 heads up to 32K keys, fewer tokens beyond). */
#define GM_ATTN_SCRATCH_FLOATS ((size_t)2 << 20)
/* Keys per pass over a block's tokens.  Scores: about 16 KiB of K rows,
 * which stay in L1 beside one token's queries while every token of the
 * block uses them.  Weighted sums: about 128 KiB of V rows (from L2), as a
 * pass reloads each token's output sums, which short passes made dearer
 * than the values themselves. */
#ifndef GM_ATTN_KEY_BYTES
#define GM_ATTN_KEY_BYTES 16384
#endif
#ifndef GM_ATTN_VALUE_BYTES
#define GM_ATTN_VALUE_BYTES 131072
#endif

/* Make every full-attention cache cover positions < n_total. */
int   gm_kv_reserve(gm_ctx *c, int n_total, gm_err *err);
/* The stored bytes of position pos's K (values false) or V row, and their size. */
void *gm_kv_raw(const gm_kv_layer *l, bool values, int pos);
size_t gm_kv_row_bytes(const gm_kv_layer *l);
/* Store one position's K and V rows (row floats each), rounded to half
 * when the cache is f16. */
void  gm_kv_store(gm_kv_layer *l, int pos, const float *k, const float *v);
/* Columns [col, col + cols) of the K (or V) rows of positions u..u+nk-1,
 * which must lie in one run (gm_kv_run), as floats: the cache itself for an
 * f32 cache, else converted into buf (nk * cols floats).  *ld gets the
 * distance between rows.  The kernels thus see the same floats whether a
 * row is read in prefill, decode or by the drafter. */
const float *gm_kv_rows(const gm_kv_layer *l, bool values, int u, int nk, int col, int cols, float *buf,
                        int64_t *ld);
/* End (exclusive, <= end) of the run of positions from u whose K rows, and
 * V rows, lie one after another in memory (a ring wraps, blocks end). */
int   gm_kv_run(const gm_kv_layer *l, int u, int end);
/* Lowest position a sliding ring still holds when the cache ends at pos. */
int   gm_kv_ring_oldest(const gm_kv_layer *l, int pos);

/* Run n tokens (n <= max_batch) at positions c->pos.. through the model. */
int gm_forward(gm_ctx *c, const int32_t *tokens, int n, float *logits, bool all_logits, gm_err *err);

#endif
