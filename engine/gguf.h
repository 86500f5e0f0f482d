/* gguf.h: reading and writing GGUF files (internal to the engine).
 *
 * The reader maps the file, validates every length, count, type and offset
 * before trusting it (a malformed file gets a message naming the file, the
 * byte offset and what is wrong, never a crash), copies the metadata into
 * its own structures and leaves tensor data in the mapping.  The writer
 * produces files that llama.cpp's loader accepts (version 3, 32-byte
 * alignment unless general.alignment says otherwise). */
#ifndef GEMMASH_GGUF_H
#define GEMMASH_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine.h"
#include "kernels.h"

/* Metadata value types, numbered as in the GGUF format. */
typedef enum {
    GM_GGUF_U8 = 0, GM_GGUF_I8 = 1, GM_GGUF_U16 = 2, GM_GGUF_I16 = 3, GM_GGUF_U32 = 4,
    GM_GGUF_I32 = 5, GM_GGUF_F32 = 6, GM_GGUF_BOOL = 7, GM_GGUF_STR = 8, GM_GGUF_ARR = 9,
    GM_GGUF_U64 = 10, GM_GGUF_I64 = 11, GM_GGUF_F64 = 12,
} gm_gguf_vtype;

#define GM_GGUF_MAX_DIMS 4
#define GM_GGUF_DEFAULT_ALIGN 32

/* One metadata entry.  Scalars live in v; an array has n elements
 * of arr_type: strings as NUL-terminated copies in strs, numbers as raw
 * little-endian bytes in raw (read them with gm_gguf_arr_num). */
typedef struct gm_gguf_kv {
    char          *key;
    gm_gguf_vtype  type;
    gm_gguf_vtype  arr_type;
    uint64_t       n;
    struct { uint64_t u; int64_t i; double f; bool b; } v;   /* a number in every form it fits */
    char          *str;        /* GM_GGUF_STR value */
    size_t         str_len;
    char         **strs;       /* array of strings */
    const void    *raw;        /* array of numbers (points into the file) */
} gm_gguf_kv;

typedef struct gm_gguf_tensor {
    char      *name;
    uint32_t   n_dims;
    int64_t    ne[GM_GGUF_MAX_DIMS];
    uint64_t   offset;         /* from the start of the data section */
    gm_tensor  t;              /* ready for the kernels: data points into the map */
} gm_gguf_tensor;

typedef struct gm_gguf gm_gguf;
struct gm_gguf {
    char           *path;
    const uint8_t  *base;      /* the whole file */
    size_t          size;
    bool            mapped;    /* base is our mmap (unmapped on close) */
    uint32_t        version;
    uint32_t        alignment;
    size_t          data_off;  /* start of the tensor data section */
    int64_t         n_kv;
    gm_gguf_kv     *kv;
    int64_t         n_tensors;
    gm_gguf_tensor *tensors;
    void           *arena;     /* string storage */
};

/* Open and validate a file (mmap, read-only). */
gm_gguf *gm_gguf_open(const char *path, gm_err *err);
/* Validate a file already in memory (buf must outlive the result); name is
 * used in messages.  The fuzz target and the tests use this. */
gm_gguf *gm_gguf_open_buf(const void *buf, size_t size, const char *name, gm_err *err);
void     gm_gguf_close(gm_gguf *g);

const gm_gguf_kv     *gm_gguf_find_kv(const gm_gguf *g, const char *key);
const gm_gguf_tensor *gm_gguf_find_tensor(const gm_gguf *g, const char *name);
/* Element i of a numeric array (or the scalar when kv is not an array) as
 * double / int64; false if kv is absent, not numeric or i is out of range. */
bool gm_gguf_num(const gm_gguf_kv *kv, uint64_t i, double *out);
bool gm_gguf_int(const gm_gguf_kv *kv, uint64_t i, int64_t *out);
/* Byte size of one element of a fixed-size type; 0 for strings/arrays. */
size_t gm_gguf_vtype_size(gm_gguf_vtype t);
const char *gm_gguf_vtype_name(gm_gguf_vtype t);

/* ---- writer ---------------------------------------------------------------- */

typedef struct gm_gguf_writer gm_gguf_writer;

gm_gguf_writer *gm_gguf_writer_new(gm_err *err);
void gm_gguf_writer_free(gm_gguf_writer *w);
/* Metadata, written in the order added.  Strings and arrays are copied. */
int gm_gguf_set_scalar(gm_gguf_writer *w, const char *key, gm_gguf_vtype t, const void *val);
int gm_gguf_set_u32(gm_gguf_writer *w, const char *key, uint32_t v);
int gm_gguf_set_i32(gm_gguf_writer *w, const char *key, int32_t v);
int gm_gguf_set_f32(gm_gguf_writer *w, const char *key, float v);
int gm_gguf_set_bool(gm_gguf_writer *w, const char *key, bool v);
int gm_gguf_set_str(gm_gguf_writer *w, const char *key, const char *s);
/* n elements of a fixed-size type t, little-endian, packed. */
int gm_gguf_set_arr(gm_gguf_writer *w, const char *key, gm_gguf_vtype t, const void *data, uint64_t n);
int gm_gguf_set_arr_str(gm_gguf_writer *w, const char *key, const char *const *strs, uint64_t n);
/* A tensor of type t and shape ne[0..n_dims) (GGML order); data is copied
 * when the file is written, so it must stay valid until then. */
