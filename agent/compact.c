/* compact.c: making room in a full context without forgetting the task.
 *
 * When the prompt passes the threshold (--compact-at, default 80% of the
 * context), older messages are replaced by a summary the model writes
 * itself.  A pinned block is never summarised: the system message (with
 * AGENTS.md), the tool declarations (rendered from the tools every step),
 * the user's current goal, and the latest todo list.  The last messages
 * stay verbatim.  Compaction is announced (event "compaction") and recorded
 * in the session file; it is never silent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent_int.h"

#define SUMMARY_TOKENS 400
#define TRANSCRIPT_RESULT_CAP 1500

typedef struct { char *p; size_t n, cap; } buf;

/* Append to a growing buffer (silently stops growing when memory runs out). */
static void put(buf *b, const char *s, size_t n)
{
    if (!b->p && !(b->p = malloc(b->cap = 4096))) return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap;
        while (c < b->n + n + 1) c *= 2;
        char *q = realloc(b->p, c);
        if (!q) return;
        b->p = q; b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

/* A message's role, or "". */
static const char *role(const cJSON *m)
{
    const char *r = cJSON_GetStringValue(cJSON_GetObjectItem(m, "role"));
    return r ? r : "";
}
/* A message's text content, or "". */
static const char *content(const cJSON *m)
{
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(m, "content"));
    return c ? c : "";
}

/* Messages [from, to) as plain text for the summariser. */
static char *transcript(const cJSON *msgs, int from, int to)
{
    buf b = {0};
    for (int i = from; i < to; i++) {
        const cJSON *m = cJSON_GetArrayItem(msgs, i);
        const char *r = role(m);
        if (!strcmp(r, "tool")) {
            const char *c = content(m);
            size_t n = strlen(c);
            puts_(&b, "[tool result] ");
            put(&b, c, n > TRANSCRIPT_RESULT_CAP ? TRANSCRIPT_RESULT_CAP : n);
            if (n > TRANSCRIPT_RESULT_CAP) puts_(&b, " [...]");
        } else {
            puts_(&b, !strcmp(r, "assistant") ? "[you] " : "[user] ");
            puts_(&b, content(m));
            const cJSON *tc;
            cJSON_ArrayForEach(tc, cJSON_GetObjectItem(m, "tool_calls")) {
                const cJSON *f = cJSON_GetObjectItem(tc, "function");
                char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(f, "arguments"));
                puts_(&b, "\n[you called] ");
                puts_(&b, cJSON_GetStringValue(cJSON_GetObjectItem(f, "name")) ?
                          cJSON_GetStringValue(cJSON_GetObjectItem(f, "name")) : "?");
                puts_(&b, a ? a : "");
                free(a);
            }
        }
        puts_(&b, "\n");
    }
    return b.p;
}

/* The latest todo list the model wrote (a call to a tool named "todo"). */
static char *latest_todo(const cJSON *msgs)
{
    for (int i = cJSON_GetArraySize(msgs) - 1; i >= 0; i--) {
        const cJSON *tc;
        cJSON_ArrayForEach(tc, cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, i), "tool_calls")) {
            const cJSON *f = cJSON_GetObjectItem(tc, "function");
            const char *nm = cJSON_GetStringValue(cJSON_GetObjectItem(f, "name"));
            if (nm && !strcmp(nm, "todo")) return cJSON_PrintUnformatted(cJSON_GetObjectItem(f, "arguments"));
        }
    }
    return NULL;
}

typedef struct { buf out; const ag_vocab *v; ag_parser *p; } sum_state;

/* Token callback of the summary generation: collect its text. */
static int sum_token(void *ud, int32_t tok, const char *text, size_t len)
{
    (void)text; (void)len;
    sum_state *st = ud;
    int syms[256];
    size_t n = ag_vocab_syms(st->v, tok, syms, 256);
    ag_parser_feed_sym(st->p, syms, n > 256 ? 256 : n);
    return 0;
}

/* The summary from a message-level backend (a chat server renders and
 * tokenizes the request itself): msgs as they are, no tools, greedy.
 * Takes msgs. */
static char *summarise_chat(ag_session *s, cJSON *msgs, char *err, size_t cap)
{
    ag_chat_in in = {.temperature = 0, .max_tokens = SUMMARY_TOKENS, .interrupt = s->o.interrupt};
    ag_chat_out out = {.prompt_tokens = -1, .completion_tokens = -1};
    char why[1024] = "";
    int rc = s->b.chat(s->b.ud, msgs, NULL, &in, &out, why, sizeof why);
    cJSON_Delete(msgs);
    if (out.prompt_tokens > 0) s->st.input_tokens += out.prompt_tokens;
    if (out.completion_tokens > 0) s->st.output_tokens += out.completion_tokens;
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(out.message, "content"));
    char *sum = rc == 0 && !out.interrupted && text && *text ? strdup(text) : NULL;
    if (!sum)
        snprintf(err, cap, "the model could not write the summary: %s",
                 out.interrupted ? "interrupted" : rc ? why : text && *text ? "out of memory" : "its reply was empty");
    cJSON_Delete(out.message);
    return sum;
}

