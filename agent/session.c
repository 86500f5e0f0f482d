/* session.c: a conversation with its model, tools and session file.
 *
 * The conversation is kept as structured messages in the OpenAI chat shape
 * (system, user, assistant with reasoning_content and tool_calls, tool) and
 * rendered to prompt text by the engine's chat format every step; the
 * engine's gm_ctx_sync keeps the common prefix in the KV cache, so a step
 * prefills only what changed.  This file creates and frees sessions, builds
 * the system prompt (built-in or given, plus AGENTS.md), appends messages,
 * and reports the outcome of a run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent_int.h"
#include "commands.h"

static const char default_system[] =
    "You are gemmash, a coding agent working in a terminal, in the folder given below. "
    "Use the tools to inspect and change files and to run commands; every command runs in a sandbox. "
    "Prefer small, verifiable steps: read before you edit, run the tests after a change. "
    "When the task is done, answer briefly with what you did.";

/* Defaults shared by the command line and tests. */
void ag_opts_default(ag_opts *o)
{
    memset(o, 0, sizeof *o);
    o->temperature = -1;
    o->think = true;
    o->max_turns = 100;
    o->compact_at = 0.8;
    o->keep_last = 6;
    o->approval = AG_APPROVE_AUTO_EDIT;
}

/* Read a whole small file; *trunc says whether it was cut at cap bytes. */
static char *read_small(const char *path, size_t cap, bool *trunc)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(cap + 1);
    size_t n = b ? fread(b, 1, cap, f) : 0;
    *trunc = b && n == cap && fgetc(f) != EOF;
    fclose(f);
    if (b) b[n] = 0;
    return b;
}

/* The system message: the prompt, the working folder, AGENTS.md. */
static char *system_text(const ag_opts *o)
{
    if (o->system_full) return strdup(o->system_full);       /* built by prompt.c */
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    bool trunc = false;
    char *agents = read_small("AGENTS.md", 32768, &trunc);
    const char *base = o->system_prompt ? o->system_prompt : default_system;
    size_t n = strlen(base) + strlen(cwd) + (agents ? strlen(agents) : 0) +
               (o->append_system ? strlen(o->append_system) : 0) + 256;
    char *t = malloc(n);
    if (!t) { free(agents); return NULL; }
    int k = snprintf(t, n, "%s\n\nWorking folder: %s", base, cwd);
    if (agents)
        k += snprintf(t + k, n - (size_t)k, "\n\nInstructions from AGENTS.md%s:\n%s",
                      trunc ? " (cut at 32 KiB; read the file for the rest)" : "", agents);
    if (o->append_system) snprintf(t + k, n - (size_t)k, "\n\n%s", o->append_system);
    free(agents);
    return t;
}

/* A session id that sorts by time: YYYYmmdd-HHMMSS-xxxx. */
static void make_id(ag_session *s)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    unsigned r = (unsigned)(getpid() ^ (unsigned)now ^ (unsigned)(ag_now() * 1e6));
    char ts[32];
    strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
    snprintf(s->id, sizeof s->id, "%s-%04x", ts, r & 0xffff);
}

