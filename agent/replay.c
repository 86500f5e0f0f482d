/* replay.c: `gemmash replay FILE`: re-run a recorded session.
 *
 * The recorded user messages are sent again at temperature 0 with the
 * recorded seed, tools and system prompt; tool calls are answered with the
 * recorded results instead of running anything.  Each new model message is
 * compared with the recorded one, and the first difference is reported
 * (message index, what was recorded, what came now).  Exit status: 0 when
 * the run matches the record, 1 when it departs, 2 for a bad file.  The
 * command-line entry (ag_replay_main) lives in cli.c with the engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include "agent_int.h"
#include "commands.h"

typedef struct rtools { cJSON *decl; } rtools;

static cJSON *rt_decl(void *ud) { return cJSON_Duplicate(((rtools *)ud)->decl, true); }
static void   rt_close(void *ud) { cJSON_Delete(((rtools *)ud)->decl); free(ud); }

/* What must match between a recorded and a replayed message. */
static cJSON *essence(const cJSON *m)
{
    cJSON *e = cJSON_CreateObject();
    static const char *const keys[] = {"role", "content", "reasoning_content"};
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItem(m, keys[i]);
        if (v) cJSON_AddItemToObject(e, keys[i], cJSON_Duplicate(v, true));
    }
    const cJSON *tc;
    cJSON *calls = NULL;
    cJSON_ArrayForEach(tc, cJSON_GetObjectItem(m, "tool_calls")) {
        if (!calls) calls = cJSON_AddArrayToObject(e, "tool_calls");
        cJSON_AddItemToArray(calls, cJSON_Duplicate(cJSON_GetObjectItem(tc, "function"), true));
    }
    return e;
}

/* Replay a record on a backend and compare message by message. */
int ag_replay_session(const char *path, ag_backend *b, bool json_out, FILE *fout)
{
    char err[2048];
    cJSON *meta = NULL;
    cJSON *rec = ag_session_read(path, &meta, err, sizeof err);
    if (!rec || !meta) {
        fprintf(stderr, "gemmash replay: %s\n", rec ? "the file has no session line" : err);
        cJSON_Delete(rec); cJSON_Delete(meta);
        if (b->close) b->close(b->ud);
        return GM_EXIT_USAGE;
    }
    ag_opts o;
    ag_opts_default(&o);
    o.model = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "model"));
    o.temperature = 0;
    o.seed = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "seed"));
    o.think = cJSON_IsTrue(cJSON_GetObjectItem(meta, "think"));
    o.tool_choice = (ag_tool_choice)cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "tool_choice"));
    o.tool_choice_name = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "tool_choice_name"));
    o.think_budget = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "think_budget"));
    o.max_gen_tokens = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "max_tokens"));
    o.max_arg_bytes = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(meta, "max_arg_bytes"));
    const cJSON *mt = cJSON_GetObjectItem(meta, "max_turns");
    if (cJSON_IsNumber(mt) && mt->valueint > 0) o.max_turns = mt->valueint;
    o.headless = true;
    o.no_session_file = true;
    o.approval = AG_APPROVE_NEVER;
    int rc = GM_EXIT_OK;
    rtools *rt = calloc(1, sizeof *rt);
    rt->decl = cJSON_Duplicate(cJSON_GetObjectItem(meta, "tools"), true);
    if (!rt->decl) rt->decl = cJSON_CreateArray();
    ag_toolbox t = {.ud = rt, .declarations = rt_decl, .close = rt_close};
    ag_session *s = ag_session_new(&o, b, &t, err, sizeof err);
    if (!s) { fprintf(stderr, "gemmash replay: %s\n", err); cJSON_Delete(rec); cJSON_Delete(meta); return GM_EXIT_USAGE; }
    cJSON_ReplaceItemInArray(s->messages, 0, cJSON_Duplicate(cJSON_GetArrayItem(rec, 0), true));
    int n = cJSON_GetArraySize(rec), pos = 1, turns = 0;
    cJSON *report = cJSON_CreateObject();
    bool diverged = false;
    while (pos < n && !diverged) {
        const cJSON *um = cJSON_GetArrayItem(rec, pos);
        int next = pos + 1;
        while (next < n && strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(rec, next), "role")) ?
                                  cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(rec, next), "role")) : "",
                                  "user")) next++;
        cJSON_Delete(s->replay_results);
        s->replay_results = cJSON_CreateArray();
        s->replay_next = 0;
        for (int i = pos + 1; i < next; i++) {
            const cJSON *m = cJSON_GetArrayItem(rec, i);
            if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "role")) ?
                       cJSON_GetStringValue(cJSON_GetObjectItem(m, "role")) : "", "tool")) continue;
            const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(m, "content"));
            cJSON *v = c ? cJSON_Parse(c) : NULL;
            cJSON_AddItemToArray(s->replay_results, v ? v : cJSON_CreateString(c ? c : ""));
        }
        int base = cJSON_GetArraySize(s->messages);
        const char *ut = cJSON_GetStringValue(cJSON_GetObjectItem(um, "content"));
        ag_session_turn(s, ut ? ut : "");
        turns++;
        int got = cJSON_GetArraySize(s->messages) - base;   /* includes the user message */
        for (int i = 0; i < (next - pos) || i < got; i++) {
            const cJSON *a = i < next - pos ? cJSON_GetArrayItem(rec, pos + i) : NULL;
            const cJSON *bm = i < got ? cJSON_GetArrayItem(s->messages, base + i) : NULL;
            cJSON *ea = a ? essence(a) : cJSON_CreateNull(), *eb = bm ? essence(bm) : cJSON_CreateNull();
            if (!cJSON_Compare(ea, eb, true)) {
                diverged = true;
                cJSON_AddNumberToObject(report, "message_index", pos + i);
                cJSON_AddNumberToObject(report, "turn", turns);
                cJSON_AddItemToObject(report, "recorded", ea);
                cJSON_AddItemToObject(report, "replayed", eb);
                break;
            }
            cJSON_Delete(ea); cJSON_Delete(eb);
        }
        pos = next;
    }
    cJSON_AddBoolToObject(report, "diverged", diverged);
    cJSON_AddNumberToObject(report, "turns", turns);
    if (json_out) {
        char *j = cJSON_Print(report);
        if (j) { fprintf(fout, "%s\n", j); free(j); }
    } else if (!diverged) {
        fprintf(fout, "replay: %d turns, no divergence from the record\n", turns);
    } else {
        char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(report, "recorded"));
        char *bb = cJSON_PrintUnformatted(cJSON_GetObjectItem(report, "replayed"));
        fprintf(fout, "replay: departs from the record at message %d (turn %d)\n  recorded: %.600s\n  replayed: %.600s\n",
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(report, "message_index")), turns, a ? a : "", bb ? bb : "");
        free(a); free(bb);
    }
    rc = diverged ? GM_EXIT_INTERNAL : GM_EXIT_OK;
    cJSON_Delete(report);
    cJSON_Delete(rec);
    cJSON_Delete(meta);
    ag_session_free(s);
    return rc;
}

