/* tokenizer.c: building the tokenizer's tables and the simple look-ups.
 *
 * Both loaders (tokenizer.json, GGUF arrays) end in tok_build, so the two
 * paths give the same tokenizer by construction.  The tables:
 *   - every piece in one arena, indexed by id,
 *   - piece -> id: open addressing, FNV-1a,
 *   - (left, right) -> (rank, result): open addressing on the id pair,
 *   - a byte trie over added tokens for leftmost-longest matching. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "tokenizer_internal.h"

#define NO_OFF UINT32_MAX

/* FNV-1a: simple, good enough spread for short UTF-8 pieces. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* A 64-bit mixer for the merge keys (splitmix64 finaliser). */
static uint64_t hash_u64(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Smallest power of two >= 2n (load factor at most one half). */
static size_t table_size(size_t n)
{
    size_t s = 16;
    while (s < 2 * n) s <<= 1;
    return s;
}

/* The code point of a valid 1-3 byte character, or -1 for anything else. */
static int32_t bmp_cp(const unsigned char *u, size_t cl)
{
    if (cl == 1 && u[0] < 0x80) return u[0];
    if (cl == 2) return (u[0] & 0x1F) << 6 | (u[1] & 0x3F);
    if (cl == 3) return (u[0] & 0x0F) << 12 | (u[1] & 0x3F) << 6 | (u[2] & 0x3F);
    return -1;
}

/* Whether a run may be cut before a '▁' that follows this character. */
bool tok_space_may_cut(const gm_tokenizer *tok, const unsigned char *c, size_t cl)
{
    int32_t cp = bmp_cp(c, cl);
    if (cp == 0x2581) return false;
    if (cp < 0) return !tok->join_space_other;
    return !(tok->join_space[cp >> 3] >> (cp & 7) & 1);
}

/* Mark every character that some piece has right before a '▁'. */
static void mark_join_space(gm_tokenizer *tok)
{
    for (int32_t id = 0; id < tok->n_vocab; id++) {
        if (tok->off[id] == NO_OFF) continue;
        const unsigned char *p = (const unsigned char *)tok->arena + tok->off[id];
        size_t n = tok->len[id];
        for (size_t i = 0; i < n; ) {
            size_t cl = tok_utf8_len(p + i, n - i);
            if (i + cl + 3 <= n && memcmp(p + i + cl, "\xe2\x96\x81", 3) == 0) {
                int32_t cp = bmp_cp(p + i, cl);
                if (cp < 0) tok->join_space_other = true;
                else tok->join_space[cp >> 3] |= (uint8_t)(1u << (cp & 7));
            }
            i += cl;
        }
    }
}

/* Whitespace test for lstrip/rstrip, matching the reference's trim(). */
size_t tok_space_len(const unsigned char *s, size_t n)
{
    if (n == 0) return 0;
    if (s[0] == ' ' || (s[0] >= 0x09 && s[0] <= 0x0D)) return 1;
    size_t cl = tok_utf8_len(s, n);
    int32_t cp = bmp_cp(s, cl);
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
        return cl;
    return 0;
}

/* Where BPE symbols end: one valid UTF-8 character, or one stray byte. */
size_t tok_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t need;
    if (c < 0x80) return 1;
    else if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) need = 3;
    else if (c >= 0xF0 && c <= 0xF4) need = 4;
    else return 1;
    if (n < need) return 1;
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    if (s[1] < lo || s[1] > hi) return 1;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80) return 1;
    return need;
}

/* piece -> id, the look-up every stage needs. */
int32_t tok_lookup(const gm_tokenizer *tok, const char *s, size_t n)
{
    size_t i = hash_bytes(s, n) & tok->map_mask;
    for (;;) {
        int32_t id = tok->map[i];
        if (id < 0) return -1;
        if (tok->len[id] == n && memcmp(tok->arena + tok->off[id], s, n) == 0) return id;
        i = (i + 1) & tok->map_mask;
    }
}

/* Insert id under its piece; a later id with the same piece replaces the
 * earlier one (tokenizer.json semantics: added tokens override). */
static void map_insert(gm_tokenizer *tok, int32_t id)
{
    const char *s = tok->arena + tok->off[id];
    size_t n = tok->len[id];
    size_t i = hash_bytes(s, n) & tok->map_mask;
    for (;;) {
        int32_t cur = tok->map[i];
        if (cur < 0 || (tok->len[cur] == n && memcmp(tok->arena + tok->off[cur], s, n) == 0)) {
            tok->map[i] = id;
            return;
        }
        i = (i + 1) & tok->map_mask;
    }
}

