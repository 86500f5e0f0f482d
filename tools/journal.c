/* journal.c: the change journal (undo, /diff) and the read records.
 *
 * Every file change the tools make adds an entry holding the file's
 * pre-image (or "did not exist" plus the folders created for it).  gt_undo
 * pops the last entry and puts the pre-image back; gt_diff compares each
 * changed file's first pre-image with what is on disk now.  Read records
 * remember what the model last saw of a file so edit_file can notice a file
 * that changed behind its back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

/* Remember (or refresh) what the model saw of a file. */
void gt_seen_set(gt_ctx *c, const char *resolved, const struct stat *st, uint64_t hash)
{
    gt_seen *s = (gt_seen *)gt_seen_get(c, resolved);
    if (!s) {
        if (c->n_seen == c->cap_seen) {
            int nc = c->cap_seen ? c->cap_seen * 2 : 16;
            gt_seen *ns = realloc(c->seen, sizeof *ns * (size_t)nc);
            if (!ns) return;   /* only loses a warning, never correctness of a write */
            c->seen = ns;
            c->cap_seen = nc;
        }
        char *p = strdup(resolved);
        if (!p) return;
        s = &c->seen[c->n_seen++];
        s->path = p;
    }
    s->mtime = st->st_mtim;
    s->size = st->st_size;
    s->hash = hash;
}

/* Read record of a file, or NULL. */
const gt_seen *gt_seen_get(const gt_ctx *c, const char *resolved)
{
    for (int i = 0; i < c->n_seen; i++)
        if (!strcmp(c->seen[i].path, resolved)) return &c->seen[i];
    return NULL;
}

/* Release one journal entry. */
static void jentry_free(gt_jentry *e)
{
    free(e->path);
    free(e->pre);
    free(e->tool);
    for (int i = 0; i < e->n_dirs; i++) free(e->dirs[i]);
    free(e->dirs);
    memset(e, 0, sizeof *e);
}

/* Drop the oldest entries until the pre-images fit the cap. */
static void journal_trim(gt_ctx *c)
{
    int drop = 0;
    while (drop < c->n_jr - 1 && c->jr_bytes > c->caps.journal_max_bytes) {
        c->jr_bytes -= c->jr[drop].pre_len;
        jentry_free(&c->jr[drop]);
        drop++;
    }
    if (drop) {
        memmove(c->jr, c->jr + drop, sizeof *c->jr * (size_t)(c->n_jr - drop));
        c->n_jr -= drop;
    }
}

/* Append an entry; takes ownership of pre and dirs (freed on failure too). */
int gt_journal_add(gt_ctx *c, const char *resolved, bool existed, char *pre, size_t pre_len, mode_t mode,
                   char **dirs, int n_dirs, uint64_t post_hash, size_t post_len, const char *tool)
{
    gt_jentry e = {.existed = existed, .pre = pre, .pre_len = pre_len, .mode = mode, .dirs = dirs,
                   .n_dirs = n_dirs, .post_hash = post_hash, .post_len = post_len};
    e.path = strdup(resolved);
    e.tool = strdup(tool ? tool : "?");
    if (!e.path || !e.tool) goto oom;
    if (c->n_jr == c->cap_jr) {
        int nc = c->cap_jr ? c->cap_jr * 2 : 16;
        gt_jentry *nj = realloc(c->jr, sizeof *nj * (size_t)nc);
        if (!nj) goto oom;
        c->jr = nj;
        c->cap_jr = nc;
    }
    c->jr[c->n_jr++] = e;
    c->jr_bytes += pre_len;
    journal_trim(c);
    return 0;
oom:
    jentry_free(&e);
    return -1;
}

/* How many changes can be undone. */
int gt_journal_count(const gt_ctx *c) { return c ? c->n_jr : 0; }

/* Current content of a file (for undo and diff); *exists false if missing. */
static int read_current(const gt_ctx *c, const char *path, bool *exists, char **data, size_t *len)
{
    char why[512], res[GT_PATH_MAX];
    struct stat st;
    *data = NULL;
    *len = 0;
    *exists = false;
    if (lstat(path, &st) && errno == ENOENT) return 0;
    int fd = gt_open_read(c, path, res, sizeof res, &st, why, sizeof why);
    if (fd < 0) return -1;
    int r = gt_read_fd(fd, c->caps.file_max_bytes, data, len, why, sizeof why);
    close(fd);
    if (r == 0) *exists = true;
    return r;
}

