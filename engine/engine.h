/* engine.h: the one public header of gemmash's inference engine.
 *
 * The engine owns everything between a model on disk and a stream of tokens:
 *   - loading Gemma 4 checkpoints (Hugging Face folders; GGUF files) with every
 *     tensor's shape checked against the config,
 *   - the tokenizer (tokenizer.json or GGUF vocabulary) and a streaming decoder,
 *   - the chat format (structured messages in, exact prompt text out),
 *   - the forward pass with its KV cache, on a backend (CPU today),
 *   - sampling, with a per-step token mask for constrained decoding.
 * It knows nothing of tools, sandboxes or the agent.
 *
 * Errors: every fallible call takes a gm_err* (may be NULL) and fills it with a
 * message that names the file or tensor, what was found and what was expected.
 */
#ifndef GEMMASH_ENGINE_H
#define GEMMASH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <cjson/cJSON.h>

#define GM_ERR_MAX 1024
typedef struct gm_err {
    int  code;              /* a GM_E* value, 0 = no error */
    char msg[GM_ERR_MAX];
} gm_err;

enum {
    GM_OK = 0,
    GM_E_IO = 1,        /* a file could not be opened, read or mapped */
    GM_E_FORMAT = 2,    /* a file is malformed, truncated or inconsistent */
    GM_E_UNSUPPORTED = 3, /* a valid file uses something we do not support */
    GM_E_ARG = 4,       /* a caller passed a bad argument (empty prompt, ...) */
    GM_E_NOMEM = 5,     /* an allocation failed */
    GM_E_CONTEXT = 6,   /* the context window is full */
    GM_E_INTERRUPTED = 7,
};

