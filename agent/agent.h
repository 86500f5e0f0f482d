/* agent.h: the one public header of gemmash's agent library.
 *
 * The agent owns everything between a user's task and a finished answer:
 *   - the conversation as structured messages (OpenAI chat shape, rendered by
 *     the engine's chat format) and the KV cache reuse across turns,
 *   - Gemma 4's native tool-call syntax: an incremental parser, schema
 *     validation, and a grammar that constrains decoding to valid calls,
 *   - thinking (on/off, budget), context accounting and compaction,
 *   - the loop guard, headless mode (events, exit codes), sessions, replay,
 *   - the command line of the gemmash binary.
 * It drives the engine (engine.h) and the tools (tools.h) through their
 * headers only.
 *
 * Symbols.  Model output is seen as a stream of symbols: bytes 0..255, plus
 * one symbol per control token that matters to the protocol (AG_SYM_*).  A
 * token's symbols are either its bytes or one control symbol, so a string
 * delimiter written as the control token <|"|> is told apart from the same
 * characters written as text.
 */
#ifndef GEMMASH_AGENT_H
#define GEMMASH_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

enum {
    AG_SYM_QUOTE = 256,      /* <|"|>            string delimiter */
    AG_SYM_CALL_OPEN,        /* <|tool_call>     */
    AG_SYM_CALL_CLOSE,       /* <tool_call|>     */
    AG_SYM_RESP_OPEN,        /* <|tool_response> (a stop token) */
    AG_SYM_RESP_CLOSE,       /* <tool_response|> */
    AG_SYM_CH_OPEN,          /* <|channel>       thought channel open */
    AG_SYM_CH_CLOSE,         /* <channel|>       */
    AG_SYM_TURN_OPEN,        /* <|turn>          */
    AG_SYM_TURN_CLOSE,       /* <turn|>          */
    AG_SYM_EOS,              /* <eos>            */
    AG_SYM_OTHER,            /* any other control token */
    AG_SYM_COUNT
};

/* The text of a control symbol ("<|\"|>" ...), or NULL for bytes/OTHER. */
const char *ag_sym_text(int sym);
/* The control symbol whose text is exactly piece[0..n), or -1. */
int         ag_sym_of_piece(const char *piece, size_t n);

/* ------------------------------------------------------------------------ */
/* Output parser: text, thoughts and tool calls (parse.c, value.c)           */
/* ------------------------------------------------------------------------ */

typedef struct ag_parser ag_parser;

enum { AG_OUT_TEXT = 0, AG_OUT_THOUGHT = 1 };
/* Streaming sink for answer text and thought text as it becomes final. */
typedef void (*ag_out_fn)(void *ud, int kind, const char *s, size_t n);

ag_parser *ag_parser_new(ag_out_fn out, void *ud);
void       ag_parser_free(ag_parser *p);
/* Feed symbols (one token's worth or any split). */
int        ag_parser_feed_sym(ag_parser *p, const int *syms, size_t n);
/* Feed text in which control tokens appear as their literal text; a control
 * token split across calls is recognised (the tail is held back). */
int        ag_parser_feed_text(ag_parser *p, const char *s, size_t n);
/* End of the output: flushes held text, closes an unfinished call as an error. */
void       ag_parser_finish(ag_parser *p);

/* Where the parser is now (for the decoding constraints). */
enum { AG_PS_TEXT = 0, AG_PS_THOUGHT, AG_PS_CALL };
int         ag_parser_state(const ag_parser *p);
bool        ag_parser_stopped(const ag_parser *p);   /* saw <|tool_response>, <turn|> or <eos> */
const char *ag_parser_text(const ag_parser *p);      /* the answer text so far */
const char *ag_parser_thought(const ag_parser *p);   /* thought text, label stripped */
/* The calls so far: an array of {"name","arguments"} or, for a call that
 * could not be read, {"name"?, "error", "raw"}.  Owned by the parser. */
const cJSON *ag_parser_calls(const ag_parser *p);

/* Parse one call body ("call:NAME{...}", symbols, no delimiters around it).
 * Returns {"name","arguments"} or NULL with a message in err. */
cJSON *ag_parse_call(const int *syms, size_t n, char *err, size_t cap);
/* Parse one value in Gemma syntax (strings in <|"|>, bare keys). */
cJSON *ag_parse_value(const int *syms, size_t n, char *err, size_t cap);
/* A copy of s with invalid UTF-8 replaced by U+FFFD (malloc'd). */
char  *ag_utf8_sanitize(const char *s);
/* Write the n bytes at s to f with terminal controls shown as ^X or
 * <U+XXXX> instead of acted on (tab and newline kept). */
