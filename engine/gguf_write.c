/* gguf_write.c: the GGUF writer (used by `gemmash convert` and the tests).
 *
 * Metadata is serialized as it is added; tensors are recorded with their
 * shape and a source (a pointer, or a function that produces the bytes when
 * the file is written).  Offsets are assigned at write time, each tensor
 * padded to the alignment, as llama.cpp's loader expects.  The file is
 * written to "PATH.tmp" and renamed, so a failed run leaves no half file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gguf.h"

typedef struct {
    char *name;
    gm_type type;
    int n_dims;
    int64_t ne[GM_GGUF_MAX_DIMS];
    size_t nbytes;
    const void *data;
    gm_gguf_fill_fn fill;
    void *ud;
    uint64_t offset;
} wtensor;

struct gm_gguf_writer {
    unsigned char *kv; size_t kv_len, kv_cap;   /* serialized metadata */
    uint64_t n_kv;
    wtensor *t; size_t n_t, cap_t;
    uint32_t alignment;
    bool failed;                                /* an allocation failed while adding */
};

gm_gguf_writer *gm_gguf_writer_new(gm_err *err)
{
    gm_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) gm_err_set(err, GM_E_NOMEM, "GGUF writer: out of memory");
    else w->alignment = GM_GGUF_DEFAULT_ALIGN;
    return w;
}

void gm_gguf_writer_free(gm_gguf_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    free(w->kv);
    free(w);
}

/* Append n bytes to the metadata buffer. */
static int put(gm_gguf_writer *w, const void *p, size_t n)
{
    if (n == 0) return 0;
    if (w->kv_cap - w->kv_len < n) {
        size_t cap = w->kv_cap ? w->kv_cap : 4096;
        while (cap - w->kv_len < n) cap *= 2;
        unsigned char *nb = realloc(w->kv, cap);
        if (!nb) { w->failed = true; return -1; }
        w->kv = nb; w->kv_cap = cap;
    }
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
    return 0;
}

/* Fixed-size fields and strings, little-endian as the format wants. */
static int put_u32(gm_gguf_writer *w, uint32_t v) { return put(w, &v, 4); }
static int put_u64(gm_gguf_writer *w, uint64_t v) { return put(w, &v, 8); }
static int put_str(gm_gguf_writer *w, const char *s, size_t n) { return put_u64(w, n) || put(w, s, n); }

/* Start a metadata entry: its key and value type. */
static int put_key(gm_gguf_writer *w, const char *key, gm_gguf_vtype t)
{
    w->n_kv++;
    return put_str(w, key, strlen(key)) || put_u32(w, (uint32_t)t);
}

int gm_gguf_set_scalar(gm_gguf_writer *w, const char *key, gm_gguf_vtype t, const void *val)
{
    size_t n = gm_gguf_vtype_size(t);
    if (!n) return -1;
    if (strcmp(key, "general.alignment") == 0 && t == GM_GGUF_U32) memcpy(&w->alignment, val, 4);
    return put_key(w, key, t) || put(w, val, n) ? -1 : 0;
}

int gm_gguf_set_u32(gm_gguf_writer *w, const char *key, uint32_t v) { return gm_gguf_set_scalar(w, key, GM_GGUF_U32, &v); }
int gm_gguf_set_i32(gm_gguf_writer *w, const char *key, int32_t v) { return gm_gguf_set_scalar(w, key, GM_GGUF_I32, &v); }
int gm_gguf_set_f32(gm_gguf_writer *w, const char *key, float v) { return gm_gguf_set_scalar(w, key, GM_GGUF_F32, &v); }
int gm_gguf_set_bool(gm_gguf_writer *w, const char *key, bool v)
{
    uint8_t b = v;
    return gm_gguf_set_scalar(w, key, GM_GGUF_BOOL, &b);
}

int gm_gguf_set_str(gm_gguf_writer *w, const char *key, const char *s)
{
    return put_key(w, key, GM_GGUF_STR) || put_str(w, s, strlen(s)) ? -1 : 0;
}

int gm_gguf_set_arr(gm_gguf_writer *w, const char *key, gm_gguf_vtype t, const void *data, uint64_t n)
{
    size_t es = gm_gguf_vtype_size(t);
    if (!es) return -1;
    return put_key(w, key, GM_GGUF_ARR) || put_u32(w, (uint32_t)t) || put_u64(w, n) || put(w, data, es * (size_t)n) ? -1 : 0;
}

int gm_gguf_set_arr_str(gm_gguf_writer *w, const char *key, const char *const *strs, uint64_t n)
{
    if (put_key(w, key, GM_GGUF_ARR) || put_u32(w, GM_GGUF_STR) || put_u64(w, n)) return -1;
    for (uint64_t i = 0; i < n; i++)
        if (put_str(w, strs[i], strlen(strs[i]))) return -1;
    return 0;
}

