/* pull.c: `gemmash pull`: fetch a model from a Hugging Face style hub into
 * the store (mstore.h has the layout).
 *
 * The file list, sizes and sha256 come from GET {endpoint}/api/models/
 * {repo}/tree/main (LFS files carry lfs.oid = the sha256 of the content;
 * files kept in git carry oid = their git blob id, a SHA-1, checked too).
 * Each file is fetched from {endpoint}/{repo}/resolve/main/{file}
 * (redirects followed) into FILE.part; a .part left by an earlier run or a
 * dropped connection is continued with a Range request; the finished file
 * must have the listed size and sha256 before it is renamed into place.
 * The manifest is written last, so a half-pulled model never looks whole.
 * libcurl honours http_proxy, https_proxy and no_proxy by itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "mstore.h"
#include "sha256.h"
#include "gitsha1.h"

/* One pull: options, where things go, and the progress display state. */
typedef struct pull {
    const ms_pull_opts *o;
    char   endpoint[1024];
    char   auth[4200];           /* "Authorization: Bearer ..." or "" */
    char  *err; size_t errlen;
    bool   bar;                  /* a redrawn bar (terminal) or plain lines */
    /* the file being fetched */
    const char *file;
    uint64_t size, base;         /* expected size; bytes already on disk */
    double   t0, last_draw;
    int      last_quarter;
    FILE    *out;
    long     status;
    bool     wrote_error;        /* a write to disk failed */
    int      write_errno;
    char     body[2048];         /* error bodies (status >= 400) */
    size_t   body_n;
} pull;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Record a message for the caller and print it. */
static int fail(pull *p, const char *fmt, const char *a, const char *b, const char *c)
{
    snprintf(p->err, p->errlen, fmt, a, b, c);
    if (p->bar) fputc('\n', stderr);
    fprintf(stderr, "gemmash pull: %s\n", p->err);
    return MS_E_FAIL;
}

/* A memory sink for JSON answers. */
typedef struct membuf { char *b; size_t n; } membuf;
static size_t mem_write(char *d, size_t sz, size_t nm, void *ud)
{
    membuf *m = ud;
    size_t n = sz * nm;
    if (m->n + n > (64u << 20)) return 0;
    char *nb = realloc(m->b, m->n + n + 1);
    if (!nb) return 0;
    memcpy(nb + m->n, d, n);
    m->b = nb; m->n += n; m->b[m->n] = 0;
    return n;
}

/* Options every request shares: auth, redirects, timeouts, user agent. */
static struct curl_slist *common(pull *p, CURL *c, const char *url)
{
    struct curl_slist *h = NULL;
    if (p->auth[0]) h = curl_slist_append(h, p->auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    const char *stall = getenv("GEMMASH_PULL_STALL_S");
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall ? atol(stall) : 60L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "gemmash/0.1");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    return h;
}

/* The message for a refused request; returns MS_E_FAIL. */
static int http_refusal(pull *p, long st, const char *repo, const char *what)
{
    char sts[16];
    snprintf(sts, sizeof sts, "%ld", st);
    if (st == 401 || st == 403)
        return fail(p, "the hub refused %s of %s (HTTP %s): this model needs a Hugging Face token. Accept the "
                    "model's licence on its page, create a read token at https://huggingface.co/settings/tokens, "
                    "then: export HF_TOKEN=hf_... and run the pull again", what, repo, sts);
    if (st == 404)
        return fail(p, "not found: %s of %s (HTTP %s); check the name ('gemmash pull --help' lists the aliases); "
                    "a gated or private repository also answers 404 without HF_TOKEN", what, repo, sts);
    return fail(p, "the hub answered HTTP %s for %s of %s; try again later", sts, what, repo);
}

/* The message for a transfer that failed below HTTP. */
static int net_failure(pull *p, CURLcode rc, const char *what)
{
    if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_PROXY)
        return fail(p, "cannot reach %s (%s) while fetching %s: check the network connection, or set "
                    "HF_ENDPOINT (a mirror) or https_proxy", p->endpoint, curl_easy_strerror(rc), what);
    return fail(p, "fetching %s failed: %s (endpoint %s)", what, curl_easy_strerror(rc), p->endpoint);
}

