/* test_rules.c: the approval rules: file parsing, the shell-line splitter,
 * wrapper unwrapping, and strictest-wins verdicts on compound commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "rules.h"

/* The text with newlines and tabs shown as \\n and \\t, so each check stays on one line. */
static const char *esc(const char *s, char *buf, size_t cap)
{
    size_t k = 0;
    for (; s && *s && k + 3 < cap; s++) {
        if (*s == '\n' || *s == '\t') { buf[k++] = '\\'; buf[k++] = *s == '\n' ? 'n' : 't'; }
        else buf[k++] = *s;
    }
    buf[k] = 0;
    return s ? buf : "(null)";
}

/* How a line splits and unwraps: the simple commands, innermost stage,
 * one per line, and whether it holds a substitution. */
static const struct { const char *in, *out; int subst; } split_cases[] = {
    {"ls -la", "ls -la\n", 0},
    {"git status && git push", "git status\ngit push\n", 0},
    {"a; b;c", "a\nb\nc\n", 0},
    {"a || b | c |& d & e", "a\nb\nc\nd\ne\n", 0},
    {"a\nb\n\nc", "a\nb\nc\n", 0},
    {"echo 'a; b' \"c && d\"", "echo a; b c && d\n", 0},
    {"echo a\\;b", "echo a;b\n", 0},
    {"make \\\n  all", "make all\n", 0},
    {"sudo rm -rf /", "rm -rf /\n", 0},
    {"sudo -u root -E make install", "make install\n", 0},
    {"sudo -uroot make", "make\n", 0},
    {"sudo --user=root make", "make\n", 0},
    {"sudo --user root make", "make\n", 0},
    {"sudo -- rm x", "rm x\n", 0},
    {"env FOO=1 BAR=2 make", "make\n", 0},
    {"env -i -u HOME PATH=/bin rm x", "rm x\n", 0},
    {"env --unset=HOME rm x", "rm x\n", 0},
    {"env -C /tmp rm x", "rm x\n", 0},
    {"FOO=1 BAR=x rm a", "rm a\n", 0},
    {"timeout 10 rm -rf x", "rm -rf x\n", 0},
    {"timeout -s KILL 5s rm x", "rm x\n", 0},
    {"timeout --signal=TERM -k 2 5 rm x", "rm x\n", 0},
    {"timeout --preserve-status 1m rm x", "rm x\n", 0},
    {"nice -n 10 rm x", "rm x\n", 0},
    {"nice -n10 rm x", "rm x\n", 0},
    {"nice -5 rm x", "rm x\n", 0},
    {"nice --adjustment=3 rm x", "rm x\n", 0},
    {"nohup rm x", "rm x\n", 0},
    {"command rm x", "rm x\n", 0},
    {"command -p rm x", "rm x\n", 0},
    {"sudo env A=1 timeout 5 nice -n 2 nohup command rm -rf /", "rm -rf /\n", 0},
    {"exec rm x", "rm x\n", 0},
    {"ls > out.txt 2>&1", "ls\n", 0},
    {"ls 2>/dev/null >>log", "ls\n", 0},
    {">out echo hi", "echo hi\n", 0},
    {"cat < in | sort", "cat\nsort\n", 0},
    {"cat &>log x", "cat x\n", 0},
    {"cat <<EOF\nrm -rf /\nEOF\necho done", "cat\necho done\n", 0},
    {"cat <<-'END'\n\trm x\n\tEND\nls", "cat\nls\n", 0},
    {"cat <<< 'rm x'", "cat\n", 0},
    {"(cd sub && make)", "cd sub\nmake\n", 0},
    {"{ make; make test; }", "make\nmake test\n", 0},
    {"if make; then ./run; else echo no; fi", "make\n./run\necho no\n", 0},
    {"while true; do sleep 1; done", "true\nsleep 1\n", 0},
    {"for f in a b; do rm $f; done", "rm $f\n", 0},
    {"! grep x y", "grep x y\n", 0},
    {"time make", "make\n", 0},
    {"ls # rm -rf /", "ls\n", 0},
    {"echo $(rm -rf x)", "rm -rf x\necho $(rm -rf x)\n", 1},       /* inner commands come first */
    {"echo `whoami`", "whoami\necho `whoami`\n", 1},
    {"echo \"$(id)\"", "id\necho $(id)\n", 1},
    {"diff <(ls a) <(ls b)", "ls a\nls b\ndiff <(ls a) <(ls b)\n", 1},
    {"echo $(( 1 + 2 ))", "1 + 2\necho $(( 1 + 2 ))\n", 1},
    {"$CMD arg", "$CMD arg\n", 1},
    {"eval 'rm x'", "eval rm x\n", 1},
    {"env -S 'rm x'", "env -S rm x\n", 1},
    {"case $x in a) rm y;; esac", "case $x in a\nrm y\n", 1},
    {"echo 'unbalanced", "echo unbalanced\n", 1},
    {"", "", 0},
    {"   ;  ; ", "", 0},
    {"echo ''", "echo \n", 0},
};

