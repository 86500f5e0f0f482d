/* parse.c: the incremental reader of a model turn.
 *
 * A Gemma 4 model turn mixes answer text, a thought channel
 * (<|channel>thought\n...<channel|>) and tool calls
 * (<|tool_call>call:NAME{...}<tool_call|>), and ends at <|tool_response>,
 * <turn|> or <eos>.  The agent streams text to the user while tokens arrive,
 * so this reader takes symbols in any split and keeps, per turn: the text,
 * the thought (label stripped) and the calls (read by value.c).  Known
 * deviations are accepted: a call closed by <turn|>, <eos> or
 * <|tool_response> instead of <tool_call|>, and a new <|tool_call> before the
 * previous one was closed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"

typedef struct { char *p; size_t n, cap; } sbuf;

/* Grow-and-append; the buffer stays NUL-terminated. */
static int sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->n + n + 1) c *= 2;
        char *q = realloc(b->p, c);
        if (!q) return -1;
        b->p = q; b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

struct ag_parser {
    ag_out_fn out;
    void     *ud;
    int       state;          /* AG_PS_* */
    bool      stopped;
    bool      oom;
    sbuf      text, thought;
    int      *call; size_t ncall, capcall;
    char      label[16]; size_t nlabel; bool label_open;
    char      pend[32]; size_t npend;   /* text that may be a control token */
    cJSON    *calls;
};

static const char thought_label[] = "thought\n";

/* A reader for one model output; out (may be NULL) streams text and thoughts. */
ag_parser *ag_parser_new(ag_out_fn out, void *ud)
{
    ag_parser *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->out = out; p->ud = ud;
    p->calls = cJSON_CreateArray();
    if (!p->calls || sb_add(&p->text, "", 0) || sb_add(&p->thought, "", 0)) {
        ag_parser_free(p);
        return NULL;
    }
    return p;
}

/* Free the reader and the calls it holds. */
void ag_parser_free(ag_parser *p)
{
    if (!p) return;
    free(p->text.p); free(p->thought.p); free(p->call);
    cJSON_Delete(p->calls);
    free(p);
}

/* Append to the answer or the thought and stream it out. */
static void emit(ag_parser *p, int kind, const char *s, size_t n)
{
    if (!n) return;
    if (sb_add(kind == AG_OUT_TEXT ? &p->text : &p->thought, s, n)) { p->oom = true; return; }
    if (p->out) p->out(p->ud, kind, s, n);
}

/* The thought label is withheld until we know whether it is the label. */
static void label_flush(ag_parser *p, bool drop_if_label)
{
    if (!p->label_open) return;
    p->label_open = false;
    bool is_label = p->nlabel > 0 && memcmp(p->label, thought_label, p->nlabel) == 0;
    if (!(drop_if_label && is_label)) emit(p, AG_OUT_THOUGHT, p->label, p->nlabel);
    p->nlabel = 0;
}

/* Text for a control symbol seen where it has no protocol meaning. */
static void emit_sym(ag_parser *p, int kind, int sym)
{
    char c = (char)sym;
    if (sym < 256) emit(p, kind, &c, 1);
    else if (ag_sym_text(sym)) emit(p, kind, ag_sym_text(sym), strlen(ag_sym_text(sym)));
}

/* Render the collected call symbols as text (for errors and history). */
static char *call_raw(const ag_parser *p)
{
    sbuf b = {0};
    if (sb_add(&b, "", 0)) return NULL;
    for (size_t i = 0; i < p->ncall; i++) {
        char c = (char)p->call[i];
        const char *t = ag_sym_text(p->call[i]);
        if (p->call[i] < 256 ? sb_add(&b, &c, 1) : sb_add(&b, t ? t : "", t ? strlen(t) : 0)) {
            free(b.p);
            return NULL;
        }
    }
    return b.p;
}

/* A call ended (properly or not): read it and record the result. */
static void end_call(ag_parser *p, const char *why_cut)
{
    char err[1024];
    cJSON *c = NULL;
    if (!why_cut) c = ag_parse_call(p->call, p->ncall, err, sizeof err);
    else snprintf(err, sizeof err, "%s", why_cut);
    if (!c) {
        c = cJSON_CreateObject();
        char *raw = call_raw(p);
        if (!c || !raw) { p->oom = true; cJSON_Delete(c); free(raw); p->state = AG_PS_TEXT; return; }
        /* name it if the head is readable, so the error can be routed */
        if (strncmp(raw, "call:", 5) == 0) {
            size_t k = 5;
            while (raw[k] && raw[k] != '{' && raw[k] != '<' && k < 200) k++;
            if (k > 5) {
                char nm[201];
                memcpy(nm, raw + 5, k - 5); nm[k - 5] = 0;
                cJSON_AddStringToObject(c, "name", nm);
            }
        }
        cJSON_AddStringToObject(c, "error", err);
        cJSON_AddStringToObject(c, "raw", raw);
        free(raw);
    }
    cJSON_AddItemToArray(p->calls, c);
    p->ncall = 0;
    p->state = AG_PS_TEXT;
}

