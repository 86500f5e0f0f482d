/* guard.c: keeps protected paths (.git/hooks, .git/config, .gitmodules,
 * .gemmash/, shell rc files) unchanged across a run.
 *
 * Landlock rules only add rights down a hierarchy, so a workspace that must
 * accept new files also accepts new files in .git/hooks.  Instead, before a
 * run we copy every protected path of every writable root into memory, and
 * after the run, once its whole process group is dead (setsid/setpgid are
 * refused by seccomp, so nothing can leave the group), we compare and put
 * back anything that changed.  All file operations go through *at() calls
 * with O_NOFOLLOW from a descriptor of the root, so a symlink planted by the
 * command cannot redirect the restore outside the root.
 *
 * A new .git (git init) is allowed: a new .git/hooks holding only *.sample
 * files and a new .git/config holding only git init's [core] keys are kept;
 * anything else new under a protected path is removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sb_int.h"

#define GUARD_MAX_BYTES (16u << 20)
#define GUARD_MAX_ENTRIES 20000

typedef struct {
    char  *rel;           /* path relative to the root */
    mode_t mode;          /* type and permissions */
    char  *data;          /* file content or link target (NULL for dirs and big files) */
    size_t len;
    bool   big;           /* content not kept: compare size, mtime and inode only */
    off_t  size; struct timespec mtime; ino_t ino;
} entry;

typedef struct { entry *e; size_t n, cap; size_t bytes; } entries;

typedef struct { int fd; char *path; entries before; } root;

struct sb_guard { root *roots; int n; };

/* Free a list of entries. */
static void entries_free(entries *l)
{
    for (size_t i = 0; i < l->n; i++) { free(l->e[i].rel); free(l->e[i].data); }
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* Open the directory holding rel (relative to rootfd) without following any
 * symlink; *leaf points into rel at the last component.  -1 with errno. */
static int open_parent(int rootfd, const char *rel, const char **leaf)
{
    const char *slash = strrchr(rel, '/');
    *leaf = slash ? slash + 1 : rel;
    int fd = dup(rootfd);
    if (fd < 0 || !slash) return fd;
    char part[PATH_MAX];
    const char *s = rel;
    while (s < slash) {
        size_t n = strcspn(s, "/");
        if (n >= sizeof part) { close(fd); errno = ENAMETOOLONG; return -1; }
        memcpy(part, s, n); part[n] = '\0';
        int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(fd);
        if (next < 0) { errno = e; return -1; }
        fd = next;
        s += n + 1;
    }
    return fd;
}

/* Read a whole regular file opened at (dirfd, name). */
static char *read_all(int dirfd, const char *name, size_t size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return NULL;
    char *buf = malloc(size + 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t k = read(fd, buf + got, size - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (buf && got != size) { free(buf); return NULL; }
    return buf;
}

/* Record rel (and, for a folder, everything below it).  0, or -1 on ENOMEM. */
static int scan(int rootfd, const char *rel, entries *l, bool recurse)
{
    const char *leaf;
    int dfd = open_parent(rootfd, rel, &leaf);
    if (dfd < 0) return 0;                       /* parent missing or not a folder: absent */
    struct stat st;
    if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) { close(dfd); return 0; }
    if (l->n >= GUARD_MAX_ENTRIES) { close(dfd); return -1; }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        entry *ne = realloc(l->e, cap * sizeof *ne);
        if (!ne) { close(dfd); return -1; }
        l->e = ne; l->cap = cap;
    }
    entry *e = &l->e[l->n];
    memset(e, 0, sizeof *e);
    if (!(e->rel = strdup(rel))) { close(dfd); return -1; }
    e->mode = st.st_mode; e->size = st.st_size; e->mtime = st.st_mtim; e->ino = st.st_ino;
    l->n++;
    int rc = 0;
    if (S_ISREG(st.st_mode)) {
        if (l->bytes + (size_t)st.st_size > GUARD_MAX_BYTES) e->big = true;
        else if ((e->data = read_all(dfd, leaf, (size_t)st.st_size))) { e->len = (size_t)st.st_size; l->bytes += e->len; }
        else e->big = true;
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t k = readlinkat(dfd, leaf, target, sizeof target - 1);
        if (k >= 0 && (e->data = strndup(target, (size_t)k))) e->len = (size_t)k;
    } else if (S_ISDIR(st.st_mode) && recurse) {
        int fd = openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d && fd >= 0) close(fd);
        struct dirent *de;
        while (rc == 0 && d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char child[PATH_MAX];
            if ((size_t)snprintf(child, sizeof child, "%s/%s", rel, de->d_name) >= sizeof child) continue;
            rc = scan(rootfd, child, l, true);
        }
        if (d) closedir(d);
    }
    close(dfd);
    return rc;
}

