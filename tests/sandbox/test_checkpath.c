/* test_checkpath.c: sb_check_path and sb_open, the in-process policy the file
 * tools use: symlinks, "..", /proc/self/root, hard links, protected paths,
 * secrets, modes, and a race that flips a folder into a symlink while a
 * writer opens files below it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "sandbox.h"

typedef struct { char root[512], ws[512], out[512], home[512]; } fixture;

/* Write a small file. */
static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

/* path = a/b, into a static-sized buffer. */
static const char *join(char *buf, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 2 > PATH_MAX) { buf[0] = '\0'; return buf; }
    memcpy(buf, a, la);
    buf[la] = '/';
    memcpy(buf + la + 1, b, lb + 1);
    return buf;
}

/* Allowed for this access? (also returns the resolved path) */
static int allowed(const sb_policy *p, const char *path, int access, char *resolved)
{
    char why[512], res[PATH_MAX];
    int rc = sb_check_path(p, path, access, res, sizeof res, why, sizeof why);
    if (resolved) snprintf(resolved, PATH_MAX, "%s", res);
    if (rc != 0 && getenv("VERBOSE")) printf("# %s: %s\n", path, why);
    return rc == 0;
}

typedef struct { char d[PATH_MAX], out[512], tmp[PATH_MAX]; atomic_int stop; } flipper;

