/* rules_int.h: the shell-line splitter shared by rules.c and its tests.
 *
 * rules_split.c turns a command line into simple commands (words after
 * quote removal) and finds, for each, where the command starts after each
 * wrapper (sudo, env, timeout, nice, nohup, command, exec) is peeled off. */
#ifndef GEMMASH_RULES_INT_H
#define GEMMASH_RULES_INT_H
#include <stdbool.h>

#define AG_SH_MAX_STAGES 16

typedef struct ag_sh_cmd {
    char **w;                      /* words, quotes removed */
    int    n, cap;
    int    stage[AG_SH_MAX_STAGES]; /* word index where each unwrapping stage starts */
    int    n_stage;                /* stage[n_stage-1] is the innermost command */
} ag_sh_cmd;

typedef struct ag_sh_line {
    ag_sh_cmd *c;
    int        n, cap;
    bool       subst;              /* command substitution or a construct not followed */
} ag_sh_line;

/* Split line into simple commands and unwrap each; 0, or -1 out of memory
 * (out is then freed). */
int  ag_sh_split(const char *line, ag_sh_line *out);
void ag_sh_line_free(ag_sh_line *l);

#endif