/* Snapshot every protected path (and .git itself) of one root. */
static int scan_root(int rootfd, entries *l)
{
    if (scan(rootfd, ".git", l, false) != 0) return -1;     /* its type only */
    for (int i = 0; sb_protected_paths[i]; i++)
        if (scan(rootfd, sb_protected_paths[i], l, true) != 0) return -1;
    return 0;
}

/* Take the snapshot of every writable root before a run (NULL + err on failure). */
sb_guard *sb_guard_take(const sb_policy *p, char *err, size_t errlen)
{
    sb_guard *g = calloc(1, sizeof *g);
    int n = p->mode == SB_MODE_WORKSPACE_WRITE ? 1 + p->n_writable : 0;
    if (!g || (n && !(g->roots = calloc((size_t)n, sizeof *g->roots)))) {
        free(g);
        sb_errf(err, errlen, "sandbox: out of memory taking the protected-path snapshot");
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        const char *path = i == 0 ? p->workspace : p->writable[i - 1];
        root *r = &g->roots[g->n++];
        r->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r->path = strdup(path);
        if (r->fd < 0 || !r->path || scan_root(r->fd, &r->before) != 0) {
            sb_errf(err, errlen, "sandbox: cannot snapshot the protected paths of '%s' (%s); "
                    "nothing was run", path, r->fd < 0 ? strerror(errno) : "too many files or out of memory");
            sb_guard_free(g);
            return NULL;
        }
    }
    return g;
}

/* Free a guard (without restoring). */
void sb_guard_free(sb_guard *g)
{
    if (!g) return;
    for (int i = 0; i < g->n; i++) {
        if (g->roots[i].fd >= 0) close(g->roots[i].fd);
        free(g->roots[i].path);
        entries_free(&g->roots[i].before);
    }
    free(g->roots);
    free(g);
}

/* Find rel in a list (NULL if absent). */
static const entry *find(const entries *l, const char *rel)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].rel, rel) == 0) return &l->e[i];
    return NULL;
}

/* Same type, permissions and content? */
static bool same(const entry *a, const entry *b)
{
    if (a->mode != b->mode) return false;
    if (S_ISDIR(a->mode)) return true;
    if (a->big || b->big) return a->big && b->big && a->size == b->size && a->ino == b->ino &&
                                 a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Remove name in dirfd, recursively, never following a symlink. */
int sb_remove_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlinkat(dirfd, name, 0);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) { if (fd >= 0) close(fd); return -1; }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && sb_remove_at(fd, de->d_name) != 0) rc = -1;
    closedir(d);
    return rc == 0 ? unlinkat(dirfd, name, AT_REMOVEDIR) : -1;
}

/* Recreate one entry from the snapshot (its parent exists). */
static int recreate(int rootfd, const entry *e)
{
    const char *leaf;
    int dfd = open_parent(rootfd, e->rel, &leaf);
    if (dfd < 0) return -1;
    int rc = -1;
    if (S_ISDIR(e->mode)) {
        rc = mkdirat(dfd, leaf, 0700);
        if (rc == 0) rc = fchmodat(dfd, leaf, e->mode & 07777, 0);
    } else if (S_ISLNK(e->mode) && e->data) {
        rc = symlinkat(e->data, dfd, leaf);
    } else if (S_ISREG(e->mode) && !e->big) {
        int fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            rc = (e->len == 0 || write(fd, e->data, e->len) == (ssize_t)e->len) ? fchmod(fd, e->mode & 07777) : -1;
            close(fd);
        }
    }
    close(dfd);
    return rc;
}