void   ag_put_safe(FILE *f, const char *s, size_t n);
/* Convert text with literal control-token text into symbols (malloc'd). */
int   *ag_text_to_syms(const char *s, size_t n, size_t *n_out);

/* ------------------------------------------------------------------------ */
/* JSON Schema subset (schema.c)                                             */
/* ------------------------------------------------------------------------ */

/* Check value against a JSON Schema: type (one or a list; upper-case Gemma
 * names accepted), enum, const, required, properties, additionalProperties
 * (absent = no unknown keys), items, minItems/maxItems, minimum/maximum,
 * minLength/maxLength, nullable.  Returns 0, or -1 with a message that names
 * the argument path, what was expected and what was found. */
int ag_schema_validate(const cJSON *schema, const cJSON *value, char *err, size_t cap);

/* The parameters schema of a tool in an OpenAI tools array ({type:function,
 * function:{name,parameters}} or {name,parameters}), or NULL. */
const cJSON *ag_tool_params(const cJSON *tools, const char *name);

/* ------------------------------------------------------------------------ */
/* Grammar: a symbol-level machine for constrained decoding (grammar.c)      */
/* ------------------------------------------------------------------------ */

typedef struct ag_grammar ag_grammar;   /* compiled schema (immutable) */
typedef struct ag_gstate  ag_gstate;    /* a position in it (copyable) */

/* A grammar for one Gemma tool call, from the symbol after <|tool_call> to
 * <tool_call|> inclusive: "call:" NAME "{" args "}" <tool_call|>, names from
 * tools (OpenAI tools array); only != NULL restricts to that one tool. */
ag_grammar *ag_grammar_toolcall(const cJSON *tools, const char *only, char *err, size_t cap);
/* A grammar for one JSON value matching schema, in JSON syntax. */
ag_grammar *ag_grammar_json(const cJSON *schema, char *err, size_t cap);
void        ag_grammar_free(ag_grammar *g);
/* Cap every string at max_bytes (then only its closing delimiter is
 * allowed): a degenerate model cannot fill the context inside one argument.
 * 0 = no cap. */
void        ag_grammar_limit_strings(ag_grammar *g, int max_bytes);

ag_gstate *ag_gstate_new(const ag_grammar *g);
void       ag_gstate_free(ag_gstate *s);
void       ag_gstate_reset(ag_gstate *s);
/* Advance by one symbol: 0 if accepted, -1 if the grammar forbids it (the
 * state is then unchanged). */
int        ag_gstate_step(ag_gstate *s, int sym);
bool       ag_gstate_done(const ag_gstate *s);      /* a complete value/call */

/* ------------------------------------------------------------------------ */
/* Vocabulary trie and token masks (mask.c)                                  */
/* ------------------------------------------------------------------------ */

typedef struct ag_vocab ag_vocab;

/* Build from per-token bytes (control tokens: sym[i] >= 256 gives their
 * symbol; 0 means use bytes).  Returns NULL on allocation failure. */
ag_vocab *ag_vocab_new(int n_tokens, const char *const *bytes, const size_t *lens,
                       const int *ctl_sym);
void      ag_vocab_free(ag_vocab *v);
int       ag_vocab_size(const ag_vocab *v);
/* The token id of a control symbol, or -1. */
int32_t   ag_vocab_sym_token(const ag_vocab *v, int sym);
/* The symbols of token id (count returned, up to cap written). */
size_t    ag_vocab_syms(const ag_vocab *v, int32_t id, int *syms, size_t cap);

/* The same from the engine's tokenizer (vocab_tok.c). */
struct gm_tokenizer;
ag_vocab *ag_vocab_from_tok(const struct gm_tokenizer *tok);

/* Fill allow (bitmap, bit i of word i/32 = token i) with the tokens whose
 * symbols the grammar accepts from state s.  Returns the number allowed. */
int ag_mask_compute(const ag_vocab *v, const ag_gstate *s, uint32_t *allow);

/* ------------------------------------------------------------------------ */
/* The agent: options, model backend, tools, session (session.c, ...)        */
/* ------------------------------------------------------------------------ */

#include "engine.h"
#include "approval.h"

typedef enum { AG_TC_AUTO = 0, AG_TC_REQUIRED, AG_TC_NONE, AG_TC_NAME } ag_tool_choice;
typedef enum { AG_OUT_FMT_TEXT = 0, AG_OUT_FMT_JSON, AG_OUT_FMT_JSONL } ag_out_fmt;

