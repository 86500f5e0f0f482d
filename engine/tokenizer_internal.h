/* tokenizer_internal.h: the tokenizer's private data, shared by its files.
 *
 *   tokenizer.c         building the tables, look-ups, freeing
 *   tokenizer_json.c    reading tokenizer.json into the same tables
 *   tokenizer_bpe.c     encoding: added-token split, newline runs, BPE
 *   tokenizer_decode.c  decoding and the streaming decoder
 *
 * Every piece lives in one arena; ids index flat arrays.  Two open-addressing
 * hash tables give piece -> id and (left id, right id) -> merge. */
#ifndef GEMMASH_TOKENIZER_INTERNAL_H
#define GEMMASH_TOKENIZER_INTERNAL_H

#include "engine.h"

/* One BPE merge: left+right -> result, lower rank merges first. */
typedef struct tok_merge {
    uint64_t key;        /* ((uint64)left << 32 | right) + 1; 0 marks an empty slot */
    int32_t  rank;
    int32_t  result;
} tok_merge;

/* One node of the byte trie over added tokens (leftmost-longest match). */
typedef struct tok_trie_node {
    int32_t first_child;  /* -1 none */
    int32_t next_sibling; /* -1 none */
    int32_t token;        /* id ending here, or -1 */
    uint8_t byte;
} tok_trie_node;

struct gm_tokenizer {
    int32_t   n_vocab;     /* highest id + 1 */
    char     *arena;       /* all pieces, NUL-terminated, back to back */
    size_t    arena_len;
    uint32_t *off;         /* id -> offset in arena, UINT32_MAX for a hole */
    uint32_t *len;         /* id -> piece length in bytes */
    int32_t  *type;        /* id -> GM_TOK_* */

    int32_t  *map;         /* piece hash table: slot -> id, -1 empty */
    size_t    map_mask;

    tok_merge *merges;     /* merge hash table */
    size_t     merge_mask;
    int32_t    n_merges;

    tok_trie_node *trie;   /* node 0 is the root */
    int32_t        n_trie, cap_trie;
    int32_t        root_child[256]; /* trie child of the root per first byte, -1 none */

    int32_t *bmp_id;       /* code point < 0x10000 -> id of that one-character piece, -1 */
    uint8_t *join_space;   /* bit per code point < 0x10000: some piece has it right before '▁' */
    bool     join_space_other; /* the same for some longer character or stray byte */
    int32_t byte_id[256];  /* <0xXX> token of each byte, -1 if absent */
    int32_t unk_id;        /* -1 if none */
    bool    escape_spaces; /* normalizer: ' ' -> U+2581 */
    size_t  max_piece;     /* longest piece in bytes */
    uint8_t *strip;        /* id -> TOK_LSTRIP | TOK_RSTRIP, NULL if no token strips */
};

enum { TOK_LSTRIP = 1, TOK_RSTRIP = 2 };

/* A vocabulary with merges as (left, right) pairs: what both loaders hand
 * to tok_build.  lens may be NULL (then strlen). */
typedef struct tok_source {
    int32_t      n_tokens;
    const char **tokens;     /* may contain NULL holes */
    const int32_t *types;
    int32_t      n_merges;
    const char **merge_left;
    const char **merge_right;
    bool         escape_spaces;
    const uint8_t *strip;    /* may be NULL: TOK_LSTRIP/TOK_RSTRIP per id */
} tok_source;

/* What tok_json_scan reads from a tokenizer.json: model.vocab and
 * model.merges as flat arrays of string offsets into strs, everything else
 * as a cJSON document (doc, with doc.model holding the other model keys). */
#define TOK_JSON_MAX_ID (1 << 24)
#define TOK_NO_STR UINT32_MAX
typedef struct tok_json_big {
    cJSON    *doc;
    char     *strs; size_t strs_len, strs_cap;
    bool      has_vocab;
    int32_t   n_vocab;  uint32_t *vocab_key; int32_t *vocab_id; size_t vocab_cap;
    int32_t   n_merges; uint32_t *merge_l, *merge_r; size_t merge_cap;  /* TOK_NO_STR: unusable */
} tok_json_big;

int  tok_json_scan(const char *buf, size_t len, const char *name, tok_json_big *out, gm_err *err);
void tok_json_big_free(tok_json_big *b);

gm_tokenizer *tok_build(const tok_source *src, const char *what, gm_err *err);
int32_t       tok_lookup(const gm_tokenizer *tok, const char *s, size_t n);
/* The merge of two adjacent ids, or NULL. */
const tok_merge *tok_merge_find(const gm_tokenizer *tok, int32_t left, int32_t right);
/* Whether a piece is a byte-fallback token "<0xXX>" (upper-case hex). */
bool          tok_is_byte_piece(const char *p, size_t l);
/* Whether BPE may cut a run before a '▁' that follows the character c
 * (cl bytes): false if some piece holds c followed by '▁' (or c is '▁'). */
bool          tok_space_may_cut(const gm_tokenizer *tok, const unsigned char *c, size_t cl);
/* Length of the whitespace character at s (0 if none): the Unicode
 * White_Space set plus U+FEFF, as JavaScript's trim() counts it. */
size_t        tok_space_len(const unsigned char *s, size_t n);
/* Length of the UTF-8 character at s (1 for an invalid byte), at most n. */
size_t        tok_utf8_len(const unsigned char *s, size_t n);

#endif
