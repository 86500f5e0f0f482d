/* Conversion to GGUF and the GGUF weight source, on the tiny reference
 * checkpoints: convert each fixture (read here through a minimal
 * single-file safetensors reader) at several types, reopen the file with
 * gm_source_open_gguf, and check that the synthesized config equals the
 * checkpoint's config.json, that every tensor comes back by its HF name with
 * its shape (and, for f32, its exact bytes), that quantized tensors decode
 * close to the originals, that the tokenizer encodes like tokenizer.json,
 * and that converting the GGUF again reproduces the file bit for bit. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "gguf.h"
#include "quant.h"
#include "source.h"

/* ---- a minimal reader for one F32/BF16 safetensors file --------------------------- */

typedef struct {
    gm_source base;
    void *map; size_t size;
    cJSON *hdr;
    gm_tensor t[512]; char names[512][128]; int n;
} st_source;

static const gm_tensor *st_find(gm_source *s, const char *name)
{
    st_source *st = (st_source *)s;
    for (int i = 0; i < st->n; i++) if (!strcmp(st->names[i], name)) return &st->t[i];
    char full[160];
    snprintf(full, sizeof full, "model.%s", name);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(st->hdr, full);
    if (!e || st->n == 512) return NULL;
    const char *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype")->valuestring;
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape"), *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    gm_tensor *t = &st->t[st->n];
    memset(t, 0, sizeof *t);
    t->type = !strcmp(dtype, "F32") ? GM_TYPE_F32 : GM_TYPE_BF16;
    int nd = cJSON_GetArraySize(shape);
    t->ne[0] = t->ne[1] = t->ne[2] = 1;
    for (int d = 0; d < nd; d++) t->ne[d] = (int64_t)cJSON_GetArrayItem(shape, nd - 1 - d)->valuedouble;
    uint64_t hlen;
    memcpy(&hlen, st->map, 8);
    t->data = (char *)st->map + 8 + hlen + (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
    t->row_bytes = gm_type_row_bytes(t->type, t->ne[0]);
    t->nbytes = t->row_bytes * (size_t)(t->ne[1] * t->ne[2]);
    snprintf(st->names[st->n], 128, "%s", name);
    t->name = st->names[st->n];
    return &st->t[st->n++];
}

static void st_free(gm_source *s)
{
    st_source *st = (st_source *)s;
    cJSON_Delete(st->hdr);
    cJSON_Delete(s->config);
    munmap(st->map, st->size);
    free(st);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) == (size_t)n) b[n] = 0;
    fclose(f);
    return b;
}

static gm_source *st_open(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    int fd = open(p, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat sb;
    fstat(fd, &sb);
    st_source *st = calloc(1, sizeof *st);
    st->size = (size_t)sb.st_size;
    st->map = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    uint64_t hlen;
    memcpy(&hlen, st->map, 8);
    st->hdr = cJSON_ParseWithLength((char *)st->map + 8, (size_t)hlen);
    snprintf(p, sizeof p, "%s/config.json", dir);
    char *c = slurp(p);
    st->base.config = cJSON_Parse(c);
    free(c);
    st->base.find = st_find;
    st->base.free = st_free;
    st->base.path = dir;
    return &st->base;
}

/* ---- checks ---------------------------------------------------------------------- */

static bool same_json(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNull(a) || !a) return !b || cJSON_IsNull(b) || (cJSON_IsNumber(b) && b->valuedouble == 0);
    if (cJSON_IsNumber(a)) return cJSON_IsNumber(b) && fabs(a->valuedouble - b->valuedouble) <= 1e-6 * fabs(a->valuedouble);
    return cJSON_Compare(a, b, true);
}

static void check_config(const char *name, const cJSON *want, const cJSON *got)
{
    static const char *const keys[] = {
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
        "num_global_key_value_heads", "attention_k_eq_v", "head_dim", "global_head_dim", "intermediate_size",
        "use_double_wide_mlp", "num_kv_shared_layers", "hidden_size_per_layer_input", "vocab_size_per_layer_input",
        "sliding_window", "max_position_embeddings", "rms_norm_eps", "final_logit_softcapping", "tie_word_embeddings",
        "enable_moe_block", "num_experts", "top_k_experts", "moe_intermediate_size", "layer_types", "rope_parameters",
        "bos_token_id", "pad_token_id",
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(want, keys[i]), *b = cJSON_GetObjectItemCaseSensitive(got, keys[i]);
        if (!strcmp(keys[i], "rope_parameters")) {
            const char *ty[2] = {"sliding_attention", "full_attention"};
            for (int k = 0; k < 2; k++) {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, ty[k]), *y = cJSON_GetObjectItemCaseSensitive(b, ty[k]);
                const char *f[3] = {"rope_theta", "rope_type", "partial_rotary_factor"};
                for (int j = 0; j < 3; j++)
                    if (cJSON_GetObjectItemCaseSensitive(x, f[j]) &&
                        !same_json(cJSON_GetObjectItemCaseSensitive(x, f[j]), cJSON_GetObjectItemCaseSensitive(y, f[j]))) {
                        printf("# %s: rope_parameters.%s.%s differs\n", name, ty[k], f[j]);
                        bad++;
                    }
            }
        } else if (!same_json(a, b)) {
            char *sa = a ? cJSON_PrintUnformatted(a) : NULL, *sb = b ? cJSON_PrintUnformatted(b) : NULL;
            printf("# %s: %s: config.json %s, from GGUF %s\n", name, keys[i], sa ? sa : "absent", sb ? sb : "absent");
            free(sa); free(sb);
            bad++;
        }
    }
    CHECK(bad == 0, "%s: config synthesized from GGUF metadata equals config.json on %zu keys (%d differ)",
          name, sizeof keys / sizeof keys[0], bad);
}

