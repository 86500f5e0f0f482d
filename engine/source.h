/* source.h: where a model's weights and settings come from (internal).
 *
 * The model loader (model.c) never parses a file format itself: it asks a
 * source for a Hugging Face-style text config (JSON) and for tensors by their
 * Hugging Face names without prefix ("layers.3.self_attn.q_proj.weight",
 * "embed_tokens.weight", "layers.0.layer_scalar").  A safetensors folder
 * (safetensors.c) and a GGUF file (gguf.c) each implement this, so one
 * binding and one set of shape checks serve both. */
#ifndef GEMMASH_SOURCE_H
#define GEMMASH_SOURCE_H

#include "engine.h"
#include "kernels.h"

typedef struct gm_source gm_source;
struct gm_source {
    /* The tensor of that name, or NULL when absent.  ne[] is in GGML order
     * (ne[0] = innermost = the PyTorch last dim). */
    const gm_tensor *(*find)(gm_source *s, const char *hf_name);
    void  (*free)(gm_source *s);
    const char *path;          /* what the user named, for messages */
    cJSON *config;             /* text config (the decoder settings, flat) */
    cJSON *genconfig;          /* generation_config.json or NULL */
    gm_tokenizer *tok;         /* owned by the source until the model takes it */
    char  *chat_template;      /* NULL if none */
    size_t file_bytes;         /* total bytes of weight files */
};

/* Open a Hugging Face checkpoint folder (config.json, tokenizer.json,
 * model.safetensors or shards with an index). */
gm_source *gm_source_open_hf(const char *dir, gm_err *err);
/* The same without requiring tokenizer.json (MTP drafter folders). */
gm_source *gm_source_open_hf_weights(const char *dir, gm_err *err);
/* Open a GGUF file (config synthesized from its metadata). */
gm_source *gm_source_open_gguf(const char *path, gm_err *err);

#endif
