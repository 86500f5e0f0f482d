/* gguf.c: the GGUF reader.
 *
 * Layout (little-endian): "GGUF", u32 version, i64 tensor count, i64
 * metadata count; metadata entries (string key, u32 type, value); tensor
 * infos (string name, u32 n_dims, i64 ne[n_dims], u32 type, u64 offset);
 * padding to the alignment; the data section.  A string is a u64 length and
 * that many bytes of UTF-8 (no NUL).  Nothing read from the file is trusted
 * before it is checked against the bytes that remain. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gguf.h"

/* ---- a bump allocator for the copied strings ------------------------------ */

typedef struct arena_blk { struct arena_blk *next; size_t used, cap; char data[]; } arena_blk;

/* Room for n bytes; blocks of 1 MiB unless one string needs more. */
static void *arena_alloc(void **arena, size_t n)
{
    arena_blk *b = *arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        arena_blk *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->next = b; nb->used = 0; nb->cap = cap;
        *arena = b = nb;
    }
    void *p = b->data + b->used;
    b->used += (n + 7) & ~(size_t)7;
    if (b->used > b->cap) b->used = b->cap;
    return p;
}

/* Free every block of the string arena. */
static void arena_free(void *arena)
{
    for (arena_blk *b = arena, *n; b; b = n) { n = b->next; free(b); }
}

/* ---- a bounds-checked cursor ------------------------------------------------ */

typedef struct {
    const uint8_t *p;
    size_t size, off;
    const char *path;
    gm_err *err;
    gm_gguf *g;
} rd;

/* The one message for running off the end of the file. */
static int truncated(rd *r, const char *what)
{
    return gm_err_set(r->err, GM_E_FORMAT, "%s: truncated GGUF file: reading %s at byte %zu needs more than the "
                      "%zu bytes the file has; the file is incomplete, download or convert it again",
                      r->path, what, r->off, r->size);
}

/* Copy n bytes at the cursor, or fail as truncated. */
static int rd_bytes(rd *r, void *dst, size_t n, const char *what)
{
    if (r->size - r->off < n) return truncated(r, what);
    memcpy(dst, r->p + r->off, n);
    r->off += n;
    return 0;
}

/* Little-endian integers (the format and this machine agree). */
static int rd_u32(rd *r, uint32_t *v, const char *what) { return rd_bytes(r, v, 4, what); }
static int rd_u64(rd *r, uint64_t *v, const char *what) { return rd_bytes(r, v, 8, what); }

/* Is s[0..n) well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF)? */
static bool utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        int len; uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return false;
        if (n - i < (size_t)len) return false;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += (size_t)len;
    }
    return true;
}

/* Read a string into the arena (NUL-terminated copy). */
static int rd_str(rd *r, char **out, size_t *len_out, const char *what)
{
    uint64_t n;
    size_t at = r->off;
    if (rd_u64(r, &n, what)) return -1;
    if (n > r->size - r->off) {
        r->off = at;
        return gm_err_set(r->err, GM_E_FORMAT, "%s: %s at byte %zu claims %llu bytes but only %zu remain; "
                          "the file is truncated or corrupt", r->path, what, at, (unsigned long long)n, r->size - r->off - 8);
    }
    if (!utf8_ok(r->p + r->off, (size_t)n))
        return gm_err_set(r->err, GM_E_FORMAT, "%s: %s at byte %zu is not valid UTF-8; the file is corrupt",
                          r->path, what, at);
    char *s = arena_alloc(&r->g->arena, (size_t)n + 1);
    if (!s) return gm_err_set(r->err, GM_E_NOMEM, "%s: out of memory reading %s", r->path, what);
    memcpy(s, r->p + r->off, (size_t)n);
    s[n] = 0;
    r->off += (size_t)n;
    *out = s;
    if (len_out) *len_out = (size_t)n;
    return 0;
}

/* ---- metadata ------------------------------------------------------------------ */

size_t gm_gguf_vtype_size(gm_gguf_vtype t)
{
    switch (t) {
    case GM_GGUF_U8: case GM_GGUF_I8: case GM_GGUF_BOOL: return 1;
    case GM_GGUF_U16: case GM_GGUF_I16: return 2;
    case GM_GGUF_U32: case GM_GGUF_I32: case GM_GGUF_F32: return 4;
    case GM_GGUF_U64: case GM_GGUF_I64: case GM_GGUF_F64: return 8;
    default: return 0;
    }
}

