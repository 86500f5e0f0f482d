/* cmd_store.c: `gemmash pull` and `gemmash models`, the front ends of the
 * model store (mstore.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "mstore.h"
#include <cjson/cJSON.h>

static void pull_usage(FILE *f)
{
    size_t n;
    const ms_alias *a = ms_aliases(&n);
    fputs("NAME\n    gemmash pull - fetch a model into the model store\n\n"
          "SYNOPSIS\n    gemmash pull NAME [--as NAME] [--retries N] [--quiet] [--progress|--no-progress]\n\n"
          "DESCRIPTION\n"
          "    NAME is an alias below, or hf:OWNER/REPO (a checkpoint folder: its .safetensors,\n"
          "    .json, .jinja and tokenizer.model files) or hf:OWNER/REPO/FILE (one file, e.g. a\n"
          "    .gguf).  Files go to $GEMMASH_HOME/models/NAME (default ~/.cache/gemmash/models);\n"
          "    a file is written as FILE.part, resumed with a Range request after a dropped\n"
          "    connection or an interrupted run, checked against the size and sha256 the hub\n"
          "    lists, then renamed.  A model is complete once its .gemmash.json is written.\n"
          "    --as NAME stores it under another name (a plain folder name).\n\n"
          "ENVIRONMENT\n"
          "    HF_ENDPOINT   hub address (default https://huggingface.co; a mirror works too)\n"
          "    HF_TOKEN      access token, needed for gated models (401/403 says so)\n"
          "    https_proxy, http_proxy, no_proxy   honoured by libcurl\n"
          "    GEMMASH_HOME  the store's parent folder\n\n"
          "ALIASES (NAME-bf16 is the same as NAME)\n", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "    %-10s %-36s %s\n", a[i].name, a[i].repo, a[i].file ? a[i].file : "(checkpoint folder)");
    fputs("\nEXIT STATUS\n    0 pulled, 2 usage error, 3 download failed (message says why), 130 interrupted.\n", f);
}

/* The one piece of state a SIGINT handler may touch: the pull's stop flag. */
static volatile sig_atomic_t pull_stop;
static void on_sigint(int sig) { (void)sig; pull_stop = 1; }

int cmd_pull(int argc, char **argv)
{
    static const struct option opts[] = {{"as", 1, 0, 'a'}, {"retries", 1, 0, 'r'}, {"quiet", 0, 0, 'q'},
                                         {"progress", 0, 0, 'P'}, {"no-progress", 0, 0, 'N'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    ms_pull_opts o = {.retries = -1, .progress = -1, .interrupt = &pull_stop};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'a': o.as_name = optarg; break;
        case 'r': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 100) {
                fprintf(stderr, "gemmash pull: --retries wants a whole number from 0 to 100, got '%s'\n", optarg);
                return GM_EXIT_USAGE;
            }
            o.retries = (int)v;
            break;
        }
        case 'q': o.quiet = true; break;
        case 'P': o.progress = 1; break;
        case 'N': o.progress = 0; break;
        case 'h': pull_usage(stdout); return GM_EXIT_OK;
        default: pull_usage(stderr); return GM_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "gemmash pull: give exactly one model NAME (an alias such as e2b-q4, or hf:OWNER/REPO)\n");
        return GM_EXIT_USAGE;
    }
    const char *w = getenv("GEMMASH_PULL_RETRY_WAIT");
    if (w) o.retry_wait = atof(w);
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    char path[4608], err[1024];
    int rc = ms_pull(argv[optind], &o, path, sizeof path, err, sizeof err);
    if (rc == MS_OK) puts(path);
    return rc;
}

static void models_usage(FILE *f)
{
    fputs("NAME\n    gemmash models - list the models in the store\n\n"
          "SYNOPSIS\n    gemmash models [--json]\n\n"
          "DESCRIPTION\n"
          "    One line per model in $GEMMASH_HOME/models (default ~/.cache/gemmash/models):\n"
          "    name, size, type (safetensors, gguf, or incomplete for an unfinished pull),\n"
          "    architecture and source repository.  Any name listed works with -m NAME.\n", f);
}

int cmd_models(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { models_usage(stdout); return GM_EXIT_OK; }
        else { fprintf(stderr, "gemmash models: unknown argument '%s'\n", argv[i]); models_usage(stderr); return GM_EXIT_USAGE; }
    }
    ms_entry *e;
    size_t n;
    char err[512], dir[4096] = "?";
    if (ms_list(&e, &n, err, sizeof err)) { fprintf(stderr, "gemmash models: %s\n", err); return GM_EXIT_INTERNAL; }
    ms_dir(dir, sizeof dir);
    if (json) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", e[i].name);
            cJSON_AddStringToObject(o, "path", e[i].path);
            cJSON_AddNumberToObject(o, "bytes", (double)e[i].bytes);
            cJSON_AddStringToObject(o, "type", e[i].type);
            cJSON_AddStringToObject(o, "architecture", e[i].arch);
            cJSON_AddStringToObject(o, "repo", e[i].repo);
            cJSON_AddItemToArray(a, o);
        }
        char *s = cJSON_PrintUnformatted(a);
        if (s) puts(s);
        free(s);
        cJSON_Delete(a);
    } else if (n == 0) {
        printf("no models in %s; fetch one with: gemmash pull %s\n", dir, ms_suggest(0));
    } else {
        printf("%-28s %10s  %-12s %-28s %s\n", "NAME", "SIZE", "TYPE", "ARCHITECTURE", "REPOSITORY");
        for (size_t i = 0; i < n; i++) {
            char sz[32];
            ms_human(sz, sizeof sz, (double)e[i].bytes);
            printf("%-28s %10s  %-12s %-28s %s\n", e[i].name, sz, e[i].type, e[i].arch, e[i].repo);
        }
    }
    free(e);
    return GM_EXIT_OK;
}