/* The table key of a pair; +1 keeps 0 free as the empty-slot marker. */
static uint64_t merge_key(int32_t left, int32_t right)
{
    return ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
}

/* Recognise "<0xXX>" byte-fallback pieces. */
bool tok_is_byte_piece(const char *p, size_t l)
{
    if (l != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return false;
    for (int i = 3; i < 5; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'F'))) return false;
    return true;
}

/* The merge rule of an adjacent pair, the heart of BPE. */
const tok_merge *tok_merge_find(const gm_tokenizer *tok, int32_t left, int32_t right)
{
    if (left < 0 || right < 0 || !tok->merges) return NULL;
    uint64_t key = merge_key(left, right);
    size_t i = hash_u64(key) & tok->merge_mask;
    for (;;) {
        const tok_merge *m = &tok->merges[i];
        if (m->key == 0) return NULL;
        if (m->key == key) return m;
        i = (i + 1) & tok->merge_mask;
    }
}

/* Insert or overwrite a merge (a later duplicate takes the later rank, as
 * the reference tokenizer's map does). */
static void merge_insert(gm_tokenizer *tok, uint64_t key, int32_t rank, int32_t result)
{
    size_t i = hash_u64(key) & tok->merge_mask;
    while (tok->merges[i].key != 0 && tok->merges[i].key != key)
        i = (i + 1) & tok->merge_mask;
    tok->merges[i].key = key;
    tok->merges[i].rank = rank;
    tok->merges[i].result = result;
}

/* Whether a token is matched in the text before BPE (an "added" token). */
static bool is_added_type(int32_t t)
{
    return t == GM_TOK_CONTROL || t == GM_TOK_USER_DEFINED || t == GM_TOK_UNKNOWN;
}

/* Add one added token's bytes to the trie; returns 0 or -1 (no memory). */
static int trie_insert(gm_tokenizer *tok, const unsigned char *s, size_t n, int32_t id)
{
    int32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t c = tok->trie[node].first_child;
        while (c >= 0 && tok->trie[c].byte != s[i]) c = tok->trie[c].next_sibling;
        if (c < 0) {
            if (tok->n_trie == tok->cap_trie) {
                int32_t ncap = tok->cap_trie * 2;
                tok_trie_node *t = realloc(tok->trie, (size_t)ncap * sizeof *t);
                if (!t) return -1;
                tok->trie = t;
                tok->cap_trie = ncap;
            }
            c = tok->n_trie++;
            tok->trie[c] = (tok_trie_node){ .first_child = -1, .next_sibling = tok->trie[node].first_child,
                                            .token = -1, .byte = s[i] };
            tok->trie[node].first_child = c;
        }
        node = c;
    }
    tok->trie[node].token = id;
    return 0;
}

/* Fill the merge table from (left, right) string pairs.  A merge whose
 * parts or result are not in the vocabulary can never fire on ids: skipped. */
static int build_merges(gm_tokenizer *tok, const tok_source *src, const char *what, gm_err *err)
{
    if (src->n_merges <= 0) return 0;
    tok->merge_mask = table_size((size_t)src->n_merges) - 1;
    tok->merges = calloc(tok->merge_mask + 1, sizeof *tok->merges);
    char *buf = malloc(2 * tok->max_piece + 2);
    if (!tok->merges || !buf) {
        free(buf);
        return gm_err_set(err, GM_E_NOMEM, "%s: out of memory for %d merges", what, src->n_merges);
    }
    for (int32_t r = 0; r < src->n_merges; r++) {
        const char *l = src->merge_left[r], *rt = src->merge_right[r];
        if (!l || !rt) continue;
        size_t ln = strlen(l), rn = strlen(rt);
        if (ln + rn > 2 * tok->max_piece) continue;   /* result cannot be a piece */
        int32_t a = tok_lookup(tok, l, ln), b = tok_lookup(tok, rt, rn);
        if (a < 0 || b < 0) continue;
        memcpy(buf, l, ln);
        memcpy(buf + ln, rt, rn);
        int32_t res = tok_lookup(tok, buf, ln + rn);
        if (res < 0) continue;
        merge_insert(tok, merge_key(a, b), r, res);
        tok->n_merges++;
    }
    free(buf);
    return 0;
}

