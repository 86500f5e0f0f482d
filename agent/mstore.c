/* mstore.c: the model store: where models live, the alias table, turning a
 * -m argument into a path, listing what is installed, and the first-run
 * suggestion.  Downloading is in pull.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "mstore.h"

/* The aliases.  Plain names are Google's bf16 safetensors checkpoints; -q4
 * and -q8 are single-file GGUF quantisations; -draft are the MTP drafters.
 * NAME-bf16 is accepted as NAME (see ms_target_parse). */
static const ms_alias ALIASES[] = {
    {"e2b",       "google/gemma-4-E2B-it",              NULL, "Gemma 4 E2B instruct, bf16 safetensors"},
    {"e2b-q8",    "unsloth/gemma-4-E2B-it-GGUF",        "gemma-4-E2B-it-Q8_0.gguf", "E2B, GGUF Q8_0"},
    {"e2b-q4",    "unsloth/gemma-4-E2B-it-GGUF",        "gemma-4-E2B-it-Q4_K_M.gguf", "E2B, GGUF Q4_K_M"},
    {"e2b-draft", "google/gemma-4-E2B-it-assistant",    NULL, "MTP drafter for E2B"},
    {"e4b",       "google/gemma-4-E4B-it",              NULL, "Gemma 4 E4B instruct, bf16 safetensors"},
    {"e4b-q8",    "unsloth/gemma-4-E4B-it-GGUF",        "gemma-4-E4B-it-Q8_0.gguf", "E4B, GGUF Q8_0"},
    {"e4b-q4",    "unsloth/gemma-4-E4B-it-GGUF",        "gemma-4-E4B-it-Q4_K_M.gguf", "E4B, GGUF Q4_K_M"},
    {"e4b-draft", "google/gemma-4-E4B-it-assistant",    NULL, "MTP drafter for E4B"},
    {"26b",       "google/gemma-4-26B-A4B-it",          NULL, "Gemma 4 26B-A4B (MoE) instruct, bf16"},
    {"26b-q8",    "unsloth/gemma-4-26B-A4B-it-GGUF",    "gemma-4-26B-A4B-it-Q8_0.gguf", "26B-A4B, GGUF Q8_0"},
    {"26b-q4",    "unsloth/gemma-4-26B-A4B-it-GGUF",    "gemma-4-26B-A4B-it-Q4_K_M.gguf", "26B-A4B, GGUF Q4_K_M"},
    {"26b-draft", "google/gemma-4-26B-A4B-it-assistant", NULL, "MTP drafter for 26B-A4B"},
    {"31b",       "google/gemma-4-31B-it",              NULL, "Gemma 4 31B instruct, bf16 safetensors"},
    {"31b-q8",    "unsloth/gemma-4-31B-it-GGUF",        "gemma-4-31B-it-Q8_0.gguf", "31B, GGUF Q8_0"},
    {"31b-q4",    "unsloth/gemma-4-31B-it-GGUF",        "gemma-4-31B-it-Q4_K_M.gguf", "31B, GGUF Q4_K_M"},
    {"31b-draft", "google/gemma-4-31B-it-assistant",    NULL, "MTP drafter for 31B"},
};

const ms_alias *ms_aliases(size_t *n)
{
    *n = sizeof ALIASES / sizeof ALIASES[0];
    return ALIASES;
}

const ms_alias *ms_alias_find(const char *name)
{
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (strcasecmp(ALIASES[i].name, name) == 0) return &ALIASES[i];
    return NULL;
}

int ms_dir(char *out, size_t len)
{
    const char *h = getenv("GEMMASH_HOME");
    int w;
    if (h && *h) w = snprintf(out, len, "%s/models", h);
    else {
        const char *home = getenv("HOME");
        if (!home || !*home) return -1;
        w = snprintf(out, len, "%s/.cache/gemmash/models", home);
    }
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

int ms_join(char *out, size_t n, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + lb + 2 > n) { if (n) out[0] = 0; return -1; }
    memmove(out, a, la);
    out[la] = '/';
    memmove(out + la + 1, b, lb + 1);
    return 0;
}

void ms_human(char *out, size_t n, double v)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* A repository or file name part: letters, digits and -_. only, no "..". */
static bool safe_part(const char *s, size_t n)
{
    if (n == 0 || (n <= 2 && s[0] == '.' && (n == 1 || s[1] == '.'))) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i])) return false;
    return true;
}

