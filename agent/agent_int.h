/* agent_int.h: the session's insides, shared by the agent's own files.
 *
 * session.c owns the lifetime, loop.c the turn, decode.c the per-token
 * constraints, events.c the output, store.c the session file, compact.c the
 * context compaction. */
#ifndef GEMMASH_AGENT_INT_H
#define GEMMASH_AGENT_INT_H
#include <stdio.h>
#include "agent.h"

/* Per-generation decoding state: which tokens are allowed next. */
typedef struct ag_decoder {
    const ag_vocab *v;
    ag_parser      *parser;
    ag_gstate      *call_s;        /* tool-call grammar state (NULL: no tools) */
    ag_gstate      *json_s;        /* --output-schema grammar state (NULL: none) */
    bool            json_started, json_done, json_broken;
    bool            force_call;    /* required/NAME: the turn must start with a call */
    bool            no_calls;      /* tool_choice none */
    bool            think;
    int             think_budget, thought_tokens;
    bool            saw_thought, call_done, budget_closed;
    int             vocab;         /* bits in the engine's mask */
} ag_decoder;

struct ag_session {
    ag_opts     o;
    ag_backend  b;
    ag_toolbox  t;
    ag_approval approval;
    ag_vocab   *vocab;
    cJSON      *tools;             /* declarations (OpenAI shape) */
    ag_grammar *call_g;            /* all tools, or the forced one */
    ag_grammar *json_g;
    cJSON      *messages;
    char        id[64];
    char        path[4096];        /* session file ("" = none) */
    FILE       *store;
    ag_stats    st;
    char       *answer;
    double      t0;
    int         task_turns0;       /* st.turns when the current task began (--max-turns is per task) */
    double      task_t0;           /* when it began (--timeout is per task) */
    bool        denied;            /* a denial happened (headless exit 4) */
    bool        fence_failed;      /* the sandbox could not be applied */
    char        last_call[2048];   /* loop guard: the previous call's signature */
    int         same_calls;
    char        errmsg[2048];      /* the last error, for the result */
    const char *stop_msg;          /* why the turn stopped, for the result */
    /* replay: recorded tool results served instead of running tools */
    cJSON      *replay_results;
    int         replay_next;
};

/* decode.c */
int  ag_decoder_init(ag_decoder *d, ag_session *s, bool first_step, ag_out_fn out, void *ud);
void ag_decoder_free(ag_decoder *d);
/* Feed a sampled token (updates the grammars and the parser). */
void ag_decoder_token(ag_decoder *d, int32_t tok);
/* The gm_gen_params.mask hook. */
int  ag_decoder_mask(ag_decoder *d, uint32_t *allow, int vocab);

/* events.c: JSONL events on stdout (--output jsonl), nothing otherwise. */
void ag_event(ag_session *s, const char *type, cJSON *fields);   /* takes fields */
double ag_now(void);

/* store.c: the session file. */
int  ag_store_open(ag_session *s, char *err, size_t cap);
void ag_store_message(ag_session *s, const cJSON *msg);
void ag_store_compaction(ag_session *s);
cJSON *ag_store_read(const char *path, cJSON **meta, char *err, size_t cap);
int  ag_state_dir(const ag_opts *o, char *out, size_t cap);
int  ag_newest_session(const ag_opts *o, const char *skip, char *out, size_t cap);
int  ag_mkdirs(const char *path);      /* mkdir -p, mode 0700 */

/* compact.c */
int  ag_compact(ag_session *s, int tokens_before, char *err, size_t cap);

/* session.c */
int  ag_session_add(ag_session *s, cJSON *msg);   /* appends, records; takes msg */
int  ag_render_tokens(ag_session *s, const cJSON *msgs, bool gen_prompt, int32_t **ids, size_t *n,
                      char *err, size_t cap);
void ag_stats_prefill(ag_session *s, int prompt, int prefilled);

#endif