/* Everything the command line decides (cli.c fills it; tests set it). */
typedef struct ag_opts {
    const char    *model;            /* -m: checkpoint folder */
    int            threads;          /* 0: engine default */
    int            n_ctx;            /* 0: the model's limit, capped by memory */
    gm_kv_type     kv_type;          /* --kv-type: KV cache elements (GM_KV_DEFAULT: f16) */
    uint64_t       seed;
    float          temperature;      /* < 0: the model's generation_config */
    bool           think;            /* --think / --no-think */
    int            think_budget;     /* tokens; 0 = unlimited */
    ag_tool_choice tool_choice;
    const char    *tool_choice_name; /* AG_TC_NAME */
    cJSON         *output_schema;    /* --output-schema (owned by the caller) */
    ag_out_fmt     output;
    int            max_turns;        /* model generations per run; 0 = 100 */
    double         timeout_s;        /* 0 = none */
    double         compact_at;       /* fraction of the context; 0 = 0.8 */
    int            keep_last;        /* messages kept verbatim at compaction; 0 = 6 */
    int            max_gen_tokens;   /* per generation; 0 = up to the context end */
    int            max_arg_bytes;    /* cap on each string in a call or JSON answer; 0 = none */
    bool           headless;         /* nobody to ask: AG_ASK means denied */
    ag_approval_mode approval;
    const char    *system_prompt;    /* NULL: the built-in prompt */
    const char    *append_system;    /* appended to the system prompt */
    const char    *state_dir;        /* NULL: $XDG_STATE_HOME/gemmash or ~/.local/state/gemmash */
    bool           no_session_file;  /* do not save the session */
    bool           color;            /* dim thoughts on a terminal */
    bool           stream;           /* print text and thoughts as they come */
    /* Ask the user about a call (interactive); NULL or headless: denied.
     * Returns 1 to allow. */
    int          (*ask)(void *ud, const char *tool, const cJSON *args, const char *why);
    void          *ask_ud;
    /* After ask said no: the user's reason for the model ("" or NULL: none). */
    const char  *(*ask_reason)(void *ud);
    /* The complete system message (prompt.c builds it from the built-in
     * prompt, the user's files and AGENTS.md); when set it is used as is. */
    const char    *system_full;
    const struct ag_rules *rules;    /* approval rules (rules.h); NULL: none */
    bool           no_history;       /* the shell keeps no history file */
    volatile sig_atomic_t *interrupt;
} ag_opts;

/* Fill o with the defaults documented in `gemmash --help`. */
void ag_opts_default(ag_opts *o);

/* What the loop gives a message-level backend for one step (ag_backend.chat). */
typedef struct ag_chat_in {
    double      temperature;      /* < 0: the server's default */
    int         max_tokens;       /* 0: the server's default */
    const char *tool_choice;      /* NULL (auto), "required", "none" or a tool name */
    const cJSON *output_schema;   /* --output-schema: the answer must match it; NULL: free text */
    bool        think;            /* thinking on (the server's chat template decides how) */
    double      timeout_s;        /* 0: the backend's default */
    void      (*show)(void *ud, int kind, const char *s, size_t n);   /* AG_OUT_TEXT / AG_OUT_THOUGHT */
    void       *show_ud;
    volatile sig_atomic_t *interrupt;
} ag_chat_in;

/* What it returns: the assistant message in OpenAI shape (content,
 * reasoning_content, tool_calls with JSON-string arguments). */
typedef struct ag_chat_out {
    cJSON *message;               /* owned by the caller */
    long   prompt_tokens, completion_tokens;   /* -1: not reported */
    bool   interrupted, length_cut;
} ag_chat_out;

/* The model side: a tokenizer and a generate call with gm_generate's
 * contract (the engine; tests plug in a scripted model), or a chat call
 * that takes messages and tools as they are (a remote server): when chat
 * is set, tok, generate and n_ctx are unused and the server renders the
 * prompt and parses tool calls itself. */
typedef struct ag_backend {
    void               *ud;
    const gm_tokenizer *tok;
    gm_chat_family      family;
    int                 n_ctx;        /* tokens the context holds */
    const char         *name;         /* for events and session files */
    const char         *kv_type;      /* "f16" or "f32" (engine), NULL (a server) */
    gm_sampler_params   defaults;     /* generation_config sampling */
    int  (*generate)(void *ud, const int32_t *prompt, int n, const gm_gen_params *p,
                     gm_gen_result *res, gm_err *err);
    void (*close)(void *ud);
    int  (*chat)(void *ud, const cJSON *messages, const cJSON *tools, const ag_chat_in *in, ag_chat_out *out,
                 char *err, size_t cap);
} ag_backend;

