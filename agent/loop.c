/* loop.c: one user turn, from the user's message to the final answer.
 *
 * Each step renders the conversation, checks it against the context (and
 * compacts when it passes the threshold), lets the model generate under the
 * decoding constraints (decode.c), and reads its output (parse.c).  Tool
 * calls are checked (syntax, schema, approval), run, and answered with a
 * tool message; then the model continues.  The loop stops at a final answer
 * or at a limit, and always says why: turn and time limits, a full context,
 * a denied call in a headless run, a sandbox that cannot be applied, a
 * model that repeats the same call, an interrupt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent_int.h"
#include "commands.h"

#define LOOP_WARN 3
#define LOOP_STOP 5
#define TOOL_OUTPUT_CAP 32768
#define MIN_ROOM 16              /* tokens a step needs beyond its prompt */

typedef struct step {
    ag_session *s;
    ag_decoder  d;
    bool        dim_open;
    bool        timed_out;
    bool        tty;        /* stdout is a terminal: controls shown, not obeyed */
} step;

/* Streaming display for interactive use: thoughts dimmed, text plain.  On
 * a terminal the model's control characters are shown (ag_put_safe), so
 * text it copied from a hostile file cannot drive the terminal; a pipe
 * gets the bytes as they are. */
static void show(void *ud, int kind, const char *t, size_t n)
{
    step *k = ud;
    bool dim = kind == AG_OUT_THOUGHT && k->s->o.color;
    if (dim != k->dim_open) { fputs(dim ? "\033[2m" : "\033[0m", stdout); k->dim_open = dim; }
    if (k->tty) ag_put_safe(stdout, t, n);
    else fwrite(t, 1, n, stdout);
    fflush(stdout);
}

/* gm_generate's token callback: follow the token, enforce --timeout. */
static int on_token(void *ud, int32_t tok, const char *text, size_t len)
{
    (void)text; (void)len;
    step *k = ud;
    ag_decoder_token(&k->d, tok);
    if (k->s->o.timeout_s > 0 && ag_now() - k->s->task_t0 > k->s->o.timeout_s) { k->timed_out = true; return 1; }
    return 0;
}

/* gm_generate's mask hook. */
static int on_mask(void *ud, uint32_t *allow, int vocab)
{
    step *k = ud;
    return ag_decoder_mask(&k->d, allow, vocab);
}

/* Keep a huge tool response readable: head and tail, with a note. */
static char *capped(char *t)
{
    size_t n = strlen(t);
    if (n <= TOOL_OUTPUT_CAP) return t;
    size_t half = TOOL_OUTPUT_CAP / 2;
    char *o = malloc(TOOL_OUTPUT_CAP + 128);
    if (!o) return t;
    int k = snprintf(o, 128, "%.*s", (int)half, t);
    k += snprintf(o + k, 128, "\n[... %zu bytes omitted by gemmash ...]\n", n - 2 * half);
    memcpy(o + k, t + n - half, half + 1);
    free(t);
    return o;
}

/* A list of the declared tool names, for "no such tool" messages. */
static void tool_names(const ag_session *s, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, s->tools) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f ? f : t, "name");
        if (cJSON_IsString(nm) && k < cap)
            k += (size_t)snprintf(out + k, cap - k, "%s%s", k ? ", " : "", nm->valuestring);
    }
}

/* A tool response that carries an error message for the model. */
static cJSON *error_obj(const char *fmt, const char *a, const char *b)
{
    char msg[2048];
    snprintf(msg, sizeof msg, fmt, a, b ? b : "");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return o;
}

