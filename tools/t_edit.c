/* t_edit.c: the edit_file tool.
 *
 * Reads the file under the policy, refuses when it changed since the model
 * last read it, applies the exact replacement (edit_core.c), and writes the
 * result atomically, checking once more right before the rename that nobody
 * changed the file in between.  Misses come back with the closest region,
 * ambiguous matches with their line numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

#define EDIT_REGION_LINES 40
#define EDIT_DIFF_MAX 16384

/* Numbered lines [from, to] of data, at most EDIT_REGION_LINES. */
static void put_region(gt_buf *b, const char *data, size_t len, int from, int to, int max_chars)
{
    int line = 1;
    size_t pos = 0;
    if (to - from + 1 > EDIT_REGION_LINES) to = from + EDIT_REGION_LINES - 1;
    while (pos < len && line <= to) {
        const char *e = memchr(data + pos, '\n', len - pos);
        size_t n = e ? (size_t)(e - (data + pos)) : len - pos;
        if (line >= from) {
            size_t shown = n && data[pos + n - 1] == '\r' ? n - 1 : n;
            if (max_chars > 0 && shown > (size_t)max_chars) shown = (size_t)max_chars;
            gb_printf(b, "%6d\t", line);
            gt_put_utf8(b, data + pos, shown);
            gb_putc(b, '\n');
        }
        pos += n + (e ? 1 : 0);
        line++;
    }
}

/* The failure result for a miss: closest region and how to retry. */
static cJSON *miss_result(gt_ctx *c, const char *path, const char *data, size_t len, const char *old_s)
{
    gt_near near;
    gt_edit_closest(data, len, old_s, strlen(old_s), &near);
    gt_buf b = {0};
    gb_printf(&b, "edit_file: old_string was not found in %s.", path);
    if (near.start && near.score >= 0.3) {
        gb_printf(&b, " The closest region is lines %d-%d (%.0f%% similar)", near.start, near.end, near.score * 100);
        if (near.ws_only) gb_puts(&b, ", which differs only in whitespace or indentation");
        else if (near.first_diff >= 0)
            gb_printf(&b, "; the first line that differs is line %d of old_string", near.first_diff + 1);
        gb_puts(&b, ":\n");
        put_region(&b, data, len, near.start, near.end, c->caps.line_max_chars);
        gb_puts(&b, "Copy the text exactly as it appears there (without the line numbers and the tab after "
                    "them) and try again.");
    } else {
        gb_puts(&b, " Nothing in the file looks like it; read the file with read_file first.");
    }
    char *msg = gb_take(&b);
    if (!msg) return gt_fail(c, "edit_file: old_string was not found in %s", path);
    cJSON *o = gt_fail(c, "%s", msg);
    free(msg);
    if (o && near.start) {
        gj_num(c, o, "closest_start", near.start);
        gj_num(c, o, "closest_end", near.end);
        gj_num(c, o, "similarity", (double)(int)(near.score * 1000) / 1000);
    }
    return o;
}

/* Release what gt_edit_prepare kept. */
void gt_edit_prep_free(gt_edit_prep *p)
{
    free(p->data);
    free(p->eo.data);
    p->data = p->eo.data = NULL;
}

/* Everything of edit_file but the write: checks, read, stale test, match.
 * NULL when p holds a ready edit, else the failure result. */
