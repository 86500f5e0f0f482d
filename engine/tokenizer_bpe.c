/* tokenizer_bpe.c: text -> ids.
 *
 * The pipeline, as the reference tokenizer runs it for Gemma:
 *   1. added tokens are cut out first, leftmost-longest, on the raw text
 *      (control tokens only with parse_special; user-defined ones always),
 *   2. what lies between is split into runs of '\n' and runs of other bytes,
 *   3. each run has ' ' replaced by U+2581 and goes through BPE over whole
 *      UTF-8 characters: repeatedly merge the adjacent pair with the lowest
 *      merge rank, leftmost first on ties,
 *   4. a final symbol that is not a piece becomes its <0xXX> byte tokens.
 * BPE keeps the symbols in a doubly linked list and candidate pairs in a
 * binary heap, so a run of n characters costs O(n log n). */
#include <stdlib.h>
#include <string.h>
#include "tokenizer_internal.h"

/* One symbol of the word being merged. */
typedef struct bpe_sym {
    uint32_t start, len;   /* bytes in the normalized run; len 0 = merged away */
    int32_t  id;           /* -1: not a piece (byte fallback at the end) */
    int32_t  prev, next;   /* -1 at the ends */
} bpe_sym;

/* One candidate merge at a symbol: key = rank << 32 | start of the left
 * symbol, so one compare orders by rank, then leftmost.  An entry is stale
 * when the pair now at that symbol is not the merge of that rank. */
typedef struct bpe_pair {
    uint64_t key;
    int32_t  left;
    int32_t  result;       /* the merged piece */
} bpe_pair;

/* A direct-mapped cache of merge look-ups for long inputs: the same few
 * thousand pairs recur, and the full table is too big to stay in cache. */
#define MCACHE_BITS 13
typedef struct mcache_ent {
    uint64_t key;          /* 0: empty */
    int32_t  rank;         /* -1: no merge */
    int32_t  result;
} mcache_ent;

/* Scratch for one encode call: output ids and reusable buffers. */
typedef struct enc_state {
    const gm_tokenizer *tok;
    int32_t  *ids; size_t n, cap;
    char     *norm; size_t norm_cap;
    bpe_sym  *sym; size_t sym_cap;
    bpe_pair *heap; size_t heap_n, heap_cap;
    mcache_ent *mcache;    /* NULL for short inputs */
    gm_err   *err;
} enc_state;

/* Grow a buffer to hold at least need elements of size sz; 0 or -1. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * sz);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* Append one id to the output. */
static int emit(enc_state *st, int32_t id)
{
    if (grow((void **)&st->ids, &st->cap, st->n + 1, sizeof *st->ids) < 0)
        return gm_err_set(st->err, GM_E_NOMEM, "tokenizer: out of memory for %zu ids", st->n + 1);
    st->ids[st->n++] = id;
    return 0;
}

/* Move entry i down to its place (the heap is a min-heap on key). */
static void sift_down(bpe_pair *h, size_t n, size_t i)
{
    bpe_pair x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1].key < h[c].key) c++;
        if (h[c].key >= x.key) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* The merge of ids a, b through the cache: rank and result, false if none. */
static bool find_merge(const enc_state *st, int32_t a, int32_t b, int32_t *rank, int32_t *result)
{
    if (a < 0 || b < 0) return false;
    mcache_ent *e = NULL;
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    if (st->mcache) {
        e = &st->mcache[(key * 0x9E3779B97F4A7C15ull) >> (64 - MCACHE_BITS)];
        if (e->key == key) {
            *rank = e->rank;
            *result = e->result;
            return e->rank >= 0;
        }
    }
    const tok_merge *m = tok_merge_find(st->tok, a, b);
    *rank = m ? m->rank : -1;
    *result = m ? m->result : -1;
    if (e) *e = (mcache_ent){ key, *rank, *result };
    return m != NULL;
}

/* The pair starting at symbol l if it has a merge: its heap entry. */
static bool pair_at(const enc_state *st, int32_t l, bpe_pair *out)
{
    if (l < 0) return false;
    const bpe_sym *L = &st->sym[l];
    if (L->next < 0) return false;
    int32_t rank;
    if (!find_merge(st, L->id, st->sym[L->next].id, &rank, &out->result)) return false;
    out->key = (uint64_t)(uint32_t)rank << 32 | L->start;
    out->left = l;
    return true;
}

/* Queue the pair starting at symbol l, if it has a merge. */
static int heap_push(enc_state *st, int32_t l)
{
    bpe_pair p;
    if (!pair_at(st, l, &p)) return 0;
    if (grow((void **)&st->heap, &st->heap_cap, st->heap_n + 1, sizeof *st->heap) < 0)
        return gm_err_set(st->err, GM_E_NOMEM, "tokenizer: out of memory for the merge queue");
    size_t i = st->heap_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (st->heap[up].key <= p.key) break;
        st->heap[i] = st->heap[up];
        i = up;
    }
    st->heap[i] = p;
    return 0;
}

