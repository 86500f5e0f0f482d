/* repl_cmds.c: the interactive shell's commands.
 *
 *   /help /think [on|off] /tools /approval [ask|auto-edit|never] /compact
 *   /clear /undo /diff /save [FILE] /resume [ID|last|FILE] /status /exit
 *   !cmd    runs cmd in the sandbox (same fence as the shell tool) and shows
 *           its output; the output is NOT sent to the model (ask the model
 *           to run it when it should see it)
 *   @path   in a task attaches the file: its text is added to the message,
 *           after sb_check_path allowed reading it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include "repl.h"
#include "prompt.h"

#define ATTACH_MAX 65536

static const char help_text[] =
    "Commands:\n"
    "  /help                 this list\n"
    "  /think [on|off]       show or switch thinking (applies from the next task)\n"
    "  /tools                the tools the model can call\n"
    "  /approval [MODE]      show or set: ask | auto-edit | never\n"
    "  /compact              summarise older messages now to free context\n"
    "  /clear                start a new conversation (same session file)\n"
    "  /undo                 take back the last file change made by a tool\n"
    "  /diff                 every file change the tools made this session\n"
    "  /save [FILE]          where the session is saved; with FILE, copy it there\n"
    "  /resume [ID|last|FILE] load a saved conversation\n"
    "  /status               model, context use, sandbox, approval, files\n"
    "  /exit                 leave (also Ctrl-D, or Ctrl-C twice on an empty line)\n"
    "Input:\n"
    "  !cmd                  run cmd in the sandbox; its output is shown, not sent to the model\n"
    "  @path                 attach a file to the task (its text joins your message)\n"
    "  line\\                 a backslash at the end continues on the next line\n"
    "  \"\"\"                   a line with only \"\"\" starts and ends a multi-line block\n"
    "  Ctrl-C                stop the model or the running tool (the partial result is kept)\n";

/* Tokens the conversation takes now (-1 when it cannot be rendered). */
static int context_tokens(repl *r)
{
    int32_t *ids = NULL;
    size_t n = 0;
    char err[512];
    if (ag_render_tokens(r->s, r->s->messages, true, &ids, &n, err, sizeof err)) return -1;
    free(ids);
    return (int)n;
}

static void cmd_status(repl *r)
{
    ag_session *s = r->s;
    const ag_stats *st = &s->st;
    int used = s->b.chat ? 0 : context_tokens(r);
    printf("model      %s\n", r->inner_b.name ? r->inner_b.name : "?");
    if (s->b.chat)   /* a server renders and counts the prompt itself */
        printf("context    %d messages, counted by the model server\n", cJSON_GetArraySize(s->messages));
    else
        printf("context    %d of %d tokens (%d messages)\n", used, s->b.n_ctx, cJSON_GetArraySize(s->messages));
    printf("session    %s%s%s\n", s->id, s->path[0] ? "  " : "", s->path);
    printf("think      %s\n", s->o.think ? "on" : "off");
    printf("approval   %s\n", ag_approval_name(s->approval.mode));
    if (r->pol) {
        printf("sandbox    %s, network %s\n", sb_mode_name(r->pol->mode), r->pol->allow_network ? "on" : "off");
        printf("workspace  %s\n", r->pol->workspace);
        for (int i = 0; i < r->pol->n_writable; i++) printf("writable   %s\n", r->pol->writable[i]);
    }
    printf("tools      %d declared\n", cJSON_GetArraySize(s->tools));
    printf("usage      %d model turns, %ld tokens in, %ld out, %d tool calls, %d denials, %d compactions\n",
           st->turns, st->input_tokens, st->output_tokens, st->tool_calls, st->denials, st->compactions);
    char cwd[4096];
    char *files = getcwd(cwd, sizeof cwd) ? ag_agents_files(cwd, NULL) : NULL;
    if (files && *files) {
        for (char *l = files, *nl; *l; l = nl + 1) { nl = strchr(l, '\n'); *nl = 0; printf("AGENTS.md  %s\n", l); }
    } else {
        printf("AGENTS.md  none\n");
    }
    free(files);
    if (r->gt) printf("journal    %d file change%s can be undone\n", gt_journal_count(r->gt),
                      gt_journal_count(r->gt) == 1 ? "" : "s");
}

static void cmd_tools(repl *r)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, r->s->tools) {
        const cJSON *f = cJSON_GetObjectItem(t, "function");
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(f ? f : t, "name"));
        const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(f ? f : t, "description"));
        size_t n = desc ? strcspn(desc, ".\n") : 0;
        printf("  %-12s %.*s\n", name ? name : "?", (int)(n > 100 ? 100 : n), desc ? desc : "");
    }
}

