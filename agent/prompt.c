/* prompt.c: build the system prompt (prompt.h).
 *
 * Order in the prompt: the base prompt (built-in or --system-file), the
 * user's addition (--append-system), the AGENTS.md files under a heading
 * each, and last the working folder, which the prompts refer to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include "prompt.h"
#include "config.h"

const char *ag_prompt_builtin(const char *name)
{
    for (const ag_embedded_prompt *p = ag_embedded_prompts; p->name; p++)
        if (!strcmp(p->name, name)) return p->text;
    return NULL;
}

/* A growing string; oom latches. */
typedef struct sbuf { char *s; size_t n, cap; bool oom; } sbuf;

static void put(sbuf *b, const char *t, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 1024;
        while (c < b->n + n + 1) c *= 2;
        char *q = realloc(b->s, c);
        if (!q) { b->oom = true; return; }
        b->s = q; b->cap = c;
    }
    memcpy(b->s + b->n, t, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void puts_(sbuf *b, const char *t) { put(b, t, strlen(t)); }

/* Is there a regular file at path? */
static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The nearest folder at or above dir that holds .git (a folder, or a file
 * in a worktree); "" when none. */
static void git_root(const char *dir, char *out, size_t cap)
{
    char d[4096];
    snprintf(d, sizeof d, "%s", dir);
    out[0] = 0;
    for (;;) {
        char g[4200];
        struct stat st;
        snprintf(g, sizeof g, "%s/.git", d);
        if (lstat(g, &st) == 0) { snprintf(out, cap, "%s", d); return; }
        char *sl = strrchr(d, '/');
        if (!sl || sl == d) return;          /* reached "/" without a .git (the root itself is not tried) */
        *sl = 0;
    }
}

char *ag_agents_files(const char *cwd, const char *config_dir)
{
    sbuf b = {0};
    puts_(&b, "");
    char cfg[4096], p[4300];
    if (config_dir) snprintf(cfg, sizeof cfg, "%s", config_dir);
    else if (ag_config_dir(cfg, sizeof cfg)) cfg[0] = 0;
    if (cfg[0]) {
        snprintf(p, sizeof p, "%s/AGENTS.md", cfg);
        if (is_file(p)) { puts_(&b, p); puts_(&b, "\n"); }
    }
    char root[4096];
    git_root(cwd, root, sizeof root);
    size_t start = root[0] ? strlen(root) : strlen(cwd);
    /* every folder from the root down to cwd: cut cwd at each '/' after the root */
    for (size_t i = start; ; i++) {
        if (cwd[i] == '/' || cwd[i] == 0) {
            snprintf(p, sizeof p, "%.*s/AGENTS.md", (int)i, cwd);
            if (is_file(p)) { puts_(&b, p); puts_(&b, "\n"); }
        }
        if (!cwd[i]) break;
    }
    if (b.oom) { free(b.s); return NULL; }
    return b.s;
}

/* How a file is named in the prompt and in warnings: relative to the
 * repository when it is inside it, with ~ for HOME otherwise. */
static void shown(const char *path, const char *root, char *out, size_t cap)
{
    size_t rn = strlen(root);
    if (rn && !strncmp(path, root, rn) && path[rn] == '/') snprintf(out, cap, "%s", path + rn + 1);
    else ag_config_shown(path, out, cap);
}

/* Append the AGENTS.md files within budget; warnings go to warn. */
static void add_agents(sbuf *b, const char *cwd, const ag_prompt_opts *o, char *warn, size_t cap)
{
    char *files = ag_agents_files(cwd, o->config_dir);
    if (!files) { b->oom = true; return; }
    char root[4096];
    git_root(cwd, root, sizeof root);
    size_t budget = o->agents_budget ? o->agents_budget : AG_AGENTS_BUDGET, used = 0;
    size_t wn = strlen(warn);
    bool heading = false, over = false;
    char cut_note[1024] = "", left_out[1024] = "";
    for (char *line = files, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = 0;
        char name[4096];
        shown(line, root, name, sizeof name);
        if (over) {
            size_t k = strlen(left_out);
            snprintf(left_out + k, sizeof left_out - k, "%s%.200s", k ? ", " : "", name);
            continue;
        }
        FILE *f = fopen(line, "rb");
        if (!f) {
            wn += (size_t)snprintf(warn + wn, wn < cap ? cap - wn : 0, "%scannot read %s: %s", wn ? "; " : "",
                                   name, strerror(errno));
            continue;
        }
        size_t room = budget - used;
        char *t = malloc(room + 2);
        size_t n = t ? fread(t, 1, room + 1, f) : 0;     /* one byte more tells whether it fits */
        bool more = n > room;
        if (more) n = room;
        fclose(f);
        if (!t) { b->oom = true; break; }
        if (more) {                                   /* cut at a UTF-8 character boundary */
            while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80) n--;
            over = true;
            snprintf(cut_note, sizeof cut_note, "%.200s was cut at %zu bytes", name, n);
        }
        t[n] = 0;
        used += n;
        if (!heading) {
            puts_(b, "\n\n# Instructions from AGENTS.md files (general first, the closest to the working folder last)");
            heading = true;
        }
        puts_(b, "\n\n## ");
        puts_(b, name);
        puts_(b, "\n\n");
        puts_(b, t);
        if (more) {
            puts_(b, "\n\n[gemmash: the rest of this file was cut to fit the 32 KiB instruction budget; read it with "
                     "read_file if you need it]");
        }
        free(t);
        if (used >= budget) over = true;
    }
    free(files);
    if (cut_note[0] || left_out[0])
        snprintf(warn + wn, wn < cap ? cap - wn : 0, "%sAGENTS.md files pass the %zu-byte budget: %s%s%s%s", wn ? "; " : "",
                 budget, cut_note, cut_note[0] && left_out[0] ? "; " : "", left_out[0] ? "left out: " : "", left_out);
}

char *ag_build_system_prompt(const ag_prompt_opts *o, char *warn, size_t cap)
{
    char dummy[4];
    if (!warn || !cap) { warn = dummy; cap = sizeof dummy; }
    warn[0] = 0;
    const char *base = o->system_text;
    if (!base) {
        const char *name = o->builtin ? o->builtin : "coding";
        if (!(base = ag_prompt_builtin(name))) {
            snprintf(warn, cap, "there is no built-in prompt named '%s' (built in: coding, automation)", name);
            return NULL;
        }
    }
    char cwd[4096];
    if (o->cwd) snprintf(cwd, sizeof cwd, "%s", o->cwd);
    else if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    sbuf b = {0};
    puts_(&b, base);
    while (b.n && b.s[b.n - 1] == '\n') b.s[--b.n] = 0;
    if (o->append_text && *o->append_text) {
        puts_(&b, "\n\n");
        puts_(&b, o->append_text);
        while (b.n && b.s[b.n - 1] == '\n') b.s[--b.n] = 0;
    }
    if (!o->no_agents) add_agents(&b, cwd, o, warn, cap);
    puts_(&b, "\n\nWorking folder: ");
    puts_(&b, cwd);
    if (b.oom) { free(b.s); snprintf(warn, cap, "out of memory building the system prompt"); return NULL; }
    return b.s;
}