/* Decide and run one call; returns the response value. */
static cJSON *run_call(ag_session *s, const char *id, const char *name, const cJSON *args,
                       const char *perr, bool *ok)
{
    char why[1024];
    *ok = false;
    if (perr)
        return error_obj("your tool call could not be read: %s. Write the whole call again as "
                         "<|tool_call>call:NAME{key:value,...}<tool_call|> with strings in <|\"|>.", perr, NULL);
    const cJSON *params = ag_tool_params(s->tools, name);
    bool known = false;
    const cJSON *t;
    cJSON_ArrayForEach(t, s->tools) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f ? f : t, "name");
        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, name)) known = true;
    }
    if (!known) {
        tool_names(s, why, sizeof why);
        return error_obj("there is no tool named '%s'; the tools are: %s", name, why);
    }
    if (params && ag_schema_validate(params, args, why, sizeof why))
        return error_obj("invalid arguments for '%s': %s. Fix them and call again.", name, why);
    if (s->replay_results) {             /* replay: the recorded response */
        cJSON *r = cJSON_GetArrayItem(s->replay_results, s->replay_next++);
        *ok = true;
        return r ? cJSON_Duplicate(r, true) : error_obj("replay: no recorded result for call '%s'", name, NULL);
    }
    ag_verdict v = ag_approval_check(&s->approval, name, args, why, sizeof why);
    if (v == AG_ASK && !s->o.headless && s->o.ask) {
        v = s->o.ask(s->o.ask_ud, name, args, why) == 1 ? AG_ALLOW : AG_DENY;
        if (v == AG_DENY) {                /* the user said no: their reason goes to the model */
            const char *rs = s->o.ask_reason ? s->o.ask_reason(s->o.ask_ud) : NULL;
            snprintf(why, sizeof why, "the user declined this call%s%.900s", rs && *rs ? "; their reason: " : "",
                     rs && *rs ? rs : "");
        }
    }
    if (v != AG_ALLOW) {
        s->denied = true;
        s->st.denials++;
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "id", id);
        cJSON_AddStringToObject(ev, "name", name);
        cJSON_AddItemToObject(ev, "arguments", cJSON_Duplicate(args, true));
        cJSON_AddStringToObject(ev, "reason", why);
        ag_event(s, "denial", ev);
        fprintf(stderr, "gemmash: denied %s: %s\n", name, why);
        return error_obj("denied: %s.%s Do not retry this call; finish without it or explain what is needed.",
                         why, s->o.headless ? " Nobody can approve it in this headless run." : "");
    }
    if (!s->t.call) return error_obj("no tool runner is available for '%s'", name, NULL);
    bool failed = false, fence = false;
    cJSON *r = s->t.call(s->t.ud, name, args, &failed, &fence);
    if (fence) s->fence_failed = true;
    *ok = r && !failed;
    return r ? r : error_obj("the tool '%s' returned nothing", name, NULL);
}

/* All calls of one model step: tool_calls on the assistant message, then one
 * tool message each.  Returns a status, or -1 to go on. */
