/* config.h: the user's settings file, ~/.config/gemmash/config.
 *
 * One setting a line, "key = value"; '#' starts a comment (a whole line, or
 * after a space).  XDG_CONFIG_HOME is honoured.  Flags on the command line
 * override the file.  An unknown key or a bad value is an error naming the
 * file and the line ("~/.config/gemmash/config:7: unknown key 'thinkk' (did
 * you mean 'think'?)"), and gemmash exits with status 2.
 *
 * Keys: model, threads, ctx, kv_type (f16|f32), seed, temperature, max_tokens, think (true|
 * false), think_budget, approval (ask|auto-edit|never), sandbox (read-only|
 * workspace-write|full), writable (a folder; repeatable), network (true|
 * false), max_turns, timeout, compact_at, tools (a,b,...), system_file,
 * append_system_file, history (true|false: keep the shell's history file). */
#ifndef GEMMASH_CONFIG_H
#define GEMMASH_CONFIG_H
#include <stdbool.h>
#include <stddef.h>

typedef struct ag_config {
    unsigned long long set;        /* bit per key (AG_CFG_*) seen in the file */
    char   *model, *tools, *system_file, *append_system_file;
    int     threads, ctx, max_tokens, think_budget, max_turns;
    long long seed;
    double  temperature, timeout, compact_at;
    bool    think, network, history;
    int     approval;              /* ag_approval_mode */
    int     sandbox;               /* sb_mode */
    int     kv_type;               /* gm_kv_type */
    char  **writable;
    int     n_writable;
} ag_config;

enum {
    AG_CFG_MODEL, AG_CFG_THREADS, AG_CFG_CTX, AG_CFG_SEED, AG_CFG_TEMPERATURE, AG_CFG_MAX_TOKENS,
    AG_CFG_THINK, AG_CFG_THINK_BUDGET, AG_CFG_APPROVAL, AG_CFG_SANDBOX, AG_CFG_WRITABLE, AG_CFG_NETWORK,
    AG_CFG_MAX_TURNS, AG_CFG_TIMEOUT, AG_CFG_COMPACT_AT, AG_CFG_TOOLS, AG_CFG_SYSTEM_FILE,
    AG_CFG_APPEND_SYSTEM_FILE, AG_CFG_HISTORY, AG_CFG_KV_TYPE, AG_CFG_NKEYS
};

#define AG_CFG_HAS(c, k) (((c)->set >> (k)) & 1ULL)

/* Parse the text of a config file; name is how the file is shown in
 * messages.  Settings accumulate in c (zero it first).  0, or -1 with
 * "name:LINE: what is wrong" in err. */
int  ag_config_parse(ag_config *c, const char *text, const char *name, char *err, size_t cap);
/* Read the file at path (missing: no settings, 0). */
int  ag_config_load(ag_config *c, const char *path, const char *shown, char *err, size_t cap);
void ag_config_free(ag_config *c);

/* gemmash's config folder: $XDG_CONFIG_HOME/gemmash or ~/.config/gemmash.
 * 0, or -1 when neither variable is set. */
int  ag_config_dir(char *out, size_t cap);
/* path with $HOME written as "~", for messages. */
void ag_config_shown(const char *path, char *out, size_t cap);

#endif
