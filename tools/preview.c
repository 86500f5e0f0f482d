/* preview.c: what a mutating call would do, for the approval prompt.
 *
 * Before the agent asks the user to approve write_file or edit_file, it
 * shows the exact change: gt_preview computes the unified diff the call
 * would apply without writing anything (the same checks and matching as the
 * real call, so a call that would fail says why instead). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

/* Text of a failure result. */
static char *fail_text(cJSON *r)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
    gt_buf b = {0};
    gb_printf(&b, "would fail: %s\n", cJSON_IsString(e) ? e->valuestring : "unknown error");
    cJSON_Delete(r);
    return gb_take(&b);
}

/* Diff that write_file would apply. */
static char *preview_write(gt_ctx *c, const cJSON *a)
{
    const char *path = ga_str(a, "path"), *content = ga_str(a, "content");
    char res[GT_PATH_MAX], res2[GT_PATH_MAX], why[1024];
    if (gt_check(c, path, SB_ACCESS_WRITE, res, sizeof res, why, sizeof why))
        return fail_text(gt_fail(c, "write_file: %s", why));
    char *cur = NULL;
    size_t cur_len = 0;
    bool exists = false;
    struct stat st;
    if (lstat(res, &st) == 0) {
        int fd = gt_open_read(c, res, res2, sizeof res2, &st, why, sizeof why);
        if (fd < 0) return fail_text(gt_fail(c, "write_file: %s", why));
        int r = gt_read_fd(fd, c->caps.file_max_bytes, &cur, &cur_len, why, sizeof why);
        close(fd);
        if (r) return fail_text(gt_fail(c, "write_file: %s: %s", path, why));
        exists = true;
    }
    gt_buf b = {0};
    char la[GT_PATH_MAX + 4], lb[GT_PATH_MAX + 4];
    snprintf(la, sizeof la, exists ? "a/%s" : "/dev/null", gt_display(c, res));
    snprintf(lb, sizeof lb, "b/%s", gt_display(c, res));
    if (exists && gt_looks_binary(cur, cur_len)) gb_printf(&b, "replaces the binary file %s\n", gt_display(c, res));
    else gt_udiff(&b, cur ? cur : "", cur_len, content, strlen(content), la, lb, 3);
    if (!b.len && !b.oom) gb_printf(&b, exists ? "no change to %s\n" : "creates the empty file %s\n", gt_display(c, res));
    free(cur);
    char *t = gb_take(&b);
    char *safe = t ? gt_utf8_dup(t, strlen(t), NULL) : NULL;
    free(t);
    return safe;
}

/* Preview of a call (see tools.h). */
char *gt_preview(gt_ctx *c, const char *name, const cJSON *args)
{
    cJSON *bad = gt_check_args(c, name, args);
    if (bad) return fail_text(bad);
    cJSON *empty = NULL;
    if (!args) {
        if (!(empty = cJSON_CreateObject())) return NULL;
        args = empty;
    }
    char *out = NULL;
    if (!strcmp(name, "edit_file")) {
        gt_edit_prep p;
        cJSON *r = gt_edit_prepare(c, args, &p);
        if (r) out = fail_text(r);
        else {
            out = gt_edit_diff(c, &p);
            gt_edit_prep_free(&p);
        }
    } else if (!strcmp(name, "write_file")) {
        out = preview_write(c, args);
    } else if (!strcmp(name, "shell")) {
        gt_buf b = {0};
        const char *wd = ga_str(args, "workdir");
        gb_printf(&b, "$ %s\n", ga_str(args, "command"));
        if (wd && *wd) gb_printf(&b, "(in %s)\n", wd);
        out = gb_take(&b);
    } else {
        gt_buf b = {0};
        gb_printf(&b, "%s changes nothing\n", name);
        out = gb_take(&b);
    }
    cJSON_Delete(empty);
    return out;
}