/* Count tensors of type t in a GGUF file; with odd, only those whose rows
 * are not a multiple of 256 (where a K type cannot go). */
static int count_rows(const char *path, gm_type t, bool odd)
{
    gm_err err = {0};
    gm_gguf *g = gm_gguf_open(path, &err);
    int n = 0;
    for (int64_t i = 0; g && i < g->n_tensors; i++)
        n += g->tensors[i].t.type == t && (!odd || g->tensors[i].t.ne[0] % 256 != 0);
    gm_gguf_close(g);
    return n;
}

static int count_type(const char *path, gm_type t) { return count_rows(path, t, false); }

static void one_case(const char *dir, const char *name, gm_pool *pool, bool wide)
{
    char tokjson[600], out[512], out2[600];
    snprintf(tokjson, sizeof tokjson, "%s/tokenizer.json", dir);
    gm_source *hf = st_open(dir);
    CHECK(hf && hf->config, "%s: the checkpoint opens", name);
    if (!hf) return;
    const char *types[] = {"f32", "q8_0", "q4_k_m", "bf16"};
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        gm_err err = {0};
        snprintf(out, sizeof out, "%s/gemmash_conv_%d_%s_%s.gguf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                 (int)getpid(), name, types[ti]);
        int rc = gm_gguf_convert(hf, tokjson, out, types[ti], pool, false, &err);
        CHECK(rc == 0, "%s: convert --type %s (%s)", name, types[ti], err.msg);
        gm_source *gs = gm_source_open_gguf(out, &err);
        CHECK(gs != NULL, "%s/%s: the converted file opens as a GGUF source (%s)", name, types[ti], gs ? "" : err.msg);
        if (!gs) continue;
        if (ti == 0) check_config(name, hf->config, gs->config);
        if (wide && ti == 1)
            CHECK(count_type(out, GM_TYPE_Q8_0) >= 10, "%s/q8_0: the 256-wide matrices are stored as Q8_0 (%d)",
                  name, count_type(out, GM_TYPE_Q8_0));
        if (wide && ti == 2) {
            /* llama.cpp's mix, with its fallbacks where a row is not a
             * multiple of 256: Q5_0 for Q4_K, Q8_0 for Q6_K */
            int q4k = count_type(out, GM_TYPE_Q4_K), q6k = count_type(out, GM_TYPE_Q6_K);
            int q50 = count_type(out, GM_TYPE_Q5_0), q80 = count_rows(out, GM_TYPE_Q8_0, true);
            CHECK(q4k >= 5 && q6k >= 1 && q6k + q80 >= 2 && q50 == count_rows(out, GM_TYPE_Q5_0, true),
                  "%s/q4_k_m: a Q4_K/Q6_K mix like llama.cpp's Q4_K_M (%d Q4_K, %d Q6_K; fallbacks on rows "
                  "not a multiple of 256: %d Q5_0, %d Q8_0)", name, q4k, q6k, q50, q80);
        }
        /* every tensor the checkpoint has comes back with its shape */
        int n = 0, shape_bad = 0, data_bad = 0;
        double worst = 0;
        for (int layer = -1; layer < 64; layer++)
            for (int i = 0; i < gm_gguf_hf_name_count(); i++) {
                char hfn[160];
                if (gm_gguf_hf_name_at(i, layer, hfn, sizeof hfn)) continue;
                const gm_tensor *a = hf->find(hf, hfn), *b = gs->find(gs, hfn);
                if (!a) continue;
                n++;
                if (!b || memcmp(a->ne, b->ne, sizeof a->ne)) { shape_bad++; continue; }
                if (ti == 0) { data_bad += a->nbytes != b->nbytes || memcmp(a->data, b->data, a->nbytes); continue; }
                float *x = malloc(sizeof(float) * (size_t)a->ne[0]), *y = malloc(sizeof(float) * (size_t)a->ne[0]);
                for (int64_t r = 0; r < a->ne[1] * a->ne[2]; r++) {
                    gm_dequantize_row(a->type, (const char *)a->data + (size_t)r * a->row_bytes, x, a->ne[0]);
                    gm_dequantize_row(b->type, (const char *)b->data + (size_t)r * b->row_bytes, y, b->ne[0]);
                    double e2 = 0, x2 = 1e-30;
                    for (int64_t k = 0; k < a->ne[0]; k++) { e2 += (x[k] - y[k]) * (x[k] - y[k]); x2 += x[k] * x[k]; }
                    if (sqrt(e2 / x2) > worst) worst = sqrt(e2 / x2);
                }
                free(x); free(y);
            }
        CHECK(n > 10 && shape_bad == 0, "%s/%s: all %d checkpoint tensors found by HF name with their shapes (%d wrong)",
              name, types[ti], n, shape_bad);
        if (ti == 0) CHECK(data_bad == 0, "%s/f32: every tensor is byte-identical to the checkpoint", name);
        /* Q4_K rows have relative RMS error ~0.06 (see test_quant_blocks); Q8_0 ~0.004; BF16 ~0.002 */
        else CHECK(worst < (ti == 2 ? 0.12 : 0.01), "%s/%s: worst row relative RMS error %.4f", name, types[ti], worst);
        /* the tokenizer from GGUF arrays encodes like tokenizer.json */
        gm_tokenizer *tj = gm_tok_load_json(tokjson, &err);
        const char *text = "<|turn>user\nHello, world! 12 + 30 = 42\n<turn|>";
        int32_t *i1 = NULL, *i2 = NULL;
        size_t n1 = 0, n2 = 0;
        int e1 = gm_tok_encode(tj, text, strlen(text), true, &i1, &n1, &err);
        int e2 = gm_tok_encode(gs->tok, text, strlen(text), true, &i2, &n2, &err);
        CHECK(tj && !e1 && !e2 && n1 == n2 && n1 > 0 && !memcmp(i1, i2, n1 * sizeof *i1),
              "%s/%s: GGUF vocabulary encodes a chat snippet like tokenizer.json (%zu tokens)", name, types[ti], n1);
        free(i2);
        /* gm_tok_load_gguf (tokenize -m FILE.gguf) reads the same vocabulary */
        gm_tokenizer *tg = gm_tok_load_gguf(out, &err);
        int32_t *i3 = NULL;
        size_t n3 = 0;
        int e3 = tg ? gm_tok_encode(tg, text, strlen(text), true, &i3, &n3, &err) : -1;
        CHECK(tg && !e3 && n3 == n1 && i1 && !memcmp(i1, i3, n1 * sizeof *i1) &&
              gm_tok_vocab_size(tg) == gm_tok_vocab_size(gs->tok),
              "%s/%s: gm_tok_load_gguf gives the same tokenizer without the weights", name, types[ti]);
        free(i1); free(i3);
        gm_tok_free(tg);
        gm_tok_free(tj);
        if (ti == 2) {
            /* converting the GGUF again at the same type reproduces the file */
            snprintf(out2, sizeof out2, "%s.again", out);
            rc = gm_gguf_convert(gs, tokjson, out2, types[ti], pool, false, &err);
            char *a = NULL, *b = NULL;
            size_t la = 0, lb = 0;
            FILE *fa = fopen(out, "rb"), *fb = fopen(out2, "rb");
            if (fa && fb) {
                fseek(fa, 0, SEEK_END); la = (size_t)ftell(fa); rewind(fa);
                fseek(fb, 0, SEEK_END); lb = (size_t)ftell(fb); rewind(fb);
                a = malloc(la); b = malloc(lb);
                if (fread(a, 1, la, fa) != la || fread(b, 1, lb, fb) != lb) la = 0;
            }
            if (fa) fclose(fa);
            if (fb) fclose(fb);
            CHECK(rc == 0 && la > 0 && la == lb && !memcmp(a, b, la),
                  "%s: GGUF(q4_k_m) converted again to q4_k_m is bit-identical (%zu bytes)", name, la);
            free(a); free(b);
            unlink(out2);
        }
        gs->free(gs);
        unlink(out);
    }
    hf->free(hf);
}

int main(void)
{
    const char *fx = getenv("FIXTURES");
    if (!fx) fx = "tests/fixtures";
    gm_err err = {0};
    gm_pool *pool = gm_pool_new(2, &err);
    const char *cases[] = {"e2b_like", "moe_26b_like", "dense_31b_like"};
    char dir[512];
    for (int i = 0; i < 3; i++) {
        snprintf(dir, sizeof dir, "%s/gemma4-ref/%s", fx, cases[i]);
        one_case(dir, cases[i], pool, false);
    }
    /* 256-wide random models, so the K types really quantize (needs numpy) */
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    const char *kinds[] = {"dense", "moe"};
    for (int i = 0; i < 2; i++) {
        char cmd[1024];
        snprintf(dir, sizeof dir, "%s/gemmash_tiny_%d_%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), kinds[i]);
        snprintf(cmd, sizeof cmd, "%s tests/quant/make_tiny_model.py %s %s", py, dir, kinds[i]);
        int rc = system(cmd);
        CHECK(rc == 0, "generate a 256-wide %s model", kinds[i]);
        if (rc == 0) one_case(dir, kinds[i], pool, true);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    }
    gm_pool_free(pool);
    return check_exit();
}
