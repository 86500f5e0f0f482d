/* render.c: short human text for a tool call and its result.
 *
 * The terminal shows this instead of the raw JSON the model gets: one
 * header line saying what happened, then a bounded excerpt (command output,
 * a diff, search results).  Plain ASCII markers, no colour: the agent adds
 * colour when it wants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools_int.h"

#define RENDER_LINES 40

/* String field or "". */
static const char *fs(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Number field or dflt. */
static double fn(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Append text keeping its first and last RENDER_LINES/2 lines. */
static void put_excerpt(gt_buf *b, const char *t)
{
    int lines = 0;
    for (const char *p = t; *p; p++) lines += *p == '\n';
    size_t n = strlen(t);
    if (n && t[n - 1] != '\n') lines++;
    if (lines <= RENDER_LINES) {
        gb_puts(b, t);
    } else {
        int head = RENDER_LINES / 2, tail = RENDER_LINES / 2, line = 0;
        const char *p = t;
        while (*p && line < head) { if (*p == '\n') line++; p++; }
        gb_put(b, t, (size_t)(p - t));
        gb_printf(b, "  [... %d lines not shown ...]\n", lines - head - tail);
        const char *q = t + n;
        int seen = 0;
        if (q > t && q[-1] == '\n') q--;
        while (q > t && seen < tail) { q--; if (*q == '\n') seen++; }
        gb_puts(b, *q == '\n' ? q + 1 : q);
    }
    if (b->len && b->p[b->len - 1] != '\n') gb_putc(b, '\n');
}

/* Human text for one call. */
char *gt_render(const char *name, const cJSON *args, const cJSON *r)
{
    gt_buf b = {0};
    if (!name) name = "?";
    bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
    if (!strcmp(name, "shell")) {
        gb_printf(&b, "$ %s\n", fs(args, "command"));
        put_excerpt(&b, fs(r, "output"));
        if (cJSON_GetObjectItemCaseSensitive(r, "exit_code")) {
            gb_printf(&b, "[exit %d, %.2f s", (int)fn(r, "exit_code", -1), fn(r, "duration_s", 0));
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "timed_out"))) gb_puts(&b, ", timed out");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "interrupted"))) gb_puts(&b, ", interrupted");
            if (*fs(r, "full_output_path")) gb_printf(&b, ", full output in %s", fs(r, "full_output_path"));
            gb_puts(&b, "]\n");
            if (*fs(r, "hint")) gb_printf(&b, "sandbox: %s\n", fs(r, "hint"));
        } else {
            gb_printf(&b, "shell failed: %s\n", fs(r, "error"));
        }
        return gb_take(&b);
    }
    if (!ok) {
        gb_printf(&b, "%s failed: %s\n", name, fs(r, "error"));
        return gb_take(&b);
    }
    if (!strcmp(name, "read_file")) {
        gb_printf(&b, "read %s lines %d-%d of %d\n", fs(r, "path"), (int)fn(r, "start_line", 1),
                  (int)fn(r, "end_line", 0), (int)fn(r, "total_lines", 0));
    } else if (!strcmp(name, "write_file")) {
        gb_printf(&b, "%s %s (%d bytes, %d lines)\n",
                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "created")) ? "created" : "wrote", fs(r, "path"),
                  (int)fn(r, "bytes", 0), (int)fn(r, "lines", 0));
    } else if (!strcmp(name, "edit_file")) {
        int n = (int)fn(r, "replacements", 0);
        gb_printf(&b, "edited %s (%d replacement%s)\n", fs(r, "path"), n, n == 1 ? "" : "s");
        put_excerpt(&b, fs(r, "diff"));
    } else if (!strcmp(name, "list_dir")) {
        gb_printf(&b, "list_dir %s\n", fs(r, "path"));
        put_excerpt(&b, fs(r, "content"));
    } else if (!strcmp(name, "glob")) {
        gb_printf(&b, "glob %s: %d matches\n", fs(args, "pattern"), (int)fn(r, "matches", 0));
        put_excerpt(&b, fs(r, "content"));
    } else if (!strcmp(name, "grep")) {
        gb_printf(&b, "grep /%s/: %d matching lines in %d files\n", fs(args, "pattern"), (int)fn(r, "matches", 0),
                  (int)fn(r, "files", 0));
        put_excerpt(&b, fs(r, "content"));
    } else if (!strcmp(name, "fetch_url")) {
        gb_printf(&b, "fetched %s (HTTP %d, %d bytes, %s)\n", fs(r, "url"), (int)fn(r, "status", 0),
                  (int)fn(r, "bytes", 0), *fs(r, "content_type") ? fs(r, "content_type") : "no type");
    } else if (!strcmp(name, "todo")) {
        gb_puts(&b, "plan:\n");
        put_excerpt(&b, fs(r, "plan"));
    } else {
        gb_printf(&b, "%s done\n", name);
    }
    if (*fs(r, "note")) gb_printf(&b, "note: %s\n", fs(r, "note"));
    return gb_take(&b);
}
