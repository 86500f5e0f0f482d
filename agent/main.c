/* main.c: the gemmash binary.  Dispatches to a subcommand, or starts the
 * agent (interactive shell, or headless with -p). */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "agent.h"
#include "ag_cli.h"

typedef struct {
    const char   *name;
    gm_command_fn fn;
    const char   *summary;
} command;

static const command commands[] = {
    {"generate",   cmd_generate,   "stream a completion from a model"},
    {"tokenize",   cmd_tokenize,   "print the token ids of a text as a JSON array"},
    {"detokenize", cmd_detokenize, "print the text of token ids"},
    {"render",     cmd_render,     "print the exact prompt for a conversation"},
    {"logits",     cmd_logits,     "write raw logits for a token sequence"},
    {"info",       cmd_info,       "describe a model: layers, parameters, memory"},
    {"pull",       cmd_pull,       "fetch a model into the store (aliases: e2b, e4b, 26b, 31b ...)"},
    {"models",     cmd_models,     "list the models in the store"},
    {"convert",    cmd_convert,    "write a checkpoint as a GGUF file (bf16, q8_0, q4_0, q4_k_m, q3_k_m, iq4_xs ...)"},
    {"exec",       cmd_exec,       "run a command inside the sandbox"},
    {"sandbox",    cmd_sandbox,    "sandbox doctor: what the kernel offers and what is enforced"},
    {"replay",     ag_replay_main, "re-run a recorded session at temperature 0 and report divergence"},
};

/* The top-level manual: what gemmash is, its commands, where it keeps things. */
static void usage(FILE *f)
{
    fputs("NAME\n"
          "    gemmash - a terminal agent running Gemma 4 on its own engine\n\n"
          "SYNOPSIS\n"
          "    gemmash [OPTIONS]                 interactive shell in this folder\n"
          "    gemmash -p TASK [OPTIONS]         headless run for scripts\n"
          "    gemmash COMMAND [ARGS]            one of the commands below\n\n"
          "COMMANDS\n", f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "    %-12s %s\n", commands[i].name, commands[i].summary);
    fputs("\n    Run 'gemmash COMMAND --help' for a command's options.\n\n", f);
    ag_cli_usage(f);
    fputs("    ~/.cache/gemmash/models/   downloaded models ($GEMMASH_HOME/models)\n"
          "    ~/.local/state/gemmash/sessions/ID.jsonl\n"
          "                               saved sessions\n\n"
          "ENVIRONMENT\n"
          "    GEMMASH_MODEL              the model when -m is not given\n"
          "    GEMMASH_HOME               where models are stored (default ~/.cache/gemmash)\n"
          "    GEMMASH_SPEC               off | lookup | mtp | auto: speculative decoding\n"
          "    GEMMASH_ISA                scalar | avx2 | avx512: the widest matrix kernels\n"
          "                               to use (default: the best this CPU runs)\n"
          "    HF_TOKEN, HF_ENDPOINT      Hugging Face token (gated models) and mirror\n"
          "    NO_COLOR                   plain output even on a terminal\n"
          "    XDG_CONFIG_HOME, XDG_STATE_HOME\n"
          "                               move ~/.config and ~/.local/state\n\n"
          "EXIT STATUS\n"
          "    0 done, 1 internal error, 2 usage error, 3 model or engine error,\n"
          "    4 approval needed, 5 turn or time limit, 6 context exhausted,\n"
          "    7 sandbox unavailable, 130 interrupted.\n", f);
}

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[1], commands[i].name) == 0)
                return commands[i].fn(argc - 1, argv + 1);
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
            strcmp(argv[1], "help") == 0) {
            usage(stdout);
            return GM_EXIT_OK;
        }
        if (argv[1][0] != '-') {
            fprintf(stderr, "gemmash: unknown command '%s' (a task goes after -p, in quotes; "
                    "see gemmash --help)\n", argv[1]);
            return GM_EXIT_USAGE;
        }
    }
    /* no command: the agent (headless with -p or a piped task, else the shell) */
    return ag_main(argc, argv);
}
