/* prompt.h: the system prompt: a built-in prompt (the .md files of prompts/, embedded
 * at build time) or the user's, the user's additions, and the AGENTS.md
 * instruction files.
 *
 * AGENTS.md files are read from the config folder (~/.config/gemmash, or
 * $XDG_CONFIG_HOME/gemmash) and from every folder between the repository
 * root (the nearest enclosing folder with a .git) and the working folder,
 * root first and the working folder last, so the closest instructions come
 * last.  Together they get 32 KiB: the file that passes the budget is cut
 * (at a UTF-8 boundary) and later ones are left out, with a warning that
 * names them, for the caller to show. */
#ifndef GEMMASH_PROMPT_H
#define GEMMASH_PROMPT_H
#include <stdbool.h>
#include <stddef.h>

typedef struct ag_embedded_prompt { const char *name, *text; } ag_embedded_prompt;
/* The .md files of prompts/ ("coding", "automation"), ended by {0, 0}. */
extern const ag_embedded_prompt ag_embedded_prompts[];
/* The text of a built-in prompt, or NULL. */
const char *ag_prompt_builtin(const char *name);

#define AG_AGENTS_BUDGET 32768

typedef struct ag_prompt_opts {
    const char *builtin;        /* built-in prompt name; NULL: "coding" */
    const char *system_text;    /* replaces the built-in prompt (--system-file); NULL: built-in */
    const char *append_text;    /* added after it (--append-system); NULL: nothing */
    const char *cwd;            /* working folder; NULL: getcwd() */
    const char *config_dir;     /* folder of the global AGENTS.md; NULL: ag_config_dir() */
    size_t      agents_budget;  /* bytes of AGENTS.md text; 0: AG_AGENTS_BUDGET */
    bool        no_agents;      /* do not read AGENTS.md files */
} ag_prompt_opts;

/* The whole system prompt (malloc'd), or NULL when out of memory or the
 * built-in name is unknown (warn says which).  warn gets "" or a warning
 * for the user (AGENTS.md cut or left out, unreadable files). */
char *ag_build_system_prompt(const ag_prompt_opts *o, char *warn, size_t cap);

/* The AGENTS.md files that apply to cwd, in order, as absolute paths, one a
 * line (malloc'd; "" when none).  For /status and the tests. */
char *ag_agents_files(const char *cwd, const char *config_dir);

#endif