/* Newest saved session other than the current one. */
static int last_session(repl *r, char *out, size_t cap)
{
    return ag_newest_session(&r->s->o, r->s->path, out, cap);
}

static void cmd_resume(repl *r, const char *arg)
{
    char path[4300], err[1024];
    if (!*arg || !strcmp(arg, "last")) {
        if (last_session(r, path, sizeof path)) { printf("no other saved session to resume\n"); return; }
    } else if (strchr(arg, '/') || access(arg, R_OK) == 0) {
        snprintf(path, sizeof path, "%s", arg);
    } else {
        char dir[3800];
        if (ag_state_dir(&r->s->o, dir, sizeof dir)) { printf("no state folder (set HOME)\n"); return; }
        snprintf(path, sizeof path, "%s/sessions/%.200s.jsonl", dir, arg);
    }
    if (ag_session_load(r->s, path, err, sizeof err)) { printf("cannot resume: %s\n", err); return; }
    printf("resumed %s (%d messages)\n", path, cJSON_GetArraySize(r->s->messages));
}

static void cmd_save(repl *r, const char *arg)
{
    if (!r->s->path[0]) { printf("this session is not saved (--no-session)\n"); return; }
    if (!*arg) { printf("the session is saved as it goes, in %s\n", r->s->path); return; }
    FILE *in = fopen(r->s->path, "rb"), *out = in ? fopen(arg, "wx") : NULL;
    if (!in || !out) {
        printf("cannot save to %s: %s\n", arg, strerror(errno));
        if (in) fclose(in);
        return;
    }
    char buf[65536];
    size_t n;
    bool bad = false;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) if (fwrite(buf, 1, n, out) != n) bad = true;
    fclose(in);
    if (fclose(out) || bad) printf("cannot write %s: %s\n", arg, strerror(errno));
    else printf("saved to %s (resume it with /resume %s)\n", arg, arg);
}

bool repl_slash(repl *r, const char *line)
{
    ag_session *s = r->s;
    char cmd[32];
    size_t n = strcspn(line, " \t\n");
    snprintf(cmd, sizeof cmd, "%.*s", (int)(n < 31 ? n : 31), line);
    const char *arg = line + n;
    arg += strspn(arg, " \t\n");
    char a[512];
    snprintf(a, sizeof a, "%s", arg);
    for (size_t k = strlen(a); k && isspace((unsigned char)a[k - 1]);) a[--k] = 0;
    char err[1024];
    if (!strcmp(cmd, "/help")) fputs(help_text, stdout);
    else if (!strcmp(cmd, "/exit") || !strcmp(cmd, "/quit")) r->quit = true;
    else if (!strcmp(cmd, "/status")) cmd_status(r);
    else if (!strcmp(cmd, "/tools")) cmd_tools(r);
    else if (!strcmp(cmd, "/think")) {
        if (!strcmp(a, "on")) s->o.think = true;
        else if (!strcmp(a, "off")) s->o.think = false;
        else if (*a) { printf("/think takes on or off\n"); return true; }
        printf("thinking is %s\n", s->o.think ? "on" : "off");
    } else if (!strcmp(cmd, "/approval")) {
        ag_approval_mode m;
        if (*a && ag_approval_parse(a, &m)) { printf("/approval takes ask, auto-edit or never\n"); return true; }
        if (*a) s->approval.mode = s->o.approval = m;
        printf("approval mode: %s\n", ag_approval_name(s->approval.mode));
    } else if (!strcmp(cmd, "/clear")) {
        while (cJSON_GetArraySize(s->messages) > 1) cJSON_DeleteItemFromArray(s->messages, 1);
        ag_store_compaction(s);
        printf("(conversation cleared)\n");
    } else if (!strcmp(cmd, "/compact")) {
        int before = s->b.chat ? cJSON_GetArraySize(s->messages) : context_tokens(r);
        if (ag_compact(s, s->b.chat ? -1 : before, err, sizeof err)) printf("cannot compact: %s\n", err);
        else if (s->b.chat) printf("compacted: %d -> %d messages\n", before, cJSON_GetArraySize(s->messages));
        else printf("compacted: %d -> %d tokens\n", before, context_tokens(r));
    } else if (!strcmp(cmd, "/undo")) {
        if (!r->gt) { printf("no tools context: nothing to undo\n"); return true; }
        char msg[1024];
        gt_undo(r->gt, msg, sizeof msg);
        ag_put_safe(stdout, msg, strlen(msg));   /* the path is the model's: its controls are shown, not obeyed */
        putchar('\n');
    } else if (!strcmp(cmd, "/diff")) {
        char *d = r->gt ? gt_diff(r->gt) : NULL;
        if (!d || !*d) printf("no file changes by the tools in this session\n");
        else repl_show_diff(r, d, "");
        free(d);
    } else if (!strcmp(cmd, "/save")) cmd_save(r, a);
    else if (!strcmp(cmd, "/resume")) cmd_resume(r, a);
    else return false;
    fflush(stdout);
    return true;
}

