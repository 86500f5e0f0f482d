/* userns.c: the optional extra layer, used only where unprivileged user
 * namespaces work (the fence never needs it).  The child enters new user and
 * mount namespaces (and a network namespace when the network is off), maps
 * its own uid and gid onto themselves, and bind-mounts every protected path
 * that already exists in a writable root read-only onto itself.  That makes
 * .git/hooks, .git/config, rc files... read-only at the kernel level during
 * the run, where Landlock alone cannot (guard.c still restores afterwards,
 * and still handles protected paths that did not exist before the run).
 * It also gives the run a private tmpfs on /dev/shm.
 *
 * Set GEMMASH_SANDBOX_USERNS=0 to leave this layer out. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sb_int.h"

/* Write a short string to a /proc file (async-signal-safe). */
static int put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* "ID ID 1" for a uid/gid map, without stdio (async-signal-safe). */
static void id_map(char *out, unsigned id)
{
    char digits[16];
    int n = 0;
    do { digits[n++] = (char)('0' + id % 10); id /= 10; } while (id);
    int k = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = n - 1; i >= 0; i--) out[k++] = digits[i];
        out[k++] = ' ';
    }
    out[k++] = '1';
    out[k] = '\0';
}

/* In a fresh user namespace: map our own ids and make mounts private. */
static int setns_maps(unsigned uid, unsigned gid, const char **stage)
{
    char map[48];
    *stage = "writing /proc/self/setgroups";
    if (put("/proc/self/setgroups", "deny") != 0) return -1;
    *stage = "writing /proc/self/uid_map";
    id_map(map, uid);
    if (put("/proc/self/uid_map", map) != 0) return -1;
    *stage = "writing /proc/self/gid_map";
    id_map(map, gid);
    if (put("/proc/self/gid_map", map) != 0) return -1;
    *stage = "making mounts private";
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* Enter the namespaces and map ids; -1 with errno and *stage on failure. */
static int enter(unsigned uid, unsigned gid, bool net, const char **stage)
{
    *stage = "unshare(CLONE_NEWUSER|CLONE_NEWNS)";
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | (net ? CLONE_NEWNET : 0)) != 0) return -1;
    return setns_maps(uid, gid, stage);
}

/* Parent: does the layer work on this machine?  Tried in a throw-away child. */
bool sb_userns_usable(bool net)
{
    const char *knob = getenv("GEMMASH_SANDBOX_USERNS");
    if (knob && strcmp(knob, "0") == 0) return false;
    unsigned uid = (unsigned)getuid(), gid = (unsigned)getgid();
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        const char *stage;
        _exit(enter(uid, gid, net, &stage) == 0 ? 0 : 1);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Parent: the absolute protected paths that exist now (NULL-terminated, malloc'd). */
char **sb_userns_protected(const sb_policy *p)
{
    int roots = p->mode == SB_MODE_WORKSPACE_WRITE ? 1 + p->n_writable : 0, n = 0;
    int per = 0;
    while (sb_protected_paths[per]) per++;
    char **list = calloc((size_t)(roots * per + 1), sizeof *list);
    if (!list) return NULL;
    for (int r = 0; r < roots; r++) {
        const char *root = r == 0 ? p->workspace : p->writable[r - 1];
        for (int i = 0; i < per; i++) {
            char path[PATH_MAX + 64];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", root, sb_protected_paths[i]);
            if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode)) continue;
            char real[PATH_MAX];
            if (!realpath(path, real) || strcmp(real, path) != 0) continue;   /* a symlink on the way */
            if (!(list[n++] = strdup(path))) { sb_env_free(list); return NULL; }
        }
    }
    return list;
}

/* Child: enter the layer and make the protected paths read-only.  The layer
 * is optional: if the namespaces cannot be made, or a path cannot be bound,
 * the run goes on without it (the guard still covers protected paths); only a
 * half-made user namespace (ids not mapped) is an error.  Returns 0 when the
 * layer was skipped, 1 when in it, 2 when in it with a private /dev/shm,
 * -1 (errno, *stage) on error. */
int sb_userns_enter(unsigned uid, unsigned gid, bool net, char *const *protect, const char **stage)
{
    *stage = "unshare";
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | (net ? CLONE_NEWNET : 0)) != 0) return 0;
    if (setns_maps(uid, gid, stage) != 0) return -1;
    /* a private, small /dev/shm (POSIX semaphores, Python multiprocessing); the
     * caller grants it in Landlock only when this mount succeeded */
    int shm = mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64m,mode=1777") == 0;
    for (int i = 0; protect && protect[i]; i++) {
        if (mount(protect[i], protect[i], NULL, MS_BIND | MS_REC, NULL) != 0) continue;
        struct statvfs sv;
        if (statvfs(protect[i], &sv) != 0) continue;
        unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
        if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
        if (mount(NULL, protect[i], NULL, flags, NULL) != 0) umount2(protect[i], MNT_DETACH);
    }
    return shm ? 2 : 1;
}
