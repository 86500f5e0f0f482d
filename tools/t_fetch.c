/* t_fetch.c: the fetch_url tool.
 *
 * Downloads one http(s) page through libcurl in this process (never through
 * the sandboxed shell), only when the policy allows network access.  The
 * download stops at max_bytes and at a time limit, and stops at once when
 * the user interrupts.  HTML comes back reduced to text. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "tools_int.h"

typedef struct fetch_state {
    gt_buf body;
    size_t max;
    bool   cut;
    volatile sig_atomic_t *intr;
} fetch_state;

/* libcurl write callback: keep at most max bytes, then stop the transfer. */
static size_t on_data(char *p, size_t sz, size_t nm, void *u)
{
    fetch_state *f = u;
    size_t n = sz * nm, room = f->max - f->body.len;
    if (n > room) {
        gb_put(&f->body, p, room);
        f->cut = true;
        return 0;
    }
    gb_put(&f->body, p, n);
    return f->body.oom ? 0 : n;
}

/* libcurl progress callback: non-zero aborts when interrupted. */
static int on_progress(void *u, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt; (void)dn; (void)ut; (void)un;
    fetch_state *f = u;
    return f->intr && *f->intr ? 1 : 0;
}

/* Is this content type text we can show as is? */
static bool texty(const char *ct)
{
    return !strncasecmp(ct, "text/", 5) || strcasestr(ct, "json") || strcasestr(ct, "xml") ||
           strcasestr(ct, "javascript") || strcasestr(ct, "yaml") || strcasestr(ct, "toml");
}

/* fetch_url(url, max_bytes?) */
cJSON *gt_tool_fetch_url(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    const char *url = ga_str(a, "url");
    if (!c->pol->allow_network)
        return gt_fail(c, "fetch_url: network access is off in this session's sandbox policy, so %s was not "
                       "fetched; ask the user to allow network access if the page is needed", url);
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))
        return gt_fail(c, "fetch_url: only http:// and https:// addresses can be fetched, not '%.200s'", url);
    long mb = 0;
    size_t max = c->caps.fetch_max_bytes;
    if (ga_int(a, "max_bytes", &mb)) {
        if (mb <= 0) return gt_fail(c, "fetch_url: max_bytes must be positive");
        max = (size_t)mb > c->caps.fetch_hard_max ? c->caps.fetch_hard_max : (size_t)mb;
    }
    CURL *h = curl_easy_init();
    if (!h) return gt_fail(c, "fetch_url: libcurl could not start (curl_easy_init failed)");
    fetch_state f = {.max = max, .intr = intr};
    char errbuf[CURL_ERROR_SIZE] = "";
    long timeout_ms = (long)(c->caps.fetch_timeout_s * 1000);
    bool set_ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_WRITEDATA, &f) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &f) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
                  curl_easy_setopt(h, CURLOPT_USERAGENT, "gemmash-fetch/1") == CURLE_OK;
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");   /* optional: compressed transfers */
    if (!set_ok) {
        curl_easy_cleanup(h);
        return gt_fail(c, "fetch_url: libcurl refused an option (is it older than 7.85?)");
    }
    CURLcode rc = curl_easy_perform(h);
    cJSON *o = NULL;
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        o = gt_fail(c, "fetch_url: interrupted by the user while fetching %s", url);
        if (o) gj_bool(c, o, "interrupted", true);
        goto done;
    }
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && f.cut)) {
        if (rc == CURLE_WRITE_ERROR && f.body.oom) o = gt_fail(c, "fetch_url: out of memory downloading %s", url);
        else o = gt_fail(c, "fetch_url: %s: %s%s%s", url, curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
        goto done;
    }
    long status = 0;
    char *ct = NULL, *eff = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
    const char *type = ct ? ct : "";
    const char *body = f.body.p ? f.body.p : "";
    size_t blen = f.body.len;
    bool html = strcasestr(type, "html") || (!*type && blen && (strncasecmp(body, "<!doctype html", 14) == 0 ||
                                                                strncasecmp(body, "<html", 5) == 0));
    char *text = NULL;
    if (html) {
        text = gt_html_to_text(body, blen, c->caps.fetch_max_text + 4);
    } else if (texty(type) || !gt_looks_binary(body, blen)) {
        text = gt_utf8_dup(body, blen, NULL);
    } else {
        o = gt_fail(c, "fetch_url: %s returned binary content (%s, %zu bytes); fetch_url only returns text", url,
                    *type ? type : "unknown type", blen);
        goto done;
    }
    if (!text) { o = gt_fail(c, "fetch_url: out of memory converting %s", url); goto done; }
    size_t tl = strlen(text);
    bool text_cut = false;
    if (tl > c->caps.fetch_max_text) {
        size_t cut = c->caps.fetch_max_text;
        while (cut && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--;
        text[cut] = 0;
        text_cut = true;
    }
    char *safe = gt_utf8_dup(text, strlen(text), NULL);
    free(text);
    if (!safe) { o = gt_fail(c, "fetch_url: out of memory"); goto done; }
    o = cJSON_CreateObject();
    if (!o) { free(safe); goto done; }
    gj_bool(c, o, "ok", status < 400);
    if (status >= 400) {
        char msg[128];
        snprintf(msg, sizeof msg, "the server answered HTTP %ld", status);
        gj_str(c, o, "error", msg);
    }
    gj_str(c, o, "url", url);
    if (eff && strcmp(eff, url)) gj_str(c, o, "final_url", eff);
    gj_num(c, o, "status", status);
    gj_str(c, o, "content_type", type);
    gj_num(c, o, "bytes", (double)blen);
    gj_bool(c, o, "truncated", f.cut || text_cut);
    gj_str(c, o, "content", safe);
    free(safe);
    if (f.cut || text_cut) {
        char note[256];
        snprintf(note, sizeof note, "%s%s%s", f.cut ? "download stopped at max_bytes" : "",
                 f.cut && text_cut ? "; " : "", text_cut ? "text cut to the size limit" : "");
        gj_str(c, o, "note", note);
    }
done:
    gb_free(&f.body);
    curl_easy_cleanup(h);
    return o;
}