/* Emit the ids of a symbol that is not a piece: its bytes as <0xXX>, or
 * <unk> when some byte token is missing (the reference's rule). */
static int emit_fallback(enc_state *st, const unsigned char *s, size_t n)
{
    const gm_tokenizer *tok = st->tok;
    bool all = true;
    for (size_t i = 0; i < n; i++) all = all && tok->byte_id[s[i]] >= 0;
    if (all) {
        for (size_t i = 0; i < n; i++)
            if (emit(st, tok->byte_id[s[i]]) < 0) return -1;
        return 0;
    }
    if (tok->unk_id < 0)
        return gm_err_set(st->err, GM_E_FORMAT, "tokenizer: byte 0x%02X has no <0x%02X> token and "
                          "there is no <unk>; the vocabulary cannot encode this text", s[0], s[0]);
    return emit(st, tok->unk_id);
}

/* The id of the one character s[0..cl): the BMP table, else the hash. */
static int32_t char_id(const gm_tokenizer *tok, const char *s, size_t cl)
{
    const unsigned char *u = (const unsigned char *)s;
    if (cl == 1 && u[0] < 0x80) return tok->bmp_id[u[0]];
    if (cl == 2) return tok->bmp_id[(u[0] & 0x1F) << 6 | (u[1] & 0x3F)];
    if (cl == 3) return tok->bmp_id[(u[0] & 0x0F) << 12 | (u[1] & 0x3F) << 6 | (u[2] & 0x3F)];
    return tok_lookup(tok, s, cl);
}

/* BPE over the segment s[from..to) of a normalized run. */
static int bpe_segment(enc_state *st, const char *s, size_t from, size_t to)
{
    const gm_tokenizer *tok = st->tok;
    size_t ns = 0;
    for (size_t i = from; i < to; ) {
        size_t cl = tok_utf8_len((const unsigned char *)s + i, to - i);
        if (grow((void **)&st->sym, &st->sym_cap, ns + 1, sizeof *st->sym) < 0)
            return gm_err_set(st->err, GM_E_NOMEM, "tokenizer: out of memory for %zu symbols", ns + 1);
        st->sym[ns] = (bpe_sym){ (uint32_t)i, (uint32_t)cl, char_id(tok, s + i, cl),
                                 (int32_t)ns - 1, (int32_t)ns + 1 };
        ns++;
        i += cl;
    }
    if (ns == 0) return 0;
    st->sym[ns - 1].next = -1;
    /* all initial pairs at once, then heapify: O(n) */
    if (grow((void **)&st->heap, &st->heap_cap, ns, sizeof *st->heap) < 0)
        return gm_err_set(st->err, GM_E_NOMEM, "tokenizer: out of memory for the merge queue");
    st->heap_n = 0;
    for (size_t i = 0; i + 1 < ns; i++)
        if (pair_at(st, (int32_t)i, &st->heap[st->heap_n])) st->heap_n++;
    for (size_t i = st->heap_n / 2; i-- > 0; ) sift_down(st->heap, st->heap_n, i);
    while (st->heap_n > 0) {
        bpe_pair p = st->heap[0], cur;
        st->heap[0] = st->heap[--st->heap_n];
        sift_down(st->heap, st->heap_n, 0);
        bpe_sym *L = &st->sym[p.left];
        if (L->len == 0 || !pair_at(st, p.left, &cur) || cur.key != p.key) continue;   /* stale */
        bpe_sym *R = &st->sym[L->next];
        L->id = cur.result;
        L->len += R->len;
        L->next = R->next;
        if (R->next >= 0) st->sym[R->next].prev = p.left;
        R->len = 0;
        if (heap_push(st, L->prev) < 0 || heap_push(st, p.left) < 0) return -1;
    }
    for (int32_t i = 0; i >= 0; i = st->sym[i].next) {
        const bpe_sym *y = &st->sym[i];
        int rc = y->id >= 0 ? emit(st, y->id)
                            : emit_fallback(st, (const unsigned char *)s + y->start, y->len);
        if (rc < 0) return -1;
    }
    return 0;
}

/* BPE over one normalized run s[0..n), cut into independent segments before
 * each '▁' whose preceding character never ends up next to a '▁' inside any
 * piece (tok->join_space): no merge can cross such a cut, and merges inside
 * a segment do not depend on other segments, so the ids are the same as for
 * the whole run, with small queues instead of one the size of the line. */
static int bpe_run(enc_state *st, const char *s, size_t n)
{
    const gm_tokenizer *tok = st->tok;
    const unsigned char *u = (const unsigned char *)s;
    size_t seg = 0, prev = 0, prev_len = 0;
    for (size_t i = 0; i < n; ) {
        size_t cl = tok_utf8_len(u + i, n - i);
        if (cl == 3 && u[i] == 0xE2 && u[i + 1] == 0x96 && u[i + 2] == 0x81 && i > seg &&
            tok_space_may_cut(tok, u + prev, prev_len)) {
            if (bpe_segment(st, s, seg, i) < 0) return -1;
            seg = i;
        }
        prev = i;
        prev_len = cl;
        i += cl;
    }
    return bpe_segment(st, s, seg, n);
}

