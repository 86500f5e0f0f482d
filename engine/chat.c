/* chat.c: structured messages in, exact Gemma 4 prompt text out.
 *
 * Implements the rules of the newest official chat template (gemma4-arch.md
 * §7.1; the revision that accepts OpenAI role:"tool" messages, writes
 * "<|think|>\n", keeps reasoning before tool calls of the current turn and
 * ends tool-response turns open).  The two families differ only in the
 * generation prompt: the large one (26B/31B) adds an empty thought channel
 * when thinking is off.
 *
 * Deliberate differences from the template, all for inputs it renders
 * uselessly or rejects with a Python exception:
 *   - a tool call's arguments given as a JSON string holding an object are
 *     parsed and written as a map (the template pastes the string verbatim);
 *   - a role:"tool" message whose content is JSON object text is written as
 *     a map (the template writes every string as value:<|"|>…<|"|>);
 *   - a tool message the template would name "unknown" (no name, no matching
 *     tool_call_id) takes the name of the call in the same position;
 *   - malformed input (unknown role, call without name, tool message with no
 *     call before it, ...) is an error instead of a silent drop. */
#include <stdlib.h>
#include <string.h>
#include "chat_int.h"

#define QUOTE "<|\"|>"

enum { PREV_NONE, PREV_THINK, PREV_TOOL, PREV_TOOL_CALL, PREV_TOOL_RESPONSE, PREV_MEDIA };

/* The state of one render, so helpers need not pass ten arguments. */
typedef struct render {
    chat_buf     b;
    gm_err      *err;
    int          prev;         /* the template's ns.prev_message_type */
} render;

/* The role string of a message, or NULL. */
static const char *role_of(const cJSON *m)
{
    const cJSON *r = chat_get(m, "role");
    return cJSON_IsString(r) ? r->valuestring : NULL;
}

/* Append text trimmed (user/system content). */
static void put_trimmed(chat_buf *b, const char *s)
{
    const char *t;
    size_t n;
    chat_strip(s, strlen(s), &t, &n);
    chat_put(b, t, n);
}

/* strip_thinking: drop every <|channel>…<channel|> span, then trim. */
static void put_stripped(chat_buf *b, const char *s)
{
    chat_buf t = {0};
    const char *close = "<channel|>", *open = "<|channel>";
    const char *p = s;
    for (;;) {
        const char *e = strstr(p, close);
        size_t n = e ? (size_t)(e - p) : strlen(p);
        /* part = p[0..n): keep what precedes a <|channel> inside it */
        const char *o = NULL;
        for (const char *q = p; q + 10 <= p + n; q++)
            if (memcmp(q, open, 10) == 0) { o = q; break; }
        chat_put(&t, p, o ? (size_t)(o - p) : n);
        if (!e) break;
        p = e + strlen(close);
    }
    if (t.oom) b->oom = true;
    else if (t.p) put_trimmed(b, t.p);
    free(t.p);
}

/* Message content: a string, or an array of {type:"text",text} parts (media
 * parts become their placeholder tokens).  Model content has thoughts
 * stripped; other roles are trimmed.  null renders nothing. */
static int put_content(render *r, const cJSON *c, bool model, int idx)
{
    if (!c || cJSON_IsNull(c)) return 0;
    if (cJSON_IsString(c)) {
        if (model) put_stripped(&r->b, c->valuestring);
        else put_trimmed(&r->b, c->valuestring);
        return 0;
    }
    if (!cJSON_IsArray(c))
        return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].content is neither a string nor "
                          "an array of {\"type\":\"text\",\"text\":...} parts", idx);
    for (const cJSON *it = c->child; it; it = it->next) {
        const cJSON *ty = chat_get(it, "type");
        const char *t = cJSON_IsString(ty) ? ty->valuestring : "";
        if (strcmp(t, "text") == 0) {
            const cJSON *tx = chat_get(it, "text");
            if (!cJSON_IsString(tx))
                return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].content has a text part "
                                  "without a \"text\" string", idx);
            if (model) put_stripped(&r->b, tx->valuestring);
            else put_trimmed(&r->b, tx->valuestring);
        } else if (strcmp(t, "image") == 0) {
            chat_puts(&r->b, "<|image|>"); r->prev = PREV_MEDIA;
        } else if (strcmp(t, "audio") == 0) {
            chat_puts(&r->b, "<|audio|>"); r->prev = PREV_MEDIA;
        } else if (strcmp(t, "video") == 0) {
            chat_puts(&r->b, "<|video|>"); r->prev = PREV_MEDIA;
        }
    }
    return 0;
}