const char *gm_gguf_vtype_name(gm_gguf_vtype t)
{
    static const char *const names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
                                        "array", "u64", "i64", "f64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Decode one fixed-size little-endian value into every field of kv->v. */
static void decode_scalar(gm_gguf_vtype t, const uint8_t *b, gm_gguf_kv *kv)
{
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f32;
    int64_t i = 0;
    switch (t) {
    case GM_GGUF_U8: case GM_GGUF_BOOL: memcpy(&u8, b, 1); i = u8; break;
    case GM_GGUF_I8: memcpy(&i8, b, 1); i = i8; break;
    case GM_GGUF_U16: memcpy(&u16, b, 2); i = u16; break;
    case GM_GGUF_I16: memcpy(&i16, b, 2); i = i16; break;
    case GM_GGUF_U32: memcpy(&u32, b, 4); i = u32; break;
    case GM_GGUF_I32: memcpy(&i32, b, 4); i = i32; break;
    case GM_GGUF_I64: memcpy(&i, b, 8); break;
    case GM_GGUF_U64: memcpy(&kv->v.u, b, 8); kv->v.i = (int64_t)kv->v.u; kv->v.f = (double)kv->v.u; return;
    case GM_GGUF_F32: memcpy(&f32, b, 4); kv->v.f = f32; kv->v.i = (int64_t)(f32 > -9e18f && f32 < 9e18f ? f32 : 0); return;
    case GM_GGUF_F64: memcpy(&kv->v.f, b, 8); kv->v.i = (int64_t)(kv->v.f > -9e18 && kv->v.f < 9e18 ? kv->v.f : 0); return;
    default: return;
    }
    kv->v.i = i;
    kv->v.u = (uint64_t)i;
    kv->v.f = (double)i;
    kv->v.b = i != 0;
}

/* One metadata entry: key, type, value (arrays of numbers stay in the map). */
static int read_kv(rd *r, gm_gguf_kv *kv, int64_t idx)
{
    char what[96];
    snprintf(what, sizeof what, "the key of metadata entry %lld", (long long)idx);
    if (rd_str(r, &kv->key, NULL, what)) return -1;
    if (!kv->key[0]) return gm_err_set(r->err, GM_E_FORMAT, "%s: metadata entry %lld has an empty key", r->path, (long long)idx);
    uint32_t t;
    if (rd_u32(r, &t, "a metadata type")) return -1;
    if (t > GM_GGUF_F64)
        return gm_err_set(r->err, GM_E_FORMAT, "%s: metadata '%s' has unknown value type %u (expected 0..12)",
                          r->path, kv->key, t);
    kv->type = (gm_gguf_vtype)t;
    kv->n = 1;
    if (t == GM_GGUF_STR) return rd_str(r, &kv->str, &kv->str_len, kv->key);
    if (t != GM_GGUF_ARR) {
        uint8_t b[8];
        if (rd_bytes(r, b, gm_gguf_vtype_size(kv->type), kv->key)) return -1;
        decode_scalar(kv->type, b, kv);
        return 0;
    }
    uint32_t at;
    uint64_t n;
    if (rd_u32(r, &at, "an array element type") || rd_u64(r, &n, "an array length")) return -1;
    if (at == GM_GGUF_ARR)
        return gm_err_set(r->err, GM_E_UNSUPPORTED, "%s: metadata '%s' is an array of arrays, which gemmash does not "
                          "read (no GGUF model key needs one)", r->path, kv->key);
    if (at > GM_GGUF_F64)
        return gm_err_set(r->err, GM_E_FORMAT, "%s: metadata array '%s' has unknown element type %u", r->path, kv->key, at);
    kv->arr_type = (gm_gguf_vtype)at;
    kv->n = n;
    size_t esz = at == GM_GGUF_STR ? 8 : gm_gguf_vtype_size(kv->arr_type);   /* strings: at least their length */
    if (n > (r->size - r->off) / esz)
        return gm_err_set(r->err, GM_E_FORMAT, "%s: metadata array '%s' claims %llu elements, more than the %zu bytes "
                          "left in the file can hold", r->path, kv->key, (unsigned long long)n, r->size - r->off);
    if (at != GM_GGUF_STR) {
        kv->raw = r->p + r->off;
        r->off += (size_t)n * esz;
        return 0;
    }
    kv->strs = malloc(((size_t)n + 1) * sizeof *kv->strs);
    if (!kv->strs) return gm_err_set(r->err, GM_E_NOMEM, "%s: out of memory for array '%s'", r->path, kv->key);
    for (uint64_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "element %llu of '%.40s'", (unsigned long long)i, kv->key);
        if (rd_str(r, &kv->strs[i], NULL, what)) { kv->n = i; return -1; }
    }
    kv->strs[n] = NULL;
    return 0;
}

