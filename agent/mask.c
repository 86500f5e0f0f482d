/* mask.c: which vocabulary tokens the grammar allows next.
 *
 * A mask over 262144 tokens must cost milliseconds.  Every token's symbols
 * are stored once and the vocabulary is organised as a trie over symbols, so
 * tokens that share a prefix share the work: a depth-first walk steps a copy
 * of the grammar state once per trie edge and drops a whole subtree at the
 * first symbol the grammar refuses.  Inside a string nearly every token is
 * allowed; there a precomputed bitmap of "plain text" tokens is taken as a
 * whole and only the other tokens (quotes, escapes, partial UTF-8, control
 * tokens) are walked. */
#include <stdlib.h>
#include <string.h>
#include "grammar_int.h"

typedef struct tnode {
    int32_t child, sibling, tok;
    int32_t sym;
} tnode;

typedef struct trie {
    tnode   *n;
    int32_t  nn, cap;
    int32_t *tok_next;      /* next token ending at the same node */
} trie;

struct ag_vocab {
    int       n;
    int32_t  *off;          /* syms of token i: syms[off[i] .. off[i+1]) */
    int      *syms;
    int32_t   sym_tok[AG_SYM_COUNT - 256];
    trie      all, np_gemma, np_json, np_ident;
    uint32_t *plain_gemma, *plain_json, *ident;
    int       max_len;      /* longest token, in symbols */
};

/* An empty trie with room for the token lists of ntok tokens. */
static int trie_init(trie *t, int ntok)
{
    t->cap = 1024;
    t->n = malloc((size_t)t->cap * sizeof *t->n);
    t->tok_next = malloc((size_t)ntok * sizeof *t->tok_next);
    if (!t->n || !t->tok_next) return -1;
    t->nn = 1;
    t->n[0] = (tnode){-1, -1, -1, -1};
    return 0;
}

static void trie_free(trie *t) { free(t->n); free(t->tok_next); }

/* Insert token id with symbols s[0..len) (len >= 1).  Tokens arrive in
 * sorted order, so a node's matching child, if any, is its newest one. */
static int trie_add(trie *t, int32_t id, const int *s, int len)
{
    int32_t cur = 0;
    for (int i = 0; i < len; i++) {
        int32_t c = t->n[cur].child;
        if (c >= 0 && t->n[c].sym != s[i]) c = -1;
        if (c < 0) {
            if (t->nn == t->cap) {
                int32_t nc = t->cap * 2;
                tnode *q = realloc(t->n, (size_t)nc * sizeof *q);
                if (!q) return -1;
                t->n = q; t->cap = nc;
            }
            c = t->nn++;
            t->n[c] = (tnode){-1, t->n[cur].child, -1, s[i]};
            t->n[cur].child = c;
        }
        cur = c;
    }
    t->tok_next[id] = t->n[cur].tok;
    t->n[cur].tok = id;
    return 0;
}

/* Valid, complete UTF-8 made of bytes only (no control symbol)? */
static bool plain_utf8(const int *s, int len, bool json)
{
    int need = 0;
    for (int i = 0; i < len; i++) {
        int c = s[i];
        if (c >= 256) return false;
        if (json && (c == '"' || c == '\\' || c < 0x20)) return false;
        if (need) { if ((c & 0xC0) != 0x80) return false; need--; continue; }
        if (c < 0x80) continue;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) need = 2;
        else if (c >= 0xF0 && c <= 0xF4) need = 3;
        else return false;
        /* the overlong/surrogate corner cases are left to the walk */
        if (c == 0xE0 || c == 0xED || c == 0xF0 || c == 0xF4) return false;
    }
    return need == 0;
}

/* Token order for building the tries: by symbols, lexicographically. */
static int by_syms(const void *a, const void *b, void *ud)
{
    const ag_vocab *v = ud;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    const int *p = v->syms + v->off[x], *q = v->syms + v->off[y];
    int lp = v->off[x + 1] - v->off[x], lq = v->off[y + 1] - v->off[y];
    for (int i = 0; i < lp && i < lq; i++) if (p[i] != q[i]) return p[i] < q[i] ? -1 : 1;
    return lp - lq;
}

/* Letters, digits and '_' only, short enough for the free-key fast path. */
static bool ident_token(const int *s, int len)
{
    if (len > AG_IDENT_TOKEN_MAX) return false;
    for (int i = 0; i < len; i++)
        if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z')))
            return false;
    return true;
}

/* Free the symbols, tries and bitmaps. */
void ag_vocab_free(ag_vocab *v)
{
    if (!v) return;
    free(v->off); free(v->syms);
    trie_free(&v->all); trie_free(&v->np_gemma); trie_free(&v->np_json); trie_free(&v->np_ident);
    free(v->plain_gemma); free(v->plain_json); free(v->ident);
    free(v);
}

