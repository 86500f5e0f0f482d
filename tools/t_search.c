/* t_search.c: the list_dir, glob and grep tools.
 *
 * One walker serves all three: it visits a tree in name order, skips .git/
 * and whatever .gitignore ignores, does not follow symlinked folders, skips
 * folders the policy does not let us read, and stops on interrupt.  Each tool
 * caps its output and says what it cut. */
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

typedef struct walker walker;
/* Visit one entry; return true to stop the walk. */
typedef bool (*visit_fn)(walker *w, const char *abs, const char *rel, const struct stat *st, int depth);

struct walker {
    gt_ctx     *c;
    gt_ignore  *ig;
    volatile sig_atomic_t *intr;
    int         max_depth;
    visit_fn    visit;
    void       *u;
    long        n_ignored, n_denied;
    bool        stopped, interrupted, oom;
};

/* qsort comparator for names. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted entry names of a folder (without . and ..); NULL if unreadable. */
static char **read_names(const char *dir, int *count, bool *oom)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (n == cap) {
            int nc = cap ? cap * 2 : 32;
            char **nv = realloc(v, sizeof *nv * (size_t)nc);
            if (!nv) { *oom = true; break; }
            v = nv;
            cap = nc;
        }
        if (!(v[n] = strdup(e->d_name))) { *oom = true; break; }
        n++;
    }
    closedir(d);
    if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_str);
    *count = n;
    return v ? v : calloc(1, sizeof *v);
}