/* ---- tensors --------------------------------------------------------------------- */

/* One tensor info: name, dims, type, offset; shapes are checked here. */
static int read_tensor(rd *r, gm_gguf_tensor *ti, int64_t idx)
{
    char what[64];
    snprintf(what, sizeof what, "the name of tensor %lld", (long long)idx);
    if (rd_str(r, &ti->name, NULL, what)) return -1;
    uint32_t nd, type;
    if (rd_u32(r, &nd, "a tensor's dimension count")) return -1;
    if (nd < 1 || nd > GM_GGUF_MAX_DIMS)
        return gm_err_set(r->err, GM_E_FORMAT, "%s: tensor '%s' has %u dimensions (expected 1..4)", r->path, ti->name, nd);
    ti->n_dims = nd;
    int64_t elems = 1;
    for (int d = 0; d < GM_GGUF_MAX_DIMS; d++) {
        ti->ne[d] = 1;
        if ((uint32_t)d >= nd) continue;
        if (rd_bytes(r, &ti->ne[d], 8, "a tensor dimension")) return -1;
        if (ti->ne[d] <= 0)
            return gm_err_set(r->err, GM_E_FORMAT, "%s: tensor '%s' dimension %d is %lld (must be positive)",
                              r->path, ti->name, d, (long long)ti->ne[d]);
        if (__builtin_mul_overflow(elems, ti->ne[d], &elems) || elems > ((int64_t)1 << 50))
            return gm_err_set(r->err, GM_E_FORMAT, "%s: tensor '%s' has too many elements (dimensions overflow)",
                              r->path, ti->name);
    }
    if (rd_u32(r, &type, "a tensor type") || rd_u64(r, &ti->offset, "a tensor offset")) return -1;
    if (gm_type_block((gm_type)type) == 0)
        return gm_err_set(r->err, GM_E_UNSUPPORTED, "%s: tensor '%s' has GGML type %u, which gemmash does not support "
                          "(supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS); "
                          "re-quantize the model to one of these",
                          r->path, ti->name, type);
    if (ti->ne[3] != 1)
        return gm_err_set(r->err, GM_E_UNSUPPORTED, "%s: tensor '%s' is 4-dimensional; no Gemma 4 tensor is", r->path, ti->name);
    size_t rb = gm_type_row_bytes((gm_type)type, ti->ne[0]);
    if (rb == 0)
        return gm_err_set(r->err, GM_E_FORMAT, "%s: tensor '%s' rows of %lld elements are not whole %s blocks of %d",
                          r->path, ti->name, (long long)ti->ne[0], gm_type_name((gm_type)type), gm_type_block((gm_type)type));
    gm_tensor *t = &ti->t;
    t->type = (gm_type)type;
    t->ne[0] = ti->ne[0]; t->ne[1] = ti->ne[1]; t->ne[2] = ti->ne[2];
    t->row_bytes = rb;
    t->nbytes = rb * (size_t)(ti->ne[1] * ti->ne[2]);   /* <= 2^50 elements, cannot overflow size_t */
    t->name = ti->name;
    return 0;
}