/* Build every table from one vocabulary description (both loaders end here). */
gm_tokenizer *tok_build(const tok_source *src, const char *what, gm_err *err)
{
    if (src->n_tokens <= 0) {
        gm_err_set(err, GM_E_FORMAT, "%s: the vocabulary is empty; expected a tokenizer with pieces", what);
        return NULL;
    }
    gm_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok) { gm_err_set(err, GM_E_NOMEM, "%s: out of memory", what); return NULL; }
    int32_t n = src->n_tokens;
    tok->n_vocab = n;
    tok->escape_spaces = src->escape_spaces;
    size_t total = 0;
    for (int32_t i = 0; i < n; i++)
        if (src->tokens[i]) total += strlen(src->tokens[i]) + 1;
    if (total >= NO_OFF) {
        gm_err_set(err, GM_E_FORMAT, "%s: pieces total %zu bytes, more than 4 GiB", what, total);
        goto fail;
    }
    tok->arena = malloc(total + 1);
    tok->off = malloc((size_t)n * sizeof *tok->off);
    tok->len = malloc((size_t)n * sizeof *tok->len);
    tok->type = malloc((size_t)n * sizeof *tok->type);
    tok->map_mask = table_size((size_t)n) - 1;
    tok->map = malloc((tok->map_mask + 1) * sizeof *tok->map);
    tok->cap_trie = 1024;
    tok->trie = malloc((size_t)tok->cap_trie * sizeof *tok->trie);
    if (!tok->arena || !tok->off || !tok->len || !tok->type || !tok->map || !tok->trie) {
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory for %d tokens", what, n);
        goto fail;
    }
    memset(tok->map, 0xff, (tok->map_mask + 1) * sizeof *tok->map);
    size_t at = 0;
    for (int32_t i = 0; i < n; i++) {
        const char *p = src->tokens[i];
        int32_t t = src->types ? src->types[i] : GM_TOK_NORMAL;
        if (!p) { tok->off[i] = NO_OFF; tok->len[i] = 0; tok->type[i] = GM_TOK_UNUSED; continue; }
        size_t l = strlen(p);
        memcpy(tok->arena + at, p, l + 1);
        tok->off[i] = (uint32_t)at;
        tok->len[i] = (uint32_t)l;
        at += l + 1;
        if (l > tok->max_piece) tok->max_piece = l;
        if (t < GM_TOK_NORMAL || t > GM_TOK_BYTE) t = GM_TOK_NORMAL;
        if (!src->types && tok_is_byte_piece(p, l)) t = GM_TOK_BYTE;
        tok->type[i] = t;
    }
    tok->arena_len = at;
    for (int32_t i = 0; src->strip && i < n && !tok->strip; i++)
        if (src->strip[i]) {
            tok->strip = malloc((size_t)n);
            if (!tok->strip) {
                gm_err_set(err, GM_E_NOMEM, "%s: out of memory", what);
                goto fail;
            }
            memcpy(tok->strip, src->strip, (size_t)n);
        }
    /* Ordinary pieces first, added tokens second, so added ones win a clash. */
    for (int pass = 0; pass < 2; pass++)
        for (int32_t i = 0; i < n; i++)
            if (tok->off[i] != NO_OFF && tok->len[i] > 0 && is_added_type(tok->type[i]) == (pass == 1))
                map_insert(tok, i);
    tok->bmp_id = malloc(0x10000 * sizeof *tok->bmp_id);
    tok->join_space = calloc(0x10000 / 8, 1);
    if (!tok->bmp_id || !tok->join_space) {
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory for the character table", what);
        goto fail;
    }
    mark_join_space(tok);
    /* one-character pieces below U+10000, each under the id the text maps to */
    memset(tok->bmp_id, 0xff, 0x10000 * sizeof *tok->bmp_id);
    for (int32_t i = 0; i < n; i++) {
        if (tok->off[i] == NO_OFF || tok->len[i] == 0 || tok->len[i] > 3) continue;
        const unsigned char *p = (const unsigned char *)tok->arena + tok->off[i];
        int32_t cp = tok_utf8_len(p, tok->len[i]) == tok->len[i] ? bmp_cp(p, tok->len[i]) : -1;
        if (cp >= 0) tok->bmp_id[cp] = tok_lookup(tok, (const char *)p, tok->len[i]);
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        tok->byte_id[b] = tok_lookup(tok, name, 6);
    }
    tok->unk_id = -1;
    for (int32_t i = 0; i < n && tok->unk_id < 0; i++)
        if (tok->type[i] == GM_TOK_UNKNOWN) tok->unk_id = i;
    if (tok->unk_id < 0) tok->unk_id = tok_lookup(tok, "<unk>", 5);
    if (build_merges(tok, src, what, err) < 0) goto fail;
    tok->trie[0] = (tok_trie_node){ .first_child = -1, .next_sibling = -1, .token = -1, .byte = 0 };
    tok->n_trie = 1;
    for (int32_t i = 0; i < n; i++) {
        if (tok->off[i] == NO_OFF || tok->len[i] == 0 || !is_added_type(tok->type[i])) continue;
        const char *p = tok->arena + tok->off[i];
        /* the id the text maps to: the winner of a clash */
        int32_t id = tok_lookup(tok, p, tok->len[i]);
        if (trie_insert(tok, (const unsigned char *)p, tok->len[i], id) < 0) {
            gm_err_set(err, GM_E_NOMEM, "%s: out of memory for the added-token trie", what);
            goto fail;
        }
    }
    for (int b = 0; b < 256; b++) tok->root_child[b] = -1;
    for (int32_t c = tok->trie[0].first_child; c >= 0; c = tok->trie[c].next_sibling)
        tok->root_child[tok->trie[c].byte] = c;
    return tok;
