/* run.c: sb_run, which starts one command inside the fence, collects its
 * output, enforces its time limit on the whole process group, and puts back
 * protected paths afterwards.
 *
 * Everything that can fail or allocate (the Landlock ruleset, the seccomp
 * program, the environment, the private TMPDIR) is prepared before fork; the
 * child then only makes system calls and reports a failure through a
 * close-on-exec pipe, so "the fence could not be applied" is known before the
 * parent reads a byte of output, and nothing runs unfenced. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "sb_int.h"

/* What the child reports when it cannot reach exec. */
typedef struct { int err; int fence; char stage[96]; } child_failure;

/* Everything the child needs, prepared by the parent. */
typedef struct {
    const sb_policy *p;
    const char *exe, *cwd;
    char *const *argv;
    char **envp;
    int stdin_fd, out_fd, err_fd;
    sb_fence fence;
} child_ctx;

/* Monotonic seconds. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Child: report why exec was not reached, then exit. */
static _Noreturn void child_fail(const child_ctx *c, const char *stage, int fence)
{
    child_failure f = { .err = errno, .fence = fence };
    size_t n = strlen(stage);
    if (n >= sizeof f.stage) n = sizeof f.stage - 1;
    memcpy(f.stage, stage, n);
    ssize_t w = write(c->err_fd, &f, sizeof f);
    (void)w;
    _exit(127);
}

/* Child: close every descriptor except stdio and the two we still need. */
static int close_others(int a, int b)
{
    int keep[2] = { a < b ? a : b, a < b ? b : a };
    unsigned lo = 3;
    for (int i = 0; i < 2; i++) {
        if (keep[i] < 0) continue;
        if ((unsigned)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) != 0) return -1;
        if ((unsigned)keep[i] + 1 > lo) lo = (unsigned)keep[i] + 1;
    }
    return (int)syscall(SYS_close_range, lo, ~0U, 0);
}

/* Child: lower one rlimit (soft and hard), never above the current hard limit. */
static int limit(int res, rlim_t soft, rlim_t hard)
{
    struct rlimit cur;
    if (getrlimit(res, &cur) != 0) return -1;
    if (cur.rlim_max != RLIM_INFINITY) {
        if (hard > cur.rlim_max) hard = cur.rlim_max;
        if (soft > hard) soft = hard;
    }
    struct rlimit rl = { soft, hard };
    return setrlimit(res, &rl);
}

/* Child: drop every capability, including from the bounding set, so that a
 * root-owned run keeps no privilege across exec. */
