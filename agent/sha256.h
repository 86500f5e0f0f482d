/* sha256.h: SHA-256 (FIPS 180-4), used to verify downloaded model files
 * against the hash the hub reports, without an OpenSSL dependency. */
#ifndef GEMMASH_SHA256_H
#define GEMMASH_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t len;          /* bytes hashed so far */
    uint8_t  buf[64];
    size_t   fill;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t n);
/* Finish and write the digest as 64 lower-case hex digits plus NUL. */
void sha256_hex(sha256_ctx *c, char out[65]);
/* Hash a whole file; 0, or -1 with errno set. */
int  sha256_file(const char *path, char out[65]);
#endif
