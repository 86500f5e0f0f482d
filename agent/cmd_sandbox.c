/* cmd_sandbox.c: `gemmash sandbox doctor` (what the fence will enforce on
 * this kernel) and `gemmash exec` (run any command under the policy), the
 * command-line face of sandbox/. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "sandbox.h"

/* Set by SIGINT/SIGTERM while `gemmash exec` waits; the only state a signal
 * handler can reach. */
static volatile sig_atomic_t exec_interrupted;

/* Signal handler: ask sb_run to stop the command's process group. */
static void on_signal(int sig)
{
    (void)sig;
    exec_interrupted = 1;
}

static const char exec_manual[] =
    "NAME\n"
    "    gemmash exec - run a command inside the sandbox\n\n"
    "SYNOPSIS\n"
    "    gemmash exec [OPTIONS] -- COMMAND [ARGS...]\n\n"
    "DESCRIPTION\n"
    "    Runs COMMAND under the same fence the agent uses for its tools and exits\n"
    "    with its status.  The fence needs no namespaces, containers or setuid\n"
    "    helpers: Landlock (filesystem, TCP, signal and socket scopes), seccomp\n"
    "    (dangerous system calls), rlimits, a cleaned environment, closed file\n"
    "    descriptors and a private TMPDIR.  If the fence cannot be applied the\n"
    "    command does not run and gemmash exits 7, saying why.\n\n"
    "    After the run, the command's whole process group is killed, and any\n"
    "    change to a protected path (.git/hooks, .git/config, .gitmodules,\n"
    "    .gemmash/, shell rc files) in a writable root is undone.\n\n"
    "OPTIONS\n"
    "    --mode MODE            read-only, workspace-write (default) or full\n"
    "    --dangerously-full-access\n"
    "                           no Landlock and no seccomp (same as --mode full,\n"
    "                           which requires this flag)\n"
    "    --allow-network        allow TCP/UDP sockets (off by default)\n"
    "    --workspace DIR        the writable project folder (default: current folder)\n"
    "    --writable DIR         one more writable root (repeatable)\n"
    "    --env-allow NAME       keep a variable the secret filter would drop (repeatable)\n"
    "    --timeout SECONDS      wall-clock limit; then SIGINT, SIGTERM, SIGKILL to the group\n"
    "    --kill-grace SECONDS   pause between those signals (default 2)\n"
    "    --cpu SECONDS          CPU time limit (default 600)\n"
    "    --mem SIZE             address-space limit, e.g. 512M, 16G (default 16G)\n"
    "    --fsize SIZE           largest file the command may write (default 4G)\n"
    "    --nproc N              process limit for the user (default 4096; not applied to root)\n"
    "    --nofile N             open-file limit (default 4096)\n"
    "    -h, --help             this manual\n\n"
    "ENVIRONMENT\n"
    "    GEMMASH_SANDBOX_SIMULATE=no-landlock|no-seccomp   pretend the kernel lacks a\n"
    "    feature (tests the fail-closed path)\n\n"
    "EXIT STATUS\n"
    "    the command's status (128+N if killed by signal N), 2 usage error,\n"
    "    7 sandbox unavailable, 127 command not found, 130 interrupted.\n";

static const char doctor_manual[] =
    "NAME\n"
    "    gemmash sandbox doctor - show what the kernel offers and what the fence enforces\n\n"
    "SYNOPSIS\n"
    "    gemmash sandbox doctor [--mode MODE] [--allow-network] [--workspace DIR]\n"
    "                           [--writable DIR]... [--dangerously-full-access]\n\n"
    "DESCRIPTION\n"
    "    Prints the Landlock ABI, seccomp and user-namespace support of this kernel,\n"
    "    then exactly what a command would be allowed: readable and writable paths,\n"
    "    denied secrets, protected paths, refused system calls, network, rlimits.\n\n"
    "EXIT STATUS\n"
    "    0 the fence can be applied (or mode full), 2 usage error, 7 sandbox unavailable.\n";

