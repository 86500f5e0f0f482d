/* landlock.c: the filesystem, TCP and scope half of the fence, through the
 * raw Landlock system calls at the highest ABI the kernel offers.
 *
 * Landlock is an allow-list whose rules apply to whole hierarchies, so:
 *  - the system roots get read+execute; a root that holds a denied path
 *    (e.g. /etc holds /etc/shadow) is granted child by child instead, skipping
 *    the denied entries (only "list folder" reaches them through the parent);
 *  - writable roots (workspace, --writable, the private TMPDIR) get every
 *    right except creating device nodes; a writable root that holds, or lies
 *    in, a denied path or HOME itself is refused (fail closed), because the
 *    directory rights it needs would reach the secrets below it;
 *  - protected paths inside a writable root cannot be carved out (a rule can
 *    only add rights); guard.c restores them after each run instead. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sb_int.h"

struct ll_ruleset_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct ll_path_beneath { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));

#define R_READ (SB_LL_FS_EXECUTE | SB_LL_FS_READ_FILE | SB_LL_FS_READ_DIR)
#define R_WRITE (SB_LL_FS_WRITE_FILE | SB_LL_FS_REMOVE_DIR | SB_LL_FS_REMOVE_FILE | SB_LL_FS_MAKE_DIR | \
                 SB_LL_FS_MAKE_REG | SB_LL_FS_MAKE_SOCK | SB_LL_FS_MAKE_FIFO | SB_LL_FS_MAKE_SYM | \
                 SB_LL_FS_REFER | SB_LL_FS_TRUNCATE)
#define R_DEV (SB_LL_FS_READ_FILE | SB_LL_FS_WRITE_FILE | SB_LL_FS_TRUNCATE | SB_LL_FS_IOCTL_DEV | \
               SB_LL_FS_READ_DIR)

/* The kernel's Landlock ABI version, 0 if it has none (or a test simulates that). */
int sb_landlock_abi(void)
{
    const char *sim = getenv("GEMMASH_SANDBOX_SIMULATE");
    if (sim && strstr(sim, "no-landlock")) return 0;
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, SB_LL_CREATE_VERSION);
    return v < 0 ? 0 : (int)v;
}

/* Every filesystem right the given ABI knows. */
static uint64_t fs_rights(int abi)
{
    uint64_t r = (SB_LL_FS_MAKE_SYM << 1) - 1;
    if (abi >= 2) r |= SB_LL_FS_REFER;
    if (abi >= 3) r |= SB_LL_FS_TRUNCATE;
    if (abi >= 5) r |= SB_LL_FS_IOCTL_DEV;
    return r;
}

typedef struct {
    int fd;
    uint64_t handled;
    const sb_policy *p;
    char *err; size_t errlen;
} builder;

/* Add one path-beneath rule; a path that does not exist is skipped. */
static int add_rule(builder *b, const char *path, uint64_t rights)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) return 0;
        sb_errf(b->err, b->errlen, "sandbox: cannot open '%s' for a Landlock rule: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        sb_errf(b->err, b->errlen, "sandbox: cannot stat '%s': %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) rights &= SB_LL_FILE_RIGHTS;
    rights &= b->handled;
    struct ll_path_beneath pb = { .allowed_access = rights, .parent_fd = fd };
    int rc = rights ? (int)syscall(SYS_landlock_add_rule, b->fd, SB_LL_RULE_PATH_BENEATH, &pb, 0) : 0;
    int e = errno;
    close(fd);
    if (rc != 0) {
        sb_errf(b->err, b->errlen, "sandbox: Landlock refused a rule for '%s': %s", path, strerror(e));
        return -1;
    }
    return 0;
}

/* Does a denied path lie strictly below root? */
static bool holds_denied(const sb_policy *p, const char *root)
{
    for (int i = 0; i < p->n_deny_read; i++)
        if (sb_path_within(p->deny_read[i], root) && strcmp(p->deny_read[i], root) != 0) return true;
    return false;
}

/* Grant read rights on root, skipping denied paths below it (child by child). */
static int add_read_tree(builder *b, const char *root, uint64_t rights, int depth)
{
    char real[PATH_MAX];
    if (!realpath(root, real)) return 0;           /* missing: nothing to grant */
    if (sb_is_denied(b->p, real, NULL)) return 0;
    if (!holds_denied(b->p, real) || depth > 8) return add_rule(b, real, rights);
    if (add_rule(b, real, SB_LL_FS_READ_DIR) != 0) return -1;
    DIR *d = opendir(real);
    if (!d) return 0;
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char child[PATH_MAX];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", real, de->d_name) >= sizeof child) continue;
        struct stat st;
        if (lstat(child, &st) != 0) continue;
        if (S_ISLNK(st.st_mode)) continue;       /* reached through its target's own rule */
        if (sb_is_denied(b->p, child, NULL)) continue;
        rc = add_read_tree(b, child, rights, depth + 1);
    }
    closedir(d);
    return rc;
}

/* Grant full write rights on a writable root, refusing roots that would expose secrets. */
static int add_write_root(builder *b, const char *root)
{
    if (sb_unsafe_write_root(b->p, root, b->err, b->errlen)) return -1;
    return add_rule(b, root, R_READ | R_WRITE);
}

