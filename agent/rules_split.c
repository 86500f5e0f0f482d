/* rules_split.c: split a shell command line into simple commands and peel
 * off the wrappers, for prefix rules (rules.h).
 *
 * This is not a shell: it reads just enough of the POSIX/bash grammar to
 * find where each simple command starts: quotes and backslashes, the
 * control operators (&& || ; ;; | |& & newline ( )), redirections and their
 * targets, here-document bodies, comments, and the reserved words that
 * precede or close a command (if then else elif do while until ! time fi
 * done esac { }).  Whatever it cannot judge by prefix (command substitution,
 * case, eval, env -S, a program name that is an expansion) sets subst, and
 * the caller asks.  The text inside $(...), `...`, <(...) and >(...) is also
 * split on its own, so a deny rule still sees "rm" in "echo $(rm -rf x)". */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "rules_int.h"

typedef struct lexer {
    ag_sh_line *out;
    ag_sh_cmd   cur;               /* the simple command being read */
    char       *word;              /* the word being read */
    size_t      wn, wcap;
    bool        in_word;
    bool        skip_target;       /* the next word is a redirection target */
    bool        heredoc_next;      /* ... and a here-document delimiter */
    char       *heredocs[8];       /* delimiters whose bodies start at the next newline */
    bool        heredoc_tabs[8];
    int         n_heredoc;
    bool        oom;
    int         depth;             /* recursion into substitutions */
} lexer;

static int split_into(const char *s, size_t n, ag_sh_line *out, int depth);

/* Append one byte to the current word. */
static void wput(lexer *L, char c)
{
    if (L->wn + 2 > L->wcap) {
        size_t nc = L->wcap ? L->wcap * 2 : 64;
        char *q = realloc(L->word, nc);
        if (!q) { L->oom = true; return; }
        L->word = q; L->wcap = nc;
    }
    L->word[L->wn++] = c;
    L->word[L->wn] = 0;
    L->in_word = true;
}

/* Finish the current word: a redirection target or here-document delimiter
 * is dropped (remembered for the body), anything else joins the command. */
static void end_word(lexer *L)
{
    if (!L->in_word) return;
    L->in_word = false;
    char *w = strndup(L->word ? L->word : "", L->wn);
    L->wn = 0;
    if (!w) { L->oom = true; return; }
    if (L->skip_target) {
        L->skip_target = false;
        if (L->heredoc_next && L->n_heredoc < 8) {
            L->heredocs[L->n_heredoc++] = w;
            L->heredoc_next = false;
            return;
        }
        L->heredoc_next = false;
        free(w);
        return;
    }
    ag_sh_cmd *c = &L->cur;
    if (c->n + 1 > c->cap) {
        int nc = c->cap ? c->cap * 2 : 8;
        char **q = realloc(c->w, (size_t)nc * sizeof *q);
        if (!q) { free(w); L->oom = true; return; }
        c->w = q; c->cap = nc;
    }
    c->w[c->n++] = w;
}

static bool is_word(const char *w, const char *const *set)
{
    for (; *set; set++) if (!strcmp(w, *set)) return true;
    return false;
}

/* NAME=value or NAME+=value. */
static bool is_assignment(const char *w)
{
    if (!(isalpha((unsigned char)*w) || *w == '_')) return false;
    while (isalnum((unsigned char)*w) || *w == '_') w++;
    return w[0] == '=' || (w[0] == '+' && w[1] == '=');
}

/* Skip options of a wrapper: flags listed in noarg (single letters) take no
 * value, letters in witharg take one (attached or the next word); long
 * options in longarg take one unless written --opt=value.  Returns the index
 * after the options ("--" consumed). */