/* GET a JSON document from the hub. */
static int get_json(pull *p, const char *url, const char *repo, const char *what, cJSON **out)
{
    CURL *c = curl_easy_init();
    if (!c) return fail(p, "cannot start libcurl (out of memory?) for %s%s%s", what, "", "");
    membuf m = {0};
    struct curl_slist *h = common(p, c, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    CURLcode rc = curl_easy_perform(c);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    int r = MS_OK;
    if (rc != CURLE_OK) r = net_failure(p, rc, what);
    else if (st != 200) r = http_refusal(p, st, repo, what);
    else if (!(*out = cJSON_Parse(m.b ? m.b : "")))
        r = fail(p, "the hub's answer for %s of %s is not JSON (%s); is HF_ENDPOINT a Hugging Face hub?", what, repo,
                 url);
    free(m.b);
    return r;
}

/* Draw the bar (terminal) or a line per quarter (logs). */
static void show(pull *p, uint64_t have, bool end)
{
    double t = now_s(), el = t - p->t0;
    if (p->o->quiet || (!end && p->bar && t - p->last_draw < 0.2)) return;
    p->last_draw = t;
    double speed = el > 0 ? (double)(have - p->base) / el : 0;
    char a[32], b[32], s[32], left[32] = "";
    ms_human(a, sizeof a, (double)have);
    ms_human(b, sizeof b, (double)p->size);
    ms_human(s, sizeof s, speed);
    int pct = p->size ? (int)(100.0 * (double)have / (double)p->size) : 100;
    if (speed > 0 && have < p->size) {
        double r = (double)(p->size - have) / speed;
        snprintf(left, sizeof left, r >= 3600 ? "%.0fh%02.0fm left" : r >= 60 ? "%.0fm%02.0fs left" : "%.0fs left",
                 r >= 3600 ? (double)(int)(r / 3600) : r >= 60 ? (double)(int)(r / 60) : r,
                 r >= 3600 ? (double)((int)r % 3600 / 60) : (double)((int)r % 60));
    }
    if (p->bar) {
        char bar[26];
        int fill = pct * 24 / 100;
        for (int i = 0; i < 24; i++) bar[i] = i < fill ? '#' : '.';
        bar[24] = 0;
        fprintf(stderr, "\r%-30.30s [%s] %3d%% %s/%s %s/s %s\033[K", p->file, bar, pct, a, b, s, left);
        if (end) fputc('\n', stderr);
    } else {
        int q = pct / 25;
        if (q == p->last_quarter) return;
        p->last_quarter = q;
        fprintf(stderr, "%s: %d%% of %s (%s/s)%s%s\n", p->file, pct, b, s, left[0] ? ", " : "", left);
    }
}

/* libcurl progress hook: redraw, and stop on Ctrl-C. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt; (void)ut; (void)un;
    pull *p = ud;
    if (p->o->interrupt && *p->o->interrupt) return 1;
    if (p->status == 200 || p->status == 206) show(p, p->base + (uint64_t)dn, false);
    return 0;
}

/* libcurl body hook: the file for 200/206, a small buffer for errors.
 * A 200 to a Range request means the server sent the whole file: start over. */
static size_t on_body(char *d, size_t sz, size_t nm, void *ud)
{
    pull *p = ud;
    size_t n = sz * nm;
    if (p->status != 200 && p->status != 206) {
        size_t k = n < sizeof p->body - 1 - p->body_n ? n : sizeof p->body - 1 - p->body_n;
        memcpy(p->body + p->body_n, d, k);
        p->body_n += k;
        p->body[p->body_n] = 0;
        return n;
    }
    if (fwrite(d, 1, n, p->out) != n) { p->wrote_error = true; p->write_errno = errno; return 0; }
    return n;
}

/* libcurl header hook: catch the final status line before the body. */
static size_t on_header(char *d, size_t sz, size_t nm, void *ud)
{
    pull *p = ud;
    size_t n = sz * nm;
    long st;
    if (n > 9 && strncmp(d, "HTTP/", 5) == 0 && sscanf(strchr(d, ' ') ? strchr(d, ' ') : d, " %ld", &st) == 1) {
        p->status = st;
        p->body_n = 0;
        if (st == 200 && p->base > 0 && p->out) {     /* Range ignored: restart the file */
            if (fflush(p->out) || ftruncate(fileno(p->out), 0) || fseek(p->out, 0, SEEK_SET)) {
                p->wrote_error = true; p->write_errno = errno; return 0;
            }
            p->base = 0;
        }
    }
    return n;
}

/* Size of a file, or 0 if absent. */
static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Fetch one file into dir with resume, retries and verification. */
static int fetch_file(pull *p, const char *repo, const char *dir, const char *file, uint64_t size, const char *sha,
                      const char *git_oid)
{
    char final[4600], part[4700], url[2600], what[600];
    if (ms_join(final, sizeof final, dir, file)) return fail(p, "path too long: %s/%s%s", dir, file, "");
    snprintf(part, sizeof part, "%s.part", final);
    snprintf(url, sizeof url, "%s/%s/resolve/main/%s", p->endpoint, repo, file);
    snprintf(what, sizeof what, "%s", file);
    struct stat st;
    if (stat(final, &st) == 0 && (uint64_t)st.st_size == size) {   /* verified before it was renamed */
        if (!p->o->quiet) fprintf(stderr, "%s: already here\n", file);
        return MS_OK;
    }
    int retries = p->o->retries < 0 ? 5 : p->o->retries;
    double wait = p->o->retry_wait > 0 ? p->o->retry_wait : 1.0;
    p->file = file;
    p->size = size;
    for (int attempt = 0;; attempt++) {
        uint64_t have = file_size(part);
        if (have > size) { if (truncate(part, 0)) return fail(p, "cannot truncate %s: %s%s", part, strerror(errno), ""); have = 0; }
        if (have == size) break;
        p->out = fopen(part, "ab");
        if (!p->out) return fail(p, "cannot write %s: %s; check the permissions of the store folder%s", part,
                                 strerror(errno), "");
        p->base = have;
        p->status = 0;
        p->body_n = 0;
        p->wrote_error = false;
        p->t0 = p->last_draw = now_s();
        p->last_quarter = -1;
        if (have && !p->o->quiet) fprintf(stderr, "%s: resuming at byte %llu\n", file, (unsigned long long)have);
        CURL *c = curl_easy_init();
        if (!c) { fclose(p->out); return fail(p, "cannot start libcurl for %s%s%s", file, "", ""); }
        struct curl_slist *h = common(p, c, url);
        char range[64];
        snprintf(range, sizeof range, "%llu-", (unsigned long long)have);
        if (have) curl_easy_setopt(c, CURLOPT_RANGE, range);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, p);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, p);
        CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        int cerr = fclose(p->out) ? errno : 0;
        p->out = NULL;
        uint64_t now_have = file_size(part);
        if (p->wrote_error || cerr) {
            int e = p->wrote_error ? p->write_errno : cerr;
            if (e == ENOSPC || e == EDQUOT)
                return fail(p, "the disk is full while writing %s; free some space (the partial file is kept and "
                            "the next pull resumes it)%s%s", part, "", "");
            return fail(p, "cannot write %s: %s%s", part, strerror(e), "");
        }
        if (rc == CURLE_ABORTED_BY_CALLBACK) {
            if (p->bar) fputc('\n', stderr);
            snprintf(p->err, p->errlen, "interrupted; %s keeps %llu bytes and the next pull resumes it", part,
                     (unsigned long long)now_have);
            fprintf(stderr, "gemmash pull: %s\n", p->err);
            return MS_E_INTERRUPTED;
        }
        if (p->status == 416) {                         /* our .part does not fit the file: start over once */
            if (have == 0 || attempt >= retries)
                return fail(p, "the hub refused the byte range for %s (HTTP 416) even from the start%s%s", file, "", "");
            if (truncate(part, 0)) return fail(p, "cannot truncate %s: %s%s", part, strerror(errno), "");
            continue;
        }
        if (rc == CURLE_OK && p->status >= 400 && p->status != 429 && p->status < 500)
            return http_refusal(p, p->status, repo, what);
        if (rc == CURLE_OK && now_have == size) break;
        bool transient = rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
                         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR || rc == CURLE_OK ||
                         p->status == 429 || p->status >= 500;
        if (!transient) return net_failure(p, rc, what);
        if (attempt >= retries && (p->status == 429 || p->status >= 500)) {
            char sts[24];
            snprintf(sts, sizeof sts, "%ld", p->status);
            return fail(p, "the hub kept answering HTTP %s for %s of %s; try again later (the partial file is kept)",
                        sts, file, repo);
        }
        if (attempt >= retries) {
            char got[64];
            snprintf(got, sizeof got, "%llu", (unsigned long long)now_have);
            return fail(p, "the connection dropped while fetching %s (%s bytes of it are kept in the .part file); "
                        "run the same pull again to resume%s", file, got, "");
        }
        if (p->bar) fputc('\n', stderr);
        if (!p->o->quiet)
            fprintf(stderr, "%s: connection dropped at byte %llu (%s); retrying in %.1f s\n", file,
                    (unsigned long long)now_have, rc != CURLE_OK ? curl_easy_strerror(rc) : "short reply", wait);
        usleep((useconds_t)(wait * 1e6));
        wait *= 2;
    }
    show(p, size, true);
    if (sha && *sha) {
        char got[65];
        if (sha256_file(part, got)) return fail(p, "cannot read back %s: %s%s", part, strerror(errno), "");
        if (strcmp(got, sha) != 0) {
            unlink(part);
            char msg[200];
            snprintf(msg, sizeof msg, "expected sha256 %.64s, got %.64s", sha, got);
            return fail(p, "checksum mismatch for %s: %s; the damaged file was removed, run the pull again "
                        "(if it repeats, the mirror or a proxy corrupts the download)%s", file, msg, "");
        }
    }
    else if (git_oid && strlen(git_oid) == 40) {
        char got[41];
        if (git_blob_id_file(part, got)) return fail(p, "cannot read back %s: %s%s", part, strerror(errno), "");
        if (strcmp(got, git_oid) != 0) {
            unlink(part);
            char msg[200];
            snprintf(msg, sizeof msg, "expected git blob id %.40s, got %.40s", git_oid, got);
            return fail(p, "checksum mismatch for %s: %s; the damaged file was removed, run the pull again%s",
                        file, msg, "");
        }
    }
    if (file_size(part) != size) return fail(p, "size mismatch for %s after download%s%s", file, "", "");
    if (rename(part, final)) return fail(p, "cannot rename %s into place: %s%s", part, strerror(errno), "");
    return MS_OK;
}

