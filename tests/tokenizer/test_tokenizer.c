/* test_tokenizer.c: the tokenizer on the fixture tokenizer.json (the real
 * Gemma 4 tokenizer cut to 512 ids, '▁' at id 6, byte tokens <0x00>..<0xFF>
 * at 238..493): special tokens, newline runs, byte fallback, round trips,
 * the streaming decoder, look-ups and load errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "engine.h"

#define BYTE0 238   /* id of <0x00> in the fixture */

static char fixture[4096];

/* Encode text; returns the ids (malloc'd) and their count in *n. */
static int32_t *enc(const gm_tokenizer *tok, const char *text, size_t len, bool special, size_t *n)
{
    int32_t *ids = NULL;
    gm_err err = {0};
    if (gm_tok_encode(tok, text, len, special, &ids, n, &err) < 0) {
        printf("# encode failed: %s\n", err.msg);
        *n = 0;
    }
    return ids;
}

/* Whether ids[0..n) equals want[0..nw). */
static bool ids_eq(const int32_t *ids, size_t n, const int32_t *want, size_t nw)
{
    if (n != nw) return false;
    for (size_t i = 0; i < n; i++)
        if (ids[i] != want[i]) return false;
    return true;
}

/* Whether s[0..n) is complete, valid UTF-8. */
static bool valid_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; ) {
        unsigned c = u[i];
        size_t need = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
                      c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!need || i + need > n) return false;
        for (size_t k = 1; k < need; k++)
            if ((u[i + k] & 0xC0) != 0x80) return false;
        if ((c == 0xE0 && u[i + 1] < 0xA0) || (c == 0xED && u[i + 1] > 0x9F) ||
            (c == 0xF0 && u[i + 1] < 0x90) || (c == 0xF4 && u[i + 1] > 0x8F)) return false;
        i += need;
    }
    return true;
}

/* Stream ids one at a time; checks every step is complete UTF-8 and the
 * whole equals gm_tok_decode.  Returns true if both hold. */
static bool stream_matches(const gm_tokenizer *tok, const int32_t *ids, size_t n)
{
    size_t cap = gm_detok_bound(tok), total = 0;
    char *step = malloc(cap), *all = malloc(n * cap + cap + 1);
    bool ok = step && all;
    gm_detok d;
    gm_detok_init(&d);
    for (size_t i = 0; ok && i < n; i++) {
        size_t k = gm_detok_push(tok, &d, ids[i], step, cap);
        ok = k <= cap && valid_utf8(step, k);
        memcpy(all + total, step, k);
        total += k;
    }
    size_t k = ok ? gm_detok_flush(&d, step, cap) : 0;
    if (ok) {
        ok = valid_utf8(step, k);
        memcpy(all + total, step, k);
        total += k;
    }
    size_t flen = 0;
    char *full = gm_tok_decode_n(tok, ids, n, false, &flen);
    ok = ok && full && flen == total && memcmp(full, all, total) == 0;
    free(full);
    free(step);
    free(all);
    return ok;
}

/* Encode, decode, compare; plus the streaming check. */
static void round_trip(const gm_tokenizer *tok, const char *what, const char *text, size_t len)
{
    size_t n, dl = 0;
    int32_t *ids = enc(tok, text, len, true, &n);
    char *back = gm_tok_decode_n(tok, ids, n, false, &dl);
    CHECK(back && dl == len && memcmp(back, text, len) == 0, "round trip: %s (%zu ids)", what, n);
    CHECK(stream_matches(tok, ids, n), "streaming decode of %s equals the full decode, complete "
          "UTF-8 at every step", what);
    free(back);
    free(ids);
}

