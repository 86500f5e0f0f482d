/* test_grammar.c: constrained decoding with the fixture tokenizer.
 *
 * Drives the tool-call and JSON grammars with random logits over the real
 * (cut) Gemma 4 vocabulary: every completed output must parse and validate
 * against its schema, and the mask must never be empty before completion.
 * Also checks required keys, enums, nesting, arrays and the mask's speed on
 * a 262144-token vocabulary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "check.h"
#include "agent/vocab_fixture.h"

static const char *TOOLS =
    "[{\"type\":\"function\",\"function\":{\"name\":\"write_file\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"path\":{\"type\":\"string\"},\"content\":{\"type\":\"string\"},"
    "\"mode\":{\"type\":\"string\",\"enum\":[\"overwrite\",\"append\"]}},\"required\":[\"path\",\"content\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"shell\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"command\":{\"type\":\"string\"},\"timeout_s\":{\"type\":\"integer\"},"
    "\"args\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":3}},\"required\":[\"command\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"nested\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"config\":{\"type\":\"object\",\"properties\":{\"depth\":{\"type\":\"integer\"},"
    "\"flags\":{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":1},"
    "\"level\":{\"enum\":[1,2.5,\"x\",null,true]}},\"required\":[\"depth\"]},\"ratio\":{\"type\":\"number\"},"
    "\"opt\":{\"type\":[\"string\",\"null\"]},\"matrix\":{\"type\":\"array\",\"items\":{\"type\":\"array\","
    "\"items\":{\"type\":\"integer\"}}}},\"required\":[\"config\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"free\",\"parameters\":{\"type\":\"object\"}}}]";

static const char *OUT_SCHEMA =
    "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"},\"confidence\":{\"type\":\"number\"},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]}},\"ok\":{\"type\":\"boolean\"}},"
    "\"required\":[\"answer\",\"confidence\"]}";

static uint64_t rng;
static double rnd(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Generate until the grammar is complete, picking the argmax of random
 * logits among allowed tokens (structure tokens get a bonus so that strings
 * end in reasonable time).  Returns 0 done, -1 empty mask, -2 step refused,
 * -3 too long. */