/* <|tool_response>response:NAME{…}<tool_response|>: a map is written as its
 * sorted key:value pairs, anything else as value:FORMATTED. */
static void put_response(chat_buf *b, const char *name, const cJSON *resp)
{
    chat_puts(b, "<|tool_response>response:");
    chat_puts(b, name);
    chat_puts(b, "{");
    if (cJSON_IsObject(resp)) {
        const cJSON **m;
        int n = chat_sorted_members(resp, &m);
        if (n < 0) { b->oom = true; return; }
        for (int i = 0; i < n; i++) {
            if (i) chat_puts(b, ",");
            chat_puts(b, m[i]->string ? m[i]->string : "");
            chat_puts(b, ":");
            chat_format_arg(b, m[i], false);
        }
        free(m);
    } else {
        chat_puts(b, "value:");
        if (resp) chat_format_arg(b, resp, false);
        else chat_puts(b, "None");
    }
    chat_puts(b, "}<tool_response|>");
}

/* A tool result given as text: JSON object text becomes a map, anything
 * else stays a string value. */
static void put_text_response(chat_buf *b, const char *name, const char *text)
{
    cJSON *parsed = NULL;
    const char *t;
    size_t n;
    chat_strip(text, strlen(text), &t, &n);
    if (n > 1 && t[0] == '{') {
        const char *end = NULL;
        parsed = cJSON_ParseWithLengthOpts(t, n, &end, false);
        if (parsed && (!cJSON_IsObject(parsed) || end != t + n)) {
            cJSON_Delete(parsed);
            parsed = NULL;
        }
    }
    if (parsed) {
        put_response(b, name, parsed);
        cJSON_Delete(parsed);
    } else {
        cJSON tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.type = cJSON_String;
        tmp.valuestring = (char *)text;
        put_response(b, name, &tmp);
    }
}

/* One <|tool_call>call:NAME{ARGS}<tool_call|>. */
static int put_tool_call(render *r, const cJSON *tc, int idx, int j)
{
    const cJSON *fn = chat_get(tc, "function");
    const cJSON *name = chat_get(fn, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].tool_calls[%d] has no "
                          "function.name string; expected {\"type\":\"function\",\"function\":"
                          "{\"name\":...,\"arguments\":{...}}}", idx, j);
    const cJSON *args = chat_get(fn, "arguments");
    cJSON *parsed = NULL;
    if (cJSON_IsString(args)) {
        const char *t;
        size_t n;
        chat_strip(args->valuestring, strlen(args->valuestring), &t, &n);
        const char *end = NULL;
        if (n > 0 && t[0] == '{')
            parsed = cJSON_ParseWithLengthOpts(t, n, &end, false);
        if (parsed && (!cJSON_IsObject(parsed) || end != t + n)) {
            cJSON_Delete(parsed);
            parsed = NULL;
        }
    } else if (args && !cJSON_IsNull(args) && !cJSON_IsObject(args)) {
        return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].tool_calls[%d] (%s): arguments "
                          "must be an object or a JSON string, not %s", idx, j, name->valuestring,
                          cJSON_IsArray(args) ? "an array" : "a scalar");
    }
    chat_puts(&r->b, "<|tool_call>call:");
    chat_puts(&r->b, name->valuestring);
    chat_puts(&r->b, "{");
    const cJSON *obj = parsed ? parsed : args;
    if (cJSON_IsObject(obj)) {
        const cJSON **m;
        int n = chat_sorted_members(obj, &m);
        if (n < 0) r->b.oom = true;
        for (int i = 0; i < n; i++) {
            if (i) chat_puts(&r->b, ",");
            chat_puts(&r->b, m[i]->string ? m[i]->string : "");
            chat_puts(&r->b, ":");
            chat_format_arg(&r->b, m[i], false);
        }
        free(m);
    } else if (cJSON_IsString(args)) {
        chat_puts(&r->b, args->valuestring);   /* not object text: verbatim */
    }
    chat_puts(&r->b, "}<tool_call|>");
    cJSON_Delete(parsed);
    return 0;
}

