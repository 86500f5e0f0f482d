/* test_tools_misc.c: declarations and schemas, the todo tool, rendering,
 * and the pure helpers (unified diff, HTML reduction, UTF-8 repair). */
#include "tt.h"

/* gt_declarations and gt_schema. */
static void test_decls(tt_env *e)
{
    cJSON *d = gt_declarations(e->ctx, NULL, 0);
    const char *want[] = {"shell", "read_file", "write_file", "edit_file", "list_dir", "glob", "grep", "fetch_url", "todo"};
    int n = cJSON_GetArraySize(d), good = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(d, i), *f = cJSON_GetObjectItem(it, "function");
        const cJSON *params = cJSON_GetObjectItem(f, "parameters");
        if (!strcmp(cJSON_GetObjectItem(it, "type")->valuestring, "function") &&
            !strcmp(cJSON_GetObjectItem(f, "name")->valuestring, want[i]) &&
            cJSON_IsString(cJSON_GetObjectItem(f, "description")) &&
            !strcmp(cJSON_GetObjectItem(params, "type")->valuestring, "object") &&
            cJSON_IsObject(cJSON_GetObjectItem(params, "properties")) &&
            cJSON_IsArray(cJSON_GetObjectItem(params, "required")))
            good++;
    }
    CHECK(n == 9 && good == 9, "gt_declarations: 9 OpenAI function tools in order (%d good)", good);
    /* flat: no property is an object (todo's items are an array of objects, the one exception) */
    bool flat = true;
    for (int i = 0; i < n; i++) {
        const cJSON *props = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(d, i),
                                                                                         "function"), "parameters"), "properties"), *p;
        cJSON_ArrayForEach(p, props) if (!strcmp(cJSON_GetObjectItem(p, "type")->valuestring, "object")) flat = false;
    }
    CHECK(flat, "schemas are flat");
    cJSON_Delete(d);
    const char *only[] = {"grep", "todo", "bogus"};
    d = gt_declarations(e->ctx, only, 3);
    CHECK(cJSON_GetArraySize(d) == 2, "gt_declarations filters by name");
    cJSON_Delete(d);
    const cJSON *s = gt_schema(e->ctx, "edit_file");
    CHECK(s && cJSON_GetObjectItem(cJSON_GetObjectItem(s, "properties"), "replace_all") &&
          cJSON_GetArraySize(cJSON_GetObjectItem(s, "required")) == 3, "gt_schema(edit_file)");
    CHECK(gt_schema(e->ctx, "nope") == NULL && gt_schema(e->ctx, NULL) == NULL, "gt_schema of an unknown tool is NULL");
}

/* todo: replace the plan, validate items, keep state. */
static void test_todo(tt_env *e)
{
    CHECK(cJSON_GetArraySize(gt_todo_items(e->ctx)) == 0, "the plan starts empty");
    cJSON *r = tt_call(e, "todo", "{\"items\":[{\"content\":\"read the code\",\"status\":\"completed\"},"
                                  "{\"content\":\"fix the bug\",\"status\":\"in_progress\"},"
                                  "{\"content\":\"run tests\",\"status\":\"pending\"}]}");
    CHECK(tt_ok(r) && !strcmp(tt_str(r, "plan"), "[x] read the code\n[~] fix the bug\n[ ] run tests\n") &&
          tt_num(r, "pending") == 1 && tt_num(r, "completed") == 1, "todo renders the plan:\n%s", tt_str(r, "plan"));
    cJSON_Delete(r);
    char *p = gt_todo_render(e->ctx);
    CHECK(p && strstr(p, "[~] fix the bug") && cJSON_GetArraySize(gt_todo_items(e->ctx)) == 3, "the plan is kept in the context");
    free(p);
    r = tt_call(e, "todo", "{\"items\":[{\"content\":\"x\",\"status\":\"done\"}]}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "'done'") && tt_has(r, "error", "in_progress"), "todo refuses a bad status: %s",
          tt_str(r, "error"));
    cJSON_Delete(r);
    CHECK(cJSON_GetArraySize(gt_todo_items(e->ctx)) == 3, "a refused plan leaves the old one");
    r = tt_call(e, "todo", "{\"items\":[\"just text\"]}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "item 1 must be an object"), "todo refuses a non-object item");
    cJSON_Delete(r);
    r = tt_call(e, "todo", "{\"items\":[{\"status\":\"pending\"}]}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "content"), "todo refuses an item without content");
    cJSON_Delete(r);
    r = tt_call(e, "todo", "{\"items\":[{\"content\":\"a\",\"status\":\"in_progress\"},{\"content\":\"b\",\"status\":\"in_progress\"}]}");
    CHECK(tt_ok(r) && tt_has(r, "note", "more than one"), "todo notes two steps in progress");
    cJSON_Delete(r);
    r = tt_call(e, "todo", "{\"items\":[]}");
    CHECK(tt_ok(r) && tt_has(r, "plan", "(no plan)"), "todo with an empty list clears the plan");
    cJSON_Delete(r);
}

/* gt_render for each tool. */
static void test_render(tt_env *e)
{
    tt_puts(e, "r.txt", "one\ntwo\n");
    cJSON *args = cJSON_Parse("{\"path\":\"r.txt\",\"old_string\":\"two\",\"new_string\":\"2\"}");
    cJSON *r = gt_call(e->ctx, "edit_file", args, NULL);
    char *t = gt_render("edit_file", args, r);
    CHECK(t && strstr(t, "edited r.txt (1 replacement)") && strstr(t, "-two\n+2\n"), "render edit_file shows the diff:\n%s", t);
    free(t);
    cJSON_Delete(r);
    r = gt_call(e->ctx, "read_file", args, NULL);   /* unknown arguments: an error result */
    t = gt_render("read_file", args, r);
    CHECK(t && strstr(t, "read_file failed: ") && strstr(t, "unknown argument"), "render of a failure: %s", t);
    free(t);
    cJSON_Delete(r);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"command\":\"seq 1 100\"}");
    r = gt_call(e->ctx, "shell", args, NULL);
    t = gt_render("shell", args, r);
    CHECK(t && strstr(t, "$ seq 1 100\n1\n") && strstr(t, "lines not shown") && strstr(t, "100\n[exit 0, "),
          "render shell: command, excerpt, exit:\n%s", t);
    free(t);
    cJSON_Delete(r);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"path\":\"r.txt\",\"content\":\"x\\n\"}");
    r = gt_call(e->ctx, "write_file", args, NULL);
    t = gt_render("write_file", args, r);
    CHECK(t && strstr(t, "wrote r.txt (2 bytes, 1 lines)"), "render write_file: %s", t);
    free(t);
    cJSON_Delete(r);
    cJSON_Delete(args);
    args = cJSON_Parse("{\"pattern\":\"x\"}");
    r = gt_call(e->ctx, "grep", args, NULL);
    t = gt_render("grep", args, r);
    CHECK(t && strstr(t, "grep /x/: 1 matching lines in 1 files\nr.txt:1:x"), "render grep: %s", t);
    free(t);
    cJSON_Delete(r);
    cJSON_Delete(args);
}

