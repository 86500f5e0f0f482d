/* mstore.h: the model store and the pull command's download engine.
 *
 * Layout: $GEMMASH_HOME/models/NAME/ (GEMMASH_HOME defaults to
 * ~/.cache/gemmash).  NAME is an alias (e2b-q4) or, for hf:OWNER/REPO,
 * "OWNER--REPO".  A folder holds the model's files and, written last, a
 * manifest .gemmash.json {repo, revision, files:[{path,size,sha256}]}; a
 * folder without it is an unfinished download.  Files being fetched are
 * FILE.part until their size and sha256 are verified, then renamed. */
#ifndef GEMMASH_MSTORE_H
#define GEMMASH_MSTORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#define MS_MANIFEST ".gemmash.json"

/* One alias: a name that maps to a Hugging Face repository (and one file
 * in it, for GGUF repositories; NULL = the whole checkpoint folder). */
typedef struct ms_alias {
    const char *name;        /* e2b, e2b-q4, e2b-draft ... */
    const char *repo;        /* OWNER/REPO */
    const char *file;        /* NULL: every checkpoint file */
    const char *about;
} ms_alias;

/* The alias table (constant), and a lookup (NULL if name is no alias). */
const ms_alias *ms_aliases(size_t *n);
const ms_alias *ms_alias_find(const char *name);

/* $GEMMASH_HOME/models (or ~/.cache/gemmash/models); 0 or -1 if no HOME. */
int ms_dir(char *out, size_t len);

/* Turn a -m argument into a loadable path: an existing path is kept; an
 * alias, store name or hf:OWNER/REPO[/FILE] becomes its store folder (or
 * the single .gguf in it).  0, or -1 with a message naming the fix. */
int ms_resolve(const char *arg, char *path, size_t len, char *err, size_t errlen);

/* What a download target is: repo, optional file, and store name. */
typedef struct ms_target {
    char repo[256];
    char file[256];          /* "" = whole checkpoint */
    char name[256];          /* folder name in the store */
} ms_target;
/* Parse an alias or hf:OWNER/REPO[/FILE]; 0 or -1 with a message. */
int ms_target_parse(const char *arg, ms_target *t, char *err, size_t errlen);

/* Options of a pull. */
typedef struct ms_pull_opts {
    const char *endpoint;    /* NULL: $HF_ENDPOINT or https://huggingface.co */
    const char *token;       /* NULL: $HF_TOKEN */
    const char *as_name;     /* store under this name instead */
    int         retries;     /* resumed attempts after a dropped connection; <0: 5 */
    double      retry_wait;  /* seconds before the first retry (doubles); <=0: 1 */
    int         progress;    /* 1 bar, 0 plain lines, -1 auto (terminal on stderr) */
    bool        quiet;
    volatile sig_atomic_t *interrupt;
} ms_pull_opts;

/* Exit-style results of a pull (see README.md, "Models"). */
enum { MS_OK = 0, MS_E_USAGE = 2, MS_E_FAIL = 3, MS_E_INTERRUPTED = 130 };

/* Download a target into the store; on success path (if not NULL) gets
 * the loadable path.  Messages go to stderr; err gets the last one. */
int ms_pull(const char *arg, const ms_pull_opts *o, char *path, size_t len, char *err, size_t errlen);

/* One installed model, for `gemmash models`. */
typedef struct ms_entry {
    char     name[256];
    char     path[4608];     /* the loadable path */
    uint64_t bytes;
    char     type[32];       /* safetensors | gguf | incomplete */
    char     arch[64];       /* config.json architectures[0] / GGUF general.architecture */
    char     repo[256];
} ms_entry;
/* List the store (sorted by name); *out is malloc'd.  0 or -1 + err. */
int ms_list(ms_entry **out, size_t *n, char *err, size_t errlen);

/* The alias suggested for this machine's memory (E2B Q4 under 8 GB, E4B Q4
 * under 16 GB, 26B-A4B Q4 above); mem_bytes 0 = read /proc/meminfo. */
const char *ms_suggest(uint64_t mem_bytes);

/* First run: no -m and no configured model.  Uses the only/first model in
 * the store, else suggests one; interactive: asks once and pulls it;
 * headless: prints the command and returns 3.  0 with path, or an exit code
 * (130 when interrupt was set during the download). */
int ms_first_run(bool interactive, volatile sig_atomic_t *interrupt, char *path, size_t len);

/* out = a/b; -1 if it does not fit (nothing is ever silently cut). */
int ms_join(char *out, size_t n, const char *a, const char *b);

/* Format bytes as "1.2 GiB". */
void ms_human(char *out, size_t n, double bytes);
#endif
