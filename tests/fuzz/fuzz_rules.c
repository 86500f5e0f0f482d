/* fuzz_rules.c: the approval rules on arbitrary input: the bytes as a shell
 * command line (split, unwrap, verdict, session prefix) and as a rules file.
 * Any crash, leak or sanitizer report is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    ag_rules *r = ag_rules_new();
    char err[512], why[512], pre[256];
    if (r) {
        ag_rules_parse(r, "allow ls\nallow git status\nask sudo\ndeny rm -rf\n", "rules", err, sizeof err);
        ag_rules_check(r, s, why, sizeof why);
        ag_rules_add(r, AG_RULE_ALLOW, s, err, sizeof err);
        ag_rules_free(r);
    }
    int subst;
    free(ag_rules_explain(s, &subst));
    ag_rules_session_prefix(s, pre, sizeof pre);
    ag_rules *f = ag_rules_new();
    if (f) {
        ag_rules_parse(f, s, "fuzz", err, sizeof err);
        ag_rules_check(f, "git push --force && rm -rf / ; echo $(id)", why, sizeof why);
        ag_rules_free(f);
    }
    free(s);
    return 0;
}
