/* Malformed GGUF files: each is rejected with a message that names the file
 * and says what is wrong, never a crash.  Files are built byte by byte here
 * (independently of the writer) so each field can be broken on purpose. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gguf.h"

typedef struct { unsigned char b[4096]; size_t n; } buf;

static void put(buf *f, const void *p, size_t n) { memcpy(f->b + f->n, p, n); f->n += n; }
static void u32(buf *f, uint32_t v) { put(f, &v, 4); }
static void u64(buf *f, uint64_t v) { put(f, &v, 8); }
static void str(buf *f, const char *s) { u64(f, strlen(s)); put(f, s, strlen(s)); }

/* What to break in the otherwise valid file. */
typedef struct {
    const char *magic;
    uint32_t version;
    uint64_t n_tensors, n_kv;       /* 0 = the real counts */
    const char *key0;               /* key of the first entry */
    uint32_t kv1_type;              /* type of the second entry's value (u32 by default) */
    bool arr_of_arr;
    uint64_t arr_len;               /* length of the string array (3 by default) */
    uint32_t type_b;                /* GGML type of tensor b */
    uint64_t off_b;                 /* offset of tensor b */
    int64_t ne_b[2];
    uint32_t ndims_b;
    const char *name_b;
    uint32_t align;
} knobs;

static knobs defaults(void)
{
    knobs k = { "GGUF", 3, 0, 0, "general.architecture", GM_GGUF_U32, false, 3, GM_TYPE_Q8_0, 32, {32, 2}, 2, "b", 32 };
    return k;
}

/* A file with 4 metadata entries and 2 tensors: a (F32 [8]) and b (Q8_0 [32,2]). */
static size_t build(buf *f, knobs k)
{
    f->n = 0;
    put(f, k.magic, 4);
    u32(f, k.version);
    u64(f, k.n_tensors ? k.n_tensors : 2);
    u64(f, k.n_kv ? k.n_kv : 4);
    str(f, k.key0); u32(f, GM_GGUF_STR); str(f, "gemma4");
    str(f, "gemma4.block_count"); u32(f, k.kv1_type); u32(f, 35);
    str(f, "general.alignment"); u32(f, GM_GGUF_U32); u32(f, k.align);
    str(f, "tokenizer.ggml.tokens"); u32(f, GM_GGUF_ARR);
    if (k.arr_of_arr) { u32(f, GM_GGUF_ARR); u64(f, 1); u32(f, GM_GGUF_U8); u64(f, 1); unsigned char z = 0; put(f, &z, 1); }
    else { u32(f, GM_GGUF_STR); u64(f, k.arr_len); str(f, "<pad>"); str(f, "\xe2\x96\x81x"); str(f, "y"); }
    str(f, "a"); u32(f, 1); u64(f, 8); u32(f, GM_TYPE_F32); u64(f, 0);
    str(f, k.name_b); u32(f, k.ndims_b); for (uint32_t d = 0; d < k.ndims_b && d < 4; d++) u64(f, (uint64_t)k.ne_b[d < 2 ? d : 1]);
    u32(f, k.type_b); u64(f, k.off_b);
    while (f->n % 32) f->b[f->n++] = 0;
    for (int i = 0; i < 8; i++) { float v = (float)i; put(f, &v, 4); }      /* a: 32 bytes */
    for (int i = 0; i < 68; i++) f->b[f->n++] = (unsigned char)i;          /* b: two Q8_0 blocks */
    size_t end = f->n;
    while (f->n % 32) f->b[f->n++] = 0;
    return end;
}

/* Expect rejection with a message containing want (and the file name). */
static void expect_bad(knobs k, const char *want, const char *what)
{
    buf f;
    build(&f, k);
    gm_err err = {0};
    gm_gguf *g = gm_gguf_open_buf(f.b, f.n, "bad.gguf", &err);
    CHECK(!g && strstr(err.msg, "bad.gguf") && strstr(err.msg, want), "%s is rejected: %s", what, err.msg);
    gm_gguf_close(g);
}

