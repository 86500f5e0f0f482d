/* backend_remote.c: a chat-completions server (remote.h) as the agent's
 * model backend.
 *
 * The engine backend works on tokens (the loop renders the prompt and
 * parses Gemma's tool-call syntax); a server works on messages: it renders
 * its own prompt and returns tool calls as JSON.  So this backend sets
 * ag_backend.chat, and the loop sends the conversation and the tool
 * declarations as they are, then runs the returned calls here, in the
 * sandbox, exactly as it runs the engine's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "remote.h"

typedef struct rbe {
    char endpoint[1024], model[256], name[1400];
    char *key;
    double stall_s, retry_wait;   /* GEMMASH_REMOTE_STALL_S, GEMMASH_REMOTE_RETRY_WAIT; 0: remote.h defaults */
} rbe;

/* The conversation in the shape servers accept: tool-call arguments as
 * JSON strings (the session keeps them as objects). */
static cJSON *wire_messages(const cJSON *msgs)
{
    cJSON *out = cJSON_Duplicate(msgs, true);
    const cJSON *m;
    cJSON_ArrayForEach(m, out) {
        cJSON *tc;
        cJSON_ArrayForEach(tc, cJSON_GetObjectItem(m, "tool_calls")) {
            cJSON *fn = cJSON_GetObjectItem(tc, "function");
            cJSON *a = cJSON_GetObjectItem(fn, "arguments");
            if (a && !cJSON_IsString(a)) {
                char *s = cJSON_PrintUnformatted(a);
                cJSON_ReplaceItemInObject(fn, "arguments", cJSON_CreateString(s ? s : "{}"));
                free(s);
            }
        }
    }
    return out;
}

typedef struct shower { void (*show)(void *, int, const char *, size_t); void *ud; } shower;
static void on_content(void *ud, const char *s, size_t n) { shower *w = ud; if (w->show) w->show(w->ud, AG_OUT_TEXT, s, n); }
static void on_reasoning(void *ud, const char *s, size_t n) { shower *w = ud; if (w->show) w->show(w->ud, AG_OUT_THOUGHT, s, n); }

static int rbe_chat(void *ud, const cJSON *messages, const cJSON *tools, const ag_chat_in *in, ag_chat_out *out,
                    char *err, size_t cap)
{
    rbe *r = ud;
    rm_params p = {.endpoint = r->endpoint, .api_key = r->key, .model = r->model[0] ? r->model : NULL,
                   .temperature = in->temperature, .max_tokens = in->max_tokens, .tool_choice = in->tool_choice,
                   .timeout_s = in->timeout_s, .retries = -1, .interrupt = in->interrupt,
                   .stall_s = r->stall_s, .retry_wait = r->retry_wait, .response_schema = in->output_schema,
                   .think = in->think ? 1 : 0};
    shower w = {in->show, in->show_ud};
    rm_sink sink = {&w, on_content, on_reasoning};
    cJSON *wm = wire_messages(messages);
    rm_result res;
    int rc = wm ? rm_chat(&p, wm, tools, &sink, &res, err, cap) : RM_E_NOMEM;
    cJSON_Delete(wm);
    memset(out, 0, sizeof *out);
    if (rc == RM_E_INTERRUPTED) { out->interrupted = true; return 0; }
    if (rc != RM_OK) return -1;
    out->message = res.message;
    out->prompt_tokens = res.prompt_tokens;
    out->completion_tokens = res.completion_tokens;
    out->length_cut = strcmp(res.finish_reason, "length") == 0;
    return 0;
}

static void rbe_close(void *ud)
{
    rbe *r = ud;
    free(r->key);
    free(r);
}

int ag_backend_open_remote(ag_backend *b, const char *endpoint, const char *key_env, const char *model,
                           char *err, size_t cap)
{
    memset(b, 0, sizeof *b);
    if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) {
        snprintf(err, cap, "--endpoint wants an http:// or https:// URL (e.g. http://gpu-node:8000/v1), got '%s'",
                 endpoint);
        return -1;
    }
    const char *key = NULL;
    if (key_env) {
        key = getenv(key_env);
        if (!key || !*key) {
            snprintf(err, cap, "--api-key-env %s: that environment variable is not set or empty; export %s=KEY",
                     key_env, key_env);
            return -1;
        }
    }
    rbe *r = calloc(1, sizeof *r);
    if (!r || (key && !(r->key = strdup(key)))) { free(r); snprintf(err, cap, "out of memory"); return -1; }
    snprintf(r->endpoint, sizeof r->endpoint, "%s", endpoint);
    const char *st = getenv("GEMMASH_REMOTE_STALL_S"), *rw = getenv("GEMMASH_REMOTE_RETRY_WAIT");
    r->stall_s = st ? atof(st) : 0;
    r->retry_wait = rw ? atof(rw) : 0;
    snprintf(r->model, sizeof r->model, "%s", model ? model : "");
    snprintf(r->name, sizeof r->name, "%s%s%s", r->model[0] ? r->model : "remote", " @ ", endpoint);
    b->ud = r;
    b->name = r->name;
    b->n_ctx = 0;
    b->defaults.temperature = -1;
    b->chat = rbe_chat;
    b->close = rbe_close;
    return 0;
}