static int skip_opts(ag_sh_cmd *c, int i, const char *witharg, const char *const *longarg)
{
    while (i < c->n) {
        const char *w = c->w[i];
        if (!strcmp(w, "--")) return i + 1;
        if (w[0] != '-' || !w[1]) return i;
        if (w[1] == '-') {
            bool takes = !strchr(w, '=') && longarg && is_word(w, longarg);
            i += takes ? 2 : 1;
            continue;
        }
        int j = 1;
        for (; w[j]; j++) if (strchr(witharg, w[j])) break;
        i += (w[j] && !w[j + 1]) ? 2 : 1;      /* "-u root" vs "-uroot" */
    }
    return i;
}

/* Leading assignments at i. */
static int skip_assign(ag_sh_cmd *c, int i)
{
    while (i < c->n && is_assignment(c->w[i])) i++;
    return i;
}

/* If the word at i is a wrapper, the index of the command it runs, else -1.
 * Sets *subst for forms whose command is a string (env -S) or unknown. */
static int unwrap(ag_sh_cmd *c, int i, bool *subst)
{
    const char *w = c->w[i];
    const char *b = strrchr(w, '/') ? strrchr(w, '/') + 1 : w;
    int j;
    if (!strcmp(b, "sudo")) {
        static const char *const lo[] = {"--user", "--group", "--host", "--prompt", "--close-from", "--chdir",
                                         "--role", "--type", "--other-user", "--command-timeout", "--chroot", 0};
        j = skip_opts(c, i + 1, "ugpChDrRtUT", lo);
        return skip_assign(c, j);
    }
    if (!strcmp(b, "env")) {
        static const char *const lo[] = {"--unset", "--chdir", "--split-string", "--default-signal",
                                         "--ignore-signal", "--block-signal", 0};
        for (j = i + 1; j < c->n && c->w[j][0] == '-'; j++)
            if (!strncmp(c->w[j], "-S", 2) || !strncmp(c->w[j], "--split-string", 14)) *subst = true;
        j = skip_opts(c, i + 1, "uCS", lo);
        return skip_assign(c, j);
    }
    if (!strcmp(b, "timeout")) {
        static const char *const lo[] = {"--signal", "--kill-after", 0};
        j = skip_opts(c, i + 1, "sk", lo);
        return j < c->n ? j + 1 : j;            /* the duration */
    }
    if (!strcmp(b, "nice")) {
        static const char *const lo[] = {"--adjustment", 0};
        j = i + 1;
        if (j < c->n && c->w[j][0] == '-' && isdigit((unsigned char)c->w[j][1])) j++;   /* -10 */
        return skip_opts(c, j, "n", lo);
    }
    if (!strcmp(b, "nohup")) return (i + 1 < c->n && !strcmp(c->w[i + 1], "--")) ? i + 2 : i + 1;
    if (!strcmp(b, "command") || !strcmp(b, "builtin")) return skip_opts(c, i + 1, "", NULL);
    if (!strcmp(b, "exec")) return skip_opts(c, i + 1, "a", NULL);
    return -1;
}

/* The command is complete: drop reserved words, find its stages, keep it. */
static void end_cmd(lexer *L)
{
    end_word(L);
    L->skip_target = L->heredoc_next = false;
    ag_sh_cmd c = L->cur;
    memset(&L->cur, 0, sizeof L->cur);
    static const char *const lead[] = {"if", "then", "else", "elif", "do", "while", "until", "!", "time",
                                       "{", "}", "fi", "done", "esac", 0};
    static const char *const opaque[] = {"case", "function", "coproc", "eval", "select", "[[", "((", 0};
    int i = 0;
    while (i < c.n && is_word(c.w[i], lead)) i++;
    if (i < c.n && !strcmp(c.w[i], "for")) i = c.n;         /* "for x in a b": no command */
    if (i < c.n && is_word(c.w[i], opaque)) L->out->subst = true;
    i = skip_assign(&c, i);
    if (i >= c.n) {                                          /* nothing to run */
        for (int k = 0; k < c.n; k++) free(c.w[k]);
        free(c.w);
        return;
    }
    c.stage[c.n_stage++] = i;
    for (;;) {
        int j = unwrap(&c, i, &L->out->subst);
        if (j < 0 || j >= c.n || c.n_stage == AG_SH_MAX_STAGES) break;
        c.stage[c.n_stage++] = i = j;
    }
    if (strchr(c.w[i], '$') || strchr(c.w[i], '`')) L->out->subst = true;   /* program is an expansion */
    ag_sh_line *o = L->out;
    if (o->n + 1 > o->cap) {
        int nc = o->cap ? o->cap * 2 : 4;
        ag_sh_cmd *q = realloc(o->c, (size_t)nc * sizeof *q);
        if (!q) {
            L->oom = true;
            for (int k = 0; k < c.n; k++) free(c.w[k]);
            free(c.w);
            return;
        }
        o->c = q; o->cap = nc;
    }
    o->c[o->n++] = c;
}

