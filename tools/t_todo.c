/* t_todo.c: the todo tool, the agent's plan.
 *
 * The model sends the whole list each time; the context keeps it so the
 * agent can pin it (gt_todo_render) after a compaction of the transcript. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools_int.h"

static const char *const STATUSES[] = {"pending", "in_progress", "completed"};

/* Render a list of items as checkboxes. */
static char *render_items(const cJSON *items)
{
    gt_buf b = {0};
    const cJSON *it;
    cJSON_ArrayForEach(it, items) {
        const char *st = cJSON_GetObjectItemCaseSensitive(it, "status")->valuestring;
        const char *ct = cJSON_GetObjectItemCaseSensitive(it, "content")->valuestring;
        const char *box = !strcmp(st, "completed") ? "[x]" : !strcmp(st, "in_progress") ? "[~]" : "[ ]";
        gb_printf(&b, "%s ", box);
        gt_put_utf8(&b, ct, strlen(ct));
        gb_putc(&b, '\n');
    }
    if (!b.len) gb_puts(&b, "(no plan)\n");
    return gb_take(&b);
}

/* todo(items) */
cJSON *gt_tool_todo(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    (void)intr;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(a, "items"), *it;
    int i = 0, counts[3] = {0, 0, 0};
    if (cJSON_GetArraySize(items) > 200) return gt_fail(c, "todo: %d items is too many; keep the plan under 200 steps",
                                                       cJSON_GetArraySize(items));
    cJSON *copy = cJSON_CreateArray();
    if (!copy) return NULL;
    cJSON_ArrayForEach(it, items) {
        i++;
        if (!cJSON_IsObject(it)) {
            cJSON_Delete(copy);
            return gt_fail(c, "todo: item %d must be an object {\"content\": ..., \"status\": ...}", i);
        }
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(it, "content");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
        if (!cJSON_IsString(ct) || !ct->valuestring[0]) {
            cJSON_Delete(copy);
            return gt_fail(c, "todo: item %d needs a non-empty string 'content'", i);
        }
        int k = -1;
        for (int s = 0; s < 3 && cJSON_IsString(st); s++)
            if (!strcmp(st->valuestring, STATUSES[s])) k = s;
        if (k < 0) {
            cJSON_Delete(copy);
            return gt_fail(c, "todo: item %d has status %s%s%s; use pending, in_progress or completed", i,
                           cJSON_IsString(st) ? "'" : "", cJSON_IsString(st) ? st->valuestring : "missing",
                           cJSON_IsString(st) ? "'" : "");
        }
        counts[k]++;
        cJSON *n = cJSON_CreateObject();
        if (!n) { cJSON_Delete(copy); return NULL; }
        cJSON_AddItemToArray(copy, n);
        if (!cJSON_AddStringToObject(n, "content", ct->valuestring) ||
            !cJSON_AddStringToObject(n, "status", STATUSES[k])) {
            cJSON_Delete(copy);
            return NULL;
        }
    }
    char *text = render_items(copy);
    if (!text) { cJSON_Delete(copy); return NULL; }
    cJSON_Delete(c->todo);
    c->todo = copy;
    cJSON *o = gt_okres(c);
    if (!o) { free(text); return NULL; }
    gj_str(c, o, "plan", text);
    free(text);
    gj_num(c, o, "pending", counts[0]);
    gj_num(c, o, "in_progress", counts[1]);
    gj_num(c, o, "completed", counts[2]);
    if (counts[1] > 1) gj_str(c, o, "note", "more than one step is in_progress; keep one step in progress at a time");
    return o;
}

/* The current plan. */
const cJSON *gt_todo_items(const gt_ctx *c) { return c->todo; }

/* The current plan as text. */
char *gt_todo_render(const gt_ctx *c) { return render_items(c->todo); }
