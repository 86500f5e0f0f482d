/* cli.c: `gemmash` without a subcommand: set up and run the agent.
 *
 * Order matters for the exit codes: usage errors (2) are found before the
 * model is loaded (3); the sandbox is checked (7) before anything can run;
 * then the task runs headless (with -p, or a task piped on standard input)
 * or the interactive shell starts.  A headless run never waits for a human:
 * what would ask is denied and reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <errno.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include "agent_int.h"
#include "ag_cli.h"
#include "commands.h"
#include "mstore.h"
#include "repl.h"
#include <getopt.h>

/* The one piece of state a signal handler may touch. */
static volatile sig_atomic_t interrupted;

/* Ctrl-C sets the flag that the engine and the tools poll. */
static void on_sigint(int sig)
{
    (void)sig;
    if (interrupted) signal(SIGINT, SIG_DFL);   /* a second Ctrl-C ends the process */
    interrupted = 1;
}

/* Read a whole file or stream into a malloc'd string. */
static char *slurp(FILE *f)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
        if (n + 1 == cap) {
            char *q = realloc(b, cap *= 2);
            if (!q) { free(b); return NULL; }
            b = q;
        }
    }
    if (b) b[n] = 0;
    return b;
}

/* A whole file, or NULL and why. */
static char *read_file(const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, cap, "cannot read %s: %s", path, strerror(errno)); return NULL; }
    char *t = slurp(f);
    fclose(f);
    if (!t) snprintf(err, cap, "out of memory reading %s", path);
    return t;
}

/* The session file for --resume ID|last. */
static int find_session(const ag_opts *o, const char *which, char *out, size_t cap, char *err, size_t ecap)
{
    char dir[3800];
    if (ag_state_dir(o, dir, sizeof dir)) { snprintf(err, ecap, "no state folder (set HOME or XDG_STATE_HOME)"); return -1; }
    if (strcmp(which, "last") != 0) {
        snprintf(out, cap, "%s/sessions/%s.jsonl", dir, which);
        if (access(out, R_OK)) { snprintf(err, ecap, "no saved session '%.200s' (looked for %.1700s)", which, out); return -1; }
        return 0;
    }
    if (ag_newest_session(o, NULL, out, cap)) {
        snprintf(err, ecap, "no saved sessions in %.1900s/sessions", dir);
        return -1;
    }
    return 0;
}

/* The sandbox policy from the flags; exit status or -1 to go on. */
static int make_policy(const ag_cli *c, sb_policy **out, char *err, size_t cap)
{
    sb_policy *p = calloc(1, sizeof *p);
    char cwd[4096];
    if (!p || !getcwd(cwd, sizeof cwd)) { free(p); snprintf(err, cap, "cannot read the working folder"); return GM_EXIT_INTERNAL; }
    if (sb_policy_init(p, cwd, err, cap)) { free(p); return GM_EXIT_USAGE; }
    p->mode = c->mode;
    p->allow_network = c->allow_network;
    for (int i = 0; i < c->n_writable; i++)
        if (sb_policy_add_writable(p, c->writable[i], err, cap)) { sb_policy_free(p); free(p); return GM_EXIT_USAGE; }
    if (c->mode != SB_MODE_FULL) {
        sb_caps caps;
        sb_probe(&caps);
        if (caps.landlock_abi <= 0 || !caps.seccomp) {
            snprintf(err, cap, "sandbox unavailable: this kernel offers %s%s%s; nothing will run unfenced. "
                     "Run 'gemmash sandbox doctor' for details, or pass --dangerously-full-access to run "
                     "without a sandbox", caps.landlock_abi <= 0 ? "no Landlock" : "",
                     caps.landlock_abi <= 0 && !caps.seccomp ? " and " : "", !caps.seccomp ? "no seccomp" : "");
            sb_policy_free(p); free(p);
            return GM_EXIT_SANDBOX;
        }
    }
    *out = p;
    return -1;
}

/* The init event: what this run is about to do. */
static void init_event(ag_session *s, const ag_cli *c)
{
    cJSON *e = cJSON_CreateObject(), *names = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, s->tools) {
        const char *nm = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "function"), "name"));
        if (nm) cJSON_AddItemToArray(names, cJSON_CreateString(nm));
    }
    char cwd[4096];
    cJSON_AddStringToObject(e, "model", s->b.name ? s->b.name : "");
    cJSON_AddStringToObject(e, "cwd", getcwd(cwd, sizeof cwd) ? cwd : ".");
    cJSON_AddItemToObject(e, "tools", names);
    cJSON_AddNumberToObject(e, "ctx", s->b.n_ctx);
    if (s->b.kv_type) cJSON_AddStringToObject(e, "kv_type", s->b.kv_type);
    cJSON_AddBoolToObject(e, "think", s->o.think);
    cJSON_AddStringToObject(e, "sandbox", sb_mode_name(c->mode));
    cJSON_AddBoolToObject(e, "network", c->allow_network);
    cJSON_AddStringToObject(e, "approval", ag_approval_name(s->o.approval));
    if (s->path[0]) cJSON_AddStringToObject(e, "session_file", s->path);
    ag_event(s, "init", e);
}

