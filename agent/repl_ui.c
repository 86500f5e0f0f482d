/* repl_ui.c: what the interactive shell shows around the agent loop.
 *
 * The session's backend and toolbox are wrapped (their function pointers
 * replaced, the originals kept in the repl) so that the loop itself stays
 * unaware of the terminal:
 *   - generate: a spinner on stderr while the prompt is prefilled, stopped
 *     by the first sampled token; chat (a remote server): one while the
 *     reply is awaited, stopped by its first streamed piece;
 *   - tool calls: a header before the call and a short rendering after;
 *   - approval: the exact command or the diff a write would apply, then
 *     y (once), a (always this session), n (no, with a reason for the
 *     model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include "repl.h"

/* ---- spinner ---------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The spinner thread: redraws one status line on stderr every 100 ms. */
static void *spin_main(void *ud)
{
    repl *r = ud;
    static const char *const frames[] = {"|", "/", "-", "\\"};
    int i = 0;
    pthread_mutex_lock(&r->spin_mu);
    while (!r->spin_stop) {
        if (r->spin_tokens < 0)
            fprintf(stderr, "\r%s waiting for the model server... %.1fs ", frames[i++ % 4], now_s() - r->spin_t0);
        else
            fprintf(stderr, "\r%s reading %d tokens... %.1fs ", frames[i++ % 4], r->spin_tokens, now_s() - r->spin_t0);
        fflush(stderr);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&r->spin_cv, &r->spin_mu, &ts);
    }
    fputs("\r\033[K", stderr);
    fflush(stderr);
    pthread_mutex_unlock(&r->spin_mu);
    return NULL;
}

/* Start the spinner for a prompt of n tokens, or (n < 0) for a chat
 * server's reply (only on a terminal). */
static void spin_start(repl *r, int n)
{
    if (!r->tty_err || r->spin_running) return;
    r->spin_stop = false;
    r->spin_tokens = n;
    r->spin_t0 = now_s();
    if (pthread_create(&r->spin_th, NULL, spin_main, r) == 0) r->spin_running = true;
}

void repl_spin_stop(repl *r)
{
    if (!r->spin_running) return;
    pthread_mutex_lock(&r->spin_mu);
    r->spin_stop = true;
    pthread_cond_signal(&r->spin_cv);
    pthread_mutex_unlock(&r->spin_mu);
    pthread_join(r->spin_th, NULL);
    r->spin_running = false;
}

/* ---- wrapped backend ---------------------------------------------------- */

/* Each sampled token: the first one ends the spinner; then the loop's own hook. */
static int tok_hook(void *ud, int32_t tok, const char *text, size_t len)
{
    repl *r = ud;
    if (r->gen_tokens++ == 0) repl_spin_stop(r);
    return r->user_on_token ? r->user_on_token(r->user_ud, tok, text, len) : 0;
}

/* The loop's mask hook, given back its own user data. */
static int mask_hook(void *ud, uint32_t *allow, int vocab)
{
    repl *r = ud;
    return r->user_mask(r->user_ud, allow, vocab);
}

static int spin_generate(void *ud, const int32_t *prompt, int n, const gm_gen_params *p, gm_gen_result *res,
                         gm_err *err)
{
    repl *r = ud;
    gm_gen_params q = *p;
    r->user_on_token = p->on_token;
    r->user_mask = p->mask;
    r->user_ud = p->ud;
    r->gen_tokens = 0;
    q.on_token = tok_hook;
    q.mask = p->mask ? mask_hook : NULL;
    q.ud = r;
    spin_start(r, n);
    int rc = r->inner_b.generate(r->inner_b.ud, prompt, n, &q, res, err);
    repl_spin_stop(r);
    return rc;
}

/* A chat server's streamed text or thought: the first piece ends the
 * spinner; then the loop's own display. */
static void show_hook(void *ud, int kind, const char *t, size_t n)
{
    repl *r = ud;
    if (!r->chat_shown) { r->chat_shown = true; repl_spin_stop(r); }
    if (r->user_show) r->user_show(r->user_show_ud, kind, t, n);
}

/* A message-level backend (a remote server) through the shell: the same
 * call with its own user data (the wrapper's ud is the repl, so passing it
 * on would hand the server backend the wrong struct), under a spinner
 * until the reply starts. */
