/* checkpath.c: the same policy as the kernel fence, checked in-process for
 * the file tools (read_file, write_file, edit...), which run in gemmash
 * itself rather than in a fenced child.
 *
 * sb_check_path canonicalises the path (symlinks, "..", /proc/self/root and
 * /proc/self/cwd all resolve to where they really lead) and then applies the
 * policy to the canonical path.  sb_open closes the window between that check
 * and the open: it opens the canonical path with openat2(RESOLVE_NO_SYMLINKS),
 * so a component swapped for a symlink in between makes the open fail. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sb_int.h"

/* Canonicalise a path that may not exist yet: the longest existing prefix is
 * resolved, the rest (which may not contain "." or "..") is appended. */
static int canonical(const char *abs, char out[PATH_MAX], char *why, size_t whylen, const char *orig)
{
    struct stat st;
    if (lstat(abs, &st) == 0) {
        if (realpath(abs, out)) return 0;
        sb_errf(why, whylen, "'%s' is a symlink that leads nowhere or loops (%s); refused", orig, strerror(errno));
        return -1;
    }
    if (errno != ENOENT) {
        sb_errf(why, whylen, "'%s' cannot be inspected: %s", orig, strerror(errno));
        return -1;
    }
    char head[PATH_MAX];
    snprintf(head, sizeof head, "%s", abs);
    const char *tail = NULL;
    for (;;) {
        size_t n = strlen(head);
        while (n > 1 && head[n - 1] == '/') head[--n] = '\0';
        char *slash = strrchr(head, '/');
        if (!slash) { sb_errf(why, whylen, "'%s' has no existing parent folder", orig); return -1; }
        const char *leaf = slash + 1;
        if (!strcmp(leaf, ".") || !strcmp(leaf, "..")) {
            sb_errf(why, whylen, "'%s' uses '.' or '..' below a folder that does not exist; refused", orig);
            return -1;
        }
        tail = abs + (leaf - head);
        if (slash == head) { head[1] = '\0'; } else *slash = '\0';
        if (lstat(head, &st) == 0) break;
        if (errno != ENOENT) { sb_errf(why, whylen, "'%s' cannot be inspected: %s", orig, strerror(errno)); return -1; }
    }
    for (const char *s = tail; *s; ) {
        size_t n = strcspn(s, "/");
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
            sb_errf(why, whylen, "'%s' uses '.' or '..' below a folder that does not exist; refused", orig);
            return -1;
        }
        s += n;
        while (*s == '/') s++;
    }
    char base[PATH_MAX];
    if (!realpath(head, base)) {
        sb_errf(why, whylen, "'%s': parent folder '%s' cannot be resolved: %s", orig, head, strerror(errno));
        return -1;
    }
    /* base + each component of the tail, one slash between (a//b is a/b) */
    size_t n = strlen(base);
    memcpy(out, base, n + 1);
    for (const char *s = tail; *s; ) {
        size_t m = strcspn(s, "/");
        if (m) {
            if (n + 1 + m >= PATH_MAX) { sb_errf(why, whylen, "'%s' is too long", orig); return -1; }
            if (!(n == 1 && out[0] == '/')) out[n++] = '/';      /* base is "/" or "/x..." */
            memcpy(out + n, s, m);
            n += m;
            out[n] = '\0';
        }
        s += m;
        while (*s == '/') s++;
    }
    return 0;
}

/* Readable by the fence: system roots, home toolchains, writable roots, the workspace. */
static bool readable(const sb_policy *p, const char *path)
{
    if (sb_path_within(path, p->workspace) || sb_is_write_root(p, path, NULL)) return true;
    for (int i = 0; i < p->n_writable; i++) if (sb_path_within(path, p->writable[i])) return true;
    for (int i = 0; sb_system_read_roots[i]; i++) {
        char real[PATH_MAX];
        const char *r = realpath(sb_system_read_roots[i], real) ? real : sb_system_read_roots[i];
        if (sb_path_within(path, r)) return true;
    }
    for (int i = 0; p->home[0] && sb_home_read_roots[i]; i++) {
        char root[PATH_MAX + 64];
        snprintf(root, sizeof root, "%s/%s", p->home, sb_home_read_roots[i]);
        if (sb_path_within(path, root)) return true;
    }
    return false;
}

