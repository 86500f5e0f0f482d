/* ignore.c: glob patterns with ** and the .gitignore rules of a tree.
 *
 * list_dir, glob and grep skip what git would ignore, so the model is not
 * drowned in build outputs and dependencies.  Rules come from the
 * repository's .git/info/exclude and every .gitignore from its root down to
 * the folder being walked; deeper files and later lines win, "!" re-includes,
 * a trailing "/" matches folders only, a "/" elsewhere anchors the pattern to
 * the folder of its .gitignore. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

/* One [...] class at p (p[0] == '['); *end gets the char after ']'.
 * Returns 1 match, 0 no match, -1 not a class (treat '[' literally). */
static int match_class(const char *p, char c, const char **end)
{
    const char *q = p + 1;
    bool neg = false, hit = false;
    if (*q == '!' || *q == '^') { neg = true; q++; }
    const char *first = q;
    while (*q && (*q != ']' || q == first)) {
        char lo = *q;
        if (lo == '\\' && q[1]) lo = *++q;
        if (q[1] == '-' && q[2] && q[2] != ']') {
            char hi = q[2];
            if (c >= lo && c <= hi) hit = true;
            q += 3;
        } else {
            if (c == lo) hit = true;
            q++;
        }
    }
    if (*q != ']') return -1;
    *end = q + 1;
    return hit != neg;
}

/* Recursive matcher with a step budget so hostile patterns stay cheap. */
static bool gm(const char *p, const char *s, long *budget)
{
    while (*p) {
        if (--*budget < 0) return false;
        if (p[0] == '*' && p[1] == '*') {
            const char *q = p;
            while (*q == '*') q++;
            if (*q == '/') {   /* "**" + "/": zero or more folders */
                if (gm(q + 1, s, budget)) return true;
                for (const char *t = s; *t; t++)
                    if (*t == '/' && gm(q + 1, t + 1, budget)) return true;
                return false;
            }
            if (!*q) return true;
            for (const char *t = s;; t++) {
                if (gm(q, t, budget)) return true;
                if (!*t || *budget < 0) return false;
            }
        }
        if (*p == '*') {
            p++;
            for (const char *t = s;; t++) {
                if (gm(p, t, budget)) return true;
                if (!*t || *t == '/' || *budget < 0) return false;
            }
        }
        if (!*s) return false;
        if (*p == '?') {
            if (*s == '/') return false;
            p++;
            s++;
            continue;
        }
        if (*p == '[') {
            const char *end;
            int r = match_class(p, *s, &end);
            if (r >= 0) {
                if (!r || *s == '/') return false;
                p = end;
                s++;
                continue;
            }
        }
        if (*p == '\\' && p[1]) p++;
        if (*p != *s) return false;
        p++;
        s++;
    }
    return *s == 0;
}

/* Public glob match. */
bool gt_glob_match(const char *pat, const char *str)
{
    long budget = 200000;
    return gm(pat, str, &budget);
}

typedef struct rule_t {
    char *pat;
    bool  neg, dir_only, anchored;
} rule_t;

typedef struct level_t {
    char   *base;       /* folder the rules are relative to */
    rule_t *rules;
    int     n;
} level_t;

struct gt_ignore {
    level_t *lv;
    int      n, cap;
};

/* Parse one .gitignore line into r; false for blanks and comments. */
static bool parse_rule(char *line, rule_t *r)
{
    size_t l = strlen(line);
    while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = 0;
    while (l && line[l - 1] == ' ' && !(l >= 2 && line[l - 2] == '\\')) line[--l] = 0;
    if (!l || line[0] == '#') return false;
    memset(r, 0, sizeof *r);
    char *p = line;
    if (*p == '!') { r->neg = true; p++; }
    else if (*p == '\\' && (p[1] == '!' || p[1] == '#')) p++;
    l = strlen(p);
    if (l && p[l - 1] == '/') { r->dir_only = true; p[--l] = 0; }
    if (!l) return false;
    if (strchr(p, '/')) r->anchored = true;
    if (*p == '/') p++;
    if (!*p) return false;
    r->pat = strdup(p);
    return r->pat != NULL;
}