/* qsort order for the overlap check. */
static int cmp_by_offset(const void *a, const void *b)
{
    const gm_gguf_tensor *x = *(gm_gguf_tensor *const *)a, *y = *(gm_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Offsets aligned, inside the data section, and no two tensors overlap. */
static int check_layout(rd *r)
{
    gm_gguf *g = r->g;
    size_t data_size = g->size - g->data_off;
    gm_gguf_tensor **by = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *by);
    if (!by) return gm_err_set(r->err, GM_E_NOMEM, "%s: out of memory", r->path);
    int rc = 0;
    for (int64_t i = 0; i < g->n_tensors && !rc; i++) {
        gm_gguf_tensor *t = &g->tensors[i];
        by[i] = t;
        if (t->offset % g->alignment)
            rc = gm_err_set(r->err, GM_E_FORMAT, "%s: tensor '%s' offset %llu is not a multiple of the alignment %u",
                            r->path, t->name, (unsigned long long)t->offset, g->alignment);
        else if (t->offset > data_size || t->t.nbytes > data_size - t->offset)
            rc = gm_err_set(r->err, GM_E_FORMAT, "%s: tensor '%s' (%zu bytes at data offset %llu) ends past the end of the "
                            "file (data section is %zu bytes); the file is truncated", r->path, t->name, t->t.nbytes,
                            (unsigned long long)t->offset, data_size);
        else
            t->t.data = g->base + g->data_off + t->offset;
    }
    if (!rc && g->n_tensors > 1) {
        qsort(by, (size_t)g->n_tensors, sizeof *by, cmp_by_offset);
        for (int64_t i = 0; i + 1 < g->n_tensors && !rc; i++)
            if (by[i]->offset + by[i]->t.nbytes > by[i + 1]->offset)
                rc = gm_err_set(r->err, GM_E_FORMAT, "%s: tensors '%s' and '%s' overlap in the data section",
                                r->path, by[i]->name, by[i + 1]->name);
    }
    free(by);
    return rc;
}

/* qsort order for the duplicate check. */
static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Find a name that occurs twice among n strings at base + i*stride; NULL if none. */
static const char *find_duplicate(const void *base, int64_t n, size_t stride, char **tmp)
{
    for (int64_t i = 0; i < n; i++) memcpy(&tmp[i], (const char *)base + (size_t)i * stride, sizeof(char *));
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_str_ptr);
    for (int64_t i = 0; i + 1 < n; i++)
        if (strcmp(tmp[i], tmp[i + 1]) == 0) return tmp[i];
    return NULL;
}

/* Keys (tensors = false) or tensor names must be unique; sorting keeps
 * large counts fast. */
static int check_unique(gm_gguf *g, bool tensors, gm_err *err)
{
    int64_t n = tensors ? g->n_tensors : g->n_kv;
    char **tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    if (!tmp) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory", g->path);
    const char *d = tensors ? find_duplicate(&g->tensors[0].name, n, sizeof g->tensors[0], tmp)
                            : find_duplicate(&g->kv[0].key, n, sizeof g->kv[0], tmp);
    int rc = d ? gm_err_set(err, GM_E_FORMAT, "%s: %s '%s' appears twice", g->path,
                            tensors ? "tensor name" : "metadata key", d) : 0;
    free(tmp);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------ */

/* Validate and index the whole file; the cursor never trusts a length it has not checked. */
static int parse(gm_gguf *g, gm_err *err)
{
    rd r = { g->base, g->size, 0, g->path, err, g };
    char magic[4];
    if (rd_bytes(&r, magic, 4, "the magic")) return -1;
    if (memcmp(magic, "GGUF", 4) != 0)
        return gm_err_set(err, GM_E_FORMAT, "%s: not a GGUF file (first bytes are %02x %02x %02x %02x, expected \"GGUF\")",
                          g->path, (uint8_t)magic[0], (uint8_t)magic[1], (uint8_t)magic[2], (uint8_t)magic[3]);
    if (rd_u32(&r, &g->version, "the version")) return -1;
    if (g->version != 2 && g->version != 3)
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: GGUF version %u is not supported (expected 3, or 2); "
                          "convert the model again with a current tool", g->path, g->version);
    uint64_t nt, nkv;
    if (rd_u64(&r, &nt, "the tensor count") || rd_u64(&r, &nkv, "the metadata count")) return -1;
    /* every entry takes at least 13 bytes, every tensor info at least 32 */
    if (nkv > (g->size - r.off) / 13)
        return gm_err_set(err, GM_E_FORMAT, "%s: metadata count %llu is impossible for a file of %zu bytes "
                          "(truncated or corrupt)",
                          g->path, (unsigned long long)nkv, g->size);
    if (nt > (g->size - r.off) / 32)
        return gm_err_set(err, GM_E_FORMAT, "%s: tensor count %llu is impossible for a file of %zu bytes "
                          "(truncated or corrupt)",
                          g->path, (unsigned long long)nt, g->size);
    g->kv = calloc((size_t)nkv + 1, sizeof *g->kv);
    g->tensors = calloc((size_t)nt + 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory", g->path);
    for (uint64_t i = 0; i < nkv; i++) {
        g->n_kv = (int64_t)i + 1;   /* so close() frees what was read */
        if (read_kv(&r, &g->kv[i], (int64_t)i)) return -1;
    }
    if (check_unique(g, false, err)) return -1;
    g->alignment = GM_GGUF_DEFAULT_ALIGN;
    const gm_gguf_kv *al = gm_gguf_find_kv(g, "general.alignment");
    if (al) {
        if (al->type != GM_GGUF_U32 || al->v.i == 0 || (al->v.i & (al->v.i - 1)) || al->v.i > (1 << 24))
            return gm_err_set(err, GM_E_FORMAT, "%s: general.alignment must be a u32 power of two (got %s %lld)",
                              g->path, gm_gguf_vtype_name(al->type), (long long)al->v.i);
        g->alignment = (uint32_t)al->v.i;
    }
    for (uint64_t i = 0; i < nt; i++) {
        g->n_tensors = (int64_t)i + 1;
        if (read_tensor(&r, &g->tensors[i], (int64_t)i)) return -1;
    }
    size_t pad = (g->alignment - r.off % g->alignment) % g->alignment;
    if (nt > 0 && pad > g->size - r.off) {
        r.off = g->size;
        return truncated(&r, "the padding before the tensor data");
    }
    g->data_off = r.off + pad <= g->size ? r.off + pad : g->size;
    return check_unique(g, true, err) ? -1 : check_layout(&r);
}

void gm_gguf_close(gm_gguf *g)
{
    if (!g) return;
    for (int64_t i = 0; g->kv && i < g->n_kv; i++) free(g->kv[i].strs);
    free(g->kv);
    free(g->tensors);
    arena_free(g->arena);
    if (g->mapped && g->base) munmap((void *)g->base, g->size);
    free(g->path);
    free(g);
}

gm_gguf *gm_gguf_open_buf(const void *buf, size_t size, const char *name, gm_err *err)
{
    gm_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(name ? name : "(memory)"))) {
        free(g);
        gm_err_set(err, GM_E_NOMEM, "%s: out of memory", name ? name : "GGUF");
        return NULL;
    }
    g->base = buf;
    g->size = size;
    if (parse(g, err)) { gm_gguf_close(g); return NULL; }
    return g;
}

