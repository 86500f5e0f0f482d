/* env.c: the child's environment: the caller's, minus anything that looks
 * like a credential (unless allowed by name), plus a private TMPDIR. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sb_int.h"

extern char **environ;

/* Case-insensitive "s ends with suffix". */
static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && strncasecmp(s + n - m, suffix, m) == 0;
}

/* Case-insensitive substring test on the first n bytes of s. */
static bool contains(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(s + i, needle, m) == 0) return true;
    return false;
}

/* Does this variable name look like it carries a secret or a door to one? */
bool sb_env_is_secret(const char *name)
{
    static const char *const exact[] = {
        "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "KRB5CCNAME", "DBUS_SESSION_BUS_ADDRESS",
        "GOOGLE_APPLICATION_CREDENTIALS", "DOCKER_HOST", "DOCKER_CONFIG", "KUBECONFIG", "NETRC",
        "PGPASS", "PGPASSFILE", "MYSQL_PWD", "GIT_ASKPASS", "SSH_ASKPASS", "SUDO_ASKPASS", NULL,
    };
    static const char *const suffix[] = { "_TOKEN", "_KEY", "_KEYS", "_PAT", "_PASS", "_PWD", "_COOKIE",
                                          "_SESSION", "_AUTH", "_DSN", NULL };
    static const char *const substr[] = { "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE_KEY",
                                          "TOKEN", "APIKEY", "API_KEY", NULL };
    static const char *const prefix[] = { "AWS_", "AZURE_", "GCP_", "GOOGLE_CLOUD_", "HF_", "HUGGING",
                                          "OPENAI_", "ANTHROPIC_", "GEMINI_", "VAULT_", "NPM_CONFIG__AUTH",
                                          NULL };
    size_t n = strcspn(name, "=");
    if (n == 0) return true;
    for (int i = 0; exact[i]; i++)
        if (strlen(exact[i]) == n && strncasecmp(name, exact[i], n) == 0) return true;
    for (int i = 0; suffix[i]; i++) if (ends_with(name, n, suffix[i])) return true;
    for (int i = 0; substr[i]; i++) if (contains(name, n, substr[i])) return true;
    for (int i = 0; prefix[i]; i++)
        if (strncasecmp(name, prefix[i], strlen(prefix[i])) == 0) return true;
    return false;
}

/* Is the variable (NAME=value) allowed by name in the policy? */
static bool allowed(const sb_policy *p, const char *entry)
{
    size_t n = strcspn(entry, "=");
    for (int i = 0; i < p->n_env_allow; i++)
        if (strlen(p->env_allow[i]) == n && strncmp(entry, p->env_allow[i], n) == 0) return true;
    return false;
}

/* Names we set ourselves; the caller's values are dropped. */
static bool overridden(const char *entry)
{
    static const char *const names[] = { "TMPDIR", "TMP", "TEMP", "TEMPDIR", "GEMMASH_SANDBOX", NULL };
    size_t n = strcspn(entry, "=");
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && strncmp(entry, names[i], n) == 0) return true;
    return false;
}

/* Build the child's environment (malloc'd array of malloc'd strings). */
char **sb_env_build(const sb_policy *p, const char *tmpdir)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++) n++;
    char **env = calloc(n + 6, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (char **e = environ; e && *e; e++) {
        if (!strchr(*e, '=') || overridden(*e)) continue;
        if (sb_env_is_secret(*e) && !allowed(p, *e)) continue;
        if (!(env[k++] = strdup(*e))) { sb_env_free(env); return NULL; }
    }
    static const char *const tmpnames[] = { "TMPDIR", "TMP", "TEMP", "TEMPDIR" };
    for (int i = 0; i < 4 && tmpdir; i++) {
        size_t len = strlen(tmpnames[i]) + strlen(tmpdir) + 2;
        if (!(env[k] = malloc(len))) { sb_env_free(env); return NULL; }
        snprintf(env[k++], len, "%s=%s", tmpnames[i], tmpdir);
    }
    size_t len = sizeof "GEMMASH_SANDBOX=" + strlen(sb_mode_name(p->mode));
    if (!(env[k] = malloc(len))) { sb_env_free(env); return NULL; }
    snprintf(env[k++], len, "GEMMASH_SANDBOX=%s", sb_mode_name(p->mode));
    env[k] = NULL;
    return env;
}

/* Free what sb_env_build returned. */
void sb_env_free(char **env)
{
    if (!env) return;
    for (char **e = env; *e; e++) free(*e);
    free(env);
}
