/* tokenizer_decode.c: ids -> text, whole or streamed.
 *
 * A token's bytes: '▁' becomes ' ', "<0xXX>" becomes that byte, every other
 * piece (control tokens included) is its own text.  The bytes of consecutive
 * tokens are then passed through one UTF-8 checker: complete characters go
 * out, an incomplete prefix waits for the next token, and a sequence that
 * cannot be completed comes out as U+FFFD (one per maximal invalid prefix,
 * the usual replacement practice).  gm_tok_decode and the streaming decoder
 * share that checker, so streaming output equals the full decode. */
#include <stdlib.h>
#include <string.h>
#include "tokenizer_internal.h"

/* Where decoded bytes go: a fixed buffer (counting what does not fit) or a
 * growing one. */
typedef struct sink {
    char  *buf;
    size_t n, cap;
    bool   grows, oom;
} sink;

/* Append n bytes to the sink. */
static void put(sink *s, const void *p, size_t n)
{
    if (s->oom) return;
    if (s->grows && s->n + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap : 256;
        while (nc < s->n + n + 1) nc *= 2;
        char *b = realloc(s->buf, nc);
        if (!b) { s->oom = true; return; }
        s->buf = b;
        s->cap = nc;
    }
    for (size_t i = 0; i < n; i++, s->n++)
        if (s->n < s->cap) s->buf[s->n] = ((const char *)p)[i];
}

static const char REPL[3] = { (char)0xEF, (char)0xBF, (char)0xBD };

/* Bytes a UTF-8 sequence with this lead byte needs; 0 = not a lead byte. */
static int lead_len(unsigned b)
{
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

/* Push one byte through the checker. */
static void feed(gm_detok *d, unsigned b, sink *s)
{
    for (;;) {
        if (d->npend == 0) {
            if (b < 0x80) { unsigned char c = (unsigned char)b; put(s, &c, 1); return; }
            if (!lead_len(b)) { put(s, REPL, 3); return; }
            d->pend[0] = (unsigned char)b;
            d->npend = 1;
            return;
        }
        unsigned lead = d->pend[0], lo = 0x80, hi = 0xBF;
        if (d->npend == 1) {
            if (lead == 0xE0) lo = 0xA0;
            else if (lead == 0xED) hi = 0x9F;
            else if (lead == 0xF0) lo = 0x90;
            else if (lead == 0xF4) hi = 0x8F;
        }
        if (b >= lo && b <= hi) {
            d->pend[d->npend++] = (unsigned char)b;
            if (d->npend == lead_len(lead)) {
                put(s, d->pend, (size_t)d->npend);
                d->npend = 0;
            }
            return;
        }
        put(s, REPL, 3);      /* the pending prefix cannot complete */
        d->npend = 0;         /* and b starts afresh */
    }
}

/* Whether a decode that skips specials drops this token. */
static bool is_special(const gm_tokenizer *tok, int32_t id)
{
    int32_t t = tok->type[id];
    return t == GM_TOK_CONTROL || t == GM_TOK_UNKNOWN;
}

/* Feed the bytes of one token through the checker. */
static void feed_token(const gm_tokenizer *tok, gm_detok *d, int32_t id, sink *s)
{
    const char *p = gm_tok_piece(tok, id);
    if (!p) return;
    size_t n = tok->len[id];
    if (tok->type[id] == GM_TOK_BYTE && tok_is_byte_piece(p, n)) {
        unsigned v = 0;
        for (int i = 3; i < 5; i++) v = v * 16 + (unsigned)(p[i] <= '9' ? p[i] - '0' : p[i] - 'A' + 10);
        feed(d, v, s);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (tok->escape_spaces && i + 2 < n && memcmp(p + i, "\xe2\x96\x81", 3) == 0) {
            feed(d, ' ', s);
            i += 2;
        } else {
            feed(d, (unsigned char)p[i], s);
        }
    }
}

/* The bytes of one token, outside any stream. */
size_t gm_tok_bytes(const gm_tokenizer *tok, int32_t id, char *buf, size_t cap)
{
    if (!tok) return 0;
    const char *p = gm_tok_piece(tok, id);
    if (!p) return 0;
    size_t n = tok->len[id], o = 0;
    if (tok->type[id] == GM_TOK_BYTE && tok_is_byte_piece(p, n)) {
        unsigned v = 0;
        for (int i = 3; i < 5; i++) v = v * 16 + (unsigned)(p[i] <= '9' ? p[i] - '0' : p[i] - 'A' + 10);
        if (cap > 0) buf[0] = (char)v;
        return 1;
    }
    for (size_t i = 0; i < n; i++, o++) {
        char c = p[i];
        if (tok->escape_spaces && i + 2 < n && memcmp(p + i, "\xe2\x96\x81", 3) == 0) {
            c = ' ';
            i += 2;
        }
        if (o < cap) buf[o] = c;
    }
    return o;
}

/* Ids -> text through the same UTF-8 checker the stream uses. */
char *gm_tok_decode_n(const gm_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special,
                      size_t *out_len)
{
    sink s = { .grows = true, .cap = 256 };
    s.buf = malloc(s.cap);             /* allocated even for no ids */
    if (!s.buf) return NULL;
    gm_detok d;
    gm_detok_init(&d);
    for (size_t i = 0; tok && ids && i < n; i++) {
        if (ids[i] < 0 || ids[i] >= tok->n_vocab) continue;
        if (skip_special && is_special(tok, ids[i])) continue;
        feed_token(tok, &d, ids[i], &s);
    }
    if (d.npend) put(&s, REPL, 3);
    if (s.oom) {
        free(s.buf);
        return NULL;
    }
    s.buf[s.n] = '\0';
    if (out_len) *out_len = s.n;
    return s.buf;
}

/* gm_tok_decode_n without the length. */
char *gm_tok_decode(const gm_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special)
{
    return gm_tok_decode_n(tok, ids, n, skip_special, NULL);
}

/* Start a stream with nothing pending. */
void gm_detok_init(gm_detok *d)
{
    memset(d, 0, sizeof *d);
}

/* Decode one more id of a stream; only complete characters come out. */
size_t gm_detok_push(const gm_tokenizer *tok, gm_detok *d, int32_t id, char *out, size_t cap)
{
    sink s = { .buf = out, .cap = out ? cap : 0 };
    if (tok && d && id >= 0 && id < tok->n_vocab) feed_token(tok, d, id, &s);
    return s.n;
}

/* End a stream: an unfinished character becomes U+FFFD. */
size_t gm_detok_flush(gm_detok *d, char *out, size_t cap)
{
    sink s = { .buf = out, .cap = out ? cap : 0 };
    if (d && d->npend) {
        put(&s, REPL, 3);
        d->npend = 0;
    }
    return s.n;
}

/* A buffer size that one push never exceeds. */
size_t gm_detok_bound(const gm_tokenizer *tok)
{
    return tok ? 3 * tok->max_piece + 8 : 8;
}
