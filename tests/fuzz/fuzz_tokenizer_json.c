/* fuzz_tokenizer_json.c: the tokenizer.json reader on arbitrary bytes.
 *
 * Whatever the input, gm_tok_load_json_buf must return a tokenizer or an
 * error message, never crash or leak; a tokenizer it accepts must encode,
 * decode and stream a fixed text without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gm_err err = {0};
    gm_tokenizer *tok = gm_tok_load_json_buf((const char *)data, size, "fuzz.json", &err);
    if (!tok) {
        if (err.code == 0 || err.msg[0] == '\0') abort();   /* a failure must say why */
        return 0;
    }
    static const char text[] = "<bos><|turn>user\nab  c\t\xc3\xa9\xf0\x9f\x98\x80 <unk>\n\n\n";
    for (int sp = 0; sp < 2; sp++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (gm_tok_encode(tok, text, sizeof text - 1, sp, &ids, &n, &err) == 0) {
            char *s = gm_tok_decode(tok, ids, n, sp);
            free(s);
            gm_detok d;
            gm_detok_init(&d);
            char out[64];
            for (size_t i = 0; i < n; i++) gm_detok_push(tok, &d, ids[i], out, sizeof out);
            gm_detok_flush(&d, out, sizeof out);
            free(ids);
        }
    }
    int32_t v = gm_tok_vocab_size(tok);
    for (int32_t id = -1; id <= v && id < 600; id++) {
        char b[8];
        gm_tok_bytes(tok, id, b, sizeof b);
        gm_tok_piece(tok, id);
        gm_tok_type(tok, id);
    }
    gm_tok_free(tok);
    return 0;
}