/* Build a session: vocabulary, declarations, grammars, system message, session file. */
ag_session *ag_session_new(const ag_opts *o, ag_backend *b, ag_toolbox *t, char *err, size_t cap)
{
    ag_session *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, cap, "out of memory"); return NULL; }
    s->o = *o;
    if (b) s->b = *b;
    if (t) s->t = *t;
    s->t0 = ag_now();
    make_id(s);
    s->approval.mode = o->approval;
    s->approval.is_mutating = s->t.is_mutating;
    s->approval.ud = s->t.ud;
    s->approval.rules = o->rules;
    s->messages = cJSON_CreateArray();
    s->vocab = s->b.tok ? ag_vocab_from_tok(s->b.tok) : NULL;
    if (!s->messages || (!s->vocab && !s->b.chat)) {
        snprintf(err, cap, s->b.tok ? "out of memory building the vocabulary trie" : "the model has no tokenizer");
        ag_session_free(s);
        return NULL;
    }
    s->tools = s->t.declarations ? s->t.declarations(s->t.ud) : cJSON_CreateArray();
    if (!s->tools) { snprintf(err, cap, "the tools gave no declarations"); ag_session_free(s); return NULL; }
    if (cJSON_GetArraySize(s->tools) > 0) {
        const char *only = o->tool_choice == AG_TC_NAME ? o->tool_choice_name : NULL;
        s->call_g = ag_grammar_toolcall(s->tools, only, err, cap);
        if (!s->call_g) { ag_session_free(s); return NULL; }
        ag_grammar_limit_strings(s->call_g, o->max_arg_bytes);
    } else if (o->tool_choice == AG_TC_REQUIRED || o->tool_choice == AG_TC_NAME) {
        snprintf(err, cap, "--tool-choice %s needs tools, and none are declared",
                 o->tool_choice_name ? o->tool_choice_name : "required");
        ag_session_free(s);
        return NULL;
    }
    if (o->output_schema && !(s->json_g = ag_grammar_json(o->output_schema, err, cap))) {
        ag_session_free(s);
        return NULL;
    }
    if (s->json_g) ag_grammar_limit_strings(s->json_g, o->max_arg_bytes);
    char *sys = system_text(o);
    cJSON *m = cJSON_CreateObject();
    if (!sys || !m) { free(sys); cJSON_Delete(m); snprintf(err, cap, "out of memory"); ag_session_free(s); return NULL; }
    cJSON_AddStringToObject(m, "role", "system");
    cJSON_AddStringToObject(m, "content", sys);
    free(sys);
    cJSON_AddItemToArray(s->messages, m);
    if (ag_store_open(s, err, cap)) { ag_session_free(s); return NULL; }
    ag_store_message(s, m);
    return s;
}

/* Close the backend, the tools and the session file. */
void ag_session_free(ag_session *s)
{
    if (!s) return;
    if (s->store) fclose(s->store);
    if (s->b.close) s->b.close(s->b.ud);
    if (s->t.close) s->t.close(s->t.ud);
    ag_vocab_free(s->vocab);
    ag_grammar_free(s->call_g);
    ag_grammar_free(s->json_g);
    cJSON_Delete(s->tools);
    cJSON_Delete(s->messages);
    cJSON_Delete(s->replay_results);
    free(s->st.prefill);
    free(s->st.prompt);
    free(s->answer);
    free(s);
}

/* Resume: the file's messages replace the conversation, recorded in the new file. */
int ag_session_load(ag_session *s, const char *path, char *err, size_t cap)
{
    cJSON *msgs = ag_store_read(path, NULL, err, cap);
    if (!msgs) return -1;
    if (cJSON_GetArraySize(msgs) == 0) {
        cJSON_Delete(msgs);
        snprintf(err, cap, "%s holds no messages to resume", path);
        return -1;
    }
    cJSON_Delete(s->messages);
    s->messages = msgs;
    ag_store_compaction(s);       /* the new file starts from the loaded list */
    return 0;
}

/* Append a message to the conversation and the session file. */
int ag_session_add(ag_session *s, cJSON *msg)
{
    if (!msg) return -1;
    cJSON_AddItemToArray(s->messages, msg);
    ag_store_message(s, msg);
    return 0;
}

/* The exact prompt tokens for messages: chat format, then the tokenizer. */
int ag_render_tokens(ag_session *s, const cJSON *msgs, bool gen_prompt, int32_t **ids, size_t *n,
                     char *err, size_t cap)
{
    gm_err e = {0};
    gm_chat_opts co = {.think = s->o.think, .add_generation_prompt = gen_prompt, .family = s->b.family};
    char *text = gm_chat_render(msgs, cJSON_GetArraySize(s->tools) ? s->tools : NULL, &co, &e);
    if (!text) { snprintf(err, cap, "rendering the conversation failed: %s", e.msg); return -1; }
    int rc = gm_tok_encode(s->b.tok, text, strlen(text), true, ids, n, &e);
    free(text);
    if (rc) { snprintf(err, cap, "tokenizing the prompt failed: %s", e.msg); return -1; }
    return 0;
}

