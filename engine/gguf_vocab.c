/* gguf_vocab.c: a Hugging Face tokenizer.json as the tokenizer.ggml.*
 * arrays llama.cpp's Gemma 4 converter writes: every piece in id order,
 * score -1000, type BYTE for "<0xXX>", CONTROL for special added tokens,
 * USER_DEFINED for other added tokens and for the seven tool/channel
 * markers the chat parser must see, NORMAL otherwise; merges as "a b".
 * The array is sized to the embedding's rows, as llama.cpp's loader checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gguf.h"

/* Read a whole file into a NUL-terminated buffer. */
static char *slurp(const char *path, gm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) { gm_err_set(err, GM_E_IO, "%s: cannot open", path); return NULL; }
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = 0;
    } else {
        free(buf);
        buf = NULL;
        gm_err_set(err, GM_E_IO, "%s: cannot read", path);
    }
    fclose(f);
    return buf;
}

/* Is s a byte-fallback piece "<0xAB>"? */
static bool is_byte_piece(const char *s)
{
    return strlen(s) == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' &&
           strchr("0123456789ABCDEFabcdef", s[3]) && strchr("0123456789ABCDEFabcdef", s[4]) && s[3] && s[4];
}

void gm_hf_vocab_free(gm_hf_vocab *v)
{
    if (!v) return;
    for (int32_t i = 0; v->tokens && i < v->n; i++) free(v->tokens[i]);
    for (int32_t i = 0; v->merges && i < v->n_merges; i++) free(v->merges[i]);
    free(v->tokens); free(v->merges); free(v->scores); free(v->types);
    memset(v, 0, sizeof *v);
}

int gm_hf_vocab_load(const char *path, gm_hf_vocab *v, gm_err *err)
{
    static const char *const visible[] = {"<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>",
                                          "<|tool_response>", "<tool_response|>", "<|\"|>"};
    memset(v, 0, sizeof *v);
    char *text = slurp(path, err);
    if (!text) return -1;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (!cJSON_IsObject(vocab) || !cJSON_IsString(type) || strcmp(type->valuestring, "BPE") != 0) {
        cJSON_Delete(root);
        return gm_err_set(err, GM_E_FORMAT, "%s: not a BPE tokenizer.json (model.type/model.vocab missing)", path);
    }
    int32_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) if (cJSON_IsNumber(it) && it->valuedouble >= n) n = (int32_t)it->valuedouble + 1;
    cJSON_ArrayForEach(it, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (cJSON_IsNumber(id) && id->valuedouble >= n) n = (int32_t)id->valuedouble + 1;
    }
    int rc = 0;
    if (n <= 0 || n > (1 << 24)) { rc = gm_err_set(err, GM_E_FORMAT, "%s: vocabulary size %d is out of range", path, n); goto out; }
    v->n = n;
    v->tokens = calloc((size_t)n, sizeof *v->tokens);
    v->scores = malloc(sizeof(float) * (size_t)n);
    v->types = malloc(sizeof(int32_t) * (size_t)n);
    v->n_merges = cJSON_GetArraySize(merges);
    v->merges = calloc((size_t)v->n_merges + 1, sizeof *v->merges);
    if (!v->tokens || !v->scores || !v->types || !v->merges) { rc = gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path); goto out; }
    for (int32_t i = 0; i < n; i++) { v->scores[i] = -1000.0f; v->types[i] = GM_TOK_NORMAL; }
    cJSON_ArrayForEach(it, vocab) {
        int32_t id = (int32_t)it->valuedouble;
        if (!cJSON_IsNumber(it) || id < 0 || id >= n) continue;
        free(v->tokens[id]);
        if (!(v->tokens[id] = strdup(it->string))) { rc = gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path); goto out; }
        if (is_byte_piece(it->string)) v->types[id] = GM_TOK_BYTE;
    }
    cJSON_ArrayForEach(it, added) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id"), *content = cJSON_GetObjectItemCaseSensitive(it, "content");
        if (!cJSON_IsNumber(id) || !cJSON_IsString(content)) continue;
        int32_t i = (int32_t)id->valuedouble;
        if (i < 0 || i >= n) continue;
        free(v->tokens[i]);
        if (!(v->tokens[i] = strdup(content->valuestring))) { rc = gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path); goto out; }
        v->types[i] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "special")) ? GM_TOK_CONTROL : GM_TOK_USER_DEFINED;
        for (size_t k = 0; k < sizeof visible / sizeof visible[0]; k++)
            if (strcmp(content->valuestring, visible[k]) == 0) v->types[i] = GM_TOK_USER_DEFINED;
    }
    for (int32_t i = 0; i < n; i++)
        if (!v->tokens[i]) {
            char pad[32];
            snprintf(pad, sizeof pad, "[PAD%d]", i);
            if (!(v->tokens[i] = strdup(pad))) { rc = gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path); goto out; }
            v->types[i] = GM_TOK_UNUSED;
        }
    int32_t m = 0;
    cJSON_ArrayForEach(it, merges) {
        char *s = NULL;
        if (cJSON_IsString(it)) s = strdup(it->valuestring);
        else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 && cJSON_IsString(cJSON_GetArrayItem(it, 0)) &&
                 cJSON_IsString(cJSON_GetArrayItem(it, 1))) {
            const char *a = cJSON_GetArrayItem(it, 0)->valuestring, *b = cJSON_GetArrayItem(it, 1)->valuestring;
            size_t len = strlen(a) + strlen(b) + 2;
            if ((s = malloc(len))) snprintf(s, len, "%s %s", a, b);
        } else {
            rc = gm_err_set(err, GM_E_FORMAT, "%s: merge %d is neither \"a b\" nor [a, b]", path, m);
            goto out;
        }
        if (!s) { rc = gm_err_set(err, GM_E_NOMEM, "%s: out of memory", path); goto out; }
        v->merges[m++] = s;
    }
    v->n_merges = m;
    v->unk = -1;
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (cJSON_IsString(unk)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(vocab, unk->valuestring);
        if (cJSON_IsNumber(id)) v->unk = (int32_t)id->valuedouble;
    }