/* Verdicts under one rules file. */
static const char rules_text[] =
    "# test rules\n"
    "allow git status\n"
    "allow git diff\n"
    "allow ls\n"
    "allow echo\n"
    "allow make\n"
    "allow cat\n"
    "allow grep\n"
    "   allow   sort   # trailing words are the prefix, '#' starts a comment only at a word start\n"
    "ask git push\n"
    "ask sudo\n"
    "ask make install\n"
    "deny rm -rf\n"
    "deny rm -fr\n"
    "deny git push --force\n"
    "deny \"chmod\" 777\n"
    "\n";

static const struct { const char *cmd; ag_rule_verdict v; } verdict_cases[] = {
    {"git status", AG_RULE_ALLOW},
    {"git status --short", AG_RULE_ALLOW},
    {"git statusx", AG_RULE_NONE},
    {"git log", AG_RULE_NONE},
    {"ls -la && git diff", AG_RULE_ALLOW},
    {"ls | grep x | sort", AG_RULE_ALLOW},
    {"ls; rm foo", AG_RULE_NONE},               /* a compound needs every part allowed */
    {"ls && rm -rf foo", AG_RULE_DENY},
    {"rm -rf foo", AG_RULE_DENY},
    {"/bin/rm -rf foo", AG_RULE_DENY},
    {"rm -r -f foo", AG_RULE_NONE},             /* prefix rules are literal */
    {"sudo rm -rf /", AG_RULE_DENY},
    {"env A=1 rm -rf /", AG_RULE_DENY},
    {"timeout 5 rm -rf /", AG_RULE_DENY},
    {"nice -n 5 rm -rf /", AG_RULE_DENY},
    {"nohup rm -rf /", AG_RULE_DENY},
    {"command rm -rf /", AG_RULE_DENY},
    {"FOO=1 rm -rf /", AG_RULE_DENY},
    {"sudo ls", AG_RULE_ASK},                   /* ask sudo matches the outer stage */
    {"sudo -u x make", AG_RULE_ASK},
    {"env X=1 ls", AG_RULE_ALLOW},               /* allow judges the unwrapped command */
    {"timeout 3 make", AG_RULE_ALLOW},
    {"make install", AG_RULE_ASK},               /* ask over allow */
    {"make && make install", AG_RULE_ASK},
    {"git push origin main", AG_RULE_ASK},
    {"git push --force origin", AG_RULE_DENY},  /* deny over ask */
    {"git push --force; ls", AG_RULE_DENY},
    {"chmod 777 x", AG_RULE_DENY},
    {"chmod 755 x", AG_RULE_NONE},
    {"echo $(whoami)", AG_RULE_ASK},            /* substitution asks */
    {"echo `ls`", AG_RULE_ASK},
    {"echo $(rm -rf /)", AG_RULE_DENY},         /* ... and a deny inside still denies */
    {"ls `rm -rf x`", AG_RULE_DENY},
    {"cat <(ls)", AG_RULE_ASK},
    {"$X", AG_RULE_ASK},
    {"eval ls", AG_RULE_ASK},
    {"cat <<EOF\nrm -rf /\nEOF", AG_RULE_ALLOW}, /* a here-document body is data */
    {"ls > /tmp/x 2>&1", AG_RULE_ALLOW},
    {"(ls && git status)", AG_RULE_ALLOW},
    {"if ls; then rm -rf x; fi", AG_RULE_DENY},
    {"", AG_RULE_NONE},
};