/* Index just past the substitution body that starts at i (after "$(" or
 * "<("), honouring nested parentheses and quotes; n if unterminated. */
static size_t paren_end(const char *s, size_t i, size_t n)
{
    int depth = 1;
    while (i < n) {
        char ch = s[i];
        if (ch == '\\') { i += 2; continue; }
        if (ch == '\'') { const char *q = memchr(s + i + 1, '\'', n - i - 1); i = q ? (size_t)(q - s) + 1 : n; continue; }
        if (ch == '"') {
            for (i++; i < n && s[i] != '"'; i++) if (s[i] == '\\') i++;
            i++;
            continue;
        }
        if (ch == '(') depth++;
        if (ch == ')' && --depth == 0) return i;
        i++;
    }
    return n;
}

/* A substitution body s[a..b): split it on its own into the same output. */
static void sub_split(lexer *L, const char *s, size_t a, size_t b)
{
    L->out->subst = true;
    if (L->depth < 8 && b > a && split_into(s + a, b - a, L->out, L->depth + 1)) L->oom = true;
}

/* Skip here-document bodies after a newline at i; returns the new index. */
static size_t skip_heredocs(lexer *L, const char *s, size_t i, size_t n)
{
    for (int h = 0; h < L->n_heredoc; h++) {
        const char *d = L->heredocs[h];
        while (i < n) {
            size_t e = i;
            while (e < n && s[e] != '\n') e++;
            size_t a = i;
            if (L->heredoc_tabs[h]) while (a < e && s[a] == '\t') a++;
            bool end = e - a == strlen(d) && !memcmp(s + a, d, e - a);
            i = e < n ? e + 1 : n;
            if (end) break;
        }
        free(L->heredocs[h]);
    }
    L->n_heredoc = 0;
    return i;
}

/* A redirection operator at i (after optional fd digits in the word);
 * returns its length, 0 if none.  Sets heredoc state for << and <<-. */
static size_t redir_len(lexer *L, const char *s, size_t i, size_t n)
{
    char c0 = s[i], c1 = i + 1 < n ? s[i + 1] : 0, c2 = i + 2 < n ? s[i + 2] : 0;
    if (c0 == '<' && c1 == '<') {
        if (c2 == '<') return 3;                                     /* here-string */
        L->heredoc_next = true;
        if (L->n_heredoc < 8) L->heredoc_tabs[L->n_heredoc] = c2 == '-';
        return c2 == '-' ? 3 : 2;
    }
    if (c0 == '&' && c1 == '>') return c2 == '>' ? 3 : 2;
    if (c0 == '>' || c0 == '<') {
        if (c1 == '>' || c1 == '&' || c1 == '|' || (c0 == '<' && c1 == '>')) return 2;
        return 1;
    }
    return 0;
}

