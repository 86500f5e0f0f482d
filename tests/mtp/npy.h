/* npy.h: read a little-endian float32 .npy file (tests only).
 *
 * The reference fixtures store arrays as NumPy .npy; the MTP tests compare
 * the drafter against them without a Python step in between. */
#ifndef GEMMASH_TEST_NPY_H
#define GEMMASH_TEST_NPY_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Load a '<f4' C-order array; *count gets the number of floats, dims[0..3]
 * the shape (missing dims 1).  Returns malloc'd data or NULL. */
static float *npy_load_f32(const char *path, size_t *count, long dims[4])
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char pre[10];
    float *out = NULL;
    char *hdr = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) goto done;
    size_t hl = pre[8] | (size_t)pre[9] << 8;
    if (pre[6] != 1) {                       /* version 2/3: 4-byte length */
        unsigned char ext[2];
        if (fread(ext, 1, 2, f) != 2) goto done;
        hl = hl | (size_t)ext[0] << 16 | (size_t)ext[1] << 24;
    }
    hdr = calloc(1, hl + 1);
    if (!hdr || fread(hdr, 1, hl, f) != hl) goto done;
    if (!strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True")) goto done;
    const char *sh = strstr(hdr, "'shape': (");
    if (!sh) goto done;
    sh += 10;
    size_t n = 1;
    for (int i = 0; i < 4; i++) dims[i] = 1;
    for (int i = 0; i < 4 && *sh && *sh != ')'; i++) {
        char *end;
        long v = strtol(sh, &end, 10);
        if (end == sh) break;
        dims[i] = v;
        n *= (size_t)v;
        sh = end;
        while (*sh == ',' || *sh == ' ') sh++;
    }
    out = malloc(n * sizeof *out + 1);
    if (out && fread(out, sizeof *out, n, f) != n) { free(out); out = NULL; }
    if (out) *count = n;
done:
    free(hdr);
    fclose(f);
    return out;
}
#endif
