/* gitsha1.h: the git object id of a file (SHA-1 of "blob SIZE\0" + content),
 * which the hub lists as "oid" for files kept in git rather than LFS, so
 * small checkpoint files (config.json, tokenizer.json) are verified too. */
#ifndef GEMMASH_GITSHA1_H
#define GEMMASH_GITSHA1_H
#include <stddef.h>
#include <stdint.h>

typedef struct sha1_ctx { uint32_t h[5]; uint64_t len; uint8_t buf[64]; size_t fill; } sha1_ctx;
void sha1_init(sha1_ctx *c);
void sha1_update(sha1_ctx *c, const void *data, size_t n);
void sha1_hex(sha1_ctx *c, char out[41]);
/* The git blob id of a file; 0, or -1 with errno set. */
int  git_blob_id_file(const char *path, char out[41]);
#endif