static void test_specials(const gm_tokenizer *tok)
{
    size_t n;
    int32_t *ids = enc(tok, "<bos><|turn>user\n", 17, true, &n);
    const int32_t want[] = { 2, 105, BYTE0 + 'u', BYTE0 + 's', BYTE0 + 'e', BYTE0 + 'r', 107 };
    CHECK(ids_eq(ids, n, want, 7), "\"<bos><|turn>user\\n\" -> [2,105,<0x75>,<0x73>,<0x65>,<0x72>,107]");
    free(ids);
    const char *t = "<|tool_call>call:f{a:<|\"|>x<|\"|>}<tool_call|><turn|><|think|><|channel><channel|>";
    ids = enc(tok, t, strlen(t), true, &n);
    const int32_t w2[] = { 48, 52, 52, 49, 106, 98, 100, 101 };
    size_t j = 0;
    for (size_t i = 0; i < n && j < 8; i++)
        if (ids[i] == w2[j]) j++;
    CHECK(j == 8, "tool-call, string, turn, think and channel tokens are recognised in order");
    free(ids);
    ids = enc(tok, "<|turn>model", 12, false, &n);
    bool none = true;
    for (size_t i = 0; i < n; i++) none = none && gm_tok_type(tok, ids[i]) != GM_TOK_CONTROL;
    char *back = gm_tok_decode(tok, ids, n, false);
    CHECK(none && back && strcmp(back, "<|turn>model") == 0,
          "without parse_special \"<|turn>\" is plain text and decodes back");
    free(back);
    free(ids);
    ids = enc(tok, "<|turn|><|turn", 14, true, &n);
    none = true;
    for (size_t i = 0; i < n; i++) none = none && ids[i] != 105;
    CHECK(none, "near misses \"<|turn|>\" and \"<|turn\" are not <|turn>");
    free(ids);
    const int32_t chat[] = { 2, 105, BYTE0 + 'h', BYTE0 + 'i', 106, 107 };
    back = gm_tok_decode(tok, chat, 6, true);
    CHECK(back && strcmp(back, "hi\n") == 0, "skip_special drops <bos>, <|turn>, <turn|>");
    free(back);
    back = gm_tok_decode(tok, chat, 6, false);
    CHECK(back && strcmp(back, "<bos><|turn>hi<turn|>\n") == 0, "control tokens decode to their text");
    free(back);
}

static void test_runs_and_bytes(const gm_tokenizer *tok)
{
    size_t n;
    char nl[80];
    memset(nl, '\n', sizeof nl);
    int32_t *ids = enc(tok, nl, 1, true, &n);
    CHECK(n == 1 && ids[0] == 107, "\"\\n\" -> 107");
    free(ids);
    ids = enc(tok, nl, 3, true, &n);
    CHECK(n == 1 && ids[0] == 109, "\"\\n\\n\\n\" -> 109");
    free(ids);
    ids = enc(tok, nl, 31, true, &n);
    CHECK(n == 1 && ids[0] == 137, "31 newlines -> 137 (the longest newline run)");
    free(ids);
    ids = enc(tok, nl, 33, true, &n);
    CHECK(n == 2 && ids[0] == 137 && ids[1] == 108, "33 newlines -> [137, 108] (longest match first)");
    free(ids);
    ids = enc(tok, " ", 1, true, &n);
    CHECK(n == 1 && ids[0] == 6, "\" \" -> 6 ('▁')");
    free(ids);
    ids = enc(tok, "a  b", 4, true, &n);
    const int32_t w[] = { BYTE0 + 'a', 138, BYTE0 + 'b' };
    CHECK(ids_eq(ids, n, w, 3), "\"a  b\": two spaces merge to '▁▁' (138)");
    free(ids);
    ids = enc(tok, "\xc3\xa9", 2, true, &n);
    CHECK(n == 2 && ids[0] == BYTE0 + 0xC3 && ids[1] == BYTE0 + 0xA9, "\"é\" falls back to <0xC3><0xA9>");
    free(ids);
    ids = enc(tok, "", 0, true, &n);
    CHECK(ids && n == 0, "empty text -> no ids (and a freeable array)");
    free(ids);
    char b[16];
    CHECK(gm_tok_bytes(tok, BYTE0 + 'A', b, sizeof b) == 1 && b[0] == 'A', "gm_tok_bytes(<0x41>) = \"A\"");
    CHECK(gm_tok_bytes(tok, 6, b, sizeof b) == 1 && b[0] == ' ', "gm_tok_bytes('▁') = \" \"");
    CHECK(gm_tok_bytes(tok, 105, b, 3) == 7, "gm_tok_bytes reports the full length when truncated");
}

