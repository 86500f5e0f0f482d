/* policy.c: the sandbox policy: defaults, the lists of paths it knows about
 * (system roots, secret folders, protected workspace paths), and the small
 * path predicates every other file uses. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sb_int.h"

/* Paths inside a writable root whose change would run code later. */
const char *const sb_protected_paths[] = {
    ".git/hooks", ".git/config", ".git/config.worktree", ".git/commondir", ".gitmodules", ".gemmash",
    ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile",
    ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".envrc", NULL,
};

/* The system a command may read and execute. */
const char *const sb_system_read_roots[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
    "/snap", "/nix", "/run/systemd/resolve", NULL,
};

/* Toolchains and settings under HOME a developer's commands read. */
const char *const sb_home_read_roots[] = {
    ".pyenv", ".cargo", ".rustup", ".nvm", ".local/bin", ".local/lib", "go", ".sdkman",
    ".gitconfig", ".config/git", NULL,
};

/* Device files a command may read and write. */
const char *const sb_devices_rw[] = {
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/ptmx", "/dev/pts", NULL,
};

/* Secrets under HOME (relative) and on the system (absolute), never readable. */
static const char *const default_home_deny[] = {
    ".ssh", ".aws", ".gnupg", ".config/gemmash", ".netrc", ".docker", ".kube", ".config/gh",
    ".git-credentials", ".npmrc", ".pypirc", ".cargo/credentials", ".cargo/credentials.toml",
    ".password-store", ".config/gcloud", ".azure", ".terraform.d", ".vault-token", NULL,
};
static const char *const default_sys_deny[] = {
    "/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/ssl/private",
    "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key",
    "/etc/ssh/ssh_host_dsa_key", "/etc/security/opasswd", "/etc/sudoers", "/etc/sudoers.d", NULL,
};

/* snprintf into an error buffer; a NULL buffer is allowed. */
void sb_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* True when path is root itself or lies below it (both canonical). */
int sb_path_within(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') return path[0] == '/';
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Is path inside a writable root?  root gets the matching root. */
int sb_is_write_root(const sb_policy *p, const char *path, const char **root)
{
    if (p->mode == SB_MODE_READ_ONLY) return 0;
    if (sb_path_within(path, p->workspace)) { if (root) *root = p->workspace; return 1; }
    for (int i = 0; i < p->n_writable; i++)
        if (sb_path_within(path, p->writable[i])) { if (root) *root = p->writable[i]; return 1; }
    return 0;
}

/* Is path inside a denied (secret) path?  what gets the denied path. */
int sb_is_denied(const sb_policy *p, const char *path, const char **what)
{
    for (int i = 0; i < p->n_deny_read; i++)
        if (sb_path_within(path, p->deny_read[i])) { if (what) *what = p->deny_read[i]; return 1; }
    return 0;
}

/* Is a writable root unsafe (inside a secret, holding HOME, a secret or a
 * system folder)?  Landlock's directory rights on it would reach them, so
 * both the fence and sb_check_path refuse it.  true + err says why. */
bool sb_unsafe_write_root(const sb_policy *p, const char *root, char *err, size_t errlen)
{
    const char *what = NULL;
    if (sb_is_denied(p, root, &what)) {
        sb_errf(err, errlen, "sandbox: writable root '%s' is inside the denied path '%s'; choose a project "
                "folder elsewhere", root, what);
        return true;
    }
    for (int i = 0; sb_system_read_roots[i]; i++) {
        char real[PATH_MAX];
        if (realpath(sb_system_read_roots[i], real) && sb_path_within(real, root)) {
            sb_errf(err, errlen, "sandbox: writable root '%s' contains the system folder %s; commands could "
                    "replace system programs, so run gemmash from a project folder instead", root, real);
            return true;
        }
    }
    bool holds = p->home[0] && sb_path_within(p->home, root);
    for (int i = 0; !holds && i < p->n_deny_read; i++)
        holds = sb_path_within(p->deny_read[i], root);
    if (holds) {
        sb_errf(err, errlen, "sandbox: writable root '%s' contains your home folder or a secret folder "
                "(~/.ssh, ~/.aws, ...); Landlock cannot hide those below a writable folder, so run gemmash "
                "from a project folder instead", root);
        return true;
    }
    return false;
}

/* rel is a path relative to a writable root; returns the protected entry it
 * falls under, or NULL. */
const char *sb_protected_match(const char *rel)
{
    for (int i = 0; sb_protected_paths[i]; i++)
        if (sb_path_within(rel, sb_protected_paths[i])) return sb_protected_paths[i];
    return NULL;
}

/* Append a malloc'd copy of s to a string list. */
static int list_add(char ***list, int *n, const char *s, char *err, size_t errlen)
{
    char **nl = realloc(*list, (size_t)(*n + 1) * sizeof **list);
    if (!nl) { sb_errf(err, errlen, "sandbox: out of memory adding '%s' to the policy", s); return -1; }
    *list = nl;
    if (!(nl[*n] = strdup(s))) { sb_errf(err, errlen, "sandbox: out of memory adding '%s' to the policy", s); return -1; }
    (*n)++;
    return 0;
}

/* Canonicalise an existing directory, or explain why it cannot be used. */
static int resolve_dir(const char *dir, char out[PATH_MAX], const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (!realpath(dir, out)) {
        sb_errf(err, errlen, "sandbox: %s '%s' cannot be resolved: %s; pass an existing folder",
                what, dir, strerror(errno));
        return -1;
    }
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sb_errf(err, errlen, "sandbox: %s '%s' is not a folder; pass a folder", what, dir);
        return -1;
    }
    return 0;
}