static int handle_calls(ag_session *s, cJSON *amsg, const cJSON *calls)
{
    cJSON *tcs = cJSON_AddArrayToObject(amsg, "tool_calls");
    cJSON *resp = cJSON_CreateArray();
    int k = 0, status = -1;
    const cJSON *c;
    cJSON_ArrayForEach(c, calls) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
        const cJSON *perr = cJSON_GetObjectItemCaseSensitive(c, "error");
        const char *name = cJSON_IsString(nm) ? nm->valuestring : "unknown";
        char id[48];
        snprintf(id, sizeof id, "call_%d_%d", s->st.turns, k++);
        cJSON *tc = cJSON_CreateObject(), *fn = cJSON_CreateObject();
        cJSON_AddStringToObject(tc, "id", id);
        cJSON_AddStringToObject(tc, "type", "function");
        cJSON_AddStringToObject(fn, "name", name);
        if (args) cJSON_AddItemToObject(fn, "arguments", cJSON_Duplicate(args, true));
        else cJSON_AddStringToObject(fn, "arguments", cJSON_GetStringValue(cJSON_GetObjectItem(c, "raw")) ?
                                     cJSON_GetStringValue(cJSON_GetObjectItem(c, "raw")) : "");
        cJSON_AddItemToObject(tc, "function", fn);
        cJSON_AddItemToArray(tcs, tc);
        s->st.tool_calls++;
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "id", id);
        cJSON_AddStringToObject(ev, "name", name);
        cJSON_AddItemToObject(ev, "arguments", args ? cJSON_Duplicate(args, true) : cJSON_CreateNull());
        if (perr) cJSON_AddStringToObject(ev, "parse_error", perr->valuestring);
        ag_event(s, "tool_call", ev);

        bool ok;
        cJSON *r = run_call(s, id, name, args, perr ? perr->valuestring : NULL, &ok);
        /* loop guard: the same call with the same arguments, again and again */
        char *sig = args ? cJSON_PrintUnformatted(args) : NULL;
        char key[2048];
        snprintf(key, sizeof key, "%s:%s", name, sig ? sig : "(unreadable)");
        free(sig);
        s->same_calls = strcmp(key, s->last_call) == 0 ? s->same_calls + 1 : 1;
        snprintf(s->last_call, sizeof s->last_call, "%s", key);
        if (s->same_calls >= LOOP_WARN && cJSON_IsObject(r)) {
            char w[256];
            snprintf(w, sizeof w, "You have made this exact call %d times in a row and get the same result: "
                     "you are looping. Change your approach or give your final answer.", s->same_calls);
            cJSON_AddStringToObject(r, "warning", w);
        }
        cJSON *ev2 = cJSON_CreateObject();
        cJSON_AddStringToObject(ev2, "id", id);
        cJSON_AddStringToObject(ev2, "name", name);
        cJSON_AddBoolToObject(ev2, "ok", ok);
        cJSON_AddItemToObject(ev2, "result", cJSON_Duplicate(r, true));
        ag_event(s, "tool_result", ev2);
        char *txt = cJSON_PrintUnformatted(r);
        cJSON_Delete(r);
        cJSON *tm = cJSON_CreateObject();
        cJSON_AddStringToObject(tm, "role", "tool");
        cJSON_AddStringToObject(tm, "tool_call_id", id);
        cJSON_AddStringToObject(tm, "name", name);
        txt = txt ? capped(txt) : NULL;
        cJSON_AddStringToObject(tm, "content", txt ? txt : "{}");
        free(txt);
        cJSON_AddItemToArray(resp, tm);
        if (s->fence_failed && status < 0) {
            status = GM_EXIT_SANDBOX;
            snprintf(s->errmsg, sizeof s->errmsg, "the sandbox could not be applied for '%s'; nothing ran. "
                     "Run 'gemmash sandbox doctor' to see what the kernel offers", name);
        }
        if (s->same_calls >= LOOP_STOP && status < 0) {
            status = GM_EXIT_LIMIT;
            snprintf(s->errmsg, sizeof s->errmsg, "stopped: the model made the same call to '%s' with the same "
                     "arguments %d times in a row (a loop)", name, s->same_calls);
        }
    }
    ag_session_add(s, amsg);
    cJSON *m;
    while ((m = cJSON_DetachItemFromArray(resp, 0))) ag_session_add(s, m);
    cJSON_Delete(resp);
    return status;
}

/* Render and fit the prompt into the context, compacting if needed. */
static int prepare(ag_session *s, int32_t **ids, size_t *n)
{
    char err[1024];
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ag_render_tokens(s, s->messages, true, ids, n, err, sizeof err)) {
            snprintf(s->errmsg, sizeof s->errmsg, "%s", err);
            return GM_EXIT_INTERNAL;
        }
        int limit = s->b.n_ctx;
        bool over = (double)*n >= s->o.compact_at * limit || (int)*n + MIN_ROOM > limit;
        if (!over) return -1;
        if (attempt == 0 && ag_compact(s, (int)*n, err, sizeof err) == 0) { free(*ids); *ids = NULL; continue; }
        if ((int)*n + MIN_ROOM <= limit) return -1;    /* above the threshold but still fits */
        snprintf(s->errmsg, sizeof s->errmsg, "context exhausted: the conversation needs %zu tokens and the "
                 "context holds %d (--ctx)%s%s", *n, limit, attempt ? "" : "; compaction was not possible: ",
                 attempt ? "" : err);
        free(*ids); *ids = NULL;
        return GM_EXIT_CONTEXT;
    }
    return GM_EXIT_CONTEXT;
}

/* The server's tool calls in the parser's shape ({name, arguments} or
 * {name, error, raw}), so handle_calls treats them like the engine's. */
