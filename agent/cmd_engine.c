/* cmd_engine.c: the engine's own commands (generate, render, logits, info;
 * tokenize and detokenize live in cmd_tokenize.c).  Being rewritten with the engine core. */
#include <stdio.h>
#include "commands.h"

static int todo(const char *name)
{
    fprintf(stderr, "gemmash %s: this build has no engine yet\n", name);
    return GM_EXIT_INTERNAL;
}
int cmd_generate(int argc, char **argv)   { (void)argc; (void)argv; return todo("generate"); }
int cmd_render(int argc, char **argv)     { (void)argc; (void)argv; return todo("render"); }
int cmd_logits(int argc, char **argv)     { (void)argc; (void)argv; return todo("logits"); }
int cmd_info(int argc, char **argv)       { (void)argc; (void)argv; return todo("info"); }