/* Parse "123", "64K", "512M", "16G" into bytes; -1 if malformed. */
static long long parse_size(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0) return -1;
    switch (*end) {
    case '\0': return v;
    case 'k': case 'K': v <<= 10; break;
    case 'm': case 'M': v <<= 20; break;
    case 'g': case 'G': v <<= 30; break;
    default: return -1;
    }
    return end[1] == '\0' || (end[1] == 'B' && end[2] == '\0') || (end[1] == 'i' && end[2] == 'B' && !end[3]) ? v : -1;
}

/* Parse a non-negative number of seconds; -1 if malformed. */
static double parse_seconds(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return end == s || *end || v < 0 ? -1 : v;
}

enum { O_MODE = 256, O_NET, O_WS, O_WRITABLE, O_FULL, O_ENV, O_TIMEOUT, O_GRACE, O_CPU, O_MEM, O_FSIZE,
       O_NPROC, O_NOFILE };

static const struct option exec_opts[] = {
    {"mode", required_argument, 0, O_MODE}, {"allow-network", no_argument, 0, O_NET},
    {"workspace", required_argument, 0, O_WS}, {"writable", required_argument, 0, O_WRITABLE},
    {"dangerously-full-access", no_argument, 0, O_FULL}, {"env-allow", required_argument, 0, O_ENV},
    {"timeout", required_argument, 0, O_TIMEOUT}, {"kill-grace", required_argument, 0, O_GRACE},
    {"cpu", required_argument, 0, O_CPU}, {"mem", required_argument, 0, O_MEM},
    {"fsize", required_argument, 0, O_FSIZE}, {"nproc", required_argument, 0, O_NPROC},
    {"nofile", required_argument, 0, O_NOFILE}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
};

/* Options shared by exec and doctor, parsed into a policy.  Returns 0, or an
 * exit status (2 usage, 0 after --help). */
typedef struct { double timeout, grace; bool help; } exec_extra;

static int parse_policy(int argc, char **argv, const char *name, sb_policy *p, exec_extra *x)
{
    char err[512];
    const char *ws = ".", *mode = NULL;
    bool full = false;
    int c;
    /* first pass: the workspace, which sb_policy_init needs */
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", exec_opts, NULL)) != -1)
        if (c == O_WS) ws = optarg;
    if (sb_policy_init(p, ws, err, sizeof err) != 0) { fprintf(stderr, "gemmash %s: %s\n", name, err); return 2; }
    opterr = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", exec_opts, NULL)) != -1) {
        long long v = 0;
        switch (c) {
        case 'h': x->help = true; return 0;
        case O_MODE: mode = optarg; break;
        case O_NET: p->allow_network = true; break;
        case O_WS: break;
        case O_FULL: full = true; break;
        case O_WRITABLE:
            if (sb_policy_add_writable(p, optarg, err, sizeof err) != 0) goto bad_err;
            break;
        case O_ENV:
            if (sb_policy_add_env_allow(p, optarg, err, sizeof err) != 0) goto bad_err;
            break;
        case O_TIMEOUT: if ((x->timeout = parse_seconds(optarg)) < 0) goto bad_value; break;
        case O_GRACE: if ((x->grace = parse_seconds(optarg)) < 0) goto bad_value; break;
        case O_CPU: if ((v = parse_size(optarg)) < 0) goto bad_value; p->cpu_s = (long)v; break;
        case O_MEM: if ((v = parse_size(optarg)) < 0) goto bad_value; p->as_bytes = v; break;
        case O_FSIZE: if ((v = parse_size(optarg)) < 0) goto bad_value; p->fsize_bytes = v; break;
        case O_NPROC: if ((v = parse_size(optarg)) < 0) goto bad_value; p->nproc = (long)v; break;
        case O_NOFILE: if ((v = parse_size(optarg)) < 0) goto bad_value; p->nofile = (long)v; break;
        default:
            fprintf(stderr, "gemmash %s: unknown option; see 'gemmash %s --help'\n", name, name);
            goto fail;
        }
        continue;
    bad_value:
        fprintf(stderr, "gemmash %s: bad value '%s' for an option; see 'gemmash %s --help'\n", name, optarg, name);
        goto fail;
    bad_err:
        fprintf(stderr, "gemmash %s: %s\n", name, err);
        goto fail;
    }
    if (mode && sb_mode_parse(mode, &p->mode) != 0) {
        fprintf(stderr, "gemmash %s: unknown mode '%s' (read-only, workspace-write or full)\n", name, mode);
        goto fail;
    }
    if (mode && p->mode == SB_MODE_FULL && !full) {
        fprintf(stderr, "gemmash %s: --mode full runs without any fence; say --dangerously-full-access "
                "to mean it\n", name);
        goto fail;
    }
    if (full) p->mode = SB_MODE_FULL;
    return 0;
