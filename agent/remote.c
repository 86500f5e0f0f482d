/* remote.c: the chat-completions client of remote.h.
 *
 * The reply is read as Server-Sent Events: lines "data: {json}" separated
 * by blank lines, ending with "data: [DONE]".  Each chunk carries
 * choices[0].delta with content, reasoning_content (vLLM, SGLang) or
 * reasoning (Ollama, newer vLLM), and tool_calls fragments: the first
 * fragment of a call has its index, id and function name, later ones add
 * pieces of the arguments string under the same index.  A server that
 * ignores "stream" and answers one JSON document is read too. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "remote.h"

#define RM_MAX_CALLS 64

/* A growable string; oom sticks once an allocation failed. */
typedef struct rbuf { char *s; size_t n, cap; bool oom; } rbuf;

static void rb_add(rbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) { b->oom = true; return; }
        b->s = ns; b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

/* One tool call being assembled from its fragments. */
typedef struct rcall { rbuf id, name, args; bool used; } rcall;

/* Everything one request's reply builds up. */
typedef struct rstream {
    const rm_params *p;
    const rm_sink   *sink;
    long   status;
    bool   sse;                  /* Content-Type: text/event-stream */
    double retry_after;          /* seconds, -1 if absent */
    rbuf   line, data, body;     /* current SSE line and event data; non-SSE body */
    rbuf   content, reasoning;
    rcall  calls[RM_MAX_CALLS];
    int    last_call;
    bool   done, streamed;
    char   finish[32];
    long   ptok, ctok;
    char   err[768];             /* a protocol error found while reading */
    size_t bytes;
} rstream;

static void rs_free(rstream *r)
{
    free(r->line.s); free(r->data.s); free(r->body.s); free(r->content.s); free(r->reasoning.s);
    for (int i = 0; i < RM_MAX_CALLS; i++) { free(r->calls[i].id.s); free(r->calls[i].name.s); free(r->calls[i].args.s); }
}

void rm_url(const char *ep, char *out, size_t len)
{
    size_t n = strlen(ep);
    while (n && ep[n - 1] == '/') n--;
    const char *path = strstr(ep, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    if (n >= 17 && strncmp(ep + n - 17, "/chat/completions", 17) == 0) snprintf(out, len, "%.*s", (int)n, ep);
    else if (!path || (size_t)(path - ep) >= n) snprintf(out, len, "%.*s/v1/chat/completions", (int)n, ep);
    else snprintf(out, len, "%.*s/chat/completions", (int)n, ep);
}

/* Take usage and finish_reason from a chunk or a whole reply. */
static void take_meta(rstream *r, const cJSON *obj, const cJSON *choice)
{
    const cJSON *u = cJSON_GetObjectItem(obj, "usage");
    if (cJSON_IsObject(u)) {
        const cJSON *a = cJSON_GetObjectItem(u, "prompt_tokens"), *b = cJSON_GetObjectItem(u, "completion_tokens");
        if (cJSON_IsNumber(a)) r->ptok = (long)a->valuedouble;
        if (cJSON_IsNumber(b)) r->ctok = (long)b->valuedouble;
    }
    const char *fr = cJSON_GetStringValue(cJSON_GetObjectItem(choice, "finish_reason"));
    if (fr) snprintf(r->finish, sizeof r->finish, "%s", fr);
}

/* Append text of one kind and pass it on to the sink. */
static void take_text(rstream *r, const cJSON *v, bool thought)
{
    if (!cJSON_IsString(v) || !v->valuestring[0]) return;
    size_t n = strlen(v->valuestring);
    rb_add(thought ? &r->reasoning : &r->content, v->valuestring, n);
    r->streamed = true;
    void (*f)(void *, const char *, size_t) = r->sink ? (thought ? r->sink->reasoning : r->sink->content) : NULL;
    if (f) f(r->sink->ud, v->valuestring, n);
}

/* Merge tool-call fragments (streamed deltas, or whole calls). */
static int take_calls(rstream *r, const cJSON *tcs)
{
    if (!tcs || cJSON_IsNull(tcs)) return 0;
    if (!cJSON_IsArray(tcs)) { snprintf(r->err, sizeof r->err, "tool_calls is not an array"); return -1; }
    int pos = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, tcs) {
        const cJSON *ix = cJSON_GetObjectItem(tc, "index");
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(tc, "id"));
        int i;
        if (cJSON_IsNumber(ix)) i = (int)ix->valuedouble;
        else if (id && *id) {                       /* no index: a new id starts a new call */
            i = -1;
            for (int k = 0; k < RM_MAX_CALLS && i < 0; k++)
                if (r->calls[k].used && r->calls[k].id.s && !strcmp(r->calls[k].id.s, id)) i = k;
            if (i < 0) { i = 0; while (i < RM_MAX_CALLS && r->calls[i].used) i++; }
        } else i = r->last_call >= 0 ? r->last_call : pos;
        pos++;
        if (i < 0 || i >= RM_MAX_CALLS) {
            snprintf(r->err, sizeof r->err, "tool call index %d is out of range (0..%d)", i, RM_MAX_CALLS - 1);
            return -1;
        }
        rcall *c = &r->calls[i];
        c->used = true;
        r->last_call = i;
        if (id && *id && !c->id.n) rb_add(&c->id, id, strlen(id));
        const cJSON *fn = cJSON_GetObjectItem(tc, "function");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(fn, "name"));
        const cJSON *args = cJSON_GetObjectItem(fn, "arguments");
        if (name && *name && strcmp(c->name.s ? c->name.s : "", name) != 0) rb_add(&c->name, name, strlen(name));
        if (cJSON_IsString(args)) rb_add(&c->args, args->valuestring, strlen(args->valuestring));
        else if (cJSON_IsObject(args)) {           /* some servers send an object, not a string */
            char *s = cJSON_PrintUnformatted(args);
            if (s) rb_add(&c->args, s, strlen(s));
            free(s);
        }
        r->streamed = true;
    }
    return 0;
}

