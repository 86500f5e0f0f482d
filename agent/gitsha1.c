/* gitsha1.c: SHA-1 (FIPS 180-4) for git blob ids.  SHA-1 is no defence
 * against a deliberate forgery; it catches damaged downloads, which is all
 * it is used for (weights, the big files, are checked with SHA-256). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "gitsha1.h"

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

/* Start a hash with the initial values of FIPS 180-4, 5.3.1. */
void sha1_init(sha1_ctx *c)
{
    static const uint32_t H0[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(c->h, H0, sizeof H0);
    c->len = 0;
    c->fill = 0;
}

/* Compress one 64-byte block. */
static void block(uint32_t h[5], const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6; }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d; d = c; c = rol(b, 30); b = a; a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

void sha1_update(sha1_ctx *c, const void *data, size_t n)
{
    const uint8_t *p = data;
    c->len += n;
    while (n) {
        size_t take = 64 - c->fill < n ? 64 - c->fill : n;
        memcpy(c->buf + c->fill, p, take);
        c->fill += take; p += take; n -= take;
        if (c->fill == 64) { block(c->h, c->buf); c->fill = 0; }
    }
}

/* Pad with 0x80, zeros and the 64-bit big-endian bit length; print. */
void sha1_hex(sha1_ctx *c, char out[41])
{
    uint64_t bits = c->len * 8;
    uint8_t pad[72] = {0x80};
    size_t padn = (c->fill < 56 ? 56 : 120) - c->fill;
    for (int i = 0; i < 8; i++) pad[padn + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha1_update(c, pad, padn + 8);
    for (int i = 0; i < 5; i++) snprintf(out + 8 * i, 9, "%08x", c->h[i]);
}

int git_blob_id_file(const char *path, char out[41])
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    if (fstat(fileno(f), &st)) { fclose(f); return -1; }
    sha1_ctx c;
    sha1_init(&c);
    char head[40];
    int hn = snprintf(head, sizeof head, "blob %lld", (long long)st.st_size);
    sha1_update(&c, head, (size_t)hn + 1);            /* the NUL is part of the header */
    uint8_t buf[1 << 16];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) sha1_update(&c, buf, r);
    int bad = ferror(f);
    fclose(f);
    if (bad) { errno = EIO; return -1; }
    sha1_hex(&c, out);
    return 0;
}
