/* safetensors.c: a Hugging Face checkpoint folder as a weight source.
 *
 * Reads config.json (+ generation_config.json, tokenizer.json,
 * chat_template.jinja), then model.safetensors or the shards named by
 * model.safetensors.index.json.  Each file is mmapped read-only; tensors
 * point into the mapping.  Every header is validated before any byte of data
 * is trusted: offsets inside the file, no overlaps, sizes that match shapes,
 * and dtypes we can compute with.  Names lose their "model.language_model."
 * or "model." prefix; vision and audio towers are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model.h"

typedef struct {
    char  *path;
    void  *map;
    size_t size;
} st_file;

typedef struct {
    gm_source  base;
    st_file   *files;
    int        n_files;
    gm_tensor *tensors;      /* sorted by name */
    char     **names;
    int        n_tensors, cap_tensors;
    char      *dir;
} st_source;

/* Read a whole small file into a NUL-terminated buffer (configs, templates). */
char *gm_read_file(const char *path, size_t max, size_t *len, gm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { gm_err_set(err, GM_E_IO, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 65536 * 2;
            if (cap > max + 65536 * 2) {
                gm_err_set(err, GM_E_FORMAT, "%s: larger than %zu bytes", path, max);
                free(buf); fclose(f); return NULL;
            }
            char *nb = realloc(buf, cap);
            if (!nb) { gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path); free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) { gm_err_set(err, GM_E_IO, "%s: read error", path); free(buf); fclose(f); return NULL; }
    fclose(f);
    if (n > max) { gm_err_set(err, GM_E_FORMAT, "%s: larger than %zu bytes", path, max); free(buf); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

cJSON *gm_read_json(const char *path, bool required, gm_err *err)
{
    if (!required && access(path, F_OK) != 0) return NULL;
    char *txt = gm_read_file(path, 64u << 20, NULL, err);
    if (!txt) return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(txt, &end, 1);
    if (!j) {
        long off = end ? (long)(end - txt) : -1;
        gm_err_set(err, GM_E_FORMAT, "%s: invalid JSON near byte %ld", path, off);
    }
    free(txt);
    return j;
}

static int dtype_of(const char *s, gm_type *t, size_t *es)
{
    if (!strcmp(s, "F32")) { *t = GM_TYPE_F32; *es = 4; return 0; }
    if (!strcmp(s, "F16")) { *t = GM_TYPE_F16; *es = 2; return 0; }
    if (!strcmp(s, "BF16")) { *t = GM_TYPE_BF16; *es = 2; return 0; }
    return -1;
}

/* Map a checkpoint name to the decoder's name, or NULL to skip it. */
static const char *strip_name(const char *n)
{
    static const char *const skip[] = {"model.vision_tower.", "model.audio_tower.", "model.embed_vision.",
                                       "model.embed_audio.", "vision_tower.", "audio_tower.",
                                       "multi_modal_projector."};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (!strncmp(n, skip[i], strlen(skip[i]))) return NULL;
    if (!strncmp(n, "model.language_model.", 21)) return n + 21;
    if (!strncmp(n, "model.", 6)) return n + 6;
    return n;
}

typedef struct { uint64_t b, e; const char *name; } span;
static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->b < y->b ? -1 : x->b > y->b;
}

/* Parse and validate one safetensors header from a mapped file; add its
 * tensors to the source.  only: if non-NULL, the file must contain this name. */
static int add_file(st_source *s, st_file *f, gm_err *err)
{
    const unsigned char *p = f->map;
    if (f->size < 8)
        return gm_err_set(err, GM_E_FORMAT, "%s: truncated: %zu bytes, a safetensors file starts with an "
                          "8-byte header length", f->path, f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | p[i];
    if (hlen > f->size - 8 || hlen > (100u << 20))
        return gm_err_set(err, GM_E_FORMAT, "%s: header length %llu does not fit in a file of %zu bytes "
                          "(truncated or not a safetensors file)", f->path, (unsigned long long)hlen, f->size);
    char *htxt = malloc(hlen + 1);
    if (!htxt) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory for the header", f->path);
    memcpy(htxt, p + 8, hlen);
    htxt[hlen] = 0;
    cJSON *h = cJSON_Parse(htxt);
    free(htxt);
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return gm_err_set(err, GM_E_FORMAT, "%s: the header is not a JSON object (corrupt file)", f->path);
    }
    uint64_t data_len = f->size - 8 - hlen;
    const unsigned char *data = p + 8 + hlen;
    int n = cJSON_GetArraySize(h), ns = 0, rc = -1;
    span *sp = calloc((size_t)n + 1, sizeof *sp);
    if (!sp) { cJSON_Delete(h); return gm_err_set(err, GM_E_NOMEM, "%s: out of memory", f->path); }
    const cJSON *e;
    cJSON_ArrayForEach(e, h) {
        if (!strcmp(e->string, "__metadata__")) continue;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2) {
            gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' lacks dtype, shape or data_offsets", f->path, e->string);
            goto out;
        }
        double b = cJSON_GetArrayItem(off, 0)->valuedouble, en = cJSON_GetArrayItem(off, 1)->valuedouble;
        if (!(b >= 0 && en >= b && en <= (double)data_len)) {
            gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' has data_offsets [%.0f, %.0f] outside the %llu data "
                       "bytes (truncated or corrupt file)", f->path, e->string, b, en, (unsigned long long)data_len);
            goto out;
        }
        int nd = cJSON_GetArraySize(sh);
        if (nd > 4) { gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' has %d dims, at most 4 expected",
                                 f->path, e->string, nd); goto out; }
        int64_t dims[4] = {1, 1, 1, 1};
        uint64_t count = 1;
        for (int i = 0; i < nd; i++) {
            double d = cJSON_GetArrayItem(sh, i)->valuedouble;
            if (!(d >= 0 && d < 4e12)) { gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' has an invalid shape",
                                                    f->path, e->string); goto out; }
            dims[i] = (int64_t)d;
            if (dims[i] && count > UINT64_MAX / (uint64_t)dims[i]) {
                gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' shape overflows", f->path, e->string); goto out;
            }
            count *= (uint64_t)dims[i];
        }
        sp[ns++] = (span){(uint64_t)b, (uint64_t)en, e->string};
        const char *name = strip_name(e->string);
        if (!name) continue;
        gm_type t;
        size_t es;
        bool known = dtype_of(dt->valuestring, &t, &es) == 0;
        if (known && count * es != (uint64_t)(en - b)) {
            gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' (%s, %llu elements) needs %llu bytes but data_offsets "
                       "span %.0f", f->path, e->string, dt->valuestring, (unsigned long long)count,
                       (unsigned long long)(count * es), en - b);
            goto out;
        }
        if (s->n_tensors == s->cap_tensors) {
            int nc = s->cap_tensors ? s->cap_tensors * 2 : 256;
            gm_tensor *nt = realloc(s->tensors, (size_t)nc * sizeof *nt);
            if (!nt) { gm_err_set(err, GM_E_NOMEM, "out of memory"); goto out; }
            s->tensors = nt;
            char **nn = realloc(s->names, (size_t)nc * sizeof *nn);
            if (!nn) { gm_err_set(err, GM_E_NOMEM, "out of memory"); goto out; }
            s->names = nn;
            s->cap_tensors = nc;
        }
        char *nm = strdup(name);
        if (!nm) { gm_err_set(err, GM_E_NOMEM, "out of memory"); goto out; }
        gm_tensor *T = &s->tensors[s->n_tensors];
        memset(T, 0, sizeof *T);
        /* unknown dtypes are kept with type -1 so using them gives a clear error */
        T->type = known ? t : (gm_type)-1;
        /* GGML order: ne[0] is the last (contiguous) PyTorch dim */
        int64_t ne[3] = {1, 1, 1};
        for (int i = 0; i < nd && i < 3; i++) ne[i] = dims[nd - 1 - i];
        if (nd == 4) ne[2] *= dims[0];
        memcpy(T->ne, ne, sizeof ne);
        T->row_bytes = known ? (size_t)ne[0] * es : 0;
        T->nbytes = (size_t)(en - b);
        T->data = data + (size_t)b;
        T->name = nm;
        s->names[s->n_tensors++] = nm;
    }
    qsort(sp, (size_t)ns, sizeof *sp, span_cmp);
    for (int i = 1; i < ns; i++)
        if (sp[i].b < sp[i - 1].e) {
            gm_err_set(err, GM_E_FORMAT, "%s: tensors '%s' and '%s' overlap in the file (corrupt header)",
                       f->path, sp[i - 1].name, sp[i].name);
            goto out;
        }
    rc = 0;