/* Store every token's symbols once, build the tries and the plain-text bitmaps. */
ag_vocab *ag_vocab_new(int n, const char *const *bytes, const size_t *lens, const int *ctl)
{
    ag_vocab *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->n = n;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += ctl && ctl[i] >= 256 ? 1 : lens[i];
    size_t words = ((size_t)n + 31) / 32;
    v->off = malloc(((size_t)n + 1) * sizeof *v->off);
    v->syms = malloc((total + 1) * sizeof *v->syms);
    v->plain_gemma = calloc(words, sizeof(uint32_t));
    v->plain_json = calloc(words, sizeof(uint32_t));
    v->ident = calloc(words, sizeof(uint32_t));
    if (!v->off || !v->syms || !v->plain_gemma || !v->plain_json || !v->ident ||
        trie_init(&v->all, n) || trie_init(&v->np_gemma, n) || trie_init(&v->np_json, n) ||
        trie_init(&v->np_ident, n)) {
        ag_vocab_free(v);
        return NULL;
    }
    for (int s = 0; s < AG_SYM_COUNT - 256; s++) v->sym_tok[s] = -1;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        v->off[i] = (int32_t)k;
        if (ctl && ctl[i] >= 256) {
            v->syms[k++] = ctl[i];
            if (ctl[i] != AG_SYM_OTHER && v->sym_tok[ctl[i] - 256] < 0) v->sym_tok[ctl[i] - 256] = i;
        } else
            for (size_t j = 0; j < lens[i]; j++) v->syms[k++] = (unsigned char)bytes[i][j];
    }
    v->off[n] = (int32_t)k;
    for (int i = 0; i < n; i++)
        if (v->off[i + 1] - v->off[i] > v->max_len) v->max_len = v->off[i + 1] - v->off[i];
    int32_t *order = malloc((size_t)n * sizeof *order);
    if (!order) { ag_vocab_free(v); return NULL; }
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, by_syms, v);
    for (int oi = 0; oi < n; oi++) {
        int i = order[oi];
        const int *s = v->syms + v->off[i];
        int len = v->off[i + 1] - v->off[i];
        if (len == 0 || (len == 1 && s[0] == AG_SYM_OTHER)) continue;   /* never allowed */
        int rc = trie_add(&v->all, i, s, len);
        if (plain_utf8(s, len, false)) v->plain_gemma[i / 32] |= 1u << (i % 32);
        else if (!rc) rc = trie_add(&v->np_gemma, i, s, len);
        if (plain_utf8(s, len, true)) v->plain_json[i / 32] |= 1u << (i % 32);
        else if (!rc) rc = trie_add(&v->np_json, i, s, len);
        if (ident_token(s, len)) v->ident[i / 32] |= 1u << (i % 32);
        else if (!rc) rc = trie_add(&v->np_ident, i, s, len);
        if (rc) { free(order); ag_vocab_free(v); return NULL; }
    }
    free(order);
    return v;
}

int     ag_vocab_size(const ag_vocab *v) { return v->n; }
/* The token that is a control symbol (e.g. <|"|> -> 52). */
int32_t ag_vocab_sym_token(const ag_vocab *v, int sym)
{
    return sym >= 256 && sym < AG_SYM_COUNT ? v->sym_tok[sym - 256] : -1;
}

/* A token's symbols, for feeding the grammar and the parser. */
size_t ag_vocab_syms(const ag_vocab *v, int32_t id, int *syms, size_t cap)
{
    if (id < 0 || id >= v->n) return 0;
    size_t len = (size_t)(v->off[id + 1] - v->off[id]);
    for (size_t i = 0; i < len && i < cap; i++) syms[i] = v->syms[v->off[id] + i];
    return len;
}

/* Walk the children of trie node at, from grammar state s. */
static int walk(const trie *t, int32_t at, const ag_gstate *s, uint32_t *allow)
{
    int count = 0;
    ag_gstate tmp;
    for (int32_t c = t->n[at].child; c >= 0; c = t->n[c].sibling) {
        ag_gs_copy(&tmp, s);
        if (ag_gs_step_raw(&tmp, t->n[c].sym)) continue;
        for (int32_t id = t->n[c].tok; id >= 0; id = t->tok_next[id]) {
            allow[id / 32] |= 1u << (id % 32);
            count++;
        }
        if (t->n[c].child >= 0) count += walk(t, c, &tmp, allow);
    }
    return count;
}

/* The allowed set: fast path inside strings and free keys, trie walk elsewhere. */
int ag_mask_compute(const ag_vocab *v, const ag_gstate *s, uint32_t *allow)
{
    size_t words = ((size_t)v->n + 31) / 32;
    memset(allow, 0, words * sizeof *allow);
    int fs = ag_gs_free_string(s, v->max_len);
    if (!fs) return walk(&v->all, 0, s, allow);
    const uint32_t *plain = fs == 1 ? v->plain_gemma : fs == 2 ? v->plain_json : v->ident;
    const trie *rest = fs == 1 ? &v->np_gemma : fs == 2 ? &v->np_json : &v->np_ident;
    int count = 0;
    for (size_t w = 0; w < words; w++) {
        allow[w] = plain[w];
        count += __builtin_popcount(plain[w]);
    }
    return count + walk(rest, 0, s, allow);
}
