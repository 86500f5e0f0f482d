/* repl.h: the interactive shell's insides (repl.c, repl_cmds.c, repl_ui.c).
 *
 * The shell wraps the session's model backend and toolbox (their function
 * pointers) to show a spinner during prefill and each tool call as it runs,
 * answers approval questions on the terminal, and reads lines with GNU
 * readline's callback interface so that Ctrl-C at the prompt clears the
 * line (twice on an empty line: quit) instead of killing the process. */
#ifndef GEMMASH_REPL_H
#define GEMMASH_REPL_H
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include "agent_int.h"
#include "rules.h"
#include "tools.h"

typedef struct repl {
    ag_session *s;
    bool        color;              /* ANSI colours on stdout */
    bool        tty_err;            /* stderr is a terminal: spinner */
    volatile sig_atomic_t *intr;    /* the session's interrupt flag */
    volatile sig_atomic_t own_intr; /* used when the session has none */
    char        history_path[4096]; /* "" = no history file */
    int         ctrl_c_empty;       /* Ctrl-C presses on an empty prompt in a row */
    bool        quit;
    /* the wrapped backend and toolbox */
    ag_backend  inner_b;
    ag_toolbox  inner_t;
    gt_ctx     *gt;                 /* the tools context (undo, diff, preview, !cmd); may be NULL */
    const sb_policy *pol;           /* for @path checks; may be NULL */
    /* approvals answered "always" this session */
    ag_rules   *always_shell;       /* prefixes of shell commands */
    char        always_tools[16][64];
    int         n_always_tools;
    char        deny_reason[1024];  /* the user's reason for the last "no" */
    /* readline callback state */
    char       *line;
    bool        line_ready, line_eof;
    /* spinner (a thread drawing on stderr while the model prefills) */
    pthread_t   spin_th;
    pthread_mutex_t spin_mu;
    pthread_cond_t  spin_cv;
    bool        spin_running, spin_stop;
    int         spin_tokens;    /* the prompt's tokens; -1: a chat server's reply is awaited */
    double      spin_t0;
    /* the wrapped generate's per-call state */
    int       (*user_on_token)(void *, int32_t, const char *, size_t);
    int       (*user_mask)(void *, uint32_t *, int);
    void       *user_ud;
    int         gen_tokens;
    /* the wrapped chat's (a remote backend's) per-call state */
    void      (*user_show)(void *, int, const char *, size_t);
    void       *user_show_ud;
    bool        chat_shown;
} repl;

/* repl.c */
/* The interactive shell on a session (replaces the minimal loop of shell.c). */
int ag_repl_run(ag_session *s);
/* Read one line with the prompt; NULL at EOF; *intr set when Ctrl-C ended it. */
char *repl_readline(repl *r, const char *prompt, bool *intr);
/* Colour escape or "" when colours are off. */
const char *repl_c(const repl *r, const char *code);

/* repl_cmds.c */
/* Run a slash command (line starts with '/'); false if unknown. */
bool repl_slash(repl *r, const char *line);
/* Run !cmd in the sandbox and show its output. */
void repl_bang(repl *r, const char *cmd);
/* Expand @path mentions: a new string with the files appended (malloc'd),
 * or NULL with a message printed when a file cannot be attached. */
char *repl_attach(repl *r, const char *text);

/* repl_ui.c */
void repl_ui_install(repl *r);     /* wrap backend and toolbox, set the ask hook */
void repl_ui_remove(repl *r);      /* restore them */
void repl_spin_stop(repl *r);
/* Print a unified diff, each line after indent, + and - lines coloured. */
void repl_show_diff(repl *r, const char *d, const char *indent);

#endif
