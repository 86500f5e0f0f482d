/* commands.h: the gemmash subcommands, one function each.
 *
 * main.c dispatches on the first argument; each command parses its own
 * options (getopt_long) and returns the process exit status documented in
 * README.md.  A command lives in the file of the library it mostly drives. */
#ifndef GEMMASH_COMMANDS_H
#define GEMMASH_COMMANDS_H

/* Exit codes (README.md, "Exit codes"). */
enum {
    GM_EXIT_OK = 0,
    GM_EXIT_INTERNAL = 1,
    GM_EXIT_USAGE = 2,
    GM_EXIT_MODEL = 3,
    GM_EXIT_APPROVAL = 4,
    GM_EXIT_LIMIT = 5,
    GM_EXIT_CONTEXT = 6,
    GM_EXIT_SANDBOX = 7,
    GM_EXIT_INTERRUPTED = 130,
};

typedef int (*gm_command_fn)(int argc, char **argv);

/* engine commands (agent/cmd_engine.c) */
int cmd_generate(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* sandbox commands (agent/cmd_sandbox.c) */
int cmd_sandbox(int argc, char **argv);
int cmd_exec(int argc, char **argv);

/* HF checkpoint -> GGUF (agent/cmd_convert.c) */
int cmd_convert(int argc, char **argv);

/* tokenizer commands (agent/cmd_tokenize.c) */
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);

#endif