static void test_lookups(const gm_tokenizer *tok)
{
    CHECK(gm_tok_vocab_size(tok) == 512, "vocab size 512 (got %d)", gm_tok_vocab_size(tok));
    CHECK(gm_tok_find(tok, "<|turn>") == 105 && gm_tok_find(tok, "<turn|>") == 106 &&
          gm_tok_find(tok, "<|\"|>") == 52 && gm_tok_find(tok, "no such piece") == -1,
          "gm_tok_find: <|turn> 105, <turn|> 106, <|\"|> 52, unknown -1");
    const char *p = gm_tok_piece(tok, 6);
    CHECK(p && strcmp(p, "\xe2\x96\x81") == 0 && !gm_tok_piece(tok, 512) && !gm_tok_piece(tok, -1),
          "gm_tok_piece: 6 is '▁'; out of range is NULL");
    CHECK(gm_tok_type(tok, 105) == GM_TOK_CONTROL && gm_tok_type(tok, 107) == GM_TOK_USER_DEFINED &&
          gm_tok_type(tok, BYTE0) == GM_TOK_BYTE && gm_tok_type(tok, 6) == GM_TOK_NORMAL &&
          gm_tok_type(tok, 3) == GM_TOK_UNKNOWN,
          "types: 105 control, 107 user-defined, 238 byte, 6 normal, 3 unknown");
}

static void test_stream_invalid(const gm_tokenizer *tok)
{
    /* E2 41: a lead byte cut short; F0 9F at the end: incomplete */
    const int32_t ids[] = { BYTE0 + 0xE2, BYTE0 + 'A', BYTE0 + 0xF0, BYTE0 + 0x9F, BYTE0 + 0x98,
                            BYTE0 + 0x80, BYTE0 + 0xFF, BYTE0 + 0xF0, BYTE0 + 0x9F };
    char *s = gm_tok_decode(tok, ids, 9, false);
    CHECK(s && strcmp(s, "\xef\xbf\xbd" "A" "\xf0\x9f\x98\x80" "\xef\xbf\xbd" "\xef\xbf\xbd") == 0,
          "invalid bytes decode to U+FFFD; a 4-byte emoji split over 4 tokens is whole");
    free(s);
    CHECK(stream_matches(tok, ids, 9), "streaming equals full decode on invalid and split sequences");
    gm_detok d;
    gm_detok_init(&d);
    char out[64];
    size_t k1 = gm_detok_push(tok, &d, BYTE0 + 0xF0, out, sizeof out);
    size_t k2 = gm_detok_push(tok, &d, BYTE0 + 0x9F, out, sizeof out);
    size_t k3 = gm_detok_push(tok, &d, BYTE0 + 0x98, out, sizeof out);
    size_t k4 = gm_detok_push(tok, &d, BYTE0 + 0x80, out, sizeof out);
    CHECK(k1 == 0 && k2 == 0 && k3 == 0 && k4 == 4 && memcmp(out, "\xf0\x9f\x98\x80", 4) == 0,
          "streaming holds back a partial character until its last byte");
}