/* Fill err (if non-NULL) with a formatted message; returns -1 for tail calls. */
int gm_err_set(gm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------ */
/* Tokenizer                                                                 */
/* ------------------------------------------------------------------------ */

/* A tokenizer is read-only once built: encode and decode may run on several
 * threads at once.  Encoding follows the Hugging Face pipeline of Gemma's
 * tokenizer.json exactly (checked id for id against a reference encoder). */
typedef struct gm_tokenizer gm_tokenizer;

/* Token kinds, as in GGUF's tokenizer.ggml.token_type. */
enum { GM_TOK_NORMAL = 1, GM_TOK_UNKNOWN = 2, GM_TOK_CONTROL = 3,
       GM_TOK_USER_DEFINED = 4, GM_TOK_UNUSED = 5, GM_TOK_BYTE = 6 };

/* A vocabulary given as arrays (what a GGUF file carries).  merges are
 * "left right" strings in rank order (split at the first space after the
 * first byte).  scores may be NULL and are not used: BPE ranks come from the
 * merges.  types may be NULL: then "<0xXX>" pieces are byte tokens and all
 * others normal.  CONTROL, USER_DEFINED and UNKNOWN tokens are matched in the
 * text before BPE (CONTROL and UNKNOWN only with parse_special). */
typedef struct gm_vocab_spec {
    int32_t        n_tokens;
    const char   **tokens;      /* UTF-8 pieces, '▁' for spaces */
    const float   *scores;
    const int32_t *types;       /* GM_TOK_* */
    int32_t        n_merges;
    const char   **merges;
} gm_vocab_spec;

gm_tokenizer *gm_tok_load_json(const char *path, gm_err *err);
/* The same from a tokenizer.json held in memory; name is used in messages. */
gm_tokenizer *gm_tok_load_json_buf(const char *buf, size_t len, const char *name, gm_err *err);
gm_tokenizer *gm_tok_from_vocab(const gm_vocab_spec *spec, gm_err *err);
/* The tokenizer of a GGUF file (its tokenizer.ggml.* arrays), without its weights. */
gm_tokenizer *gm_tok_load_gguf(const char *path, gm_err *err);
void          gm_tok_free(gm_tokenizer *tok);
int32_t       gm_tok_vocab_size(const gm_tokenizer *tok);

/* Encode UTF-8 text.  With parse_special, control tokens written in the text
 * (e.g. "<|turn>") become their ids; without, they are plain text.  Added
 * tokens that are not special (USER_DEFINED: newline and tab runs, <unusedN>,
 * HTML tags) are matched either way, as the reference tokenizer does.  No BOS
 * is added.  *ids is malloc'd (also when empty); returns 0 or -1. */
int gm_tok_encode(const gm_tokenizer *tok, const char *text, size_t len,
                  bool parse_special, int32_t **ids, size_t *n_ids, gm_err *err);

/* The raw piece of a token as stored in the vocabulary, or NULL. */
const char *gm_tok_piece(const gm_tokenizer *tok, int32_t id);
/* The id of an exact piece (e.g. "<|tool_call>"), or -1. */
int32_t     gm_tok_find(const gm_tokenizer *tok, const char *piece);
int32_t     gm_tok_type(const gm_tokenizer *tok, int32_t id);
/* The bytes one token decodes to ('▁' -> ' ', <0xAB> -> one byte, control
 * tokens -> their text).  Returns the byte count (may exceed cap: truncated). */
size_t      gm_tok_bytes(const gm_tokenizer *tok, int32_t id, char *buf, size_t cap);

/* Decode ids to a malloc'd NUL-terminated string.  skip_special drops control
 * tokens.  Returns NULL on allocation failure. */
char *gm_tok_decode(const gm_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special);
/* gm_tok_decode that also gives the length (the text may contain NUL bytes). */
char *gm_tok_decode_n(const gm_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special,
                      size_t *out_len);

/* Streaming decoder: feed one id at a time, get back only complete UTF-8. */
typedef struct gm_detok {
    unsigned char pend[8];
    int           npend;
} gm_detok;
void   gm_detok_init(gm_detok *d);
/* Append the complete characters now available to out (cap bytes); returns
 * the number of bytes written (more than cap: truncated).  Invalid sequences
 * come out as U+FFFD. */
size_t gm_detok_push(const gm_tokenizer *tok, gm_detok *d, int32_t id, char *out, size_t cap);
/* Flush what is pending at the end of a stream (as U+FFFD if incomplete). */
size_t gm_detok_flush(gm_detok *d, char *out, size_t cap);
/* A cap that one gm_detok_push or gm_detok_flush never exceeds. */
size_t gm_detok_bound(const gm_tokenizer *tok);

/* ------------------------------------------------------------------------ */
/* Chat format (gemma4-arch.md §7)                                           */
/* ------------------------------------------------------------------------ */

typedef enum { GM_CHAT_SMALL = 0, GM_CHAT_LARGE = 1 } gm_chat_family;

typedef struct gm_chat_opts {
    bool           think;                  /* <|think|> in the system turn */
    bool           add_generation_prompt;  /* end with the model turn opener */
    gm_chat_family family;                 /* E2B/E4B vs 26B/31B template */
} gm_chat_opts;

/* Render messages (OpenAI chat shape: role system|developer|user|assistant|
 * tool, content, reasoning_content, tool_calls[{function:{name,arguments}}],
 * tool_call_id/name) and tools (OpenAI function-tool shape, may be NULL) to
 * the exact prompt text, starting with "<bos>".  Returns malloc'd text.
 * content: a string or [{type:"text",text}] parts.  reasoning/
 * reasoning_content is kept only before tool calls after the last user
 * message.  Tool results: role:"tool" messages right after the call
 * (content: string, JSON object text, an object, or text parts; matched by
 * tool_call_id, else name, else position) or Gemma-native tool_responses
 * [{name,response}] on the assistant message.  arguments: an object, or a
 * JSON string (parsed when it holds an object, else pasted verbatim).
 * opts NULL = no thinking, generation prompt, small family.  Malformed
 * input (non-array messages, unknown role, call without name, non-object
 * arguments, a tool message with no call before it) returns NULL with err. */
char *gm_chat_render(const cJSON *messages, const cJSON *tools,
                     const gm_chat_opts *opts, gm_err *err);

/* Render one value the way tool-call arguments and responses are written
 * (keys sorted, strings in <|"|>).  Appends to a malloc'd string. */
char *gm_chat_format_value(const cJSON *value, gm_err *err);

/* Which family a chat template (chat_template.jinja or GGUF
 * tokenizer.chat_template) belongs to: GM_CHAT_LARGE when it has the
 * empty-thought-channel generation prompt of the 26B/31B template, else
 * GM_CHAT_SMALL (also for NULL). */
gm_chat_family gm_chat_family_from_template(const char *template_text);

/* ------------------------------------------------------------------------ */
/* Model                                                                     */
/* ------------------------------------------------------------------------ */

#define GM_MAX_LAYERS 256

typedef struct gm_config {
    char    arch[32];            /* "gemma4" */
    int     vocab;               /* rows of the embedding / LM head */
    int     hidden;              /* H */
    int     n_layers;            /* L */
    int     n_heads;             /* query heads, all layers */
    int     n_kv_heads;          /* KV heads on sliding layers */
    int     n_kv_heads_global;   /* KV heads on full layers */
    int     head_dim;            /* sliding layers */
    int     head_dim_global;     /* full layers */
    int     sliding_window;      /* W: attend iff 0 <= q - k < W */
    int     max_pos;             /* max_position_embeddings */
    int     n_kv_shared;         /* last N layers reuse earlier K/V */
    int     ple_dim;             /* per-layer input width P, 0 = none */
    int     ple_vocab;
    int     intermediate;        /* dense MLP width (before double-wide) */
    int     n_experts, top_k_experts, moe_inter;  /* 0 when no MoE */
    bool    k_eq_v;              /* full layers: V from the raw K projection */
    bool    double_wide;
    bool    moe;
    bool    tied_embeddings;
    float   rope_theta_local, rope_theta_global;
    float   partial_rotary_global; /* fraction of the full head that rotates */
    float   final_softcap;       /* 0 = none */
    float   eps;
    int     bos_id, eos_id, pad_id;
    /* per layer, derived (gemma4-arch.md §1.3) */
    uint8_t is_full[GM_MAX_LAYERS];
    int     kv_source[GM_MAX_LAYERS];  /* layer whose cache this layer reads (itself if owner) */
    int     ffn_width[GM_MAX_LAYERS];
    int     n_kv_heads_l[GM_MAX_LAYERS];
    int     head_dim_l[GM_MAX_LAYERS];
} gm_config;

/* Defaults from generation_config.json. */
typedef struct gm_genconfig {
    float   temperature, top_p, min_p;
    int     top_k;
    int     n_eos;
    int32_t eos[8];            /* stop ids, e.g. 1, 106, 50 */
} gm_genconfig;

typedef enum { GM_DEVICE_AUTO = 0, GM_DEVICE_CPU = 1, GM_DEVICE_CUDA = 2 } gm_device;

/* Element type of the KV cache.  F16 (the default) halves the cache and the
 * bytes a long-context decode step reads; Gemma 4's keys and values are
 * RMS-normed before they are stored, so they sit far inside half's range
 * and lose only its rounding (about 2^-11 relative).  F32 keeps every bit of
 * the projections, for comparisons against a float reference. */
typedef enum { GM_KV_DEFAULT = 0, GM_KV_F16 = 1, GM_KV_F32 = 2 } gm_kv_type;
/* "f16" or "f32" (any case) to its type; -1 for anything else. */
int gm_kv_type_from_name(const char *s);

typedef struct gm_load_opts {
    int         threads;       /* 0: one per physical core */
    const char *quant;         /* NULL or "q8_0" | "q4_0" | "q4_k": quantize at load */
    gm_device   device;
    bool        verbose;       /* progress/notes on stderr */
    gm_kv_type  kv_type;       /* of every context made for the model */
} gm_load_opts;

typedef struct gm_model gm_model;

/* Load a Hugging Face checkpoint folder (or a GGUF file).  Weights are
 * mmapped, never copied unless converted. */
gm_model *gm_model_load(const char *path, const gm_load_opts *opts, gm_err *err);
void      gm_model_free(gm_model *m);

const gm_config    *gm_model_config(const gm_model *m);
const gm_genconfig *gm_model_genconfig(const gm_model *m);
const gm_tokenizer *gm_model_tokenizer(const gm_model *m);
gm_chat_family      gm_model_chat_family(const gm_model *m);
/* A JSON description for `gemmash info`: architecture, layer plan, parameter
 * counts, bytes of weights, KV bytes per token, memory at a context size. */
cJSON              *gm_model_describe(const gm_model *m, int n_ctx);
/* Bytes of KV cache each token of context adds (the full-attention layers
 * that own a cache; sliding layers keep fixed rings), at the model's type. */
double              gm_model_kv_bytes_per_token(const gm_model *m);

/* ------------------------------------------------------------------------ */
/* A sequence: KV cache + scratch                                            */
/* ------------------------------------------------------------------------ */

typedef struct gm_ctx gm_ctx;

/* n_ctx: the most tokens this sequence may hold (0 = the model's limit).
 * Full-attention caches grow in chunks; nothing of size n_ctx is reserved. */
gm_ctx *gm_ctx_new(gm_model *m, int n_ctx, gm_err *err);
void    gm_ctx_free(gm_ctx *c);
int     gm_ctx_pos(const gm_ctx *c);        /* tokens in the cache */
int     gm_ctx_capacity(const gm_ctx *c);   /* n_ctx */
/* The tokens in the cache, in order (valid until the next call). */
const int32_t *gm_ctx_tokens(const gm_ctx *c);

/* Append n tokens, run them through the model in one batched pass.
 * logits: NULL, or room for n*vocab floats (all_logits) or vocab floats (last
 * position only).  Logits are after the final softcap. */
int gm_ctx_eval(gm_ctx *c, const int32_t *tokens, int n, float *logits,
                bool all_logits, gm_err *err);

/* Drop everything after the first n tokens (rollback, history edits).  Exact:
 * sliding rings that no longer hold the window are rebuilt. */
int gm_ctx_truncate(gm_ctx *c, int n, gm_err *err);

/* Make the cache hold exactly tokens[0..n): keep the common prefix, drop the
 * rest, prefill what is new.  Returns the number of tokens prefilled, or -1.
 * Logits of the last token go to logits (vocab floats) if non-NULL. */
int gm_ctx_sync(gm_ctx *c, const int32_t *tokens, int n, float *logits, gm_err *err);

/* Post-final-norm hidden state rows of the last eval (n rows x hidden). */
const float *gm_ctx_hidden(const gm_ctx *c, int *n_rows);

/* Set while a long eval runs; checked between layers. */
void gm_ctx_set_interrupt(gm_ctx *c, volatile sig_atomic_t *flag);

/* Where the forward pass spends its time, for benchmarks: with timing on,
 * each eval adds the wall seconds of each phase of every layer (products
 * with their quantization and barriers, attention, the per-token passes)
 * to a total per phase; gm_ctx_time_phases(c, true) also zeroes them.
 * gm_ctx_phase_times copies up to max totals into secs and their names
 * into names (either may be NULL) and returns the number of phases. */
enum { GM_PHASES = 11 };
void gm_ctx_time_phases(gm_ctx *c, bool on);
int  gm_ctx_phase_times(const gm_ctx *c, const char **names, double *secs, int max);

/* ------------------------------------------------------------------------ */
/* Sampling                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct gm_sampler_params {
    float    temperature;   /* 0 = greedy */
    int      top_k;         /* 0 = off */
    float    top_p;         /* 1 = off */
    float    min_p;         /* 0 = off */
    uint64_t seed;
} gm_sampler_params;

