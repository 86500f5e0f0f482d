/* rules.c: prefix rules for shell commands (rules.h).
 *
 * Rules are kept as word lists; a command line is split and unwrapped by
 * rules_split.c, and every simple command is matched at every unwrapping
 * stage.  Strictest wins: deny over ask over allow, and allow needs every
 * part of a compound command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "rules.h"
#include "rules_int.h"

typedef struct rule {
    ag_rule_verdict v;
    char          **w;
    int             n;
    int             line;          /* in the rules file; 0 = added at run time */
} rule;

struct ag_rules {
    rule *r;
    int   n, cap;
};

static const char *const verdict_names[] = {"allow", "ask", "deny"};

ag_rules *ag_rules_new(void) { return calloc(1, sizeof(ag_rules)); }

void ag_rules_free(ag_rules *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        for (int k = 0; k < r->r[i].n; k++) free(r->r[i].w[k]);
        free(r->r[i].w);
    }
    free(r->r);
    free(r);
}

int ag_rules_count(const ag_rules *r) { return r ? r->n : 0; }

/* Add a rule whose prefix is read with the same splitter as commands, so
 * quoting means the same in both; the prefix must be one plain command. */
static int add_rule(ag_rules *r, ag_rule_verdict v, const char *prefix, int line, char *err, size_t cap)
{
    ag_sh_line l;
    if (ag_sh_split(prefix, &l)) { snprintf(err, cap, "out of memory"); return -1; }
    if (l.n != 1 || l.subst || l.c[0].stage[0] != 0) {
        snprintf(err, cap, "the prefix '%s' must be the first words of one command (no ;, &&, |, $(...), "
                 "assignments or reserved words)", prefix);
        ag_sh_line_free(&l);
        return -1;
    }
    if (r->n == r->cap) {
        int nc = r->cap ? r->cap * 2 : 16;
        rule *q = realloc(r->r, (size_t)nc * sizeof *q);
        if (!q) { ag_sh_line_free(&l); snprintf(err, cap, "out of memory"); return -1; }
        r->r = q; r->cap = nc;
    }
    rule *ru = &r->r[r->n++];
    ru->v = v;
    ru->w = l.c[0].w;              /* take the words; matching uses all of them, wrappers included */
    ru->n = l.c[0].n;
    ru->line = line;
    l.c[0].w = NULL; l.c[0].n = 0;
    ag_sh_line_free(&l);
    return 0;
}

int ag_rules_add(ag_rules *r, ag_rule_verdict v, const char *prefix, char *err, size_t cap)
{
    if (v < AG_RULE_ALLOW || v > AG_RULE_DENY) { snprintf(err, cap, "bad verdict %d", (int)v); return -1; }
    return add_rule(r, v, prefix, 0, err, cap);
}

int ag_rules_parse(ag_rules *r, const char *text, const char *name, char *err, size_t cap)
{
    int line = 0;
    const char *p = text;
    while (*p) {
        line++;
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char buf[4096];
        if (len >= sizeof buf) {
            snprintf(err, cap, "%s:%d: line too long (%zu bytes; at most %zu)", name, line, len, sizeof buf - 1);
            return -1;
        }
        memcpy(buf, p, len);
        buf[len] = 0;
        p = e ? e + 1 : p + len;
        char *s = buf + strspn(buf, " \t\r");
        if (!*s || *s == '#') continue;
        size_t kw = strcspn(s, " \t\r");
        int v = -1;
        for (int i = 0; i < 3; i++)
            if (strlen(verdict_names[i]) == kw && !strncmp(s, verdict_names[i], kw)) v = i;
        if (v < 0) {
            snprintf(err, cap, "%s:%d: unknown decision '%.*s' (expected allow, ask or deny, then the "
                     "command prefix, e.g. 'deny rm -rf')", name, line, (int)(kw > 64 ? 64 : kw), s);
            return -1;
        }
        char *rest = s + kw;
        rest += strspn(rest, " \t\r");
        if (!*rest || *rest == '#') {
            snprintf(err, cap, "%s:%d: '%s' needs a command prefix after it (e.g. '%s git push')",
                     name, line, verdict_names[v], verdict_names[v]);
            return -1;
        }
        char m[1024];
        if (add_rule(r, (ag_rule_verdict)v, rest, line, m, sizeof m)) {
            snprintf(err, cap, "%s:%d: %s", name, line, m);
            return -1;
        }
    }
    return 0;
}

int ag_rules_load(ag_rules *r, const char *path, const char *shown, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, cap, "cannot read the rules file %s: %s", shown ? shown : path, strerror(errno));
        return -1;
    }
    size_t n = 0, c = 4096;
    char *t = malloc(c);
    for (size_t k; t && (k = fread(t + n, 1, c - n - 1, f)) > 0;) {
        n += k;
        if (n + 1 == c) {
            char *q = c < (1u << 24) ? realloc(t, c *= 2) : NULL;
            if (!q) { free(t); t = NULL; }
            else t = q;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!t || bad) {
        free(t);
        snprintf(err, cap, "cannot read the rules file %s (%s)", shown ? shown : path,
                 bad ? "read error" : "out of memory or larger than 16 MiB");
        return -1;
    }
    t[n] = 0;
    int rc = ag_rules_parse(r, t, shown ? shown : path, err, cap);
    free(t);
    return rc;
}