/* Unified diff details. */
static void test_diff(void)
{
    gt_buf b = {0};
    gt_udiff(&b, "a\nb\nc", 5, "a\nb\nC", 5, "a/f", "b/f", 3);
    CHECK(b.p && !strcmp(b.p, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n b\n-c\n\\ No newline at end of file\n+C\n"
                              "\\ No newline at end of file\n"), "udiff marks a missing final newline:\n%s", b.p);
    gb_free(&b);
    /* two distant changes make two hunks */
    char x[512] = "", y[512] = "";
    for (int i = 1; i <= 30; i++) {
        char l[16];
        snprintf(l, sizeof l, "%d\n", i);
        strcat(x, l);
        strcat(y, i == 3 ? "three\n" : i == 27 ? "twenty-seven\n" : l);
    }
    gt_udiff(&b, x, strlen(x), y, strlen(y), "a", "b", 3);
    CHECK(b.p && strstr(b.p, "@@ -1,6 +1,6 @@\n") && strstr(b.p, "@@ -24,7 +24,7 @@\n") && strstr(b.p, "+twenty-seven\n"),
          "udiff splits distant changes into hunks:\n%s", b.p);
    gb_free(&b);
    gt_udiff(&b, "same\n", 5, "same\n", 5, "a", "b", 3);
    CHECK(b.len == 0, "udiff of equal texts is empty");
    gb_free(&b);
    gt_udiff(&b, "x\ny\n", 4, "y\nz\n", 4, "a", "b", 3);
    CHECK(b.p && !strcmp(b.p, "--- a\n+++ b\n@@ -1,2 +1,2 @@\n-x\n y\n+z\n"), "udiff minimal edit:\n%s", b.p);
    gb_free(&b);
}

/* HTML reduction edge cases and UTF-8 repair. */
static void test_text(void)
{
    const char *h = "a<b>b</b>c <script>x</script> &bogus; &#0; &#99999999; 1 < 2 <SCRIPT>y</Script>z<style";
    char *t = gt_html_to_text(h, strlen(h), 1000);
    CHECK(t && strstr(t, "abc") && !strstr(t, "x") && !strstr(t, "y") && strstr(t, "&bogus;") &&
          strstr(t, "1 < 2") && strstr(t, "z"), "html: inline tags, mixed-case script, bad entities: %s", t);
    free(t);
    t = gt_html_to_text("<p>x", 4, 1000);
    CHECK(t && !strcmp(t, "x"), "html: unclosed tags");
    free(t);
    t = gt_html_to_text("<script>never closed", 20, 1000);
    CHECK(t && !strcmp(t, ""), "html: unclosed script drops the rest");
    free(t);
    size_t bad;
    const char *raw = "ok \xC3\xA9 \xC3 \xED\xA0\x80 \xF4\x90\x80\x80 end";
    char *u = gt_utf8_dup(raw, strlen(raw), &bad);
    CHECK(u && strstr(u, "ok \xC3\xA9 \xEF\xBF\xBD ") && strstr(u, " end") && bad == 8,
          "utf8: keeps valid, replaces truncated, surrogate and out-of-range bytes (%zu bad)", bad);
    free(u);
    gt_buf b = {0};
    const char *term = "\x1b[1;31merror\x1b[0m: x\r\n 10%\r 50%\r100%\n\x1b]0;title\x07" "done\n";
    gt_put_terminal(&b, term, strlen(term));
    CHECK(b.p && !strcmp(b.p, "error: x\r\n100%\ndone\n"), "terminal output loses escapes and redrawn progress: %s", b.p);
    gb_free(&b);
    CHECK(gt_looks_binary("a\0b", 3) && !gt_looks_binary("plain\ttext\r\n", 12) && !gt_looks_binary("", 0),
          "binary sniffing");
}

int main(void)
{
    tt_env e;
    tt_setup(&e);
    test_decls(&e);
    test_todo(&e);
    test_render(&e);
    test_diff();
    test_text();
    tt_teardown(&e);
    return check_exit();
}