typedef struct gm_sampler gm_sampler;

gm_sampler *gm_sampler_new(const gm_sampler_params *p, int vocab, gm_err *err);
void        gm_sampler_free(gm_sampler *s);
/* Pick a token.  allow: NULL, or a bitmap of vocab bits (bit i set = token i
 * may be chosen): the constrained-decoding hook.  logits may be modified.
 * Returns the token, or -1 if the mask allows nothing. */
int32_t     gm_sampler_sample(gm_sampler *s, float *logits, const uint32_t *allow);
/* The probability distribution the sampler would draw from (after
 * temperature, top-k/p, min-p and the mask), written to probs[vocab]. */
void        gm_sampler_probs(gm_sampler *s, const float *logits, const uint32_t *allow, float *probs);

/* ------------------------------------------------------------------------ */
/* Generation loop                                                           */
/* ------------------------------------------------------------------------ */

typedef struct gm_gen_params {
    gm_sampler_params sampling;
    int   max_tokens;                      /* 0 = until stop or context end */
    const int32_t *stop; int n_stop;       /* NULL: generation_config eos ids */
    /* Called for every sampled token with its decoded complete UTF-8 text
     * (may be empty).  Return non-zero to stop after this token. */
    int  (*on_token)(void *ud, int32_t tok, const char *text, size_t len);
    /* Optional mask hook: fill allow (vocab bits, all set on entry) and return
     * 1 to apply it, 0 for no constraint this step, -1 to abort. */
    int  (*mask)(void *ud, uint32_t *allow, int vocab);
    void *ud;
    volatile sig_atomic_t *interrupt;      /* stop cleanly when set */
} gm_gen_params;

