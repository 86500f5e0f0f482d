/* fsutil.c: the file layer of the tools, which applies the fence's policy.
 *
 * sb_check_path says whether a canonical path may be read or written; this
 * file then opens exactly that path without following symlinks (O_NOFOLLOW on
 * the last component, openat one component at a time for writes) and checks
 * after the open, through fstat and /proc/self/fd, that the object opened is
 * the one that was checked.  A symlink or hard link swapped in between the
 * check and the open is refused instead of followed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

/* Absolute form of a tool's path argument (relative = from the workspace). */
int gt_abspath(const gt_ctx *c, const char *path, char *out, size_t outlen, char *why, size_t wl)
{
    if (!path || !*path) {
        snprintf(why, wl, "empty path; give a path relative to the workspace or an absolute one");
        return -1;
    }
    if (strlen(path) >= GT_PATH_MAX - 1) {
        snprintf(why, wl, "path is too long (%zu bytes)", strlen(path));
        return -1;
    }
    if (memchr(path, '\n', strlen(path))) {
        snprintf(why, wl, "path contains a newline; check the path argument");
        return -1;
    }
    int n;
    if (path[0] == '/') n = snprintf(out, outlen, "%s", path);
    else if (!strcmp(path, ".")) n = snprintf(out, outlen, "%s", c->pol->workspace);
    else n = snprintf(out, outlen, "%s/%s", c->pol->workspace, path[0] == '.' && path[1] == '/' ? path + 2 : path);
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(why, wl, "path is too long once joined to the workspace");
        return -1;
    }
    /* Drop trailing slashes ("dir/" names the folder itself). */
    size_t l = strlen(out);
    while (l > 1 && out[l - 1] == '/') out[--l] = 0;
    return 0;
}

/* Short form for results: workspace-relative when inside it. */
const char *gt_display(const gt_ctx *c, const char *resolved)
{
    const char *ws = c->pol->workspace;
    size_t wl = strlen(ws);
    if (wl && !strncmp(resolved, ws, wl)) {
        if (resolved[wl] == 0) return ".";
        if (resolved[wl] == '/') return resolved + wl + 1;
    }
    return resolved;
}

/* Policy check of a tool path. */
int gt_check(const gt_ctx *c, const char *path, int access, char *resolved, size_t rlen, char *why, size_t wl)
{
    char abs[GT_PATH_MAX];
    if (gt_abspath(c, path, abs, sizeof abs, why, wl)) return -1;
    why[0] = 0;
    /* A relative path goes as given, so the policy's message names it as the model wrote it. */
    if (sb_check_path(c->pol, path[0] == '/' ? abs : path, access, resolved, rlen, why, wl)) {
        if (!why[0]) snprintf(why, wl, "%s: the sandbox policy does not allow %s here", path,
                              access & SB_ACCESS_WRITE ? "writing" : "reading");
        return -1;
    }
    return 0;
}

/* Does fd name the canonical path we checked?  Catches swapped parents. */
int gt_fd_is(int fd, const char *resolved, char *why, size_t wl)
{
    char link[64], got[GT_PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, got, sizeof got - 1);
    if (n < 0) {
        snprintf(why, wl, "%s: cannot verify the opened file through /proc/self/fd (%s); is /proc mounted?",
                 resolved, strerror(errno));
        return -1;
    }
    got[n] = 0;
    if (strcmp(got, resolved)) {
        snprintf(why, wl, "%s changed while it was being opened (it now leads to %s); refusing", resolved, got);
        return -1;
    }
    return 0;
}

/* Checked open for reading. */
int gt_open_read(const gt_ctx *c, const char *path, char *resolved, size_t rlen, struct stat *st, char *why,
                 size_t wl)
{
    if (gt_check(c, path, SB_ACCESS_READ, resolved, rlen, why, wl)) return -1;
    int fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) snprintf(why, wl, "%s does not exist; check the path (list_dir or glob can find it)", path);
        else if (e == ELOOP) snprintf(why, wl, "%s became a symbolic link after the policy check; refusing", path);
        else if (e == EACCES || e == EPERM) snprintf(why, wl, "%s: permission denied by the file system", path);
        else snprintf(why, wl, "cannot open %s: %s", path, strerror(e));
        return -1;
    }
    if (fstat(fd, st)) {
        snprintf(why, wl, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st->st_mode)) {
        snprintf(why, wl, "%s is a directory; use list_dir to see what it holds", path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(why, wl, "%s is not a regular file (device, pipe or socket); refusing to read it", path);
        close(fd);
        return -1;
    }
    if (gt_fd_is(fd, resolved, why, wl)) { close(fd); return -1; }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        snprintf(why, wl, "cannot set %s to blocking reads: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Read all of fd, refusing more than max bytes. */
int gt_read_fd(int fd, size_t max, char **out, size_t *len, char *why, size_t wl)
{
    gt_buf b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            snprintf(why, wl, "read failed: %s", strerror(errno));
            gb_free(&b);
            return -1;
        }
        if (n == 0) break;
        if (b.len + (size_t)n > max) {
            snprintf(why, wl, "file is larger than the %zu-byte limit", max);
            gb_free(&b);
            return -1;
        }
        gb_put(&b, chunk, (size_t)n);
        if (b.oom) {
            snprintf(why, wl, "out of memory reading %zu bytes", b.len);
            gb_free(&b);
            return -1;
        }
    }
    *len = b.len;
    *out = gb_take(&b);
    if (!*out) { snprintf(why, wl, "out of memory"); return -1; }
    return 0;
}