out:
    free(sp);
    cJSON_Delete(h);
    return rc;
}

static int map_file(st_file *f, gm_err *err)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gm_err_set(err, GM_E_IO, "%s: cannot open: %s", f->path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return gm_err_set(err, GM_E_IO, "%s: stat: %s", f->path, strerror(errno)); }
    f->size = (size_t)st.st_size;
    if (f->size == 0) { close(fd); return gm_err_set(err, GM_E_FORMAT, "%s: empty file", f->path); }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return gm_err_set(err, GM_E_IO, "%s: mmap failed: %s", f->path, strerror(errno));
    }
    return 0;
}

static int tensor_cmp(const void *a, const void *b)
{
    return strcmp(((const gm_tensor *)a)->name, ((const gm_tensor *)b)->name);
}

static const gm_tensor *st_find(gm_source *base, const char *name)
{
    st_source *s = (st_source *)base;
    int lo = 0, hi = s->n_tensors - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(s->tensors[mid].name, name);
        if (!c) return &s->tensors[mid];
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return NULL;
}

static void st_free(gm_source *base)
{
    st_source *s = (st_source *)base;
    if (!s) return;
    for (int i = 0; i < s->n_files; i++) {
        if (s->files[i].map) munmap(s->files[i].map, s->files[i].size);
        free(s->files[i].path);
    }
    for (int i = 0; i < s->n_tensors; i++) free(s->names[i]);
    free(s->files);
    free(s->tensors);
    free(s->names);
    cJSON_Delete(s->base.config);
    cJSON_Delete(s->base.genconfig);
    gm_tok_free(s->base.tok);
    free(s->base.chat_template);
    free(s->dir);
    free(s);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* The list of weight files: from the index's weight_map, or the single file. */
static int list_files(st_source *s, gm_err *err)
{
    char *idx = join(s->dir, "model.safetensors.index.json");
    if (!idx) return gm_err_set(err, GM_E_NOMEM, "out of memory");
    cJSON *j = gm_read_json(idx, false, err);
    if (!j && access(idx, F_OK) == 0) { free(idx); return -1; }
    if (!j) {
        free(idx);
        char *one = join(s->dir, "model.safetensors");
        if (!one) return gm_err_set(err, GM_E_NOMEM, "out of memory");
        if (access(one, F_OK) != 0) {
            gm_err_set(err, GM_E_IO, "%s: no model.safetensors and no model.safetensors.index.json "
                       "(is this a Hugging Face checkpoint folder?)", s->dir);
            free(one);
            return -1;
        }
        s->files = calloc(1, sizeof *s->files);
        if (!s->files) { free(one); return gm_err_set(err, GM_E_NOMEM, "out of memory"); }
        s->files[0].path = one;
        s->n_files = 1;
        return 0;
    }
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(j, "weight_map");
    if (!cJSON_IsObject(wm) || !cJSON_GetArraySize(wm)) {
        cJSON_Delete(j);
        gm_err_set(err, GM_E_FORMAT, "%s: no \"weight_map\" object", idx);
        free(idx);
        return -1;
    }
    int cap = cJSON_GetArraySize(wm);
    s->files = calloc((size_t)cap, sizeof *s->files);
    if (!s->files) { cJSON_Delete(j); free(idx); return gm_err_set(err, GM_E_NOMEM, "out of memory"); }
    const cJSON *e;
    int rc = 0;
    cJSON_ArrayForEach(e, wm) {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !e->valuestring[0]) {
            rc = gm_err_set(err, GM_E_FORMAT, "%s: weight_map entry '%s' is not a file name in this folder",
                            idx, e->string);
            break;
        }
        int k;
        for (k = 0; k < s->n_files; k++)
            if (!strcmp(strrchr(s->files[k].path, '/') + 1, e->valuestring)) break;
        if (k < s->n_files) continue;
        char *p = join(s->dir, e->valuestring);
        if (!p) { rc = gm_err_set(err, GM_E_NOMEM, "out of memory"); break; }
        s->files[s->n_files++].path = p;
        if (access(p, F_OK) != 0) {
            rc = gm_err_set(err, GM_E_IO, "%s names shard '%s' but it is missing from %s (incomplete download?)",
                            idx, e->valuestring, s->dir);
            break;
        }
    }
    cJSON_Delete(j);
    free(idx);
    return rc;
}