/* Append a level for base with the rules of file (which may not exist). */
static int push_file(gt_ignore *ig, const char *base, const char *file)
{
    if (ig->n == ig->cap) {
        int nc = ig->cap ? ig->cap * 2 : 8;
        level_t *nl = realloc(ig->lv, sizeof *nl * (size_t)nc);
        if (!nl) return -1;
        ig->lv = nl;
        ig->cap = nc;
    }
    level_t lv = {strdup(base), NULL, 0};
    if (!lv.base) return -1;
    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (fd >= 0 && !f) close(fd);
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        int cap_r = 0, lines = 0;
        while (getline(&line, &cap, f) > 0 && lines++ < 100000) {
            rule_t r;
            if (!parse_rule(line, &r)) continue;
            if (lv.n == cap_r) {
                int nc = cap_r ? cap_r * 2 : 16;
                rule_t *nr = realloc(lv.rules, sizeof *nr * (size_t)nc);
                if (!nr) { free(r.pat); break; }
                lv.rules = nr;
                cap_r = nc;
            }
            lv.rules[lv.n++] = r;
        }
        free(line);
        fclose(f);
    }
    ig->lv[ig->n++] = lv;
    return 0;
}

/* Load dir/.gitignore as a new, deeper level. */
int gt_ignore_push(gt_ignore *ig, const char *dir)
{
    char file[GT_PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/.gitignore", dir);
    return push_file(ig, dir, file);
}

/* Leave the deepest level. */
void gt_ignore_pop(gt_ignore *ig)
{
    if (!ig->n) return;
    level_t *lv = &ig->lv[--ig->n];
    for (int i = 0; i < lv->n; i++) free(lv->rules[i].pat);
    free(lv->rules);
    free(lv->base);
}

/* Rules in force at dir: from the repository root (if any) down to dir. */
gt_ignore *gt_ignore_new(const char *dir)
{
    gt_ignore *ig = calloc(1, sizeof *ig);
    if (!ig) return NULL;
    char root[GT_PATH_MAX];
    snprintf(root, sizeof root, "%s", dir);
    bool found = false;
    for (int depth = 0; depth < 64; depth++) {
        char probe[GT_PATH_MAX + 8];
        struct stat st;
        snprintf(probe, sizeof probe, "%s/.git", strcmp(root, "/") ? root : "");
        if (lstat(probe, &st) == 0) { found = true; break; }
        char *s = strrchr(root, '/');
        if (!s || s == root) break;
        *s = 0;
    }
    if (!found) snprintf(root, sizeof root, "%s", dir);
    else {
        char ex[GT_PATH_MAX + 32];
        snprintf(ex, sizeof ex, "%s/.git/info/exclude", root);
        if (push_file(ig, root, ex)) goto oom;
    }
    /* .gitignore of root, then each folder on the way down to dir. */
    char cur[GT_PATH_MAX];
    snprintf(cur, sizeof cur, "%s", root);
    if (gt_ignore_push(ig, cur)) goto oom;
    size_t rl = strlen(root);
    const char *rest = dir + rl;
    while (*rest == '/') {
        const char *e = strchr(rest + 1, '/');
        size_t n = e ? (size_t)(e - dir) : strlen(dir);
        if (n >= sizeof cur) break;
        memcpy(cur, dir, n);
        cur[n] = 0;
        if (gt_ignore_push(ig, cur)) goto oom;
        if (!e) break;
        rest = e;
    }
    return ig;
oom:
    gt_ignore_free(ig);
    return NULL;
}

/* Would git ignore abspath? */
bool gt_ignored(const gt_ignore *ig, const char *abspath, bool is_dir)
{
    const char *bn = strrchr(abspath, '/');
    bn = bn ? bn + 1 : abspath;
    for (int i = ig->n - 1; i >= 0; i--) {
        const level_t *lv = &ig->lv[i];
        size_t bl = strlen(lv->base);
        if (strncmp(abspath, lv->base, bl) || abspath[bl] != '/') continue;
        const char *rel = abspath + bl + 1;
        for (int j = lv->n - 1; j >= 0; j--) {
            const rule_t *r = &lv->rules[j];
            if (r->dir_only && !is_dir) continue;
            if (gt_glob_match(r->pat, r->anchored ? rel : bn)) return !r->neg;
        }
    }
    return false;
}

/* Release everything. */
void gt_ignore_free(gt_ignore *ig)
{
    if (!ig) return;
    while (ig->n) gt_ignore_pop(ig);
    free(ig->lv);
    free(ig);
}
