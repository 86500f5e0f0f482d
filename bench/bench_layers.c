/* bench_layers.c: the matrix products of a Gemma 4 E2B forward pass alone,
 * with random BF16 weights, before (or beside) the whole model.
 *
 * Per layer: q, k, v, o projections (sliding layers 8 x 256 query heads and
 * one 256-wide KV head; every fifth layer full attention with 512-wide
 * heads), the gate/up/down MLP (6144 wide), the per-layer-input gate and
 * projection (256); per token also the per-layer model projection and the
 * tied 262144 x 1536 LM head.  Every matrix is its own memory, so decode
 * streams all the weights like the real model does.  Prints decode tokens/s,
 * its roofline ratio (weight bytes per token / time, over the read
 * bandwidth measured in this run) and the 512-token prefill rate as a
 * fraction of the FMA peak measured in this run.  Norms, attention and the
 * rest are not included: this is the kernels' share of the budget.
 * Usage: bench_layers [--layers N] [--threads N] [--runs N] [--tokens N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "measure.h"

#define HID 1536
#define FFN 6144
#define VOCAB 262144
#define PLE 256
#define MAXM 16

typedef struct { int64_t rows, cols; } shape;

/* The matrices one layer multiplies, in forward order. */
static int layer_shapes(int l, shape *s)
{
    int full = l % 5 == 4, hd = full ? 512 : 256, n = 0;
    s[n++] = (shape){ 8 * hd, HID };   /* q_proj */
    s[n++] = (shape){ hd, HID };       /* k_proj */
    s[n++] = (shape){ hd, HID };       /* v_proj */
    s[n++] = (shape){ HID, 8 * hd };   /* o_proj */
    s[n++] = (shape){ FFN, HID };      /* gate_proj */
    s[n++] = (shape){ FFN, HID };      /* up_proj */
    s[n++] = (shape){ HID, FFN };      /* down_proj */
    s[n++] = (shape){ PLE, HID };      /* per_layer_input_gate */
    s[n++] = (shape){ HID, PLE };      /* per_layer_projection */
    return n;
}

int main(int argc, char **argv)
{
    int layers = 6, threads = 0, runs = 3, ntok = 512;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--layers") && i + 1 < argc) layers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) ntok = atoi(argv[++i]);
        else { fprintf(stderr, "usage: bench_layers [--layers N] [--threads N] [--runs N] [--tokens N]\n"); return 2; }
    }
    if (layers < 1 || layers > 64 || runs < 1 || runs > 64 || ntok < 1) {
        fprintf(stderr, "bench_layers: need 1..64 layers, 1..64 runs, tokens >= 1\n");
        return 2;
    }
    gm_err err = {0};
    gm_pool *p = gm_pool_new(threads, &err);
    if (!p) { fprintf(stderr, "bench_layers: %s\n", err.msg); return 1; }

    /* all matrices, laid out end to end */
    gm_tensor *W = calloc((size_t)layers * MAXM + 2, sizeof *W);
    size_t total = 0;
    int nm = 0;
    for (int l = 0; l < layers; l++) {
        shape s[MAXM];
        int k = layer_shapes(l, s);
        for (int i = 0; i < k; i++, nm++) {
            W[nm] = (gm_tensor){ GM_TYPE_BF16, {s[i].cols, s[i].rows, 1}, (size_t)s[i].cols * 2,
                                 (size_t)s[i].cols * 2 * (size_t)s[i].rows, (const void *)total, "layer", NULL };
            total += W[nm].nbytes;
        }
    }
    int pmp = nm++;   /* per_layer_model_projection: (layers*256) x 1536 */
    W[pmp] = (gm_tensor){ GM_TYPE_BF16, {HID, (int64_t)layers * PLE, 1}, HID * 2, (size_t)HID * 2 * layers * PLE,
                          (const void *)total, "ple_model_proj", NULL };
    total += W[pmp].nbytes;
    int head = nm++;
    W[head] = (gm_tensor){ GM_TYPE_BF16, {HID, VOCAB, 1}, HID * 2, (size_t)HID * 2 * VOCAB, (const void *)total,
                           "lm_head", NULL };
    total += W[head].nbytes;
    uint16_t *buf = malloc(total);
    size_t ymax = (size_t)(layers * PLE > FFN ? layers * PLE : FFN);
    float *X = malloc((size_t)ntok * FFN * 4), *Y = malloc(((size_t)ntok * ymax + VOCAB) * 4);
    if (!W || !buf || !X || !Y) { fprintf(stderr, "bench_layers: out of memory for %zu MiB of weights\n", total >> 20); return 1; }
    for (int i = 0; i < nm; i++) W[i].data = (const char *)buf + (size_t)W[i].data;
    uint32_t h = 777;
    for (size_t i = 0; i < total / 2; i++) { h = h * 1664525u + 1013904223u; buf[i] = (uint16_t)(0x3c00 | (h >> 21) | (h & 0x8000)); }
    for (size_t i = 0; i < (size_t)ntok * FFN; i++) X[i] = (float)((i * 2654435761u) >> 22) / 1024.0f - 0.5f;

    /* Each run measures the machine right before using it: on a shared
     * machine what the others take changes from second to second. */
    gm_isa isa = gm_isa_default(), peak_isa = isa == GM_ISA_SCALAR ? GM_ISA_AVX2 : isa;
    double dec[64], pre[64], droof[64], pfrac[64], bws[64], fmas[64], flops = 0;
    for (int i = 0; i < nm; i++) flops += 2.0 * (double)W[i].ne[0] * W[i].ne[1] * (i == head ? 1 : ntok);
    for (int r = 0; r < runs; r++) {
        bws[r] = bench_read_bw(p, (size_t)1 << 30, 2);
        double t0 = bench_now();
        for (int i = 0; i < nm; i++) gm_matmul(p, &W[i], 0, X, W[i].ne[0], 1, Y, W[i].ne[1]);
        dec[r] = bench_now() - t0;
        droof[r] = total / dec[r] * 1e-9 / bws[r];
        fmas[r] = bench_fma_peak(p, peak_isa, 2);
        t0 = bench_now();
        for (int i = 0; i < nm; i++) {
            int n = i == head ? 1 : ntok;
            gm_matmul(p, &W[i], 0, X, W[i].ne[0], n, Y, W[i].ne[1]);
        }
        pre[r] = bench_now() - t0;
        pfrac[r] = flops / pre[r] * 1e-9 / fmas[r];
    }
    double d = bench_median(dec, runs), pf = bench_median(pre, runs), bw = bench_median(bws, runs);
    double fma = bench_median(fmas, runs);
    printf("# matmuls of an E2B-shaped forward pass: %d layers, %.0f MiB of BF16 weights, %d threads, kernels %s;"
           " medians of %d runs, each ratio taken against the bandwidth / FMA peak measured just before it\n",
           layers, total / 1048576.0, gm_pool_size(p), gm_isa_name(isa), runs);
    printf("decode   %.2f tokens/s  %.1f ms/token  %.1f GB/s; roofline ratio %.0f%% (read bandwidth %.1f GB/s)\n",
           1 / d, d * 1e3, total / d * 1e-9, 100 * bench_median(droof, runs), bw);
    printf("prefill  %.1f tokens/s (%d tokens)  %.1f GFLOP/s; %.0f%% of FMA peak (%.1f GFLOP/s %s)\n",
           ntok / pf, ntok, flops / pf * 1e-9, 100 * bench_median(pfrac, runs), fma, gm_isa_name(peak_isa));
    free(buf); free(X); free(Y); free(W);
    gm_pool_free(p);
    return 0;
}
