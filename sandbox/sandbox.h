/* sandbox.h: the fence around every command the agent runs.
 *
 * A command runs in a child that, before exec, starts a new session, sets
 * PR_SET_NO_NEW_PRIVS, lowers its rlimits, cleans its environment, closes
 * every inherited fd but stdio, gets a private TMPDIR, and then (unless the
 * mode is SB_MODE_FULL) drops its capabilities and applies a Landlock
 * ruleset and a seccomp filter.  No namespaces, setuid helpers or containers
 * are needed.  If Landlock or seccomp cannot be applied, nothing runs: the
 * call fails and says why and what to do (fail closed).
 *
 * What Landlock cannot express (protected paths inside a writable workspace:
 * .git/hooks, .git/config, .gitmodules, shell rc files, .gemmash/) is kept by
 * sb_check_path for the file tools, and by a guard that snapshots those paths
 * before a run and restores them after the run's whole process group is dead.
 * See sandbox/README.md for the full design and its residual risks.
 *
 * Environment knob for tests: GEMMASH_SANDBOX_SIMULATE=no-landlock (or
 * no-seccomp) makes sb_probe report the feature missing, so the fail-closed
 * path can be exercised on any kernel. */
#ifndef GEMMASH_SANDBOX_H
#define GEMMASH_SANDBOX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <signal.h>

typedef enum { SB_MODE_READ_ONLY, SB_MODE_WORKSPACE_WRITE, SB_MODE_FULL } sb_mode;

typedef struct sb_policy {
    sb_mode mode;              /* default SB_MODE_WORKSPACE_WRITE */
    bool    allow_network;     /* default false */
    char    workspace[4096];   /* absolute, resolved */
    char  **writable; int n_writable;   /* extra writable roots (absolute, resolved) */
    char  **env_allow; int n_env_allow; /* env names kept despite the secret filter */
    char  **deny_read; int n_deny_read; /* denied paths; defaults cover ~/.ssh ~/.aws ~/.gnupg ~/.config/gemmash ... */
    /* rlimits; 0 = leave the inherited limit */
    long cpu_s; long long as_bytes, fsize_bytes; long nproc, nofile;
    char    home[4096];        /* HOME used to derive secret dirs (tests pass a fake HOME) */
} sb_policy;

/* Fill p with defaults for a workspace (resolved with realpath; must be a directory). */
int  sb_policy_init(sb_policy *p, const char *workspace, char *err, size_t errlen);
void sb_policy_free(sb_policy *p);
/* Add an extra writable root (must exist; resolved with realpath). */
int  sb_policy_add_writable(sb_policy *p, const char *dir, char *err, size_t errlen);
/* Keep an environment variable despite the secret filter. */
int  sb_policy_add_env_allow(sb_policy *p, const char *name, char *err, size_t errlen);
/* Deny reading a path (in addition to the defaults). */
int  sb_policy_add_deny_read(sb_policy *p, const char *path, char *err, size_t errlen);
/* Parse "read-only", "workspace-write" or "full"; returns -1 if unknown. */
int  sb_mode_parse(const char *s, sb_mode *m);
const char *sb_mode_name(sb_mode m);

/* What the kernel offers (Landlock ABI, seccomp, user namespaces). */
typedef struct sb_caps { int landlock_abi; bool seccomp; bool userns; } sb_caps;
void sb_probe(sb_caps *caps);
/* Print what the kernel offers and exactly what will be enforced (for `gemmash sandbox doctor`). */
void sb_doctor(FILE *out, const sb_policy *p);

/* Run argv under the policy.  Output: stdout+stderr merged into a pipe the caller reads via the result.
   Timeout/interrupt: SIGINT -> SIGTERM -> SIGKILL to the whole process group. */
typedef struct sb_run_opts {
    const char *cwd;                /* NULL = workspace */
    double      timeout_s;          /* 0 = none */
    size_t      max_capture;        /* bytes of output kept in memory (head+tail); 0 = 256 KiB */
    const char *full_output_path;   /* NULL = don't save */
    volatile sig_atomic_t *interrupt; /* set by a signal handler to stop the run */
    int         stdin_fd;           /* -1 = /dev/null */
    bool        passthrough;        /* true: child inherits the caller's stdout/stderr (gemmash exec) */
    double      kill_grace_s;       /* wait between SIGINT, SIGTERM and SIGKILL; 0 = 2 s */
} sb_run_opts;

typedef struct sb_result {
    int    exit_code;     /* 128+signal if killed by a signal; -1 if it never ran */
    bool   timed_out, interrupted, truncated;
    double duration_s;
    char  *output;        /* malloc'd, NUL-terminated: head + "\n[... N bytes omitted ...]\n" + tail */
    size_t output_len, total_bytes;
    char   hint[512];     /* explanation when the failure looks like a denial (EACCES/EPERM/ECONNREFUSED) */
    int    restored;      /* protected paths the guard put back after the run (0 = none touched) */
    bool   fence_error;   /* sb_run returned -1 because the fence could not be applied (exit 7),
                             not because the command could not start (exit 127) */
} sb_result;

/* Returns 0 if the command ran (whatever its exit code), -1 if the fence could not be applied or the command
   could not start (err says why and what to do: FAIL CLOSED, nothing runs). */
int  sb_run(const sb_policy *p, char *const argv[], const sb_run_opts *o, sb_result *r, char *err, size_t errlen);
void sb_result_free(sb_result *r);

/* In-process check with the same policy as the kernel fence, for the file tools: resolves symlinks, "..",
   /proc/self/root tricks; for writes, refuses hard-linked files (st_nlink > 1) and paths outside writable
   roots or inside protected paths (.git/hooks, .git/config, .git/config.worktree, .git/commondir, .gitmodules,
   shell rc files, .gemmash/).
   resolved gets the canonical path.  Returns 0 if allowed, else -1 with why (a human/model-readable hint). */
enum { SB_ACCESS_READ = 1, SB_ACCESS_WRITE = 2 };
int  sb_check_path(const sb_policy *p, const char *path, int access, char *resolved, size_t rlen,
                   char *why, size_t whylen);

/* sb_check_path, then open the canonical path with openat2(RESOLVE_NO_SYMLINKS) so that the file opened is
   the file checked (no race with a component swapped for a symlink); for writes, re-checks st_nlink on the
   open file.  Returns an fd (O_CLOEXEC added), or -1 with why. */
#include <sys/types.h>
int  sb_open(const sb_policy *p, const char *path, int access, int flags, mode_t mode,
             char *resolved, size_t rlen, char *why, size_t whylen);

/* Workspace-relative paths that stay read-only inside a writable workspace (NULL-terminated). */
extern const char *const sb_protected_paths[];

#endif
