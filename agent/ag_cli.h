/* ag_cli.h: the agent's command line (cli_args.c reads it, cli.c runs it). */
#ifndef GEMMASH_AG_CLI_H
#define GEMMASH_AG_CLI_H
#include <stdio.h>
#include "agent.h"
#include "sandbox.h"

typedef struct ag_cli {
    ag_opts      o;
    const char  *prompt;          /* -p */
    const char  *schema_file;     /* --output-schema */
    const char  *system_file;     /* --system-prompt-file */
    const char  *resume;          /* --resume ID|last, --continue */
    const char  *tools;           /* --tools a,b: declare only these */
    sb_mode      mode;
    bool         allow_network;
    const char **writable; int n_writable;
    bool         help;
} ag_cli;

/* Read argv (argv[0] is the program); 0, or -1 with a usage message. */
int  ag_cli_parse(int argc, char **argv, ag_cli *c, char *err, size_t cap);
void ag_cli_free(ag_cli *c);
/* The agent's options section of `gemmash --help`. */
void ag_cli_usage(FILE *f);

#endif