/* A checkpoint file worth fetching (weights, configs, tokenizer, template). */
static bool wanted(const char *path)
{
    if (strchr(path, '/')) return false;
    size_t l = strlen(path);
    static const char *ext[] = {".safetensors", ".json", ".jinja"};
    for (size_t i = 0; i < 3; i++) {
        size_t e = strlen(ext[i]);
        if (l > e && strcmp(path + l - e, ext[i]) == 0) return true;
    }
    return strcmp(path, "tokenizer.model") == 0;
}

/* mkdir -p for the store folder. */
static int mkdirs(const char *path)
{
    char t[4608];
    if (strlen(path) >= sizeof t) { errno = ENAMETOOLONG; return -1; }
    memcpy(t, path, strlen(path) + 1);
    for (char *s = t + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(t, 0755) && errno != EEXIST) return -1;
        *s = '/';
    }
    return mkdir(t, 0755) && errno != EEXIST ? -1 : 0;
}

/* Write the manifest (tmp + rename): the sign that the model is complete. */
static int write_manifest(pull *p, const char *dir, const ms_target *t, cJSON *files)
{
    char tmp[4600], fin[4600];
    ms_join(tmp, sizeof tmp, dir, MS_MANIFEST ".tmp");
    ms_join(fin, sizeof fin, dir, MS_MANIFEST);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", t->name);
    cJSON_AddStringToObject(m, "repo", t->repo);
    cJSON_AddStringToObject(m, "revision", "main");
    cJSON_AddStringToObject(m, "endpoint", p->endpoint);
    cJSON_AddItemToObject(m, "files", files);
    char *s = cJSON_Print(m);
    cJSON_Delete(m);
    FILE *f = s ? fopen(tmp, "w") : NULL;
    bool ok = f && fputs(s, f) >= 0;
    ok = f && fclose(f) == 0 && ok;
    free(s);
    if (!ok || rename(tmp, fin)) return fail(p, "cannot write the manifest %s: %s%s", fin, strerror(errno), "");
    return MS_OK;
}