/* The server's error text from an error object or body. */
static void error_text(const cJSON *j, const char *raw, char *out, size_t len)
{
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
    if (!m) m = cJSON_GetStringValue(e);
    if (!m) m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "message"));
    if (!m) m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "detail"));
    if (m) snprintf(out, len, "%.400s", m);
    else snprintf(out, len, "%.300s", raw && *raw ? raw : "(empty body)");
}

/* One complete SSE event: [DONE], an error object, or a chunk. */
static int on_event(rstream *r, const char *data)
{
    if (strcmp(data, "[DONE]") == 0) { r->done = true; return 0; }
    cJSON *j = cJSON_Parse(data);
    if (!j || !cJSON_IsObject(j)) {
        snprintf(r->err, sizeof r->err, "a streamed event is not a JSON object: '%.160s'", data);
        cJSON_Delete(j);
        return -1;
    }
    int rc = 0;
    const cJSON *choices = cJSON_GetObjectItem(j, "choices");
    if (cJSON_GetObjectItem(j, "error")) {
        char m[500];
        error_text(j, data, m, sizeof m);
        snprintf(r->err, sizeof r->err, "the server reported an error mid-stream: %s", m);
        rc = -1;
    } else if (!cJSON_IsArray(choices) && !cJSON_IsObject(cJSON_GetObjectItem(j, "usage"))) {
        snprintf(r->err, sizeof r->err, "a streamed chunk has neither \"choices\" nor \"usage\": '%.160s'", data);
        rc = -1;
    } else {
        const cJSON *ch = cJSON_GetArrayItem(choices, 0);
        const cJSON *d = cJSON_GetObjectItem(ch, "delta");
        if (ch && !cJSON_IsObject(d) && !cJSON_GetObjectItem(ch, "finish_reason")) {
            snprintf(r->err, sizeof r->err, "a streamed choice has no \"delta\" object: '%.160s'", data);
            rc = -1;
        } else {
            take_text(r, cJSON_GetObjectItem(d, "content"), false);
            const cJSON *rs = cJSON_GetObjectItem(d, "reasoning_content");
            take_text(r, cJSON_IsString(rs) ? rs : cJSON_GetObjectItem(d, "reasoning"), true);
            rc = take_calls(r, cJSON_GetObjectItem(d, "tool_calls"));
            take_meta(r, j, ch);
        }
    }
    cJSON_Delete(j);
    return rc;
}