/* lstrip/rstrip added tokens eat the whitespace beside them; others not. */
static void test_strip(void)
{
    const char *j = "{\"added_tokens\": [{\"id\": 4, \"content\": \"<s>\", \"special\": true, \"lstrip\": true, "
                    "\"rstrip\": true}, {\"id\": 5, \"content\": \"<t>\", \"special\": true}],"
                    "\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\xe2\x96\x81\"},"
                    "\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": {\"<unk>\": 0, "
                    "\"\xe2\x96\x81\": 1, \"a\": 2, \"b\": 3, \"<s>\": 4, \"<t>\": 5}, \"merges\": []}}";
    gm_err err = {0};
    gm_tokenizer *t = gm_tok_load_json_buf(j, strlen(j), "strip.json", &err);
    if (!CHECK(t != NULL, "load a tokenizer with lstrip/rstrip tokens (%s)", t ? "ok" : err.msg)) return;
    size_t n;
    int32_t *ids = enc(t, "a \t<s> \xe3\x80\x80 b", 12, true, &n);
    const int32_t w1[] = { 2, 4, 3 };
    CHECK(ids_eq(ids, n, w1, 3), "\"a \\t<s> U+3000 b\" -> [a, <s>, b]: whitespace stripped on both sides");
    free(ids);
    ids = enc(t, "a <t> b", 7, true, &n);
    const int32_t w2[] = { 2, 1, 5, 1, 3 };
    CHECK(ids_eq(ids, n, w2, 5), "\"a <t> b\" keeps its spaces (no strip flags)");
    free(ids);
    ids = enc(t, "a\xc3\xa9", 3, true, &n);
    CHECK(n == 2 && ids[0] == 2 && ids[1] == 0, "a character with no byte tokens becomes <unk>");
    free(ids);
    gm_tok_free(t);
}

static void test_errors(void)
{
    gm_err err = {0};
    gm_tokenizer *t = gm_tok_load_json("/nonexistent/tokenizer.json", &err);
    CHECK(!t && err.code == GM_E_IO && strstr(err.msg, "/nonexistent/tokenizer.json"),
          "missing file: GM_E_IO naming the path (%s)", err.msg);
    memset(&err, 0, sizeof err);
    t = gm_tok_load_json_buf("{\"model\": {\"vocab\": {\"a\": 0}", 27, "cut.json", &err);
    CHECK(!t && err.code == GM_E_FORMAT && strstr(err.msg, "cut.json"), "truncated JSON: GM_E_FORMAT (%s)",
          err.msg);
    memset(&err, 0, sizeof err);
    const char *wp = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}";
    t = gm_tok_load_json_buf(wp, strlen(wp), "wp.json", &err);
    CHECK(!t && err.code == GM_E_UNSUPPORTED, "WordPiece model: GM_E_UNSUPPORTED (%s)", err.msg);
    memset(&err, 0, sizeof err);
    const char *neg = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -4}, \"merges\": []}}";
    t = gm_tok_load_json_buf(neg, strlen(neg), "neg.json", &err);
    CHECK(!t && err.code == GM_E_FORMAT && strstr(err.msg, "\"a\""), "negative id: GM_E_FORMAT (%s)", err.msg);
}

int main(void)
{
    const char *fx = getenv("FIXTURES");
    snprintf(fixture, sizeof fixture, "%s/gemma4-ref/e2b_like/tokenizer.json", fx ? fx : "tests/fixtures");
    gm_err err = {0};
    gm_tokenizer *tok = gm_tok_load_json(fixture, &err);
    if (!CHECK(tok != NULL, "load the fixture tokenizer.json (%s)", tok ? "ok" : err.msg))
        return check_exit();
    test_lookups(tok);
    test_specials(tok);
    test_runs_and_bytes(tok);
    test_stream_invalid(tok);
    static const char *texts[] = {
        "Hello, world! Two  spaces, tab\there.\n\n\nNew paragraph.",
        "\xe4\xb8\xad\xe6\x96\x87\xe3\x80\x81\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",
        "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 family, \xf0\x9f\x87\xaf\xf0\x9f\x87\xb5 flag",
        "<bos><|turn>user\nWrite a poem<turn|>\n<|turn>model\n",
        "  leading and trailing  \r\n\r\n",
        "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "text %zu", i + 1);
        round_trip(tok, what, texts[i], strlen(texts[i]));
    }
    round_trip(tok, "text with a NUL byte", "a\0b", 3);
    gm_tok_free(tok);
    test_errors();
    test_strip();
    return check_exit();
}
