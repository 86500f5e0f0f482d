/* cmd_engine.c: the engine's own commands: generate, render, logits, info.
 *
 * They drive the engine directly, without the agent loop, so a model can be
 * checked, measured and debugged on its own.  Each prints a man-page style
 * --help and returns the exit codes of README.md. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "engine.h"
#include "cli.h"
#include "mstore.h"

/* ---- shared option handling ------------------------------------------------- */

int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "gemmash %s: %s wants a whole number from %ld to %ld, got '%s'\n", cmd, opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_float(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v >= lo && v <= hi)) {
        fprintf(stderr, "gemmash %s: %s wants a number from %g to %g, got '%s'\n", cmd, opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Read all of stdin (or a file) into a NUL-terminated buffer. */
char *cli_slurp(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); return NULL; }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0) break;
        n += r;
    }
    if (ferror(f)) { free(buf); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

int cli_parse_kv(const char *cmd, const char *s, gm_kv_type *out)
{
    int t = gm_kv_type_from_name(s);
    if (t < 0) {
        fprintf(stderr, "gemmash %s: --kv-type wants f16 or f32, got '%s'\n", cmd, s);
        return -1;
    }
    *out = (gm_kv_type)t;
    return 0;
}

gm_model *cli_load_model(const char *cmd, const char *path, int threads, const char *quant, gm_kv_type kv)
{
    if (!path) {
        fprintf(stderr, "gemmash %s: no model given; use -m MODEL (a checkpoint folder, a .gguf file, or a "
                "name from 'gemmash models')\n", cmd);
        return NULL;
    }
    char real[4608], rerr[1024];
    if (ms_resolve(path, real, sizeof real, rerr, sizeof rerr)) {
        fprintf(stderr, "gemmash %s: %s\n", cmd, rerr);
        return NULL;
    }
    gm_err err = {0};
    gm_load_opts o = {.threads = threads, .quant = quant, .kv_type = kv};
    gm_model *m = gm_model_load(real, &o, &err);
    if (!m) fprintf(stderr, "gemmash %s: %s\n", cmd, err.msg);
    return m;
}

/* Parse "2,105,3" / "2 105 3" / "[2, 105, 3]" into ids. */
int cli_parse_ids(const char *s, int32_t **ids, size_t *n)
{
    size_t cap = 64;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids) return -1;
    while (*s) {
        while (*s && strchr("[], \t\r\n", *s)) s++;
        if (!*s) break;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > INT32_MAX) { free(*ids); *ids = NULL; return -1; }
        if (*n == cap) {
            int32_t *ni = realloc(*ids, cap * 2 * sizeof *ni);
            if (!ni) { free(*ids); *ids = NULL; return -1; }
            *ids = ni;
            cap *= 2;
        }
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
        if (*s && !strchr("[], \t\r\n", *s)) { free(*ids); *ids = NULL; return -1; }
    }
    return 0;
}

/* ---- gemmash logits -------------------------------------------------------------- */

static void logits_usage(FILE *f)
{
    fputs("NAME\n    gemmash logits - write the model's logits for a token sequence\n\n"
          "SYNOPSIS\n    gemmash logits -m MODEL --tokens IDS --out FILE [--step N] [--threads N] [--quant TYPE]\n"
          "                   [--kv-type f16|f32]\n\n"
          "DESCRIPTION\n"
          "    Runs IDS (comma-separated token ids, e.g. 2,105,2364) through the model from an\n"
          "    empty cache and writes float32 little-endian logits, one row of vocab floats per\n"
          "    position, after the final softcap.  --step N feeds N tokens per forward pass\n"
          "    (default: all at once, a batched prefill; 1: token by token, as decoding does).\n"
          "    --hidden FILE also writes the post-norm hidden states [tokens x hidden].\n"
          "    --quant q8_0|q4_0|q4_k|q5_k|q4_1|q3_k|q2_k|iq4_nl|iq4_xs quantizes a\n    checkpoint's matrices at load.\n"
          "    --kv-type f32 keeps the KV cache in float32 (default f16, as in chat), so the\n"
          "    logits can be held against a float reference.\n", f);
}