/* Ask the model for a summary of transcript text. */
static char *summarise(ag_session *s, const char *text, char *err, size_t cap)
{
    cJSON *msgs = cJSON_CreateArray();
    cJSON *sys = cJSON_CreateObject(), *u = cJSON_CreateObject();
    cJSON_AddStringToObject(sys, "role", "system");
    cJSON_AddStringToObject(sys, "content", "You summarise a coding agent's work so that it can continue "
                            "after its older messages are removed.");
    cJSON_AddStringToObject(u, "role", "user");
    buf q = {0};
    puts_(&q, "Summarise the conversation below in at most 200 words: what was asked, what was done, "
              "which files were read or changed, what was learned, and what remains to do. "
              "Keep exact file names, commands and error messages.\n\n");
    puts_(&q, text);
    cJSON_AddStringToObject(u, "content", q.p ? q.p : "");
    free(q.p);
    cJSON_AddItemToArray(msgs, sys);
    cJSON_AddItemToArray(msgs, u);
    if (s->b.chat) return summarise_chat(s, msgs, err, cap);
    int32_t *ids = NULL;
    size_t n = 0;
    bool think = s->o.think;
    s->o.think = false;
    cJSON *tools = s->tools;
    s->tools = cJSON_CreateArray();
    int rc = ag_render_tokens(s, msgs, true, &ids, &n, err, cap);
    cJSON_Delete(s->tools);
    s->tools = tools;
    s->o.think = think;
    cJSON_Delete(msgs);
    if (rc) return NULL;
    if ((int)n + SUMMARY_TOKENS > s->b.n_ctx) {
        snprintf(err, cap, "the part to summarise (%zu tokens) does not fit the context either", n);
        free(ids);
        return NULL;
    }
    sum_state st = {.v = s->vocab, .p = ag_parser_new(NULL, NULL)};
    if (!st.p) { free(ids); snprintf(err, cap, "out of memory"); return NULL; }
    int32_t stops[2] = {ag_vocab_sym_token(s->vocab, AG_SYM_EOS), ag_vocab_sym_token(s->vocab, AG_SYM_TURN_CLOSE)};
    gm_gen_params p = {0};
    p.sampling = s->b.defaults;
    p.sampling.temperature = 0;
    p.max_tokens = SUMMARY_TOKENS;
    p.stop = stops; p.n_stop = 2;
    p.on_token = sum_token; p.ud = &st;
    p.interrupt = s->o.interrupt;
    gm_gen_result res = {0};
    gm_err e = {0};
    rc = s->b.generate(s->b.ud, ids, (int)n, &p, &res, &e);
    free(ids);
    ag_parser_finish(st.p);
    s->st.input_tokens += res.n_prompt;
    s->st.output_tokens += res.n_generated;
    char *sum = rc == 0 ? strdup(ag_parser_text(st.p)) : NULL;
    if (rc) snprintf(err, cap, "the model could not write the summary: %s", e.msg);
    ag_parser_free(st.p);
    return sum;
}

/* Replace older messages by a summary; keep the pinned block and the last messages. */
int ag_compact(ag_session *s, int tokens_before, char *err, size_t cap)
{
    cJSON *msgs = s->messages;
    int n = cJSON_GetArraySize(msgs);
    int goal = -1;
    for (int i = n - 1; i >= 1 && goal < 0; i--) if (!strcmp(role(cJSON_GetArrayItem(msgs, i)), "user")) goal = i;
    /* the verbatim tail starts at a user or assistant message */
    int keep = s->o.keep_last > 0 ? s->o.keep_last : 6;
    int tail = n - keep < 1 ? 1 : n - keep;
    while (tail > 1 && !strcmp(role(cJSON_GetArrayItem(msgs, tail)), "tool")) tail--;
    if (tail <= 1 || (tail <= 2 && goal == 1)) {
        snprintf(err, cap, "nothing left to summarise (only the system message, the goal and the last %d messages)",
                 n - tail);
        return -1;
    }
    char *text = transcript(msgs, 1, tail);
    char *sum = text ? summarise(s, text, err, cap) : NULL;
    free(text);
    if (!sum) return -1;
    char *todo = latest_todo(msgs);
    buf b = {0};
    puts_(&b, "[The context filled up, so gemmash replaced the older messages with this summary, which you wrote.]\n");
    puts_(&b, sum);
    if (goal >= 1 && goal < tail) {
        puts_(&b, "\n\n[The current goal, from the user:]\n");
        puts_(&b, content(cJSON_GetArrayItem(msgs, goal)));
    }
    if (todo) { puts_(&b, "\n\n[Your latest todo list:]\n"); puts_(&b, todo); }
    free(sum); free(todo);
    cJSON *nm = cJSON_CreateArray(), *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "role", "user");
    cJSON_AddStringToObject(u, "content", b.p ? b.p : "");
    free(b.p);
    cJSON_AddItemToArray(nm, cJSON_Duplicate(cJSON_GetArrayItem(msgs, 0), true));
    cJSON_AddItemToArray(nm, u);
    for (int i = tail; i < n; i++) cJSON_AddItemToArray(nm, cJSON_Duplicate(cJSON_GetArrayItem(msgs, i), true));
    s->messages = nm;
    cJSON_Delete(msgs);
    s->st.compactions++;
    ag_store_compaction(s);
    if (s->b.chat) {                  /* a server renders and counts the prompt itself */
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "messages_summarized", tail - 1);
        cJSON_AddNumberToObject(ev, "messages_after", cJSON_GetArraySize(s->messages));
        ag_event(s, "compaction", ev);
        fprintf(stderr, "gemmash: compacted %d older messages into a summary (%d messages now)\n", tail - 1,
                cJSON_GetArraySize(s->messages));
        return 0;
    }
    int32_t *ids = NULL;
    size_t after = 0;
    if (ag_render_tokens(s, s->messages, true, &ids, &after, err, cap) == 0) free(ids);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddNumberToObject(ev, "tokens_before", tokens_before);
    cJSON_AddNumberToObject(ev, "tokens_after", (double)after);
    cJSON_AddNumberToObject(ev, "messages_summarized", tail - 1);
    ag_event(s, "compaction", ev);
    fprintf(stderr, "gemmash: context %d/%d tokens: compacted %d older messages into a summary (%zu tokens now)\n",
            tokens_before, s->b.n_ctx, tail - 1, after);
    return 0;
}