/* Validate one safetensors image held in memory (the fuzz target's entry):
 * the same header checks the loader runs on a mapped file. */
int gm_safetensors_check_buf(const void *buf, size_t len, const char *name, gm_err *err)
{
    st_source s = {0};
    st_file f = {(char *)name, (void *)buf, len};
    int rc = add_file(&s, &f, err);
    for (int i = 0; i < s.n_tensors; i++) free(s.names[i]);
    free(s.tensors);
    free(s.names);
    return rc;
}

gm_source *gm_source_open_hf(const char *dir, gm_err *err)
{
    st_source *s = calloc(1, sizeof *s);
    if (!s) { gm_err_set(err, GM_E_NOMEM, "out of memory"); return NULL; }
    s->base.find = st_find;
    s->base.free = st_free;
    s->dir = strdup(dir);
    s->base.path = s->dir;
    char *p = NULL;
    if (!s->dir) { gm_err_set(err, GM_E_NOMEM, "out of memory"); goto fail; }
    if (!(p = join(dir, "config.json"))) goto fail;
    if (!(s->base.config = gm_read_json(p, true, err))) goto fail;
    free(p);
    if (!(p = join(dir, "generation_config.json"))) goto fail;
    s->base.genconfig = gm_read_json(p, false, err);
    if (!s->base.genconfig && access(p, F_OK) == 0) goto fail;
    free(p);
    if (!(p = join(dir, "tokenizer.json"))) goto fail;
    if (!(s->base.tok = gm_tok_load_json(p, err))) goto fail;
    free(p);
    if (!(p = join(dir, "chat_template.jinja"))) goto fail;
    if (access(p, F_OK) == 0 && !(s->base.chat_template = gm_read_file(p, 4u << 20, NULL, err))) goto fail;
    free(p);
    p = NULL;
    if (!s->base.chat_template) {          /* older exports keep it in tokenizer_config.json */
        if (!(p = join(dir, "tokenizer_config.json"))) goto fail;
        cJSON *tc = gm_read_json(p, false, err);
        if (!tc && access(p, F_OK) == 0) goto fail;
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(tc, "chat_template");
        if (cJSON_IsString(ct) && !(s->base.chat_template = strdup(ct->valuestring))) { cJSON_Delete(tc); goto fail; }
        cJSON_Delete(tc);
        free(p);
        p = NULL;
    }
    if (list_files(s, err)) goto fail;
    for (int i = 0; i < s->n_files; i++) {
        if (map_file(&s->files[i], err) || add_file(s, &s->files[i], err)) goto fail;
        s->base.file_bytes += s->files[i].size;
    }
    qsort(s->tensors, (size_t)s->n_tensors, sizeof *s->tensors, tensor_cmp);
    for (int i = 0; i < s->n_tensors; i++) s->names[i] = (char *)s->tensors[i].name;
    for (int i = 1; i < s->n_tensors; i++)
        if (!strcmp(s->tensors[i].name, s->tensors[i - 1].name)) {
            gm_err_set(err, GM_E_FORMAT, "%s: tensor '%s' appears twice across the weight files", dir,
                       s->tensors[i].name);
            goto fail;
        }
    return &s->base;
fail:
    if (err && err->code == 0) gm_err_set(err, GM_E_NOMEM, "out of memory");
    free(p);
    st_free(&s->base);
    return NULL;
}