static int split_into(const char *s, size_t n, ag_sh_line *out, int depth)
{
    lexer L = {.out = out, .depth = depth};
    size_t i = 0;
    while (i < n && !L.oom) {
        char ch = s[i];
        if (ch == ' ' || ch == '\t' || ch == '\r') { end_word(&L); i++; continue; }
        if (ch == '\n') { end_cmd(&L); i = skip_heredocs(&L, s, i + 1, n); continue; }
        if (ch == '#' && !L.in_word) { while (i < n && s[i] != '\n') i++; continue; }
        if (ch == '\\') {
            if (i + 1 < n && s[i + 1] == '\n') { i += 2; continue; }   /* line continuation */
            if (i + 1 < n) wput(&L, s[i + 1]);
            i += 2;
            continue;
        }
        if (ch == '\'') {
            L.in_word = true;                                        /* '' is a word too */
            const char *q = memchr(s + i + 1, '\'', n - i - 1);
            size_t e = q ? (size_t)(q - s) : n;
            for (size_t k = i + 1; k < e; k++) wput(&L, s[k]);
            if (!q) out->subst = true;                               /* unbalanced: cannot judge */
            i = e + 1;
            continue;
        }
        if (ch == '"') {
            L.in_word = true;
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < n && strchr("\"\\$`\n", s[i + 1])) { wput(&L, s[++i]); continue; }
                if (s[i] == '$' && i + 1 < n && s[i + 1] == '(') {
                    size_t e = paren_end(s, i + 2, n);
                    sub_split(&L, s, i + 2, e);
                    for (size_t k = i; k <= e && k < n; k++) wput(&L, s[k]);
                    i = e;
                    continue;
                }
                if (s[i] == '`') {
                    const char *q = memchr(s + i + 1, '`', n - i - 1);
                    size_t e = q ? (size_t)(q - s) : n;
                    sub_split(&L, s, i + 1, e);
                    for (size_t k = i; k <= e && k < n; k++) wput(&L, s[k]);
                    i = e;
                    continue;
                }
                wput(&L, s[i]);
            }
            if (i >= n) out->subst = true;
            i++;
            continue;
        }
        if ((ch == '$' || ((ch == '<' || ch == '>') && !L.in_word)) && i + 1 < n && s[i + 1] == '(') {
            size_t e = paren_end(s, i + 2, n);
            sub_split(&L, s, i + 2, e);
            for (size_t k = i; k <= e && k < n; k++) wput(&L, s[k]);
            i = e + 1;
            continue;
        }
        if (ch == '`') {
            const char *q = memchr(s + i + 1, '`', n - i - 1);
            size_t e = q ? (size_t)(q - s) : n;
            sub_split(&L, s, i + 1, e);
            for (size_t k = i; k <= e && k < n; k++) wput(&L, s[k]);
            i = e + 1;
            continue;
        }
        size_t r = redir_len(&L, s, i, n);
        if (r) {
            /* "2>": the digits before the operator are its fd, not a word */
            bool fd = L.in_word && L.wn > 0 && strspn(L.word, "0123456789") == L.wn;
            if (fd) { L.in_word = false; L.wn = 0; }
            else end_word(&L);
            i += r;
            if (ch == '>' && r == 2 && s[i - 1] == '&' && i < n && s[i] == '-') i++;   /* >&- */
            L.skip_target = true;
            continue;
        }
        if (ch == ';' || ch == '|' || ch == '&' || ch == '(' || ch == ')') {
            end_cmd(&L);
            i += (i + 1 < n && (s[i + 1] == ch || (ch == '|' && s[i + 1] == '&'))) ? 2 : 1;
            continue;
        }
        wput(&L, ch);
        i++;
    }
    end_cmd(&L);
    for (int h = 0; h < L.n_heredoc; h++) free(L.heredocs[h]);
    free(L.word);
    return L.oom ? -1 : 0;
}

int ag_sh_split(const char *line, ag_sh_line *out)
{
    memset(out, 0, sizeof *out);
    if (split_into(line, strlen(line), out, 0)) { ag_sh_line_free(out); return -1; }
    return 0;
}

void ag_sh_line_free(ag_sh_line *l)
{
    for (int i = 0; i < l->n; i++) {
        for (int k = 0; k < l->c[i].n; k++) free(l->c[i].w[k]);
        free(l->c[i].w);
    }
    free(l->c);
    memset(l, 0, sizeof *l);
}
