/* remote.h: a client for OpenAI-compatible chat-completions servers (vLLM,
 * SGLang, llama-server, Ollama), so the agent can run on a model served
 * elsewhere while its tools still run here, in the sandbox.
 *
 * One call = one request: messages and tools in OpenAI JSON go out, the
 * reply streams back (SSE) through callbacks, and the finished assistant
 * message (content, reasoning_content, tool_calls assembled by index) and
 * the token usage come back in rm_result.  It never hangs: connect timeout,
 * a stall limit (no byte for stall_s), and a total limit per request.
 * 429 and 5xx answers and refused connections are retried with backoff,
 * honouring Retry-After, as long as nothing was streamed yet. */
#ifndef GEMMASH_REMOTE_H
#define GEMMASH_REMOTE_H
#include <signal.h>
#include <stddef.h>
#include <cjson/cJSON.h>

typedef struct rm_params {
    const char *endpoint;     /* http://host:8000/v1 (or the full .../chat/completions URL) */
    const char *api_key;      /* sent as "Authorization: Bearer KEY"; NULL: none */
    const char *model;        /* the "model" field; NULL: "default" */
    double      temperature;  /* < 0: the server's default */
    double      top_p;        /* <= 0: the server's default */
    int         max_tokens;   /* 0: the server's default */
    const char *tool_choice;  /* NULL: not sent ("auto"); "required", "none" or a tool name */
    const cJSON *response_schema; /* sent as response_format json_schema; NULL: none */
    int         think;        /* chat_template_kwargs.enable_thinking: 1, 0, or -1 = not sent */
    double      timeout_s;    /* whole request; 0: 600 */
    double      connect_s;    /* 0: 15 */
    double      stall_s;      /* no byte for this long: give up; 0: 120 */
    int         retries;      /* < 0: 3 */
    double      retry_wait;   /* first backoff in seconds, doubling; 0: 1 */
    volatile sig_atomic_t *interrupt;
} rm_params;

/* Streamed pieces as they arrive (either may be NULL). */
typedef struct rm_sink {
    void *ud;
    void (*content)(void *ud, const char *s, size_t n);
    void (*reasoning)(void *ud, const char *s, size_t n);
} rm_sink;

typedef struct rm_result {
    cJSON *message;           /* {"role":"assistant","content",["reasoning_content"],["tool_calls"]} */
    char   finish_reason[32]; /* stop | length | tool_calls | ... ("" if the server gave none) */
    long   prompt_tokens, completion_tokens;   /* -1 when the server did not say */
    int    http_status;
    int    attempts;          /* requests made (retries + 1) */
} rm_result;

enum {
    RM_OK = 0,
    RM_E_NET = -1,            /* could not connect, or the connection failed */
    RM_E_HTTP = -2,           /* a non-200 answer (message has the server's error text) */
    RM_E_PROTO = -3,          /* a malformed reply: bad JSON, missing fields, cut off mid-stream */
    RM_E_TIMEOUT = -4,        /* stalled or over the total time */
    RM_E_INTERRUPTED = -5,
    RM_E_NOMEM = -6,
};

/* Send one chat-completions request.  tools may be NULL or empty.  On
 * RM_OK res->message is set (free with rm_result_free); otherwise err says
 * what happened, where, and what to do. */
int  rm_chat(const rm_params *p, const cJSON *messages, const cJSON *tools, const rm_sink *sink,
             rm_result *res, char *err, size_t errlen);
void rm_result_free(rm_result *res);

/* The URL requests go to for an endpoint ("http://h:8000" -> ".../v1/chat/completions"). */
void rm_url(const char *endpoint, char *out, size_t len);
#endif
