/* fuzz_gguf.c: libFuzzer target for the GGUF reader.  Any input must be
 * either accepted (and then every entry and tensor readable within the
 * buffer) or rejected with a message; never a crash or an out-of-bounds read.
 * Build: clang -g -O1 -fsanitize=fuzzer,address -Iengine tests/fuzz/fuzz_gguf.c
 *        engine/gguf.c engine/err.c engine/cpu/types.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gm_err err = {0};
    gm_gguf *g = gm_gguf_open_buf(data, size, "fuzz.gguf", &err);
    if (!g) {
        if (!err.msg[0]) abort();          /* a rejection must say why */
        return 0;
    }
    volatile double sink = 0;
    for (int64_t i = 0; i < g->n_kv; i++) {
        const gm_gguf_kv *kv = &g->kv[i];
        double d;
        for (uint64_t j = 0; j < kv->n && j < 64; j++)
            if (gm_gguf_num(kv, j, &d)) sink += d;
        if (kv->strs) for (uint64_t j = 0; j < kv->n; j++) sink += (double)strlen(kv->strs[j]);
        if (kv->str) sink += (double)strlen(kv->str);
        if (gm_gguf_find_kv(g, kv->key) != kv) abort();
    }
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const gm_tensor *t = &g->tensors[i].t;
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size) abort();
        if (t->nbytes) sink += p[0] + p[t->nbytes - 1];
    }
    (void)sink;
    gm_gguf_close(g);
    return 0;
}
