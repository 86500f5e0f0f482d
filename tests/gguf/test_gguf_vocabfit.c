/* test_gguf_vocabfit.c: the GGUF vocabulary gets one token per embedding
 * row, as llama.cpp's loader checks (tokenizer.ggml.tokens length = n_vocab =
 * token_embd rows): padded with unused pieces, or refused when tokenizer.json
 * names an id past the embedding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "gguf.h"

int main(void)
{
    const char *fx = getenv("FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/gemma4-ref/e2b_like/tokenizer.json", fx ? fx : "tests/fixtures");
    gm_err err = {0};
    gm_hf_vocab v;
    int loaded = gm_hf_vocab_load(path, &v, &err);
    if (!CHECK(loaded == 0 && v.n == 512, "fixture tokenizer loads (%d pieces) %s", loaded ? 0 : v.n, err.msg))
        return check_exit();
    CHECK(gm_hf_vocab_fit(&v, 512, "fixture", &err) == 0 && v.n == 512, "512 rows: unchanged");
    CHECK(gm_hf_vocab_fit(&v, 640, "fixture", &err) == 0 && v.n == 640 && !strcmp(v.tokens[639], "[PAD639]") &&
          v.types[512] == GM_TOK_UNUSED && v.scores[600] == -1000.0f && !strcmp(v.tokens[511], "is"),
          "640 rows: padded with unused [PADi] pieces after the 512 real ones");
    CHECK(gm_hf_vocab_fit(&v, 512, "fixture", &err) == 0 && v.n == 512,
          "back to 512 rows: only padding is dropped");
    int rc = gm_hf_vocab_fit(&v, 400, "fixture", &err);
    CHECK(rc != 0 && v.n == 512 && strstr(err.msg, "token 511") && strstr(err.msg, "400 rows"),
          "400 rows: refused, naming the first real token past them: %s", err.msg);
    gm_hf_vocab_free(&v);
    return check_exit();
}