cJSON *gt_edit_prepare(gt_ctx *c, const cJSON *a, gt_edit_prep *p)
{
    memset(p, 0, sizeof *p);
    const char *path = ga_str(a, "path"), *old_s = ga_str(a, "old_string"), *new_s = ga_str(a, "new_string");
    bool all = ga_bool(a, "replace_all", false);
    char res2[GT_PATH_MAX], why[1024];
    if (gt_check(c, path, SB_ACCESS_WRITE, p->res, sizeof p->res, why, sizeof why))
        return gt_fail(c, "edit_file: %s", why);
    struct stat st;
    int fd = gt_open_read(c, path, res2, sizeof res2, &st, why, sizeof why);
    if (fd < 0) return gt_fail(c, "edit_file: %s", why);
    if (strcmp(p->res, res2)) {
        close(fd);
        return gt_fail(c, "edit_file: %s changed while it was being checked; try again", path);
    }
    if ((unsigned long long)st.st_size > c->caps.file_max_bytes) {
        close(fd);
        return gt_fail(c, "edit_file: %s is over the %zu-byte limit; edit it with shell tools", path,
                       c->caps.file_max_bytes);
    }
    int r = gt_read_fd(fd, c->caps.file_max_bytes, &p->data, &p->len, why, sizeof why);
    close(fd);
    if (r) return gt_fail(c, "edit_file: %s: %s", path, why);
    cJSON *o = NULL;
    if (gt_looks_binary(p->data, p->len)) {
        o = gt_fail(c, "edit_file: %s is a binary file; edit_file only changes text", path);
        goto fail;
    }
    p->hash = gt_hash(p->data, p->len);
    const gt_seen *seen = gt_seen_get(c, p->res);
    if (seen && (seen->size != st.st_size || seen->mtime.tv_sec != st.st_mtim.tv_sec ||
                 seen->mtime.tv_nsec != st.st_mtim.tv_nsec) && seen->hash != p->hash) {
        o = gt_fail(c, "edit_file: %s changed on disk since you last read it (now %lld bytes, was %lld); read it "
                    "again with read_file, then redo the edit", path, (long long)st.st_size, (long long)seen->size);
        if (o) gj_bool(c, o, "stale", true);
        goto fail;
    }
    gt_edit_out *eo = &p->eo;
    gt_edit_apply(p->data, p->len, old_s, strlen(old_s), new_s, strlen(new_s), all, c->caps.write_max_bytes, eo);
    switch (eo->status) {
    case GT_EDIT_OK:
        return NULL;
    case GT_EDIT_EMPTY_OLD:
        o = gt_fail(c, "edit_file: old_string is empty; to create or replace a whole file use write_file");
        break;
    case GT_EDIT_NO_CHANGE:
        o = gt_fail(c, "edit_file: old_string and new_string are the same; nothing to change");
        break;
    case GT_EDIT_NOT_FOUND:
        o = miss_result(c, path, p->data, p->len, old_s);
        break;
    case GT_EDIT_MULTIPLE: {
        char lines[256] = "";
        for (int i = 0; i < eo->n_lines; i++) {
            size_t l = strlen(lines);
            snprintf(lines + l, sizeof lines - l, "%s%d", i ? ", " : "", eo->lines[i]);
        }
        o = gt_fail(c, "edit_file: old_string matches %d places in %s (lines %s%s); add surrounding lines to make "
                    "it unique, or set replace_all to true to change all of them", eo->count, path, lines,
                    eo->count > eo->n_lines ? ", ..." : "");
        if (o) {
            gj_num(c, o, "matches", eo->count);
            cJSON *arr = cJSON_AddArrayToObject(o, "match_lines");
            for (int i = 0; arr && i < eo->n_lines; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(eo->lines[i]));
        }
        break;
    }
    case GT_EDIT_TOO_BIG:
        o = gt_fail(c, "edit_file: the result would be %zu bytes, over the %zu-byte limit", eo->len,
                    c->caps.write_max_bytes);
        break;
    default:
        o = gt_fail(c, "edit_file: out of memory editing %s", path);
        break;
    }
fail:
    gt_edit_prep_free(p);
    return o ? o : gt_fail(c, "edit_file: out of memory");
}

/* Diff of a prepared edit, cut to EDIT_DIFF_MAX (NULL on oom). */
char *gt_edit_diff(gt_ctx *c, const gt_edit_prep *p)
{
    gt_buf d = {0};
    char la[GT_PATH_MAX + 4], lb[GT_PATH_MAX + 4];
    snprintf(la, sizeof la, "a/%s", gt_display(c, p->res));
    snprintf(lb, sizeof lb, "b/%s", gt_display(c, p->res));
    gt_udiff(&d, p->data, p->len, p->eo.data, p->eo.len, la, lb, 3);
    if (d.len > EDIT_DIFF_MAX) {
        size_t cut = EDIT_DIFF_MAX;
        while (cut && ((unsigned char)d.p[cut] & 0xC0) == 0x80) cut--;
        d.len = cut;
        d.p[cut] = 0;
        gb_puts(&d, "\n[... diff cut; use /diff or read_file to see the rest]\n");
    }
    char *dt = gb_take(&d);
    if (!dt) return NULL;
    char *safe = gt_utf8_dup(dt, strlen(dt), NULL);
    free(dt);
    return safe;
}

/* edit_file(path, old_string, new_string, replace_all?) */
cJSON *gt_tool_edit_file(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    (void)intr;
    gt_edit_prep p;
    cJSON *o = gt_edit_prepare(c, a, &p);
    if (o) return o;
    char why[1024];
    gt_expect ex = {true, p.len, p.hash};
    bool created;
    if (gt_write_file(c, p.res, p.eo.data, p.eo.len, &ex, "edit_file", true, &created, why, sizeof why)) {
        o = gt_fail(c, "edit_file: %s", why);
        gt_edit_prep_free(&p);
        return o;
    }
    o = gt_okres(c);
    if (o) {
        gj_str(c, o, "path", gt_display(c, p.res));
        gj_num(c, o, "replacements", p.eo.count);
        gj_num(c, o, "first_line", p.eo.n_lines ? p.eo.lines[0] : 0);
        char *diff = gt_edit_diff(c, &p);
        if (diff) gj_str(c, o, "diff", diff);
        else c->oom = true;
        free(diff);
        if (p.eo.crlf) gj_str(c, o, "note", "converted the strings to the file's CRLF line endings");
        else if (p.eo.eof_nl_fixed)
            gj_str(c, o, "note", "matched at the end of the file, which has no final newline; kept it that way");
    }
    gt_edit_prep_free(&p);
    return o;
}
