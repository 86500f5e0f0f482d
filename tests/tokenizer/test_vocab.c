/* test_vocab.c: gm_tok_from_vocab (the GGUF path) against gm_tok_load_json.
 *
 * The arrays a GGUF file carries (tokens, token types, "left right" merge
 * strings) are extracted here from a tokenizer.json with cJSON, built with
 * gm_tok_from_vocab, and must encode and decode exactly as the tokenizer
 * loaded from the file does.
 *
 *   test_vocab                      the fixture tokenizer and built-in texts
 *   test_vocab TOKENIZER FILE...    that tokenizer.json on those files
 *                                   (test_reference.py runs this on the full
 *                                   Gemma 4 tokenizer and the corpus) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "engine.h"

/* Read a whole file; NULL on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) { free(buf); buf = NULL; }
        else buf = nb;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* The GGUF-style arrays of one tokenizer.json, with the strings they use. */
typedef struct arrays {
    cJSON *doc;
    gm_vocab_spec spec;
    char **merge_strs;
} arrays;

/* Extract tokens, types and merges the way a GGUF converter writes them. */
static int extract(const char *json, size_t len, arrays *a)
{
    memset(a, 0, sizeof *a);
    a->doc = cJSON_ParseWithLength(json, len);
    const cJSON *model = cJSON_GetObjectItem(a->doc, "model");
    const cJSON *vocab = cJSON_GetObjectItem(model, "vocab");
    const cJSON *added = cJSON_GetObjectItem(a->doc, "added_tokens");
    const cJSON *merges = cJSON_GetObjectItem(model, "merges");
    if (!vocab || !merges) return -1;
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, vocab) if (it->valueint + 1 > n) n = it->valueint + 1;
    cJSON_ArrayForEach(it, added) {
        int id = cJSON_GetObjectItem(it, "id")->valueint;
        if (id + 1 > n) n = id + 1;
    }
    const char **tokens = calloc((size_t)n, sizeof *tokens);
    int32_t *types = calloc((size_t)n, sizeof *types);
    int nm = cJSON_GetArraySize(merges);
    a->merge_strs = calloc((size_t)nm + 1, sizeof *a->merge_strs);
    a->spec = (gm_vocab_spec){ .n_tokens = n, .tokens = tokens, .types = types,
                               .n_merges = nm, .merges = (const char **)a->merge_strs };
    if (!tokens || !types || !a->merge_strs) return -1;
    cJSON_ArrayForEach(it, vocab) {
        const char *s = it->string;
        bool byte = strlen(s) == 6 && strncmp(s, "<0x", 3) == 0 && s[5] == '>';
        tokens[it->valueint] = s;
        types[it->valueint] = byte ? GM_TOK_BYTE : GM_TOK_NORMAL;
    }
    cJSON_ArrayForEach(it, added) {
        int id = cJSON_GetObjectItem(it, "id")->valueint;
        const char *c = cJSON_GetObjectItem(it, "content")->valuestring;
        tokens[id] = c;
        types[id] = !cJSON_IsTrue(cJSON_GetObjectItem(it, "special")) ? GM_TOK_USER_DEFINED
                  : strcmp(c, "<unk>") == 0 ? GM_TOK_UNKNOWN : GM_TOK_CONTROL;
    }
    int i = 0;
    cJSON_ArrayForEach(it, merges) {
        const char *l, *r;
        if (cJSON_IsArray(it)) {
            l = cJSON_GetArrayItem(it, 0)->valuestring;
            r = cJSON_GetArrayItem(it, 1)->valuestring;
        } else {
            a->merge_strs[i++] = strdup(it->valuestring);
            continue;
        }
        char *m = malloc(strlen(l) + strlen(r) + 2);
        if (!m) return -1;
        sprintf(m, "%s %s", l, r);
        a->merge_strs[i++] = m;
    }
    return 0;
}