/* Free a name list. */
static void free_names(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Depth-first walk below abs (rel is the path from the walk's root). */
static void walk(walker *w, const char *abs, const char *rel, int depth)
{
    int n;
    char **names = read_names(abs, &n, &w->oom);
    if (!names) { w->n_denied++; return; }
    for (int i = 0; i < n && !w->stopped; i++) {
        if (w->intr && *w->intr) { w->stopped = w->interrupted = true; break; }
        if (!strcmp(names[i], ".git")) continue;
        char cabs[GT_PATH_MAX], crel[GT_PATH_MAX];
        if ((size_t)snprintf(cabs, sizeof cabs, "%s/%s", strcmp(abs, "/") ? abs : "", names[i]) >= sizeof cabs) continue;
        snprintf(crel, sizeof crel, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        struct stat st;
        if (lstat(cabs, &st)) continue;
        bool is_dir = S_ISDIR(st.st_mode);
        if (w->ig && gt_ignored(w->ig, cabs, is_dir)) { w->n_ignored++; continue; }
        if (is_dir) {
            char res[GT_PATH_MAX], why[256];
            if (sb_check_path(w->c->pol, cabs, SB_ACCESS_READ, res, sizeof res, why, sizeof why)) {
                w->n_denied++;
                continue;
            }
        }
        if (w->visit(w, cabs, crel, &st, depth)) { w->stopped = true; break; }
        if (is_dir && depth < w->max_depth) {
            if (w->ig && gt_ignore_push(w->ig, cabs)) { w->oom = w->stopped = true; break; }
            walk(w, cabs, crel, depth + 1);
            if (w->ig) gt_ignore_pop(w->ig);
        }
    }
    free_names(names, n);
}

/* Resolve a folder argument (default: the workspace) for reading. */
static int search_root(gt_ctx *c, const char *path, char *res, size_t rl, struct stat *st, char *why, size_t wl)
{
    if (gt_check(c, path && *path ? path : ".", SB_ACCESS_READ, res, rl, why, wl)) return -1;
    if (stat(res, st)) { snprintf(why, wl, "%s does not exist; check the path", path ? path : "."); return -1; }
    return 0;
}

/* Notes shared by the three tools. */
static void walk_notes(const walker *w, gt_buf *note)
{
    if (w->n_ignored) gb_printf(note, "%s%ld entries ignored by .gitignore", note->len ? "; " : "", w->n_ignored);
    if (w->n_denied) gb_printf(note, "%s%ld folders not readable under the policy", note->len ? "; " : "", w->n_denied);
    if (w->interrupted) gb_printf(note, "%sinterrupted", note->len ? "; " : "");
    if (w->oom) gb_printf(note, "%sout of memory, results incomplete", note->len ? "; " : "");
}

/* ---- list_dir ---- */

typedef struct list_state {
    gt_buf out;
    long   entries, limit;
    size_t max_bytes;
    int    max_depth;
    bool   cut;
} list_state;

/* One line per entry, indented by depth. */
static bool list_visit(walker *w, const char *abs, const char *rel, const struct stat *st, int depth)
{
    list_state *s = w->u;
    if (s->entries >= s->limit || s->out.len >= s->max_bytes) { s->cut = true; return true; }
    s->entries++;
    const char *name = strrchr(rel, '/');
    name = name ? name + 1 : rel;
    for (int i = 1; i < depth; i++) gb_puts(&s->out, "  ");
    gt_put_utf8(&s->out, name, strlen(name));
    if (S_ISDIR(st->st_mode)) {
        gb_putc(&s->out, '/');
        if (depth == s->max_depth) {
            int n;
            bool oom = false;
            char **v = read_names(abs, &n, &oom);
            if (v && n) gb_printf(&s->out, "  (%d entries)", n);
            free_names(v, n);
        }
    } else if (S_ISLNK(st->st_mode)) {
        char t[GT_PATH_MAX];
        ssize_t n = readlink(abs, t, sizeof t - 1);
        gb_puts(&s->out, " -> ");
        if (n > 0) gt_put_utf8(&s->out, t, (size_t)n);
    } else {
        char hs[32];
        gt_human_size((unsigned long long)st->st_size, hs, sizeof hs);
        gb_printf(&s->out, "  (%s)", hs);
    }
    gb_putc(&s->out, '\n');
    return false;
}

/* list_dir(path?, depth?) */
cJSON *gt_tool_list_dir(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    const char *path = ga_str(a, "path");
    long depth = 2;
    ga_int(a, "depth", &depth);
    if (depth < 1) depth = 1;
    if (depth > 5) depth = 5;
    char res[GT_PATH_MAX], why[1024];
    struct stat st;
    if (search_root(c, path, res, sizeof res, &st, why, sizeof why)) return gt_fail(c, "list_dir: %s", why);
    if (!S_ISDIR(st.st_mode)) return gt_fail(c, "list_dir: %s is a file, not a folder; use read_file", path);
    list_state s = {.limit = c->caps.search_max_results, .max_bytes = c->caps.search_max_bytes, .max_depth = (int)depth};
    walker w = {.c = c, .ig = gt_ignore_new(res), .intr = intr, .max_depth = (int)depth, .visit = list_visit, .u = &s};
    if (!w.ig) return gt_fail(c, "list_dir: out of memory loading .gitignore rules");
    walk(&w, res, "", 1);
    gt_ignore_free(w.ig);
    cJSON *o = gt_okres(c);
    if (!o) { gb_free(&s.out); return NULL; }
    gj_str(c, o, "path", gt_display(c, res));
    if (!s.entries) gb_puts(&s.out, "(empty)\n");
    gj_buf(c, o, "content", &s.out);
    gj_num(c, o, "entries", (double)s.entries);
    gj_bool(c, o, "truncated", s.cut);
    gt_buf note = {0};
    if (s.cut) gb_printf(&note, "listing stopped after %ld entries; list a subfolder or use a smaller depth", s.entries);
    walk_notes(&w, &note);
    if (note.len) gj_buf(c, o, "note", &note);
    gb_free(&note);
    return o;
}

/* ---- glob ---- */

typedef struct glob_state {
    const char *pat;
    gt_buf out;
    long   found, shown, limit;
    size_t max_bytes;
} glob_state;

/* Add matching entries. */
static bool glob_visit(walker *w, const char *abs, const char *rel, const struct stat *st, int depth)
{
    (void)depth;
    glob_state *s = w->u;
    if (!gt_glob_match(s->pat, rel)) return false;
    s->found++;
    if (s->shown >= s->limit || s->out.len >= s->max_bytes) return false;   /* keep counting */
    s->shown++;
    const char *d = gt_display(w->c, abs);
    gt_put_utf8(&s->out, d, strlen(d));
    if (S_ISDIR(st->st_mode)) gb_putc(&s->out, '/');
    gb_putc(&s->out, '\n');
    return false;
}

/* glob(pattern, path?) */
cJSON *gt_tool_glob(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    const char *pat = ga_str(a, "pattern"), *path = ga_str(a, "path");
    if (!*pat) return gt_fail(c, "glob: pattern is empty");
    /* Move the literal leading folders of the pattern into the base path. */
    char base[GT_PATH_MAX];
    snprintf(base, sizeof base, "%s", path && *path ? path : (pat[0] == '/' ? "/" : "."));
    const char *p = pat;
    while (*p == '/') p++;
    for (;;) {
        const char *e = strchr(p, '/');
        if (!e) break;
        if (strcspn(p, "*?[\\") < (size_t)(e - p)) break;
        size_t bl = strlen(base);
        if (bl + (size_t)(e - p) + 2 >= sizeof base) break;
        snprintf(base + bl, sizeof base - bl, "%s%.*s", base[bl - 1] == '/' ? "" : "/", (int)(e - p), p);
        p = e + 1;
    }
    if (!*p) return gt_fail(c, "glob: pattern %s names a folder; add a file pattern such as %s/*", pat, pat);
    char res[GT_PATH_MAX], why[1024];
    struct stat st;
    if (search_root(c, base, res, sizeof res, &st, why, sizeof why)) return gt_fail(c, "glob: %s", why);
    if (!S_ISDIR(st.st_mode)) return gt_fail(c, "glob: %s is not a folder", base);
    int depth = 64;
    if (!strstr(p, "**")) {
        depth = 1;
        for (const char *q = p; *q; q++) depth += *q == '/';
    }
    glob_state s = {.pat = p, .limit = c->caps.search_max_results, .max_bytes = c->caps.search_max_bytes};
    walker w = {.c = c, .ig = gt_ignore_new(res), .intr = intr, .max_depth = depth, .visit = glob_visit, .u = &s};
    if (!w.ig) return gt_fail(c, "glob: out of memory loading .gitignore rules");
    walk(&w, res, "", 1);
    gt_ignore_free(w.ig);
    cJSON *o = gt_okres(c);
    if (!o) { gb_free(&s.out); return NULL; }
    if (!s.found) gb_printf(&s.out, "no match for %s under %s\n", pat, gt_display(c, res));
    gj_buf(c, o, "content", &s.out);
    gj_num(c, o, "matches", (double)s.found);
    gj_bool(c, o, "truncated", s.shown < s.found);
    gt_buf note = {0};
    if (s.shown < s.found)
        gb_printf(&note, "showing %ld of %ld matches; narrow the pattern or the path", s.shown, s.found);
    walk_notes(&w, &note);
    if (note.len) gj_buf(c, o, "note", &note);
    gb_free(&note);
    return o;
}

/* ---- grep ---- */

typedef struct grep_state {
    regex_t re;
    const char *glob;
    int    context;
    gt_buf out;
    long   matches, shown, files_matched, limit;
    long   n_binary, n_big, n_unreadable;
    size_t max_bytes;
    int    max_chars;
} grep_state;

/* Print one output line: path, line number, separator, text. */
static void grep_line(grep_state *s, const char *shown, int no, char sep, const char *p, size_t n)
{
    gt_put_utf8(&s->out, shown, strlen(shown));
    gb_printf(&s->out, "%c%d%c", sep, no, sep);
    if (n && p[n - 1] == '\r') n--;
    if (s->max_chars > 0 && n > (size_t)s->max_chars) {
        size_t cut = (size_t)s->max_chars;
        while (cut && ((unsigned char)p[cut] & 0xC0) == 0x80) cut--;
        gt_put_utf8(&s->out, p, cut);
        gb_puts(&s->out, " [...]");
    } else {
        gt_put_utf8(&s->out, p, n);
    }
    gb_putc(&s->out, '\n');
}

/* Search one file already known to be a regular file. */
static void grep_file(walker *w, grep_state *s, const char *abs)
{
    gt_ctx *c = w->c;
    char res[GT_PATH_MAX], why[512];
    struct stat st;
    int fd = gt_open_read(c, abs, res, sizeof res, &st, why, sizeof why);
    if (fd < 0) { s->n_unreadable++; return; }
    if ((unsigned long long)st.st_size > c->caps.file_max_bytes) { close(fd); s->n_big++; return; }
    char *data;
    size_t len;
    int r = gt_read_fd(fd, c->caps.file_max_bytes, &data, &len, why, sizeof why);
    close(fd);
    if (r) { s->n_unreadable++; return; }
    if (gt_looks_binary(data, len)) { s->n_binary++; free(data); return; }
    int nl = gt_count_lines(data, len);
    size_t *start = malloc(sizeof *start * (size_t)(nl + 1));
    if (!start) { w->oom = true; free(data); return; }
    size_t pos = 0;
    for (int i = 0; i < nl; i++) {
        start[i] = pos;
        const char *e = memchr(data + pos, '\n', len - pos);
        pos = e ? (size_t)(e - data) + 1 : len;
    }
    start[nl] = len;
    const char *shown = gt_display(c, res);
    int printed_to = -1;   /* last line index printed */
    bool any = false;
    /* One regexec over the rest of the file finds the next matching line
     * (REG_NEWLINE keeps matches inside lines): files without a match cost
     * one call instead of one per line. */
    for (int i = 0; i < nl; i++) {
        if (w->intr && *w->intr) { w->stopped = w->interrupted = true; break; }
        regmatch_t m = {.rm_so = (regoff_t)start[i], .rm_eo = (regoff_t)len};   /* REG_STARTEND: no strlen per call */
        if (regexec(&s->re, data, 1, &m, REG_STARTEND) != 0) break;
        size_t off = (size_t)m.rm_so;
        if (off >= len && data[len - 1] == '\n') break;   /* the empty "line" after the last newline */
        int lo = i, hi = nl - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (start[mid] <= off) lo = mid;
            else hi = mid - 1;
        }
        i = lo;
        s->matches++;
        if (!any) { any = true; s->files_matched++; }
        if (s->shown >= s->limit || s->out.len >= s->max_bytes) continue;   /* count only */
        s->shown++;
        int from = i - s->context < 0 ? 0 : i - s->context;
        if (from <= printed_to + 1) from = printed_to + 1;   /* joins the previous group */
        else if (printed_to >= 0 && s->context > 0) gb_puts(&s->out, "--\n");
        int to = i + s->context >= nl ? nl - 1 : i + s->context;
        for (int j = from; j <= to; j++) {
            size_t jb = start[j], je = start[j + 1];
            if (je > jb && data[je - 1] == '\n') je--;
            bool is_hit = j == i;
            if (j > i) {   /* a later context line may match too: it is printed as a match when reached */
                regmatch_t m2 = {.rm_so = (regoff_t)jb, .rm_eo = (regoff_t)je};
                bool h2 = regexec(&s->re, data, 1, &m2, REG_STARTEND) == 0;
                if (h2) { to = j - 1; break; }
            }
            grep_line(s, shown, j + 1, is_hit ? ':' : '-', data + jb, je - jb);
        }
        printed_to = to;
    }
    free(start);
    free(data);
}

/* Walker callback: regular files that pass the glob filter. */
static bool grep_visit(walker *w, const char *abs, const char *rel, const struct stat *st, int depth)
{
    (void)depth;
    grep_state *s = w->u;
    if (!S_ISREG(st->st_mode)) return false;
    if (s->glob) {
        const char *bn = strrchr(rel, '/');
        if (!gt_glob_match(s->glob, strchr(s->glob, '/') ? rel : (bn ? bn + 1 : rel))) return false;
    }
    grep_file(w, s, abs);
    return false;
}

/* grep(pattern, path?, glob?, context?, ignore_case?) */
cJSON *gt_tool_grep(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    const char *pat = ga_str(a, "pattern"), *path = ga_str(a, "path"), *glob = ga_str(a, "glob");
    long ctxl = 0;
    ga_int(a, "context", &ctxl);
    if (ctxl < 0) ctxl = 0;
    if (ctxl > 10) ctxl = 10;
    if (!*pat) return gt_fail(c, "grep: pattern is empty");
    grep_state s = {.glob = glob && *glob ? glob : NULL, .context = (int)ctxl, .limit = c->caps.search_max_results,
                    .max_bytes = c->caps.search_max_bytes, .max_chars = c->caps.line_max_chars};
    int flags = REG_EXTENDED | REG_NEWLINE | (ga_bool(a, "ignore_case", false) ? REG_ICASE : 0);
    int rc = regcomp(&s.re, pat, flags);
    if (rc) {
        char eb[256];
        regerror(rc, &s.re, eb, sizeof eb);
        return gt_fail(c, "grep: invalid regular expression '%s': %s (POSIX extended syntax: no \\d, use [0-9]; "
                       "no lazy quantifiers)", pat, eb);
    }
    char res[GT_PATH_MAX], why[1024];
    struct stat st;
    if (search_root(c, path, res, sizeof res, &st, why, sizeof why)) {
        regfree(&s.re);
        return gt_fail(c, "grep: %s", why);
    }
    walker w = {.c = c, .intr = intr, .max_depth = 64, .visit = grep_visit, .u = &s};
    if (S_ISDIR(st.st_mode)) {
        w.ig = gt_ignore_new(res);
        if (!w.ig) { regfree(&s.re); return gt_fail(c, "grep: out of memory loading .gitignore rules"); }
        walk(&w, res, "", 1);
        gt_ignore_free(w.ig);
    } else if (S_ISREG(st.st_mode)) {
        grep_file(&w, &s, res);
    } else {
        regfree(&s.re);
        return gt_fail(c, "grep: %s is not a file or folder", path);
    }
    regfree(&s.re);
    cJSON *o = gt_okres(c);
    if (!o) { gb_free(&s.out); return NULL; }
    if (!s.matches) gb_printf(&s.out, "no match for /%s/\n", pat);
    gj_buf(c, o, "content", &s.out);
    gj_num(c, o, "matches", (double)s.matches);
    gj_num(c, o, "files", (double)s.files_matched);
    gj_bool(c, o, "truncated", s.shown < s.matches);
    gt_buf note = {0};
    if (s.shown < s.matches)
        gb_printf(&note, "showing %ld of %ld matching lines (%ld files); narrow the pattern, path or glob", s.shown,
                  s.matches, s.files_matched);
    if (s.n_binary) gb_printf(&note, "%sskipped %ld binary files", note.len ? "; " : "", s.n_binary);
    if (s.n_big) gb_printf(&note, "%sskipped %ld files over %zu bytes", note.len ? "; " : "", s.n_big, c->caps.file_max_bytes);
    if (s.n_unreadable) gb_printf(&note, "%s%ld files not readable under the policy", note.len ? "; " : "", s.n_unreadable);
    walk_notes(&w, &note);
    if (note.len) gj_buf(c, o, "note", &note);
    gb_free(&note);
    return o;
}