/* Is a path that did not exist before the run harmless to keep (git init's output)? */
static bool benign_new(const entries *now, const entry *e)
{
    if (strcmp(e->rel, ".git/hooks") == 0 && S_ISDIR(e->mode)) {
        for (size_t i = 0; i < now->n; i++) {
            const char *r = now->e[i].rel;
            if (strncmp(r, ".git/hooks/", 11) != 0) continue;
            size_t n = strlen(r);
            if (!S_ISREG(now->e[i].mode) || n < 7 || strcmp(r + n - 7, ".sample") != 0 || strchr(r + 11, '/'))
                return false;
        }
        return true;
    }
    if (strcmp(e->rel, ".git/config") == 0 && S_ISREG(e->mode) && e->data) {
        static const char *const keys[] = { "repositoryformatversion", "filemode", "bare", "logallrefupdates",
                                            "ignorecase", "precomposeunicode", "symlinks", NULL };
        const char *s = e->data, *end = e->data + e->len;
        while (s < end) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
            while (n && (*s == ' ' || *s == '\t')) { s++; n--; }
            bool ok = n == 0 || (n == 6 && memcmp(s, "[core]", 6) == 0);
            for (int k = 0; !ok && keys[k]; k++) {
                size_t kl = strlen(keys[k]);
                ok = n > kl && strncmp(s, keys[k], kl) == 0 && (s[kl] == ' ' || s[kl] == '=');
            }
            if (!ok) return false;
            s += n + 1;
        }
        return true;
    }
    return strcmp(e->rel, ".git") == 0 && S_ISDIR(e->mode);
}

/* Append a restored path to the message. */
static void note(char *msg, size_t msglen, const char *root, const char *rel)
{
    size_t used = strlen(msg);
    if (used + 8 < msglen) snprintf(msg + used, msglen - used, "%s%s/%s", used ? ", " : "", root, rel);
}

/* Compare one root with its snapshot and put back what changed. */
static int restore_root(root *r, char *msg, size_t msglen, int *failed)
{
    entries now = {0};
    if (scan_root(r->fd, &now) != 0) { entries_free(&now); (*failed)++; return 0; }
    int restored = 0;
    /* top-level protected names, .git first so its children have a parent */
    const char *tops[32];
    int nt = 0;
    tops[nt++] = ".git";
    for (int i = 0; sb_protected_paths[i] && nt < 32; i++) tops[nt++] = sb_protected_paths[i];
    for (int t = 0; t < nt; t++) {
        const char *top = tops[t];
        bool changed = false;
        for (size_t i = 0; i < r->before.n && !changed; i++) {
            const entry *b = &r->before.e[i];
            if (!sb_path_within(b->rel, top) || (t == 0 && strcmp(b->rel, ".git") != 0)) continue;
            const entry *a = find(&now, b->rel);
            changed = !a || !same(a, b);
            if (t == 0 && a && S_ISDIR(a->mode) && S_ISDIR(b->mode)) changed = false;
        }
        for (size_t i = 0; i < now.n && !changed; i++) {
            const entry *a = &now.e[i];
            if (!sb_path_within(a->rel, top) || (t == 0 && strcmp(a->rel, ".git") != 0)) continue;
            if (!find(&r->before, a->rel) && !benign_new(&now, a)) changed = true;
            if (!find(&r->before, a->rel) && benign_new(&now, a)) break;   /* whole new subtree kept */
        }
        if (!changed) continue;
        const char *leaf;
        int dfd = open_parent(r->fd, top, &leaf);
        int ok = dfd >= 0;
        if (ok && t == 0) {
            /* .git: only its type is guarded; a folder stays, anything else is put back */
            const entry *b = find(&r->before, ".git");
            ok = sb_remove_at(dfd, leaf) == 0 && (!b || recreate(r->fd, b) == 0);
        } else if (ok) {
            ok = sb_remove_at(dfd, leaf) == 0;
            for (size_t i = 0; ok && i < r->before.n; i++)
                if (sb_path_within(r->before.e[i].rel, top)) ok = recreate(r->fd, &r->before.e[i]) == 0;
        }
        if (dfd >= 0) close(dfd);
        if (ok) { restored++; note(msg, msglen, r->path, top); }
        else (*failed)++;
    }
    entries_free(&now);
    return restored;
}

/* After a run: restore every changed protected path.  Returns how many were
 * restored, or -1 if some could not be (msg names them all). */
int sb_guard_restore(sb_guard *g, char *msg, size_t msglen)
{
    int restored = 0, failed = 0;
    if (msglen) msg[0] = '\0';
    for (int i = 0; i < g->n; i++) restored += restore_root(&g->roots[i], msg, msglen, &failed);
    return failed ? -1 : restored;
}