/* An error before a session exists, in the requested output format. */
static int early_error(const ag_cli *c, int status, const char *msg)
{
    fprintf(stderr, "gemmash: %s\n", msg);
    if (c->o.output != AG_OUT_FMT_TEXT) {
        cJSON *r = cJSON_CreateObject();
        if (c->o.output == AG_OUT_FMT_JSONL) cJSON_AddStringToObject(r, "type", "result");
        cJSON_AddStringToObject(r, "status", status == GM_EXIT_MODEL ? "model_error" : status == GM_EXIT_SANDBOX ?
                                "sandbox_unavailable" : status == GM_EXIT_USAGE ? "usage_error" : "error");
        cJSON_AddNumberToObject(r, "exit_code", status);
        cJSON_AddStringToObject(r, "message", msg);
        char *t = c->o.output == AG_OUT_FMT_JSONL ? cJSON_PrintUnformatted(r) : cJSON_Print(r);
        if (t) { puts(t); free(t); }
        cJSON_Delete(r);
    }
    return status;
}

/* gemmash without a subcommand. */
int ag_main(int argc, char **argv)
{
    ag_cli c;
    char err[2048] = "";
    if (ag_cli_parse(argc, argv, &c, err, sizeof err)) {
        fprintf(stderr, "gemmash: %s\n", err);
        ag_cli_free(&c);
        return GM_EXIT_USAGE;
    }
    signal(SIGINT, on_sigint);        /* from here on, Ctrl-C ends the run cleanly (130) */
    int rc = GM_EXIT_OK;
    char *task = NULL;
    sb_policy *pol = NULL;
    ag_session *s = NULL;
    bool headless = c.prompt || !isatty(STDIN_FILENO);
    c.o.headless = headless;
    c.o.interrupt = &interrupted;
    if (c.prompt) task = strdup(c.prompt);
    else if (headless) {
        task = slurp(stdin);
        if (task && !task[strspn(task, " \t\r\n")]) {
            rc = early_error(&c, GM_EXIT_USAGE, "the task on standard input is empty (or use -p TASK)");
            goto out;
        }
    }
    char model_path[4608];
    if (!c.o.model && !c.endpoint) {               /* first run: the store's model, or pull a suggested one */
        int fr = ms_first_run(!headless, &interrupted, model_path, sizeof model_path);
        if (fr) {
            snprintf(err, sizeof err, "no model: pass -m MODEL, --endpoint URL, or fetch one with 'gemmash pull %s'",
                     ms_suggest(0));
            rc = early_error(&c, fr == MS_E_INTERRUPTED ? GM_EXIT_INTERRUPTED : GM_EXIT_MODEL, err);
            goto out;
        }
        c.o.model = model_path;
    } else if (c.o.model && !c.endpoint) {       /* a path, a store name or an alias */
        if (ms_resolve(c.o.model, model_path, sizeof model_path, err, sizeof err)) {
            rc = early_error(&c, GM_EXIT_MODEL, err);
            goto out;
        }
        c.o.model = model_path;
    }
    if (c.schema_file) {
        char *t = read_file(c.schema_file, err, sizeof err);
        if (!t) { rc = early_error(&c, GM_EXIT_USAGE, err); goto out; }
        c.o.output_schema = cJSON_Parse(t);
        free(t);
        if (!cJSON_IsObject(c.o.output_schema)) {
            snprintf(err, sizeof err, "--output-schema %s is not a JSON object", c.schema_file);
            rc = early_error(&c, GM_EXIT_USAGE, err);
            goto out;
        }
    }
    if (ag_cli_prepare(&c, headless, err, sizeof err)) { rc = early_error(&c, GM_EXIT_USAGE, err); goto out; }
    char resume_path[4096] = "";
    if (c.resume && find_session(&c.o, c.resume, resume_path, sizeof resume_path, err, sizeof err)) {
        rc = early_error(&c, GM_EXIT_USAGE, err);
        goto out;
    }
    if ((rc = make_policy(&c, &pol, err, sizeof err)) >= 0) { rc = early_error(&c, rc, err); goto out; }
    rc = GM_EXIT_OK;
    ag_backend b;
    gm_err ge = {0};
    if (c.endpoint) {
        if (ag_backend_open_remote(&b, c.endpoint, c.api_key_env, c.remote_model, err, sizeof err)) {
            rc = early_error(&c, GM_EXIT_USAGE, err);
            goto out;
        }
    } else if (ag_backend_open(&b, c.o.model, c.o.threads, c.o.n_ctx, c.o.kv_type, &ge)) {
        snprintf(err, sizeof err, "cannot load the model %s: %s", c.o.model, ge.msg);
        rc = early_error(&c, GM_EXIT_MODEL, err);
        goto out;
    }
    char outdir[4096], sd[3800];
    if (ag_state_dir(&c.o, sd, sizeof sd)) snprintf(sd, sizeof sd, "/tmp/gemmash-%d", (int)getuid());
    snprintf(outdir, sizeof outdir, "%s/outputs/%d-%ld", sd, (int)getpid(), (long)time(NULL));
    if (ag_mkdirs(outdir)) {
        snprintf(err, sizeof err, "cannot create %.1900s: %s", outdir, strerror(errno));
        b.close(b.ud);
        rc = early_error(&c, GM_EXIT_USAGE, err);
        goto out;
    }
    sb_policy_add_writable(pol, outdir, err, sizeof err);
    ag_toolbox t;
    if (ag_toolbox_open(&t, pol, outdir, c.tools, &interrupted, err, sizeof err)) {
        b.close(b.ud);
        rc = early_error(&c, GM_EXIT_USAGE, err);
        goto out;
    }
    pol = NULL;                       /* owned by the toolbox now */
    c.o.color = !headless && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    c.o.stream = !headless;
    s = ag_session_new(&c.o, &b, &t, err, sizeof err);
    if (!s) { rc = early_error(&c, GM_EXIT_USAGE, err); goto out; }
    if (resume_path[0] && ag_session_load(s, resume_path, err, sizeof err)) {
        rc = early_error(&c, GM_EXIT_USAGE, err);
        goto out;
    }
    init_event(s, &c);
    if (headless) {
        rc = ag_session_turn(s, task);
        if (rc != GM_EXIT_OK && rc != GM_EXIT_INTERRUPTED && s->errmsg[0]) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "message", s->errmsg);
            cJSON_AddNumberToObject(e, "exit_code", rc);
            ag_event(s, "error", e);
        }
        ag_session_report(s, rc);
    } else {
        rc = ag_repl_run(s);          /* repl.c; shell.c's minimal loop is no longer used */
    }