/* One symbol while a call is open. */
static void call_sym(ag_parser *p, int s)
{
    switch (s) {
    case AG_SYM_CALL_CLOSE: end_call(p, NULL); return;
    case AG_SYM_CALL_OPEN:  end_call(p, NULL); p->state = AG_PS_CALL; return;
    case AG_SYM_TURN_CLOSE: case AG_SYM_EOS: case AG_SYM_RESP_OPEN:
        end_call(p, NULL);
        p->stopped = true;
        return;
    default: break;
    }
    if (p->ncall == p->capcall) {
        size_t c = p->capcall ? p->capcall * 2 : 256;
        int *q = realloc(p->call, c * sizeof *q);
        if (!q) { p->oom = true; return; }
        p->call = q; p->capcall = c;
    }
    p->call[p->ncall++] = s;
}

/* Feed one symbol through the turn-level state machine. */
static void feed1(ag_parser *p, int s)
{
    if (p->stopped) return;
    if (p->state == AG_PS_CALL) { call_sym(p, s); return; }
    if (s == AG_SYM_RESP_OPEN || s == AG_SYM_TURN_CLOSE || s == AG_SYM_EOS) {
        label_flush(p, true);
        p->stopped = true;
        return;
    }
    if (s == AG_SYM_CALL_OPEN) {
        label_flush(p, true);
        p->state = AG_PS_CALL;
        p->ncall = 0;
        return;
    }
    if (p->state == AG_PS_THOUGHT) {
        if (s == AG_SYM_CH_CLOSE) { label_flush(p, true); p->state = AG_PS_TEXT; return; }
        if (p->label_open) {
            if (s < 256 && p->nlabel < sizeof thought_label - 1 && (char)s == thought_label[p->nlabel]) {
                p->label[p->nlabel++] = (char)s;
                if (p->nlabel == sizeof thought_label - 1) { p->label_open = false; p->nlabel = 0; }
                return;
            }
            label_flush(p, false);
        }
        if (s != AG_SYM_CH_OPEN) emit_sym(p, AG_OUT_THOUGHT, s);
        return;
    }
    if (s == AG_SYM_CH_OPEN) {
        p->state = AG_PS_THOUGHT;
        if (p->thought.n) emit(p, AG_OUT_THOUGHT, "\n", 1);
        p->label_open = true;
        p->nlabel = 0;
        return;
    }
    if (s == AG_SYM_CH_CLOSE || s == AG_SYM_TURN_OPEN || s == AG_SYM_OTHER) return;
    emit_sym(p, AG_OUT_TEXT, s);
}

/* Symbol input: what the decoder has, one token's symbols at a time. */
int ag_parser_feed_sym(ag_parser *p, const int *syms, size_t n)
{
    for (size_t i = 0; i < n; i++) feed1(p, syms[i]);
    return p->oom ? -1 : 0;
}

/* Is t[0..n) a proper prefix of some control token's text? */
static bool ctl_prefix(const char *t, size_t n)
{
    for (int s = 256; s < AG_SYM_OTHER; s++) {
        const char *c = ag_sym_text(s);
        if (n < strlen(c) && memcmp(c, t, n) == 0) return true;
    }
    return false;
}

/* Text input (tests, history): control-token text becomes symbols, even split. */
int ag_parser_feed_text(ag_parser *p, const char *s, size_t n)
{
    size_t total = p->npend + n;
    char *buf = malloc(total + 1);
    if (!buf) return -1;
    memcpy(buf, p->pend, p->npend);
    memcpy(buf + p->npend, s, n);
    /* hold back a tail that could still grow into a control token */
    size_t keep = total;
    for (size_t i = total > 20 ? total - 20 : 0; i < total; i++)
        if (buf[i] == '<' && ctl_prefix(buf + i, total - i)) { keep = i; break; }
    size_t ns;
    int *syms = ag_text_to_syms(buf, keep, &ns);
    if (!syms) { free(buf); return -1; }
    p->npend = total - keep;
    memcpy(p->pend, buf + keep, p->npend);
    free(buf);
    int rc = ag_parser_feed_sym(p, syms, ns);
    free(syms);
    return rc;
}

/* The output ended: flush held text, report an unfinished call. */
void ag_parser_finish(ag_parser *p)
{
    if (p->npend) {
        int syms[32];
        for (size_t i = 0; i < p->npend; i++) syms[i] = (unsigned char)p->pend[i];
        size_t n = p->npend;
        p->npend = 0;
        ag_parser_feed_sym(p, syms, n);
    }
    if (p->state == AG_PS_CALL)
        end_call(p, "the tool call was cut off before <tool_call|> (output ended); "
                    "write the whole call again");
    label_flush(p, true);
}

int          ag_parser_state(const ag_parser *p)   { return p->state; }
bool         ag_parser_stopped(const ag_parser *p) { return p->stopped; }
const char  *ag_parser_text(const ag_parser *p)    { return p->text.p; }
const char  *ag_parser_thought(const ag_parser *p) { return p->thought.p; }
const cJSON *ag_parser_calls(const ag_parser *p)   { return p->calls; }