/* Feed SSE bytes: split lines, gather data: fields, dispatch on blank lines. */
static int sse_feed(rstream *r, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n') { rb_add(&r->line, &s[i], 1); continue; }
        char *l = r->line.s ? r->line.s : (char *)"";
        size_t ln = r->line.n;
        if (ln && l[ln - 1] == '\r') l[--ln] = 0;
        if (ln == 0) {
            if (r->data.n && on_event(r, r->data.s)) return -1;
            r->data.n = 0;
            if (r->data.s) r->data.s[0] = 0;
        } else if (strncmp(l, "data:", 5) == 0) {
            const char *v = l + 5 + (l[5] == ' ');
            if (r->data.n) rb_add(&r->data, "\n", 1);
            rb_add(&r->data, v, strlen(v));
        }                                              /* comments, event:, id:, retry: are ignored */
        r->line.n = 0;
        if (r->line.s) r->line.s[0] = 0;
        if (r->line.oom || r->data.oom) { snprintf(r->err, sizeof r->err, "out of memory reading the stream"); return -1; }
    }
    return 0;
}

/* libcurl body hook. */
static size_t on_body(char *d, size_t sz, size_t nm, void *ud)
{
    rstream *r = ud;
    size_t n = sz * nm;
    r->bytes += n;
    if (r->status == 200 && r->sse) return sse_feed(r, d, n) ? 0 : n;
    if (r->body.n + n > (8u << 20)) { snprintf(r->err, sizeof r->err, "the reply is larger than 8 MiB"); return 0; }
    rb_add(&r->body, d, n);
    return n;
}

/* libcurl header hook: status, content type, Retry-After. */
static size_t on_header(char *d, size_t sz, size_t nm, void *ud)
{
    rstream *r = ud;
    size_t n = sz * nm;
    char h[256];
    snprintf(h, sizeof h, "%.*s", (int)(n < 255 ? n : 255), d);
    long st;
    if (strncmp(h, "HTTP/", 5) == 0 && strchr(h, ' ') && sscanf(strchr(h, ' '), " %ld", &st) == 1) {
        r->status = st; r->sse = false; r->retry_after = -1;
    } else if (strncasecmp(h, "content-type:", 13) == 0) r->sse = strstr(h, "text/event-stream") != NULL;
    else if (strncasecmp(h, "retry-after:", 12) == 0) r->retry_after = atof(h + 12);
    return n;
}

/* libcurl progress hook: Ctrl-C stops the request. */
static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a; (void)b; (void)c; (void)d;
    rstream *r = ud;
    return r->p->interrupt && *r->p->interrupt ? 1 : 0;
}

/* Read a whole (non-streamed) chat completion into the stream state. */
static int take_whole(rstream *r)
{
    cJSON *j = cJSON_Parse(r->body.s ? r->body.s : "");
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    const cJSON *m = cJSON_GetObjectItem(ch, "message");
    int rc = 0;
    if (!j) { snprintf(r->err, sizeof r->err, "the reply is neither an event stream nor JSON: '%.160s'", r->body.s ? r->body.s : ""); rc = -1; }
    else if (!cJSON_IsObject(m)) { snprintf(r->err, sizeof r->err, "the reply has no choices[0].message: '%.160s'", r->body.s); rc = -1; }
    else {
        take_text(r, cJSON_GetObjectItem(m, "content"), false);
        const cJSON *rs = cJSON_GetObjectItem(m, "reasoning_content");
        take_text(r, cJSON_IsString(rs) ? rs : cJSON_GetObjectItem(m, "reasoning"), true);
        rc = take_calls(r, cJSON_GetObjectItem(m, "tool_calls"));
        take_meta(r, j, ch);
        r->done = true;
    }
    cJSON_Delete(j);
    return rc;
}

