/* tools_int.h: what the files of tools/ share and nobody else sees.
 *
 * The context struct, a growable byte buffer, result helpers, the file layer
 * that applies the policy (fsutil.c), the journal (journal.c), the diff
 * (diff.c), the pure matching code of edit_file (edit_core.c), glob and
 * .gitignore matching (ignore.c) and HTML reduction (html.c). */
#ifndef GEMMASH_TOOLS_INT_H
#define GEMMASH_TOOLS_INT_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "tools.h"

#define GT_PATH_MAX 4096

/* ---- growable buffer (util.c) ---- */
typedef struct gt_buf {
    char  *p;
    size_t len, cap;
    bool   oom;          /* an append failed; the content is incomplete */
} gt_buf;
void  gb_put(gt_buf *b, const void *data, size_t n);
void  gb_puts(gt_buf *b, const char *s);
void  gb_putc(gt_buf *b, char c);
void  gb_printf(gt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *gb_take(gt_buf *b);          /* NUL-terminated string (caller frees), NULL on oom */
void  gb_free(gt_buf *b);

/* ---- small helpers (util.c) ---- */
uint64_t gt_hash(const void *data, size_t n);
/* True when the bytes look binary: a NUL, or many control bytes, in the first 8 KiB. */
bool gt_looks_binary(const char *data, size_t n);
/* Append data to b as valid UTF-8 (bad sequences become U+FFFD); returns
 * the number of bad sequences replaced. */
size_t gt_put_utf8(gt_buf *b, const char *data, size_t n);
/* Append terminal output without escape sequences and overwritten
 * progress lines, as valid UTF-8. */
void   gt_put_terminal(gt_buf *b, const char *s, size_t n);
/* Copy of data as valid UTF-8 (caller frees); *bad gets the replacement count. */
char *gt_utf8_dup(const char *data, size_t n, size_t *bad);
int   gt_count_lines(const char *data, size_t n);
/* 1-based line number of byte offset off. */
int   gt_line_of(const char *data, size_t off);
/* Human size: "12 B", "3.4 KiB". */
void  gt_human_size(unsigned long long n, char *out, size_t outlen);

/* ---- journal entry and read records ---- */
typedef struct gt_jentry {
    char    *path;          /* canonical */
    bool     existed;
    char    *pre;           /* pre-image (existed) */
    size_t   pre_len;
    mode_t   mode;
    char   **dirs;          /* folders this change created, outermost first */
    int      n_dirs;
    uint64_t post_hash;     /* what the change wrote */
    size_t   post_len;
    char    *tool;          /* which tool made the change */
} gt_jentry;

typedef struct gt_seen {
    char    *path;          /* canonical */
    struct timespec mtime;
    off_t    size;
    uint64_t hash;
} gt_seen;

struct gt_ctx {
    const sb_policy *pol;
    char      outdir[GT_PATH_MAX];
    gt_caps   caps;
    cJSON    *decls;        /* full declarations, built once */
    gt_jentry *jr;  int n_jr, cap_jr;  size_t jr_bytes;
    gt_seen  *seen; int n_seen, cap_seen;
    cJSON    *todo;         /* array of {content,status} */
    unsigned  shell_seq;
    bool      oom;          /* a result field could not be added */
};

/* ---- result helpers (core.c) ---- */
cJSON *gt_fail(gt_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
cJSON *gt_okres(gt_ctx *c);
void   gj_str(gt_ctx *c, cJSON *o, const char *k, const char *v);
void   gj_num(gt_ctx *c, cJSON *o, const char *k, double v);
void   gj_bool(gt_ctx *c, cJSON *o, const char *k, bool v);
/* Take ownership of b's text and add it as a string (oom-checked). */
void   gj_buf(gt_ctx *c, cJSON *o, const char *k, gt_buf *b);
/* Argument getters; the args were validated against the schema already. */
const char *ga_str(const cJSON *args, const char *k);
bool   ga_int(const cJSON *args, const char *k, long *out);
bool   ga_bool(const cJSON *args, const char *k, bool dflt);

/* ---- the file layer (fsutil.c) ---- */
/* Absolute, "."/".."-free form of path (relative ones are taken from the
 * workspace), before symlinks are resolved. */
int  gt_abspath(const gt_ctx *c, const char *path, char *out, size_t outlen, char *why, size_t wl);
/* Path as shown to the model: relative to the workspace when inside it. */
const char *gt_display(const gt_ctx *c, const char *resolved);
/* Policy check: sb_check_path after gt_abspath.  0 or -1 + why. */
int  gt_check(const gt_ctx *c, const char *path, int access, char *resolved, size_t rlen,
              char *why, size_t wl);
/* Open a regular file for reading under the policy, verifying what was
 * opened is what was checked.  fd or -1 + why. */
int  gt_open_read(const gt_ctx *c, const char *path, char *resolved, size_t rlen, struct stat *st,
                  char *why, size_t wl);
/* Read a whole fd (at most max bytes; more is an error).  0 or -1 + why. */
int  gt_read_fd(int fd, size_t max, char **out, size_t *len, char *why, size_t wl);
/* Verify an open fd still is the canonical path (after /proc/self/fd). */
int  gt_fd_is(int fd, const char *resolved, char *why, size_t wl);

/* What a write expects to find on disk (edit_file: the content it edited). */
typedef struct gt_expect {
    bool     exists;
    size_t   len;
    uint64_t hash;
} gt_expect;
/* Replace (or create) a checked file atomically: temporary file in the same
 * folder, fsync, rename, fsync of the folder; keeps the mode of an existing
 * file, creates missing parent folders.  When journal is set the pre-image
 * is journaled under tool.  expect (may be NULL) must match what is on disk
 * right before the rename.  *created tells whether the file is new.
 * 0 or -1 + why. */
int  gt_write_file(gt_ctx *c, const char *resolved, const char *data, size_t len,
                   const gt_expect *expect, const char *tool, bool journal, bool *created,
                   char *why, size_t wl);

/* Remove a file (no symlink followed on the way); missing is fine. */
int  gt_remove_file(const char *resolved, char *why, size_t wl);

/* ---- read records for concurrent-change detection (journal.c) ---- */
void gt_seen_set(gt_ctx *c, const char *resolved, const struct stat *st, uint64_t hash);
const gt_seen *gt_seen_get(const gt_ctx *c, const char *resolved);
/* Add a journal entry (takes ownership of pre and dirs). 0 or -1 (oom). */
int  gt_journal_add(gt_ctx *c, const char *resolved, bool existed, char *pre, size_t pre_len,
                    mode_t mode, char **dirs, int n_dirs, uint64_t post_hash, size_t post_len,
                    const char *tool);

/* ---- unified diff (diff.c) ---- */
/* Append a unified diff of a -> b (context lines of context) to out; nothing
 * when equal.  Labels name the two sides ("a/x.c", "/dev/null"). */
void gt_udiff(gt_buf *out, const char *a, size_t al, const char *b, size_t bl,
              const char *label_a, const char *label_b, int context);

/* ---- edit_file matching (edit_core.c), pure: no I/O ---- */
enum { GT_EDIT_OK, GT_EDIT_EMPTY_OLD, GT_EDIT_NO_CHANGE, GT_EDIT_NOT_FOUND, GT_EDIT_MULTIPLE,
       GT_EDIT_TOO_BIG, GT_EDIT_OOM };
typedef struct gt_edit_out {
    int    status;
    char  *data;            /* new content (GT_EDIT_OK), caller frees */
    size_t len;
    int    count;           /* matches found */
    int    lines[20];       /* 1-based lines of the first matches */
    int    n_lines;
    bool   crlf;            /* the strings were converted to CRLF to match the file */
    bool   eof_nl_fixed;    /* matched at the end of a file without final newline */
} gt_edit_out;
void gt_edit_apply(const char *content, size_t len, const char *old_s, size_t old_len,
                   const char *new_s, size_t new_len, bool replace_all, size_t max_out,
                   gt_edit_out *out);
typedef struct gt_near {
    int    start, end;      /* 1-based inclusive lines of the closest region; 0 when none */
    double score;           /* 0..1 mean line similarity */
    bool   ws_only;         /* the lines match once whitespace is ignored */
    int    first_diff;      /* 0-based line within old_string that differs first, -1 if none */
} gt_near;
void gt_edit_closest(const char *content, size_t len, const char *old_s, size_t old_len,
                     gt_near *out);

/* A checked, matched edit that is not written yet (t_edit.c). */
typedef struct gt_edit_prep {
    char        res[GT_PATH_MAX];
    char       *data;       /* current content */
    size_t      len;
    uint64_t    hash;
    gt_edit_out eo;         /* the edited content */
} gt_edit_prep;
cJSON *gt_edit_prepare(gt_ctx *c, const cJSON *a, gt_edit_prep *p);
char  *gt_edit_diff(gt_ctx *c, const gt_edit_prep *p);
void   gt_edit_prep_free(gt_edit_prep *p);
/* Check args against a tool's schema: NULL when fine, else a failure result (core.c). */
cJSON *gt_check_args(gt_ctx *c, const char *tool, const cJSON *args);

/* ---- glob and .gitignore (ignore.c) ---- */
/* Shell-style match on paths: * and ? stop at '/', ** crosses folders,
 * [...] classes.  True on a match. */
bool gt_glob_match(const char *pat, const char *str);
typedef struct gt_ignore gt_ignore;
/* Rules that apply at dir (canonical): .gitignore files from the repository
 * root (the nearest parent with .git) down to dir, plus .git/info/exclude. */
gt_ignore *gt_ignore_new(const char *dir);
/* Load dir/.gitignore as a deeper level (call when descending); pop when leaving. */
int  gt_ignore_push(gt_ignore *ig, const char *dir);
void gt_ignore_pop(gt_ignore *ig);
bool gt_ignored(const gt_ignore *ig, const char *abspath, bool is_dir);
void gt_ignore_free(gt_ignore *ig);

/* ---- HTML to text (html.c) ---- */
char *gt_html_to_text(const char *html, size_t n, size_t max_out);

/* ---- tool handlers ---- */
cJSON *gt_tool_shell(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_read_file(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_write_file(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_edit_file(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_list_dir(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_glob(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_grep(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_fetch_url(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);
cJSON *gt_tool_todo(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr);

#endif
