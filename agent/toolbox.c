/* toolbox.c: the tools library (tools.h) as the agent's ag_toolbox.
 *
 * The agent talks to tools through ag_toolbox so that its loop can be
 * tested with fakes; this adapter is the real thing: gt_declarations for
 * the declarations, gt_call inside the sandbox policy, gt_is_mutating for
 * approval.  It owns the policy and the tools context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "tools.h"

typedef struct tb {
    sb_policy *pol;
    gt_ctx    *gt;
    volatile sig_atomic_t *interrupt;
    char      *only_buf;          /* --tools: the names, split in place */
    const char *only[32];
    int        n_only;
} tb;

/* Declarations of the tools (all, or those of --tools). */
static cJSON *tb_decl(void *ud)
{
    tb *t = ud;
    return gt_declarations(t->gt, t->n_only ? t->only : NULL, t->n_only);
}

/* Run a call; the tools report failure as ok:false. */
static cJSON *tb_call(void *ud, const char *name, const cJSON *args, bool *failed, bool *fence)
{
    tb *t = ud;
    *fence = false;
    cJSON *r = gt_call(t->gt, name, args, t->interrupt);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(r, "ok");
    *failed = !cJSON_IsTrue(ok);
    /* the shell tool marks a sandbox that could not be applied */
    *fence = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "fence_error"));
    return r;
}

/* Mutating tools need approval in ask and auto-edit modes. */
static bool tb_mut(void *ud, const char *name)
{
    (void)ud;
    return gt_is_mutating(name);
}

/* Free the tools context and its policy. */
static void tb_close(void *ud)
{
    tb *t = ud;
    gt_free(t->gt);
    sb_policy_free(t->pol);
    free(t->pol);
    free(t->only_buf);
    free(t);
}

/* The real tools, under the sandbox policy. */
int ag_toolbox_open(ag_toolbox *out, sb_policy *pol, const char *output_dir, const char *only,
                    volatile sig_atomic_t *interrupt, char *err, size_t cap)
{
    tb *t = calloc(1, sizeof *t);
    if (!t) { snprintf(err, cap, "out of memory"); return -1; }
    if (only && *only) {                 /* "a,b,c": declare only these */
        if (!(t->only_buf = strdup(only))) { free(t); snprintf(err, cap, "out of memory"); return -1; }
        for (char *save = NULL, *w = strtok_r(t->only_buf, ",", &save); w && t->n_only < 32;
             w = strtok_r(NULL, ",", &save))
            t->only[t->n_only++] = w;
    }
    t->pol = pol;
    t->interrupt = interrupt;
    t->gt = gt_new(pol, output_dir, err, cap);
    if (!t->gt) { free(t->only_buf); free(t); return -1; }
    for (int i = 0; i < t->n_only; i++)
        if (!gt_schema(t->gt, t->only[i])) {
            snprintf(err, cap, "--tools: there is no tool named '%s'", t->only[i]);
            gt_free(t->gt); free(t->only_buf); free(t);
            return -1;
        }
    memset(out, 0, sizeof *out);
    out->ud = t;
    out->declarations = tb_decl;
    out->call = tb_call;
    out->is_mutating = tb_mut;
    out->close = tb_close;
    out->gt = t->gt;
    out->policy = t->pol;
    return 0;
}