/* Defaults: workspace-write, network off, secrets of $HOME denied, modest rlimits. */
int sb_policy_init(sb_policy *p, const char *workspace, char *err, size_t errlen)
{
    char buf[PATH_MAX], join[PATH_MAX + 64];
    memset(p, 0, sizeof *p);
    p->mode = SB_MODE_WORKSPACE_WRITE;
    p->cpu_s = 600;
    p->as_bytes = 16LL << 30;
    p->fsize_bytes = 4LL << 30;
    p->nproc = 4096;
    p->nofile = 4096;
    if (!workspace) workspace = ".";
    if (resolve_dir(workspace, buf, "workspace", err, errlen) != 0) return -1;
    snprintf(p->workspace, sizeof p->workspace, "%s", buf);
    const char *home = getenv("HOME");
    if (home && home[0] == '/' && realpath(home, buf)) snprintf(p->home, sizeof p->home, "%s", buf);
    for (int i = 0; p->home[0] && default_home_deny[i]; i++) {
        snprintf(join, sizeof join, "%s/%s", p->home, default_home_deny[i]);
        if (list_add(&p->deny_read, &p->n_deny_read, join, err, errlen) != 0) { sb_policy_free(p); return -1; }
    }
    for (int i = 0; default_sys_deny[i]; i++)
        if (list_add(&p->deny_read, &p->n_deny_read, default_sys_deny[i], err, errlen) != 0) {
            sb_policy_free(p);
            return -1;
        }
    return 0;
}

/* Free the lists a policy owns; the struct may be reused after sb_policy_init. */
void sb_policy_free(sb_policy *p)
{
    for (int i = 0; i < p->n_writable; i++) free(p->writable[i]);
    for (int i = 0; i < p->n_env_allow; i++) free(p->env_allow[i]);
    for (int i = 0; i < p->n_deny_read; i++) free(p->deny_read[i]);
    free(p->writable); free(p->env_allow); free(p->deny_read);
    p->writable = p->env_allow = p->deny_read = NULL;
    p->n_writable = p->n_env_allow = p->n_deny_read = 0;
}

/* Add an extra writable root; it must be an existing folder. */
int sb_policy_add_writable(sb_policy *p, const char *dir, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    if (resolve_dir(dir, buf, "writable root", err, errlen) != 0) return -1;
    return list_add(&p->writable, &p->n_writable, buf, err, errlen);
}

/* Keep one environment variable by name despite the secret filter. */
int sb_policy_add_env_allow(sb_policy *p, const char *name, char *err, size_t errlen)
{
    if (!name[0] || strchr(name, '=')) {
        sb_errf(err, errlen, "sandbox: '%s' is not an environment variable name", name);
        return -1;
    }
    return list_add(&p->env_allow, &p->n_env_allow, name, err, errlen);
}

/* Deny reads of one more path (resolved when it exists, else taken as given). */
int sb_policy_add_deny_read(sb_policy *p, const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    if (path[0] != '/') { sb_errf(err, errlen, "sandbox: denied path '%s' must be absolute", path); return -1; }
    return list_add(&p->deny_read, &p->n_deny_read, realpath(path, buf) ? buf : path, err, errlen);
}

/* Parse a mode name as the CLI and the config spell it. */
int sb_mode_parse(const char *s, sb_mode *m)
{
    if (strcmp(s, "read-only") == 0) *m = SB_MODE_READ_ONLY;
    else if (strcmp(s, "workspace-write") == 0) *m = SB_MODE_WORKSPACE_WRITE;
    else if (strcmp(s, "full") == 0) *m = SB_MODE_FULL;
    else return -1;
    return 0;
}

/* The name sb_mode_parse accepts. */
const char *sb_mode_name(sb_mode m)
{
    switch (m) {
    case SB_MODE_READ_ONLY: return "read-only";
    case SB_MODE_WORKSPACE_WRITE: return "workspace-write";
    case SB_MODE_FULL: return "full";
    }
    return "unknown";
}
