/* test_tools_search.c: list_dir, glob and grep; .gitignore, binaries, caps;
 * the glob matcher and the closest-region matcher on their own. */
#include "tt.h"

/* A small repository: sources, an ignored build folder, a binary. */
static void make_tree(tt_env *e)
{
    char p[1024];
    const char *dirs[] = {".git", "src", "src/util", "build", "docs", "node_modules"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", e->ws, dirs[i]);
        mkdir(p, 0755);
    }
    tt_puts(e, ".gitignore", "build/\n*.o\nnode_modules\n!keep.o\n");
    tt_puts(e, ".git/HEAD", "ref: refs/heads/main\n");
    tt_puts(e, "src/main.c", "#include <stdio.h>\nint main(void)\n{\n    puts(\"hello\");\n    return 0;\n}\n");
    tt_puts(e, "src/util/str.c", "int str_len(const char *s)\n{\n    int n = 0;\n    while (s[n]) n++;\n    return n;\n}\n");
    tt_puts(e, "src/util/str.h", "int str_len(const char *s);\n");
    tt_puts(e, "src/main.o", "hello object\n");
    tt_puts(e, "src/keep.o", "hello kept\n");
    tt_puts(e, "build/out.c", "int hello_generated;\n");
    tt_puts(e, "node_modules/x.js", "hello()\n");
    tt_puts(e, "docs/guide.md", "# Guide\nSay hello.\n");
    tt_write(e, "docs/logo.png", "\x89PNG\r\n\x1a\n\0\0hello", 15);
    tt_puts(e, "docs/.gitignore", "draft*\n");
    tt_puts(e, "docs/draft1.md", "hello draft\n");
}