static cJSON *wire_calls(const cJSON *tcs)
{
    cJSON *calls = cJSON_CreateArray();
    const cJSON *tc;
    cJSON_ArrayForEach(tc, tcs) {
        const cJSON *fn = cJSON_GetObjectItem(tc, "function");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(fn, "name"));
        const char *raw = cJSON_GetStringValue(cJSON_GetObjectItem(fn, "arguments"));
        cJSON *c = cJSON_CreateObject(), *args = cJSON_Parse(raw && *raw ? raw : "{}");
        cJSON_AddStringToObject(c, "name", name ? name : "unknown");
        if (cJSON_IsObject(args)) cJSON_AddItemToObject(c, "arguments", args);
        else {
            cJSON_Delete(args);
            cJSON_AddStringToObject(c, "error", "the arguments are not a JSON object; send them as one JSON object");
            cJSON_AddStringToObject(c, "raw", raw ? raw : "");
        }
        cJSON_AddItemToArray(calls, c);
    }
    return calls;
}

/* The model's reply as events (thinking, message) and as the assistant
 * message for the history; shared by the local and the remote step. */
static cJSON *reply_message(ag_session *s, const char *thought, const char *text, bool budget_reached)
{
    if (*thought) {
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "text", thought);
        if (budget_reached) cJSON_AddBoolToObject(ev, "budget_reached", true);
        ag_event(s, "thinking", ev);
    }
    cJSON *amsg = cJSON_CreateObject();
    cJSON_AddStringToObject(amsg, "role", "assistant");
    cJSON_AddStringToObject(amsg, "content", text);
    if (*thought) cJSON_AddStringToObject(amsg, "reasoning_content", thought);
    if (*text) {
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "role", "assistant");
        cJSON_AddStringToObject(ev, "text", text);
        ag_event(s, "message", ev);
    }
    return amsg;
}

/* One model step on a message-level backend (a remote server): it gets the
 * conversation and the tools as they are and returns the assistant message
 * with its tool calls; the calls run here, as the engine's do. */
static int chat_step(ag_session *s)
{
    step k = {.s = s, .tty = isatty(STDOUT_FILENO) == 1};
    static const char *const choice[] = {[AG_TC_AUTO] = NULL, [AG_TC_REQUIRED] = "required", [AG_TC_NONE] = "none"};
    ag_chat_in in = {.temperature = s->o.temperature, .max_tokens = s->o.max_gen_tokens,
                     .tool_choice = s->o.tool_choice == AG_TC_NAME ? s->o.tool_choice_name : choice[s->o.tool_choice],
                     .show = s->o.stream ? show : NULL, .show_ud = &k, .interrupt = s->o.interrupt,
                     .output_schema = s->o.output_schema, .think = s->o.think};
    if (s->o.timeout_s > 0) {
        double left = s->o.timeout_s - (ag_now() - s->t0);
        in.timeout_s = left > 0.5 ? left : 0.5;
    }
    ag_chat_out out = {.prompt_tokens = -1, .completion_tokens = -1};
    char err[1600];
    int rc = s->b.chat(s->b.ud, s->messages, s->o.tool_choice == AG_TC_NONE ? NULL : s->tools, &in, &out, err, sizeof err);
    if (k.dim_open) fputs("\033[0m", stdout);
    if (s->o.stream) { fputc('\n', stdout); fflush(stdout); }
    s->st.turns++;
    int pt = out.prompt_tokens > 0 ? (int)out.prompt_tokens : 0;
    ag_stats_prefill(s, pt, pt);            /* a server reports no cache reuse: count all as prefilled */
    if (out.completion_tokens > 0) s->st.output_tokens += out.completion_tokens;
    if (out.interrupted) { s->stop_msg = "interrupted"; return GM_EXIT_INTERRUPTED; }
    if (rc || !out.message) {
        cJSON_Delete(out.message);
        snprintf(s->errmsg, sizeof s->errmsg, "the model server failed: %.1900s", rc ? err : "no message");
        return GM_EXIT_MODEL;
    }
    char *text = ag_utf8_sanitize(cJSON_GetStringValue(cJSON_GetObjectItem(out.message, "content")) ?
                                  cJSON_GetStringValue(cJSON_GetObjectItem(out.message, "content")) : "");
    char *thought = ag_utf8_sanitize(cJSON_GetStringValue(cJSON_GetObjectItem(out.message, "reasoning_content")) ?
                                     cJSON_GetStringValue(cJSON_GetObjectItem(out.message, "reasoning_content")) : "");
    cJSON *calls = wire_calls(cJSON_GetObjectItem(out.message, "tool_calls"));
    cJSON_Delete(out.message);
    if (!text || !thought || !calls) {
        free(text); free(thought); cJSON_Delete(calls);
        snprintf(s->errmsg, sizeof s->errmsg, "out of memory reading the server's reply");
        return GM_EXIT_INTERNAL;
    }
    cJSON *amsg = reply_message(s, thought, text, false);
    int status = -1;
    char why[1024] = "";
    cJSON *answer = s->o.output_schema && cJSON_GetArraySize(calls) == 0 ? cJSON_Parse(text) : NULL;
    if (s->o.output_schema && cJSON_GetArraySize(calls) == 0 &&
        (!answer ? snprintf(why, sizeof why, "it is not JSON") > 0 : ag_schema_validate(s->o.output_schema, answer, why, sizeof why) != 0)) {
        ag_session_add(s, amsg);
        snprintf(s->errmsg, sizeof s->errmsg, "the server's answer does not match --output-schema: %s (the server "
                 "may not support response_format json_schema)", why);
        status = GM_EXIT_MODEL;
    } else if (cJSON_GetArraySize(calls) > 0) status = handle_calls(s, amsg, calls);
    else {
        ag_session_add(s, amsg);
        free(s->answer);
        s->answer = strdup(text);
        status = GM_EXIT_OK;
    }
    cJSON_Delete(answer);
    cJSON_Delete(calls);
    free(text);
    free(thought);
    return status;
}