int cmd_logits(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"tokens", 1, 0, 't'}, {"out", 1, 0, 'o'}, {"step", 1, 0, 's'},
        {"threads", 1, 0, 'j'}, {"hidden", 1, 0, 'H'}, {"quant", 1, 0, 'q'}, {"kv-type", 1, 0, 'K'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *toks = NULL, *out = NULL, *hid = NULL, *quant = NULL;
    gm_kv_type kv = GM_KV_DEFAULT;
    long step = 0, threads = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:t:o:s:j:H:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 't': toks = optarg; break;
        case 'o': out = optarg; break;
        case 'H': hid = optarg; break;
        case 'q': quant = optarg; break;
        case 'K': if (cli_parse_kv("logits", optarg, &kv)) return GM_EXIT_USAGE; break;
        case 's': if (cli_parse_int("logits", "--step", optarg, 1, 1 << 20, &step)) return GM_EXIT_USAGE; break;
        case 'j': if (cli_parse_int("logits", "--threads", optarg, 1, 512, &threads)) return GM_EXIT_USAGE; break;
        case 'h': logits_usage(stdout); return GM_EXIT_OK;
        default: logits_usage(stderr); return GM_EXIT_USAGE;
        }
    }
    if (!toks || !out) {
        fprintf(stderr, "gemmash logits: --tokens and --out are required\n");
        return GM_EXIT_USAGE;
    }
    int32_t *ids;
    size_t n;
    if (cli_parse_ids(toks, &ids, &n) || n == 0) {
        fprintf(stderr, "gemmash logits: --tokens wants comma-separated token ids, got '%s'\n", toks);
        return GM_EXIT_USAGE;
    }
    gm_model *m = cli_load_model("logits", model, (int)threads, quant, kv);
    if (!m) { free(ids); return GM_EXIT_MODEL; }
    int rc = GM_EXIT_MODEL, V = gm_model_config(m)->vocab, H = gm_model_config(m)->hidden;
    gm_err err = {0};
    float *lg = malloc(n * (size_t)V * sizeof *lg), *hs = hid ? malloc(n * (size_t)H * sizeof *hs) : NULL;
    gm_ctx *ctx = gm_ctx_new(m, 0, &err);
    FILE *f = NULL;
    if (!lg || (hid && !hs) || !ctx) {
        fprintf(stderr, "gemmash logits: %s\n", ctx ? "out of memory" : err.msg);
        goto done;
    }
    size_t st = step ? (size_t)step : n;
    for (size_t i = 0; i < n; i += st) {
        size_t b = n - i < st ? n - i : st;
        if (gm_ctx_eval(ctx, ids + i, (int)b, lg + i * (size_t)V, true, &err)) {
            fprintf(stderr, "gemmash logits: %s\n", err.msg);
            goto done;
        }
        if (hs) {
            int rows;
            const float *h = gm_ctx_hidden(ctx, &rows);
            memcpy(hs + i * (size_t)H, h, b * (size_t)H * sizeof *hs);
        }
    }
    const char *paths[2] = {out, hid};
    float *bufs[2] = {lg, hs};
    size_t cnt[2] = {n * (size_t)V, n * (size_t)H};
    for (int k = 0; k < 2; k++) {
        if (!paths[k]) continue;
        f = fopen(paths[k], "wb");
        if (!f || fwrite(bufs[k], sizeof(float), cnt[k], f) != cnt[k] || fclose(f) != 0) {
            fprintf(stderr, "gemmash logits: cannot write %s: %s\n", paths[k], strerror(errno));
            f = NULL;
            rc = GM_EXIT_INTERNAL;
            goto done;
        }
        f = NULL;
    }
    rc = GM_EXIT_OK;
done:
    gm_ctx_free(ctx);
    gm_model_free(m);
    free(lg);
    free(hs);
    free(ids);
    return rc;
}

/* ---- gemmash info ------------------------------------------------------------------ */

static void info_usage(FILE *f)
{
    fputs("NAME\n    gemmash info - describe a model\n\n"
          "SYNOPSIS\n    gemmash info -m MODEL [--ctx N] [--json] [--quant TYPE] [--kv-type f16|f32]\n\n"
          "DESCRIPTION\n"
          "    Prints the architecture, the layer plan (attention type, head size, KV heads,\n"
          "    which layer's cache each layer reads, MLP width), parameter counts, the\n"
          "    bytes of the layers' matrices per weight type (a Q4_K_M file mixes Q4_K and\n"
          "    Q6_K), and the memory the model will use: mapped weights plus the KV cache\n"
          "    at --ctx tokens (default: the model's limit) with --kv-type elements (default\n"
          "    f16).  --json prints the same as one JSON object.\n", f);
}

