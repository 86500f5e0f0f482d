/* mstore_list.c: what is installed (`gemmash models`) and the first run,
 * when no model was named: use the one in the store, or suggest one for
 * this machine and fetch it after one question. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "mstore.h"

/* Read a small file whole (NUL-terminated, malloc'd) or NULL. */
static char *slurp_small(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max, f) : 0;
    fclose(f);
    if (b) b[n] = 0;
    return b;
}

/* The architecture of a checkpoint folder from its config.json. */
static void arch_of_config(const char *dir, char *out, size_t len)
{
    char p[4200];
    ms_join(p, sizeof p, dir, "config.json");
    char *s = slurp_small(p, 1 << 20);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "architectures"), 0);
    const char *v = cJSON_IsString(a) ? a->valuestring : cJSON_GetStringValue(cJSON_GetObjectItem(j, "model_type"));
    snprintf(out, len, "%s", v ? v : "?");
    cJSON_Delete(j);
    free(s);
}

/* The architecture of a GGUF file: its first metadata pair is, in files
 * written by the usual converters, general.architecture (a string). */
static void arch_of_gguf(const char *path, char *out, size_t len)
{
    snprintf(out, len, "?");
    FILE *f = fopen(path, "rb");
    if (!f) return;
    unsigned char h[24];
    uint64_t klen = 0, vlen = 0;
    uint32_t type = 0;
    char key[64];
    if (fread(h, 1, 24, f) == 24 && memcmp(h, "GGUF", 4) == 0 && fread(&klen, 8, 1, f) == 1 && klen < sizeof key &&
        fread(key, 1, klen, f) == klen) {
        key[klen] = 0;
        if (strcmp(key, "general.architecture") == 0 && fread(&type, 4, 1, f) == 1 && type == 8 &&
            fread(&vlen, 8, 1, f) == 1 && vlen < len && fread(out, 1, vlen, f) == vlen)
            out[vlen] = 0;
    }
    fclose(f);
}

/* Fill one entry from a store folder. */
static void describe(const char *dir, const char *name, ms_entry *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->path, sizeof e->path, "%s", dir);
    char p[4400];
    DIR *d = opendir(dir);
    struct dirent *de;
    int ggufs = 0;
    char gguf[4400] = "";
    while (d && (de = readdir(d))) {
        struct stat st;
        ms_join(p, sizeof p, dir, de->d_name);
        if (stat(p, &st) || !S_ISREG(st.st_mode)) continue;
        e->bytes += (uint64_t)st.st_size;
        size_t l = strlen(de->d_name);
        if (l > 5 && strcasecmp(de->d_name + l - 5, ".gguf") == 0) { ggufs++; snprintf(gguf, sizeof gguf, "%s", p); }
    }
    if (d) closedir(d);
    ms_join(p, sizeof p, dir, MS_MANIFEST);
    char *s = slurp_small(p, 1 << 20);
    cJSON *m = s ? cJSON_Parse(s) : NULL;
    const char *repo = cJSON_GetStringValue(cJSON_GetObjectItem(m, "repo"));
    snprintf(e->repo, sizeof e->repo, "%s", repo ? repo : "-");
    ms_join(p, sizeof p, dir, "config.json");
    if (!s) snprintf(e->type, sizeof e->type, "incomplete");
    else if (access(p, F_OK) != 0 && ggufs == 1) {
        snprintf(e->type, sizeof e->type, "gguf");
        snprintf(e->path, sizeof e->path, "%s", gguf);
        arch_of_gguf(gguf, e->arch, sizeof e->arch);
    } else snprintf(e->type, sizeof e->type, "safetensors");
    if (!e->arch[0]) arch_of_config(dir, e->arch, sizeof e->arch);
    cJSON_Delete(m);
    free(s);
}

static int by_name(const void *a, const void *b) { return strcmp(((const ms_entry *)a)->name, ((const ms_entry *)b)->name); }

int ms_list(ms_entry **out, size_t *n, char *err, size_t errlen)
{
    char dir[4096];
    *out = NULL;
    *n = 0;
    if (ms_dir(dir, sizeof dir)) { snprintf(err, errlen, "cannot find the model store: set HOME or GEMMASH_HOME"); return -1; }
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "cannot read the model store %s: %s", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[4400];
        struct stat st;
        ms_join(p, sizeof p, dir, de->d_name);
        if (stat(p, &st) || !S_ISDIR(st.st_mode)) continue;
        if (*n == cap) {
            ms_entry *ne = realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof *ne);
            if (!ne) { closedir(d); free(*out); *out = NULL; *n = 0; snprintf(err, errlen, "out of memory"); return -1; }
            *out = ne;
        }
        describe(p, de->d_name, &(*out)[(*n)++]);
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof **out, by_name);
    return 0;
}

int ms_first_run(bool interactive, volatile sig_atomic_t *interrupt, char *path, size_t len)
{
    ms_entry *es;
    size_t n;
    char err[512];
    const char *sug = ms_suggest(0);
    if (ms_list(&es, &n, err, sizeof err) == 0) {
        const ms_entry *pick = NULL;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(es[i].type, "incomplete") == 0 || strstr(es[i].name, "draft")) continue;
            if (!pick || strcmp(es[i].name, sug) == 0) pick = &es[i];
        }
        if (pick) {
            snprintf(path, len, "%s", pick->path);
            fprintf(stderr, "gemmash: no -m given; using '%s' from the model store\n", pick->name);
            free(es);
            return 0;
        }
        free(es);
    }
    const ms_alias *a = ms_alias_find(sug);
    char dir[4096] = "~/.cache/gemmash/models";
    ms_dir(dir, sizeof dir);
    fprintf(stderr, "gemmash: no model is installed (store: %s).\n"
            "The suggested model for this machine's memory is %s (%s, from %s).\n", dir, sug, a->about, a->repo);
    if (!interactive) {
        fprintf(stderr, "Fetch it with:\n    gemmash pull %s\nthen run again; or pass -m PATH, or "
                "--endpoint URL for a model served elsewhere.\n", sug);
        return MS_E_FAIL;
    }
    fprintf(stderr, "Download it now? [Y/n] ");
    char line[64];
    if (!fgets(line, sizeof line, stdin) || !(line[0] == '\n' || line[0] == 'y' || line[0] == 'Y')) {
        fprintf(stderr, "gemmash: not downloading; fetch a model with 'gemmash pull %s' or pass -m PATH\n", sug);
        return MS_E_FAIL;
    }
    ms_pull_opts o = {.retries = -1, .progress = -1, .interrupt = interrupt};
    return ms_pull(sug, &o, path, len, err, sizeof err);
}
