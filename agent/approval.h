/* approval.h: may this tool call run without asking the user?
 *
 * The agent asks this before every call.  Today the verdict follows the
 * approval mode alone; rule files (~/.config/gemmash/rules: per-tool prefix
 * and regex rules, strictest wins) extend ag_approval_check without changing
 * its callers.  Headless runs treat AG_ASK as a denial: nobody is there to
 * answer. */
#ifndef GEMMASH_APPROVAL_H
#define GEMMASH_APPROVAL_H
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

typedef enum { AG_ALLOW, AG_ASK, AG_DENY } ag_verdict;

typedef enum {
    AG_APPROVE_ASK = 0,    /* ask before anything that changes files or runs commands */
    AG_APPROVE_AUTO_EDIT,  /* file edits run; shell commands and other mutating tools ask */
    AG_APPROVE_NEVER,      /* never ask: everything the sandbox permits runs */
} ag_approval_mode;

typedef struct ag_approval {
    ag_approval_mode mode;
    /* Is this tool mutating (changes files, runs commands)?  NULL: every
     * tool counts as mutating.  ud is passed back. */
    bool (*is_mutating)(void *ud, const char *tool);
    void *ud;
} ag_approval;

/* Parse "ask", "auto-edit" or "never"; -1 if unknown. */
int ag_approval_parse(const char *s, ag_approval_mode *m);
const char *ag_approval_name(ag_approval_mode m);

/* The verdict for one call; why (may be NULL) says what decided it. */
ag_verdict ag_approval_check(const ag_approval *a, const char *tool, const cJSON *args,
                             char *why, size_t cap);

#endif