static void free_arrays(arrays *a)
{
    for (int i = 0; a->merge_strs && i < a->spec.n_merges; i++) free(a->merge_strs[i]);
    free(a->merge_strs);
    free((void *)a->spec.tokens);
    free((void *)a->spec.types);
    cJSON_Delete(a->doc);
}

/* Encode with both tokenizers (special parsing on and off) and decode;
 * returns true if everything agrees. */
static bool same(const gm_tokenizer *a, const gm_tokenizer *b, const char *text, size_t len)
{
    bool ok = true;
    for (int sp = 0; sp < 2 && ok; sp++) {
        int32_t *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        ok = gm_tok_encode(a, text, len, sp, &x, &nx, NULL) == 0 &&
             gm_tok_encode(b, text, len, sp, &y, &ny, NULL) == 0 &&
             nx == ny && memcmp(x, y, nx * sizeof *x) == 0;
        if (ok) {
            char *dx = gm_tok_decode(a, x, nx, false), *dy = gm_tok_decode(b, x, nx, false);
            ok = dx && dy && strcmp(dx, dy) == 0;
            free(dx);
            free(dy);
        }
        free(x);
        free(y);
    }
    return ok;
}

int main(int argc, char **argv)
{
    char path[4096];
    const char *fx = getenv("FIXTURES");
    if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]);
    else snprintf(path, sizeof path, "%s/gemma4-ref/e2b_like/tokenizer.json", fx ? fx : "tests/fixtures");
    size_t len;
    char *json = slurp(path, &len);
    if (!CHECK(json != NULL, "read %s", path)) return check_exit();
    gm_err err = {0};
    gm_tokenizer *tj = gm_tok_load_json_buf(json, len, path, &err);
    CHECK(tj != NULL, "gm_tok_load_json_buf %s", tj ? "loads" : err.msg);
    arrays a;
    bool ex = extract(json, len, &a) == 0;
    gm_tokenizer *tv = ex ? gm_tok_from_vocab(&a.spec, &err) : NULL;
    CHECK(tv != NULL, "gm_tok_from_vocab builds from the extracted arrays%s%s", tv ? "" : ": ",
          tv ? "" : err.msg);
    if (!tj || !tv) goto out;
    CHECK(gm_tok_vocab_size(tj) == gm_tok_vocab_size(tv), "same vocab size (%d)", gm_tok_vocab_size(tv));
    bool types = true;
    for (int32_t i = 0; i < gm_tok_vocab_size(tj); i++)
        types = types && gm_tok_type(tj, i) == gm_tok_type(tv, i);
    CHECK(types, "same token types for every id");
    if (argc > 2) {
        int agree = 0;
        for (int i = 2; i < argc; i++) {
            size_t n;
            char *text = slurp(argv[i], &n);
            if (text && same(tj, tv, text, n)) agree++;
            else printf("# differs: %s\n", argv[i]);
            free(text);
        }
        CHECK(agree == argc - 2, "from_vocab and tokenizer.json agree on %d/%d files", agree, argc - 2);
    } else {
        static const char *texts[] = {
            "<bos><|turn>user\nHello, world!<turn|>\n", "  a  b   c\t\t\n\n\n\n", "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80",
            "<|tool_call>call:f{x:<|\"|>1<|\"|>}<tool_call|>", "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n x",
        };
        int agree = 0, n = (int)(sizeof texts / sizeof texts[0]);
        for (int i = 0; i < n; i++) agree += same(tj, tv, texts[i], strlen(texts[i]));
        CHECK(agree == n, "from_vocab and tokenizer.json agree on %d/%d texts (ids and decode)", agree, n);
    }
    gm_err e2 = {0};
    gm_vocab_spec empty = {0};
    CHECK(!gm_tok_from_vocab(&empty, &e2) && e2.code == GM_E_ARG, "an empty vocabulary is refused (%s)",
          e2.msg);
out:
    free_arrays(&a);
    gm_tok_free(tj);
    gm_tok_free(tv);
    free(json);
    return check_exit();
}