/* The JSON request body. */
static char *request_body(const rm_params *p, const cJSON *messages, const cJSON *tools)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "model", p->model && *p->model ? p->model : "default");
    cJSON_AddItemToObject(b, "messages", cJSON_Duplicate(messages, 1));
    cJSON_AddBoolToObject(b, "stream", true);
    cJSON *so = cJSON_AddObjectToObject(b, "stream_options");
    cJSON_AddBoolToObject(so, "include_usage", true);
    if (tools && cJSON_GetArraySize(tools) > 0) {
        cJSON_AddItemToObject(b, "tools", cJSON_Duplicate(tools, 1));
        if (p->tool_choice) {
            if (!strcmp(p->tool_choice, "auto") || !strcmp(p->tool_choice, "required") || !strcmp(p->tool_choice, "none"))
                cJSON_AddStringToObject(b, "tool_choice", p->tool_choice);
            else {
                cJSON *tc = cJSON_AddObjectToObject(b, "tool_choice");
                cJSON_AddStringToObject(tc, "type", "function");
                cJSON_AddStringToObject(cJSON_AddObjectToObject(tc, "function"), "name", p->tool_choice);
            }
        }
    }
    if (p->response_schema) {
        cJSON *rf = cJSON_AddObjectToObject(b, "response_format");
        cJSON_AddStringToObject(rf, "type", "json_schema");
        cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
        cJSON_AddStringToObject(js, "name", "answer");
        cJSON_AddItemToObject(js, "schema", cJSON_Duplicate(p->response_schema, 1));
    }
    if (p->think >= 0)         /* Gemma 4's chat template reads enable_thinking */
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(b, "chat_template_kwargs"), "enable_thinking", p->think > 0);
    if (p->temperature >= 0) cJSON_AddNumberToObject(b, "temperature", p->temperature);
    if (p->top_p > 0) cJSON_AddNumberToObject(b, "top_p", p->top_p);
    if (p->max_tokens > 0) cJSON_AddNumberToObject(b, "max_tokens", p->max_tokens);
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return s;
}

/* The assistant message from what was gathered; NULL + err on a bad call. */
static cJSON *build_message(rstream *r)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddStringToObject(m, "content", r->content.s ? r->content.s : "");
    if (r->reasoning.n) cJSON_AddStringToObject(m, "reasoning_content", r->reasoning.s);
    cJSON *tcs = NULL;
    for (int i = 0; i < RM_MAX_CALLS; i++) {
        rcall *c = &r->calls[i];
        if (!c->used) continue;
        if (!c->name.n) {
            snprintf(r->err, sizeof r->err, "tool call #%d in the reply has no function name", i);
            cJSON_Delete(m);
            return NULL;
        }
        if (!tcs) tcs = cJSON_AddArrayToObject(m, "tool_calls");
        cJSON *t = cJSON_CreateObject();
        char idb[32];
        snprintf(idb, sizeof idb, "call_%d", i);
        cJSON_AddStringToObject(t, "id", c->id.n ? c->id.s : idb);
        cJSON_AddStringToObject(t, "type", "function");
        cJSON *fn = cJSON_AddObjectToObject(t, "function");
        cJSON_AddStringToObject(fn, "name", c->name.s);
        cJSON_AddStringToObject(fn, "arguments", c->args.n ? c->args.s : "{}");
        cJSON_AddItemToArray(tcs, t);
    }
    return m;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep up to s seconds, waking early on an interrupt. */
static void nap(const rm_params *p, double s)
{
    for (double t = 0; t < s && !(p->interrupt && *p->interrupt); t += 0.05) usleep(50000);
}

void rm_result_free(rm_result *res)
{
    cJSON_Delete(res->message);
    res->message = NULL;
}