/* The name a role:"tool" message answers for: its own "name", overridden by
 * the call whose id equals its tool_call_id (last match wins, as in the
 * template, where two absent ids also compare equal); when that still
 * leaves "unknown", the call in the same position.  Returns NULL after
 * setting an error. */
static const char *tool_msg_name(render *r, const cJSON *calls, const cJSON *tm, int pos, int idx)
{
    const char *name = "unknown";
    const cJSON *nm = chat_get(tm, "name");
    if (nm && !cJSON_IsNull(nm)) {
        if (!cJSON_IsString(nm)) {
            gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].name is not a string", idx);
            return NULL;
        }
        name = nm->valuestring;
    }
    const cJSON *want = chat_get(tm, "tool_call_id");
    bool want_null = !want || cJSON_IsNull(want);
    for (const cJSON *tc = calls->child; tc; tc = tc->next) {
        const cJSON *id = chat_get(tc, "id");
        bool id_null = !id || cJSON_IsNull(id);
        bool eq = (id_null && want_null) || (!id_null && !want_null && cJSON_Compare(id, want, true));
        const cJSON *n2 = chat_get(chat_get(tc, "function"), "name");
        if (eq && cJSON_IsString(n2)) name = n2->valuestring;
    }
    if (strcmp(name, "unknown") == 0 && !(nm && cJSON_IsString(nm))) {
        const cJSON *tc = cJSON_GetArrayItem(calls, pos);
        const cJSON *n2 = chat_get(chat_get(tc, "function"), "name");
        if (cJSON_IsString(n2)) name = n2->valuestring;
    }
    return name;
}

/* The role:"tool" messages right after message i, written as responses into
 * the still-open model turn.  Returns how many were consumed, or -1. */
static int put_tool_messages(render *r, const cJSON *const *msgs, int n, int i, int base)
{
    const cJSON *calls = chat_get(msgs[i], "tool_calls");
    int k = i + 1;
    for (; k < n; k++) {
        const char *ro = role_of(msgs[k]);
        if (!ro || strcmp(ro, "tool") != 0) break;
        const char *name = tool_msg_name(r, calls, msgs[k], k - i - 1, base + k);
        if (!name) return -1;
        const cJSON *body = chat_get(msgs[k], "content");
        if (cJSON_IsString(body)) {
            put_text_response(&r->b, name, body->valuestring);
        } else if (cJSON_IsArray(body)) {
            chat_buf t = {0};
            for (const cJSON *p = body->child; p; p = p->next) {
                const cJSON *ty = chat_get(p, "type"), *tx = chat_get(p, "text");
                if (cJSON_IsString(ty) && strcmp(ty->valuestring, "text") == 0 && cJSON_IsString(tx))
                    chat_puts(&t, tx->valuestring);
            }
            if (t.oom) r->b.oom = true;
            put_text_response(&r->b, name, t.p ? t.p : "");
            free(t.p);
            for (const cJSON *p = body->child; p; p = p->next) {
                const cJSON *ty = chat_get(p, "type");
                const char *s = cJSON_IsString(ty) ? ty->valuestring : "";
                if (strcmp(s, "image") == 0) chat_puts(&r->b, "<|image|>");
                else if (strcmp(s, "audio") == 0) chat_puts(&r->b, "<|audio|>");
                else if (strcmp(s, "video") == 0) chat_puts(&r->b, "<|video|>");
            }
        } else {
            put_response(&r->b, name, body);
        }
        r->prev = PREV_TOOL_RESPONSE;
    }
    return k - i - 1;
}

/* Gemma-native results: tool_responses [{name, response}] on the message. */
static int put_native_responses(render *r, const cJSON *trs, int idx)
{
    if (!cJSON_IsArray(trs))
        return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].tool_responses is not an array "
                          "of {\"name\":...,\"response\":...}", idx);
    for (const cJSON *t = trs->child; t; t = t->next) {
        const cJSON *nm = chat_get(t, "name");
        if (nm && !cJSON_IsNull(nm) && !cJSON_IsString(nm))
            return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].tool_responses has a "
                              "non-string name", idx);
        put_response(&r->b, cJSON_IsString(nm) ? nm->valuestring : "unknown", chat_get(t, "response"));
        r->prev = PREV_TOOL_RESPONSE;
    }
    return 0;
}