/* Record a tensor; its bytes come from data or fill. */
static int add(gm_gguf_writer *w, const char *name, gm_type t, int n_dims, const int64_t *ne,
               const void *data, gm_gguf_fill_fn fill, void *ud)
{
    if (n_dims < 1 || n_dims > GM_GGUF_MAX_DIMS || !gm_type_row_bytes(t, ne[0])) return -1;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 64;
        wtensor *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) { w->failed = true; return -1; }
        w->t = nt; w->cap_t = cap;
    }
    wtensor *x = &w->t[w->n_t];
    memset(x, 0, sizeof *x);
    if (!(x->name = strdup(name))) { w->failed = true; return -1; }
    x->type = t;
    x->n_dims = n_dims;
    size_t rows = 1;
    for (int d = 0; d < GM_GGUF_MAX_DIMS; d++) {
        x->ne[d] = d < n_dims ? ne[d] : 1;
        if (d > 0) rows *= (size_t)x->ne[d];
    }
    x->nbytes = gm_type_row_bytes(t, ne[0]) * rows;
    x->data = data; x->fill = fill; x->ud = ud;
    w->n_t++;
    return 0;
}

int gm_gguf_add_tensor(gm_gguf_writer *w, const char *name, gm_type t, int n_dims, const int64_t *ne,
                       const void *data, size_t nbytes)
{
    size_t rows = 1;
    for (int d = 1; d < n_dims && d < GM_GGUF_MAX_DIMS; d++) rows *= (size_t)ne[d];
    if (n_dims < 1 || gm_type_row_bytes(t, ne[0]) * rows != nbytes) return -1;
    return add(w, name, t, n_dims, ne, data, NULL, NULL);
}

int gm_gguf_add_tensor_fn(gm_gguf_writer *w, const char *name, gm_type t, int n_dims, const int64_t *ne,
                          gm_gguf_fill_fn fill, void *ud)
{
    return add(w, name, t, n_dims, ne, NULL, fill, ud);
}

/* Write zeros up to the next multiple of the alignment. */
static int pad_to(FILE *f, uint64_t pos, uint32_t align)
{
    static const char zeros[64];
    uint64_t pad = (align - pos % align) % align;
    while (pad > 0) {
        size_t n = pad > sizeof zeros ? sizeof zeros : (size_t)pad;
        if (fwrite(zeros, 1, n, f) != n) return -1;
        pad -= n;
    }
    return 0;
}

int gm_gguf_write(gm_gguf_writer *w, const char *path, gm_err *err)
{
    if (w->failed) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory while preparing the GGUF metadata", path);
    /* header: tensor infos, appended after the metadata (removed again at the end) */
    uint64_t off = 0;
    size_t info_start = w->kv_len;
    for (size_t i = 0; i < w->n_t; i++) {
        wtensor *x = &w->t[i];
        x->offset = off;
        off += x->nbytes;
        off += (w->alignment - off % w->alignment) % w->alignment;
        if (put_str(w, x->name, strlen(x->name)) || put_u32(w, (uint32_t)x->n_dims)) break;
        for (int d = 0; d < x->n_dims; d++) put(w, &x->ne[d], 8);
        put_u32(w, (uint32_t)x->type);
        put_u64(w, x->offset);
    }
    if (w->failed) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory while preparing the GGUF header", path);
    /* the rename below would replace a device or FIFO (-o /dev/null) with the file */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        w->kv_len = info_start;
        return gm_err_set(err, GM_E_ARG, "%s exists and is not a regular file; the GGUF is written to a "
                          "temporary file and renamed over the output, so name a file path", path);
    }
    size_t tmp_len = strlen(path) + 5;
    char *tmp = malloc(tmp_len);
    if (!tmp) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path);
    snprintf(tmp, tmp_len, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        gm_err_set(err, GM_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        w->kv_len = info_start;
        return -1;
    }
    int rc = 0;
    uint32_t version = 3;
    uint64_t nt = w->n_t;
    if (fwrite("GGUF", 1, 4, f) != 4 || fwrite(&version, 4, 1, f) != 1 || fwrite(&nt, 8, 1, f) != 1 ||
        fwrite(&w->n_kv, 8, 1, f) != 1 || fwrite(w->kv, 1, w->kv_len, f) != w->kv_len ||
        pad_to(f, 24 + (uint64_t)w->kv_len, w->alignment))
        rc = gm_err_set(err, GM_E_IO, "%s: write failed: %s", tmp, strerror(errno));
    void *buf = NULL;
    size_t buf_cap = 0;
    for (size_t i = 0; !rc && i < w->n_t; i++) {
        wtensor *x = &w->t[i];
        const void *src = x->data;
        if (x->fill) {
            if (buf_cap < x->nbytes) {
                free(buf);
                buf_cap = x->nbytes;
                if (!(buf = malloc(buf_cap ? buf_cap : 1))) {
                    rc = gm_err_set(err, GM_E_NOMEM, "%s: out of memory for tensor %s (%zu bytes)", path, x->name, x->nbytes);
                    break;
                }
            }
            if (x->fill(x->ud, buf, x->nbytes, err)) { rc = -1; break; }
            src = buf;
        }
        if (fwrite(src, 1, x->nbytes, f) != x->nbytes || pad_to(f, x->offset + x->nbytes, w->alignment))
            rc = gm_err_set(err, GM_E_IO, "%s: write failed at tensor %s: %s", tmp, x->name, strerror(errno));
    }
    free(buf);
    if (fclose(f) != 0 && !rc) rc = gm_err_set(err, GM_E_IO, "%s: write failed: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0) rc = gm_err_set(err, GM_E_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
    if (rc) remove(tmp);
    free(tmp);
    w->kv_len = info_start;     /* the writer can be written again */
    return rc;
}
