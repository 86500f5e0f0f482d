/* tools.h: the tools the model may call.
 *
 * tools/ owns the tool set that gemmash offers the model: each tool is a name,
 * a flat JSON Schema for its arguments, a handler that returns a structured
 * cJSON result, and a text rendering for humans.  The tools are
 *
 *   shell(command, workdir?, timeout_s?)            bash -c inside the fence (sb_run)
 *   read_file(path, start_line?, end_line?)         numbered lines, size and line caps
 *   write_file(path, content)                       atomic, keeps the mode, makes parents
 *   edit_file(path, old_string, new_string, replace_all?)
 *                                                   exact match; closest region on a miss
 *   list_dir(path?, depth?)  glob(pattern, path?)  grep(pattern, path?, glob?, context?, ignore_case?)
 *                                                   honour .gitignore, skip .git/ and binaries
 *   fetch_url(url, max_bytes?)                      http(s) only, only when the policy allows network
 *   todo(items)                                     the agent's plan
 *
 * File tools run in this process but apply the fence's policy through
 * sb_check_path, then re-check what they opened (O_NOFOLLOW, fstat,
 * /proc/self/fd), so a path the shell could not write cannot be written by
 * write_file either.  Every file change is journaled (its pre-image, or "did
 * not exist") so gt_undo can take back the last change and gt_diff can show all
 * changes of the session as a unified diff.
 *
 * Results are cJSON objects, always {"ok": true|false, ...}; when ok is false
 * "error" says what happened and what to do.  All state lives in gt_ctx; the
 * library has no global mutable state.  A context is used by one thread at a
 * time (the agent loop); interrupt may be set from a signal handler. */
#ifndef GEMMASH_TOOLS_H
#define GEMMASH_TOOLS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "sandbox.h"

typedef struct gt_ctx gt_ctx;

/* Limits the tools apply; gt_new fills the defaults shown. */
typedef struct gt_caps {
    size_t read_max_bytes;     /* 65536: bytes of numbered text read_file returns */
    int    read_max_lines;     /* 2000: lines read_file returns per call */
    int    line_max_chars;     /* 2000: longer lines are cut (read_file, grep) */
    size_t file_max_bytes;     /* 64 MiB: bigger files are refused by read/edit/grep */
    size_t write_max_bytes;    /* 16 MiB: largest content write_file/edit_file produce */
    size_t shell_max_capture;  /* 32768: shell output kept (head + tail) */
    double shell_timeout_s;    /* 120: default shell timeout */
    double shell_max_timeout_s;/* 1800: largest timeout_s the model may ask for */
    double shell_kill_grace_s; /* 0 (the sandbox's 2 s): wait between SIGINT, SIGTERM and SIGKILL */
    size_t search_max_bytes;   /* 65536: output of list_dir/glob/grep */
    int    search_max_results; /* 1000: entries (list_dir, glob) or matching lines (grep) */
    size_t fetch_max_bytes;    /* 2 MiB: default download cap (max_bytes may lower or raise it) */
    size_t fetch_hard_max;     /* 10 MiB: max_bytes can not go above this */
    size_t fetch_max_text;     /* 100000: text returned after HTML reduction */
    double fetch_timeout_s;    /* 30: whole transfer */
    size_t journal_max_bytes;  /* 256 MiB: pre-images kept for undo (oldest dropped first) */
} gt_caps;

/* Make a tools context.  policy must outlive the context.  output_dir is the
 * session's private folder for spilled shell outputs (created 0700 when
 * missing); it must be readable under the policy (make it a writable root,
 * sb_policy_add_writable) so read_file can read what was spilled.  NULL +
 * err on failure. */
gt_ctx *gt_new(const sb_policy *policy, const char *output_dir, char *err, size_t errlen);
void gt_free(gt_ctx *ctx);

/* Current limits, writable (tests and the agent's config tune them). */
gt_caps *gt_caps_of(gt_ctx *ctx);

/* OpenAI-style function-tool array: [{type:"function",function:{name,
 * description,parameters}}].  only/n_only restrict the set (NULL = all).
 * Caller frees. */
cJSON *gt_declarations(const gt_ctx *ctx, const char *const *only, int n_only);
/* Parameters schema of one tool (owned by ctx), or NULL when unknown. */
const cJSON *gt_schema(const gt_ctx *ctx, const char *name);

/* Run one tool.  Never NULL (except when out of memory); never crashes on
 * malformed args: wrong types, unknown or missing arguments give an ok:false
 * result.  interrupt (may be NULL) is polled by long tools; when it becomes
 * non-zero the tool stops and reports "interrupted".  Caller frees. */
cJSON *gt_call(gt_ctx *ctx, const char *name, const cJSON *args, volatile sig_atomic_t *interrupt);

/* Short human text for a call and its result (terminal display).  Caller frees. */
char *gt_render(const char *name, const cJSON *args, const cJSON *result);

/* What a call would do, without doing it, for the approval prompt: the
 * unified diff of write_file/edit_file, the command of shell, or
 * "would fail: why".  Caller frees; NULL only when out of memory. */
char *gt_preview(gt_ctx *ctx, const char *name, const cJSON *args);

/* True for the tools that change something (approval): shell, write_file, edit_file. */
bool gt_is_mutating(const char *name);

/* Take back the last journaled file change (restore the pre-image, or remove
 * a file the tools created).  0 and msg on success; -1 and msg when there is
 * nothing to undo or the restore failed. */
int gt_undo(gt_ctx *ctx, char *msg, size_t msglen);
/* Number of journaled changes that can be undone. */
int gt_journal_count(const gt_ctx *ctx);
/* Unified diff of every file the tools changed this session, from its first
 * journaled pre-image to what is on disk now ("" when nothing changed).
 * Entries dropped by journal_max_bytes no longer count.  Changes made by
 * shell commands are not journaled (only their effect on files the tools
 * also changed shows up).  Caller frees. */
char *gt_diff(gt_ctx *ctx);

/* The current plan (owned by ctx; an array, maybe empty) and its rendering
 * (caller frees), for the agent to pin after compaction. */
const cJSON *gt_todo_items(const gt_ctx *ctx);
char *gt_todo_render(const gt_ctx *ctx);

#endif