/* Record one step's prompt size and how much of it was prefilled. */
void ag_stats_prefill(ag_session *s, int prompt, int n)
{
    ag_stats *st = &s->st;
    if (st->n_prefill == st->cap_prefill) {
        int c = st->cap_prefill ? st->cap_prefill * 2 : 16;
        int *q = realloc(st->prefill, (size_t)c * sizeof *q);
        if (!q) return;
        st->prefill = q;
        q = realloc(st->prompt, (size_t)c * sizeof *q);
        if (!q) return;
        st->prompt = q;
        st->cap_prefill = c;
    }
    st->prompt[st->n_prefill] = prompt;
    st->prefill[st->n_prefill++] = n;
    st->input_tokens += n;
}

const char     *ag_session_answer(const ag_session *s)   { return s->answer ? s->answer : ""; }
const char     *ag_session_id(const ag_session *s)       { return s->id; }
const char     *ag_session_path(const ag_session *s)     { return s->path; }
const cJSON    *ag_session_messages(const ag_session *s) { return s->messages; }
const ag_stats *ag_session_stats(const ag_session *s)    { return &s->st; }

/* The word for a status in the result event. */
static const char *status_name(int status)
{
    switch (status) {
    case GM_EXIT_OK: return "done";
    case GM_EXIT_USAGE: return "usage_error";
    case GM_EXIT_MODEL: return "model_error";
    case GM_EXIT_APPROVAL: return "approval_needed";
    case GM_EXIT_LIMIT: return "limit";
    case GM_EXIT_CONTEXT: return "context_exhausted";
    case GM_EXIT_SANDBOX: return "sandbox_unavailable";
    case GM_EXIT_INTERRUPTED: return "interrupted";
    default: return "error";
    }
}

/* The end of a headless run: text answer, JSON document or result event. */
void ag_session_report(ag_session *s, int status)
{
    s->st.duration_s = ag_now() - s->t0;
    const char *msg = s->errmsg[0] ? s->errmsg : s->stop_msg;
    if (status != GM_EXIT_OK && msg) fprintf(stderr, "gemmash: %s\n", msg);
    if (s->o.output == AG_OUT_FMT_TEXT) {
        if (s->answer && *s->answer) { fputs(s->answer, stdout); fputc('\n', stdout); fflush(stdout); }
        return;
    }
    cJSON *r = cJSON_CreateObject();
    if (!r) return;
    cJSON_AddStringToObject(r, "status", status_name(status));
    cJSON_AddNumberToObject(r, "exit_code", status);
    cJSON_AddStringToObject(r, "answer", ag_session_answer(s));
    if (status != GM_EXIT_OK && msg) cJSON_AddStringToObject(r, "message", msg);
    cJSON_AddNumberToObject(r, "turns", s->st.turns);
    cJSON_AddNumberToObject(r, "input_tokens", (double)s->st.input_tokens);
    cJSON_AddNumberToObject(r, "output_tokens", (double)s->st.output_tokens);
    cJSON_AddNumberToObject(r, "tool_calls", s->st.tool_calls);
    cJSON_AddNumberToObject(r, "denials", s->st.denials);
    cJSON_AddNumberToObject(r, "compactions", s->st.compactions);
    cJSON_AddNumberToObject(r, "duration_s", s->st.duration_s);
    cJSON *pf = cJSON_CreateArray();
    for (int i = 0; pf && i < s->st.n_prefill; i++) cJSON_AddItemToArray(pf, cJSON_CreateNumber(s->st.prefill[i]));
    cJSON_AddItemToObject(r, "prefill_tokens", pf);
    cJSON *pt = cJSON_CreateArray();
    for (int i = 0; pt && i < s->st.n_prefill; i++) cJSON_AddItemToArray(pt, cJSON_CreateNumber(s->st.prompt[i]));
    cJSON_AddItemToObject(r, "prompt_tokens", pt);
    if (s->path[0]) cJSON_AddStringToObject(r, "session_file", s->path);
    if (s->o.output == AG_OUT_FMT_JSONL) { ag_event(s, "result", r); return; }
    cJSON_AddStringToObject(r, "session_id", s->id);
    char *t = cJSON_Print(r);
    cJSON_Delete(r);
    if (t) { fputs(t, stdout); fputc('\n', stdout); fflush(stdout); free(t); }
}
