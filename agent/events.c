/* events.c: the headless event stream.
 *
 * With --output jsonl every step of a run is one JSON object per line on
 * stdout (init, thinking, message, tool_call, tool_result, denial,
 * compaction, error, result), so scripts can follow a run without parsing
 * prose.  Nothing else ever goes to stdout in that mode; logs go to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "agent_int.h"

/* Monotonic seconds, for durations and --timeout. */
double ag_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One event line: type and session id first, then the fields (taken over). */
void ag_event(ag_session *s, const char *type, cJSON *fields)
{
    if (s->o.output != AG_OUT_FMT_JSONL) { cJSON_Delete(fields); return; }
    cJSON *e = cJSON_CreateObject();
    if (!e) { cJSON_Delete(fields); return; }
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddStringToObject(e, "session_id", s->id);
    cJSON *f = fields ? fields->child : NULL;
    while (f) {                       /* move the fields over, in order */
        cJSON *next = f->next;
        cJSON_AddItemToObject(e, f->string, cJSON_DetachItemViaPointer(fields, f));
        f = next;
    }
    cJSON_Delete(fields);
    char *line = cJSON_PrintUnformatted(e);
    cJSON_Delete(e);
    if (!line) return;
    fputs(line, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    free(line);
}