gm_gguf *gm_gguf_open(const char *path, gm_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gm_err_set(err, GM_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        gm_err_set(err, GM_E_IO, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (size && map == MAP_FAILED) {
        gm_err_set(err, GM_E_IO, "%s: cannot map %zu bytes: %s", path, size, strerror(errno));
        return NULL;
    }
    static const uint8_t empty[1];
    gm_gguf *g = gm_gguf_open_buf(size ? map : empty, size, path, err);
    if (!g) { if (size) munmap(map, size); return NULL; }
    g->mapped = size > 0;
    return g;
}

/* ---- lookups -------------------------------------------------------------------------- */

const gm_gguf_kv *gm_gguf_find_kv(const gm_gguf *g, const char *key)
{
    for (int64_t i = 0; i < g->n_kv; i++)
        if (g->kv[i].key && strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

const gm_gguf_tensor *gm_gguf_find_tensor(const gm_gguf *g, const char *name)
{
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].name && strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

/* Decode element i of kv (or the scalar itself) into tmp; NULL if not numeric. */
static const gm_gguf_kv *num_at(const gm_gguf_kv *kv, uint64_t i, gm_gguf_kv *tmp)
{
    if (!kv) return NULL;
    if (kv->type == GM_GGUF_ARR) {
        size_t es = gm_gguf_vtype_size(kv->arr_type);
        if (!es || i >= kv->n) return NULL;
        memset(tmp, 0, sizeof *tmp);
        tmp->type = kv->arr_type;
        decode_scalar(kv->arr_type, (const uint8_t *)kv->raw + i * es, tmp);
        return tmp;
    }
    return i == 0 && gm_gguf_vtype_size(kv->type) ? kv : NULL;
}

bool gm_gguf_num(const gm_gguf_kv *kv, uint64_t i, double *out)
{
    gm_gguf_kv tmp;
    if (!(kv = num_at(kv, i, &tmp))) return false;
    *out = kv->v.f;
    return true;
}

bool gm_gguf_int(const gm_gguf_kv *kv, uint64_t i, int64_t *out)
{
    gm_gguf_kv tmp;
    if (!(kv = num_at(kv, i, &tmp))) return false;
    if (kv->type == GM_GGUF_U64 && kv->v.u > (uint64_t)INT64_MAX) return false;
    if ((kv->type == GM_GGUF_F32 || kv->type == GM_GGUF_F64) && (double)kv->v.i != kv->v.f) return false;
    *out = kv->v.i;
    return true;
}