typedef enum { GM_STOP_EOS = 0, GM_STOP_LENGTH, GM_STOP_CALLBACK,
               GM_STOP_CONTEXT, GM_STOP_INTERRUPT, GM_STOP_ERROR } gm_stop_reason;

typedef struct gm_gen_result {
    gm_stop_reason reason;
    int32_t stop_token;       /* the eos id that stopped it, or -1 */
    int     n_prompt;         /* tokens prefilled (not reused from cache) */
    int     n_generated;
    double  prefill_s, decode_s;
} gm_gen_result;

/* Bring the cache to prompt[0..n) (reusing the common prefix), then sample
 * until a stop token, the limit, the callback, the context end or an
 * interrupt.  Sampled tokens (and the stop token) are appended to the cache. */
int gm_generate(gm_ctx *c, const int32_t *prompt, int n, const gm_gen_params *p,
                gm_gen_result *res, gm_err *err);

/* ------------------------------------------------------------------------ */
/* Speculative decoding: MTP drafters and prompt lookup (gemma4-mtp.md)       */
/* ------------------------------------------------------------------------ */

/* A Gemma 4 "assistant" drafter (model_type gemma4_assistant) bound to its
 * target: it reads the target's KV cache, embedding table and hidden rows,
 * and keeps no state of its own. */