static int drop_caps(int cap_last)
{
    if (geteuid() != 0) return 0;
    for (int c = 0; c <= cap_last; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    return (int)syscall(SYS_capset, &h, d);
}

/* Child: from fork to exec.  Never returns. */
static _Noreturn void child_main(const child_ctx *c)
{
    const sb_policy *p = c->p;
    if (setsid() < 0) child_fail(c, "setsid", 1);
    struct sigaction sa = { .sa_handler = SIG_DFL };
    for (int s = 1; s < NSIG; s++) sigaction(s, &sa, NULL);      /* fails harmlessly for KILL/STOP */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(c->stdin_fd, 0) < 0) child_fail(c, "dup2 stdin", 0);
    if (c->out_fd >= 0 && (dup2(c->out_fd, 1) < 0 || dup2(c->out_fd, 2) < 0)) child_fail(c, "dup2 stdout", 0);
    if (close_others(c->err_fd, c->fence.ruleset_fd) != 0) child_fail(c, "closing inherited descriptors", 1);
    const char *stage = NULL;
    int layer = c->fence.userns ? sb_userns_enter(c->fence.uid, c->fence.gid, !p->allow_network, c->fence.protect, &stage) : 0;
    if (layer < 0) child_fail(c, stage, 1);
    if (layer == 2 && sb_landlock_add_dir(c->fence.ruleset_fd, "/dev/shm", c->fence.shm_rights) != 0)
        child_fail(c, "granting the private /dev/shm", 1);
    /* after the namespace change, which clears it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(c, "PR_SET_PDEATHSIG", 1);
    if (chdir(c->cwd) != 0) child_fail(c, "chdir to the working folder", 0);
    if ((p->cpu_s > 0 && limit(RLIMIT_CPU, (rlim_t)p->cpu_s, (rlim_t)p->cpu_s + 1) != 0) ||
        (p->as_bytes > 0 && limit(RLIMIT_AS, (rlim_t)p->as_bytes, (rlim_t)p->as_bytes) != 0) ||
        (p->fsize_bytes > 0 && limit(RLIMIT_FSIZE, (rlim_t)p->fsize_bytes, (rlim_t)p->fsize_bytes) != 0) ||
        (p->nproc > 0 && limit(RLIMIT_NPROC, (rlim_t)p->nproc, (rlim_t)p->nproc) != 0) ||
        (p->nofile > 0 && limit(RLIMIT_NOFILE, (rlim_t)p->nofile, (rlim_t)p->nofile) != 0) ||
        limit(RLIMIT_CORE, 0, 0) != 0)
        child_fail(c, "setrlimit", 1);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(c, "PR_SET_NO_NEW_PRIVS", 1);
    if (p->mode != SB_MODE_FULL) {
        if (drop_caps(c->fence.cap_last) != 0) child_fail(c, "dropping capabilities", 1);
        if (sb_landlock_restrict(c->fence.ruleset_fd) != 0) child_fail(c, "landlock_restrict_self", 1);
        close(c->fence.ruleset_fd);
        if (sb_seccomp_load(c->fence.bpf, c->fence.bpf_len) != 0) child_fail(c, "loading the seccomp filter", 1);
    }
    execve(c->exe, c->argv, c->envp);
    child_fail(c, "exec", 0);
}

/* Find the program the way execvp would, but in the parent, so "not found"
 * is reported plainly.  out gets a path usable after chdir(cwd). */
static int find_exe(const char *name, const char *cwd, char *out, size_t outlen)
{
    if (strchr(name, '/')) {
        char full[2 * PATH_MAX + 2];
        snprintf(full, sizeof full, "%s/%s", cwd, name);
        snprintf(out, outlen, "%s", name);
        return access(name[0] == '/' ? name : full, X_OK);
    }
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, path, name) < outlen) {
            struct stat st;
            if (out[0] == '/' && stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return 0;
        }
        path += n + (path[n] == ':');
    }
    errno = ENOENT;
    return -1;
}

/* Output kept in memory: the first half of the budget, then a ring of the last. */
typedef struct {
    char *head, *tail;
    size_t head_cap, head_len, tail_cap, tail_pos, tail_len, total;
    int file_fd;
} capture;

/* Keep a chunk of output (and write it to the full-output file). */
static void capture_add(capture *cp, const char *buf, size_t n)
{
    if (cp->file_fd >= 0 && write(cp->file_fd, buf, n) != (ssize_t)n) { close(cp->file_fd); cp->file_fd = -1; }
    cp->total += n;
    size_t h = cp->head_cap - cp->head_len;
    if (h > n) h = n;
    memcpy(cp->head + cp->head_len, buf, h);
    cp->head_len += h;
    for (size_t i = h; i < n && cp->tail_cap; i++) {
        cp->tail[cp->tail_pos] = buf[i];
        cp->tail_pos = (cp->tail_pos + 1) % cp->tail_cap;
        if (cp->tail_len < cp->tail_cap) cp->tail_len++;
    }
}