fail:
    sb_policy_free(p);
    return 2;
}

/* gemmash exec [OPTIONS] -- COMMAND [ARGS...] */
int cmd_exec(int argc, char **argv)
{
    sb_policy p;
    exec_extra x = {0};
    int rc = parse_policy(argc, argv, "exec", &p, &x);
    if (rc != 0) return rc;
    if (x.help) { fputs(exec_manual, stdout); sb_policy_free(&p); return GM_EXIT_OK; }
    if (optind >= argc) {
        fputs("gemmash exec: no command; usage: gemmash exec [OPTIONS] -- COMMAND [ARGS...]\n", stderr);
        sb_policy_free(&p);
        return GM_EXIT_USAGE;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sb_run_opts o = { .timeout_s = x.timeout, .kill_grace_s = x.grace, .interrupt = &exec_interrupted,
                      .stdin_fd = 0, .passthrough = true };
    sb_result r;
    char err[1024];
    fflush(stdout);
    if (sb_run(&p, argv + optind, &o, &r, err, sizeof err) != 0) {
        fprintf(stderr, "gemmash exec: %s\n", err);
        sb_policy_free(&p);
        return r.fence_error ? GM_EXIT_SANDBOX : 127;
    }
    if (r.hint[0]) fprintf(stderr, "gemmash exec: %s\n", r.hint);
    else if (r.exit_code != 0 && !r.timed_out && !r.interrupted && p.mode != SB_MODE_FULL)
        fprintf(stderr, "gemmash exec: exit %d inside the sandbox (%s, network %s, writable: %s%s); if "
                "something was refused, 'gemmash sandbox doctor' shows what is allowed\n", r.exit_code,
                sb_mode_name(p.mode), p.allow_network ? "on" : "off",
                p.mode == SB_MODE_READ_ONLY ? "only $TMPDIR" : p.workspace,
                p.n_writable ? " and --writable roots" : "");
    if (r.timed_out) fprintf(stderr, "gemmash exec: timed out after %.1f s; process group killed\n", x.timeout);
    rc = r.interrupted ? GM_EXIT_INTERRUPTED : r.exit_code;
    sb_result_free(&r);
    sb_policy_free(&p);
    return rc;
}

/* gemmash sandbox doctor [OPTIONS] */
int cmd_sandbox(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(doctor_manual, argc < 2 ? stderr : stdout);
        return argc < 2 ? GM_EXIT_USAGE : GM_EXIT_OK;
    }
    if (strcmp(argv[1], "doctor") != 0) {
        fprintf(stderr, "gemmash sandbox: unknown subcommand '%s' (try 'gemmash sandbox doctor')\n", argv[1]);
        return GM_EXIT_USAGE;
    }
    sb_policy p;
    exec_extra x = {0};
    int rc = parse_policy(argc - 1, argv + 1, "sandbox doctor", &p, &x);
    if (rc != 0) return rc;
    if (x.help) { fputs(doctor_manual, stdout); sb_policy_free(&p); return GM_EXIT_OK; }
    if (optind < argc - 1) {
        fprintf(stderr, "gemmash sandbox doctor: unexpected argument '%s'\n", argv[optind + 1]);
        sb_policy_free(&p);
        return GM_EXIT_USAGE;
    }
    sb_doctor(stdout, &p);
    sb_caps c;
    sb_probe(&c);
    rc = p.mode == SB_MODE_FULL || (c.landlock_abi > 0 && c.seccomp) ? GM_EXIT_OK : GM_EXIT_SANDBOX;
    sb_policy_free(&p);
    return rc;
}