/* Does rule ru match the words of c starting at index at?  The rule's first
 * word, when it has no '/', also matches a program given by path. */
static bool rule_matches(const rule *ru, const ag_sh_cmd *c, int at)
{
    if (c->n - at < ru->n) return false;
    for (int k = 0; k < ru->n; k++) {
        const char *w = c->w[at + k];
        if (k == 0 && !strchr(ru->w[0], '/') && strrchr(w, '/')) w = strrchr(w, '/') + 1;
        if (strcmp(ru->w[k], w)) return false;
    }
    return true;
}

/* "deny rm -rf" (line 3), for why. */
static void describe(const rule *ru, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "rule '%s", verdict_names[ru->v]);
    for (int i = 0; i < ru->n && k < cap; i++) k += (size_t)snprintf(out + k, cap - k, " %s", ru->w[i]);
    if (k < cap) {
        if (ru->line) snprintf(out + k, cap - k, "' (rules line %d)", ru->line);
        else snprintf(out + k, cap - k, "' (this session)");
    }
}

ag_rule_verdict ag_rules_check(const ag_rules *r, const char *command, char *why, size_t cap)
{
    char dummy[8];
    if (!why || !cap) { why = dummy; cap = sizeof dummy; }
    why[0] = 0;
    if (!r || r->n == 0) { snprintf(why, cap, "no rules"); return AG_RULE_NONE; }
    ag_sh_line l;
    if (ag_sh_split(command, &l)) { snprintf(why, cap, "out of memory reading the command"); return AG_RULE_ASK; }
    const rule *deny = NULL, *ask = NULL, *allow = NULL;
    bool all_allowed = l.n > 0;
    for (int i = 0; i < l.n; i++) {
        const ag_sh_cmd *c = &l.c[i];
        for (int s = 0; s < c->n_stage; s++)
            for (int k = 0; k < r->n; k++) {
                const rule *ru = &r->r[k];
                if (!rule_matches(ru, c, c->stage[s])) continue;
                if (ru->v == AG_RULE_DENY && !deny) deny = ru;
                if (ru->v == AG_RULE_ASK && !ask) ask = ru;
            }
        bool ok = false;
        for (int k = 0; k < r->n && !ok; k++)
            if (r->r[k].v == AG_RULE_ALLOW && rule_matches(&r->r[k], c, c->stage[c->n_stage - 1])) {
                ok = true;
                if (!allow) allow = &r->r[k];
            }
        if (!ok) all_allowed = false;
    }
    bool subst = l.subst;
    int parts = l.n;
    ag_sh_line_free(&l);
    char d[512];
    if (deny) { describe(deny, d, sizeof d); snprintf(why, cap, "denied by %s", d); return AG_RULE_DENY; }
    if (ask) { describe(ask, d, sizeof d); snprintf(why, cap, "%s asks before it runs", d); return AG_RULE_ASK; }
    if (subst) {
        snprintf(why, cap, "the command holds a command substitution or a shell construct that prefix rules "
                 "cannot judge");
        return AG_RULE_ASK;
    }
    if (all_allowed) {
        describe(allow, d, sizeof d);
        snprintf(why, cap, "allowed by %s%s", d, parts > 1 ? " and the other parts' allow rules" : "");
        return AG_RULE_ALLOW;
    }
    snprintf(why, cap, "no rule covers every part of the command");
    return AG_RULE_NONE;
}

char *ag_rules_explain(const char *command, int *subst)
{
    ag_sh_line l;
    if (ag_sh_split(command, &l)) return NULL;
    size_t cap = 64;
    for (int i = 0; i < l.n; i++)
        for (int k = 0; k < l.c[i].n; k++) cap += strlen(l.c[i].w[k]) + 1;
    char *out = malloc(cap), *p = out;
    if (out) {
        *p = 0;
        for (int i = 0; i < l.n; i++) {
            const ag_sh_cmd *c = &l.c[i];
            for (int k = c->stage[c->n_stage - 1]; k < c->n; k++)
                p += sprintf(p, "%s%s", k > c->stage[c->n_stage - 1] ? " " : "", c->w[k]);
            *p++ = '\n';
            *p = 0;
        }
    }
    if (subst) *subst = l.subst;
    ag_sh_line_free(&l);
    return out;
}

void ag_rules_session_prefix(const char *simple, char *out, size_t cap)
{
    out[0] = 0;
    ag_sh_line l;
    if (ag_sh_split(simple, &l) || l.n < 1) { ag_sh_line_free(&l); return; }
    const ag_sh_cmd *c = &l.c[0];
    int i = c->stage[c->n_stage - 1];
    const char *sub = i + 1 < c->n ? c->w[i + 1] : NULL;
    bool subcmd = sub && sub[0] != '-' && sub[0];
    for (const char *q = sub; subcmd && *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-'))
            subcmd = false;
    snprintf(out, cap, "%s%s%s", c->w[i], subcmd ? " " : "", subcmd ? sub : "");
    ag_sh_line_free(&l);
}