/* Assemble head + marker + tail into the result. */
static int capture_finish(capture *cp, sb_result *r)
{
    size_t omitted = cp->total - cp->head_len - cp->tail_len;
    char marker[80] = "";
    if (omitted) snprintf(marker, sizeof marker, "\n[... %zu bytes omitted ...]\n", omitted);
    size_t ml = strlen(marker);
    r->output = malloc(cp->head_len + ml + cp->tail_len + 1);
    if (!r->output) return -1;
    memcpy(r->output, cp->head, cp->head_len);
    memcpy(r->output + cp->head_len, marker, ml);
    size_t start = cp->tail_len < cp->tail_cap ? 0 : cp->tail_pos;
    for (size_t i = 0; i < cp->tail_len; i++)
        r->output[cp->head_len + ml + i] = cp->tail[(start + i) % cp->tail_cap];
    r->output_len = cp->head_len + ml + cp->tail_len;
    r->output[r->output_len] = '\0';
    r->total_bytes = cp->total;
    r->truncated = omitted > 0;
    return 0;
}

/* Make the per-run private TMPDIR (mode 0700). */
static int make_tmpdir(char *out, size_t outlen, char *err, size_t errlen)
{
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || base[0] != '/' || stat(base, &st) != 0 || !S_ISDIR(st.st_mode)) base = "/tmp";
    snprintf(out, outlen, "%s/gemmash-run-XXXXXX", base);
    if (!mkdtemp(out)) {
        sb_errf(err, errlen, "sandbox: cannot create a private TMPDIR under %s: %s; set TMPDIR to a "
                "writable folder", base, strerror(errno));
        return -1;
    }
    char real[PATH_MAX];
    if (realpath(out, real)) snprintf(out, outlen, "%s", real);
    return 0;
}

/* Remove the private TMPDIR and everything the command left in it. */
static void remove_tmpdir(const char *dir)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (!slash) return;
    *slash = '\0';
    int fd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    sb_remove_at(fd, slash + 1);
    close(fd);
}

/* Read the highest capability number (for dropping them all). */
static int cap_last(void)
{
    int v = 40;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f) { if (fscanf(f, "%d", &v) != 1) v = 40; fclose(f); }
    return v < 63 ? v : 63;
}

/* Prepare the fence for a fenced mode; fail closed with a reason. */
static int prepare_fence(const sb_policy *p, const char *tmpdir, sb_fence *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->ruleset_fd = -1;
    f->cap_last = cap_last();
    if (p->mode == SB_MODE_FULL) return 0;
    f->abi = sb_landlock_abi();
    if (f->abi <= 0) {
        sb_errf(err, errlen, "sandbox unavailable: the kernel lacks Landlock (CONFIG_SECURITY_LANDLOCK, "
                "lsm=landlock on the kernel command line); nothing was run. Run with "
                "--dangerously-full-access to run unfenced");
        return -1;
    }
    if (sb_landlock_build(p, tmpdir, f->abi, &f->ruleset_fd, err, errlen) != 0) return -1;
    if (sb_seccomp_build(p, f->abi, &f->bpf, &f->bpf_len, err, errlen) != 0) {
        close(f->ruleset_fd);
        f->ruleset_fd = -1;
        return -1;
    }
    f->uid = (unsigned)getuid();
    f->gid = (unsigned)getgid();
    const char *knob = getenv("GEMMASH_SANDBOX_USERNS");
    if (!knob || strcmp(knob, "0") != 0) {       /* the child goes on without it if unshare fails */
        if (!(f->protect = sb_userns_protected(p))) {
            sb_errf(err, errlen, "sandbox: out of memory listing protected paths");
            return -1;
        }
        f->userns = true;
        f->shm_rights = sb_landlock_write_rights(f->abi);
    }
    return 0;
}

/* Send sig to the run's process group. */
static void signal_group(pid_t pgid, int sig)
{
    if (kill(-pgid, sig) != 0 && errno == ESRCH) kill(pgid, sig);
}

