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

/* Fill allow (bitmap, bit i of word i/32 = token i) with the tokens whose
 * symbols the grammar accepts from state s.  Returns the number allowed. */
int ag_mask_compute(const ag_vocab *v, const ag_gstate *s, uint32_t *allow);

#endif
