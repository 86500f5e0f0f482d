/* test_remote.c: agent/remote.c against a scripted chat-completions server
 * (tests/pylib/oaiserver.py): streamed text and reasoning, tool-call
 * deltas assembled by index, usage, retries with Retry-After, and clear
 * errors (never a hang) for malformed, cut-off, stalled and refused replies. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "remote.h"

static const char *SCRIPT =
"{\"text\": [{\"sse\": ["
"  {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"reasoning_content\":\"Let me \"}}]},"
"  {\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"think.\"}}]},"
"  {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]},"
"  {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]},"
"  {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5}}], \"done\": true}],"
" \"tools\": [{\"sse\": ["
"  {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"write_file\",\"arguments\":\"\"}}]}}]},"
"  {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"c2\",\"type\":\"function\",\"function\":{\"name\":\"shell\",\"arguments\":\"{\\\"cmd\\\":\"}}]}}]},"
"  {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"path\\\":\\\"a.txt\\\",\"}}]}}]},"
"  {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"content\\\":\\\"hi\\\"}\"}}]}}]},"
"  {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"\\\"ls\\\"}\"}}]}}]},"
"  {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}], \"done\": true}],"
" \"badjson\": [{\"sse\": [{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}, \"{not json\"], \"done\": true}],"
" \"nochoices\": [{\"sse\": [{\"id\":\"x\",\"object\":\"chat.completion.chunk\"}], \"done\": true}],"
" \"noname\": [{\"sse\": [{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}], \"done\": true}],"
" \"drop\": [{\"drop\": [{\"choices\":[{\"delta\":{\"content\":\"partial\"}}]}]}],"
" \"errevent\": [{\"sse\": [{\"error\":{\"message\":\"engine overloaded\"}}], \"done\": true}],"
" \"http400\": [{\"status\": 400, \"body\": {\"error\": {\"message\": \"max_tokens is too large\"}}}],"
" \"http401\": [{\"status\": 401, \"body\": {\"error\": \"invalid api key\"}}],"
" \"retry\": [{\"status\": 503, \"body\": {\"error\": \"warming up\"}, \"retry_after\": \"1\"},"
"            {\"status\": 429, \"body\": {\"error\": \"slow down\"}},"
"            {\"sse\": [{\"choices\":[{\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}], \"done\": true}],"
" \"always500\": [{\"status\": 500, \"body\": {\"detail\": \"boom\"}}],"
" \"hang\": [{\"hang\": 20}],"
" \"whole\": [{\"json\": {\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"all at once\","
"      \"tool_calls\":[{\"id\":\"t\",\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"arguments\":{\"path\":\"x\"}}}]},"
"      \"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}}]"
"}";

typedef struct seen { char content[256], reasoning[256]; } seen;
static void on_content(void *ud, const char *s, size_t n) { seen *x = ud; strncat(x->content, s, n); }
static void on_reasoning(void *ud, const char *s, size_t n) { seen *x = ud; strncat(x->reasoning, s, n); }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run one request against model `model`; returns rm_chat's code. */
static int ask(const char *url, const char *model, rm_params *base, seen *x, rm_result *res, char *err, size_t n)
{
    rm_params p = *base;
    p.endpoint = url;
    p.model = model;
    memset(x, 0, sizeof *x);
    rm_sink sink = {x, on_content, on_reasoning};
    cJSON *msgs = cJSON_Parse("[{\"role\":\"user\",\"content\":\"hi\"}]");
    cJSON *tools = cJSON_Parse("[{\"type\":\"function\",\"function\":{\"name\":\"shell\",\"parameters\":{\"type\":\"object\"}}}]");
    err[0] = 0;
    int rc = rm_chat(&p, msgs, tools, &sink, res, err, n);
    cJSON_Delete(msgs);
    cJSON_Delete(tools);
    return rc;
}

