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
    const char  *endpoint;        /* --endpoint URL: a chat-completions server instead of -m */
    const char  *api_key_env;     /* --api-key-env VAR */
    const char  *remote_model;    /* --remote-model NAME */
    sb_mode      mode;
    bool         allow_network;
    const char **writable; int n_writable;
    bool         help;
    /* cli_setup.c: the config file, the rules file, the system prompt */
    const char  *append_file;     /* --append-system FILE */
    struct ag_config *config;     /* ~/.config/gemmash/config (owns its strings) */
    struct ag_rules  *rules;      /* ~/.config/gemmash/rules */
    char        *system_full;     /* the built system prompt */
} ag_cli;

/* Read ~/.config/gemmash/config into c; ag_cli_parse calls it before the
 * flags so that flags override it.  0, or -1 with "FILE:LINE: ..." (exit 2). */
int  ag_cli_config(ag_cli *c, char *err, size_t cap);
/* After parsing: read the rules file and build the system prompt (the
 * automation prompt when headless), printing warnings (AGENTS.md cut) on
 * stderr.  Sets c->o.rules and c->o.system_full.  0, or -1 with err (exit 2). */
int  ag_cli_prepare(ag_cli *c, bool headless, char *err, size_t cap);
/* Free what ag_cli_config and ag_cli_prepare made (ag_cli_free calls it). */
void ag_cli_release(ag_cli *c);

/* Read argv (argv[0] is the program); 0, or -1 with a usage message. */
int  ag_cli_parse(int argc, char **argv, ag_cli *c, char *err, size_t cap);
void ag_cli_free(ag_cli *c);
/* The agent's options section of `gemmash --help`. */
void ag_cli_usage(FILE *f);

#endif
