/* t_shell.c: the shell tool.
 *
 * Runs `bash -c COMMAND` through sb_run, which applies the fence, merges
 * stdout and stderr, keeps the head and tail of long output, and on timeout
 * or interrupt signals the whole process group (SIGINT, SIGTERM, SIGKILL).
 * The full output goes to a file in the session's output folder, kept only
 * when the output had to be cut, so the model can read the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

/* The bash to run (absolute, so no PATH lookup decides). */
static const char *bash_path(void)
{
    static const char *const cands[] = {"/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (access(cands[i], X_OK) == 0) return cands[i];
    return NULL;
}

/* shell(command, workdir?, timeout_s?) */
cJSON *gt_tool_shell(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    const char *cmd = ga_str(a, "command"), *workdir = ga_str(a, "workdir");
    if (!*cmd) return gt_fail(c, "shell: command is empty");
    const char *bash = bash_path();
    if (!bash) return gt_fail(c, "shell: bash was not found in /bin, /usr/bin or /usr/local/bin; install bash");
    long t = 0;
    double timeout = c->caps.shell_timeout_s;
    if (ga_int(a, "timeout_s", &t)) {
        if (t <= 0) return gt_fail(c, "shell: timeout_s must be a positive number of seconds");
        timeout = (double)t;
        if (timeout > c->caps.shell_max_timeout_s) timeout = c->caps.shell_max_timeout_s;
    }
    char cwd[GT_PATH_MAX], why[1024];
    if (workdir && *workdir) {
        if (gt_check(c, workdir, SB_ACCESS_READ, cwd, sizeof cwd, why, sizeof why))
            return gt_fail(c, "shell: workdir: %s", why);
        struct stat st;
        if (stat(cwd, &st) || !S_ISDIR(st.st_mode))
            return gt_fail(c, "shell: workdir %s is not a folder", workdir);
    } else {
        snprintf(cwd, sizeof cwd, "%s", c->pol->workspace);
    }
    char full[GT_PATH_MAX + 64];
    snprintf(full, sizeof full, "%s/shell-%ld-%u.log", c->outdir, (long)getpid(), ++c->shell_seq);
    char *argv[] = {(char *)bash, (char *)"-c", (char *)cmd, NULL};
    sb_run_opts o = {.cwd = cwd, .timeout_s = timeout, .max_capture = c->caps.shell_max_capture,
                     .full_output_path = full, .interrupt = intr, .stdin_fd = -1, .passthrough = false};
    sb_result r;
    memset(&r, 0, sizeof r);
    char err[1024] = "";
    o.kill_grace_s = c->caps.shell_kill_grace_s;
    if (sb_run(c->pol, argv, &o, &r, err, sizeof err)) {
        bool fence = r.fence_error;
        sb_result_free(&r);
        unlink(full);
        cJSON *f = gt_fail(c, "shell: the command did not run: %s", err[0] ? err : "the sandbox could not start it");
        if (f && fence) gj_bool(c, f, "fence_error", true);   /* the agent maps this to "sandbox unavailable" */
        return f;
    }
    bool ok = r.exit_code == 0 && !r.timed_out && !r.interrupted;
    cJSON *res = cJSON_CreateObject();
    if (!res) { sb_result_free(&r); unlink(full); return NULL; }
    gj_bool(c, res, "ok", ok);
    gt_buf out = {0};
    gt_put_terminal(&out, r.output ? r.output : "", r.output ? r.output_len : 0);
    gj_buf(c, res, "output", &out);
    gj_num(c, res, "exit_code", r.exit_code);
    gj_num(c, res, "duration_s", (double)(long)(r.duration_s * 1000) / 1000);
    gj_bool(c, res, "truncated", r.truncated);
    gj_num(c, res, "total_bytes", (double)r.total_bytes);
    if (r.truncated) gj_str(c, res, "full_output_path", full);
    else unlink(full);
    if (r.timed_out) gj_bool(c, res, "timed_out", true);
    if (r.interrupted) gj_bool(c, res, "interrupted", true);
    if (r.hint[0]) gj_str(c, res, "hint", r.hint);
    if (r.restored > 0) {
        char note[200];
        snprintf(note, sizeof note, "the command changed %d protected path%s (git hooks/config, shell start-up "
                 "files); the sandbox put them back", r.restored, r.restored == 1 ? "" : "s");
        gj_num(c, res, "restored_protected", r.restored);
        gj_str(c, res, "note", note);
    }
    if (!ok) {
        char msg[256];
        if (r.timed_out) snprintf(msg, sizeof msg, "the command ran past its %.0f s timeout and was stopped", timeout);
        else if (r.interrupted) snprintf(msg, sizeof msg, "the command was interrupted by the user");
        else if (r.exit_code > 128) snprintf(msg, sizeof msg, "the command was killed by signal %d", r.exit_code - 128);
        else snprintf(msg, sizeof msg, "the command exited with status %d", r.exit_code);
        gj_str(c, res, "error", msg);
    }
    sb_result_free(&r);
    return res;
}
