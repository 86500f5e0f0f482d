/* tt.h: shared set-up for the tools tests.
 *
 * Each test gets a fresh temporary tree: ws/ (the workspace), home/ (a
 * fake HOME so the secret-path defaults point somewhere harmless), out/ (the
 * session output folder, a writable root) and outside/ (a folder the policy does not let us
 * write).  Helpers call a tool with arguments written as JSON text. */
#ifndef GEMMASH_TT_H
#define GEMMASH_TT_H
#include <fcntl.h>
#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "tools.h"
#include "tools_int.h"

typedef struct tt_env {
    char root[256], ws[300], home[300], out[300], outside[300];
    sb_policy pol;
    gt_ctx *ctx;
} tt_env;

/* nftw callback that removes everything. */
static int tt_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st; (void)flag; (void)f;
    return remove(p);
}

/* Make the tree and a tools context; exits on failure (nothing to test). */
static inline void tt_setup(tt_env *e)
{
    memset(e, 0, sizeof *e);
    char tmpl[] = "/tmp/gt-test-XXXXXX";
    if (!mkdtemp(tmpl)) { perror("mkdtemp"); exit(1); }
    if (!realpath(tmpl, e->root)) { perror("realpath"); exit(1); }
    snprintf(e->ws, sizeof e->ws, "%s/ws", e->root);
    snprintf(e->home, sizeof e->home, "%s/home", e->root);
    snprintf(e->out, sizeof e->out, "%s/out", e->root);
    snprintf(e->outside, sizeof e->outside, "%s/outside", e->root);
    if (mkdir(e->ws, 0755) || mkdir(e->home, 0755) || mkdir(e->outside, 0755) || mkdir(e->out, 0700)) {
        perror("mkdir");
        exit(1);
    }
    setenv("HOME", e->home, 1);
    char err[512];
    if (sb_policy_init(&e->pol, e->ws, err, sizeof err) || sb_policy_add_writable(&e->pol, e->out, err, sizeof err)) {
        fprintf(stderr, "policy: %s\n", err);
        exit(1);
    }
    e->ctx = gt_new(&e->pol, e->out, err, sizeof err);
    if (!e->ctx) { fprintf(stderr, "gt_new: %s\n", err); exit(1); }
}

/* Remove the tree and free the context. */
static inline void tt_teardown(tt_env *e)
{
    gt_free(e->ctx);
    sb_policy_free(&e->pol);
    nftw(e->root, tt_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file (relative to the workspace unless absolute). */
static inline void tt_write(tt_env *e, const char *rel, const char *data, size_t n)
{
    char p[1024];
    if (rel[0] == '/') snprintf(p, sizeof p, "%s", rel);
    else snprintf(p, sizeof p, "%s/%s", e->ws, rel);
    FILE *f = fopen(p, "wb");
    if (!f) { perror(p); exit(1); }
    if (n && fwrite(data, 1, n, f) != n) { perror(p); exit(1); }
    fclose(f);
}

/* Write a C string to a file. */
static inline void tt_puts(tt_env *e, const char *rel, const char *s) { tt_write(e, rel, s, strlen(s)); }

/* Whole file as a malloc'd string (NULL if missing); *n gets its size. */
static inline char *tt_read(tt_env *e, const char *rel, size_t *n)
{
    char p[1024];
    if (rel[0] == '/') snprintf(p, sizeof p, "%s", rel);
    else snprintf(p, sizeof p, "%s/%s", e->ws, rel);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + k + 1 > cap) {
            cap = (len + k + 1) * 2;
            buf = realloc(buf, cap);
            if (!buf) exit(1);
        }
        memcpy(buf + len, chunk, k);
        len += k;
    }
    fclose(f);
    if (!buf) buf = calloc(1, 1);
    buf[len] = 0;
    if (n) *n = len;
    return buf;
}

/* Call a tool with JSON-text arguments (printf-style). */
static inline cJSON *tt_call(tt_env *e, const char *tool, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline cJSON *tt_call(tt_env *e, const char *tool, const char *fmt, ...)
{
    char buf[65536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cJSON *args = cJSON_Parse(buf);
    if (!args) { fprintf(stderr, "bad test JSON: %s\n", buf); exit(1); }
    cJSON *r = gt_call(e->ctx, tool, args, NULL);
    cJSON_Delete(args);
    if (!r) { fprintf(stderr, "gt_call returned NULL\n"); exit(1); }
    return r;
}

/* Field accessors for results. */
static inline bool tt_ok(const cJSON *r) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")); }
static inline const char *tt_str(const cJSON *r, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}
static inline double tt_num(const cJSON *r, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1e9;
}
static inline bool tt_has(const cJSON *r, const char *k, const char *needle) { return strstr(tt_str(r, k), needle) != NULL; }

#endif