/* List the writable roots into buf for a message. */
static void writable_list(const sb_policy *p, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", p->workspace);
    for (int i = 0; i < p->n_writable && n > 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, ", %s", p->writable[i]);
}

/* See sandbox.h. */
int sb_check_path(const sb_policy *p, const char *path, int access, char *resolved, size_t rlen,
                  char *why, size_t whylen)
{
    char abs[PATH_MAX], canon[PATH_MAX], list[1024];
    if (why && whylen) why[0] = '\0';
    if (!path || !path[0]) { sb_errf(why, whylen, "empty path"); return -1; }
    if ((size_t)snprintf(abs, sizeof abs, "%s%s%s", path[0] == '/' ? "" : p->workspace,
                         path[0] == '/' ? "" : "/", path) >= sizeof abs) {
        sb_errf(why, whylen, "path too long");
        return -1;
    }
    if (canonical(abs, canon, why, whylen, path) != 0) return -1;
    if (resolved && rlen) snprintf(resolved, rlen, "%s", canon);
    if (p->mode == SB_MODE_FULL) return 0;
    const char *what = NULL;
    if (sb_path_within(canon, "/proc") || sb_path_within(canon, "/sys") || sb_path_within(canon, "/dev")) {
        sb_errf(why, whylen, "'%s' resolves to %s, a kernel or device file; the file tools do not touch "
                "those (run a command instead)", path, canon);
        return -1;
    }
    if (sb_is_denied(p, canon, &what)) {
        sb_errf(why, whylen, "'%s' resolves to %s, inside the secret path %s, which the sandbox never reads "
                "or writes", path, canon, what);
        return -1;
    }
    if (access & SB_ACCESS_WRITE) {
        const char *root = NULL;
        writable_list(p, list, sizeof list);
        if (p->mode == SB_MODE_READ_ONLY) {
            sb_errf(why, whylen, "the sandbox is read-only; '%s' cannot be written (ask the user to switch to "
                    "workspace-write)", path);
            return -1;
        }
        if (!sb_is_write_root(p, canon, &root)) {
            sb_errf(why, whylen, "'%s' resolves to %s, outside the writable roots: writable are %s",
                    path, canon, list);
            return -1;
        }
        if (sb_unsafe_write_root(p, root, why, whylen)) return -1;
        const char *rel = canon + strlen(root);
        while (*rel == '/') rel++;
        const char *prot = *rel ? sb_protected_match(rel) : NULL;
        if (prot) {
            sb_errf(why, whylen, "'%s' is under the protected path %s: a write there could run code later "
                    "(git hooks, shell start-up files), so it stays read-only; ask the user to edit it", path, prot);
            return -1;
        }
        struct stat st;
        if (lstat(canon, &st) == 0) {
            if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                sb_errf(why, whylen, "'%s' is a hard link (%lu names): writing it could change a file outside "
                        "the writable roots; refused", path, (unsigned long)st.st_nlink);
                return -1;
            }
            if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
                sb_errf(why, whylen, "'%s' is not a regular file or folder (a device, fifo or socket); refused", path);
                return -1;
            }
        }
        return 0;
    }
    if (!readable(p, canon)) {
        sb_errf(why, whylen, "'%s' resolves to %s, outside what the sandbox can read (the workspace %s, the "
                "writable roots and the system folders)", path, canon, p->workspace);
        return -1;
    }
    return 0;
}

/* Check, then open the canonical path refusing any symlink on the way, so the
 * file opened is the file checked.  Returns the fd, or -1 with why. */
int sb_open(const sb_policy *p, const char *path, int access, int flags, mode_t mode,
            char *resolved, size_t rlen, char *why, size_t whylen)
{
    char canon[PATH_MAX];
    if (sb_check_path(p, path, access, canon, sizeof canon, why, whylen) != 0) return -1;
    if (resolved && rlen) snprintf(resolved, rlen, "%s", canon);
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                            .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, canon, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) fd = open(canon, flags | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        if (errno == ELOOP || errno == EXDEV)
            sb_errf(why, whylen, "'%s' changed into a symlink while being opened; refused", path);
        else
            sb_errf(why, whylen, "'%s' cannot be opened: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || ((access & SB_ACCESS_WRITE) && S_ISREG(st.st_mode) && st.st_nlink > 1)) {
        close(fd);
        sb_errf(why, whylen, "'%s' became a hard link while being opened; refused", path);
        return -1;
    }
    return fd;
}
