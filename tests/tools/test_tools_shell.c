/* test_tools_shell.c: the shell tool through the real fence: merged output,
 * exit codes, workdir, timeout and interrupt killing the whole process group,
 * head+tail of huge output with the full output saved, denials. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include "tt.h"

/* Seconds since an arbitrary start. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Is pid gone (or a zombie about to be reaped by init)?  Polls up to 2 s. */
static bool pid_gone(pid_t pid)
{
    for (int i = 0; i < 200; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH) return true;
        char p[64], st[512] = "";
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(p, "r");
        if (f) {
            if (!fgets(st, sizeof st, f)) st[0] = 0;
            fclose(f);
            char *rp = strrchr(st, ')');
            if (rp && rp[1] == ' ' && rp[2] == 'Z') return true;
        }
        usleep(10000);
    }
    return false;
}

typedef struct intr_arg {
    volatile sig_atomic_t *flag;
    int delay_ms;
} intr_arg;

/* Thread: raise the interrupt flag after a delay (like a SIGINT handler). */
static void *raise_later(void *p)
{
    intr_arg *a = p;
    usleep((useconds_t)a->delay_ms * 1000);
    *a->flag = 1;
    return NULL;
}

int main(void)
{
    tt_env env, *e = &env;
    tt_setup(e);

    cJSON *r = tt_call(e, "shell", "{\"command\":\"echo out; echo err >&2; exit 3\"}");
    CHECK(!tt_ok(r) && tt_num(r, "exit_code") == 3 && tt_has(r, "output", "out\n") && tt_has(r, "output", "err\n") &&
          tt_has(r, "error", "status 3"), "shell merges stdout and stderr and reports the exit code: %s / %s",
          tt_str(r, "output"), tt_str(r, "error"));
    CHECK(tt_num(r, "duration_s") >= 0 && cJSON_IsFalse(cJSON_GetObjectItem(r, "truncated")),
          "shell reports duration and truncated=false");
    cJSON_Delete(r);

    r = tt_call(e, "shell", "{\"command\":\"echo ok\"}");
    CHECK(tt_ok(r) && tt_num(r, "exit_code") == 0 && !strcmp(tt_str(r, "output"), "ok\n"), "shell happy path");
    cJSON_Delete(r);

    char p[16384];
    snprintf(p, sizeof p, "%s/sub", e->ws);
    mkdir(p, 0755);
    r = tt_call(e, "shell", "{\"command\":\"pwd\",\"workdir\":\"sub\"}");
    CHECK(tt_ok(r) && tt_has(r, "output", "/ws/sub\n"), "shell workdir: %s", tt_str(r, "output"));
    cJSON_Delete(r);
    r = tt_call(e, "shell", "{\"command\":\"pwd\",\"workdir\":\"nope\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "workdir"), "shell with a missing workdir: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    /* timeout: a background child must die with the group (bash leaves SIGINT
     * ignored in background jobs, so this needs the SIGTERM step) */
    gt_caps_of(e->ctx)->shell_kill_grace_s = 0.3;
    double t0 = now_s();
    r = tt_call(e, "shell", "{\"command\":\"sleep 30 & echo $! > bg.pid; sleep 30\",\"timeout_s\":1}");
    double took = now_s() - t0;
    char *pid_s = tt_read(e, "bg.pid", NULL);
    pid_t bg = pid_s ? (pid_t)atoi(pid_s) : 0;
    free(pid_s);
    CHECK(!tt_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "timed_out")) && tt_has(r, "error", "timeout") && took < 10,
          "shell timeout stops the command (%.1f s): %s", took, tt_str(r, "error"));
    CHECK(bg > 0 && pid_gone(bg), "shell timeout kills the whole process group (background pid %d)", (int)bg);
    cJSON_Delete(r);

    /* interrupt */
    volatile sig_atomic_t flag = 0;
    intr_arg ia = {&flag, 300};
    pthread_t th;
    pthread_create(&th, NULL, raise_later, &ia);
    cJSON *args = cJSON_Parse("{\"command\":\"sleep 20\"}");
    t0 = now_s();
    r = gt_call(e->ctx, "shell", args, &flag);
    took = now_s() - t0;
    pthread_join(th, NULL);
    CHECK(r && !tt_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "interrupted")) && took < 10,
          "shell interrupt stops the command (%.1f s)", took);
    cJSON_Delete(r);
    cJSON_Delete(args);

    /* huge output: head + tail kept, the rest in a file */
    r = tt_call(e, "shell", "{\"command\":\"seq 1 200000\"}");
    const char *out = tt_str(r, "output");
    char full[1024];
    snprintf(full, sizeof full, "%s", tt_str(r, "full_output_path"));
    size_t full_len = 0;
    char *fd = *full ? tt_read(e, full, &full_len) : NULL;
    CHECK(tt_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "truncated")) && !strncmp(out, "1\n2\n3\n", 6) &&
          strstr(out, "199999\n200000\n") && strlen(out) < 40000, "shell keeps head and tail of huge output (%zu bytes)",
          strlen(out));
    CHECK(fd && full_len == (size_t)tt_num(r, "total_bytes") && strstr(fd, "\n100000\n"),
          "shell saves the full output to %s (%zu bytes)", full, full_len);
    free(fd);
    cJSON_Delete(r);
    if (*full) {
        r = tt_call(e, "read_file", "{\"path\":\"%s\",\"start_line\":100000,\"end_line\":100000}", full);
        CHECK(tt_ok(r) && tt_has(r, "content", "100000\t100000\n"), "read_file can read the saved full output: %s %s", tt_str(r, "error"), tt_str(r, "content"));
        cJSON_Delete(r);
    }

    /* writes outside the workspace are stopped by the fence */
    r = tt_call(e, "shell", "{\"command\":\"echo x > %s/f.txt\"}", e->outside);
    snprintf(p, sizeof p, "%s/f.txt", e->outside);
    CHECK(!tt_ok(r) && access(p, F_OK) != 0, "shell cannot write outside the workspace: %s", tt_str(r, "output"));
    CHECK(*tt_str(r, "hint") != 0, "shell passes on the sandbox denial hint: %s", tt_str(r, "hint"));
    cJSON_Delete(r);

    /* a change to a protected path is put back and reported */
    snprintf(p, sizeof p, "%s/.git", e->ws);
    mkdir(p, 0755);
    tt_puts(e, ".git/config", "[core]\n");
    r = tt_call(e, "shell", "{\"command\":\"echo '[alias] x = !evil' >> .git/config\"}");
    char *cfg = tt_read(e, ".git/config", NULL);
    CHECK(cfg && !strcmp(cfg, "[core]\n") && (!tt_ok(r) || tt_num(r, "restored_protected") >= 1),
          "shell: a protected path changed by a command is restored (%s%s)", tt_str(r, "note"), tt_str(r, "output"));
    free(cfg);
    cJSON_Delete(r);

    r = tt_call(e, "shell", "{\"command\":\"\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "empty"), "shell refuses an empty command");
    cJSON_Delete(r);
    r = tt_call(e, "shell", "{\"command\":\"true\",\"timeout_s\":0}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "timeout_s"), "shell refuses timeout_s 0");
    cJSON_Delete(r);
    r = tt_call(e, "shell", "{\"command\":\"printf '\\\\377\\\\376ok'\"}");
    CHECK(tt_ok(r) && tt_has(r, "output", "\xEF\xBF\xBD\xEF\xBF\xBDok"), "shell output is made valid UTF-8");
    cJSON_Delete(r);

    tt_teardown(e);
    return check_exit();
}