int main(void)
{
    buf f;
    gm_err err = {0};
    size_t end = build(&f, defaults());
    gm_gguf *g = gm_gguf_open_buf(f.b, f.n, "good.gguf", &err);
    CHECK(g && g->n_tensors == 2 && g->n_kv == 4, "the hand-built file is valid (%s)", g ? "" : err.msg);
    gm_gguf_close(g);

    /* truncation at every offset before the end of the last tensor fails cleanly */
    int bad = 0, silent = 0;
    for (size_t cut = 0; cut < end; cut++) {
        err.msg[0] = 0;
        g = gm_gguf_open_buf(f.b, cut, "cut.gguf", &err);
        if (g) { bad++; gm_gguf_close(g); }
        else if (!strstr(err.msg, "cut.gguf")) silent++;
    }
    CHECK(bad == 0 && silent == 0, "truncated at each of %zu offsets: all rejected with the file named (%d accepted, %d unnamed)",
          end, bad, silent);
    g = gm_gguf_open_buf(f.b, end, "cut.gguf", &err);
    CHECK(g != NULL, "a file cut only in the padding after the last tensor is still valid");
    gm_gguf_close(g);
    g = gm_gguf_open_buf(f.b, 40, "cut.gguf", &err);
    CHECK(!g && strstr(err.msg, "truncated"), "truncation says 'truncated': %s", err.msg);

    knobs k;
    k = defaults(); k.magic = "GGML"; expect_bad(k, "not a GGUF file", "bad magic");
    k = defaults(); k.version = 7; expect_bad(k, "version 7", "unknown version");
    k = defaults(); k.version = 1; expect_bad(k, "version 1", "version 1 (32-bit counts)");
    k = defaults(); k.n_kv = 1ULL << 60; expect_bad(k, "metadata count", "an absurd metadata count");
    k = defaults(); k.n_tensors = 1ULL << 62; expect_bad(k, "tensor count", "an absurd tensor count");
    k = defaults(); k.n_kv = 5; expect_bad(k, "", "one metadata entry more than present");
    k = defaults(); k.key0 = "gener\xff" "al"; expect_bad(k, "UTF-8", "a key that is not UTF-8");
    k = defaults(); k.key0 = "\xc0\xaf"; expect_bad(k, "UTF-8", "an overlong UTF-8 key");
    k = defaults(); k.key0 = "\xed\xa0\x80"; expect_bad(k, "UTF-8", "a surrogate in a key");
    k = defaults(); k.key0 = "general.alignment"; expect_bad(k, "appears twice", "a duplicate key");
    k = defaults(); k.key0 = ""; expect_bad(k, "empty key", "an empty key");
    k = defaults(); k.kv1_type = 13; expect_bad(k, "unknown value type 13", "an unknown metadata value type");
    k = defaults(); k.arr_of_arr = true; expect_bad(k, "array of arrays", "an array of arrays");
    k = defaults(); k.arr_len = 1ULL << 61; expect_bad(k, "claims", "an array longer than the file");
    k = defaults(); k.align = 48; expect_bad(k, "power of two", "an alignment that is not a power of two");
    k = defaults(); k.align = 0; expect_bad(k, "power of two", "alignment 0");
    k = defaults(); k.type_b = 99; expect_bad(k, "type 99", "an unknown tensor type");
    k = defaults(); k.type_b = GM_TYPE_Q4_K; expect_bad(k, "blocks", "a row that is not whole blocks");
    k = defaults(); k.off_b = 16; expect_bad(k, "multiple of the alignment", "a misaligned offset");
    k = defaults(); k.off_b = 0; expect_bad(k, "overlap", "overlapping tensors");
    k = defaults(); k.off_b = 1ULL << 40; expect_bad(k, "past the end", "an offset beyond the file");
    k = defaults(); k.off_b = (uint64_t)-32; expect_bad(k, "past the end", "an offset that wraps around");
    k = defaults(); k.ne_b[0] = 1LL << 40; k.ne_b[1] = 1LL << 40; expect_bad(k, "overflow", "dims whose product overflows");
    k = defaults(); k.ne_b[1] = -2; expect_bad(k, "must be positive", "a negative dim");
    k = defaults(); k.ne_b[1] = 0; expect_bad(k, "must be positive", "a zero dim");
    k = defaults(); k.ndims_b = 9; expect_bad(k, "9 dimensions", "too many dims");
    k = defaults(); k.ndims_b = 0; expect_bad(k, "0 dimensions", "zero dims");
    k = defaults(); k.name_b = "a"; expect_bad(k, "appears twice", "a duplicate tensor name");
    k = defaults(); k.ne_b[1] = 3; expect_bad(k, "past the end", "a tensor bigger than its data");

    g = gm_gguf_open_buf(f.b, 0, "empty.gguf", &err);
    CHECK(!g && strstr(err.msg, "empty.gguf"), "an empty file is rejected: %s", err.msg);
    return check_exit();
}
