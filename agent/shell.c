/* shell.c: the interactive shell, a readline loop around the session.
 *
 * Type a task and the answer streams back (thoughts dimmed); /exit or
 * Ctrl-D leaves; Ctrl-C stops the model and keeps what it said so far.
 * Calls that need approval are asked about on the terminal.  Slash commands
 * beyond /exit, /help and /clear are for later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/readline.h>
#include <readline/history.h>
#include "agent_int.h"
#include "commands.h"

/* Ask the user whether a call may run: y/N on the terminal. */
static int ask_user(void *ud, const char *tool, const cJSON *args, const char *why)
{
    (void)ud;
    char *a = cJSON_PrintUnformatted(args);
    fprintf(stderr, "\n%s(%.300s)\n  %s\n", tool, a ? a : "", why);
    free(a);
    char *line = readline("Allow? [y/N] ");
    int ok = line && (line[0] == 'y' || line[0] == 'Y');
    free(line);
    return ok;
}

/* The readline loop. */
int ag_shell_run(ag_session *s)
{
    s->o.ask = ask_user;
    fprintf(stderr, "gemmash: model %s, context %d tokens, session %s.  /exit to leave.\n",
            s->b.name ? s->b.name : "?", s->b.n_ctx, s->id);
    int last = GM_EXIT_OK;
    for (;;) {
        if (s->o.interrupt) *s->o.interrupt = 0;
        char *line = readline("gemmash> ");
        if (!line) { fputc('\n', stderr); break; }
        char *t = line + strspn(line, " \t");
        if (!*t) { free(line); continue; }
        add_history(t);
        if (!strcmp(t, "/exit") || !strcmp(t, "/quit")) { free(line); break; }
        if (!strcmp(t, "/help")) {
            fputs("/exit  leave    /clear  start a new conversation    Ctrl-C  stop the model\n", stderr);
            free(line);
            continue;
        }
        if (!strcmp(t, "/clear")) {
            while (cJSON_GetArraySize(s->messages) > 1) cJSON_DeleteItemFromArray(s->messages, 1);
            ag_store_compaction(s);
            fputs("(conversation cleared)\n", stderr);
            free(line);
            continue;
        }
        if (s->o.interrupt) *s->o.interrupt = 0;   /* a Ctrl-C at the prompt is not for this task */
        last = ag_session_turn(s, t);
        free(line);
        if (last != GM_EXIT_OK) {
            const char *m = s->errmsg[0] ? s->errmsg : s->stop_msg;
            fprintf(stderr, "gemmash: %s\n", m ? m : "the turn stopped");
        }
    }
    return GM_EXIT_OK;      /* leaving the shell is a normal end */
}