int rm_chat(const rm_params *p, const cJSON *messages, const cJSON *tools, const rm_sink *sink,
            rm_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    res->prompt_tokens = res->completion_tokens = -1;
    char url[2048], auth[1100];
    rm_url(p->endpoint, url, sizeof url);
    char *body = request_body(p, messages, tools);
    if (!body) { snprintf(err, errlen, "out of memory building the request"); return RM_E_NOMEM; }
    int retries = p->retries < 0 ? 3 : p->retries;
    double wait = p->retry_wait > 0 ? p->retry_wait : 1.0;
    double total = p->timeout_s > 0 ? p->timeout_s : 600, stall = p->stall_s > 0 ? p->stall_s : 120;
    int rc = RM_E_NET;
    for (int attempt = 0;; attempt++) {
        rstream r = {.p = p, .sink = sink, .retry_after = -1, .last_call = -1, .ptok = -1, .ctok = -1};
        CURL *c = curl_easy_init();
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        if (h) h = curl_slist_append(h, "Accept: text/event-stream");
        if (h && p->api_key && *p->api_key) {
            snprintf(auth, sizeof auth, "Authorization: Bearer %.1000s", p->api_key);
            h = curl_slist_append(h, auth);
        }
        if (!c || !h) {
            curl_slist_free_all(h); curl_easy_cleanup(c); free(body);
            snprintf(err, errlen, "cannot start libcurl (out of memory)");
            return RM_E_NOMEM;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &r);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)((p->connect_s > 0 ? p->connect_s : 15) * 1000));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(total * 1000));
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(stall < 1 ? 1 : stall));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "gemmash/0.1");
        double t0 = mono();
        CURLcode cr = curl_easy_perform(c);
        double el = mono() - t0;
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        res->attempts = attempt + 1;
        res->http_status = (int)r.status;
        bool retry = false;
        if (r.status == 200 && !r.sse && cr == CURLE_OK && !r.err[0]) take_whole(&r);
        if (cr == CURLE_ABORTED_BY_CALLBACK) {
            snprintf(err, errlen, "interrupted while waiting for %s", url);
            rc = RM_E_INTERRUPTED;
        } else if (r.err[0]) {
            snprintf(err, errlen, "malformed reply from %s: %s", url, r.err);
            rc = RM_E_PROTO;
        } else if (cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST) {
            snprintf(err, errlen, "cannot connect to %s (%s); is the server running, and is --endpoint right?", url,
                     curl_easy_strerror(cr));
            rc = RM_E_NET;
            retry = true;
        } else if (cr == CURLE_OPERATION_TIMEDOUT) {
            snprintf(err, errlen, "%s: no reply %s (%.0f s); the server may be overloaded or stuck", url,
                     el + 0.5 >= total ? "within the total time limit" : "byte arrived within the stall limit",
                     el + 0.5 >= total ? total : stall);
            rc = RM_E_TIMEOUT;
        } else if (r.status != 200 && r.status != 0 && (cr == CURLE_OK || cr == CURLE_PARTIAL_FILE)) {
            cJSON *j = cJSON_Parse(r.body.s ? r.body.s : "");
            char m[500];
            error_text(j, r.body.s, m, sizeof m);
            cJSON_Delete(j);
            const char *hint = r.status == 401 || r.status == 403 ? "; check the key (--api-key-env VAR names the "
                               "environment variable that holds it)"
                             : r.status == 404 ? "; check --endpoint (usually ends in /v1) and --remote-model"
                             : r.status == 429 || r.status >= 500 ? "; retried with backoff" : "";
            snprintf(err, errlen, "%s answered HTTP %ld: %s%s", url, r.status, m, hint);
            rc = RM_E_HTTP;
            retry = r.status == 429 || r.status >= 500;
        } else if (cr != CURLE_OK) {
            snprintf(err, errlen, "the connection to %s failed after %zu bytes of the reply (%s)%s", url, r.bytes,
                     curl_easy_strerror(cr), r.streamed ? "; the answer was cut off" : "");
            rc = r.bytes ? RM_E_PROTO : RM_E_NET;
            retry = !r.streamed;
        } else if (!r.done && !r.finish[0]) {
            snprintf(err, errlen, "the connection to %s closed mid-reply after %zu bytes (no finish_reason and "
                     "no [DONE]); the answer is incomplete", url, r.bytes);
            rc = RM_E_PROTO;
        } else if (r.content.oom || r.reasoning.oom) {
            snprintf(err, errlen, "out of memory reading the reply");
            rc = RM_E_NOMEM;
        } else if (!(res->message = build_message(&r))) {
            snprintf(err, errlen, "malformed reply from %s: %s", url, r.err);
            rc = RM_E_PROTO;
        } else {
            snprintf(res->finish_reason, sizeof res->finish_reason, "%s", r.finish);
            res->prompt_tokens = r.ptok;
            res->completion_tokens = r.ctok;
            rc = RM_OK;
        }
        double ra = r.retry_after;
        rs_free(&r);
        if (!retry || r.streamed || attempt >= retries || (p->interrupt && *p->interrupt)) break;
        nap(p, ra >= 0 ? (ra > 60 ? 60 : ra) : wait);
        wait *= 2;
    }
    free(body);
    return rc;
}
