/* test_store.c: the pieces of the model store that need no server:
 * SHA-256 test vectors, alias and hf: parsing, the memory-based
 * suggestion, -m resolution and the headless first run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "mstore.h"
#include "sha256.h"
#include "gitsha1.h"

static void hex_of(const char *s, size_t n, size_t chunk, char out[65])
{
    sha256_ctx c;
    sha256_init(&c);
    for (size_t i = 0; i < n; i += chunk) sha256_update(&c, s + i, n - i < chunk ? n - i : chunk);
    sha256_hex(&c, out);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (f) { fputs(s, f); fclose(f); }
}

int main(void)
{
    char h[65];
    hex_of("", 0, 1, h);
    CHECK(!strcmp(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "sha256 of the empty string");
    hex_of("abc", 3, 1, h);
    CHECK(!strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256 of abc");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(m, strlen(m), 7, h);
    CHECK(!strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "sha256 of the 448-bit vector, fed in 7-byte pieces");
    char *mil = malloc(1000000);
    memset(mil, 'a', 1000000);
    hex_of(mil, 1000000, 4096, h);
    CHECK(!strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "sha256 of a million 'a'");
    free(mil);

    sha1_ctx s1;
    char h1[41];
    sha1_init(&s1);
    sha1_update(&s1, "abc", 3);
    sha1_hex(&s1, h1);
    CHECK(!strcmp(h1, "a9993e364706816aba3e25717850c26c9cd0d89d"), "sha1 of abc");
    sha1_init(&s1);
    sha1_update(&s1, m, strlen(m));
    sha1_hex(&s1, h1);
    CHECK(!strcmp(h1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"), "sha1 of the 448-bit vector");
    char gp[] = "/tmp/gm-blob-XXXXXX";
    int gfd = mkstemp(gp);
    CHECK(gfd >= 0 && write(gfd, "hello\n", 6) == 6 && close(gfd) == 0 && git_blob_id_file(gp, h1) == 0 &&
          !strcmp(h1, "ce013625030ba8dba906f756967f9e9ca394464a"), "git blob id of \"hello\\n\" (as git hash-object)");
    unlink(gp);

    ms_target t;
    char err[512];
    CHECK(ms_target_parse("e2b-q4", &t, err, sizeof err) == 0 && !strcmp(t.repo, "unsloth/gemma-4-E2B-it-GGUF") &&
          strstr(t.file, "Q4_K_M.gguf") && !strcmp(t.name, "e2b-q4"), "alias e2b-q4 maps to a GGUF file");
    CHECK(ms_target_parse("E4B-bf16", &t, err, sizeof err) == 0 && !strcmp(t.repo, "google/gemma-4-E4B-it") &&
          !t.file[0] && !strcmp(t.name, "e4b"), "NAME-bf16 is the plain checkpoint, stored as NAME");
    CHECK(ms_target_parse("31b-draft", &t, err, sizeof err) == 0 && !strcmp(t.repo, "google/gemma-4-31B-it-assistant"),
          "the -draft alias names the assistant drafter");
    CHECK(ms_target_parse("hf:a/b/c.gguf", &t, err, sizeof err) == 0 && !strcmp(t.repo, "a/b") && !strcmp(t.file, "c.gguf") &&
          !strcmp(t.name, "a--b--c"), "hf:OWNER/REPO/FILE parses (store name a--b--c)");
    CHECK(ms_target_parse("hf:a/../x", &t, err, sizeof err) == -1 && strstr(err, "hf:OWNER/REPO"), "a '..' in hf: is refused");
    CHECK(ms_target_parse("hf:a", &t, err, sizeof err) == -1, "hf: without a repository is refused");

    const unsigned long long G = 1000ull * 1000 * 1000;
    CHECK(!strcmp(ms_suggest(4 * G), "e2b-q4") && !strcmp(ms_suggest(12 * G), "e4b-q4") &&
          !strcmp(ms_suggest(64 * G), "26b-q4"), "the suggestion follows memory: E2B Q4 < 8 GB < E4B Q4 < 16 GB < 26B");

    char tmpl[] = "/tmp/gm-store-XXXXXX", path[4608], p2[4800];
    CHECK(mkdtemp(tmpl) != NULL, "a temporary store");
    setenv("GEMMASH_HOME", tmpl, 1);
    CHECK(ms_dir(path, sizeof path) == 0 && strstr(path, "/models"), "GEMMASH_HOME/models is the store");
    CHECK(ms_first_run(false, NULL, path, sizeof path) == MS_E_FAIL, "a headless first run with an empty store exits 3");
    char d[200];
    snprintf(d, sizeof d, "%s/models", tmpl);
    mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/models/mine", tmpl);
    mkdir(d, 0755);
    snprintf(p2, sizeof p2, "%s/config.json", d);
    write_file(p2, "{\"architectures\":[\"Gemma4ForConditionalGeneration\"]}");
    CHECK(ms_resolve("mine", path, sizeof path, err, sizeof err) == -1 && strstr(err, "partly downloaded"),
          "a folder without a manifest is an unfinished pull: %s", err);
    snprintf(p2, sizeof p2, "%s/" MS_MANIFEST, d);
    write_file(p2, "{\"repo\":\"x/y\"}");
    CHECK(ms_resolve("mine", path, sizeof path, err, sizeof err) == 0 && !strcmp(path, d), "-m NAME resolves to the store folder");
    CHECK(ms_resolve(d, path, sizeof path, err, sizeof err) == 0 && !strcmp(path, d), "an existing path is kept");
    CHECK(ms_first_run(false, NULL, path, sizeof path) == 0 && !strcmp(path, d), "the first run picks the installed model");
    ms_entry *es;
    size_t n;
    CHECK(ms_list(&es, &n, err, sizeof err) == 0 && n == 1 && !strcmp(es[0].arch, "Gemma4ForConditionalGeneration") &&
          !strcmp(es[0].repo, "x/y") && !strcmp(es[0].type, "safetensors"), "ms_list describes it");
    if (n) free(es);
    char cmd[4800];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    CHECK(system(cmd) == 0, "clean up");
    return check_exit();
}
