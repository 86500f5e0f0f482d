/* fuzz_tokenizer_roundtrip.c: encode/decode on the fixture tokenizer.
 *
 * Input byte 0 picks the mode, the rest is text.  Checks, on any input:
 *   - encoding never fails and every id is in the vocabulary,
 *   - valid UTF-8 decodes back to itself (with U+2581 read as a space, the
 *     one character the tokenizer maps onto another),
 *   - the streaming decoder gives exactly the full decode, in complete
 *     characters.
 * Mode bit 1 instead reads the input as raw ids and checks streaming only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

/* The fixture tokenizer, loaded once per process (harness state only). */
static gm_tokenizer *fixture(void)
{
    static gm_tokenizer *tok;
    if (!tok) {
        char path[4096];
        const char *fx = getenv("FIXTURES");
        snprintf(path, sizeof path, "%s/gemma4-ref/e2b_like/tokenizer.json", fx ? fx : "tests/fixtures");
        gm_err err = {0};
        tok = gm_tok_load_json(path, &err);
        if (!tok) { fprintf(stderr, "fuzz: %s\n", err.msg); abort(); }
    }
    return tok;
}

/* Whether s[0..n) is valid UTF-8 (the decoder's own rules, restated). */
static int valid_utf8(const unsigned char *u, size_t n)
{
    for (size_t i = 0; i < n; ) {
        unsigned c = u[i];
        size_t need = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
                      c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!need || i + need > n) return 0;
        for (size_t k = 1; k < need; k++)
            if ((u[i + k] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && u[i + 1] < 0xA0) || (c == 0xED && u[i + 1] > 0x9F) ||
            (c == 0xF0 && u[i + 1] < 0x90) || (c == 0xF4 && u[i + 1] > 0x8F)) return 0;
        i += need;
    }
    return 1;
}

/* Stream ids and compare with the full decode; aborts on a mismatch. */
static void check_stream(const gm_tokenizer *tok, const int32_t *ids, size_t n)
{
    size_t cap = gm_detok_bound(tok), total = 0, flen = 0;
    char *step = malloc(cap), *all = malloc((n + 1) * cap + 1);
    char *full = gm_tok_decode_n(tok, ids, n, 0, &flen);
    if (!step || !all || !full) abort();
    gm_detok d;
    gm_detok_init(&d);
    for (size_t i = 0; i <= n; i++) {
        size_t k = i < n ? gm_detok_push(tok, &d, ids[i], step, cap) : gm_detok_flush(&d, step, cap);
        if (k > cap || !valid_utf8((unsigned char *)step, k)) abort();
        memcpy(all + total, step, k);
        total += k;
    }
    if (total != flen || memcmp(all, full, flen) != 0) abort();
    free(step);
    free(all);
    free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    gm_tokenizer *tok = fixture();
    unsigned mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (mode & 2) {
        size_t n = len / 2;
        int32_t *ids = malloc((n + 1) * sizeof *ids);
        if (!ids) abort();
        for (size_t i = 0; i < n; i++) ids[i] = (int32_t)((data[1 + 2 * i] | data[2 + 2 * i] << 8) % 520);
        check_stream(tok, ids, n);
        free(ids);
        return 0;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    gm_err err = {0};
    if (gm_tok_encode(tok, text, len, mode & 1, &ids, &n, &err) < 0) abort();
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= gm_tok_vocab_size(tok)) abort();
    if (valid_utf8((const unsigned char *)text, len)) {
        size_t dl = 0;
        char *back = gm_tok_decode_n(tok, ids, n, 0, &dl);
        char *want = malloc(len + 1);
        if (!back || !want) abort();
        size_t w = 0;
        for (size_t i = 0; i < len; i++) {
            if (i + 2 < len && memcmp(text + i, "\xe2\x96\x81", 3) == 0) { want[w++] = ' '; i += 2; }
            else want[w++] = text[i];
        }
        if (dl != w || memcmp(back, want, w) != 0) abort();
        free(back);
        free(want);
    }
    check_stream(tok, ids, n);
    free(ids);
    return 0;
}
