/* bench_model.c: end-to-end speed of a model through the public engine API.
 *
 * Loads a checkpoint, then several times: prefill a random prompt (512
 * tokens by default) and decode N tokens one at a time.  Prints medians of
 * prefill tokens/s and decode tokens/s, peak RSS, and the decode roofline
 * ratio: weight bytes read per token / time per token, over the memory
 * bandwidth measured in this same run (just before each decode).  Prefill
 * is also given as a fraction of the FMA peak measured just before it and,
 * when the layers' matrices are quantized, of the int8 peak (int8peak.c)
 * measured just before it too.  A last line splits the fastest prefill's
 * time by phase of the forward pass (gm_ctx_time_phases): the shares
 * compare from run to run on a shared machine, where the totals move.
 *
 * Usage: bench_model DIR [--threads N] [--prompt N] [--decode N] [--runs N]
 *                        [--label TEXT] [--header] [--quant q8_0|q4_0|q4_k|q5_k] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "measure.h"

/* Weight elements one token's forward pass multiplies (every matrix once,
 * the LM head included) when the model does not say: from the config. */
static double params_per_token(const gm_config *c, double *lm_head, double *rows_read)
{
    double H = c->hidden, P = c->ple_dim, total = 0;
    for (int l = 0; l < c->n_layers; l++) {
        double hd = c->head_dim_l[l], nkv = c->n_kv_heads_l[l], q = (double)c->n_heads * hd;
        total += 2 * H * q;                                   /* q_proj, o_proj */
        if (c->kv_source[l] == l)                             /* owns its K/V */
            total += H * nkv * hd * ((c->k_eq_v && c->is_full[l]) ? 1 : 2);
        total += 3 * H * c->ffn_width[l];                     /* gate, up, down */
        if (c->moe) total += H * c->n_experts + 3.0 * H * c->moe_inter * c->top_k_experts;
        if (P > 0) total += 2 * H * P;                        /* PLE gate, projection */
    }
    if (P > 0) total += H * P * c->n_layers;                  /* per_layer_model_projection */
    *lm_head = (double)c->vocab * H;
    *rows_read = H + (P > 0 ? P * c->n_layers : 0);           /* one embedding + one PLE row */
    return total;
}

/* Attention multiply-adds of a causal prefill of n tokens (scores and values). */
static double attn_flops(const gm_config *c, int n)
{
    double f = 0;
    for (int l = 0; l < c->n_layers; l++) {
        double keys = 0;
        for (int t = 0; t < n; t++) keys += (c->is_full[l] || t < c->sliding_window) ? t + 1 : c->sliding_window;
        f += 2.0 * 2.0 * c->n_heads * c->head_dim_l[l] * keys;
    }
    return f;
}

/* Bytes of K and V rows one decode step at position pos reads: every layer
 * reads its source layer's cache over its span (the window for a sliding
 * layer), elt bytes an element.  At 512 tokens this is small next to the
 * weights; at long contexts it is not. */
static double kv_read_bytes(const gm_config *c, int pos, double elt)
{
    double b = 0;
    for (int l = 0; l < c->n_layers; l++) {
        int keys = c->is_full[l] || pos + 1 < c->sliding_window ? pos + 1 : c->sliding_window;
        b += 2.0 * keys * c->n_kv_heads_l[l] * c->head_dim_l[l] * elt;
    }
    return b;
}

/* Peak of read bandwidth measured on a short-lived pool (its threads must
 * not spin next to the model's). */
static double measure_bw(int threads)
{
    gm_err err = {0};
    gm_pool *p = gm_pool_new(threads, &err);
    if (!p) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
    double bw = bench_read_bw(p, (size_t)1 << 30, 2);
    gm_pool_free(p);
    return bw;
}

/* FMA peak of isa on a short-lived pool, GFLOP/s. */
static double measure_fma(int threads, gm_isa isa)
{
    gm_err err = {0};
    gm_pool *p = gm_pool_new(threads, &err);
    if (!p) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
    double g = bench_fma_peak(p, isa, 2);
    gm_pool_free(p);
    return g;
}

/* int8 peak on a short-lived pool, GOP/s. */
static double measure_int8(int threads)
{
    gm_err err = {0};
    gm_pool *p = gm_pool_new(threads, &err);
    if (!p) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
    double g = bench_int8_peak(p, 0.2, NULL);
    gm_pool_free(p);
    return g;
}