static int spin_chat(void *ud, const cJSON *messages, const cJSON *tools, const ag_chat_in *in, ag_chat_out *out,
                     char *err, size_t cap)
{
    repl *r = ud;
    ag_chat_in q = *in;
    r->user_show = in->show;
    r->user_show_ud = in->show_ud;
    r->chat_shown = false;
    q.show = show_hook;
    q.show_ud = r;
    spin_start(r, -1);
    int rc = r->inner_b.chat(r->inner_b.ud, messages, tools, &q, out, err, cap);
    repl_spin_stop(r);
    return rc;
}

/* ---- wrapped toolbox ------------------------------------------------------ */

static cJSON *tb_decl(void *ud) { repl *r = ud; return r->inner_t.declarations(r->inner_t.ud); }

static bool tb_mut(void *ud, const char *name)
{
    repl *r = ud;
    return r->inner_t.is_mutating ? r->inner_t.is_mutating(r->inner_t.ud, name) : true;
}

/* One line that says which call runs: "shell  $ make test". */
static void call_header(repl *r, const char *name, const cJSON *args)
{
    const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItem(args, "command"));
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(args, "path"));
    const char *pat = cJSON_GetStringValue(cJSON_GetObjectItem(args, "pattern"));
    printf("%s> %s%s", repl_c(r, "\033[1;33m"), name, repl_c(r, "\033[0m"));
    if (cmd) { fputs("  $ ", stdout); ag_put_safe(stdout, cmd, strnlen(cmd, 300)); }
    else if (path) { fputs("  ", stdout); ag_put_safe(stdout, path, strnlen(path, 300)); }
    if (pat) { fputs("  ", stdout); ag_put_safe(stdout, pat, strnlen(pat, 200)); }
    putchar('\n');
    fflush(stdout);
}

/* Print at most max_lines of text, indented, with a note of what was left out. */
static void show_excerpt(repl *r, const char *t, int max_lines)
{
    int lines = 0;
    const char *p = t;
    while (*p && lines < max_lines) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        printf("%s  ", repl_c(r, "\033[2m"));
        ag_put_safe(stdout, p, n);
        printf("%s\n", repl_c(r, "\033[0m"));
        lines++;
        p = e ? e + 1 : p + n;
    }
    int more = 0;
    for (; *p; p++) if (*p == '\n') more++;
    if (more) printf("%s  ... %d more lines%s\n", repl_c(r, "\033[2m"), more, repl_c(r, "\033[0m"));
}

static cJSON *tb_call(void *ud, const char *name, const cJSON *args, bool *failed, bool *fence)
{
    repl *r = ud;
    call_header(r, name, args);
    cJSON *res = r->inner_t.call(r->inner_t.ud, name, args, failed, fence);
    char *txt = res ? gt_render(name, args, res) : NULL;
    if (txt) {
        const char *body = txt;
        if (!strcmp(name, "shell") && !strncmp(body, "$ ", 2) && strchr(body, '\n')) body = strchr(body, '\n') + 1;
        show_excerpt(r, body, 12);
    }
    free(txt);
    if (cJSON_IsTrue(cJSON_GetObjectItem(res, "interrupted")))
        printf("%s  (interrupted by Ctrl-C; the partial output goes to the model)%s\n", repl_c(r, "\033[33m"),
               repl_c(r, "\033[0m"));
    fflush(stdout);
    return res;
}

static void tb_close(void *ud) { repl *r = ud; if (r->inner_t.close) r->inner_t.close(r->inner_t.ud); }

/* ---- approval --------------------------------------------------------------- */

/* Show a diff with + and - lines coloured (approval prompt, /diff). */
void repl_show_diff(repl *r, const char *d, const char *indent)
{
    for (const char *p = d; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *c = "";
        if (*p == '+' && strncmp(p, "+++", 3)) c = "\033[32m";
        else if (*p == '-' && strncmp(p, "---", 3)) c = "\033[31m";
        else if (*p == '@') c = "\033[36m";
        printf("%s%s", indent, repl_c(r, c));
        ag_put_safe(stdout, p, n);
        printf("%s\n", *c ? repl_c(r, "\033[0m") : "");
        p = e ? e + 1 : p + n;
    }
}

/* Was this call approved "always" earlier in the session? */
static bool always_allowed(repl *r, const char *tool, const cJSON *args)
{
    if (!strcmp(tool, "shell")) {
        const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItem(args, "command"));
        return cmd && ag_rules_check(r->always_shell, cmd, NULL, 0) == AG_RULE_ALLOW;
    }
    for (int i = 0; i < r->n_always_tools; i++)
        if (!strcmp(r->always_tools[i], tool)) return true;
    return false;
}