out:
    cJSON_Delete(root);
    if (rc) gm_hf_vocab_free(v);
    return rc;
}

int gm_hf_vocab_fit(gm_hf_vocab *v, int64_t n_rows, const char *what, gm_err *err)
{
    if (n_rows <= 0 || n_rows > (1 << 24))
        return gm_err_set(err, GM_E_FORMAT, "%s: embedding has %lld rows", what, (long long)n_rows);
    if (v->n > n_rows) {
        int32_t top = v->n - 1;
        while (top >= n_rows && v->types[top] == GM_TOK_UNUSED) top--;
        if (top >= n_rows)
            return gm_err_set(err, GM_E_FORMAT, "%s: tokenizer.json has token %d (\"%s\") but the embedding has only "
                              "%lld rows (vocab_size); llama.cpp needs one token per row, so use the tokenizer "
                              "that belongs to this checkpoint", what, top, v->tokens[top], (long long)n_rows);
        for (int32_t i = (int32_t)n_rows; i < v->n; i++) free(v->tokens[i]);
        v->n = (int32_t)n_rows;
        return 0;
    }
    if (v->n == n_rows) return 0;
    char **tokens = realloc(v->tokens, sizeof *tokens * (size_t)n_rows);
    if (tokens) v->tokens = tokens;
    float *scores = tokens ? realloc(v->scores, sizeof *scores * (size_t)n_rows) : NULL;
    if (scores) v->scores = scores;
    int32_t *types = scores ? realloc(v->types, sizeof *types * (size_t)n_rows) : NULL;
    if (types) v->types = types;
    if (!types) return gm_err_set(err, GM_E_NOMEM, "%s: out of memory padding the vocabulary", what);
    for (int32_t i = v->n; i < n_rows; i++) {
        char pad[32];
        snprintf(pad, sizeof pad, "[PAD%d]", i);
        if (!(v->tokens[i] = strdup(pad))) {
            v->n = i;
            return gm_err_set(err, GM_E_NOMEM, "%s: out of memory padding the vocabulary", what);
        }
        v->scores[i] = -1000.0f;
        v->types[i] = GM_TOK_UNUSED;
    }
    v->n = (int32_t)n_rows;
    return 0;
}

int gm_gguf_write_vocab(gm_gguf_writer *w, const gm_hf_vocab *v, const cJSON *cfg, const cJSON *root,
                        const char *chat_template)
{
    int rc = 0;
    rc |= gm_gguf_set_str(w, "tokenizer.ggml.model", "gemma4");
    rc |= gm_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->tokens, (uint64_t)v->n);
    rc |= gm_gguf_set_arr(w, "tokenizer.ggml.scores", GM_GGUF_F32, v->scores, (uint64_t)v->n);
    rc |= gm_gguf_set_arr(w, "tokenizer.ggml.token_type", GM_GGUF_I32, v->types, (uint64_t)v->n);
    rc |= gm_gguf_set_arr_str(w, "tokenizer.ggml.merges", (const char *const *)v->merges, (uint64_t)v->n_merges);
    const struct { const char *json, *key; } ids[] = {
        {"bos_token_id", "tokenizer.ggml.bos_token_id"}, {"eos_token_id", "tokenizer.ggml.eos_token_id"},
        {"pad_token_id", "tokenizer.ggml.padding_token_id"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(cfg, ids[i].json);
        if (!x || cJSON_IsNull(x)) x = cJSON_GetObjectItemCaseSensitive(root, ids[i].json);
        if (cJSON_IsArray(x)) x = cJSON_GetArrayItem(x, 0);
        if (cJSON_IsNumber(x) && x->valuedouble >= 0) rc |= gm_gguf_set_u32(w, ids[i].key, (uint32_t)x->valuedouble);
    }
    if (v->unk >= 0) rc |= gm_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)v->unk);
    rc |= gm_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    rc |= gm_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", false);
    rc |= gm_gguf_set_bool(w, "tokenizer.ggml.add_space_prefix", false);
    if (chat_template) rc |= gm_gguf_set_str(w, "tokenizer.chat_template", chat_template);
    return rc ? -1 : 0;
}
