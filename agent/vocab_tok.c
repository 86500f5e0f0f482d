/* vocab_tok.c: the grammar's view of the engine's tokenizer.
 *
 * Each token becomes its decoded bytes (gm_tok_bytes), except the control
 * tokens of the tool protocol, which become one symbol each so that the
 * string delimiter <|"|> is never confused with the same characters typed
 * as text.  Other control and unused tokens are never allowed inside
 * constrained output. */
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "engine.h"

/* Build the grammar's vocabulary from the engine's tokenizer. */
ag_vocab *ag_vocab_from_tok(const gm_tokenizer *tok)
{
    int n = gm_tok_vocab_size(tok);
    char **bytes = calloc((size_t)n, sizeof *bytes);
    size_t *lens = calloc((size_t)n, sizeof *lens);
    int *ctl = calloc((size_t)n, sizeof *ctl);
    ag_vocab *v = NULL;
    if (!bytes || !lens || !ctl) goto out;
    for (int i = 0; i < n; i++) {
        const char *piece = gm_tok_piece(tok, i);
        int type = gm_tok_type(tok, i);
        int sym = piece ? ag_sym_of_piece(piece, strlen(piece)) : -1;
        if (sym >= 0) { ctl[i] = sym; continue; }
        if (!piece || type == GM_TOK_CONTROL || type == GM_TOK_UNKNOWN || type == GM_TOK_UNUSED ||
            (type == GM_TOK_USER_DEFINED && strncmp(piece, "<unused", 7) == 0)) {
            ctl[i] = AG_SYM_OTHER;
            continue;
        }
        size_t len = gm_tok_bytes(tok, i, NULL, 0);
        bytes[i] = malloc(len + 1);
        if (!bytes[i]) goto out;
        gm_tok_bytes(tok, i, bytes[i], len);
        lens[i] = len;
    }
    v = ag_vocab_new(n, (const char *const *)bytes, lens, ctl);
out:
    if (bytes) for (int i = 0; i < n; i++) free(bytes[i]);
    free(bytes); free(lens); free(ctl);
    return v;
}