/* Remember an "always" answer: each simple command's prefix, or the tool. */
static void remember(repl *r, const char *tool, const cJSON *args)
{
    if (strcmp(tool, "shell")) {
        if (r->n_always_tools < 16) snprintf(r->always_tools[r->n_always_tools++], 64, "%s", tool);
        printf("(%s runs without asking for the rest of this session)\n", tool);
        return;
    }
    const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItem(args, "command"));
    char *parts = cmd ? ag_rules_explain(cmd, NULL) : NULL;
    for (char *l = parts, *nl; l && *l; l = nl + 1) {
        nl = strchr(l, '\n');
        *nl = 0;
        char pre[512], err[256];
        ag_rules_session_prefix(l, pre, sizeof pre);
        if (pre[0] && ag_rules_add(r->always_shell, AG_RULE_ALLOW, pre, err, sizeof err) == 0)
            printf("(commands starting with '%s' run without asking for the rest of this session)\n", pre);
    }
    free(parts);
}

/* The ask hook of the loop: 1 to allow. */
static int ask(void *ud, const char *tool, const cJSON *args, const char *why)
{
    repl *r = ud;
    r->deny_reason[0] = 0;
    if (always_allowed(r, tool, args)) return 1;
    repl_spin_stop(r);
    printf("\n%sgemmash asks:%s ", repl_c(r, "\033[1;35m"), repl_c(r, "\033[0m"));
    ag_put_safe(stdout, why, strlen(why));
    putchar('\n');
    char *pv = r->gt ? gt_preview(r->gt, tool, args) : NULL;
    if (!pv) pv = cJSON_PrintUnformatted(args);
    if (!strcmp(tool, "shell")) {
        const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItem(args, "command"));
        const char *wd = cJSON_GetStringValue(cJSON_GetObjectItem(args, "workdir"));
        printf("  %s$ ", repl_c(r, "\033[1m"));
        ag_put_safe(stdout, cmd ? cmd : "?", cmd ? strlen(cmd) : 1);
        printf("%s\n", repl_c(r, "\033[0m"));
        if (wd) { fputs("  (in ", stdout); ag_put_safe(stdout, wd, strlen(wd)); fputs(")\n", stdout); }
    } else {
        printf("  %s\n", tool);
        if (pv) repl_show_diff(r, pv, "  ");
    }
    free(pv);
    fflush(stdout);
    for (;;) {
        bool intr = false;
        char *a = repl_readline(r, "Allow? [y] once, [a] always this session, [n] no: ", &intr);
        if (!a || intr) {
            free(a);
            snprintf(r->deny_reason, sizeof r->deny_reason, "the user interrupted (Ctrl-C)");
            if (intr) *r->intr = 1;            /* Ctrl-C here also stops the turn */
            return 0;
        }
        char c = a[strspn(a, " \t")];
        free(a);
        if (c == 'y' || c == 'Y') return 1;
        if (c == 'a' || c == 'A') { remember(r, tool, args); return 1; }
        if (c == 'n' || c == 'N') {
            char *why_no = repl_readline(r, "Reason for the model (Enter to skip): ", &intr);
            if (why_no && !intr) snprintf(r->deny_reason, sizeof r->deny_reason, "%s", why_no);
            free(why_no);
            if (intr) *r->intr = 1;
            return 0;
        }
        printf("Please answer y, a or n.\n");
    }
}

/* The loop's hook for the reason of the last "no". */
static const char *ask_reason(void *ud)
{
    repl *r = ud;
    return r->deny_reason;
}

void repl_ui_install(repl *r)
{
    ag_session *s = r->s;
    pthread_mutex_init(&r->spin_mu, NULL);
    pthread_cond_init(&r->spin_cv, NULL);
    r->inner_b = s->b;
    r->inner_t = s->t;
    s->b.ud = r;
    s->b.generate = r->inner_b.generate ? spin_generate : NULL;
    s->b.chat = r->inner_b.chat ? spin_chat : NULL;
    s->t.ud = r;
    s->t.declarations = r->inner_t.declarations ? tb_decl : NULL;
    s->t.call = r->inner_t.call ? tb_call : NULL;
    s->t.is_mutating = r->inner_t.is_mutating ? tb_mut : NULL;
    s->t.close = tb_close;
    s->o.ask = ask;
    s->o.ask_ud = r;
    s->o.ask_reason = ask_reason;
}

void repl_ui_remove(repl *r)
{
    repl_spin_stop(r);
    r->s->b = r->inner_b;
    r->s->t = r->inner_t;
    pthread_mutex_destroy(&r->spin_mu);
    pthread_cond_destroy(&r->spin_cv);
}