/* Supervise the running child: output, timeout, interrupt, exit. */
static int supervise(pid_t pid, int out_fd, const sb_run_opts *o, capture *cp, sb_result *r)
{
    double start = now_s(), next = 0, drain_until = 0;
    double grace = o->kill_grace_s > 0 ? o->kill_grace_s : 2.0;
    int stage = 0;
    bool exited = false;
    char buf[65536];
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        double t = now_s();
        if (!exited) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
                exited = true;
                signal_group(pid, SIGKILL);      /* leftovers in the group die with the command */
                drain_until = t + 0.5;
            }
        }
        if (!exited) {
            bool timeout = o->timeout_s > 0 && t - start >= o->timeout_s;
            bool intr = o->interrupt && *o->interrupt;
            if (stage == 0 && (timeout || intr)) {
                r->timed_out = timeout && !intr;
                r->interrupted = intr;
                signal_group(pid, SIGINT);
                stage = 1; next = t + grace;
            } else if (stage == 1 && t >= next) {
                signal_group(pid, SIGTERM);
                stage = 2; next = t + grace;
            } else if (stage == 2 && t >= next) {
                signal_group(pid, SIGKILL);
                stage = 3;
            }
        }
        struct pollfd pf[2];
        int n = 0;
        if (out_fd >= 0) pf[n++] = (struct pollfd){ .fd = out_fd, .events = POLLIN };
        if (pidfd >= 0 && !exited) pf[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
        if (n > 0) {
            /* the pidfd turns readable when the command exits: no polling delay */
            if (poll(pf, (nfds_t)n, pidfd >= 0 ? 50 : 20) > 0 && out_fd >= 0 && (pf[0].revents & (POLLIN | POLLHUP))) {
                ssize_t k = read(out_fd, buf, sizeof buf);
                if (k > 0) capture_add(cp, buf, (size_t)k);
                else if (k == 0 || (errno != EINTR && errno != EAGAIN)) { close(out_fd); out_fd = -1; }
            }
        } else if (!exited) {
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        if (exited && (out_fd < 0 || now_s() > drain_until)) break;
    }
    if (out_fd >= 0) close(out_fd);
    if (pidfd >= 0) close(pidfd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    /* wait until nothing of the group is left, so the guard compares a quiet
     * tree; orphans come to us (we are a child subreaper), so reap them too */
    for (int i = 0; i < 500 && kill(-pid, SIGKILL) == 0; i++) {
        while (waitpid(-pid, NULL, WNOHANG) > 0) {}
        if (kill(-pid, 0) != 0) break;
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    r->duration_s = now_s() - start;
    return 0;
}

/* Run argv under the policy (see sandbox.h). */
int sb_run(const sb_policy *p, char *const argv[], const sb_run_opts *o, sb_result *r, char *err, size_t errlen)
{
    static const sb_run_opts defaults = { .stdin_fd = -1 };
    if (!o) o = &defaults;
    memset(r, 0, sizeof *r);
    r->exit_code = -1;
    if (!argv || !argv[0]) { sb_errf(err, errlen, "sandbox: no command given"); return -1; }
    const char *cwd = o->cwd ? o->cwd : p->workspace;
    char exe[PATH_MAX], tmpdir[PATH_MAX];
    if (find_exe(argv[0], cwd, exe, sizeof exe) != 0) {
        sb_errf(err, errlen, "%s: command not found (searched PATH%s)", argv[0], strchr(argv[0], '/') ? ", or not executable" : "");
        return -1;
    }
    if (make_tmpdir(tmpdir, sizeof tmpdir, err, errlen) != 0) { r->fence_error = true; return -1; }
    /* orphaned descendants reparent to us rather than to an init that may reap them late */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    child_ctx c = { .p = p, .exe = exe, .cwd = cwd, .argv = argv, .stdin_fd = -1, .out_fd = -1, .err_fd = -1 };
    capture cp = { .file_fd = -1 };
    sb_guard *guard = NULL;
    int pipe_out[2] = { -1, -1 }, pipe_err[2] = { -1, -1 }, devnull = -1, rc = -1;
    r->fence_error = true;
    if (prepare_fence(p, tmpdir, &c.fence, err, errlen) != 0) goto out;
    if (!(c.envp = sb_env_build(p, tmpdir))) { sb_errf(err, errlen, "sandbox: out of memory building the environment"); goto out; }
    if (p->mode == SB_MODE_WORKSPACE_WRITE && !(guard = sb_guard_take(p, err, errlen))) goto out;
    r->fence_error = false;
    size_t max = o->max_capture ? o->max_capture : 256 * 1024;
    cp.head_cap = max / 2; cp.tail_cap = max - cp.head_cap;
    if (!(cp.head = malloc(cp.head_cap + 1)) || !(cp.tail = malloc(cp.tail_cap + 1))) {
        sb_errf(err, errlen, "sandbox: out of memory for %zu bytes of output", max);
        goto out;
    }
    if (o->full_output_path &&
        (cp.file_fd = open(o->full_output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        sb_errf(err, errlen, "sandbox: cannot write the full output to %s: %s", o->full_output_path, strerror(errno));
        goto out;
    }
    if (o->stdin_fd < 0 && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        sb_errf(err, errlen, "sandbox: cannot open /dev/null: %s", strerror(errno));
        goto out;
    }
    c.stdin_fd = o->stdin_fd >= 0 ? o->stdin_fd : devnull;
    if ((!o->passthrough && pipe2(pipe_out, O_CLOEXEC) != 0) || pipe2(pipe_err, O_CLOEXEC) != 0) {
        sb_errf(err, errlen, "sandbox: pipe failed: %s", strerror(errno));
        goto out;
    }
    c.out_fd = pipe_out[1];
    c.err_fd = pipe_err[1];
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) { sb_errf(err, errlen, "sandbox: fork failed: %s", strerror(errno)); goto out; }
    if (pid == 0) child_main(&c);
    close(pipe_err[1]); pipe_err[1] = -1;
    if (pipe_out[1] >= 0) { close(pipe_out[1]); pipe_out[1] = -1; }
    child_failure f;
    ssize_t k;
    while ((k = read(pipe_err[0], &f, sizeof f)) < 0 && errno == EINTR) {}
    if (k > 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        f.stage[sizeof f.stage - 1] = '\0';
        r->fence_error = f.fence != 0;
        if (f.fence)
            sb_errf(err, errlen, "sandbox unavailable: %s failed in the child: %s; nothing was run. Run "
                    "'gemmash sandbox doctor' to see what the kernel offers, or --dangerously-full-access "
                    "to run unfenced", f.stage, strerror(f.err));
        else
            sb_errf(err, errlen, "%s: %s failed: %s", argv[0], f.stage, strerror(f.err));
        if (guard) { char msg[8]; sb_guard_restore(guard, msg, sizeof msg); }
        goto out;
    }
    supervise(pid, pipe_out[0], o, &cp, r);
    pipe_out[0] = -1;
    r->duration_s = now_s() - t0;
    if (capture_finish(&cp, r) != 0) { sb_errf(err, errlen, "sandbox: out of memory for the output"); goto out; }
    if (guard) {
        char msg[400];
        int n = sb_guard_restore(guard, msg, sizeof msg);
        char line[512];
        if (n > 0 || n < 0) {
            snprintf(line, sizeof line, "sandbox: %s protected paths changed by the command (%s); they are "
                     "read-only inside the sandbox.", n > 0 ? "restored" : "could NOT restore all", msg);
            r->restored = n > 0 ? n : 1;
            snprintf(r->hint, sizeof r->hint, "%s", line);
        }
    }
    sb_hint(p, r);
    rc = 0;
out:
    if (devnull >= 0) close(devnull);
    for (int i = 0; i < 2; i++) {
        if (pipe_out[i] >= 0) close(pipe_out[i]);
        if (pipe_err[i] >= 0) close(pipe_err[i]);
    }
    if (cp.file_fd >= 0) close(cp.file_fd);
    free(cp.head); free(cp.tail);
    if (c.fence.ruleset_fd >= 0) close(c.fence.ruleset_fd);
    free(c.fence.bpf);
    sb_env_free(c.fence.protect);
    sb_env_free(c.envp);
    sb_guard_free(guard);
    remove_tmpdir(tmpdir);
    return rc;
}

/* Free what sb_run allocated in a result. */
void sb_result_free(sb_result *r)
{
    free(r->output);
    r->output = NULL;
    r->output_len = 0;
}