/* Open the folder dir one component at a time (no symlinks followed),
 * creating missing ones when dirs is set; created folders are appended to
 * *dirs.  fd or -1 + why. */
static int open_dir_chain(const char *dir, char ***dirs, int *n_dirs, char *why, size_t wl)
{
    int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) { snprintf(why, wl, "cannot open /: %s", strerror(errno)); return -1; }
    char cur[GT_PATH_MAX] = "";
    const char *p = dir;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char comp[256];
        if (n >= sizeof comp) { snprintf(why, wl, "path component too long in %s", dir); close(fd); return -1; }
        memcpy(comp, p, n);
        comp[n] = 0;
        size_t cl = strlen(cur);
        snprintf(cur + cl, sizeof cur - cl, "/%s", comp);
        int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && dirs) {
            if (mkdirat(fd, comp, 0755) && errno != EEXIST) {
                snprintf(why, wl, "cannot create folder %s: %s", cur, strerror(errno));
                close(fd);
                return -1;
            }
            char **nd = realloc(*dirs, sizeof(char *) * (size_t)(*n_dirs + 1));
            char *copy = strdup(cur);
            if (!nd || !copy) {
                free(copy);
                if (nd) *dirs = nd;
                snprintf(why, wl, "out of memory");
                close(fd);
                return -1;
            }
            *dirs = nd;
            (*dirs)[(*n_dirs)++] = copy;
            nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (nfd < 0) {
            int er = errno;
            if (er == ELOOP || er == ENOTDIR)
                snprintf(why, wl, "%s is not a plain folder (a symlink or a file is in the way); refusing", cur);
            else snprintf(why, wl, "cannot open folder %s: %s", cur, strerror(er));
            close(fd);
            return -1;
        }
        close(fd);
        fd = nfd;
        p += n;
    }
    return fd;
}

/* Remove one checked file without following symlinks on the way (undo of
 * a created file).  A missing file is fine.  0 or -1 + why. */
int gt_remove_file(const char *resolved, char *why, size_t wl)
{
    char dir[GT_PATH_MAX];
    const char *slash = strrchr(resolved, '/');
    if (!slash || !slash[1]) { snprintf(why, wl, "%s does not name a file", resolved); return -1; }
    size_t dl = (size_t)(slash - resolved);
    if (dl >= sizeof dir) { snprintf(why, wl, "path too long"); return -1; }
    memcpy(dir, resolved, dl ? dl : 1);
    dir[dl ? dl : 1] = 0;
    int dfd = open_dir_chain(dir, NULL, NULL, why, wl);
    if (dfd < 0) {
        struct stat st;
        return lstat(resolved, &st) && errno == ENOENT ? 0 : -1;
    }
    int r = unlinkat(dfd, slash + 1, 0);
    int e = errno;
    close(dfd);
    if (r && e != ENOENT) { snprintf(why, wl, "cannot remove %s: %s", resolved, strerror(e)); return -1; }
    return 0;
}

/* Remove folders we created (innermost first) after a failed write. */
static void drop_dirs(char **dirs, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        rmdir(dirs[i]);
        free(dirs[i]);
    }
    free(dirs);
}

/* Write data to a new file in dirfd and fsync it; the name is returned in tmp. */
static int write_temp(int dirfd, const char *base, const char *data, size_t len, mode_t mode,
                      const struct stat *old, char *tmp, size_t tl, char *why, size_t wl)
{
    int tfd = -1;
    for (int i = 0; i < 100 && tfd < 0; i++) {
        snprintf(tmp, tl, ".%.200s.gt%ld.%d", base, (long)getpid(), i);
        tfd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (tfd < 0 && errno != EEXIST) break;
    }
    if (tfd < 0) { snprintf(why, wl, "cannot create a temporary file next to %s: %s", base, strerror(errno)); return -1; }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(tfd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            snprintf(why, wl, "writing %s failed: %s", base, strerror(errno));
            goto fail;
        }
        off += (size_t)n;
    }
    if (old && fchown(tfd, old->st_uid, old->st_gid) && errno != EPERM) {
        snprintf(why, wl, "cannot keep the owner of %s: %s", base, strerror(errno));
        goto fail;
    }
    if (fchmod(tfd, mode)) { snprintf(why, wl, "cannot set the mode of %s: %s", base, strerror(errno)); goto fail; }
    if (fsync(tfd)) { snprintf(why, wl, "fsync of %s failed: %s", base, strerror(errno)); goto fail; }
    if (close(tfd)) { tfd = -1; snprintf(why, wl, "close of %s failed: %s", base, strerror(errno)); goto fail; }
    return 0;
