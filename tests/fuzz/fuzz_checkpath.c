/* fuzz_checkpath.c: sb_check_path on arbitrary path strings against a small
 * fixed tree (workspace with a symlink out, a hard link, .git/hooks).  The
 * property: whatever the path, an allowed write resolves inside the writable
 * root, outside every protected path, and an allowed read never lands in a
 * denied folder; and the resolved path is canonical (realpath of an existing
 * one is itself).  Build:
 *   clang -g -O1 -fsanitize=fuzzer,address -D_GNU_SOURCE -Isandbox tests/fuzz/fuzz_checkpath.c
 *         (every .c file of sandbox/) -lseccomp */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sandbox.h"

typedef struct { sb_policy p; char ws[256], out[256], home[256]; int ready; } fuzz_ctx;

/* Build the fixture once per process (libFuzzer calls us many times). */
static fuzz_ctx *ctx(void)
{
    static fuzz_ctx c;
    if (c.ready) return &c;
    char root[] = "/tmp/gemmash-fuzz-checkpath.XXXXXX";
    if (!mkdtemp(root)) abort();
    snprintf(c.ws, sizeof c.ws, "%s/ws", root);
    snprintf(c.out, sizeof c.out, "%s/out", root);
    snprintf(c.home, sizeof c.home, "%s/home", root);
    char buf[600];
    mkdir(c.ws, 0755); mkdir(c.out, 0755); mkdir(c.home, 0755);
    snprintf(buf, sizeof buf, "%s/.ssh", c.home); mkdir(buf, 0700);
    snprintf(buf, sizeof buf, "%s/.git", c.ws); mkdir(buf, 0755);
    snprintf(buf, sizeof buf, "%s/.git/hooks", c.ws); mkdir(buf, 0755);
    snprintf(buf, sizeof buf, "%s/lnk", c.ws);
    if (symlink(c.out, buf) != 0) abort();
    snprintf(buf, sizeof buf, "%s/sub", c.ws); mkdir(buf, 0755);
    setenv("HOME", c.home, 1);
    char err[256];
    if (sb_policy_init(&c.p, c.ws, err, sizeof err) != 0) abort();
    c.ready = 1;
    return &c;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    fuzz_ctx *c = ctx();
    if (size < 1 || size > 600) return 0;
    char path[700];
    int access = (data[0] & 1) ? SB_ACCESS_WRITE : SB_ACCESS_READ;
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    char res[PATH_MAX], why[512];
    if (sb_check_path(&c->p, path, access, res, sizeof res, why, sizeof why) != 0) {
        if (!why[0]) abort();                           /* a refusal always says why */
        return 0;
    }
    size_t n = strlen(c->ws);
    if (access == SB_ACCESS_WRITE) {
        if (strncmp(res, c->ws, n) != 0 || (res[n] != '\0' && res[n] != '/')) abort();
        const char *rel = res + n + (res[n] == '/');
        for (int i = 0; sb_protected_paths[i]; i++) {
            size_t m = strlen(sb_protected_paths[i]);
            if (strncmp(rel, sb_protected_paths[i], m) == 0 && (rel[m] == '\0' || rel[m] == '/')) abort();
        }
    }
    char ssh[300];
    snprintf(ssh, sizeof ssh, "%s/.ssh", c->home);
    size_t k = strlen(ssh);
    if (strncmp(res, ssh, k) == 0 && (res[k] == '\0' || res[k] == '/')) abort();   /* a denied folder */
    if (strstr(res, "/./") || strstr(res, "/../") || strstr(res, "//")) abort();
    return 0;
}