/* Pick the files to fetch from the tree listing; a new array of
 * {path,size,sha256?} or NULL with a message. */
static cJSON *choose(pull *p, const cJSON *tree, const ms_target *t, uint64_t *total)
{
    cJSON *out = cJSON_CreateArray();
    int ggufs = 0, weights = 0;
    char some[300] = "";
    *total = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, tree) {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(e, "type"));
        if (!path || (type && strcmp(type, "file") != 0)) continue;
        size_t l = strlen(path);
        if (l > 5 && strcmp(path + l - 5, ".gguf") == 0 && ggufs++ < 3)
            snprintf(some + strlen(some), sizeof some - strlen(some), "%s%s", ggufs > 1 ? ", " : "", path);
        if (t->file[0] ? strcmp(path, t->file) != 0 : !wanted(path)) continue;
        if (strstr(path, ".safetensors")) weights++;
        const cJSON *lfs = cJSON_GetObjectItem(e, "lfs");
        const cJSON *sz = cJSON_GetObjectItem(lfs ? lfs : e, "size");
        if (!cJSON_IsNumber(sz)) sz = cJSON_GetObjectItem(e, "size");
        const char *oid = cJSON_GetStringValue(cJSON_GetObjectItem(lfs, "oid"));
        if (!cJSON_IsNumber(sz) || sz->valuedouble < 0) {
            cJSON_Delete(out);
            fail(p, "the hub's listing of %s gives no size for %s%s", t->repo, path, "");
            return NULL;
        }
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", path);
        cJSON_AddNumberToObject(f, "size", sz->valuedouble);
        if (oid) cJSON_AddStringToObject(f, "sha256", oid);
        else if (cJSON_GetStringValue(cJSON_GetObjectItem(e, "oid")))
            cJSON_AddStringToObject(f, "git_oid", cJSON_GetStringValue(cJSON_GetObjectItem(e, "oid")));
        cJSON_AddItemToArray(out, f);
        *total += (uint64_t)sz->valuedouble;
    }
    if (t->file[0] && cJSON_GetArraySize(out) == 0) {
        cJSON_Delete(out);
        fail(p, "%s has no file %s (HTTP 404 in its listing); check the file name on the repository page%s",
             t->repo, t->file, "");
        return NULL;
    }
    if (!t->file[0] && weights == 0) {
        cJSON_Delete(out);
        if (ggufs) fail(p, "%s holds GGUF files, not a checkpoint folder; name one: hf:%s/FILE (it has %s)", t->repo,
                        t->repo, some);
        else fail(p, "%s has no .safetensors weights at the top of the repository%s%s", t->repo, "", "");
        return NULL;
    }
    return out;
}