/* Undo the last change. */
int gt_undo(gt_ctx *c, char *msg, size_t msglen)
{
    if (!c->n_jr) { snprintf(msg, msglen, "nothing to undo: no file change is journaled"); return -1; }
    gt_jentry *e = &c->jr[c->n_jr - 1];
    const char *shown = gt_display(c, e->path);
    char why[1024], res[GT_PATH_MAX];
    bool exists;
    char *cur;
    size_t cur_len;
    bool changed = false;
    if (read_current(c, e->path, &exists, &cur, &cur_len) == 0)
        changed = !exists || cur_len != e->post_len || gt_hash(cur, cur_len) != e->post_hash;
    free(cur);
    why[0] = 0;
    if (sb_check_path(c->pol, e->path, SB_ACCESS_WRITE, res, sizeof res, why, sizeof why)) {
        snprintf(msg, msglen, "cannot undo the change to %s: %s", shown, why[0] ? why : "the policy forbids writing it");
        return -1;
    }
    if (e->existed) {
        if (gt_write_file(c, e->path, e->pre, e->pre_len, NULL, "undo", false, NULL, why, sizeof why)) {
            snprintf(msg, msglen, "cannot undo the change to %s: %s", shown, why);
            return -1;
        }
        /* gt_write_file kept the current mode; put back the journaled one. */
        bool mode_ok = false;
        int fd = open(e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            mode_ok = fchmod(fd, e->mode) == 0;
            close(fd);
        }
        snprintf(msg, msglen, "restored %s as it was before %s (%zu bytes)%s%s", shown, e->tool, e->pre_len,
                 changed ? "; it had changed since that change, and those later changes are gone too" : "",
                 mode_ok ? "" : "; its mode could not be restored");
    } else {
        if (gt_remove_file(e->path, why, sizeof why)) {
            snprintf(msg, msglen, "cannot undo the change to %s: %s", shown, why);
            return -1;
        }
        for (int i = e->n_dirs - 1; i >= 0; i--) rmdir(e->dirs[i]);   /* only empty ones go */
        snprintf(msg, msglen, "removed %s, which %s had created%s", shown, e->tool,
                 changed ? " (it had changed since)" : "");
    }
    c->jr_bytes -= e->pre_len;
    jentry_free(e);
    c->n_jr--;
    return 0;
}

/* Unified diff of every changed file, session start -> now. */
char *gt_diff(gt_ctx *c)
{
    gt_buf out = {0};
    for (int i = 0; i < c->n_jr; i++) {
        bool first = true;
        for (int j = 0; j < i; j++)
            if (!strcmp(c->jr[j].path, c->jr[i].path)) { first = false; break; }
        if (!first) continue;
        const gt_jentry *e = &c->jr[i];
        bool exists;
        char *cur;
        size_t cur_len;
        const char *shown = gt_display(c, e->path);
        if (read_current(c, e->path, &exists, &cur, &cur_len)) {
            gb_printf(&out, "# %s: cannot read its current content\n", shown);
            continue;
        }
        if (exists == e->existed && cur_len == e->pre_len && (!cur_len || !memcmp(cur, e->pre, cur_len))) {
            free(cur);
            continue;
        }
        char la[GT_PATH_MAX + 8], lb[GT_PATH_MAX + 8];
        snprintf(la, sizeof la, e->existed ? "a/%s" : "/dev/null", shown);
        snprintf(lb, sizeof lb, exists ? "b/%s" : "/dev/null", shown);
        size_t before = out.len;
        gt_udiff(&out, e->existed ? e->pre : "", e->existed ? e->pre_len : 0, cur ? cur : "", cur_len, la, lb, 3);
        if (out.len == before) /* same text, the file only appeared or vanished empty */
            gb_printf(&out, "--- %s\n+++ %s\n", la, lb);
        free(cur);
    }
    return gb_take(&out);
}
