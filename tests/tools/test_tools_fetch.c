/* test_tools_fetch.c: fetch_url against a tiny HTTP server on 127.0.0.1
 * that this test runs in a thread; refusal when the network is off; HTML
 * reduced to text. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include "tt.h"

static const char PAGE[] =
    "<!DOCTYPE html><html><head><title>Test &amp; Page</title>\n"
    "<style>body { color: red; }</style><script>var secret = 1;</script></head>\n"
    "<body><h1>Hello&nbsp;&amp; welcome</h1>\n<p>caf&#233; &copy; 2024 &lt;tag&gt; &#x263A;</p>\n"
    "<!-- a comment -->\n<ul><li>one</li><li>two</li></ul>\n"
    "<p>lots    of\n\n   space</p><pre>  keep\n    this</pre></body></html>\n";

/* Write all of buf to fd (the client may hang up early). */
static void put_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w <= 0) return;
        buf += w;
        n -= (size_t)w;
    }
}

/* Send one response with a body. */
static void respond(int fd, const char *status, const char *type, const char *extra, const char *body, size_t n)
{
    char head[512];
    int k = snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: "
                     "close\r\n\r\n", status, type, n, extra);
    put_all(fd, head, (size_t)k);
    put_all(fd, body, n);
}

/* Server thread: one request per connection until the listening socket closes. */
static void *serve(void *p)
{
    int lfd = *(int *)p;
    static char big[200000];
    memset(big, 'a', sizeof big);
    for (size_t i = 79; i < sizeof big; i += 80) big[i] = '\n';
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) return NULL;
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t n = read(fd, req + got, sizeof req - 1 - got);
            if (n <= 0) break;
            got += (size_t)n;
            req[got] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        }
        req[got] = 0;
        char path[256] = "";
        sscanf(req, "GET %255s", path);
        if (!strcmp(path, "/page.html")) respond(fd, "200 OK", "text/html; charset=utf-8", "", PAGE, sizeof PAGE - 1);
        else if (!strcmp(path, "/big.txt")) respond(fd, "200 OK", "text/plain", "", big, sizeof big);
        else if (!strcmp(path, "/bin")) respond(fd, "200 OK", "application/octet-stream", "", "\x7f" "ELF\0\0\0\1", 8);
        else if (!strcmp(path, "/redirect")) respond(fd, "302 Found", "text/plain", "Location: /page.html\r\n", "", 0);
        else if (!strcmp(path, "/data.json")) respond(fd, "200 OK", "application/json", "", "{\"a\": 1}", 8);
        else respond(fd, "404 Not Found", "text/plain", "", "not here\n", 9);
        close(fd);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    tt_env env, *e = &env;
    tt_setup(e);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 8) ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
        perror("test server");
        return 1;
    }
    int port = ntohs(sa.sin_port);
    pthread_t th;
    pthread_create(&th, NULL, serve, &lfd);

    e->pol.allow_network = false;
    cJSON *r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/page.html\"}", port);
    CHECK(!tt_ok(r) && tt_has(r, "error", "network access is off"), "fetch_url is refused when the network is off: %s",
          tt_str(r, "error"));
    cJSON_Delete(r);

    e->pol.allow_network = true;
    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/page.html\"}", port);
    const char *t = tt_str(r, "content");
    CHECK(tt_ok(r) && tt_num(r, "status") == 200 && tt_has(r, "content_type", "text/html"), "fetch_url gets a page");
    CHECK(strstr(t, "Test & Page") && strstr(t, "Hello & welcome") && strstr(t, "caf\xC3\xA9 \xC2\xA9 2024 <tag> \xE2\x98\xBA"),
          "fetch_url decodes entities:\n%s", t);
    CHECK(!strstr(t, "secret") && !strstr(t, "color") && !strstr(t, "comment") && !strstr(t, "<h1>"),
          "fetch_url strips script, style, comments and tags");
    CHECK(strstr(t, "- one\n- two") && strstr(t, "lots of space") && strstr(t, "  keep\n    this"),
          "fetch_url turns lists into lines, collapses blanks, keeps <pre>");
    char *txt = gt_render("fetch_url", NULL, r);
    CHECK(txt && strstr(txt, "fetched http://127.0.0.1") && strstr(txt, "HTTP 200"), "render of fetch_url: %s", txt);
    free(txt);
    cJSON_Delete(r);

    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/big.txt\",\"max_bytes\":1000}", port);
    CHECK(tt_ok(r) && tt_num(r, "bytes") == 1000 && cJSON_IsTrue(cJSON_GetObjectItem(r, "truncated")) &&
          strlen(tt_str(r, "content")) == 1000 && tt_has(r, "note", "max_bytes"), "fetch_url stops at max_bytes");
    cJSON_Delete(r);

    gt_caps *caps = gt_caps_of(e->ctx);
    caps->fetch_max_text = 5000;
    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/big.txt\"}", port);
    CHECK(tt_ok(r) && tt_num(r, "bytes") == 200000 && strlen(tt_str(r, "content")) == 5000 &&
          tt_has(r, "note", "text cut"), "fetch_url caps the returned text");
    cJSON_Delete(r);

    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/missing\"}", port);
    CHECK(!tt_ok(r) && tt_num(r, "status") == 404 && tt_has(r, "error", "HTTP 404"), "fetch_url reports HTTP 404");
    cJSON_Delete(r);

    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/bin\"}", port);
    CHECK(!tt_ok(r) && tt_has(r, "error", "binary"), "fetch_url refuses binary content: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/redirect\"}", port);
    CHECK(tt_ok(r) && tt_has(r, "final_url", "/page.html") && tt_has(r, "content", "Hello"), "fetch_url follows redirects");
    cJSON_Delete(r);

    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/data.json\"}", port);
    CHECK(tt_ok(r) && !strcmp(tt_str(r, "content"), "{\"a\": 1}"), "fetch_url returns JSON as is");
    cJSON_Delete(r);

    r = tt_call(e, "fetch_url", "{\"url\":\"file:///etc/passwd\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "only http"), "fetch_url refuses file://");
    cJSON_Delete(r);
    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/page.html\",\"max_bytes\":0}", port);
    CHECK(!tt_ok(r) && tt_has(r, "error", "max_bytes"), "fetch_url refuses max_bytes 0");
    cJSON_Delete(r);

    /* a closed port fails with curl's reason */
    shutdown(lfd, SHUT_RDWR);   /* wakes the server's accept */
    pthread_join(th, NULL);
    close(lfd);
    r = tt_call(e, "fetch_url", "{\"url\":\"http://127.0.0.1:%d/page.html\"}", port);
    CHECK(!tt_ok(r) && tt_has(r, "error", "127.0.0.1"), "fetch_url on a closed port: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    tt_teardown(e);
    return check_exit();
}