typedef struct gm_drafter gm_drafter;

/* Load the drafter in folder dir for target (tokenizer.json optional).  The
 * drafter must belong to the target: hidden size, vocabulary and the head
 * geometry of the KV layers it reads are checked, with a message naming the
 * mismatch.  The target must outlive the drafter. */
gm_drafter *gm_drafter_load(const char *dir, gm_model *target, gm_err *err);
void        gm_drafter_free(gm_drafter *d);
/* The drafter folder that sits next to a target folder: "<path>-assistant",
 * "<path>_assistant" or "<path>/assistant"; malloc'd, or NULL if none. */
char       *gm_drafter_find(const char *target_path);

/* One drafting round: k greedy draft tokens after tok, whose carried hidden
 * state is hidden (target width); every step uses RoPE position pos and
 * attends to the target's cache positions [0, n_kv).  out gets k tokens;
 * logits (k x vocab floats) and hidden_out (k x target width) may be NULL.
 * The clustered head fills unscored tokens with the minimum logit minus 1. */
int gm_drafter_round(gm_drafter *d, gm_ctx *c, int32_t tok, const float *hidden, int pos, int n_kv,
                     int k, int32_t *out, float *logits, float *hidden_out, gm_err *err);

typedef enum { GM_SPEC_AUTO = 0, GM_SPEC_OFF, GM_SPEC_MTP, GM_SPEC_LOOKUP } gm_spec_mode;

#define GM_SPEC_KMAX 16

typedef struct gm_spec_params {
    gm_spec_mode mode;      /* AUTO: drafter and prompt lookup, whichever promises more */
    gm_drafter  *draft;     /* NULL: prompt lookup only */
    int          k;         /* draft tokens per round; 0 = per model size (gemma4-mtp.md §11) */
    bool         fixed_k;   /* keep k; otherwise adapt it to the measured acceptance */
    /* Optional external drafter (tests, other draft sources): write up to k
     * tokens continuing tokens[0..n) to out and return how many (0 = none). */
    int        (*draft_hook)(void *ud, const int32_t *tokens, int n, int k, int32_t *out);
    void        *draft_ud;
} gm_spec_params;

typedef struct gm_spec_stats {
    int    rounds;                      /* verify passes with at least one draft */
    int    target_passes;               /* every target eval after the prompt */
    int    mtp_rounds, lookup_rounds, hook_rounds;
    long   drafted[GM_SPEC_KMAX];       /* rounds that drafted position j */
    long   accepted[GM_SPEC_KMAX];      /* rounds whose position j was accepted */
    double draft_s, verify_s;           /* time in the drafter and in target passes */
} gm_spec_stats;

/* gm_generate with speculation: the same callbacks in the same order
 * (mask before each token, on_token after it), the same stop rules, and the
 * same cache contents at the end.  At temperature 0 the tokens equal plain
 * decoding's; at temperature > 0 every token is drawn by the sampler from
 * the target's own distribution (so the output distribution is the target's,
 * and a fixed seed gives plain decoding's tokens).  stats may be NULL. */
int gm_generate_spec(gm_ctx *c, const int32_t *prompt, int n, const gm_gen_params *p,
                     const gm_spec_params *sp, gm_gen_result *res, gm_spec_stats *stats, gm_err *err);

#endif
