/* test_tools_file.c: read_file, write_file, edit_file, undo and /diff,
 * including the policy: paths outside the writable roots, protected paths,
 * secret paths, symlink, hard link and /proc/self/root escapes. */
#include "tt.h"

/* read_file: happy path, ranges, caps, binary, UTF-8, CRLF, errors. */
static void test_read(tt_env *e)
{
    tt_puts(e, "a.txt", "alpha\nbeta\ngamma\n");
    cJSON *r = tt_call(e, "read_file", "{\"path\":\"a.txt\"}");
    CHECK(tt_ok(r) && tt_has(r, "content", "     1\talpha\n     2\tbeta\n     3\tgamma\n"), "read_file numbers lines");
    CHECK(tt_num(r, "total_lines") == 3 && !cJSON_IsTrue(cJSON_GetObjectItem(r, "truncated")), "read_file total_lines 3");
    cJSON_Delete(r);

    r = tt_call(e, "read_file", "{\"path\":\"a.txt\",\"start_line\":2,\"end_line\":2}");
    CHECK(tt_ok(r) && !strcmp(tt_str(r, "content"), "     2\tbeta\n"), "read_file line range 2-2");
    cJSON_Delete(r);

    r = tt_call(e, "read_file", "{\"path\":\"a.txt\",\"start_line\":9}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "past the end"), "read_file start past the end: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    r = tt_call(e, "read_file", "{\"path\":\"missing.txt\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "does not exist"), "read_file missing file: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    r = tt_call(e, "read_file", "{\"path\":\".\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "directory"), "read_file on a folder says use list_dir");
    cJSON_Delete(r);

    tt_write(e, "bin.dat", "\x7f" "ELF\x02\x01\x01\0\0\0\0", 12);
    r = tt_call(e, "read_file", "{\"path\":\"bin.dat\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "binary") && tt_has(r, "error", "ELF"), "read_file refuses binary: %s",
          tt_str(r, "error"));
    cJSON_Delete(r);

    /* huge file: over file_max_bytes */
    gt_caps *caps = gt_caps_of(e->ctx), saved = *caps;
    caps->file_max_bytes = 1000;
    char big[5000];
    memset(big, 'x', sizeof big);
    for (int i = 99; i < 5000; i += 100) big[i] = '\n';
    tt_write(e, "big.txt", big, sizeof big);
    r = tt_call(e, "read_file", "{\"path\":\"big.txt\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "limit") && tt_has(r, "error", "head"), "read_file refuses a huge file: %s",
          tt_str(r, "error"));
    cJSON_Delete(r);
    *caps = saved;

    /* line cap with a note on how to go on */
    caps->read_max_lines = 10;
    r = tt_call(e, "read_file", "{\"path\":\"big.txt\"}");
    CHECK(tt_ok(r) && tt_num(r, "end_line") == 10 && cJSON_IsTrue(cJSON_GetObjectItem(r, "truncated")) &&
          tt_has(r, "note", "start_line=11"), "read_file line cap says start_line=11: %s", tt_str(r, "note"));
    cJSON_Delete(r);
    *caps = saved;

    /* long line cut */
    caps->line_max_chars = 20;
    r = tt_call(e, "read_file", "{\"path\":\"big.txt\",\"end_line\":1}");
    CHECK(tt_ok(r) && tt_has(r, "content", "line cut"), "read_file cuts long lines");
    cJSON_Delete(r);
    *caps = saved;

    tt_puts(e, "latin1.txt", "caf\xe9 au lait\n");
    r = tt_call(e, "read_file", "{\"path\":\"latin1.txt\"}");
    CHECK(tt_ok(r) && tt_has(r, "content", "caf\xEF\xBF\xBD au lait") && tt_has(r, "note", "invalid UTF-8"),
          "read_file repairs invalid UTF-8 and says so");
    cJSON_Delete(r);

    tt_puts(e, "crlf.txt", "one\r\ntwo\r\n");
    r = tt_call(e, "read_file", "{\"path\":\"crlf.txt\"}");
    CHECK(tt_ok(r) && !tt_has(r, "content", "\r") && tt_has(r, "note", "CRLF"), "read_file shows CRLF files without \\r");
    cJSON_Delete(r);

    tt_puts(e, "empty.txt", "");
    r = tt_call(e, "read_file", "{\"path\":\"empty.txt\"}");
    CHECK(tt_ok(r) && tt_has(r, "note", "empty"), "read_file on an empty file");
    cJSON_Delete(r);

    /* secret path under the fake HOME is denied, also through a symlink */
    char p[1024];
    snprintf(p, sizeof p, "%s/.ssh", e->home);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/.ssh/id_rsa", e->home);
    tt_write(e, p, "SECRET\n", 7);
    r = tt_call(e, "read_file", "{\"path\":\"%s\"}", p);
    CHECK(!tt_ok(r) && !tt_has(r, "content", "SECRET"), "read_file denies ~/.ssh/id_rsa: %s", tt_str(r, "error"));
    cJSON_Delete(r);
    char l[1024];
    snprintf(l, sizeof l, "%s/key", e->ws);
    if (symlink(p, l)) perror("symlink");
    r = tt_call(e, "read_file", "{\"path\":\"key\"}");
    CHECK(!tt_ok(r), "read_file denies a symlink to ~/.ssh/id_rsa: %s", tt_str(r, "error"));
    cJSON_Delete(r);
}

/* write_file: create with parents, overwrite keeps the mode, policy denials. */
static void test_write(tt_env *e)
{
    cJSON *r = tt_call(e, "write_file", "{\"path\":\"sub/dir/new.txt\",\"content\":\"hello\\n\"}");
    char *d = tt_read(e, "sub/dir/new.txt", NULL);
    CHECK(tt_ok(r) && cJSON_IsTrue(cJSON_GetObjectItem(r, "created")) && d && !strcmp(d, "hello\n"),
          "write_file creates a file and its parent folders");
    free(d);
    cJSON_Delete(r);

    char p[1024];
    snprintf(p, sizeof p, "%s/run.sh", e->ws);
    tt_puts(e, "run.sh", "#!/bin/sh\n");
    chmod(p, 0750);
    r = tt_call(e, "write_file", "{\"path\":\"run.sh\",\"content\":\"#!/bin/sh\\necho hi\\n\"}");
    struct stat st;
    stat(p, &st);
    CHECK(tt_ok(r) && (st.st_mode & 07777) == 0750 && !cJSON_IsTrue(cJSON_GetObjectItem(r, "created")),
          "write_file keeps the mode of an existing file (got %o)", st.st_mode & 07777);
    cJSON_Delete(r);

    /* no temporary file left behind */
    r = tt_call(e, "glob", "{\"pattern\":\"**/.*gt*\"}");
    CHECK(tt_num(r, "matches") == 0, "write_file leaves no temporary file");
    cJSON_Delete(r);

    snprintf(p, sizeof p, "%s/x.txt", e->outside);
    r = tt_call(e, "write_file", "{\"path\":\"%s\",\"content\":\"x\"}", p);
    CHECK(!tt_ok(r) && access(p, F_OK) != 0, "write_file outside the writable roots is denied: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    r = tt_call(e, "write_file", "{\"path\":\"../outside/y.txt\",\"content\":\"x\"}");
    snprintf(p, sizeof p, "%s/y.txt", e->outside);
    CHECK(!tt_ok(r) && access(p, F_OK) != 0, "write_file ../ escape is denied");
    cJSON_Delete(r);

    snprintf(p, sizeof p, "%s/.git", e->ws);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/.git/hooks", e->ws);
    mkdir(p, 0755);
    r = tt_call(e, "write_file", "{\"path\":\".git/hooks/pre-commit\",\"content\":\"#!/bin/sh\\nevil\\n\"}");
    snprintf(p, sizeof p, "%s/.git/hooks/pre-commit", e->ws);
    CHECK(!tt_ok(r) && access(p, F_OK) != 0, "write_file into .git/hooks is denied: %s", tt_str(r, "error"));
    cJSON_Delete(r);
    r = tt_call(e, "write_file", "{\"path\":\".git/config\",\"content\":\"[core]\\n\"}");
    CHECK(!tt_ok(r), "write_file .git/config is denied");
    cJSON_Delete(r);

    /* symlinked folder pointing outside */
    char l[1024];
    snprintf(l, sizeof l, "%s/escape", e->ws);
    if (symlink(e->outside, l)) perror("symlink");
    r = tt_call(e, "write_file", "{\"path\":\"escape/evil.txt\",\"content\":\"x\"}");
    snprintf(p, sizeof p, "%s/evil.txt", e->outside);
    CHECK(!tt_ok(r) && access(p, F_OK) != 0, "write_file through a symlinked folder is denied: %s", tt_str(r, "error"));
    cJSON_Delete(r);

    /* symlinked file pointing outside */
    snprintf(p, sizeof p, "%s/target.txt", e->outside);
    tt_write(e, p, "original\n", 9);
    snprintf(l, sizeof l, "%s/flink", e->ws);
    if (symlink(p, l)) perror("symlink");
    r = tt_call(e, "write_file", "{\"path\":\"flink\",\"content\":\"pwned\\n\"}");
    d = tt_read(e, p, NULL);
    CHECK(!tt_ok(r) && d && !strcmp(d, "original\n"), "write_file through a symlinked file is denied");
    free(d);
    cJSON_Delete(r);
    r = tt_call(e, "edit_file", "{\"path\":\"flink\",\"old_string\":\"original\",\"new_string\":\"pwned\"}");
    d = tt_read(e, p, NULL);
    CHECK(!tt_ok(r) && d && !strcmp(d, "original\n"), "edit_file through a symlinked file is denied");
    free(d);
    cJSON_Delete(r);

    /* hard link to a file outside */
    snprintf(p, sizeof p, "%s/hl_target.txt", e->outside);
    tt_write(e, p, "keep\n", 5);
    snprintf(l, sizeof l, "%s/hl", e->ws);
    if (link(p, l)) perror("link");
    r = tt_call(e, "write_file", "{\"path\":\"hl\",\"content\":\"pwned\\n\"}");
    d = tt_read(e, p, NULL);
    CHECK(!tt_ok(r) && d && !strcmp(d, "keep\n"), "write_file through a hard link is denied: %s", tt_str(r, "error"));
    free(d);
    cJSON_Delete(r);

    /* /proc/self/root prefix */
    r = tt_call(e, "write_file", "{\"path\":\"/proc/self/root%s/proc.txt\",\"content\":\"x\"}", e->outside);
    snprintf(p, sizeof p, "%s/proc.txt", e->outside);
    CHECK(!tt_ok(r) && access(p, F_OK) != 0, "write_file via /proc/self/root is denied");
    cJSON_Delete(r);

    /* read-only mode: nothing is writable */
    e->pol.mode = SB_MODE_READ_ONLY;
    r = tt_call(e, "write_file", "{\"path\":\"ro.txt\",\"content\":\"x\"}");
    snprintf(p, sizeof p, "%s/ro.txt", e->ws);
    CHECK(!tt_ok(r) && access(p, F_OK) != 0, "write_file in read-only mode is denied");
    cJSON_Delete(r);
    e->pol.mode = SB_MODE_WORKSPACE_WRITE;
}

/* edit_file: exact match, misses, multiple matches, CRLF, final newline. */
static void test_edit(tt_env *e)
{
    tt_puts(e, "e.c", "int main(void)\n{\n    return 0;\n}\n");
    cJSON *r = tt_call(e, "edit_file", "{\"path\":\"e.c\",\"old_string\":\"return 0;\",\"new_string\":\"return 1;\"}");
    char *d = tt_read(e, "e.c", NULL);
    CHECK(tt_ok(r) && d && strstr(d, "return 1;") && tt_has(r, "diff", "-    return 0;\n+    return 1;"),
          "edit_file replaces a unique match and returns a diff");
    free(d);
    cJSON_Delete(r);

    r = tt_call(e, "edit_file", "{\"path\":\"e.c\",\"old_string\":\"{\\n  return 1;\\n}\",\"new_string\":\"x\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "closest region is lines 2-4") && tt_has(r, "error", "whitespace") &&
          tt_has(r, "error", "     3\t    return 1;"), "edit_file miss shows the closest region: %s", tt_str(r, "error"));
    CHECK(tt_num(r, "closest_start") == 2 && tt_num(r, "closest_end") == 4, "edit_file miss gives closest_start/end");
    cJSON_Delete(r);

    r = tt_call(e, "edit_file", "{\"path\":\"e.c\",\"old_string\":\"int mian(vod)\",\"new_string\":\"x\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "lines 1-1"), "edit_file miss with a typo points at line 1: %s",
          tt_str(r, "error"));
    cJSON_Delete(r);

    tt_puts(e, "m.txt", "foo\nbar\nfoo\nbaz\nfoo\n");
    r = tt_call(e, "edit_file", "{\"path\":\"m.txt\",\"old_string\":\"foo\",\"new_string\":\"qux\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "matches 3 places") && tt_has(r, "error", "lines 1, 3, 5") &&
          tt_has(r, "error", "replace_all"), "edit_file multi-match says how many and where: %s", tt_str(r, "error"));
    cJSON_Delete(r);
    r = tt_call(e, "edit_file", "{\"path\":\"m.txt\",\"old_string\":\"foo\",\"new_string\":\"qux\",\"replace_all\":true}");
    d = tt_read(e, "m.txt", NULL);
    CHECK(tt_ok(r) && tt_num(r, "replacements") == 3 && d && !strcmp(d, "qux\nbar\nqux\nbaz\nqux\n"),
          "edit_file replace_all replaces every match");
    free(d);
    cJSON_Delete(r);

    tt_puts(e, "w.txt", "a\r\nb\r\nc\r\n");
    r = tt_call(e, "edit_file", "{\"path\":\"w.txt\",\"old_string\":\"a\\nb\\n\",\"new_string\":\"x\\ny\\nz\\n\"}");
    d = tt_read(e, "w.txt", NULL);
    CHECK(tt_ok(r) && d && !strcmp(d, "x\r\ny\r\nz\r\nc\r\n"), "edit_file keeps CRLF line endings");
    free(d);
    cJSON_Delete(r);

    tt_puts(e, "n.txt", "one\ntwo");
    r = tt_call(e, "edit_file", "{\"path\":\"n.txt\",\"old_string\":\"two\",\"new_string\":\"TWO\"}");
    d = tt_read(e, "n.txt", NULL);
    CHECK(tt_ok(r) && d && !strcmp(d, "one\nTWO"), "edit_file keeps a missing final newline");
    free(d);
    cJSON_Delete(r);
    r = tt_call(e, "edit_file", "{\"path\":\"n.txt\",\"old_string\":\"TWO\\n\",\"new_string\":\"2\\n\"}");
    d = tt_read(e, "n.txt", NULL);
    CHECK(tt_ok(r) && d && !strcmp(d, "one\n2"), "edit_file matches old_string with a newline at an EOF without one");
    free(d);
    cJSON_Delete(r);

    r = tt_call(e, "edit_file", "{\"path\":\"n.txt\",\"old_string\":\"\",\"new_string\":\"x\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "write_file"), "edit_file with empty old_string points to write_file");
    cJSON_Delete(r);
    r = tt_call(e, "edit_file", "{\"path\":\"n.txt\",\"old_string\":\"one\",\"new_string\":\"one\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "same"), "edit_file with old == new is refused");
    cJSON_Delete(r);
    r = tt_call(e, "edit_file", "{\"path\":\"nope.txt\",\"old_string\":\"a\",\"new_string\":\"b\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "does not exist"), "edit_file on a missing file");
    cJSON_Delete(r);
    r = tt_call(e, "edit_file", "{\"path\":\"bin.dat\",\"old_string\":\"ELF\",\"new_string\":\"FLE\"}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "binary"), "edit_file refuses binary files");
    cJSON_Delete(r);

    /* concurrent change: read, change behind the model's back, edit */
    tt_puts(e, "c.txt", "version 1\n");
    r = tt_call(e, "read_file", "{\"path\":\"c.txt\"}");
    cJSON_Delete(r);
    tt_puts(e, "c.txt", "version 22\n");
    r = tt_call(e, "edit_file", "{\"path\":\"c.txt\",\"old_string\":\"version\",\"new_string\":\"release\"}");
    d = tt_read(e, "c.txt", NULL);
    CHECK(!tt_ok(r) && tt_has(r, "error", "changed on disk since you last read it") && d &&
          !strcmp(d, "version 22\n"), "edit_file detects a file changed since read_file: %s", tt_str(r, "error"));
    free(d);
    cJSON_Delete(r);
    r = tt_call(e, "read_file", "{\"path\":\"c.txt\"}");
    cJSON_Delete(r);
    r = tt_call(e, "edit_file", "{\"path\":\"c.txt\",\"old_string\":\"version\",\"new_string\":\"release\"}");
    CHECK(tt_ok(r), "edit_file works again after a fresh read_file");
    cJSON_Delete(r);
}

/* gt_undo and gt_diff. */
static void test_undo(tt_env *e)
{
    char msg[512];
    gt_ctx *c = e->ctx;
    while (gt_journal_count(c)) gt_undo(c, msg, sizeof msg);   /* start clean */
    CHECK(gt_undo(c, msg, sizeof msg) == -1 && strstr(msg, "nothing to undo"), "undo with an empty journal");

    tt_puts(e, "u.txt", "line one\nline two\n");
    char p[1024];
    snprintf(p, sizeof p, "%s/u.txt", e->ws);
    chmod(p, 0600);
    cJSON *r = tt_call(e, "edit_file", "{\"path\":\"u.txt\",\"old_string\":\"two\",\"new_string\":\"2\"}");
    cJSON_Delete(r);
    r = tt_call(e, "write_file", "{\"path\":\"deep/er/made.txt\",\"content\":\"new\\n\"}");
    cJSON_Delete(r);
    CHECK(gt_journal_count(c) == 2, "two changes journaled");

    char *diff = gt_diff(c);
    CHECK(diff && strstr(diff, "--- a/u.txt\n+++ b/u.txt\n@@ -1,2 +1,2 @@\n line one\n-line two\n+line 2\n"),
          "gt_diff shows the edit as a unified diff");
    CHECK(diff && strstr(diff, "--- /dev/null\n+++ b/deep/er/made.txt\n@@ -0,0 +1,1 @@\n+new\n"),
          "gt_diff shows a created file against /dev/null");
    free(diff);

    int rc = gt_undo(c, msg, sizeof msg);
    snprintf(p, sizeof p, "%s/deep", e->ws);
    CHECK(rc == 0 && access(p, F_OK) != 0 && strstr(msg, "removed"), "undo removes a created file and its folders: %s", msg);
    rc = gt_undo(c, msg, sizeof msg);
    char *d = tt_read(e, "u.txt", NULL);
    struct stat st;
    snprintf(p, sizeof p, "%s/u.txt", e->ws);
    stat(p, &st);
    CHECK(rc == 0 && d && !strcmp(d, "line one\nline two\n") && (st.st_mode & 0777) == 0600,
          "undo restores the pre-image and its mode: %s", msg);
    free(d);
    diff = gt_diff(c);
    CHECK(diff && !*diff, "gt_diff is empty once everything is undone");
    free(diff);

    /* undo after the file changed again says so */
    r = tt_call(e, "write_file", "{\"path\":\"u.txt\",\"content\":\"mine\\n\"}");
    cJSON_Delete(r);
    tt_puts(e, "u.txt", "someone else\n");
    rc = gt_undo(c, msg, sizeof msg);
    d = tt_read(e, "u.txt", NULL);
    CHECK(rc == 0 && d && !strcmp(d, "line one\nline two\n") && strstr(msg, "changed since"),
          "undo over a later change restores and warns: %s", msg);
    free(d);
}

/* Argument checking in gt_call. */
static void test_args(tt_env *e)
{
    cJSON *r = tt_call(e, "read_file", "{}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "missing required argument 'path'"), "missing required argument");
    cJSON_Delete(r);
    r = tt_call(e, "read_file", "{\"path\":5}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "'path' must be a string, got a number"), "wrong type: %s", tt_str(r, "error"));
    cJSON_Delete(r);
    r = tt_call(e, "read_file", "{\"path\":\"a.txt\",\"start_line\":1.5}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "integer"), "non-integer line number refused");
    cJSON_Delete(r);
    r = tt_call(e, "read_file", "{\"path\":\"a.txt\",\"start_line\":1e999}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "integer"), "an infinite line number is refused");
    cJSON_Delete(r);
    r = tt_call(e, "read_file", "{\"path\":\"a.txt\",\"start_line\":-5,\"end_line\":1}");
    CHECK(tt_ok(r) && tt_num(r, "start_line") == 1, "a negative start_line reads from line 1");
    cJSON_Delete(r);
    r = tt_call(e, "read_file", "{\"path\":\"a.txt\",\"offset\":3}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "unknown argument 'offset'") && tt_has(r, "error", "start_line"),
          "unknown argument lists the real ones: %s", tt_str(r, "error"));
    cJSON_Delete(r);
    r = tt_call(e, "nosuch", "{}");
    CHECK(!tt_ok(r) && tt_has(r, "error", "unknown tool") && tt_has(r, "error", "edit_file"), "unknown tool");
    cJSON_Delete(r);
    r = tt_call(e, "write_file", "[1,2]");
    CHECK(!tt_ok(r) && tt_has(r, "error", "must be a JSON object"), "arguments that are not an object");
    cJSON_Delete(r);
    r = gt_call(e->ctx, "list_dir", NULL, NULL);
    CHECK(r && tt_ok(r), "NULL arguments are an empty object");
    cJSON_Delete(r);
    r = gt_call(e->ctx, NULL, NULL, NULL);
    CHECK(r && !tt_ok(r), "NULL tool name gives an error result");
    cJSON_Delete(r);
    CHECK(gt_is_mutating("shell") && gt_is_mutating("write_file") && gt_is_mutating("edit_file") &&
          !gt_is_mutating("read_file") && !gt_is_mutating("grep") && !gt_is_mutating(NULL), "gt_is_mutating");
}

/* gt_preview: the diff a call would apply, nothing written. */
static void test_preview(tt_env *e)
{
    tt_puts(e, "pv.txt", "keep\nold\n");
    cJSON *a = cJSON_Parse("{\"path\":\"pv.txt\",\"old_string\":\"old\",\"new_string\":\"new\"}");
    char *t = gt_preview(e->ctx, "edit_file", a);
    char *d = tt_read(e, "pv.txt", NULL);
    CHECK(t && strstr(t, "--- a/pv.txt\n+++ b/pv.txt\n") && strstr(t, "-old\n+new\n") && d && !strcmp(d, "keep\nold\n"),
          "preview of edit_file shows the diff and writes nothing:\n%s", t);
    free(t);
    free(d);
    cJSON_Delete(a);
    a = cJSON_Parse("{\"path\":\"fresh/pv2.txt\",\"content\":\"hi\\n\"}");
    t = gt_preview(e->ctx, "write_file", a);
    char p[1024];
    snprintf(p, sizeof p, "%s/fresh", e->ws);
    CHECK(t && strstr(t, "--- /dev/null\n+++ b/fresh/pv2.txt\n@@ -0,0 +1,1 @@\n+hi\n") && access(p, F_OK) != 0,
          "preview of write_file for a new file:\n%s", t);
    free(t);
    cJSON_Delete(a);
    a = cJSON_Parse("{\"path\":\".git/config\",\"content\":\"x\"}");
    t = gt_preview(e->ctx, "write_file", a);
    CHECK(t && !strncmp(t, "would fail: ", 12) && strstr(t, "protected"), "preview of a denied write says why: %s", t);
    free(t);
    cJSON_Delete(a);
    a = cJSON_Parse("{\"path\":\"pv.txt\",\"old_string\":\"absent\",\"new_string\":\"x\"}");
    t = gt_preview(e->ctx, "edit_file", a);
    CHECK(t && strstr(t, "would fail: ") && strstr(t, "not found"), "preview of a missing match says why");
    free(t);
    cJSON_Delete(a);
    a = cJSON_Parse("{\"command\":\"make test\",\"workdir\":\"src\"}");
    t = gt_preview(e->ctx, "shell", a);
    CHECK(t && !strcmp(t, "$ make test\n(in src)\n"), "preview of shell shows the command");
    free(t);
    cJSON_Delete(a);
}

/* The race checks under the tools: a renamed file no longer is its path, a
 * file changed between the edit's read and its rename is not overwritten. */
static void test_races(tt_env *e)
{
    char p[1024], q[1024], why[512];
    snprintf(p, sizeof p, "%s/race.txt", e->ws);
    snprintf(q, sizeof q, "%s/race2.txt", e->ws);
    tt_puts(e, "race.txt", "v1\n");
    int fd = open(p, O_RDONLY);
    CHECK(fd >= 0 && gt_fd_is(fd, p, why, sizeof why) == 0, "gt_fd_is accepts the checked file");
    rename(p, q);
    CHECK(gt_fd_is(fd, p, why, sizeof why) == -1 && strstr(why, "changed while it was being opened"),
          "gt_fd_is refuses a file that moved after the check: %s", why);
    close(fd);
    rename(q, p);
    gt_expect ex = {true, 3, gt_hash("v0\n", 3)};
    bool created;
    int rc = gt_write_file(e->ctx, p, "v2\n", 3, &ex, "edit_file", true, &created, why, sizeof why);
    char *d = tt_read(e, "race.txt", NULL);
    CHECK(rc == -1 && strstr(why, "changed on disk while it was being edited") && d && !strcmp(d, "v1\n"),
          "a write whose expected content changed is refused: %s", why);
    free(d);

    /* the journal keeps its byte cap by dropping the oldest pre-images */
    gt_caps *caps = gt_caps_of(e->ctx), saved = *caps;
    char msg[256];
    while (gt_journal_count(e->ctx)) gt_undo(e->ctx, msg, sizeof msg);
    caps->journal_max_bytes = 10;
    for (int i = 0; i < 4; i++) {
        cJSON *r = tt_call(e, "write_file", "{\"path\":\"race.txt\",\"content\":\"version %d\\n\"}", i);
        cJSON_Delete(r);
    }
    CHECK(gt_journal_count(e->ctx) == 1, "the journal drops old pre-images past its cap (%d kept)", gt_journal_count(e->ctx));
    *caps = saved;

    /* an interrupted search stops and says so */
    volatile sig_atomic_t stop = 1;
    cJSON *a = cJSON_Parse("{\"pattern\":\"x\"}");
    cJSON *r = gt_call(e->ctx, "grep", a, &stop);
    CHECK(r && tt_ok(r) && tt_has(r, "note", "interrupted"), "grep stops when interrupted: %s", tt_str(r, "note"));
    cJSON_Delete(r);
    cJSON_Delete(a);
}

int main(void)
{
    tt_env e;
    tt_setup(&e);
    if (chdir(e.root)) return 1;
    test_read(&e);
    test_write(&e);
    test_edit(&e);
    test_undo(&e);
    test_args(&e);
    test_preview(&e);
    test_races(&e);
    tt_teardown(&e);
    return check_exit();
}
