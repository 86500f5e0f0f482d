/* repl.c: the interactive shell: read a task, run it, show the answer.
 *
 * Input: GNU readline through its callback interface, so a Ctrl-C at the
 * prompt can clear the line (like bash) instead of killing the process;
 * twice on an empty line quits.  A line ending with a backslash continues on
 * the next line; a line holding only """ starts a block that ends at the
 * next such line.  History is kept in $XDG_STATE_HOME/gemmash/history
 * (~/.local/state/gemmash/history); a line that starts with a space is not
 * saved there.
 *
 * Ctrl-C during generation stops the model and keeps the partial answer in
 * the conversation; during a tool it stops the tool's whole process group
 * (the sandbox's interrupt flag) and the partial output, marked interrupted,
 * goes to the model.  /help lists the slash commands (repl_cmds.c).
 *
 * readline and signal dispositions are process-wide, so the shell reaches
 * its context from them through one static hookup (set while it runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/select.h>
#include <readline/readline.h>
#include <readline/history.h>
#include "repl.h"
#include "commands.h"
#include "prompt.h"

static struct {
    repl *r;                          /* the running shell (readline's line callback) */
    volatile sig_atomic_t *flag;      /* its interrupt flag (SIGINT handler) */
} hookup;

/* SIGINT: only raise the flag; the model, the tools and the prompt poll it. */
static void on_sigint(int sig)
{
    (void)sig;
    if (hookup.flag) *hookup.flag = 1;
}

const char *repl_c(const repl *r, const char *code) { return r->color ? code : ""; }

/* readline's callback for a finished line. */
static void on_line(char *line)
{
    repl *r = hookup.r;
    r->line = line;
    r->line_ready = true;
    r->line_eof = !line;
    rl_callback_handler_remove();
}

char *repl_readline(repl *r, const char *prompt, bool *intr)
{
    *intr = false;
    r->line = NULL;
    r->line_ready = r->line_eof = false;
    rl_callback_handler_install(prompt, on_line);
    while (!r->line_ready) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(STDIN_FILENO, &fds);
        int k = select(STDIN_FILENO + 1, &fds, NULL, NULL, NULL);
        if (k < 0 && errno == EINTR) {
            if (!*r->intr) continue;
            *r->intr = 0;
            *intr = true;
            bool empty = rl_end == 0;
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_cleanup_after_signal();
            rl_callback_handler_remove();
            fputs("\n", stdout);                   /* readline left the cursor at the line start */
            fflush(stdout);
            return strdup(empty ? "" : "x");     /* the caller only needs to know whether it was empty */
        }
        if (k < 0) {
            rl_callback_handler_remove();
            fprintf(stderr, "gemmash: cannot read the terminal: %s\n", strerror(errno));
            return NULL;
        }
        rl_callback_read_char();
    }
    return r->line;
}

/* A line that is only """ (spaces around allowed). */
static bool is_fence(const char *l)
{
    l += strspn(l, " \t");
    if (strncmp(l, "\"\"\"", 3)) return false;
    l += 3;
    return l[strspn(l, " \t")] == 0;
}

/* Append s and a newline to a malloc'd buffer; NULL when out of memory. */
static char *join(char *acc, const char *s, bool newline)
{
    size_t a = acc ? strlen(acc) : 0, n = strlen(s);
    char *q = realloc(acc, a + n + 2);
    if (!q) { free(acc); return NULL; }
    memcpy(q + a, s, n);
    if (newline) q[a + n++] = '\n';
    q[a + n] = 0;
    return q;
}

/* One whole input (continuations and """ blocks joined).  NULL at EOF;
 * *ctrl_c set when Ctrl-C abandoned it (then *was_empty says whether the
 * prompt was empty). */
static char *read_input(repl *r, bool *ctrl_c, bool *was_empty)
{
    char prompt[64];
    snprintf(prompt, sizeof prompt, "%sgemmash>%s ", r->color ? "\001\033[1;36m\002" : "",
             r->color ? "\001\033[0m\002" : "");
    *ctrl_c = false;
    bool intr;
    char *l = repl_readline(r, prompt, &intr);
    if (!l) return NULL;
    if (intr) { *ctrl_c = true; *was_empty = !*l; free(l); return strdup(""); }
    char *acc = NULL;
    if (is_fence(l)) {                                      /* """ block """ */
        free(l);
        for (;;) {
            l = repl_readline(r, "... ", &intr);
            if (!l || intr) { free(l); free(acc); *ctrl_c = intr; *was_empty = false; return l || intr ? strdup("") : NULL; }
            if (is_fence(l)) { free(l); break; }
            acc = join(acc, l, true);
            free(l);
            if (!acc) return strdup("");
        }
        if (acc && *acc) acc[strlen(acc) - 1] = 0;        /* the last newline */
        return acc ? acc : strdup("");
    }
    for (;;) {                                              /* backslash continuation */
        size_t n = strlen(l);
        bool more = n && l[n - 1] == '\\';
        if (more) l[n - 1] = 0;
        acc = join(acc, l, more);
        free(l);
        if (!acc) return strdup("");
        if (!more) return acc;
        l = repl_readline(r, "... ", &intr);
        if (!l || intr) { free(l); free(acc); *ctrl_c = intr; *was_empty = false; return l || intr ? strdup("") : NULL; }
    }
}