int ms_target_parse(const char *arg, ms_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (strncmp(arg, "hf:", 3) == 0) {
        const char *r = arg + 3, *s1 = strchr(r, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        size_t rl = s2 ? (size_t)(s2 - r) : strlen(r);
        if (!s1 || !safe_part(r, (size_t)(s1 - r)) || !safe_part(s1 + 1, rl - (size_t)(s1 - r) - 1) ||
            (s2 && !safe_part(s2 + 1, strlen(s2 + 1))) || rl >= sizeof t->repo) {
            snprintf(err, errlen, "'%s' is not hf:OWNER/REPO or hf:OWNER/REPO/FILE (letters, digits, - _ . only; "
                     "a FILE must be at the top of the repository)", arg);
            return -1;
        }
        memcpy(t->repo, r, rl);
        if (s2) snprintf(t->file, sizeof t->file, "%s", s2 + 1);
        snprintf(t->name, sizeof t->name, "%.*s--%.*s", (int)(s1 - r), r, (int)(rl - (size_t)(s1 - r) - 1), s1 + 1);
        if (s2) {
            size_t fl = strlen(t->file);
            if (fl > 5 && strcasecmp(t->file + fl - 5, ".gguf") == 0) fl -= 5;
            size_t nl = strlen(t->name);
            snprintf(t->name + nl, sizeof t->name - nl, "--%.*s", (int)fl, t->file);
        }
        return 0;
    }
    char base[128];
    snprintf(base, sizeof base, "%s", arg);
    size_t bl = strlen(base);
    if (bl > 5 && strcasecmp(base + bl - 5, "-bf16") == 0) base[bl - 5] = 0;
    const ms_alias *a = ms_alias_find(base);
    if (!a) {
        snprintf(err, errlen, "'%s' is no known model alias; aliases are e2b, e4b, 26b, 31b with an optional "
                 "-q4, -q8, -bf16 or -draft (e.g. e2b-q4), or name any repository as hf:OWNER/REPO[/FILE]", arg);
        return -1;
    }
    snprintf(t->repo, sizeof t->repo, "%s", a->repo);
    if (a->file) snprintf(t->file, sizeof t->file, "%s", a->file);
    snprintf(t->name, sizeof t->name, "%s", a->name);
    return 0;
}

/* The loadable path of a store folder: the folder, or its one .gguf file
 * when it has no config.json.  Returns 0. */
static int loadable(const char *dir, char *path, size_t len)
{
    char cfg[4096];
    ms_join(cfg, sizeof cfg, dir, "config.json");
    snprintf(path, len, "%s", dir);
    if (access(cfg, F_OK) == 0) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int n = 0;
    char one[256] = "";
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcasecmp(e->d_name + l - 5, ".gguf") == 0) { n++; snprintf(one, sizeof one, "%s", e->d_name); }
    }
    closedir(d);
    if (n == 1 && ms_join(path, len, dir, one)) snprintf(path, len, "%s", dir);
    return 0;
}

int ms_resolve(const char *arg, char *path, size_t len, char *err, size_t errlen)
{
    struct stat st;
    if (!arg || !*arg) { snprintf(err, errlen, "no model given"); return -1; }
    if (stat(arg, &st) == 0) { snprintf(path, len, "%s", arg); return 0; }
    char dir[4096], folder[4600];
    bool pathlike = strncmp(arg, "hf:", 3) != 0 && (strchr(arg, '/') || arg[0] == '.' || arg[0] == '~');
    if (pathlike) {
        snprintf(err, errlen, "%s: no such file or folder (give a checkpoint folder, a .gguf file, or the name of "
                 "a model in the store: see 'gemmash models')", arg);
        return -1;
    }
    if (ms_dir(dir, sizeof dir)) {
        snprintf(err, errlen, "'%s' is not a path, and the model store cannot be found: set HOME or GEMMASH_HOME", arg);
        return -1;
    }
    ms_target t;
    char terr[512];
    const char *name = arg;
    if (ms_target_parse(arg, &t, terr, sizeof terr) == 0) name = t.name;
    if (ms_join(folder, sizeof folder, dir, name) || strchr(name, '/') || stat(folder, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (name == t.name)
            snprintf(err, errlen, "model '%s' is not installed (looked in %s); fetch it with: gemmash pull %s",
                     arg, folder, arg);
        else
            snprintf(err, errlen, "'%s' is neither a path nor a model in the store (%s); 'gemmash models' lists "
                     "installed models, 'gemmash pull --help' the aliases", arg, dir);
        return -1;
    }
    char man[4700];
    ms_join(man, sizeof man, folder, MS_MANIFEST);
    if (access(man, F_OK) != 0) {
        if (name == t.name)
            snprintf(err, errlen, "model '%s' is only partly downloaded (%s); finish it with: gemmash pull %s",
                     arg, folder, arg);
        else
            snprintf(err, errlen, "model '%s' is only partly downloaded (%s); finish it by running the same "
                     "gemmash pull again (it resumes), or delete the folder", arg, folder);
        return -1;
    }
    return loadable(folder, path, len);
}

/* Suggested alias by memory size (the table of the README). */
const char *ms_suggest(uint64_t mem)
{
    if (mem == 0) {
        FILE *f = fopen("/proc/meminfo", "r");
        char line[256];
        unsigned long long kb = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) break;
        if (f) fclose(f);
        mem = (uint64_t)kb * 1024;
    }
    const uint64_t G = 1000ull * 1000 * 1000;
    if (mem < 8 * G) return "e2b-q4";
    if (mem < 16 * G) return "e4b-q4";
    return "26b-q4";
}
