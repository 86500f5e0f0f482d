/* doctor.c: what the kernel offers, and exactly what a run would enforce,
 * for `gemmash sandbox doctor` and for the fail-closed messages. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sb_int.h"

/* Can this process make an unprivileged user namespace?  Tried in a child. */
static bool probe_userns(void)
{
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Fill caps with what the kernel offers (GEMMASH_SANDBOX_SIMULATE can hide features). */
void sb_probe(sb_caps *caps)
{
    const char *sim = getenv("GEMMASH_SANDBOX_SIMULATE");
    caps->landlock_abi = sb_landlock_abi();
    caps->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 && !(sim && strstr(sim, "no-seccomp"));
    caps->userns = probe_userns();
}

/* Print a size in MiB or GiB. */
static void print_size(FILE *out, const char *what, long long bytes)
{
    if (bytes <= 0) fprintf(out, "    %-14s inherited\n", what);
    else if (bytes >= (1LL << 30) && bytes % (1LL << 30) == 0) fprintf(out, "    %-14s %lld GiB\n", what, bytes >> 30);
    else fprintf(out, "    %-14s %lld MiB\n", what, bytes >> 20);
}

/* The report behind `gemmash sandbox doctor`. */
void sb_doctor(FILE *out, const sb_policy *p)
{
    sb_caps c;
    sb_probe(&c);
    fputs("kernel offers:\n", out);
    if (c.landlock_abi > 0) fprintf(out, "  landlock:   ABI %d\n", c.landlock_abi);
    else fputs("  landlock:   MISSING (kernel without CONFIG_SECURITY_LANDLOCK, or landlock not in lsm=)\n", out);
    fprintf(out, "  seccomp:    %s\n", c.seccomp ? "yes" : "MISSING (kernel without CONFIG_SECCOMP_FILTER)");
    fprintf(out, "  user namespaces: %s\n", c.userns ? "yes" : "no (the fence does not need them)");
    fprintf(out, "\npolicy: mode %s, network %s\n", sb_mode_name(p->mode),
            p->mode == SB_MODE_FULL || p->allow_network ? "on" : "off");
    fprintf(out, "  workspace:  %s\n", p->workspace);
    fprintf(out, "  home:       %s\n", p->home[0] ? p->home : "(unknown: HOME unset)");
    fputs("\nalways enforced (every mode):\n"
          "  new session and process group; SIGINT -> SIGTERM -> SIGKILL to the whole group on timeout\n"
          "  PR_SET_NO_NEW_PRIVS; every inherited fd closed but stdio; private TMPDIR per run\n"
          "  environment without secrets (*_TOKEN, *_KEY, *SECRET*, *PASSWORD*, AWS_*, HF_*, SSH_AUTH_SOCK, ...)\n"
          "  rlimits:\n", out);
    fprintf(out, "    %-14s %ld s\n", "cpu", p->cpu_s);
    print_size(out, "address space", p->as_bytes);
    print_size(out, "file size", p->fsize_bytes);
    fprintf(out, "    %-14s %ld%s\n", "processes", p->nproc,
            geteuid() == 0 ? " (the kernel does not apply this limit to root)" : "");
    fprintf(out, "    %-14s %ld\n    %-14s 0\n", "open files", p->nofile, "core dumps");
    if (p->mode == SB_MODE_FULL) {
        fputs("\nmode full: NO Landlock, NO seccomp: the command can do anything you can.\n", out);
        return;
    }
    fputs("\nfence:\n  capabilities: all dropped (bounding set too) when run as root\n", out);
    if (c.landlock_abi > 0) sb_landlock_describe(out, p, c.landlock_abi);
    sb_seccomp_describe(out, p);
    if (sb_userns_usable(!p->allow_network))
        fprintf(out, "  extra layer: new user + mount%s namespaces; existing protected paths bind-mounted "
                "read-only\n", p->allow_network ? "" : " + network");
    else
        fputs("  extra layer: none (no unprivileged user namespaces, or GEMMASH_SANDBOX_USERNS=0)\n", out);
    if (c.landlock_abi <= 0 || !c.seccomp)
        fputs("\nverdict: UNAVAILABLE. Commands will not run (fail closed). Enable Landlock (a kernel with\n"
              "CONFIG_SECURITY_LANDLOCK=y and landlock in lsm=) and seccomp, or run with\n"
              "--dangerously-full-access to run unfenced.\n", out);
    else
        fputs("\nverdict: OK, commands run inside the fence above.\n", out);
}