out:
    ag_session_free(s);
    if (pol) { sb_policy_free(pol); free(pol); }
    cJSON_Delete(c.o.output_schema);
    free(task);
    ag_cli_free(&c);
    return rc;
}

/* The manual of `gemmash replay`. */
static void replay_usage(FILE *f)
{
    fputs("NAME\n    gemmash replay - re-run a recorded session and report where it departs\n\n"
          "SYNOPSIS\n    gemmash replay [-m MODEL] [--threads N] [--output text|json] FILE\n\n"
          "DESCRIPTION\n    Sends the recorded user messages again at temperature 0 with the recorded\n"
          "    seed, system prompt and tools; tool calls get the recorded results.  Each\n"
          "    model message is compared with the record.  Record with --temp 0 for an\n"
          "    exact match.\n\n"
          "EXIT STATUS\n    0 the run matches the record, 1 it departs, 2 usage error, 3 model error.\n", f);
}

/* `gemmash replay FILE`: read the record's model, open it, replay. */
int ag_replay_main(int argc, char **argv)
{
    static const struct option lo[] = {{"model", required_argument, 0, 'm'}, {"threads", required_argument, 0, 't'},
                                       {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *out = "text";
    int threads = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "m:h", lo, NULL)) != -1) {
        if (ch == 'm') model = optarg;
        else if (ch == 't') threads = atoi(optarg);
        else if (ch == 'o') out = optarg;
        else if (ch == 'h') { replay_usage(stdout); return GM_EXIT_OK; }
        else { replay_usage(stderr); return GM_EXIT_USAGE; }
    }
    if (optind != argc - 1 || (strcmp(out, "text") && strcmp(out, "json"))) { replay_usage(stderr); return GM_EXIT_USAGE; }
    char err[2048];
    cJSON *meta = NULL;
    cJSON *rec = ag_session_read(argv[optind], &meta, err, sizeof err);
    cJSON_Delete(rec);
    if (!rec || !meta) {
        fprintf(stderr, "gemmash replay: %s\n", rec ? "the file has no session line" : err);
        cJSON_Delete(meta);
        return GM_EXIT_USAGE;
    }
    if (!model) model = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "model"));
    ag_backend b;
    gm_err ge = {0};
    char rpath[4608], rerr[1024];
    if (model && ms_resolve(model, rpath, sizeof rpath, rerr, sizeof rerr) == 0) model = rpath;
    /* the cache type the session ran with (records made before it was
     * written came from float32 caches) */
    int kvt = gm_kv_type_from_name(cJSON_GetStringValue(cJSON_GetObjectItem(meta, "kv_type")));
    if (kvt < 0) kvt = GM_KV_F32;
    if (!model || ag_backend_open(&b, model, threads, (int)cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "ctx")),
                                  (gm_kv_type)kvt, &ge)) {
        fprintf(stderr, "gemmash replay: cannot load the model %s: %s\n", model ? model : "(none recorded)", ge.msg);
        cJSON_Delete(meta);
        return GM_EXIT_MODEL;
    }
    cJSON_Delete(meta);
    return ag_replay_session(argv[optind], &b, !strcmp(out, "json"), stdout);
}
