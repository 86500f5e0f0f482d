/* seccomp.c: the system-call half of the fence, built with libseccomp in the
 * parent and exported as a BPF program the child loads with one prctl.
 *
 * Default allow, then a deny list answering EPERM (clone3 answers ENOSYS so
 * that libc falls back to clone, whose flags we can inspect).  A system call
 * of any other architecture (x32, i386) kills the process.
 *
 * Sockets: with the network off, socket(2) is refused for every family,
 * AF_UNIX included; only socketpair(2) is left.  Landlock up to ABI 7 cannot
 * confine connect(2) to a pathname UNIX socket, so an AF_UNIX socket could
 * reach a daemon outside the fence (a Docker or D-Bus socket).  With the
 * network on, only AF_INET, AF_INET6 and AF_NETLINK sockets can be made. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sb_int.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Calls refused outright (EPERM), whatever the policy. */
static const char *const deny_always[] = {
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "mount_setattr", "pivot_root", "chroot", "unshare", "setns",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "name_to_handle_at", "open_by_handle_at",
    "iopl", "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "sethostname",
    "setdomainname", "acct", "quotactl", "syslog", "vhangup", "lookup_dcookie", "nfsservctl",
    "setsid", "setpgid", "fanotify_init", "quotactl_fd",
    NULL,
};

/* Calls refused when the network is off (sockets cannot be made, but be thorough). */
static const char *const deny_net[] = {
    "connect", "bind", "listen", "accept", "accept4", "sendmmsg", "recvmmsg",
    "setsockopt", "getsockopt", "getpeername", "getsockname", "shutdown", NULL,
};

/* Add one rule, translating libseccomp's error into a message. */
static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
                const struct scmp_arg_cmp *cmp, char *err, size_t errlen)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return 0;              /* not on this architecture */
    int rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
    if (rc < 0) {
        sb_errf(err, errlen, "sandbox: seccomp rule for %s failed: %s", name, strerror(-rc));
        return -1;
    }
    return 0;
}

/* One argument comparison with every field set (libseccomp's SCMP_A*
 * macros leave datum_b implicit, which clang's -Wextra rejects). */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
    struct scmp_arg_cmp c = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };
    return c;
}

/* The filter's rules for a policy. */
static int add_rules(scmp_filter_ctx ctx, const sb_policy *p, char *err, size_t errlen)
{
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    for (int i = 0; deny_always[i]; i++)
        if (rule(ctx, eperm, deny_always[i], 0, NULL, err, errlen)) return -1;
    if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err, errlen)) return -1;
    static const unsigned long ns_flags[] = { CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID,
                                              CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME };
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++) {
        struct scmp_arg_cmp c = arg_cmp(0, SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
        if (rule(ctx, eperm, "clone", 1, &c, err, errlen)) return -1;
    }
    static const unsigned long ioctls[] = { TIOCSTI, TIOCLINUX };
    for (size_t i = 0; i < 2; i++) {
        struct scmp_arg_cmp c = arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffUL, ioctls[i]);
        if (rule(ctx, eperm, "ioctl", 1, &c, err, errlen)) return -1;
    }
    /* personality flags that weaken ASLR or W^X; the query value 0xffffffff has bit 31 set */
    static const unsigned long pers[] = { ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT,
                                          MMAP_PAGE_ZERO };
    for (size_t i = 0; i < 4; i++) {
        struct scmp_arg_cmp c = arg_cmp(0, SCMP_CMP_MASKED_EQ, pers[i] | 0x80000000UL, pers[i]);
        if (rule(ctx, eperm, "personality", 1, &c, err, errlen)) return -1;
    }
    if (p->allow_network) {
        /* socket(domain) refused unless AF_INET, AF_INET6 or AF_NETLINK: one rule per other family */
        for (int d = 0; d < AF_MAX + 8; d++) {
            if (d == AF_INET || d == AF_INET6 || d == AF_NETLINK) continue;
            struct scmp_arg_cmp e = arg_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)d, 0);
            if (rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &e, err, errlen)) return -1;
        }
        struct scmp_arg_cmp big = arg_cmp(0, SCMP_CMP_GE, (scmp_datum_t)(AF_MAX + 8), 0);
        if (rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &big, err, errlen)) return -1;
    } else {
        if (rule(ctx, eperm, "socket", 0, NULL, err, errlen)) return -1;
        for (int i = 0; deny_net[i]; i++)
            if (rule(ctx, eperm, deny_net[i], 0, NULL, err, errlen)) return -1;
        struct scmp_arg_cmp to = arg_cmp(4, SCMP_CMP_NE, 0, 0);
        if (rule(ctx, eperm, "sendto", 1, &to, err, errlen)) return -1;
    }
    return 0;
}