static int generate(const ag_vocab *v, ag_gstate *st, int *out, size_t *nout, size_t cap)
{
    int nv = ag_vocab_size(v);
    uint32_t *allow = malloc(((size_t)nv + 31) / 32 * 4);
    int rc = -3;
    *nout = 0;
    for (int step = 0; step < 3000; step++) {
        if (ag_gstate_done(st)) { rc = 0; break; }
        if (ag_mask_compute(v, st, allow) == 0) { rc = -1; break; }
        int best = -1;
        double bw = -1;
        for (int t = 0; t < nv; t++) {
            if (!(allow[t / 32] >> (t % 32) & 1)) continue;
            int s[64];
            size_t n = ag_vocab_syms(v, t, s, 64);
            double w = rnd() + ((n == 1 && (s[0] >= 256 || (s[0] < 128 && !((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')))) ? 0.9 : 0);
            if (w > bw) { bw = w; best = t; }
        }
        int s[64];
        size_t n = ag_vocab_syms(v, best, s, 64);
        for (size_t i = 0; i < n; i++) {
            if (ag_gstate_step(st, s[i])) { rc = -2; goto out; }
            if (*nout < cap) out[(*nout)++] = s[i];
        }
    }
out:
    free(allow);
    return rc;
}

static void random_calls(const ag_vocab *v, const cJSON *tools, int seeds)
{
    char err[512];
    ag_grammar *g = ag_grammar_toolcall(tools, NULL, err, sizeof err);
    CHECK(g != NULL, "tool-call grammar compiles (%s)", g ? "" : err);
    ag_gstate *st = ag_gstate_new(g);
    int *syms = malloc(20000 * sizeof *syms);
    int ok = 0, names[4] = {0};
    char firstbad[600] = "";
    for (int seed = 1; seed <= seeds; seed++) {
        rng = 0x9E3779B97F4A7C15ull * (uint64_t)seed;
        ag_gstate_reset(st);
        size_t n;
        int rc = generate(v, st, syms, &n, 20000);
        bool good = false;
        if (rc == 0 && n > 0 && syms[n - 1] == AG_SYM_CALL_CLOSE) {
            cJSON *c = ag_parse_call(syms, n - 1, err, sizeof err);
            const cJSON *nm = cJSON_GetObjectItem(c, "name");
            if (c && cJSON_IsString(nm)) {
                const cJSON *ps = ag_tool_params(tools, nm->valuestring);
                good = ag_schema_validate(ps, cJSON_GetObjectItem(c, "arguments"), err, sizeof err) == 0;
                for (int k = 0; k < 4; k++)
                    if (!strcmp(nm->valuestring, (const char *[]){"write_file", "shell", "nested", "free"}[k])) names[k]++;
            }
            cJSON_Delete(c);
        } else snprintf(err, sizeof err, "generation rc %d", rc);
        if (good) ok++;
        else if (!firstbad[0]) snprintf(firstbad, sizeof firstbad, "seed %d: %s", seed, err);
    }
    CHECK(ok == seeds, "%d/%d random-logit tool calls parse and validate %s", ok, seeds, firstbad);
    CHECK(names[0] && names[1] && names[2] && names[3], "all four tools were generated (%d %d %d %d)",
          names[0], names[1], names[2], names[3]);
    free(syms);
    ag_gstate_free(st);
    ag_grammar_free(g);
}

static void random_json(const ag_vocab *v, int seeds)
{
    char err[512];
    cJSON *schema = cJSON_Parse(OUT_SCHEMA);
    ag_grammar *g = ag_grammar_json(schema, err, sizeof err);
    CHECK(g != NULL, "output-schema grammar compiles");
    ag_gstate *st = ag_gstate_new(g);
    int *syms = malloc(20000 * sizeof *syms);
    char *txt = malloc(20001);
    int ok = 0;
    char firstbad[600] = "";
    for (int seed = 1; seed <= seeds; seed++) {
        rng = 0xD1B54A32D192ED03ull * (uint64_t)seed;
        ag_gstate_reset(st);
        size_t n;
        int rc = generate(v, st, syms, &n, 20000);
        bool good = false;
        if (rc == 0) {
            for (size_t i = 0; i < n; i++) txt[i] = (char)syms[i];
            txt[n] = 0;
            cJSON *j = cJSON_Parse(txt);
            good = j && ag_schema_validate(schema, j, err, sizeof err) == 0;
            if (!j) snprintf(err, sizeof err, "not JSON: %.200s", txt);
            cJSON_Delete(j);
        } else snprintf(err, sizeof err, "generation rc %d", rc);
        if (good) ok++;
        else if (!firstbad[0]) snprintf(firstbad, sizeof firstbad, "seed %d: %s", seed, err);
    }
    CHECK(ok == seeds, "%d/%d random-logit JSON answers parse and match --output-schema %s", ok, seeds, firstbad);
    free(syms); free(txt);
    ag_gstate_free(st);
    ag_grammar_free(g);
    cJSON_Delete(schema);
}

static bool allowed(const uint32_t *a, int32_t t) { return t >= 0 && (a[t / 32] >> (t % 32) & 1); }

/* The id of a one-byte token in the fixture vocabulary. */
static int32_t byte_tok(const fixture_vocab *fv, char c)
{
    for (int i = 0; i < fv->n; i++)
        if (!fv->ctl[i] && fv->lens[i] == 1 && fv->bytes[i][0] == c) return i;
    return -1;
}

static int feed(ag_gstate *st, const char *text)
{
    size_t n;
    int *s = ag_text_to_syms(text, strlen(text), &n);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = ag_gstate_step(st, s[i]);
    free(s);
    return rc;
}

static void specific_masks(const ag_vocab *v, const fixture_vocab *fv, const cJSON *tools)
{
    char err[256];
    ag_grammar *g = ag_grammar_toolcall(tools, NULL, err, sizeof err);
    ag_gstate *st = ag_gstate_new(g);
    uint32_t allow[512 / 32];
    int32_t q = ag_vocab_sym_token(v, AG_SYM_QUOTE), close = ag_vocab_sym_token(v, AG_SYM_CALL_CLOSE);
    CHECK(q == 52 && close == 49, "control tokens found: <|\"|> = %d, <tool_call|> = %d", q, close);
    ag_mask_compute(v, st, allow);
    CHECK(allowed(allow, byte_tok(fv, 'c')) && !allowed(allow, byte_tok(fv, '{')) && !allowed(allow, q),
          "a call starts with 'call:' only");
    CHECK(feed(st, "call:write_file{") == 0, "'call:write_file{' accepted");
    ag_mask_compute(v, st, allow);
    CHECK(!allowed(allow, byte_tok(fv, '}')), "'}' refused while required keys are missing");
    CHECK(allowed(allow, byte_tok(fv, 'p')) && allowed(allow, byte_tok(fv, 'm')) && !allowed(allow, byte_tok(fv, 'x')),
          "only declared keys may start");
    CHECK(feed(st, "path:") == 0, "key 'path:' accepted");
    int cnt = ag_mask_compute(v, st, allow);
    CHECK(cnt == 1 && allowed(allow, q), "a string argument must open with <|\"|> (allowed: %d)", cnt);
    CHECK(feed(st, "<|\"|>a b<|\"|>,") == 0, "string value and comma accepted");
    ag_mask_compute(v, st, allow);
    CHECK(!allowed(allow, byte_tok(fv, 'p')) && allowed(allow, byte_tok(fv, 'c')), "a key is never given twice");
    CHECK(feed(st, "mode:<|\"|>") == 0, "enum string opened");
    ag_mask_compute(v, st, allow);
    CHECK(allowed(allow, byte_tok(fv, 'o')) && allowed(allow, byte_tok(fv, 'a')) && !allowed(allow, byte_tok(fv, 'x')) &&
          !allowed(allow, q), "enum: only the first letters of 'overwrite'/'append'");
    CHECK(feed(st, "append<|\"|>,content:<|\"|>x<|\"|>") == 0 && feed(st, ",") != 0,
          "no comma once every key is given");
    ag_mask_compute(v, st, allow);
    CHECK(allowed(allow, byte_tok(fv, '}')), "'}' allowed once required keys are in");
    CHECK(feed(st, "}") == 0 && !ag_gstate_done(st), "'}' accepted, not yet done");
    cnt = ag_mask_compute(v, st, allow);
    CHECK(cnt == 1 && allowed(allow, close), "only <tool_call|> after the arguments");
    CHECK(feed(st, "<tool_call|>") == 0 && ag_gstate_done(st), "done after <tool_call|>");
    CHECK(ag_mask_compute(v, st, allow) == 0, "nothing allowed after completion");

    ag_gstate_reset(st);
    CHECK(feed(st, "call:shell{command:<|\"|>ls<|\"|>,timeout_s:1.5") != 0, "integer argument refuses a fraction");
    ag_gstate_reset(st);
    CHECK(feed(st, "call:shell{args:[<|\"|>a<|\"|>,<|\"|>b<|\"|>,<|\"|>c<|\"|>,") != 0, "maxItems enforced");
    ag_gstate_reset(st);
    CHECK(feed(st, "call:nested{config:{depth:2,flags:[]") != 0, "minItems enforced");
    ag_gstate_reset(st);
    CHECK(feed(st, "call:nested{config:{depth:-20,level:2.5},matrix:[[1,2],[]],opt:null}<tool_call|>") == 0 &&
          ag_gstate_done(st), "nested objects, enum numbers, arrays of arrays and null accepted");
    ag_gstate_reset(st);
    CHECK(feed(st, "call:nested{config:{depth:1,level:3}") != 0, "a number outside the enum refused");
    ag_gstate_reset(st);
    CHECK(feed(st, "call:free{any_key:[1,{x:<|\"|>y<|\"|>}],b:true}<tool_call|>") == 0 && ag_gstate_done(st),
          "a tool without properties takes any keys and values");
    ag_gstate_reset(st);
    CHECK(feed(st, "call:write_file{path:<|\"|>\xc3<|\"|>") != 0, "a broken UTF-8 sequence cannot close a string");
    ag_gstate_free(st);
    ag_grammar_free(g);

    g = ag_grammar_toolcall(tools, NULL, err, sizeof err);
    ag_grammar_limit_strings(g, 3);
    st = ag_gstate_new(g);
    CHECK(feed(st, "call:write_file{path:<|\"|>abc") == 0 && ag_mask_compute(v, st, allow) == 1 &&
          allowed(allow, q), "a capped string allows only its closing <|\"|> at the cap");
    ag_gstate_reset(st);
    CHECK(feed(st, "call:write_file{path:<|\"|>ab") == 0 && ag_mask_compute(v, st, allow) > 100 &&
          allowed(allow, byte_tok(fv, 'x')) && allowed(allow, q), "below the cap, text goes on");
    ag_gstate_free(st);
    ag_grammar_free(g);

    g = ag_grammar_toolcall(tools, "shell", err, sizeof err);
    st = ag_gstate_new(g);
    CHECK(feed(st, "call:write_file{") != 0 && (ag_gstate_reset(st), feed(st, "call:shell{") == 0),
          "--tool-choice NAME: only that tool's name is accepted");
    ag_gstate_free(st);
    ag_grammar_free(g);
    CHECK(ag_grammar_toolcall(tools, "nope", err, sizeof err) == NULL && strstr(err, "'nope'"),
          "an unknown forced tool is an error: %s", err);
}

/* A vocabulary the size of Gemma 4's, with random words: the mask's speed. */
static void big_vocab_speed(const cJSON *tools)
{
    int n = 262144;
    char **b = malloc((size_t)n * sizeof *b);
    size_t *l = malloc((size_t)n * sizeof *l);
    int *ctl = calloc((size_t)n, sizeof *ctl);
    const char alpha[] = "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:{}[]\"\n-";
    rng = 42;
    for (int i = 0; i < n; i++) {
        b[i] = malloc(16);
        if (i < 256) { b[i][0] = (char)i; l[i] = 1; continue; }
        l[i] = 1 + (size_t)(rnd() * 11);
        for (size_t k = 0; k < l[i]; k++) b[i][k] = alpha[(int)(rnd() * (sizeof alpha - 1))];
    }
    ctl[300] = AG_SYM_QUOTE; ctl[301] = AG_SYM_CALL_CLOSE; ctl[302] = AG_SYM_CALL_OPEN;
    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    ag_vocab *v = ag_vocab_new(n, (const char *const *)b, l, ctl);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    double build = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(v != NULL, "262144-token vocabulary trie built in %.0f ms of CPU", build);
    char err[256];
    ag_grammar *g = ag_grammar_toolcall(tools, NULL, err, sizeof err);
    cJSON *schema = cJSON_Parse(OUT_SCHEMA);
    ag_grammar *gj = ag_grammar_json(schema, err, sizeof err);
    ag_gstate *st = ag_gstate_new(g), *sj = ag_gstate_new(gj);
    uint32_t *allow = malloc((size_t)n / 8);
    const char *points[] = {"", "call:write_file{", "call:write_file{path:<|\"|>ab", "call:free{ke"};
    double worst = 0;
    for (int k = 0; k < 5; k++) {
        ag_gstate *s = k < 4 ? st : sj;
        ag_gstate_reset(s);
        feed(s, k < 4 ? points[k] : "{\"answer\":\"some te");
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        int c = 0;
        for (int r = 0; r < 5; r++) c = ag_mask_compute(v, s, allow);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        double ms = ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) / 5;
        if (ms > worst) worst = ms;
        printf("# mask at %-32s %7d tokens allowed, %.2f ms\n", k < 4 ? points[k] : "JSON string", c, ms);
    }
    CHECK(worst < 200, "mask over 262144 tokens: worst %.2f ms of CPU per step", worst);
    free(allow);
    ag_gstate_free(st); ag_gstate_free(sj);
    ag_grammar_free(g); ag_grammar_free(gj);
    cJSON_Delete(schema);
    ag_vocab_free(v);
    for (int i = 0; i < n; i++) free(b[i]);
    free(b); free(l); free(ctl);
}

int main(void)
{
    const char *fx = getenv("FIXTURES");
    char path[4096];
    snprintf(path, sizeof path, "%s/gemma4-ref/e2b_like/tokenizer.json", fx ? fx : "tests/fixtures");
    fixture_vocab fv;
    if (fixture_vocab_load(path, &fv)) { CHECK(0, "fixture tokenizer %s loads", path); return check_exit(); }
    ag_vocab *v = ag_vocab_new(fv.n, (const char *const *)fv.bytes, fv.lens, fv.ctl);
    CHECK(v != NULL, "vocabulary of %d tokens built from the fixture tokenizer", fv.n);
    cJSON *tools = cJSON_Parse(TOOLS);
    specific_masks(v, &fv, tools);
    random_calls(v, tools, getenv("GEMMASH_LONG") ? 2000 : 200);
    random_json(v, getenv("GEMMASH_LONG") ? 500 : 60);
    big_vocab_speed(tools);
    cJSON_Delete(tools);
    ag_vocab_free(v);
    fixture_vocab_free(&fv);
    return check_exit();
}