/* Build the ruleset for a run; *fd_out gets the ruleset fd (close-on-exec). */
int sb_landlock_build(const sb_policy *p, const char *tmpdir, int abi, int *fd_out, char *err, size_t errlen)
{
    struct ll_ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };
    size_t size = sizeof attr.handled_access_fs;
    if (abi >= 4) {
        size += sizeof attr.handled_access_net;
        if (!p->allow_network) attr.handled_access_net = SB_LL_NET_BIND_TCP | SB_LL_NET_CONNECT_TCP;
    }
    if (abi >= 6) {
        size += sizeof attr.scoped;
        attr.scoped = SB_LL_SCOPE_ABSTRACT_UNIX | SB_LL_SCOPE_SIGNAL;
    }
    int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (fd < 0) {
        sb_errf(err, errlen, "sandbox: Landlock ruleset creation failed (ABI %d): %s; run with "
                "--dangerously-full-access to run unfenced", abi, strerror(errno));
        return -1;
    }
    builder b = { fd, attr.handled_access_fs, p, err, errlen };
    int rc = 0;
    for (int i = 0; rc == 0 && sb_system_read_roots[i]; i++)
        rc = add_read_tree(&b, sb_system_read_roots[i], R_READ, 0);
    for (int i = 0; rc == 0 && p->home[0] && sb_home_read_roots[i]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", p->home, sb_home_read_roots[i]);
        rc = add_read_tree(&b, path, R_READ, 0);
    }
    if (rc == 0) rc = add_rule(&b, "/proc", SB_LL_FS_READ_FILE | SB_LL_FS_READ_DIR);
    if (rc == 0) rc = add_rule(&b, "/sys", SB_LL_FS_READ_FILE | SB_LL_FS_READ_DIR);
    if (rc == 0) rc = add_rule(&b, "/dev", SB_LL_FS_READ_DIR);
    for (int i = 0; rc == 0 && sb_devices_rw[i]; i++) rc = add_rule(&b, sb_devices_rw[i], R_DEV);
    if (rc == 0) {
        if (p->mode == SB_MODE_READ_ONLY) {
            rc = add_read_tree(&b, p->workspace, R_READ, 0);
            for (int i = 0; rc == 0 && i < p->n_writable; i++) rc = add_read_tree(&b, p->writable[i], R_READ, 0);
        } else {
            rc = add_write_root(&b, p->workspace);
            for (int i = 0; rc == 0 && i < p->n_writable; i++) rc = add_write_root(&b, p->writable[i]);
        }
    }
    if (rc == 0 && tmpdir) rc = add_rule(&b, tmpdir, R_READ | R_WRITE);
    if (rc != 0) { close(fd); return -1; }
    *fd_out = fd;
    return 0;
}

/* Rights for a writable folder under this ABI (the child adds /dev/shm with them). */
uint64_t sb_landlock_write_rights(int abi)
{
    return (R_READ | R_WRITE) & fs_rights(abi);
}

/* Child side: one more rule, for a folder that only exists in the child's
 * mount namespace (its private /dev/shm).  Raw system calls only. */
int sb_landlock_add_dir(int ruleset_fd, const char *path, uint64_t rights)
{
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct ll_path_beneath pb = { .allowed_access = rights, .parent_fd = fd };
    int rc = (int)syscall(SYS_landlock_add_rule, ruleset_fd, SB_LL_RULE_PATH_BENEATH, &pb, 0);
    close(fd);
    return rc;
}

/* Child side: enforce the ruleset on this process and its future children. */
int sb_landlock_restrict(int ruleset_fd)
{
    return (int)syscall(SYS_landlock_restrict_self, ruleset_fd, 0);
}

/* Describe the Landlock part of the fence for sb_doctor. */
void sb_landlock_describe(FILE *out, const sb_policy *p, int abi)
{
    fprintf(out, "  landlock ABI %d:\n", abi);
    fputs("    read+execute:", out);
    for (int i = 0; sb_system_read_roots[i]; i++)
        if (access(sb_system_read_roots[i], F_OK) == 0) fprintf(out, " %s", sb_system_read_roots[i]);
    for (int i = 0; p->home[0] && sb_home_read_roots[i]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", p->home, sb_home_read_roots[i]);
        if (access(path, F_OK) == 0) fprintf(out, " %s", path);
    }
    fputs("\n    read only:    /proc /sys (a process outside the sandbox cannot be inspected)\n", out);
    fputs("    devices:     ", out);
    for (int i = 0; sb_devices_rw[i]; i++) fprintf(out, " %s", sb_devices_rw[i]);
    fputc('\n', out);
    if (p->mode == SB_MODE_READ_ONLY) {
        fprintf(out, "    workspace:    %s (read only)\n", p->workspace);
    } else {
        fprintf(out, "    writable:     %s", p->workspace);
        for (int i = 0; i < p->n_writable; i++) fprintf(out, " %s", p->writable[i]);
        fputs(" + a private TMPDIR per run\n", out);
    }
    fputs("    denied:      ", out);
    for (int i = 0; i < p->n_deny_read; i++) fprintf(out, " %s", p->deny_read[i]);
    fputs("\n    protected (restored after each run, refused to the file tools):", out);
    for (int i = 0; sb_protected_paths[i]; i++) fprintf(out, " %s", sb_protected_paths[i]);
    fputc('\n', out);
    if (abi < 3) fputs("    note: ABI < 3, truncating files is not controlled\n", out);
    if (abi >= 4) fprintf(out, "    tcp bind/connect: %s\n", p->allow_network ? "allowed" : "denied");
    else fputs("    tcp: not controlled by this ABI (seccomp still blocks sockets)\n", out);
    if (abi >= 6) fputs("    scoped: signals and abstract unix sockets stay inside the sandbox\n", out);
    else fputs("    scoped: not available (ABI < 6); seccomp blocks ptrace, sockets still covered\n", out);
}