int gm_gguf_add_tensor(gm_gguf_writer *w, const char *name, gm_type t, int n_dims, const int64_t *ne,
                       const void *data, size_t nbytes);
/* A tensor whose bytes are produced only while the file is written (one at
 * a time, into a buffer of nbytes): conversion never holds every converted
 * tensor in memory.  fill returns 0 or -1 with err set. */
typedef int (*gm_gguf_fill_fn)(void *ud, void *dst, size_t nbytes, gm_err *err);
int gm_gguf_add_tensor_fn(gm_gguf_writer *w, const char *name, gm_type t, int n_dims, const int64_t *ne,
                          gm_gguf_fill_fn fill, void *ud);
/* Write everything to path (via a temporary file renamed into place). */
int gm_gguf_write(gm_gguf_writer *w, const char *path, gm_err *err);

/* ---- the gemma4 architecture (gguf_model.c) ------------------------------ */

/* GGUF name of a Hugging Face tensor name without prefix ("layers.3.mlp.up_proj.weight"
 * -> "blk.3.ffn_up.weight"); -1 if the name is not part of the text model. */
int    gm_gguf_name_from_hf(const char *hf, char *out, size_t cap);
/* Walk the name table: entry i as an HF name for a layer (layer >= 0 for
 * per-layer entries, -1 for global ones); -1 if entry i is of the other kind. */
int    gm_gguf_hf_name_count(void);
int    gm_gguf_hf_name_at(int i, int layer, char *out, size_t cap);
/* The flat HF text config (JSON) described by a gemma4 file's metadata and
 * tensor list; NULL with err set when keys are missing or inconsistent. */
cJSON *gm_gguf_config_json(const gm_gguf *g, gm_err *err);
/* The gemma4.* metadata llama.cpp's converter writes for this text config. */
int    gm_gguf_meta_from_config(gm_gguf_writer *w, const cJSON *text_config, const char *what, gm_err *err);
/* The rope_freqs factors for the config (see gguf_model.c); entry count or 0. */
int    gm_gguf_rope_freqs(const cJSON *text_config, float *out, int cap);
/* 0 when llama.cpp's gemma4 picks the same KV-sharing source layers as the
 * config means; else -1 with why (see gguf_model.c). */
int    gm_gguf_llamacpp_kv_share_ok(const cJSON *text_config, char *why, size_t cap);

/* ---- tokenizer.json -> tokenizer.ggml.* (gguf_vocab.c) ------------------- */

typedef struct gm_hf_vocab {
    int32_t n, n_merges, unk;
    char  **tokens, **merges;
    float  *scores;
    int32_t *types;
} gm_hf_vocab;

int  gm_hf_vocab_load(const char *tokenizer_json, gm_hf_vocab *v, gm_err *err);
void gm_hf_vocab_free(gm_hf_vocab *v);
/* Size the vocabulary to the embedding's n_rows, as llama.cpp requires
 * (tokenizer.ggml.tokens has one entry per row): pads with unused "[PADi]"
 * pieces; an id at or past n_rows is an error naming it.  what: for messages. */
int  gm_hf_vocab_fit(gm_hf_vocab *v, int64_t n_rows, const char *what, gm_err *err);
/* The tokenizer keys as llama.cpp's gemma4 converter writes them; special
 * ids come from the text config (bos/eos/pad_token_id), else from root. */
int  gm_gguf_write_vocab(gm_gguf_writer *w, const gm_hf_vocab *v, const cJSON *text_config, const cJSON *root,
                         const char *chat_template);

/* ---- conversion (gguf_convert.c) ------------------------------------------- */

/* Write src (any weight source) as a gemma4 GGUF at out_path.  type: "f32",
 * "bf16", "f16", "q8_0", "q4_0", "q4_k_m" (Q4_K with Q6_K for the
 * embedding and half of attn_v/ffn_down, as llama.cpp's Q4_K_M) or
 * "q5_k_m" (the same with Q5_K).  Tensors
 * whose rows do not fit 256-blocks take llama.cpp's fallbacks (Q4_K -> Q5_0,
 * Q5_K -> Q5_1, Q6_K -> Q8_0), and 32-blocks -> F16. */
struct gm_source;
int gm_gguf_convert(struct gm_source *src, const char *tokenizer_json, const char *out_path, const char *type,
                    gm_pool *pool, bool verbose, gm_err *err);

#endif
