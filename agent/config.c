/* config.c: read ~/.config/gemmash/config (config.h).
 *
 * A table names each key, its type and its range, so parsing, the error
 * messages and the "did you mean" suggestion all come from one place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include "config.h"
#include "approval.h"
#include "sandbox.h"
#include "engine.h"

typedef enum { T_STR, T_INT, T_REAL, T_BOOL, T_APPROVAL, T_SANDBOX, T_LIST, T_KV } ktype;

typedef struct key {
    const char *name;
    int         id;
    ktype       type;
    double      lo, hi;
    size_t      off;               /* field in ag_config */
} key;

#define F(f) offsetof(ag_config, f)
static const key keys[] = {
    {"model", AG_CFG_MODEL, T_STR, 0, 0, F(model)},
    {"threads", AG_CFG_THREADS, T_INT, 1, 1024, F(threads)},
    {"ctx", AG_CFG_CTX, T_INT, 1, 1 << 24, F(ctx)},
    {"seed", AG_CFG_SEED, T_INT, 0, 4611686018427387904.0, F(seed)},
    {"temperature", AG_CFG_TEMPERATURE, T_REAL, 0, 10, F(temperature)},
    {"max_tokens", AG_CFG_MAX_TOKENS, T_INT, 1, 1 << 24, F(max_tokens)},
    {"think", AG_CFG_THINK, T_BOOL, 0, 0, F(think)},
    {"think_budget", AG_CFG_THINK_BUDGET, T_INT, 1, 1 << 24, F(think_budget)},
    {"approval", AG_CFG_APPROVAL, T_APPROVAL, 0, 0, F(approval)},
    {"sandbox", AG_CFG_SANDBOX, T_SANDBOX, 0, 0, F(sandbox)},
    {"writable", AG_CFG_WRITABLE, T_LIST, 0, 0, F(writable)},
    {"network", AG_CFG_NETWORK, T_BOOL, 0, 0, F(network)},
    {"max_turns", AG_CFG_MAX_TURNS, T_INT, 1, 100000, F(max_turns)},
    {"timeout", AG_CFG_TIMEOUT, T_REAL, 0.001, 1e7, F(timeout)},
    {"compact_at", AG_CFG_COMPACT_AT, T_REAL, 0.1, 0.95, F(compact_at)},
    {"tools", AG_CFG_TOOLS, T_STR, 0, 0, F(tools)},
    {"system_file", AG_CFG_SYSTEM_FILE, T_STR, 0, 0, F(system_file)},
    {"append_system_file", AG_CFG_APPEND_SYSTEM_FILE, T_STR, 0, 0, F(append_system_file)},
    {"history", AG_CFG_HISTORY, T_BOOL, 0, 0, F(history)},
    {"kv_type", AG_CFG_KV_TYPE, T_KV, 0, 0, F(kv_type)},
};
#undef F

/* Edit distance (insert, delete, substitute, swap neighbours), capped, to
 * suggest the key the user probably meant. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 40 || m > 40) return 99;
    int d[41][41];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
                c = d[i - 2][j - 2] + 1;
            d[i][j] = c;
        }
    return d[n][m];
}

/* Store one value into its field; -1 with what was expected in err. */
static int set_value(ag_config *c, const key *k, const char *v, char *err, size_t cap)
{
    char *field = (char *)c + k->off;
    char *end;
    switch (k->type) {
    case T_STR: {
        if (!*v) { snprintf(err, cap, "'%s' needs a value", k->name); return -1; }
        char *d = strdup(v);
        if (!d) { snprintf(err, cap, "out of memory"); return -1; }
        free(*(char **)field);
        *(char **)field = d;
        return 0;
    }
    case T_LIST: {
        if (!*v) { snprintf(err, cap, "'%s' needs a folder", k->name); return -1; }
        char **q = realloc(c->writable, (size_t)(c->n_writable + 1) * sizeof *q);
        char *d = strdup(v);
        if (q) c->writable = q;
        if (!q || !d) { free(d); snprintf(err, cap, "out of memory"); return -1; }
        c->writable[c->n_writable++] = d;
        return 0;
    }
    case T_INT: {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < (long long)k->lo || (double)x > k->hi) {
            snprintf(err, cap, "bad value '%s' for '%s': expected a whole number from %.0f to %.0f", v, k->name,
                     k->lo, k->hi);
            return -1;
        }
        if (k->id == AG_CFG_SEED) *(long long *)field = x;
        else *(int *)field = (int)x;
        return 0;
    }
    case T_REAL: {
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end || !(x >= k->lo && x <= k->hi)) {
            snprintf(err, cap, "bad value '%s' for '%s': expected a number from %g to %g", v, k->name, k->lo, k->hi);
            return -1;
        }
        *(double *)field = x;
        return 0;
    }
    case T_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
            if (!strcmp(v, yes[i])) { *(bool *)field = true; return 0; }
            if (!strcmp(v, no[i])) { *(bool *)field = false; return 0; }
        }
        snprintf(err, cap, "bad value '%s' for '%s': expected true or false", v, k->name);
        return -1;
    }
    case T_KV: {
        int t = gm_kv_type_from_name(v);
        if (t < 0) {
            snprintf(err, cap, "bad value '%s' for 'kv_type': expected f16 or f32", v);
            return -1;
        }
        *(int *)field = t;
        return 0;
    }
    case T_APPROVAL: {
        ag_approval_mode m;
        if (ag_approval_parse(v, &m)) {
            snprintf(err, cap, "bad value '%s' for 'approval': expected ask, auto-edit or never", v);
            return -1;
        }
        *(int *)field = (int)m;
        return 0;
    }
    case T_SANDBOX: {
        sb_mode m;
        if (sb_mode_parse(v, &m)) {
            snprintf(err, cap, "bad value '%s' for 'sandbox': expected read-only, workspace-write or full", v);
            return -1;
        }
        *(int *)field = (int)m;
        return 0;
    }
    }
    return -1;
}