static void human_bytes(char *b, size_t n, double v)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    snprintf(b, n, "%.1f %s", v, u[i]);
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"ctx", 1, 0, 'c'}, {"json", 0, 0, 'J'}, {"quant", 1, 0, 'q'},
        {"kv-type", 1, 0, 'K'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *quant = NULL;
    gm_kv_type kv = GM_KV_DEFAULT;
    long ctx = 0;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'c': if (cli_parse_int("info", "--ctx", optarg, 1, 1 << 24, &ctx)) return GM_EXIT_USAGE; break;
        case 'J': json = 1; break;
        case 'q': quant = optarg; break;
        case 'K': if (cli_parse_kv("info", optarg, &kv)) return GM_EXIT_USAGE; break;
        case 'h': info_usage(stdout); return GM_EXIT_OK;
        default: info_usage(stderr); return GM_EXIT_USAGE;
        }
    }
    gm_model *m = cli_load_model("info", model, 1, quant, kv);
    if (!m) return GM_EXIT_MODEL;
    cJSON *d = gm_model_describe(m, (int)ctx);
    if (!d) { gm_model_free(m); fprintf(stderr, "gemmash info: out of memory\n"); return GM_EXIT_INTERNAL; }
    if (json) {
        char *s = cJSON_PrintUnformatted(d);
        if (s) puts(s);
        free(s);
    } else {
        const gm_config *cf = gm_model_config(m);
        char a[32], b[32], k[32], mem[32];
        human_bytes(a, sizeof a, cJSON_GetObjectItem(d, "weight_bytes")->valuedouble);
        human_bytes(b, sizeof b, cJSON_GetObjectItem(d, "weight_bytes_per_token")->valuedouble);
        human_bytes(k, sizeof k, cJSON_GetObjectItem(d, "kv_bytes_per_token_full")->valuedouble);
        human_bytes(mem, sizeof mem, cJSON_GetObjectItem(d, "memory_at_context")->valuedouble);
        printf("model        %s\narchitecture gemma4, %s, %s chat template\n", model,
               cJSON_GetObjectItem(d, "variant")->valuestring, cJSON_GetObjectItem(d, "chat_family")->valuestring);
        printf("geometry     vocab %d, hidden %d, %d layers, %d query heads, window %d, context %d\n",
               cf->vocab, cf->hidden, cf->n_layers, cf->n_heads, cf->sliding_window, cf->max_pos);
        printf("parameters   %.3g in layers, %.3g embedding, %.3g per-layer embedding\n",
               cJSON_GetObjectItem(d, "params_layers")->valuedouble,
               cJSON_GetObjectItem(d, "params_embedding")->valuedouble,
               cJSON_GetObjectItem(d, "params_per_layer_embedding")->valuedouble);
        printf("weights      %s mapped, %s read per generated token\n", a, b);
        const cJSON *ty;
        printf("matrices    ");
        cJSON_ArrayForEach(ty, cJSON_GetObjectItem(d, "matrix_types")) {
            char tb[32];
            human_bytes(tb, sizeof tb, ty->valuedouble);
            printf(" %s %s%s", ty->string, tb, ty->next ? "," : "");
        }
        printf("\n");
        printf("kv cache     %s, %s per token (full layers) + %.1f MiB sliding rings\n",
               cJSON_GetObjectItem(d, "kv_type")->valuestring, k,
               cJSON_GetObjectItem(d, "kv_bytes_sliding_rings")->valuedouble / 1048576.0);
        printf("memory       %s at %d tokens of context\n", mem, (int)cJSON_GetObjectItem(d, "context")->valuedouble);
        printf("compute      %d threads, %s kernels, %s quantized kernels\nlayers\n",
               (int)cJSON_GetObjectItem(d, "threads")->valuedouble, cJSON_GetObjectItem(d, "kernels")->valuestring,
               cJSON_GetObjectItem(d, "quantized_kernels")->valuestring);
        for (int l = 0; l < cf->n_layers; l++)
            printf("  %3d  %-7s head %4d  kv heads %3d  kv from %3d  mlp %6d\n", l,
                   cf->is_full[l] ? "full" : "sliding", cf->head_dim_l[l], cf->n_kv_heads_l[l],
                   cf->kv_source[l], cf->ffn_width[l]);
    }
    cJSON_Delete(d);
    gm_model_free(m);
    return GM_EXIT_OK;
}
