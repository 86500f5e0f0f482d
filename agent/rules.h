/* rules.h: allow, ask or deny shell commands by prefix.
 *
 * A rules file (~/.config/gemmash/rules) holds one rule a line:
 *
 *     # comment
 *     allow git status
 *     allow ls
 *     ask   git push
 *     deny  rm -rf
 *
 * A rule matches a command when its words are the command's first words
 * (quotes as in the shell; a rule word without '/' also matches a program
 * given by path, so "deny rm" catches "/bin/rm").  Before matching, the
 * command is split into its simple commands (&&, ||, ;, |, &, newlines,
 * subshells), and each simple command is unwrapped: leading VAR=val
 * assignments, sudo (and its options), env (options and assignments),
 * timeout (options and the duration), nice (-n N), nohup and `command`.
 *
 * Verdicts, strictest wins (deny over ask over allow):
 *   - deny or ask: any rule matching any simple command, at any unwrapping
 *     stage ("ask sudo" still asks for "sudo make install");
 *   - allow: only when every simple command, fully unwrapped, matches an
 *     allow rule (so "allow git status" does not allow "git status; rm x");
 *   - a command substitution ($(...), `...`, <(...), >(...)) or a shell
 *     construct the splitter does not follow (case, function bodies, eval,
 *     env -S) asks: its inner command cannot be judged by prefix;
 *   - otherwise AG_RULE_NONE: no rule applies and the approval mode decides. */
#ifndef GEMMASH_RULES_H
#define GEMMASH_RULES_H
#include <stddef.h>

typedef enum { AG_RULE_NONE = -1, AG_RULE_ALLOW = 0, AG_RULE_ASK = 1, AG_RULE_DENY = 2 } ag_rule_verdict;

typedef struct ag_rules ag_rules;

ag_rules *ag_rules_new(void);
void      ag_rules_free(ag_rules *r);
/* Number of rules held. */
int       ag_rules_count(const ag_rules *r);
/* Add one rule from its words in shell syntax ("git push").  0, or -1 with
 * a message (empty prefix, unbalanced quote, out of memory). */
int       ag_rules_add(ag_rules *r, ag_rule_verdict v, const char *prefix, char *err, size_t cap);
/* Parse a whole rules text; name is shown in messages as "name:LINE: ...".
 * Rules are added to r.  0, or -1 with the first error. */
int       ag_rules_parse(ag_rules *r, const char *text, const char *name, char *err, size_t cap);
/* Read a rules file; a missing file is no error (no rules). */
int       ag_rules_load(ag_rules *r, const char *path, const char *shown, char *err, size_t cap);

/* The verdict for a shell command; why (may be NULL) names the deciding
 * rule or the reason. */
ag_rule_verdict ag_rules_check(const ag_rules *r, const char *command, char *why, size_t cap);

/* The simple commands of a shell command line, each unwrapped, as words
 * joined by single spaces, one per line (malloc'd); *subst is set when the
 * line holds a command substitution or a construct the splitter does not
 * follow.  NULL only when out of memory.  (For tests and the approval
 * prompt's "always" answer.) */
char *ag_rules_explain(const char *command, int *subst);

/* The prefix an "always for this session" answer remembers for one simple
 * command: its program and, when the next word looks like a subcommand
 * (letters, digits, '-', not starting with '-'), that word too.  Writes ""
 * when there is no program. */
void ag_rules_session_prefix(const char *simple, char *out, size_t cap);

#endif