/* One line: "key = value", a comment or blank.  0, or -1 with err. */
static int parse_line(ag_config *c, char *s, char *err, size_t cap)
{
    s += strspn(s, " \t\r");
    for (char *h = s; (h = strchr(h, '#')); h++)          /* comment: at the start or after a blank */
        if (h == s || h[-1] == ' ' || h[-1] == '\t') { *h = 0; break; }
    size_t n = strlen(s);
    while (n && strchr(" \t\r", s[n - 1])) s[--n] = 0;
    if (!*s) return 0;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, cap, "expected 'key = value', got '%.80s'", s);
        return -1;
    }
    char *kend = eq;
    while (kend > s && strchr(" \t", kend[-1])) kend--;
    *kend = 0;
    char *v = eq + 1;
    v += strspn(v, " \t");
    size_t vn = strlen(v);
    if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') { v[vn - 1] = 0; v++; }   /* "quoted value" */
    const key *k = NULL, *near = NULL;
    int best = 3;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!strcmp(keys[i].name, s)) { k = &keys[i]; break; }
        int d = distance(s, keys[i].name);
        if (d < best) { best = d; near = &keys[i]; }
    }
    if (!k) {
        if (!*s) snprintf(err, cap, "a line starts with '=' (expected 'key = value')");
        else if (near) snprintf(err, cap, "unknown key '%.80s' (did you mean '%s'?)", s, near->name);
        else snprintf(err, cap, "unknown key '%.80s' (see 'gemmash --help', FILES)", s);
        return -1;
    }
    if (set_value(c, k, v, err, cap)) return -1;
    c->set |= 1ULL << k->id;
    return 0;
}

int ag_config_parse(ag_config *c, const char *text, const char *name, char *err, size_t cap)
{
    int line = 0;
    const char *p = text;
    while (*p) {
        line++;
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char buf[4096], m[1024];
        if (len >= sizeof buf) {
            snprintf(err, cap, "%s:%d: line too long (%zu bytes; at most %zu)", name, line, len, sizeof buf - 1);
            return -1;
        }
        memcpy(buf, p, len);
        buf[len] = 0;
        p = e ? e + 1 : p + len;
        if (parse_line(c, buf, m, sizeof m)) {
            snprintf(err, cap, "%s:%d: %s", name, line, m);
            return -1;
        }
    }
    return 0;
}

int ag_config_load(ag_config *c, const char *path, const char *shown, char *err, size_t cap)
{
    if (!shown) shown = path;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, cap, "cannot read the config file %s: %s", shown, strerror(errno));
        return -1;
    }
    char *t = malloc(1 << 20);
    size_t n = t ? fread(t, 1, (1 << 20) - 1, f) : 0;
    bool big = t && n == (1 << 20) - 1 && fgetc(f) != EOF, bad = ferror(f);
    fclose(f);
    if (!t || big || bad) {
        free(t);
        snprintf(err, cap, "cannot read the config file %s: %s", shown,
                 !t ? "out of memory" : big ? "larger than 1 MiB" : "read error");
        return -1;
    }
    t[n] = 0;
    if (memchr(t, 0, n)) {
        free(t);
        snprintf(err, cap, "%s is not a text file (it holds NUL bytes)", shown);
        return -1;
    }
    int rc = ag_config_parse(c, t, shown, err, cap);
    free(t);
    return rc;
}

void ag_config_free(ag_config *c)
{
    free(c->model); free(c->tools); free(c->system_file); free(c->append_system_file);
    for (int i = 0; i < c->n_writable; i++) free(c->writable[i]);
    free(c->writable);
    memset(c, 0, sizeof *c);
}

int ag_config_dir(char *out, size_t cap)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    if (x && *x == '/') snprintf(out, cap, "%s/gemmash", x);
    else if (h && *h) snprintf(out, cap, "%s/.config/gemmash", h);
    else return -1;
    return 0;
}

void ag_config_shown(const char *path, char *out, size_t cap)
{
    const char *h = getenv("HOME");
    size_t hn = h ? strlen(h) : 0;
    if (hn > 1 && !strncmp(path, h, hn) && path[hn] == '/') snprintf(out, cap, "~%s", path + hn);
    else snprintf(out, cap, "%s", path);
}