/* One model step: generate, read the output, record the assistant message
 * and run its calls.  Returns a status, or -1 to continue the loop. */
static int model_step(ag_session *s, bool first)
{
    if (s->b.chat) return chat_step(s);
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = prepare(s, &ids, &n);
    if (rc >= 0) return rc;
    step k = {.s = s, .tty = isatty(STDOUT_FILENO) == 1};
    if (ag_decoder_init(&k.d, s, first, s->o.stream ? show : NULL, &k)) {
        free(ids); ag_decoder_free(&k.d);
        snprintf(s->errmsg, sizeof s->errmsg, "out of memory starting a model step");
        return GM_EXIT_INTERNAL;
    }
    int32_t stops[3] = {ag_vocab_sym_token(s->vocab, AG_SYM_EOS), ag_vocab_sym_token(s->vocab, AG_SYM_TURN_CLOSE),
                        ag_vocab_sym_token(s->vocab, AG_SYM_RESP_OPEN)};
    gm_gen_params p = {0};
    p.sampling = s->b.defaults;
    if (s->o.temperature >= 0) p.sampling.temperature = s->o.temperature;
    p.sampling.seed = s->o.seed + (uint64_t)s->st.turns;
    int room = s->b.n_ctx - (int)n;
    p.max_tokens = s->o.max_gen_tokens > 0 && s->o.max_gen_tokens < room ? s->o.max_gen_tokens : room;
    p.stop = stops; p.n_stop = 3;
    p.on_token = on_token; p.mask = on_mask; p.ud = &k;
    p.interrupt = s->o.interrupt;
    gm_gen_result res = {0};
    gm_err e = {0};
    rc = s->b.generate(s->b.ud, ids, (int)n, &p, &res, &e);
    free(ids);
    if (k.dim_open) fputs("\033[0m", stdout);
    if (s->o.stream) { fputc('\n', stdout); fflush(stdout); }
    s->st.turns++;
    ag_stats_prefill(s, (int)n, res.n_prompt);
    s->st.output_tokens += res.n_generated;
    ag_parser_finish(k.d.parser);
    /* an interrupt during prefill comes back as rc -1 with reason INTERRUPT: not a model failure */
    if ((rc < 0 && res.reason != GM_STOP_INTERRUPT) || res.reason == GM_STOP_ERROR) {
        snprintf(s->errmsg, sizeof s->errmsg, "the model failed: %.1100s", e.msg[0] ? e.msg : "generation error");
        ag_decoder_free(&k.d);
        return GM_EXIT_MODEL;
    }
    char *thought_s = ag_utf8_sanitize(ag_parser_thought(k.d.parser));
    char *text_s = ag_utf8_sanitize(ag_parser_text(k.d.parser));
    const char *thought = thought_s ? thought_s : "", *text = text_s ? text_s : "";
    cJSON *amsg = reply_message(s, thought, text, k.d.budget_closed);
    const cJSON *calls = ag_parser_calls(k.d.parser);
    int status = -1;
    if (res.reason == GM_STOP_INTERRUPT) {
        ag_session_add(s, amsg);         /* keep the partial answer in context */
        s->stop_msg = "interrupted";
        status = GM_EXIT_INTERRUPTED;
    } else if (k.timed_out) {
        ag_session_add(s, amsg);
        snprintf(s->errmsg, sizeof s->errmsg, "stopped: the run took longer than --timeout %g s", s->o.timeout_s);
        status = GM_EXIT_LIMIT;
    } else if (cJSON_GetArraySize(calls) > 0) {
        status = handle_calls(s, amsg, calls);
    } else if (res.reason == GM_STOP_CONTEXT) {
        cJSON_Delete(amsg);
        snprintf(s->errmsg, sizeof s->errmsg, "context exhausted while the model was answering (%d tokens, --ctx %d)",
                 s->b.n_ctx, s->b.n_ctx);
        status = GM_EXIT_CONTEXT;
    } else {
        ag_session_add(s, amsg);
        free(s->answer);
        s->answer = strdup(text);
        status = GM_EXIT_OK;
    }
    ag_decoder_free(&k.d);
    free(thought_s);
    free(text_s);
    return status;
}