/* Load the history file (creating its folder), keep it to 2000 entries. */
static void history_open(repl *r)
{
    char dir[3800];
    if (r->s->o.no_history || ag_state_dir(&r->s->o, dir, sizeof dir)) return;
    if (ag_mkdirs(dir)) {
        fprintf(stderr, "gemmash: cannot create %s (%s); history will not be saved\n", dir, strerror(errno));
        return;
    }
    snprintf(r->history_path, sizeof r->history_path, "%s/history", dir);
    using_history();
    int e = read_history(r->history_path);
    if (e == ENOENT) e = write_history(r->history_path);
    if (e) {
        fprintf(stderr, "gemmash: cannot use the history file %s (%s); history will not be saved\n",
                r->history_path, strerror(e));
        r->history_path[0] = 0;
        return;
    }
    history_truncate_file(r->history_path, 2000);
}

/* Add one input to the history (one line: newlines become spaces). */
static void history_add(repl *r, const char *text)
{
    if (!*text || text[0] == ' ') return;
    char *flat = strdup(text);
    if (!flat) return;
    for (char *p = flat; *p; p++) if (*p == '\n') *p = ' ';
    add_history(flat);
    free(flat);
    if (r->history_path[0] && append_history(1, r->history_path))
        fprintf(stderr, "gemmash: cannot append to %s\n", r->history_path);
}

/* Run one task and say how it ended when that was not a plain answer. */
static void run_task(repl *r, const char *text)
{
    char *full = repl_attach(r, text);
    if (!full) return;
    *r->intr = 0;
    int st = ag_session_turn(r->s, full);
    free(full);
    fflush(stdout);
    if (st == GM_EXIT_INTERRUPTED)
        fprintf(stderr, "%s(interrupted; what the model said so far stays in the conversation)%s\n",
                repl_c(r, "\033[33m"), repl_c(r, "\033[0m"));
    else if (st != GM_EXIT_OK) {
        const char *m = r->s->errmsg[0] ? r->s->errmsg : r->s->stop_msg;
        if (!m) m = "the turn stopped";
        fputs("gemmash: ", stderr);
        ag_put_safe(stderr, m, strlen(m));   /* it may quote a server's error text or a tool name */
        fputc('\n', stderr);
    }
    *r->intr = 0;
}

int ag_repl_run(ag_session *s)
{
    repl *r = calloc(1, sizeof *r);
    if (!r) { fprintf(stderr, "gemmash: out of memory starting the shell\n"); return GM_EXIT_INTERNAL; }
    r->s = s;
    r->color = s->o.color;
    r->tty_err = isatty(STDERR_FILENO);
    r->intr = s->o.interrupt ? s->o.interrupt : &r->own_intr;
    r->always_shell = ag_rules_new();
    r->gt = s->t.gt;
    r->pol = s->t.policy;
    if (!r->always_shell) { free(r); fprintf(stderr, "gemmash: out of memory\n"); return GM_EXIT_INTERNAL; }
    hookup.r = r;
    hookup.flag = r->intr;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;                   /* no SA_RESTART: select() must wake up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    rl_catch_signals = 0;
    rl_catch_sigwinch = 1;
    rl_readline_name = "gemmash";
    history_open(r);
    repl_ui_install(r);

    char ctx[64] = "";
    if (!s->b.chat) snprintf(ctx, sizeof ctx, ", context %d tokens", s->b.n_ctx);   /* a server keeps its own */
    fprintf(stderr, "gemmash: model %s%s, session %s\n"
                    "Type a task; /help for commands, !cmd runs a command, @file attaches a file; "
                    "Ctrl-C stops the model, Ctrl-D or /exit leaves.\n",
            r->inner_b.name ? r->inner_b.name : "?", ctx, s->id);
    while (!r->quit) {
        bool ctrl_c = false, empty = false;
        *r->intr = 0;
        char *in = read_input(r, &ctrl_c, &empty);
        if (!in) { fputc('\n', stdout); break; }        /* Ctrl-D */
        if (ctrl_c) {
            free(in);
            if (!empty) { r->ctrl_c_empty = 0; continue; }
            if (++r->ctrl_c_empty >= 2) break;
            fprintf(stderr, "(press Ctrl-C again on an empty line to quit, or type /exit)\n");
            continue;
        }
        r->ctrl_c_empty = 0;
        char *t = in + strspn(in, " \t\n");
        if (!*t) { free(in); continue; }
        history_add(r, in);
        if (t[0] == '/' ) {
            if (!repl_slash(r, t))
                fprintf(stderr, "gemmash: unknown command '%.*s' (/help lists them)\n", (int)strcspn(t, " \t\n"), t);
        } else if (t[0] == '!') {
            repl_bang(r, t + 1);
        } else {
            run_task(r, t);
        }
        free(in);
    }
    repl_ui_remove(r);
    sigaction(SIGINT, &old, NULL);
    hookup.r = NULL;
    hookup.flag = NULL;
    ag_rules_free(r->always_shell);
    free(r);
    return GM_EXIT_OK;
}