/* Check the shape of every message before writing anything. */
static int check_messages(render *r, const cJSON *const *msgs, int n)
{
    static const char *const roles[] = { "system", "developer", "user", "assistant", "tool" };
    for (int i = 0; i < n; i++) {
        if (!cJSON_IsObject(msgs[i]))
            return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d] is not an object; expected "
                              "{\"role\":...,\"content\":...}", i);
        const char *ro = role_of(msgs[i]);
        bool ok = false;
        for (size_t j = 0; ro && j < sizeof roles / sizeof *roles; j++)
            if (strcmp(ro, roles[j]) == 0) ok = true;
        if (!ok)
            return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d] has %s%s%s; expected one of "
                              "system, developer, user, assistant, tool", i,
                              ro ? "unknown role \"" : "no role string", ro ? ro : "", ro ? "\"" : "");
        const cJSON *tc = chat_get(msgs[i], "tool_calls");
        if (tc && !cJSON_IsNull(tc) && !cJSON_IsArray(tc))
            return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d].tool_calls is not an array", i);
        const cJSON *th = chat_get(msgs[i], "reasoning");
        if (!chat_truthy(th)) th = chat_get(msgs[i], "reasoning_content");
        if (chat_truthy(th) && !cJSON_IsString(th))
            return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d] has non-string reasoning", i);
    }
    return 0;
}

/* The system turn: <|think|>, the first system message, tool declarations. */
static int put_system(render *r, const cJSON *first, const cJSON *tools, const gm_chat_opts *o,
                      bool has_system)
{
    chat_puts(&r->b, "<|turn>system\n");
    if (o->think) { chat_puts(&r->b, "<|think|>\n"); r->prev = PREV_THINK; }
    if (has_system) {
        const cJSON *c = chat_get(first, "content");
        if (cJSON_IsString(c)) {
            put_trimmed(&r->b, c->valuestring);
        } else if (cJSON_IsArray(c)) {
            /* the template writes each part trimmed plus one space */
            for (const cJSON *it = c->child; it; it = it->next) {
                const cJSON *tx = chat_get(it, "text");
                if (cJSON_IsString(tx)) put_trimmed(&r->b, tx->valuestring);
                chat_puts(&r->b, " ");
            }
        } else if (c && !cJSON_IsNull(c)) {
            return gm_err_set(r->err, GM_E_ARG, "chat: messages[0].content (system) is neither "
                              "a string nor an array of text parts");
        }
    }
    if (chat_truthy(tools)) {
        int j = 0;
        for (const cJSON *t = tools->child; t; t = t->next, j++) {
            chat_puts(&r->b, "<|tool>");
            if (chat_format_decl(&r->b, t, j, r->err) < 0) return -1;
            chat_puts(&r->b, "<tool|>");
        }
        r->prev = PREV_TOOL;
    }
    chat_puts(&r->b, "<turn|>\n");
    return 0;
}

/* The message loop of the template over msgs[0..n) (system already taken). */
static int put_messages(render *r, const cJSON *const *msgs, int n, int base)
{
    int last_user = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(role_of(msgs[i]), "user") == 0) last_user = i;
    const char *prev_role = NULL;
    for (int i = 0; i < n; i++) {
        const cJSON *m = msgs[i];
        const char *ro = role_of(m);
        int idx = base + i;
        if (strcmp(ro, "tool") == 0)
            return gm_err_set(r->err, GM_E_ARG, "chat: messages[%d] (role tool) does not follow an "
                              "assistant message with tool_calls; put tool results right after "
                              "the call", idx);
        r->prev = PREV_NONE;
        bool model = strcmp(ro, "assistant") == 0;
        /* an assistant message after an assistant one (tool results between)
         * continues the same model turn */
        if (!(model && prev_role && strcmp(prev_role, "assistant") == 0)) {
            chat_puts(&r->b, "<|turn>");
            chat_puts(&r->b, model ? "model" : ro);
            chat_puts(&r->b, "\n");
        }
        prev_role = ro;
        const cJSON *calls = chat_get(m, "tool_calls");
        bool has_calls = chat_truthy(calls);
        const cJSON *th = chat_get(m, "reasoning");
        if (!chat_truthy(th)) th = chat_get(m, "reasoning_content");
        if (chat_truthy(th) && i > last_user && has_calls) {
            chat_puts(&r->b, "<|channel>thought\n");
            chat_puts(&r->b, th->valuestring);
            chat_puts(&r->b, "\n<channel|>");
        }
        if (has_calls) {
            int j = 0;
            for (const cJSON *tc = calls->child; tc; tc = tc->next, j++)
                if (put_tool_call(r, tc, idx, j) < 0) return -1;
            r->prev = PREV_TOOL_CALL;
        }
        bool responded = false;
        const cJSON *native = chat_get(m, "tool_responses");
        if (chat_truthy(native)) {
            if (put_native_responses(r, native, idx) < 0) return -1;
            responded = true;
        } else if (has_calls) {
            int used = put_tool_messages(r, msgs, n, i, base);
            if (used < 0) return -1;
            responded = used > 0;
            i += used;
        }
        size_t before = r->b.len;
        if (put_content(r, chat_get(m, "content"), model, idx) < 0) return -1;
        const char *t;
        size_t tn = 0;
        if (!r->b.oom && r->b.len > before) chat_strip(r->b.p + before, r->b.len - before, &t, &tn);
        bool has_content = tn > 0;
        if (r->prev == PREV_TOOL_CALL && !responded) chat_puts(&r->b, "<|tool_response>");
        else if (!(responded && !has_content)) chat_puts(&r->b, "<turn|>\n");
    }
    return 0;
}