int ms_pull(const char *arg, const ms_pull_opts *o, char *path, size_t len, char *err, size_t errlen)
{
    char ebuf[1024];
    if (!err) { err = ebuf; errlen = sizeof ebuf; }
    pull p = {.o = o, .err = err, .errlen = errlen};
    ms_target t;
    if (ms_target_parse(arg, &t, err, errlen)) { fprintf(stderr, "gemmash pull: %s\n", err); return MS_E_USAGE; }
    if (o->as_name) {
        if (!*o->as_name || strchr(o->as_name, '/') || o->as_name[0] == '.') {
            snprintf(err, errlen, "--as wants a plain folder name (no '/', not starting with '.'), got '%s'", o->as_name);
            fprintf(stderr, "gemmash pull: %s\n", err);
            return MS_E_USAGE;
        }
        snprintf(t.name, sizeof t.name, "%s", o->as_name);
    }
    const char *ep = o->endpoint ? o->endpoint : getenv("HF_ENDPOINT");
    snprintf(p.endpoint, sizeof p.endpoint, "%s", ep && *ep ? ep : "https://huggingface.co");
    size_t el = strlen(p.endpoint);
    while (el && p.endpoint[el - 1] == '/') p.endpoint[--el] = 0;
    const char *tok = o->token ? o->token : getenv("HF_TOKEN");
    if (tok && *tok) snprintf(p.auth, sizeof p.auth, "Authorization: Bearer %s", tok);
    p.bar = o->progress > 0 || (o->progress < 0 && isatty(2));
    char dir[4096], folder[4400], url[2600];
    if (ms_dir(dir, sizeof dir)) return fail(&p, "cannot find the model store: set HOME or GEMMASH_HOME%s%s%s", "", "", "");
    if (ms_join(folder, sizeof folder, dir, t.name)) return fail(&p, "path too long: %s/%s%s", dir, t.name, "");
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) return fail(&p, "cannot start libcurl%s%s%s", "", "", "");
    snprintf(url, sizeof url, "%s/api/models/%s/tree/main", p.endpoint, t.repo);
    cJSON *tree = NULL, *files = NULL;
    int rc = get_json(&p, url, t.repo, "the file list", &tree);
    uint64_t total = 0, need = 0;
    if (rc == MS_OK && !cJSON_IsArray(tree))
        rc = fail(&p, "the hub's file list for %s is not a JSON array (%s)%s", t.repo, url, "");
    if (rc == MS_OK && !(files = choose(&p, tree, &t, &total))) rc = MS_E_FAIL;
    if (rc == MS_OK && mkdirs(folder))
        rc = fail(&p, "cannot create %s: %s%s", folder, strerror(errno), "");
    if (rc == MS_OK) {
        const cJSON *f;
        cJSON_ArrayForEach(f, files) {
            char fp[4800];
            ms_join(fp, sizeof fp, folder, cJSON_GetStringValue(cJSON_GetObjectItem(f, "path")));
            uint64_t sz = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "size"));
            if (file_size(fp) != sz) {
                strcat(fp, ".part");
                uint64_t h = file_size(fp);
                need += sz > h ? sz - h : 0;
            }
        }
        struct statvfs vs;
        if (statvfs(folder, &vs) == 0 && (uint64_t)vs.f_bavail * vs.f_frsize < need) {
            char a[32], b[32];
            ms_human(a, sizeof a, (double)need);
            ms_human(b, sizeof b, (double)vs.f_bavail * vs.f_frsize);
            rc = fail(&p, "not enough disk space in %s: the download needs %s more, %s is free; free some space or "
                      "set GEMMASH_HOME to a bigger disk", folder, a, b);
        }
    }
    if (rc == MS_OK && !o->quiet) {
        char a[32];
        ms_human(a, sizeof a, (double)total);
        fprintf(stderr, "pulling %s (%s) into %s: %d files, %s\n", t.repo, t.file[0] ? t.file : "checkpoint", folder,
                cJSON_GetArraySize(files), a);
    }
    const cJSON *f;
    if (rc == MS_OK) cJSON_ArrayForEach(f, files) {
        rc = fetch_file(&p, t.repo, folder, cJSON_GetStringValue(cJSON_GetObjectItem(f, "path")),
                        (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "size")),
                        cJSON_GetStringValue(cJSON_GetObjectItem(f, "sha256")),
                        cJSON_GetStringValue(cJSON_GetObjectItem(f, "git_oid")));
        if (rc != MS_OK) break;
    }
    if (rc == MS_OK) { rc = write_manifest(&p, folder, &t, files); files = NULL; }
    cJSON_Delete(files);
    cJSON_Delete(tree);
    curl_global_cleanup();
    if (rc != MS_OK) return rc;
    char lp[4400];
    char rerr[512];
    if (ms_resolve(t.name, lp, sizeof lp, rerr, sizeof rerr)) snprintf(lp, sizeof lp, "%s", folder);
    if (path) snprintf(path, len, "%s", lp);
    if (!o->quiet) fprintf(stderr, "done: %s is ready; use it with -m %s\n", t.name, t.name);
    return MS_OK;
}