/* Whether most of the layers' matrix bytes are of a quantized type, from
 * the model's description (NULL: no). */
static int mostly_quantized(const cJSON *d)
{
    double q = 0, all = 0;
    const cJSON *t;
    if (d) cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(d, "matrix_types")) {
        all += t->valuedouble;
        if (strcmp(t->string, "F32") && strcmp(t->string, "F16") && strcmp(t->string, "BF16")) q += t->valuedouble;
    }
    return q > all / 2;
}

/* Parse the options, measure, print. */
int main(int argc, char **argv)
{
    const char *dir = NULL, *label = NULL;
    const char *quant = NULL;   /* --quant: quantize at load */
    int kv = GM_KV_DEFAULT;     /* --kv-type */
    int threads = 0, n_prompt = 512, n_decode = 16, runs = 3, header = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--prompt") && i + 1 < argc) n_prompt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--decode") && i + 1 < argc) n_decode = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--label") && i + 1 < argc) label = argv[++i];
        else if (!strcmp(argv[i], "--header")) header = 1;
        else if (!strcmp(argv[i], "--quant") && i + 1 < argc) quant = argv[++i];
        else if (!strcmp(argv[i], "--kv-type") && i + 1 < argc && (kv = gm_kv_type_from_name(argv[++i])) >= 0) continue;
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else { fprintf(stderr, "usage: bench_model DIR [--threads N] [--prompt N] [--decode N] [--runs N] [--label TEXT] [--header] [--kv-type f16|f32]\n"); return 2; }
    }
    if (!dir || n_prompt < 1 || n_decode < 1 || runs < 1 || runs > 64) {
        fprintf(stderr, "bench_model: give a model folder, and positive --prompt/--decode, 1..64 --runs\n");
        return 2;
    }
    gm_isa peak_isa = gm_isa_default() == GM_ISA_SCALAR ? GM_ISA_AVX2 : gm_isa_default();
    gm_err err = {0};
    gm_load_opts lo = { .threads = threads, .quant = quant, .kv_type = (gm_kv_type)kv };
    double t0 = bench_now();
    gm_model *m = gm_model_load(dir, &lo, &err);
    if (!m) { fprintf(stderr, "bench_model: cannot load %s: %s\n", dir, err.msg); return 1; }
    double load_s = bench_now() - t0;
    const gm_config *cfg = gm_model_config(m);
    gm_ctx *c = gm_ctx_new(m, n_prompt + n_decode + 8, &err);
    if (!c) { fprintf(stderr, "bench_model: context for %d tokens: %s\n", n_prompt + n_decode, err.msg); return 1; }
    int32_t *toks = malloc(sizeof *toks * (size_t)(n_prompt + n_decode));
    float *logits = malloc(sizeof *logits * (size_t)cfg->vocab);
    if (!toks || !logits) { fprintf(stderr, "bench_model: out of memory\n"); return 1; }
    uint64_t s = 42;
    for (int i = 0; i < n_prompt + n_decode; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        toks[i] = 3 + (int32_t)((s >> 33) % (uint64_t)(cfg->vocab - 3));
    }

    /* Each run measures the machine right before using it (FMA peak before
     * the prefill, bandwidth before the decode): on a shared machine what the
     * others take changes from second to second. */
    double pre[64], dec[64], bws[64], fmas[64], int8s[64];
    /* where the fastest prefill's time went (gm_ctx_time_phases) */
    const char *ph_names[GM_PHASES];
    double ph[GM_PHASES], ph_best[GM_PHASES] = {0}, fastest = 1e300;
    /* bytes of weights per decode token: the model's own count if it gives
     * one; and whether to read prefill against the int8 peak too */
    double lm, rows_read, params = params_per_token(cfg, &lm, &rows_read);
    double bpw = 2.0;   /* BF16 unless the model says otherwise */
    double wbytes = (params + lm + rows_read) * bpw;
    const char *wsrc = "config";
    cJSON *d = gm_model_describe(m, n_prompt + n_decode);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(d, "weight_bytes_per_token");
    if (cJSON_IsNumber(w) && w->valuedouble > 0) { wbytes = w->valuedouble; wsrc = "model"; }
    /* and the cache the decode steps read, at their middle position */
    const char *kvt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "kv_type"));
    wbytes += kv_read_bytes(cfg, n_prompt + n_decode / 2, kvt && !strcmp(kvt, "f32") ? 4.0 : 2.0);
    int quantized = mostly_quantized(d);
    cJSON_Delete(d);
    for (int r = 0; r < runs; r++) {
        if (gm_ctx_truncate(c, 0, &err) != 0) { fprintf(stderr, "bench_model: truncate: %s\n", err.msg); return 1; }
        fmas[r] = measure_fma(threads, peak_isa);
        int8s[r] = quantized ? measure_int8(threads) : -1;
        gm_ctx_time_phases(c, true);
        t0 = bench_now();
        if (gm_ctx_eval(c, toks, n_prompt, logits, false, &err) != 0) {
            fprintf(stderr, "bench_model: prefill of %d tokens: %s\n", n_prompt, err.msg); return 1;
        }
        pre[r] = bench_now() - t0;
        gm_ctx_phase_times(c, ph_names, ph, GM_PHASES);
        gm_ctx_time_phases(c, false);
        if (pre[r] < fastest) {
            fastest = pre[r];
            memcpy(ph_best, ph, sizeof ph);
        }
        bws[r] = measure_bw(threads);
        t0 = bench_now();
        for (int i = 0; i < n_decode; i++)
            if (gm_ctx_eval(c, toks + n_prompt + i, 1, logits, false, &err) != 0) {
                fprintf(stderr, "bench_model: decode step %d: %s\n", i, err.msg); return 1;
            }
        dec[r] = (bench_now() - t0) / n_decode;
    }

    double pflop = 2.0 * params * n_prompt + 2.0 * lm + attn_flops(cfg, n_prompt);
    double roof[64], frac[64], ifrac[64];
    for (int r = 0; r < runs; r++) {
        roof[r] = wbytes / dec[r] * 1e-9 / bws[r];
        frac[r] = pflop / pre[r] * 1e-9 / fmas[r];
        ifrac[r] = int8s[r] > 0 ? pflop / pre[r] * 1e-9 / int8s[r] : -1;
    }
    double pre_s = bench_median(pre, runs), dec_s = bench_median(dec, runs);
    double bw = bench_median(bws, runs), fma = bench_median(fmas, runs), i8 = bench_median(int8s, runs);
    double roof_m = bench_median(roof, runs), frac_m = bench_median(frac, runs);
    double ifrac_m = bench_median(ifrac, runs);
    char icol[16] = "-", inote[96] = "";
    if (ifrac_m > 0) {
        snprintf(icol, sizeof icol, "%.0f%%", 100 * ifrac_m);
        snprintf(inote, sizeof inote, "; int8 peak %.0f GOP/s", i8);
    }

    if (header)
        printf("%-22s %9s %9s %8s %9s %8s %8s %7s %7s %8s\n", "model", "prefill", "decode", "ms/tok",
               "RSS MiB", "MB/tok", "roofline", "%FMA", "%int8", "load s");
    printf("%-22s %9.1f %9.2f %8.1f %9.0f %8.1f %7.0f%% %6.0f%% %7s %8.1f\n", label ? label : dir,
           n_prompt / pre_s, 1.0 / dec_s, dec_s * 1e3, bench_peak_rss_mib(), wbytes / 1e6,
           100 * roof_m, 100 * frac_m, icol, load_s);
    printf("# %s: %d layers, %d threads, kernels %s; prefill %d tokens %.3f s (%.1f GFLOP/s; FMA peak %.1f%s); "
           "decode %.2f ms/token -> %.1f GB/s (read bandwidth %.1f GB/s); weight bytes/token from the %s, plus the KV "
           "cache read; "
           "medians of %d runs, each ratio against the machine measured just before it\n",
           label ? label : dir, cfg->n_layers, threads ? threads : gm_physical_cores(), gm_kernel_isa(), n_prompt, pre_s,
           pflop / pre_s * 1e-9, fma, inote, dec_s * 1e3, wbytes / dec_s * 1e-9, bw, wsrc, runs);
    printf("# %s: the fastest prefill (%.3f s) by phase:", label ? label : dir, fastest);
    for (int k = 0; k < GM_PHASES; k++)
        if (ph_best[k] > 0) printf(" %s %.1f%%", ph_names[k], 100 * ph_best[k] / fastest);
    printf("\n");
    free(toks); free(logits);
    gm_ctx_free(c);
    gm_model_free(m);
    return 0;
}