/* Public: render a conversation (see engine.h). */
char *gm_chat_render(const cJSON *messages, const cJSON *tools, const gm_chat_opts *opts, gm_err *err)
{
    gm_chat_opts o = { .think = false, .add_generation_prompt = true, .family = GM_CHAT_SMALL };
    if (opts) o = *opts;
    if (!cJSON_IsArray(messages)) {
        gm_err_set(err, GM_E_ARG, "chat: messages is %s; expected a JSON array of "
                   "{\"role\":...,\"content\":...}", messages ? "not an array" : "NULL");
        return NULL;
    }
    if (tools && !cJSON_IsNull(tools) && !cJSON_IsArray(tools)) {
        gm_err_set(err, GM_E_ARG, "chat: tools is not an array of {\"type\":\"function\","
                   "\"function\":{...}}");
        return NULL;
    }
    int n = cJSON_GetArraySize(messages);
    if (n <= 0) {
        gm_err_set(err, GM_E_ARG, "chat: messages is empty; give at least one message");
        return NULL;
    }
    const cJSON **msgs = malloc((size_t)n * sizeof *msgs);
    if (!msgs) {
        gm_err_set(err, GM_E_NOMEM, "chat: out of memory for %d messages", n);
        return NULL;
    }
    int i = 0;
    for (const cJSON *c = messages->child; c && i < n; c = c->next) msgs[i++] = c;
    render r = { .b = {0}, .err = err, .prev = PREV_NONE };
    int rc = check_messages(&r, msgs, n);
    if (rc == 0) {
        chat_puts(&r.b, "<bos>");
        const char *r0 = role_of(msgs[0]);
        bool has_system = strcmp(r0, "system") == 0 || strcmp(r0, "developer") == 0;
        if (o.think || chat_truthy(tools) || has_system)
            rc = put_system(&r, msgs[0], tools, &o, has_system);
        int skip = has_system ? 1 : 0;
        if (rc == 0) rc = put_messages(&r, msgs + skip, n - skip, skip);
    }
    if (rc == 0 && o.add_generation_prompt &&
        r.prev != PREV_TOOL_RESPONSE && r.prev != PREV_TOOL_CALL) {
        chat_puts(&r.b, "<|turn>model\n");
        if (o.family == GM_CHAT_LARGE && !o.think) chat_puts(&r.b, "<|channel>thought\n<channel|>");
    }
    free(msgs);
    if (rc != 0) { free(r.b.p); return NULL; }
    char *s = chat_take(&r.b);
    if (!s) gm_err_set(err, GM_E_NOMEM, "chat: out of memory while rendering %d messages", n);
    return s;
}

/* Public: tell the template families apart by the large template's
 * generation-prompt logic (an empty thought channel after "<|turn>model"). */
gm_chat_family gm_chat_family_from_template(const char *template_text)
{
    if (!template_text) return GM_CHAT_SMALL;
    if (strstr(template_text, "<|channel>thought\\n<channel|>") ||
        strstr(template_text, "<|channel>thought\n<channel|>"))
        return GM_CHAT_LARGE;
    return GM_CHAT_SMALL;
}
