/* grammar_int.h: the grammar's state layout, shared by grammar.c and mask.c.
 *
 * The mask walks the vocabulary trie and copies the state at every branch,
 * so a state is a small fixed-size value: a stack of frames, only the used
 * part of which is copied. */
#ifndef GEMMASH_GRAMMAR_INT_H
#define GEMMASH_GRAMMAR_INT_H
#include "agent.h"

#define G_MAXD 24

typedef struct glits glits;
typedef struct gnode gnode;

typedef struct gframe {
    uint8_t      st;      /* F_* */
    uint8_t      sub;     /* number sub-state, literal purpose, escape count */
    uint8_t      u8need;  /* UTF-8 continuation bytes still due in a string */
    uint8_t      u8lo, u8hi;   /* allowed range of the next continuation byte */
    uint8_t      first;   /* object/array: nothing read yet */
    uint16_t     pos;     /* literal position, number/key length */
    uint32_t     lo, hi;  /* literal candidates still alive [lo, hi) */
    const gnode *n;
    const glits *L;
    uint64_t     seen;    /* object keys already given (first 64) */
    int32_t      count;   /* array items so far; string bytes so far */
} gframe;

struct ag_gstate {
    const ag_grammar *g;
    int      depth;
    int      ws;          /* consecutive whitespace (JSON syntax) */
    gframe   f[G_MAXD];
};

/* Step in place; on -1 the state is garbage (callers step a copy). */
int  ag_gs_step_raw(ag_gstate *s, int sym);
/* Copy only the live part of a state. */
void ag_gs_copy(ag_gstate *dst, const ag_gstate *src);
/* 1: inside a Gemma string, 2: inside a JSON string, with no UTF-8
 * sequence pending (every plain text token is allowed); 3: inside a free
 * key with room for any identifier token of up to AG_IDENT_TOKEN_MAX
 * characters; 0 otherwise (also when a string cap is within
 * max_token_len bytes). */
#define AG_IDENT_TOKEN_MAX 16
int  ag_gs_free_string(const ag_gstate *s, int max_token_len);

#endif