/* Normalize one run (spaces -> U+2581) and BPE it. */
static int encode_run(enc_state *st, const char *s, size_t n)
{
    if (n == 0) return 0;
    if (!st->tok->escape_spaces) return bpe_run(st, s, n);
    if (grow((void **)&st->norm, &st->norm_cap, 3 * n, 1) < 0)
        return gm_err_set(st->err, GM_E_NOMEM, "tokenizer: out of memory normalizing %zu bytes", n);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            memcpy(st->norm + o, "\xe2\x96\x81", 3);
            o += 3;
        } else {
            st->norm[o++] = s[i];
        }
    }
    return bpe_run(st, st->norm, o);
}

/* Text between added tokens: split into newline runs and other runs. */
static int encode_plain(enc_state *st, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        bool nl = s[i] == '\n';
        while (j < n && (s[j] == '\n') == nl) j++;
        if (encode_run(st, s + i, j - i) < 0) return -1;
        i = j;
    }
    return 0;
}

/* The longest added token at s that this mode accepts: its id, length in
 * *mlen; -1 if none. */
static int32_t match_added(const gm_tokenizer *tok, const unsigned char *s, size_t n,
                           bool parse_special, size_t *mlen)
{
    int32_t best = -1, node = tok->root_child[s[0]];
    for (size_t i = 0; node >= 0; ) {
        int32_t id = tok->trie[node].token;
        if (id >= 0 && (parse_special || tok->type[id] == GM_TOK_USER_DEFINED)) {
            best = id;
            *mlen = i + 1;
        }
        if (++i >= n) break;
        int32_t c = tok->trie[node].first_child;
        while (c >= 0 && tok->trie[c].byte != s[i]) c = tok->trie[c].next_sibling;
        node = c;
    }
    return best;
}

/* The end of s[start..end) without its trailing whitespace (lstrip). */
static size_t trim_end(const unsigned char *s, size_t start, size_t end)
{
    while (end > start) {
        size_t c = end - 1;             /* back to the last character's first byte */
        while (c > start && end - c < 4 && (s[c] & 0xC0) == 0x80) c--;
        if (tok_space_len(s + c, end - c) != end - c) break;
        end = c;
    }
    return end;
}

/* Text -> ids: added tokens first, then newline runs, then BPE. */
int gm_tok_encode(const gm_tokenizer *tok, const char *text, size_t len,
                  bool parse_special, int32_t **ids, size_t *n_ids, gm_err *err)
{
    if (!ids || !n_ids) return gm_err_set(err, GM_E_ARG, "gm_tok_encode: ids and n_ids must not be NULL");
    *ids = NULL;
    *n_ids = 0;
    if (!tok) return gm_err_set(err, GM_E_ARG, "gm_tok_encode: no tokenizer given");
    if (!text && len) return gm_err_set(err, GM_E_ARG, "gm_tok_encode: text is NULL but len is %zu", len);
    if (len >= UINT32_MAX / 4)
        return gm_err_set(err, GM_E_ARG, "gm_tok_encode: text of %zu bytes is too long; split it "
                          "below 1 GiB", len);
    enc_state st = { .tok = tok, .err = err };
    if (len >= 4096) st.mcache = calloc((size_t)1 << MCACHE_BITS, sizeof *st.mcache);  /* optional */
    const unsigned char *u = (const unsigned char *)text;
    size_t start = 0, i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        size_t mlen = 0;
        int32_t id = tok->root_child[u[i]] >= 0 ? match_added(tok, u + i, len - i, parse_special, &mlen) : -1;
        if (id < 0) { i++; continue; }
        size_t end = i;
        if (tok->strip && (tok->strip[id] & TOK_LSTRIP))
            end = trim_end(u, start, end);
        rc = encode_plain(&st, text + start, end - start);
        if (rc == 0) rc = emit(&st, id);
        i += mlen;
        if (tok->strip && (tok->strip[id] & TOK_RSTRIP))
            for (size_t w; (w = tok_space_len(u + i, len - i)) > 0; ) i += w;
        start = i;
    }
    if (rc == 0) rc = encode_plain(&st, text + start, len - start);
    free(st.norm);
    free(st.sym);
    free(st.heap);
    free(st.mcache);
    if (rc < 0) {
        free(st.ids);
        return -1;
    }
    if (!st.ids) {          /* empty result: still a valid malloc'd array */
        st.ids = malloc(sizeof *st.ids);
        if (!st.ids) return gm_err_set(err, GM_E_NOMEM, "tokenizer: out of memory");
    }
    *ids = st.ids;
    *n_ids = st.n;
    return 0;
}
