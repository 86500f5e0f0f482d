/* vocab_fixture.h: an ag_vocab from a tokenizer.json, for grammar tests.
 *
 * Reads the vocabulary the way the engine's gm_tok_bytes describes tokens:
 * '▁' is a space, <0xAB> is one byte, added (control) tokens are symbols.
 * Keeps the grammar tests independent of the engine's tokenizer. */
#ifndef TESTS_VOCAB_FIXTURE_H
#define TESTS_VOCAB_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"

typedef struct {
    int     n;
    char  **bytes;
    size_t *lens;
    int    *ctl;
} fixture_vocab;

/* Load path; returns 0 on success. */
static int fixture_vocab_load(const char *path, fixture_vocab *fv)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *txt = malloc((size_t)sz + 1);
    if (!txt || fread(txt, 1, (size_t)sz, f) != (size_t)sz) { fclose(f); free(txt); return -1; }
    txt[sz] = 0;
    fclose(f);
    cJSON *j = cJSON_Parse(txt);
    free(txt);
    const cJSON *vocab = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "model"), "vocab");
    if (!vocab) { cJSON_Delete(j); return -1; }
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) if (e->valueint + 1 > n) n = e->valueint + 1;
    fv->n = n;
    fv->bytes = calloc((size_t)n, sizeof *fv->bytes);
    fv->lens = calloc((size_t)n, sizeof *fv->lens);
    fv->ctl = calloc((size_t)n, sizeof *fv->ctl);
    cJSON_ArrayForEach(e, vocab) {
        int id = e->valueint;
        const char *p = e->string;
        char *b = malloc(strlen(p) + 1);
        size_t k = 0;
        unsigned v;
        if (strlen(p) == 6 && sscanf(p, "<0x%2X>", &v) == 1) b[k++] = (char)v;
        else
            for (const char *c = p; *c;) {
                if (!strncmp(c, "\xe2\x96\x81", 3)) { b[k++] = ' '; c += 3; }
                else b[k++] = *c++;
            }
        fv->bytes[id] = b; fv->lens[id] = k;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "added_tokens")) {
        int id = cJSON_GetObjectItem(e, "id")->valueint;
        const char *c = cJSON_GetObjectItem(e, "content")->valuestring;
        int s = ag_sym_of_piece(c, strlen(c));
        if (id < n) fv->ctl[id] = s >= 0 ? s : AG_SYM_OTHER;
    }
    cJSON_Delete(j);
    return 0;
}

static void fixture_vocab_free(fixture_vocab *fv)
{
    for (int i = 0; i < fv->n; i++) free(fv->bytes[i]);
    free(fv->bytes); free(fv->lens); free(fv->ctl);
}

#endif