fail:
    if (tfd >= 0) close(tfd);
    unlinkat(dirfd, tmp, 0);
    return -1;
}

/* Atomic replace or create (see tools_int.h). */
int gt_write_file(gt_ctx *c, const char *resolved, const char *data, size_t len, const gt_expect *expect,
                  const char *tool, bool journal, bool *created, char *why, size_t wl)
{
    char dir[GT_PATH_MAX];
    const char *slash = strrchr(resolved, '/');
    if (resolved[0] != '/' || !slash || !slash[1] || !strcmp(slash + 1, ".") || !strcmp(slash + 1, "..")) {
        snprintf(why, wl, "%s does not name a file", resolved);
        return -1;
    }
    size_t dl = (size_t)(slash - resolved);
    memcpy(dir, resolved, dl ? dl : 1);
    dir[dl ? dl : 1] = 0;
    const char *base = slash + 1;

    char **dirs = NULL;
    int n_dirs = 0;
    int dfd = open_dir_chain(dir, &dirs, &n_dirs, why, wl);
    if (dfd < 0) { drop_dirs(dirs, n_dirs); return -1; }
    char *pre = NULL;
    size_t pre_len = 0;
    struct stat st;
    bool existed = false;
    mode_t mode = 0644;
    char tmp[300];
    if (gt_fd_is(dfd, dir, why, wl)) goto fail;

    int efd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (efd < 0 && errno != ENOENT) {
        if (errno == ELOOP) snprintf(why, wl, "%s is a symbolic link; refusing to write through it", resolved);
        else snprintf(why, wl, "cannot open %s: %s", resolved, strerror(errno));
        goto fail;
    }
    if (efd >= 0) {
        existed = true;
        if (fstat(efd, &st)) { snprintf(why, wl, "cannot stat %s: %s", resolved, strerror(errno)); close(efd); goto fail; }
        if (!S_ISREG(st.st_mode)) {
            snprintf(why, wl, "%s is not a regular file; refusing to replace it", resolved);
            close(efd);
            goto fail;
        }
        if (st.st_nlink > 1) {
            snprintf(why, wl, "%s has %lu hard links; refusing to write through a hard link (it could change a "
                     "file outside the writable roots)", resolved, (unsigned long)st.st_nlink);
            close(efd);
            goto fail;
        }
        mode = st.st_mode & 07777;
        char rwhy[256];
        int r = gt_read_fd(efd, c->caps.file_max_bytes, &pre, &pre_len, rwhy, sizeof rwhy);
        close(efd);
        if (r) {
            snprintf(why, wl, "cannot keep the current content of %s for undo (%s); change it with shell tools",
                     resolved, rwhy);
            goto fail;
        }
    }
    if (expect && (expect->exists != existed ||
                   (existed && (expect->len != pre_len || expect->hash != gt_hash(pre, pre_len))))) {
        snprintf(why, wl, "%s changed on disk while it was being edited (by another program?); read it again "
                 "and redo the edit", resolved);
        goto fail;
    }
    if (write_temp(dfd, base, data, len, mode, existed ? &st : NULL, tmp, sizeof tmp, why, wl)) goto fail;
    if (renameat(dfd, tmp, dfd, base)) {
        snprintf(why, wl, "cannot rename the temporary file onto %s: %s", resolved, strerror(errno));
        unlinkat(dfd, tmp, 0);
        goto fail;
    }
    if (fsync(dfd)) { /* the data is in place; a failed folder sync only weakens durability */ }
    struct stat nst;
    if (fstatat(dfd, base, &nst, AT_SYMLINK_NOFOLLOW) == 0) gt_seen_set(c, resolved, &nst, gt_hash(data, len));
    close(dfd);
    if (created) *created = !existed;
    if (journal) {
        if (gt_journal_add(c, resolved, existed, pre, pre_len, mode, dirs, n_dirs, gt_hash(data, len), len, tool)) {
            snprintf(why, wl, "%s was written but the change could not be journaled (out of memory); undo "
                     "will not see it", resolved);
            return -1;
        }
        return 0;
    }
    free(pre);
    for (int i = 0; i < n_dirs; i++) free(dirs[i]);
    free(dirs);
    return 0;
fail:
    close(dfd);
    free(pre);
    drop_dirs(dirs, n_dirs);
    return -1;
}