/* Rules files that must be refused, and a piece of the message. */
static const struct { const char *text, *msg; } bad_rules[] = {
    {"alow ls\n", "rules:1: unknown decision 'alow'"},
    {"allow ls\n\n# c\ndeny\n", "rules:4: 'deny' needs a command prefix"},
    {"deny rm; ls\n", "rules:1: the prefix"},
    {"ask $(x)\n", "rules:1: the prefix"},
    {"allow FOO=1 make\n", "rules:1: the prefix"},
    {"allow 'unbalanced\n", "rules:1: the prefix"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof split_cases / sizeof split_cases[0]; i++) {
        int subst = -1;
        char *got = ag_rules_explain(split_cases[i].in, &subst);
        char b1[512], b2[512], b3[512];
        CHECK(got && !strcmp(got, split_cases[i].out) && subst == split_cases[i].subst,
              "split %zu: \"%s\" -> \"%s\" subst %d (got \"%s\" subst %d)", i, esc(split_cases[i].in, b1, sizeof b1),
              esc(split_cases[i].out, b2, sizeof b2), split_cases[i].subst, esc(got, b3, sizeof b3), subst);
        free(got);
    }

    ag_rules *r = ag_rules_new();
    char err[1024] = "";
    CHECK(r && ag_rules_parse(r, rules_text, "rules", err, sizeof err) == 0, "rules text parses (%s)", err);
    CHECK(ag_rules_count(r) == 15, "15 rules read, comments and blank lines skipped (got %d)", ag_rules_count(r));
    for (size_t i = 0; i < sizeof verdict_cases / sizeof verdict_cases[0]; i++) {
        char why[512], b1[512];
        ag_rule_verdict v = ag_rules_check(r, verdict_cases[i].cmd, why, sizeof why);
        CHECK(v == verdict_cases[i].v, "verdict %zu: \"%s\" -> %d (got %d: %s)", i, esc(verdict_cases[i].cmd, b1, sizeof b1),
              verdict_cases[i].v, v, why);
    }
    char why[512];
    ag_rules_check(r, "rm -rf x", why, sizeof why);
    CHECK(strstr(why, "deny rm -rf") && strstr(why, "line 13"), "why names the rule and its line: %s", why);

    /* session rules added at run time */
    CHECK(ag_rules_add(r, AG_RULE_ALLOW, "cargo build", err, sizeof err) == 0, "a session rule is added");
    CHECK(ag_rules_check(r, "cargo build --release", why, sizeof why) == AG_RULE_ALLOW, "session rule allows: %s", why);
    CHECK(strstr(why, "this session") != NULL, "why says the rule is from this session: %s", why);
    CHECK(ag_rules_add(r, AG_RULE_DENY, "a && b", err, sizeof err) == -1, "a compound prefix is refused: %s", err);
    ag_rules_free(r);

    /* no rules: nothing decided, not even a substitution */
    ag_rules *e = ag_rules_new();
    CHECK(ag_rules_check(e, "echo $(id)", why, sizeof why) == AG_RULE_NONE, "no rules: the mode decides");
    CHECK(ag_rules_check(NULL, "ls", why, sizeof why) == AG_RULE_NONE, "NULL rules: the mode decides");
    ag_rules_free(e);

    for (size_t i = 0; i < sizeof bad_rules / sizeof bad_rules[0]; i++) {
        ag_rules *b = ag_rules_new();
        err[0] = 0;
        int rc = ag_rules_parse(b, bad_rules[i].text, "rules", err, sizeof err);
        CHECK(rc == -1 && strstr(err, bad_rules[i].msg), "bad rules %zu refused with '%s' (got: %s)", i,
              bad_rules[i].msg, err);
        ag_rules_free(b);
    }

    /* the rules file: missing is fine, present is read */
    char dir[] = "/tmp/gemmash-rules-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temp folder");
    char path[256];
    snprintf(path, sizeof path, "%s/rules", dir);
    ag_rules *f = ag_rules_new();
    CHECK(ag_rules_load(f, path, "~/.config/gemmash/rules", err, sizeof err) == 0 && ag_rules_count(f) == 0,
          "a missing rules file means no rules");
    FILE *fp = fopen(path, "w");
    if (fp) { fputs("allow ls\nbogus x\n", fp); fclose(fp); }
    CHECK(ag_rules_load(f, path, "~/.config/gemmash/rules", err, sizeof err) == -1 &&
          strstr(err, "~/.config/gemmash/rules:2: unknown decision 'bogus'"), "file errors name file and line: %s", err);
    ag_rules_free(f);
    unlink(path);
    rmdir(dir);

    /* what an "always" answer remembers */
    static const struct { const char *in, *out; } pre[] = {
        {"git push origin", "git push"}, {"ls -la", "ls"}, {"sudo make install", "make install"},
        {"python3 x.py", "python3"}, {"npm run-script build", "npm run-script"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        char out[256];
        ag_rules_session_prefix(pre[i].in, out, sizeof out);
        CHECK(!strcmp(out, pre[i].out), "session prefix of '%s' is '%s' (got '%s')", pre[i].in, pre[i].out, out);
    }
    return check_exit();
}
