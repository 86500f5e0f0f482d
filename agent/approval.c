/* approval.c: the approval mode as a verdict per tool call (approval.h). */
#include <stdio.h>
#include <string.h>
#include "approval.h"
#include "rules.h"

static const char *const mode_names[] = {"ask", "auto-edit", "never"};

/* Read --approval. */
int ag_approval_parse(const char *s, ag_approval_mode *m)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, mode_names[i]) == 0) { *m = (ag_approval_mode)i; return 0; }
    return -1;
}

/* The name of a mode, for events and messages. */
const char *ag_approval_name(ag_approval_mode m)
{
    return (unsigned)m < 3 ? mode_names[m] : "unknown";
}

/* File tools are edits; auto-edit lets them through but not the rest. */
static bool is_edit_tool(const char *tool)
{
    static const char *const edits[] = {"write_file", "edit_file", "apply_patch", "todo"};
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++)
        if (strcmp(tool, edits[i]) == 0) return true;
    return false;
}

/* The mode decides today; rules files will refine this later. */
ag_verdict ag_approval_check(const ag_approval *a, const char *tool, const cJSON *args,
                             char *why, size_t cap)
{
    char dummy[4];
    if (!why || !cap) { why = dummy; cap = sizeof dummy; }
    if (a->rules && !strcmp(tool, "shell")) {        /* rules first: they are the user's explicit word */
        const char *cmd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(args, "command"));
        ag_rule_verdict rv = ag_rules_check(a->rules, cmd ? cmd : "", why, cap);
        if (rv == AG_RULE_DENY) return AG_DENY;
        if (rv == AG_RULE_ASK) return AG_ASK;
        if (rv == AG_RULE_ALLOW) return AG_ALLOW;
    }
    bool mutating = !a->is_mutating || a->is_mutating(a->ud, tool);
    if (!mutating) {
        snprintf(why, cap, "'%s' only reads", tool);
        return AG_ALLOW;
    }
    switch (a->mode) {
    case AG_APPROVE_NEVER:
        snprintf(why, cap, "approval mode 'never': '%s' runs inside the sandbox without asking", tool);
        return AG_ALLOW;
    case AG_APPROVE_AUTO_EDIT:
        if (is_edit_tool(tool)) {
            snprintf(why, cap, "approval mode 'auto-edit': file edits run without asking");
            return AG_ALLOW;
        }
        snprintf(why, cap, "approval mode 'auto-edit': '%s' needs approval (use --approval never to allow it)", tool);
        return AG_ASK;
    default:
        snprintf(why, cap, "approval mode 'ask': '%s' changes files or runs commands and needs approval "
                 "(use --approval auto-edit or never to allow it)", tool);
        return AG_ASK;
    }
}
