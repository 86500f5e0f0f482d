/* test_termsafe.c: ag_put_safe, through which the shell shows
 * model-controlled text (commands, paths, diffs, tool output, and streamed
 * text on a terminal) with terminal controls made visible, so a backspace,
 * an escape sequence or a bidi override cannot change what an approval
 * prompt appears to ask or act on the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "agent.h"

/* What ag_put_safe writes for the first n bytes of s, captured from stdout. */
static char *shown(const char *s, size_t n)
{
    static char out[4096];
    fflush(stdout);
    FILE *tmp = tmpfile();
    if (!tmp) { perror("tmpfile"); exit(2); }
    int saved = dup(1);
    if (saved < 0 || dup2(fileno(tmp), 1) < 0) { perror("dup"); exit(2); }
    ag_put_safe(stdout, s, n);
    fflush(stdout);
    if (dup2(saved, 1) < 0) { perror("dup2"); exit(2); }
    close(saved);
    rewind(tmp);
    size_t k = fread(out, 1, sizeof out - 1, tmp);
    out[k] = 0;
    fclose(tmp);
    return out;
}

int main(void)
{
    static const struct { const char *in, *out, *what; } cases[] = {
        {"make test", "make test", "plain text"},
        {"b/\bevil", "b/^Hevil", "a backspace (it would overwrite the /)"},
        {"rm -rf ~\033[2K\rls", "rm -rf ~^[[2K^Mls", "an erase-line escape and a carriage return"},
        {"a\tb\nc", "a\tb\nc", "tab and newline kept"},
        {"x\x7fy", "x^?y", "DEL"},
        {"\xc2\x9b" "31m", "<U+009B>31m", "the C1 CSI"},
        {"caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93", "ordinary UTF-8 untouched"},
        {"ok\xe2\x80\xae" "txt.exe", "ok<U+202E>txt.exe", "a right-to-left override"},
        {"\xe2\x81\xa6" "x\xe2\x81\xa9", "<U+2066>x<U+2069>", "bidi isolates"},
        {"\xe2\x80\x99quote", "\xe2\x80\x99quote", "U+2019 (not an override) untouched"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = shown(cases[i].in, strlen(cases[i].in));
        CHECK(!strcmp(got, cases[i].out), "%s: shown as the %zu bytes expected (got %zu)", cases[i].what,
              strlen(cases[i].out), strlen(got));
    }
    CHECK(!strcmp(shown("abc\bdef", 4), "abc^H"), "at most n bytes are shown");
    CHECK(!strcmp(shown("ab\0cd", 5), "ab^@cd"), "a NUL byte is shown as ^@");
    CHECK(!strcmp(shown("x\xc2", 2), "x\xc2"), "a C1 lead byte at the end of the range is left as it is");
    return check_exit();
}