fail:
    gm_tok_free(tok);
    return NULL;
}

/* Split GGUF-style "left right" merges at the first space after the first
 * byte (a piece never starts with the separator) and build. */
gm_tokenizer *gm_tok_from_vocab(const gm_vocab_spec *spec, gm_err *err)
{
    if (!spec || spec->n_tokens <= 0 || !spec->tokens || spec->n_merges < 0 ||
        (spec->n_merges > 0 && !spec->merges)) {
        gm_err_set(err, GM_E_ARG, "vocabulary: no tokens given (n_tokens=%d); pass the GGUF "
                   "tokenizer.ggml.tokens array", spec ? spec->n_tokens : 0);
        return NULL;
    }
    int32_t nm = spec->n_merges;
    const char **left = calloc((size_t)nm + 1, sizeof *left);
    const char **right = calloc((size_t)nm + 1, sizeof *right);
    char *buf = NULL;
    size_t total = 0;
    for (int32_t i = 0; i < nm; i++) total += spec->merges[i] ? strlen(spec->merges[i]) + 1 : 0;
    buf = malloc(total + 1);
    gm_tokenizer *tok = NULL;
    if (!left || !right || !buf) {
        gm_err_set(err, GM_E_NOMEM, "vocabulary: out of memory for %d merges", nm);
        goto out;
    }
    size_t at = 0;
    for (int32_t i = 0; i < nm; i++) {
        const char *m = spec->merges[i];
        if (!m) continue;
        size_t l = strlen(m);
        const char *sp = l > 1 ? strchr(m + 1, ' ') : NULL;
        if (!sp) continue;      /* malformed: no separator, cannot apply */
        memcpy(buf + at, m, l + 1);
        buf[at + (size_t)(sp - m)] = '\0';
        left[i] = buf + at;
        right[i] = buf + at + (size_t)(sp - m) + 1;
        at += l + 1;
    }
    tok_source src = { .n_tokens = spec->n_tokens, .tokens = spec->tokens, .types = spec->types,
                       .n_merges = nm, .merge_left = left, .merge_right = right,
                       .escape_spaces = true };
    tok = tok_build(&src, "vocabulary", err);
out:
    free(left);
    free(right);
    free(buf);
    return tok;
}

/* Release a tokenizer and all its tables. */
void gm_tok_free(gm_tokenizer *tok)
{
    if (!tok) return;
    free(tok->arena);
    free(tok->off);
    free(tok->len);
    free(tok->type);
    free(tok->map);
    free(tok->merges);
    free(tok->trie);
    free(tok->bmp_id);
    free(tok->join_space);
    free(tok->strip);
    free(tok);
}

/* Highest id + 1, for callers sizing logits masks. */
int32_t gm_tok_vocab_size(const gm_tokenizer *tok)
{
    return tok ? tok->n_vocab : 0;
}

/* The stored piece of an id, for display and debugging. */
const char *gm_tok_piece(const gm_tokenizer *tok, int32_t id)
{
    if (!tok || id < 0 || id >= tok->n_vocab || tok->off[id] == NO_OFF) return NULL;
    return tok->arena + tok->off[id];
}

/* The id of an exact piece, e.g. a control token by name. */
int32_t gm_tok_find(const gm_tokenizer *tok, const char *piece)
{
    if (!tok || !piece || !*piece) return -1;
    return tok_lookup(tok, piece, strlen(piece));
}

/* The GM_TOK_* kind of an id. */
int32_t gm_tok_type(const gm_tokenizer *tok, int32_t id)
{
    if (!tok || id < 0 || id >= tok->n_vocab) return 0;
    return tok->type[id];
}
