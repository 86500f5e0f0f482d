/* approval.h: may this tool call run without asking the user?
 *
 * The agent asks this before every call.  The verdict follows the approval
 * mode, and for shell commands the prefix rules of ~/.config/gemmash/rules
 * (rules.h: deny over ask over allow, compound commands need every part
 * allowed, command substitution asks).  Headless runs treat AG_ASK as a denial: nobody is there to
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
    /* Prefix rules for shell commands (rules.h; NULL: none).  A matching
     * deny or ask rule wins over the mode; allow rules let a command run
     * without asking even in mode 'ask'. */
    const struct ag_rules *rules;
} ag_approval;

/* Parse "ask", "auto-edit" or "never"; -1 if unknown. */
int ag_approval_parse(const char *s, ag_approval_mode *m);
const char *ag_approval_name(ag_approval_mode m);

/* The verdict for one call; why (may be NULL) says what decided it. */
ag_verdict ag_approval_check(const ag_approval *a, const char *tool, const cJSON *args,
                             char *why, size_t cap);

#endif
