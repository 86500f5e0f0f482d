/* test_sbrun.c: sb_run through the library, as the tools call it: captured
 * output (head + tail), the full-output file, stdin, denial hints, the
 * interrupt flag, the guard's restore count, and failing closed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "sandbox.h"

/* Run a shell snippet in the workspace; returns sb_run's status. */
static int sh(const sb_policy *p, const char *script, const sb_run_opts *o, sb_result *r, char *err, size_t errlen)
{
    char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
    return sb_run(p, argv, o, r, err, errlen);
}

/* Thread: raise the interrupt flag after 300 ms. */
static void *raise_later(void *arg)
{
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    *(volatile sig_atomic_t *)arg = 1;
    return NULL;
}

int main(void)
{
    char root[] = "/tmp/gemmash-sbrun.XXXXXX", ws[600], out[600], home[600], err[1024], script[2048], path[700];
    if (!mkdtemp(root)) { CHECK(0, "mkdtemp: %s", strerror(errno)); return check_exit(); }
    snprintf(ws, sizeof ws, "%s/ws", root); snprintf(out, sizeof out, "%s/out", root);
    snprintf(home, sizeof home, "%s/home", root);
    mkdir(ws, 0755); mkdir(out, 0755); mkdir(home, 0755);
    setenv("HOME", home, 1);
    sb_policy p;
    if (!CHECK(sb_policy_init(&p, ws, err, sizeof err) == 0, "policy for %s", ws)) return check_exit();
    sb_result r;

    /* capture: head + marker + tail, and the full output on disk */
    snprintf(path, sizeof path, "%s/full.log", root);
    sb_run_opts o = { .stdin_fd = -1, .max_capture = 1000, .full_output_path = path };
    int rc = sh(&p, "i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done", &o, &r, err, sizeof err);
    CHECK(rc == 0 && r.exit_code == 0, "a command with a lot of output runs (%s)", rc ? err : "ok");
    CHECK(r.truncated && r.output_len < 1100 && strncmp(r.output, "line0\nline1\n", 12) == 0,
          "output keeps the head (%zu bytes kept of %zu)", r.output_len, r.total_bytes);
    CHECK(r.output_len > 20 && strcmp(r.output + r.output_len - 10, "line19999\n") == 0 &&
          strstr(r.output, "bytes omitted"), "output keeps the tail and marks the gap");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (size_t)st.st_size == r.total_bytes, "the full output is saved (%zu bytes)",
          r.total_bytes);
    sb_result_free(&r);

    /* stdin and stderr merged */
    int fds[2];
    if (pipe(fds) == 0) {
        if (write(fds[1], "from stdin\n", 11) != 11) CHECK(0, "pipe write");
        close(fds[1]);
        sb_run_opts oi = { .stdin_fd = fds[0] };
        rc = sh(&p, "cat; echo to-stderr >&2; exit 4", &oi, &r, err, sizeof err);
        close(fds[0]);
        CHECK(rc == 0 && r.exit_code == 4 && strstr(r.output, "from stdin") && strstr(r.output, "to-stderr"),
              "stdin is passed, stderr merged, exit status kept (%d)", r.exit_code);
        sb_result_free(&r);
    }

    /* denial hints */
    snprintf(script, sizeof script, "echo x > %s/escape", out);
    rc = sh(&p, script, NULL, &r, err, sizeof err);
    CHECK(rc == 0 && r.exit_code != 0 && strstr(r.hint, "outside the writable roots") && strstr(r.hint, ws),
          "a refused write carries a hint naming the writable roots (%s)", r.hint);
    sb_result_free(&r);
    char *py[] = { "/usr/bin/python3", "-c",
                   "import socket; socket.create_connection(('127.0.0.1', 9))", NULL };
    rc = sb_run(&p, py, NULL, &r, err, sizeof err);
    CHECK(rc == 0 && r.exit_code != 0 && strstr(r.hint, "network is off") && strstr(r.hint, "--allow-network"),
          "a refused connection carries the network hint (%s)", r.hint);
    sb_result_free(&r);

    /* the guard counts what it restored */
    snprintf(path, sizeof path, "%s/.git/hooks", ws);
    snprintf(script, sizeof script, "mkdir -p %s/.git/hooks", ws);
    if (system(script) != 0) CHECK(0, "mkdir .git/hooks");
    snprintf(path, sizeof path, "%s/.git/hooks/post-checkout", ws);
    setenv("GEMMASH_SANDBOX_USERNS", "0", 1);       /* the guard alone, as on a kernel without userns */
    rc = sh(&p, "echo evil > .git/hooks/post-checkout; echo 'alias ls=evil' > .bashrc", NULL, &r, err, sizeof err);
    CHECK(rc == 0 && r.exit_code == 0 && r.restored == 2 && access(path, F_OK) != 0 && strstr(r.hint, "restored"),
          "guard alone: the writes happen, then .git/hooks and .bashrc are restored (%d: %s)", r.restored, r.hint);
    sb_result_free(&r);
    unsetenv("GEMMASH_SANDBOX_USERNS");
    rc = sh(&p, "echo evil > .git/hooks/post-checkout", NULL, &r, err, sizeof err);
    CHECK(rc == 0 && access(path, F_OK) != 0 && (r.exit_code != 0 || r.restored == 1),
          "with the namespace layer (where available) the hook write is refused or undone (exit %d, %s)",
          r.exit_code, r.output);
    sb_result_free(&r);

    /* interrupt: SIGINT to the group stops a sleeping command */
    volatile sig_atomic_t flag = 0;
    sb_run_opts ox = { .stdin_fd = -1, .interrupt = &flag, .kill_grace_s = 0.2 };
    pthread_t th;
    pthread_create(&th, NULL, raise_later, (void *)&flag);
    rc = sh(&p, "sleep 20", &ox, &r, err, sizeof err);
    pthread_join(th, NULL);
    CHECK(rc == 0 && r.interrupted && !r.timed_out && r.duration_s < 3 && r.exit_code == 128 + 2,
          "the interrupt flag stops the run with SIGINT (%.2f s, exit %d)", r.duration_s, r.exit_code);
    sb_result_free(&r);

    /* timeout */
    sb_run_opts ot = { .stdin_fd = -1, .timeout_s = 0.3, .kill_grace_s = 0.2 };
    rc = sh(&p, "sleep 20", &ot, &r, err, sizeof err);
    CHECK(rc == 0 && r.timed_out && r.duration_s < 3 && strstr(r.hint, "ran out of time"),
          "the timeout stops the run and says so (%.2f s)", r.duration_s);
    sb_result_free(&r);

    /* fail closed, and "not found" is not a fence error */
    setenv("GEMMASH_SANDBOX_SIMULATE", "no-landlock", 1);
    snprintf(path, sizeof path, "%s/ran", ws);
    snprintf(script, sizeof script, "touch %s", path);
    rc = sh(&p, script, NULL, &r, err, sizeof err);
    CHECK(rc == -1 && r.fence_error && r.exit_code == -1 && access(path, F_OK) != 0 && strstr(err, "Landlock"),
          "without Landlock sb_run fails closed (%s)", err);
    sb_result_free(&r);
    unsetenv("GEMMASH_SANDBOX_SIMULATE");
    char *nf[] = { "no-such-program-gemmash", NULL };
    rc = sb_run(&p, nf, NULL, &r, err, sizeof err);
    CHECK(rc == -1 && !r.fence_error && strstr(err, "not found"), "a missing program is reported as such (%s)", err);
    sb_result_free(&r);

    /* read-only mode refuses writes in the workspace */
    p.mode = SB_MODE_READ_ONLY;
    rc = sh(&p, "touch new-file", NULL, &r, err, sizeof err);
    CHECK(rc == 0 && r.exit_code != 0 && strstr(r.hint, "read-only"), "read-only mode refuses writes (%s)", r.hint);
    sb_result_free(&r);

    sb_policy_free(&p);
    snprintf(script, sizeof script, "rm -rf '%s'", root);
    if (system(script) != 0) printf("# could not remove %s\n", root);
    return check_exit();
}
