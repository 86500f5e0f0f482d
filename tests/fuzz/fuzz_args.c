/* fuzz_args.c: gt_call and gt_preview on arbitrary JSON arguments (libFuzzer).
 *
 * The first byte picks a tool, the rest is parsed as the arguments.  Tools
 * that run commands or reach the network (shell, fetch_url) only get their
 * arguments checked; the others run for real in a private temporary
 * workspace.  Every call must return a result object with a boolean "ok".
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address -D_GNU_SOURCE -Iengine -Isandbox -Itools -Iagent \
 *        tests/fuzz/fuzz_args.c tools/ *.c sandbox/ *.c -lcjson -lcurl -lseccomp   (no spaces before *.c) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz_state {
    sb_policy pol;
    gt_ctx   *ctx;
} fz_state;

/* One context for the whole run (libFuzzer calls us in one process). */
static fz_state *state(void)
{
    static fz_state s;
    static int ready;
    if (ready) return &s;
    char tmpl[] = "/tmp/gt-fuzz-XXXXXX", err[512], out[64];
    if (!mkdtemp(tmpl) || sb_policy_init(&s.pol, tmpl, err, sizeof err)) abort();
    snprintf(out, sizeof out, "%s/.out", tmpl);
    s.ctx = gt_new(&s.pol, out, err, sizeof err);
    if (!s.ctx) abort();
    ready = 1;
    return &s;
}

/* One fuzz case. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tools[] = {"read_file", "write_file", "edit_file", "list_dir", "glob",
                                        "grep", "todo", "shell", "fetch_url", "bogus"};
    if (size < 1) return 0;
    fz_state *s = state();
    const char *tool = tools[data[0] % 10];
    char *text = malloc(size);
    if (!text) abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    cJSON *args = cJSON_Parse(text);
    free(text);
    char *pv = gt_preview(s->ctx, tool, args);
    free(pv);
    /* Searches outside the workspace would walk the whole disk: keep them in. */
    const cJSON *pa = cJSON_GetObjectItemCaseSensitive(args, "path"), *pt = cJSON_GetObjectItemCaseSensitive(args, "pattern");
    bool wide = (cJSON_IsString(pa) && (pa->valuestring[0] == '/' || strstr(pa->valuestring, ".."))) ||
                (cJSON_IsString(pt) && (pt->valuestring[0] == '/' || strstr(pt->valuestring, "..")));
    bool search = !strcmp(tool, "list_dir") || !strcmp(tool, "glob") || !strcmp(tool, "grep");
    if (strcmp(tool, "shell") && strcmp(tool, "fetch_url") && !(search && wide)) {
        cJSON *r = gt_call(s->ctx, tool, args, NULL);
        if (!r || !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(r, "ok"))) abort();
        char *t = gt_render(tool, args, r);
        if (!t) abort();
        free(t);
        cJSON_Delete(r);
    }
    cJSON_Delete(args);
    return 0;
}
