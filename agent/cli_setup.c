/* cli_setup.c: what the command line takes from files: the config file
 * (settings the flags override), the rules file (approval rules for shell
 * commands) and the system prompt (built-in or --system-file, plus
 * --append-system, plus AGENTS.md).  Kept apart from cli_args.c so the
 * flag parser stays about flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include "ag_cli.h"
#include "config.h"
#include "rules.h"
#include "prompt.h"

/* "~/x" -> "$HOME/x" in a malloc'd config string (replaced in place). */
static int expand_home(char **s)
{
    const char *h = getenv("HOME");
    if (!*s || strncmp(*s, "~/", 2) || !h) return 0;
    size_t n = strlen(h) + strlen(*s);
    char *e = malloc(n);
    if (!e) return -1;
    snprintf(e, n, "%s%s", h, *s + 1);
    free(*s);
    *s = e;
    return 0;
}

int ag_cli_config(ag_cli *c, char *err, size_t cap)
{
    char dir[4096], path[4200], shown[4300];
    if (ag_config_dir(dir, sizeof dir)) return 0;           /* no HOME: no config file */
    snprintf(path, sizeof path, "%s/config", dir);
    ag_config_shown(path, shown, sizeof shown);
    ag_config *cf = calloc(1, sizeof *cf);
    if (!cf) { snprintf(err, cap, "out of memory"); return -1; }
    c->config = cf;
    if (ag_config_load(cf, path, shown, err, cap)) return -1;
    bool oom = expand_home(&cf->model) || expand_home(&cf->system_file) || expand_home(&cf->append_system_file);
    for (int i = 0; i < cf->n_writable; i++) oom |= expand_home(&cf->writable[i]) != 0;
    if (oom) { snprintf(err, cap, "out of memory"); return -1; }
    if (AG_CFG_HAS(cf, AG_CFG_MODEL) && !c->o.model) c->o.model = cf->model;   /* GEMMASH_MODEL wins */
    if (AG_CFG_HAS(cf, AG_CFG_THREADS)) c->o.threads = cf->threads;
    if (AG_CFG_HAS(cf, AG_CFG_CTX)) c->o.n_ctx = cf->ctx;
    if (AG_CFG_HAS(cf, AG_CFG_KV_TYPE)) c->o.kv_type = (gm_kv_type)cf->kv_type;
    if (AG_CFG_HAS(cf, AG_CFG_SEED)) c->o.seed = (uint64_t)cf->seed;
    if (AG_CFG_HAS(cf, AG_CFG_TEMPERATURE)) c->o.temperature = (float)cf->temperature;
    if (AG_CFG_HAS(cf, AG_CFG_MAX_TOKENS)) c->o.max_gen_tokens = cf->max_tokens;
    if (AG_CFG_HAS(cf, AG_CFG_THINK)) c->o.think = cf->think;
    if (AG_CFG_HAS(cf, AG_CFG_THINK_BUDGET)) c->o.think_budget = cf->think_budget;
    if (AG_CFG_HAS(cf, AG_CFG_APPROVAL)) c->o.approval = (ag_approval_mode)cf->approval;
    if (AG_CFG_HAS(cf, AG_CFG_SANDBOX)) c->mode = (sb_mode)cf->sandbox;
    if (AG_CFG_HAS(cf, AG_CFG_NETWORK)) c->allow_network = cf->network;
    if (AG_CFG_HAS(cf, AG_CFG_MAX_TURNS)) c->o.max_turns = cf->max_turns;
    if (AG_CFG_HAS(cf, AG_CFG_TIMEOUT)) c->o.timeout_s = cf->timeout;
    if (AG_CFG_HAS(cf, AG_CFG_COMPACT_AT)) c->o.compact_at = cf->compact_at;
    if (AG_CFG_HAS(cf, AG_CFG_TOOLS)) c->tools = cf->tools;
    if (AG_CFG_HAS(cf, AG_CFG_SYSTEM_FILE)) c->system_file = cf->system_file;
    if (AG_CFG_HAS(cf, AG_CFG_APPEND_SYSTEM_FILE)) c->append_file = cf->append_system_file;
    if (AG_CFG_HAS(cf, AG_CFG_HISTORY)) c->o.no_history = !cf->history;
    if (cf->n_writable) {
        const char **w = realloc(c->writable, (size_t)(c->n_writable + cf->n_writable) * sizeof *w);
        if (!w) { snprintf(err, cap, "out of memory"); return -1; }
        c->writable = w;
        for (int i = 0; i < cf->n_writable; i++) c->writable[c->n_writable++] = cf->writable[i];
    }
    return 0;
}

/* A whole text file, for --system-file and --append-system (1 MiB at most). */
static char *read_text(const char *flag, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(err, cap, "%s: cannot read %s: %s", flag, path, strerror(errno)); return NULL; }
    char *t = malloc((1 << 20) + 1);
    size_t n = t ? fread(t, 1, 1 << 20, f) : 0;
    bool big = t && fgetc(f) != EOF, bad = ferror(f);
    fclose(f);
    if (!t || big || bad) {
        free(t);
        snprintf(err, cap, "%s: cannot read %s: %s", flag, path, !t ? "out of memory" : big ? "larger than 1 MiB" :
                 "read error");
        return NULL;
    }
    t[n] = 0;
    return t;
}

int ag_cli_prepare(ag_cli *c, bool headless, char *err, size_t cap)
{
    char dir[4096], path[4200], shown[4300];
    if (ag_config_dir(dir, sizeof dir) == 0) {
        snprintf(path, sizeof path, "%s/rules", dir);
        ag_config_shown(path, shown, sizeof shown);
        if (!(c->rules = ag_rules_new())) { snprintf(err, cap, "out of memory"); return -1; }
        if (ag_rules_load(c->rules, path, shown, err, cap)) return -1;
        c->o.rules = c->rules;
    }
    char *sys = NULL, *app = NULL, *both = NULL;
    if (c->system_file && !(sys = read_text("--system-file", c->system_file, err, cap))) return -1;
    if (c->append_file && !(app = read_text("--append-system", c->append_file, err, cap))) { free(sys); return -1; }
    const char *extra = app ? app : c->o.append_system;
    if (app && c->o.append_system) {                         /* both the file and the text */
        size_t n = strlen(app) + strlen(c->o.append_system) + 3;
        if ((both = malloc(n))) snprintf(both, n, "%s\n\n%s", app, c->o.append_system);
        extra = both;
    }
    ag_prompt_opts po = {.builtin = headless ? "automation" : "coding", .system_text = sys, .append_text = extra};
    char warn[2048] = "";
    c->system_full = ag_build_system_prompt(&po, warn, sizeof warn);
    free(sys); free(app); free(both);
    if (!c->system_full) { snprintf(err, cap, "%s", warn[0] ? warn : "out of memory building the system prompt"); return -1; }
    if (warn[0]) fprintf(stderr, "gemmash: warning: %s\n", warn);
    c->o.system_full = c->system_full;
    return 0;
}

void ag_cli_release(ag_cli *c)
{
    if (c->config) { ag_config_free(c->config); free(c->config); c->config = NULL; }
    ag_rules_free(c->rules);
    c->rules = NULL;
    free(c->system_full);
    c->system_full = NULL;
}
