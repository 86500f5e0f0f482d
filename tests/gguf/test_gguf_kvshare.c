/* test_gguf_kvshare.c: gm_gguf_llamacpp_kv_share_ok predicts which KV-sharing
 * layouts llama.cpp's gemma4 runs (tests/gguf/test_llamacpp.py checks the
 * prediction against llama.cpp itself). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include "check.h"
#include "gguf.h"

/* A text config with the layer pattern (S/F per layer) and shared count. */
static cJSON *config(const char *pattern, int shared)
{
    cJSON *c = cJSON_CreateObject(), *t = cJSON_AddArrayToObject(c, "layer_types");
    int n = 0;
    for (const char *p = pattern; *p; p++, n++)
        cJSON_AddItemToArray(t, cJSON_CreateString(*p == 'S' ? "sliding_attention" : "full_attention"));
    cJSON_AddNumberToObject(c, "num_hidden_layers", n);
    cJSON_AddNumberToObject(c, "num_kv_shared_layers", shared);
    return c;
}

int main(void)
{
    static const struct { const char *pattern; int shared, ok; const char *what; } cases[] = {
        {"SSSSFSSSSFSSSSFSSSSFSSSSFSSSSFSSSSF", 20, 1, "E2B (35 layers, 20 shared)"},
        {"SSSSSFSSSSSFSSSSSFSSSSSFSSSSSFSSSSSFSSSSSF", 18, 1, "E4B (42 layers, 18 shared)"},
        {"SSSSSFSSSSSFSSSSSFSSSSSFSSSSSF", 0, 1, "26B/31B pattern without sharing"},
        {"SSSSFSSSSF", 5, 1, "10 layers, 5 shared (last own layer full)"},
        {"SSSSFSSSSF", 4, 0, "10 layers, 4 shared (last own layer sliding)"},
        {"SSSFFSSSSF", 5, 0, "last own layer full but the one before it full too"},
        {"SSSFFFFFFF", 5, 1, "only full layers shared: the layer before may be anything"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *c = config(cases[i].pattern, cases[i].shared);
        char why[256] = "";
        int rc = c ? gm_gguf_llamacpp_kv_share_ok(c, why, sizeof why) : -2;
        CHECK((rc == 0) == cases[i].ok && (rc == 0 || why[0]), "%s: llama.cpp layout %s%s%s", cases[i].what,
              cases[i].ok ? "accepted" : "refused", why[0] ? ": " : "", why);
        cJSON_Delete(c);
    }
    return check_exit();
}