void repl_bang(repl *r, const char *cmd)
{
    cmd += strspn(cmd, " \t");
    if (!*cmd) { printf("usage: !command (runs in the sandbox; the output is not sent to the model)\n"); return; }
    if (!r->gt) { printf("no tools context: cannot run commands\n"); return; }
    cJSON *args = cJSON_CreateObject();
    if (!args || !cJSON_AddStringToObject(args, "command", cmd)) { cJSON_Delete(args); return; }
    *r->intr = 0;
    cJSON *res = gt_call(r->gt, "shell", args, r->intr);
    cJSON_Delete(args);
    const char *out = cJSON_GetStringValue(cJSON_GetObjectItem(res, "output"));
    if (out) { fputs(out, stdout); if (*out && out[strlen(out) - 1] != '\n') putchar('\n'); }
    const cJSON *ec = cJSON_GetObjectItem(res, "exit_code");
    if (cJSON_IsTrue(cJSON_GetObjectItem(res, "interrupted")))
        printf("%s[interrupted]%s\n", repl_c(r, "\033[33m"), repl_c(r, "\033[0m"));
    else if (cJSON_IsNumber(ec) && ec->valueint != 0)
        printf("%s[exit %d]%s\n", repl_c(r, "\033[33m"), ec->valueint, repl_c(r, "\033[0m"));
    const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(res, "error"));
    if (e && !out) printf("cannot run it: %s\n", e);
    const char *hint = cJSON_GetStringValue(cJSON_GetObjectItem(res, "hint"));
    if (hint && *hint) printf("sandbox: %s\n", hint);
    cJSON_Delete(res);
    *r->intr = 0;
    fflush(stdout);
}

/* Read an attached file after the policy allowed it. */
static char *read_attached(repl *r, const char *path, char *why, size_t cap)
{
    char resolved[4096];
    if (r->pol && sb_check_path(r->pol, path, SB_ACCESS_READ, resolved, sizeof resolved, why, cap)) return NULL;
    if (!r->pol) snprintf(resolved, sizeof resolved, "%s", path);
    FILE *f = fopen(resolved, "rb");
    if (!f) { snprintf(why, cap, "%s", strerror(errno)); return NULL; }
    char *t = malloc(ATTACH_MAX + 1);
    size_t n = t ? fread(t, 1, ATTACH_MAX, f) : 0;
    bool more = t && fgetc(f) != EOF;
    fclose(f);
    if (!t) { snprintf(why, cap, "out of memory"); return NULL; }
    t[n] = 0;
    if (memchr(t, 0, n)) { free(t); snprintf(why, cap, "it is a binary file"); return NULL; }
    if (more) {
        snprintf(why, cap, "larger than %d bytes: only the start is attached", ATTACH_MAX);
        fprintf(stderr, "gemmash: @%s is %s\n", path, why);
    }
    return t;
}

char *repl_attach(repl *r, const char *text)
{
    char *out = strdup(text);
    if (!out) return NULL;
    for (const char *p = text; (p = strchr(p, '@'));) {
        bool start = p == text || isspace((unsigned char)p[-1]);
        size_t n = strcspn(p + 1, " \t\n\"'`");
        while (n && strchr(".,;:!?)", p[n])) n--;         /* "see @a.c." */
        if (!start || n == 0) { p++; continue; }
        char path[4096], why[1024];
        snprintf(path, sizeof path, "%.*s", (int)n, p + 1);
        p += n + 1;
        why[0] = 0;
        char *t = read_attached(r, path, why, sizeof why);
        if (!t) {
            fprintf(stderr, "gemmash: cannot attach @%s: %s\n", path, why);
            free(out);
            return NULL;
        }
        size_t need = strlen(out) + strlen(path) + strlen(t) + 64;
        char *q = malloc(need);
        if (q) snprintf(q, need, "%s\n\n[attached file: %s]\n```\n%s%s```", out, path, t,
                        *t && t[strlen(t) - 1] != '\n' ? "\n" : "");
        free(t);
        free(out);
        if (!q) return NULL;
        out = q;
        fprintf(stderr, "(attached %s)\n", path);
    }
    return out;
}