/* list_dir: tree, sizes, gitignore, depth, caps. */
static void test_list(tt_env *e)
{
    cJSON *r = tt_call(e, "list_dir", "{}");
    const char *t = tt_str(r, "content");
    CHECK(tt_ok(r) && strstr(t, "src/\n") && strstr(t, "  main.c  (") && strstr(t, "  util/") &&
          strstr(t, "docs/\n"), "list_dir shows a two-level tree:\n%s", t);
    CHECK(!strstr(t, "build") && !strstr(t, "node_modules") && !strstr(t, "main.o") && !strstr(t, ".git/") &&
          !strstr(t, "draft1"), "list_dir hides .git/ and what .gitignore ignores");
    CHECK(strstr(t, "keep.o") != NULL, "list_dir honours a ! re-include");
    CHECK(tt_has(r, "note", "ignored by .gitignore"), "list_dir says entries were ignored: %s", tt_str(r, "note"));
    cJSON_Delete(r);

    r = tt_call(e, "list_dir", "{\"path\":\"src\",\"depth\":1}");
    t = tt_str(r, "content");
    CHECK(tt_ok(r) && strstr(t, "util/  (2 entries)") && !strstr(t, "str.c"), "list_dir depth 1 counts sub-entries:\n%s", t);
    cJSON_Delete(r);

    gt_caps *caps = gt_caps_of(e->ctx), saved = *caps;
    caps->search_max_results = 3;
    r = tt_call(e, "list_dir", "{\"depth\":3}");
    CHECK(tt_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "truncated")) && tt_num(r, "entries") == 3 &&
          tt_has(r, "note", "stopped after 3 entries"), "list_dir caps entries with a note: %s", tt_str(r, "note"));
    cJSON_Delete(r);
    *caps = saved;

    r = tt_call(e, "list_dir", "{\"path\":\"src/main.c\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "read_file"), "list_dir on a file");
    cJSON_Delete(r);
    r = tt_call(e, "list_dir", "{\"path\":\"nowhere\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "does not exist"), "list_dir on a missing folder");
    cJSON_Delete(r);
}

/* glob: ** patterns, literal prefixes, gitignore, caps. */
static void test_glob(tt_env *e)
{
    cJSON *r = tt_call(e, "glob", "{\"pattern\":\"**/*.c\"}");
    const char *t = tt_str(r, "content");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 2 && strstr(t, "src/main.c\n") && strstr(t, "src/util/str.c\n"),
          "glob **/*.c finds both sources:\n%s", t);
    CHECK(!strstr(t, "build/out.c"), "glob skips ignored folders");
    cJSON_Delete(r);

    r = tt_call(e, "glob", "{\"pattern\":\"src/**/*.h\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 1 && tt_has(r, "content", "src/util/str.h"), "glob src/**/*.h");
    cJSON_Delete(r);
    r = tt_call(e, "glob", "{\"pattern\":\"*.c\",\"path\":\"src\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 1 && tt_has(r, "content", "src/main.c"), "glob with a path stays shallow");
    cJSON_Delete(r);
    r = tt_call(e, "glob", "{\"pattern\":\"**/*.o\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 1 && tt_has(r, "content", "keep.o"), "glob honours *.o and !keep.o");
    cJSON_Delete(r);
    r = tt_call(e, "glob", "{\"pattern\":\"**/*.zig\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 0 && tt_has(r, "content", "no match"), "glob with no match says so");
    cJSON_Delete(r);

    gt_caps *caps = gt_caps_of(e->ctx), saved = *caps;
    caps->search_max_results = 1;
    r = tt_call(e, "glob", "{\"pattern\":\"**/*\"}");
    CHECK(tt_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "truncated")) && tt_has(r, "note", "showing 1 of"),
          "glob caps results and counts the rest: %s", tt_str(r, "note"));
    cJSON_Delete(r);
    *caps = saved;

    CHECK(gt_glob_match("**/*.c", "a.c") && gt_glob_match("**/*.c", "x/y/a.c") && !gt_glob_match("*.c", "x/a.c"),
          "glob_match: ** crosses folders, * does not");
    CHECK(gt_glob_match("a/**/b", "a/b") && gt_glob_match("a/**/b", "a/x/y/b") && !gt_glob_match("a/**/b", "a/xb"),
          "glob_match: a/**/b");
    CHECK(gt_glob_match("f[0-9]?.txt", "f1a.txt") && !gt_glob_match("f[!0-9].txt", "f1.txt") &&
          gt_glob_match("\\*lit", "*lit"), "glob_match: classes, negation, escapes");
    CHECK(!gt_glob_match("dir/**", "dir") && gt_glob_match("dir/**", "dir/a/b"), "glob_match: dir/**");
    char longs[3000];
    memset(longs, 'a', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    CHECK(!gt_glob_match("*a*a*a*a*a*a*a*a*a*a*b", longs), "glob_match: a hostile pattern stays bounded");
}

/* grep: matches, context, glob filter, binaries, gitignore, caps, errors. */
static void test_grep(tt_env *e)
{
    char p0[1024];
    cJSON *r = tt_call(e, "grep", "{\"pattern\":\"hello\"}");
    const char *t = tt_str(r, "content");
    CHECK(tt_ok(r) && strstr(t, "src/main.c:4:    puts(\"hello\");\n") && strstr(t, "docs/guide.md:2:Say hello.\n"),
          "grep prints path:line:text:\n%s", t);
    CHECK(!strstr(t, "build/") && !strstr(t, "node_modules") && !strstr(t, "main.o") && !strstr(t, "draft1") &&
          strstr(t, "keep.o"), "grep honours .gitignore (nested too) and re-includes");
    CHECK(!strstr(t, "logo.png") && tt_has(r, "note", "skipped 1 binary"), "grep skips binary files: %s",
          tt_str(r, "note"));
    cJSON_Delete(r);

    r = tt_call(e, "grep", "{\"pattern\":\"n\\\\+\\\\+\",\"glob\":\"*.c\",\"context\":1}");
    t = tt_str(r, "content");
    CHECK(tt_ok(r) && !strcmp(t, "src/util/str.c-3-    int n = 0;\nsrc/util/str.c:4:    while (s[n]) n++;\n"
                                 "src/util/str.c-5-    return n;\n"), "grep with context and glob:\n%s", t);
    cJSON_Delete(r);

    r = tt_call(e, "grep", "{\"pattern\":\"RETURN\",\"path\":\"src\",\"ignore_case\":true}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 2 && tt_num(r, "files") == 2, "grep ignore_case in a subfolder");
    cJSON_Delete(r);

    r = tt_call(e, "grep", "{\"pattern\":\"int\",\"path\":\"src/util/str.h\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 1, "grep on one file");
    cJSON_Delete(r);

    r = tt_call(e, "grep", "{\"pattern\":\"(unclosed\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "invalid regular expression"), "grep with a bad regex: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    r = tt_call(e, "grep", "{\"pattern\":\"zzzz_nothing\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 0 && tt_has(r, "content", "no match"), "grep with no match");
    cJSON_Delete(r);

    gt_caps *caps = gt_caps_of(e->ctx), saved = *caps;
    caps->search_max_results = 2;
    r = tt_call(e, "grep", "{\"pattern\":\"e\"}");
    CHECK(tt_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "truncated")) && tt_has(r, "note", "showing 2 of"),
          "grep caps matches and counts the rest: %s", tt_str(r, "note"));
    cJSON_Delete(r);
    *caps = saved;

    /* a symlinked folder leading outside is listed, never entered */
    char l[1024];
    snprintf(p0, sizeof p0, "%s/outside.txt", e->outside);
    tt_write(e, p0, "hello from outside\n", 19);
    snprintf(l, sizeof l, "%s/src/away", e->ws);
    if (symlink(e->outside, l)) perror("symlink");
    r = tt_call(e, "grep", "{\"pattern\":\"from outside\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 0, "grep does not follow a symlinked folder out of the tree");
    cJSON_Delete(r);
    r = tt_call(e, "glob", "{\"pattern\":\"**/outside.txt\"}");
    CHECK(tt_ok(r) && tt_num(r, "matches") == 0, "glob does not follow a symlinked folder");
    cJSON_Delete(r);
    r = tt_call(e, "list_dir", "{\"path\":\"src\"}");
    CHECK(tt_ok(r) && tt_has(r, "content", "away -> ") && !tt_has(r, "content", "outside.txt"),
          "list_dir shows a symlink with its target and does not enter it");
    cJSON_Delete(r);
    unlink(l);

    /* a denied secret inside the searched tree is skipped, not shown */
    char p[1024];
    snprintf(p, sizeof p, "%s/.ssh", e->home);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/.ssh/id_ed25519", e->home);
    tt_write(e, p, "hello secret\n", 13);
    r = tt_call(e, "grep", "{\"pattern\":\"secret\",\"path\":\"%s\"}", e->home);
    CHECK(!tt_has(r, "content", "hello secret"), "grep does not show a denied secret file");
    cJSON_Delete(r);
}

/* The closest-region matcher directly. */
static void test_closest(void)
{
    const char *f = "alpha\nbeta\ngamma delta\nepsilon\nzeta\n";
    gt_near n;
    gt_edit_closest(f, strlen(f), "gamma  delta\nepsilo\n", 20, &n);
    CHECK(n.start == 3 && n.end == 4 && n.score > 0.8 && n.first_diff == 0, "closest: lines 3-4 (score %.2f)", n.score);
    gt_edit_closest(f, strlen(f), "    beta\n", 9, &n);
    CHECK(n.start == 2 && n.ws_only, "closest: indentation-only difference is flagged");
    gt_edit_closest("", 0, "x", 1, &n);
    CHECK(n.start == 0, "closest: empty file has no region");
    gt_edit_out o;
    gt_edit_apply("aXbXc", 5, "X", 1, "YY", 2, true, 100, &o);
    CHECK(o.status == GT_EDIT_OK && o.len == 7 && !memcmp(o.data, "aYYbYYc", 7), "edit_apply replace_all");
    free(o.data);
    gt_edit_apply("aXbXc", 5, "X", 1, "YYYYYYYYYY", 10, true, 10, &o);
    CHECK(o.status == GT_EDIT_TOO_BIG, "edit_apply refuses a result over the cap");
}

int main(void)
{
    tt_env e;
    tt_setup(&e);
    make_tree(&e);
    test_list(&e);
    test_glob(&e);
    test_grep(&e);
    test_closest();
    tt_teardown(&e);
    return check_exit();
}