/* Race thread: swap ws/d between a real folder and a symlink to the outside. */
static void *flip(void *arg)
{
    flipper *f = arg;
    while (!atomic_load(&f->stop)) {
        unlink(f->tmp);                 /* tmp holds d/f */
        rmdir(f->d);
        if (symlink(f->out, f->d) != 0) mkdir(f->d, 0755);
        sched_yield();
        unlink(f->d);
        mkdir(f->d, 0755);
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int main(void)
{
    fixture fx;
    char buf[PATH_MAX], buf2[PATH_MAX], res[PATH_MAX], why[512];
    snprintf(fx.root, sizeof fx.root, "/tmp/gemmash-checkpath.XXXXXX");
    if (!mkdtemp(fx.root)) { CHECK(0, "mkdtemp: %s", strerror(errno)); return check_exit(); }
    snprintf(fx.ws, sizeof fx.ws, "%.400s/ws", fx.root);
    snprintf(fx.out, sizeof fx.out, "%.400s/outside", fx.root);
    snprintf(fx.home, sizeof fx.home, "%.400s/home", fx.root);
    mkdir(fx.ws, 0755); mkdir(fx.out, 0755); mkdir(fx.home, 0755);
    mkdir(join(buf, fx.home, ".ssh"), 0700);
    put(join(buf, fx.home, ".ssh/id_rsa"), "key");
    put(join(buf, fx.ws, "a.txt"), "a");
    put(join(buf, fx.out, "victim"), "v");
    mkdir(join(buf, fx.ws, ".git"), 0755);
    mkdir(join(buf, fx.ws, ".git/hooks"), 0755);
    put(join(buf, fx.ws, ".git/config"), "[core]\n");
    mkdir(join(buf, fx.ws, "sub"), 0755);
    setenv("HOME", fx.home, 1);

    sb_policy p;
    char err[512];
    CHECK(sb_policy_init(&p, fx.ws, err, sizeof err) == 0, "sb_policy_init on a temp workspace");
    CHECK(p.mode == SB_MODE_WORKSPACE_WRITE && !p.allow_network, "defaults: workspace-write, network off");

    CHECK(allowed(&p, "a.txt", SB_ACCESS_READ | SB_ACCESS_WRITE, res) && !strcmp(res, join(buf, fx.ws, "a.txt")),
          "a relative workspace file is readable and writable, resolved to %s", res);
    CHECK(allowed(&p, "new/deeper/file.c", SB_ACCESS_WRITE, res) && !strcmp(res, join(buf, fx.ws, "new/deeper/file.c")),
          "a new file in new folders is writable");
    CHECK(allowed(&p, "new//deeper///file.c/", SB_ACCESS_WRITE, res) && !strcmp(res, join(buf, fx.ws, "new/deeper/file.c")),
          "repeated and trailing slashes are collapsed (%s)", res);
    CHECK(!allowed(&p, "new/../../outside/x", SB_ACCESS_WRITE, NULL), "'..' below a missing folder is refused");
    CHECK(!allowed(&p, "../outside/x", SB_ACCESS_WRITE, NULL), "'..' out of the workspace is refused for writes");
    CHECK(!allowed(&p, "../outside/victim", SB_ACCESS_READ, NULL), "'..' out of the workspace is refused for reads");
    CHECK(allowed(&p, "sub/../a.txt", SB_ACCESS_WRITE, res) && !strcmp(res, join(buf, fx.ws, "a.txt")),
          "'..' that stays inside is resolved and allowed");

    symlink(fx.out, join(buf, fx.ws, "lnk"));
    CHECK(!allowed(&p, "lnk/f", SB_ACCESS_WRITE, res), "a symlinked folder leading outside is refused (%s)", res);
    symlink(join(buf2, fx.ws, "a.txt"), join(buf, fx.ws, "inner"));
    CHECK(allowed(&p, "inner", SB_ACCESS_WRITE, res) && !strcmp(res, join(buf, fx.ws, "a.txt")),
          "a symlink inside the workspace resolves to its target");
    symlink(join(buf2, fx.out, "missing"), join(buf, fx.ws, "dangling"));
    CHECK(!allowed(&p, "dangling", SB_ACCESS_WRITE, NULL), "a dangling symlink is refused (it could create outside)");

    snprintf(buf, sizeof buf, "/proc/self/root%s/a.txt", fx.ws);
    CHECK(allowed(&p, buf, SB_ACCESS_WRITE, res) && !strcmp(res, join(buf2, fx.ws, "a.txt")),
          "/proc/self/root leading into the workspace resolves to the real path");
    snprintf(buf, sizeof buf, "/proc/self/root%s/victim", fx.out);
    CHECK(!allowed(&p, buf, SB_ACCESS_WRITE, NULL), "/proc/self/root leading outside is refused");
    CHECK(!allowed(&p, "/proc/self/environ", SB_ACCESS_READ, NULL), "/proc/self/environ is refused to the file tools");
    CHECK(!allowed(&p, "/dev/sda", SB_ACCESS_READ, NULL), "device files are refused to the file tools");

    CHECK(link(join(buf, fx.out, "victim"), join(buf2, fx.ws, "hl")) == 0, "test set-up: hard link into the workspace");
    CHECK(!allowed(&p, "hl", SB_ACCESS_WRITE, NULL), "a hard-linked file is refused for writes");
    CHECK(allowed(&p, "hl", SB_ACCESS_READ, NULL), "a hard-linked file inside the workspace can still be read");

    static const char *const prot[] = { ".git/hooks/pre-commit", ".git/hooks", ".git/config", ".gitmodules",
                                        ".gemmash/config", ".bashrc", ".zshrc", ".profile", ".envrc" };
    for (size_t i = 0; i < sizeof prot / sizeof prot[0]; i++) {
        int ok = sb_check_path(&p, prot[i], SB_ACCESS_WRITE, res, sizeof res, why, sizeof why) != 0;
        CHECK(ok && strstr(why, "protected"), "protected path %s is refused for writes (%s)", prot[i], why);
    }
    CHECK(allowed(&p, ".git/config", SB_ACCESS_READ, NULL), ".git/config can be read");
    CHECK(allowed(&p, ".git/HEAD", SB_ACCESS_WRITE, NULL), "the rest of .git stays writable (git commit)");
    CHECK(allowed(&p, "sub/.bashrc", SB_ACCESS_WRITE, NULL), "rc files only matter at the top of a writable root");
    symlink(join(buf2, fx.ws, ".git/config"), join(buf, fx.ws, "cfg"));
    CHECK(!allowed(&p, "cfg", SB_ACCESS_WRITE, NULL), "a symlink to .git/config is refused for writes");

    CHECK(sb_check_path(&p, join(buf, fx.home, ".ssh/id_rsa"), SB_ACCESS_READ, res, sizeof res, why, sizeof why) != 0 &&
          strstr(why, "secret"), "~/.ssh/id_rsa is refused (%s)", why);
    CHECK(!allowed(&p, join(buf, fx.home, ".ssh"), SB_ACCESS_READ, NULL), "~/.ssh itself is refused");
    CHECK(allowed(&p, "/usr/include/stdio.h", SB_ACCESS_READ, NULL), "system headers are readable");
    CHECK(!allowed(&p, "/usr/include/stdio.h", SB_ACCESS_WRITE, NULL), "system files are not writable");
    CHECK(!allowed(&p, "/etc/shadow", SB_ACCESS_READ, NULL), "/etc/shadow is refused");
    CHECK(!allowed(&p, "", SB_ACCESS_READ, NULL), "an empty path is refused");

    CHECK(sb_policy_add_writable(&p, fx.out, err, sizeof err) == 0, "add an extra writable root");
    CHECK(allowed(&p, join(buf, fx.out, "new"), SB_ACCESS_WRITE, NULL), "the extra root is writable");
    CHECK(!allowed(&p, join(buf, fx.out, ".git/config"), SB_ACCESS_WRITE, NULL), "protected paths apply in extra roots");
    sb_policy bad;
    CHECK(sb_policy_init(&bad, "/", err, sizeof err) == 0 &&
          sb_check_path(&bad, "/usr/bin/new-tool", SB_ACCESS_WRITE, res, sizeof res, why, sizeof why) != 0 &&
          strstr(why, "system folder"), "a workspace holding system folders refuses writes (%s)", why);
    sb_policy_free(&bad);
    p.mode = SB_MODE_READ_ONLY;
    CHECK(!allowed(&p, "a.txt", SB_ACCESS_WRITE, NULL) && allowed(&p, "a.txt", SB_ACCESS_READ, NULL),
          "read-only mode: reads yes, writes no");
    p.mode = SB_MODE_FULL;
    CHECK(allowed(&p, join(buf, fx.home, ".ssh/id_rsa"), SB_ACCESS_READ, NULL), "full mode allows everything");
    p.mode = SB_MODE_WORKSPACE_WRITE;

    int fd = sb_open(&p, "opened.txt", SB_ACCESS_WRITE, O_WRONLY | O_CREAT | O_TRUNC, 0644, res, sizeof res, why, sizeof why);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1, "sb_open creates a workspace file (%s)", fd < 0 ? why : res);
    if (fd >= 0) close(fd);
    CHECK(sb_open(&p, "hl", SB_ACCESS_WRITE, O_WRONLY, 0, NULL, 0, why, sizeof why) < 0, "sb_open refuses a hard link");

    /* the race: a thread flips ws/d between a folder and a symlink to the outside */
    flipper f;
    join(f.d, fx.ws, "d"); snprintf(f.out, sizeof f.out, "%.400s/d", fx.root);
    join(f.tmp, fx.ws, "d/f");
    mkdir(join(buf, fx.root, "d"), 0755);    /* target of the symlink: <root>/d, outside the workspace */
    atomic_init(&f.stop, 0);
    mkdir(f.d, 0755);
    pthread_t th;
    int escaped = 0, opened = 0, refused = 0;
    if (pthread_create(&th, NULL, flip, &f) == 0) {
        for (int i = 0; i < 3000; i++) {
            fd = sb_open(&p, "d/f", SB_ACCESS_WRITE, O_WRONLY | O_CREAT, 0644, res, sizeof res, why, sizeof why);
            if (fd < 0) { refused++; continue; }
            opened++;
            char link[64], where[PATH_MAX];
            snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
            ssize_t n = readlink(link, where, sizeof where - 1);
            where[n > 0 ? n : 0] = '\0';
            if (strncmp(where, fx.ws, strlen(fx.ws)) != 0) escaped++;
            close(fd);
        }
        atomic_store(&f.stop, 1);
        pthread_join(th, NULL);
    }
    struct stat st;
    CHECK(escaped == 0 && stat(join(buf, fx.root, "d/f"), &st) != 0,
          "race: sb_open never opened or created a file outside while the folder flipped (%d opened, %d refused)",
          opened, refused);

    sb_policy_free(&p);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx.root);
    if (system(cmd) != 0) printf("# could not remove %s\n", fx.root);
    return check_exit();
}