/* A chat-completions server as the backend (backend_remote.c): endpoint
 * URL, the environment variable holding the API key (NULL: none), the
 * model name to request (NULL: "default").  0, or -1 with a message. */
int ag_backend_open_remote(ag_backend *b, const char *endpoint, const char *key_env, const char *model,
                           char *err, size_t cap);

/* Open a checkpoint folder with the engine (backend_engine.c), its KV cache
 * of type kv. */
int ag_backend_open(ag_backend *b, const char *model, int threads, int n_ctx, gm_kv_type kv, gm_err *err);

/* The tools side (the tools library; tests plug in fakes). */
typedef struct ag_toolbox {
    void  *ud;
    /* The OpenAI tools array to declare (a new cJSON the caller frees). */
    cJSON *(*declarations)(void *ud);
    /* Run one validated call; returns the response value (a new cJSON,
     * usually an object) and sets *failed when the tool reports failure.
     * fence_error: the sandbox could not be applied (exit 7). */
    cJSON *(*call)(void *ud, const char *name, const cJSON *args, bool *failed, bool *fence_error);
    bool   (*is_mutating)(void *ud, const char *name);
    void   (*close)(void *ud);
    /* The tools library behind it (ag_toolbox_open sets them; fakes leave
     * NULL): the interactive shell's /undo, /diff, approval previews, !cmd
     * and @file checks use them. */
    struct gt_ctx          *gt;
    const struct sb_policy *policy;
} ag_toolbox;

/* The tools library as a toolbox; takes ownership of pol (malloc'd,
 * initialised) and frees it on close, on success (toolbox.c).  only: NULL, or "name,name" to declare only those tools. */
struct sb_policy;
int ag_toolbox_open(ag_toolbox *out, struct sb_policy *pol, const char *output_dir, const char *only,
                    volatile sig_atomic_t *interrupt, char *err, size_t cap);

typedef struct ag_session ag_session;

/* Per-run figures, also written in the result event. */
typedef struct ag_stats {
    int    turns;             /* model generations */
    long   input_tokens;      /* tokens prefilled (not reused from the cache) */
    long   output_tokens;     /* tokens generated */
    int    tool_calls, denials, compactions;
    double duration_s;
    int   *prefill;           /* tokens prefilled, per generation */
    int   *prompt;            /* prompt length, per generation (prompt - prefill = reused from the cache) */
    int    n_prefill, cap_prefill;
} ag_stats;

/* A session: messages, the model, the tools, the session file.  Takes
 * ownership of b and t (closed by ag_session_free). */
ag_session *ag_session_new(const ag_opts *o, ag_backend *b, ag_toolbox *t, char *err, size_t cap);
void        ag_session_free(ag_session *s);
/* Read a session file: its message list (after compactions), and its
 * first line (id, model, seed, temperature, think, cwd) in *meta. */
cJSON      *ag_session_read(const char *path, cJSON **meta, char *err, size_t cap);
/* Resume from a session file: its messages replace the conversation. */
int         ag_session_load(ag_session *s, const char *path, char *err, size_t cap);

/* One user message, then model steps and tool calls until a final answer or
 * a limit.  Returns a GM_EXIT_* status (commands.h); the answer is
 * ag_session_answer(). */
int          ag_session_turn(ag_session *s, const char *user_text);
const char  *ag_session_answer(const ag_session *s);
const char  *ag_session_id(const ag_session *s);
const char  *ag_session_path(const ag_session *s);
const cJSON *ag_session_messages(const ag_session *s);
const ag_stats *ag_session_stats(const ag_session *s);
/* Write the result event / JSON document / text answer for status. */
void         ag_session_report(ag_session *s, int status);

/* `gemmash` with no subcommand: parse the agent's options and run it. */
int ag_main(int argc, char **argv);
/* `gemmash replay FILE`: re-run a recorded session at temperature 0. */
int ag_replay_main(int argc, char **argv);
/* Replay the session file at path on an opened backend (taken over);
 * writes the report to out (text or JSON).  0 same, 1 departs, 2 bad file. */
int ag_replay_session(const char *path, ag_backend *b, bool json_out, FILE *out);

#endif