/* The steps of one turn, until a status. */
static int run_steps(ag_session *s)
{
    int max_turns = s->o.max_turns > 0 ? s->o.max_turns : 100;
    for (bool first = true;; first = false) {
        if (s->o.interrupt && *s->o.interrupt) { s->stop_msg = "interrupted"; return GM_EXIT_INTERRUPTED; }
        if (s->st.turns - s->task_turns0 >= max_turns) {
            snprintf(s->errmsg, sizeof s->errmsg, "stopped after %d model turns (--max-turns %d) without a final answer",
                     s->st.turns - s->task_turns0, max_turns);
            return GM_EXIT_LIMIT;
        }
        if (s->o.timeout_s > 0 && ag_now() - s->task_t0 > s->o.timeout_s) {
            snprintf(s->errmsg, sizeof s->errmsg, "stopped: the run took longer than --timeout %g s", s->o.timeout_s);
            return GM_EXIT_LIMIT;
        }
        int st = model_step(s, first);
        if (st >= 0) return st;
    }
}

/* One user message until a final answer or a limit; see run_steps. */
int ag_session_turn(ag_session *s, const char *user_text)
{
    s->task_turns0 = s->st.turns;          /* limits count per task, also in the interactive shell */
    s->task_t0 = ag_now();
    free(s->answer);
    s->answer = NULL;
    s->errmsg[0] = 0;
    s->stop_msg = NULL;
    cJSON *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "role", "user");
    cJSON_AddStringToObject(u, "content", user_text);
    if (ag_session_add(s, u)) { snprintf(s->errmsg, sizeof s->errmsg, "out of memory"); return GM_EXIT_INTERNAL; }
    int st = run_steps(s);
    /* headless: a denied call means the task needed a human; say so */
    if ((st == GM_EXIT_OK || st == GM_EXIT_LIMIT) && s->denied && s->o.headless) {
        char was[sizeof s->errmsg];
        snprintf(was, sizeof was, "%s", s->errmsg);
        snprintf(s->errmsg, sizeof s->errmsg, "a tool call needed approval and was denied (headless run; pass "
                 "--approval auto-edit or never to allow more)%s%.1500s", was[0] ? "; also: " : "", was);
        return GM_EXIT_APPROVAL;
    }
    return st;
}