int main(void)
{
    char dir[] = "/tmp/gm-remote-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp"); return check_exit(); }
    char script[128], logf[128], portf[128], srvpath[1024];
    snprintf(script, sizeof script, "%s/script.json", dir);
    snprintf(logf, sizeof logf, "%s/log.jsonl", dir);
    snprintf(portf, sizeof portf, "%s/port", dir);
    FILE *f = fopen(script, "w");
    if (!f) { CHECK(0, "write the script"); return check_exit(); }
    fputs(SCRIPT, f);
    fclose(f);
    const char *root = getenv("GEMMASH_ROOT"), *py = getenv("PYTHON");
    snprintf(srvpath, sizeof srvpath, "%s/tests/pylib/oaiserver.py", root ? root : ".");
    pid_t pid = fork();
    if (pid == 0) {
        execl(py ? py : "/usr/bin/python3", "python3", srvpath, script, logf, portf, (char *)NULL);
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 200 && !port; i++) {
        FILE *pf = fopen(portf, "r");
        if (pf) { if (fscanf(pf, "%d", &port) != 1) port = 0; fclose(pf); }
        if (!port) usleep(25000);
    }
    CHECK(port > 0, "the scripted server started");
    char url[128], err[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
    rm_params base = {.temperature = -1, .think = 0, .retries = 3, .retry_wait = 0.05, .stall_s = 1, .timeout_s = 15, .api_key = "sk-test"};
    seen x;
    rm_result r;

    int rc = ask(url, "text", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_OK, "a streamed answer is read (%s)", err);
    CHECK(!strcmp(x.content, "Hello") && !strcmp(x.reasoning, "Let me think."),
          "content and reasoning (reasoning_content and reasoning fields) stream to the sink: '%s' / '%s'", x.content, x.reasoning);
    CHECK(r.message && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(r.message, "content")), "Hello") &&
          !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(r.message, "reasoning_content")), "Let me think."),
          "the final message carries content and reasoning_content");
    CHECK(r.prompt_tokens == 12 && r.completion_tokens == 5 && !strcmp(r.finish_reason, "stop"), "usage and finish_reason");
    rm_result_free(&r);

    rm_params sch = base;
    sch.response_schema = cJSON_Parse("{\"type\":\"object\"}");
    rc = ask(url, "text", &sch, &x, &r, err, sizeof err);
    cJSON_Delete((cJSON *)sch.response_schema);
    CHECK(rc == RM_OK, "a request with a response schema");
    rm_result_free(&r);
    rc = ask(url, "tools", &base, &x, &r, err, sizeof err);
    const cJSON *tc = cJSON_GetObjectItem(r.message, "tool_calls");
    const cJSON *t0 = cJSON_GetArrayItem(tc, 0), *t1 = cJSON_GetArrayItem(tc, 1);
    CHECK(rc == RM_OK && cJSON_GetArraySize(tc) == 2, "two interleaved tool calls are assembled (%s)", err);
    CHECK(t0 && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t0, "id")), "c1") &&
          !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(t0, "function"), "name")), "write_file") &&
          !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(t0, "function"), "arguments")),
                  "{\"path\":\"a.txt\",\"content\":\"hi\"}"), "call 0: id, name and arguments joined by index");
    CHECK(t1 && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(t1, "function"), "arguments")),
                        "{\"cmd\":\"ls\"}"), "call 1's fragments do not mix with call 0's");
    CHECK(!strcmp(r.finish_reason, "tool_calls"), "finish_reason tool_calls");
    rm_result_free(&r);

    rc = ask(url, "whole", &base, &x, &r, err, sizeof err);
    tc = cJSON_GetObjectItem(r.message, "tool_calls");
    CHECK(rc == RM_OK && !strcmp(x.content, "all at once") && cJSON_GetArraySize(tc) == 1 &&
          !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(tc, 0), "function"), "arguments")),
                  "{\"path\":\"x\"}") && r.completion_tokens == 4,
          "a non-streamed JSON reply is read too (object arguments become a string)");
    rm_result_free(&r);

    rc = ask(url, "badjson", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_PROTO && strstr(err, "not a JSON object") && strstr(err, "{not json"), "bad JSON in an SSE line: %s", err);
    rc = ask(url, "nochoices", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_PROTO && strstr(err, "neither \"choices\" nor \"usage\""), "a chunk without choices: %s", err);
    rc = ask(url, "noname", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_PROTO && strstr(err, "no function name"), "a tool call without a name: %s", err);
    rc = ask(url, "drop", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_PROTO && strstr(err, "closed mid-reply") && !strcmp(x.content, "partial"),
          "a connection closed mid-stream: %s", err);
    rc = ask(url, "errevent", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_PROTO && strstr(err, "engine overloaded"), "an error event mid-stream: %s", err);
    rc = ask(url, "http400", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_HTTP && strstr(err, "HTTP 400") && strstr(err, "max_tokens is too large") && r.attempts == 1,
          "HTTP 400 with the server's message, not retried: %s", err);
    rc = ask(url, "http401", &base, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_HTTP && strstr(err, "invalid api key") && strstr(err, "--api-key-env"), "HTTP 401 names the key option: %s", err);

    double t = now();
    rc = ask(url, "retry", &base, &x, &r, err, sizeof err);
    double el = now() - t;
    CHECK(rc == RM_OK && r.attempts == 3 && !strcmp(x.content, "ok"), "503 then 429 are retried until the answer (%d attempts)", r.attempts);
    CHECK(el >= 0.95, "Retry-After: 1 is honoured (%.2f s)", el);
    rm_result_free(&r);
    rm_params few = base;
    few.retries = 2;
    rc = ask(url, "always500", &few, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_HTTP && r.attempts == 3 && strstr(err, "boom") && strstr(err, "HTTP 500"), "retries end with the last error: %s", err);

    t = now();
    rc = ask(url, "hang", &base, &x, &r, err, sizeof err);
    el = now() - t;
    /* libcurl averages speed over about 5 s, so a 1 s stall limit fires after ~7 s */
    CHECK(rc == RM_E_TIMEOUT && el < 12 && strstr(err, "stall"), "a server that stops sending is given up on in %.1f s: %s", el, err);

    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:1/v1");
    few.retries = 1;
    rc = ask(dead, "text", &few, &x, &r, err, sizeof err);
    CHECK(rc == RM_E_NET && strstr(err, "cannot connect") && r.attempts == 2, "connection refused is retried then explained: %s", err);

    char u2[256];
    rm_url("http://h:8000", u2, sizeof u2);
    CHECK(!strcmp(u2, "http://h:8000/v1/chat/completions"), "a bare host gets /v1/chat/completions");
    rm_url("http://h/v1/", u2, sizeof u2);
    CHECK(!strcmp(u2, "http://h/v1/chat/completions"), "a /v1 base gets /chat/completions");
    rm_url("http://h/api/chat/completions", u2, sizeof u2);
    CHECK(!strcmp(u2, "http://h/api/chat/completions"), "a full URL is kept");

    FILE *lf = fopen(logf, "r");
    char line[8192];
    int auth = 0, streamreq = 0, toolsreq = 0, schema = 0, nothink = 0;
    while (lf && fgets(line, sizeof line, lf)) {
        auth += strstr(line, "\"auth\": \"Bearer sk-test\"") != NULL;
        streamreq += strstr(line, "\"stream\": true") != NULL && strstr(line, "include_usage") != NULL;
        toolsreq += strstr(line, "\"tools\": [{\"type\": \"function\"") != NULL;
        schema += strstr(line, "\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"answer\", \"schema\": {\"type\": \"object\"}}}") != NULL;
        nothink += strstr(line, "\"chat_template_kwargs\": {\"enable_thinking\": false}") != NULL;
    }
    if (lf) fclose(lf);
    CHECK(schema == 1, "a response schema goes out as response_format json_schema");
    CHECK(nothink == auth, "thinking off goes out as chat_template_kwargs.enable_thinking false");
    CHECK(auth >= 10 && streamreq == auth && toolsreq == auth, "requests carry the key, stream:true with usage, and the tools (%d)", auth);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    snprintf(line, sizeof line, "rm -rf '%s'", dir);
    CHECK(system(line) == 0, "clean up");
    return check_exit();
}