/* Build the filter and export it as BPF (malloc'd) for the child to load. */
int sb_seccomp_build(const sb_policy *p, int abi, void **bpf, unsigned short *len, char *err, size_t errlen)
{
    *bpf = NULL; *len = 0;
    const char *sim = getenv("GEMMASH_SANDBOX_SIMULATE");
    if (sim && strstr(sim, "no-seccomp")) {
        sb_errf(err, errlen, "sandbox: seccomp is unavailable (simulated by GEMMASH_SANDBOX_SIMULATE); "
                "run with --dangerously-full-access to run unfenced");
        return -1;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) { sb_errf(err, errlen, "sandbox: seccomp_init failed (out of memory?)"); return -1; }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);   /* we set it ourselves */
    if (rc < 0) {
        sb_errf(err, errlen, "sandbox: seccomp attribute failed: %s", strerror(-rc));
        seccomp_release(ctx);
        return -1;
    }
    if (add_rules(ctx, p, err, errlen) != 0 ||
        (abi < 3 && rule(ctx, SCMP_ACT_ERRNO(EPERM), "truncate", 0, NULL, err, errlen) != 0)) {
        /* Landlock ABI < 3 cannot refuse truncate(2) on a path outside the writable roots */
        seccomp_release(ctx);
        return -1;
    }
    int mfd = memfd_create("gemmash-seccomp", MFD_CLOEXEC);
    if (mfd < 0) {
        sb_errf(err, errlen, "sandbox: memfd_create for the seccomp program failed: %s", strerror(errno));
        seccomp_release(ctx);
        return -1;
    }
    rc = seccomp_export_bpf(ctx, mfd);
    seccomp_release(ctx);
    off_t size = rc == 0 ? lseek(mfd, 0, SEEK_END) : -1;
    if (rc < 0 || size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        sb_errf(err, errlen, "sandbox: exporting the seccomp program failed (%s)",
                rc < 0 ? strerror(-rc) : "bad size");
        close(mfd);
        return -1;
    }
    void *buf = malloc((size_t)size);
    if (!buf || pread(mfd, buf, (size_t)size, 0) != size) {
        sb_errf(err, errlen, "sandbox: reading back the seccomp program failed");
        free(buf);
        close(mfd);
        return -1;
    }
    close(mfd);
    *bpf = buf;
    *len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    return 0;
}

/* Child side: install the exported program (no_new_privs must be set). */
int sb_seccomp_load(const void *bpf, unsigned short len)
{
    struct sock_fprog prog = { .len = len, .filter = (struct sock_filter *)bpf };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* Describe the seccomp part of the fence for sb_doctor. */
void sb_seccomp_describe(FILE *out, const sb_policy *p)
{
    fputs("  seccomp (other architectures killed; EPERM unless noted):\n    ", out);
    int col = 4;
    for (int i = 0; deny_always[i]; i++) {
        int n = fprintf(out, "%s ", deny_always[i]);
        if ((col += n) > 90) { fputs("\n    ", out); col = 4; }
    }
    fputs("\n    clone with namespace flags; clone3 (ENOSYS); ioctl TIOCSTI/TIOCLINUX;\n"
          "    personality ADDR_NO_RANDOMIZE/READ_IMPLIES_EXEC/ADDR_COMPAT_LAYOUT/MMAP_PAGE_ZERO\n", out);
    if (p->allow_network)
        fputs("    network on: socket only for AF_INET, AF_INET6, AF_NETLINK (others EAFNOSUPPORT)\n", out);
    else
        fputs("    network off: socket (every family, AF_UNIX too; socketpair stays), connect, bind,\n"
              "    listen, accept, accept4, sendto with an address, sendmmsg, recvmmsg, setsockopt,\n"
              "    getsockopt, getpeername, getsockname, shutdown\n", out);
}
