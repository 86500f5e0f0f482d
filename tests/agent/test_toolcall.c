/* test_toolcall.c: the Gemma 4 output parser and schema validation.
 *
 * Real call strings (gemma4-arch.md §7), the documented deviations, several
 * calls per turn, nested and odd arguments, incremental feeding in any split,
 * and the exact error messages a malformed call produces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "check.h"

typedef struct { char text[4096]; char thought[4096]; size_t nt, nth; } sink;

static void on_out(void *ud, int kind, const char *s, size_t n)
{
    sink *k = ud;
    if (kind == AG_OUT_TEXT && k->nt + n < sizeof k->text) { memcpy(k->text + k->nt, s, n); k->nt += n; }
    if (kind == AG_OUT_THOUGHT && k->nth + n < sizeof k->thought) { memcpy(k->thought + k->nth, s, n); k->nth += n; }
}

/* Parse a whole output given as text in chunks of `step` bytes (0 = at once);
 * returns the calls as compact JSON (malloc'd) and the parser. */
static char *run(const char *out, size_t step, ag_parser **pp, sink *k)
{
    memset(k, 0, sizeof *k);
    ag_parser *p = ag_parser_new(on_out, k);
    size_t n = strlen(out);
    if (!step) step = n ? n : 1;
    for (size_t i = 0; i < n; i += step) ag_parser_feed_text(p, out + i, i + step > n ? n - i : step);
    ag_parser_finish(p);
    char *j = cJSON_PrintUnformatted(ag_parser_calls(p));
    if (pp) *pp = p; else ag_parser_free(p);
    return j;
}

/* Feed the same output as "tokens": each control token alone, text in runs
 * of a pseudo-random length, through the symbol interface. */
static char *run_tokens(const char *out, unsigned seed)
{
    size_t ns;
    int *syms = ag_text_to_syms(out, strlen(out), &ns);
    ag_parser *p = ag_parser_new(NULL, NULL);
    for (size_t i = 0; i < ns;) {
        size_t len = 1;
        if (syms[i] < 256) {
            seed = seed * 1103515245u + 12345u;
            len = 1 + (seed >> 16) % 7;
            size_t j = i;
            while (j < ns && j - i < len && syms[j] < 256) j++;
            len = j - i;
        }
        ag_parser_feed_sym(p, syms + i, len);
        i += len;
    }
    ag_parser_finish(p);
    char *j = cJSON_PrintUnformatted(ag_parser_calls(p));
    ag_parser_free(p);
    free(syms);
    return j;
}

static void expect_calls(const char *what, const char *out, const char *want)
{
    sink k;
    char *whole = run(out, 0, NULL, &k);
    CHECK(whole && strcmp(whole, want) == 0, "%s: calls %s", what, whole ? whole : "(null)");
    if (whole && strcmp(whole, want)) printf("#   want %s\n", want);
    bool same = true;
    for (size_t step = 1; step <= 5 && same; step++) {
        char *j = run(out, step, NULL, &k);
        same = j && whole && strcmp(j, whole) == 0;
        free(j);
    }
    CHECK(same, "%s: byte-by-byte and chunked feeding give the same calls", what);
    same = true;
    for (unsigned seed = 1; seed < 6 && same; seed++) {
        char *j = run_tokens(out, seed);
        same = j && whole && strcmp(j, whole) == 0;
        free(j);
    }
    CHECK(same, "%s: token-by-token feeding gives the same calls", what);
    free(whole);
}

/* The error of the first call, for malformed-call checks. */
static void expect_error(const char *out, const char *want_sub)
{
    sink k;
    ag_parser *p;
    char *j = run(out, 1, &p, &k);
    const cJSON *c = cJSON_GetArrayItem(ag_parser_calls(p), 0);
    const cJSON *e = cJSON_GetObjectItem(c, "error");
    bool ok = cJSON_IsString(e) && strstr(e->valuestring, want_sub);
    CHECK(ok, "malformed %s -> error mentions \"%s\" (got: %s)", out, want_sub,
          cJSON_IsString(e) ? e->valuestring : "no error");
    free(j);
    ag_parser_free(p);
}

static void test_parser(void)
{
    expect_calls("§7.3(d) single call",
        "<|tool_call>call:get_current_temperature{location:<|\"|>London<|\"|>}<tool_call|><|tool_response>",
        "[{\"name\":\"get_current_temperature\",\"arguments\":{\"location\":\"London\"}}]");
    expect_calls("call after a thought",
        "<|channel>thought\nThe user wants Tokyo.<channel|><|tool_call>call:get_current_weather{location:"
        "<|\"|>Tokyo, JP<|\"|>}<tool_call|><|tool_response>",
        "[{\"name\":\"get_current_weather\",\"arguments\":{\"location\":\"Tokyo, JP\"}}]");
    expect_calls("deviation: call closed by <turn|>",
        "<|tool_call>call:shell{command:<|\"|>ls -la<|\"|>}<turn|>",
        "[{\"name\":\"shell\",\"arguments\":{\"command\":\"ls -la\"}}]");
    expect_calls("deviation: <eos> instead of <|tool_response>",
        "<|tool_call>call:read_file{path:<|\"|>a.c<|\"|>,start_line:3}<tool_call|><eos>",
        "[{\"name\":\"read_file\",\"arguments\":{\"path\":\"a.c\",\"start_line\":3}}]");
    expect_calls("two calls in one turn",
        "<|tool_call>call:a{x:1}<tool_call|><|tool_call>call:b{y:<|\"|>s<|\"|>}<tool_call|><|tool_response>",
        "[{\"name\":\"a\",\"arguments\":{\"x\":1}},{\"name\":\"b\",\"arguments\":{\"y\":\"s\"}}]");
    expect_calls("new call before the previous closed",
        "<|tool_call>call:a{x:true}<|tool_call>call:b{}<tool_call|>",
        "[{\"name\":\"a\",\"arguments\":{\"x\":true}},{\"name\":\"b\",\"arguments\":{}}]");
    expect_calls("nested arguments",
        "<|tool_call>call:edit{n:-3.5e2,opts:{deep:{k:[1,2,{z:null}]},flag:false},tags:[<|\"|>a<|\"|>,<|\"|>b<|\"|>]}<tool_call|>",
        "[{\"name\":\"edit\",\"arguments\":{\"n\":-350,\"opts\":{\"deep\":{\"k\":[1,2,{\"z\":null}]},\"flag\":false},"
        "\"tags\":[\"a\",\"b\"]}}]");
    expect_calls("odd strings: braces, commas, quotes, backslashes, newlines, UTF-8",
        "<|tool_call>call:write_file{content:<|\"|>int main() {\n  puts(\"a,b:c\\n\"); } // é ✓<|\"|>,"
        "path:<|\"|>src/x.c<|\"|>}<tool_call|>",
        "[{\"name\":\"write_file\",\"arguments\":{\"content\":\"int main() {\\n  puts(\\\"a,b:c\\\\n\\\"); } // é ✓\","
        "\"path\":\"src/x.c\"}}]");
    expect_calls("empty string and empty list",
        "<|tool_call>call:t{a:<|\"|><|\"|>,b:[]}<tool_call|>",
        "[{\"name\":\"t\",\"arguments\":{\"a\":\"\",\"b\":[]}}]");
    expect_calls("lenient: spaces and a JSON-quoted string",
        "<|tool_call>call:t{ a : \"q\\\"x\" , b : 2 }<tool_call|>",
        "[{\"name\":\"t\",\"arguments\":{\"a\":\"q\\\"x\",\"b\":2}}]");
    expect_calls("plain answer has no calls", "Just text.<turn|>", "[]");

    /* text, thought, label and stop */
    sink k;
    ag_parser *p;
    char *j = run("<|channel>thought\nStep 1.\nStep 2.<channel|>The answer is 4.<turn|>ignored", 1, &p, &k);
    CHECK(strcmp(ag_parser_thought(p), "Step 1.\nStep 2.") == 0, "thought label stripped");
    CHECK(strcmp(ag_parser_text(p), "The answer is 4.") == 0, "answer text: '%s'", ag_parser_text(p));
    CHECK(ag_parser_stopped(p), "<turn|> stops the turn; text after it ignored");
    CHECK(k.nt == strlen("The answer is 4.") && memcmp(k.text, "The answer is 4.", k.nt) == 0,
          "answer text streamed to the sink");
    CHECK(k.nth == strlen("Step 1.\nStep 2.") && memcmp(k.thought, "Step 1.\nStep 2.", k.nth) == 0,
          "thought streamed to the sink without its label");
    free(j); ag_parser_free(p);
    j = run("<|channel>thoughtful<channel|>x", 1, &p, &k);
    CHECK(strcmp(ag_parser_thought(p), "thoughtful") == 0, "a word starting like the label is kept: '%s'",
          ag_parser_thought(p));
    free(j); ag_parser_free(p);
    j = run("<|tool_call>call:f{a:<|\"|>x<|\"|>}", 3, &p, &k);
    CHECK(ag_parser_state(p) == AG_PS_TEXT, "state back to text after finish");
    const cJSON *e = cJSON_GetObjectItem(cJSON_GetArrayItem(ag_parser_calls(p), 0), "error");
    CHECK(cJSON_IsString(e) && strstr(e->valuestring, "cut off"), "an unfinished call is reported as cut off");
    const cJSON *nm = cJSON_GetObjectItem(cJSON_GetArrayItem(ag_parser_calls(p), 0), "name");
    CHECK(cJSON_IsString(nm) && strcmp(nm->valuestring, "f") == 0, "the cut-off call keeps its tool name");
    free(j); ag_parser_free(p);

    /* a byte string spelling a control token inside a string stays text when
     * it arrives as bytes (symbols), not as the control token */
    const char *body = "call:w{c:";
    int syms[64]; size_t n = 0;
    for (const char *c = body; *c; c++) syms[n++] = (unsigned char)*c;
    syms[n++] = AG_SYM_QUOTE;
    for (const char *c = "<tool_call|>}"; *c; c++) syms[n++] = (unsigned char)*c;
    syms[n++] = AG_SYM_QUOTE; syms[n++] = '}';
    char err[512];
    cJSON *call = ag_parse_call(syms, n, err, sizeof err);
    const cJSON *cv = cJSON_GetObjectItem(cJSON_GetObjectItem(call, "arguments"), "c");
    CHECK(cJSON_IsString(cv) && strcmp(cv->valuestring, "<tool_call|>}") == 0,
          "control-token text written as bytes stays inside the string");
    cJSON_Delete(call);

    expect_error("<|tool_call>call:f{a:1,,b:2}<tool_call|>",
                 "in the arguments of 'f': expected an argument name at character 11, found ','");
    expect_error("<|tool_call>call:f{path <|\"|>x<|\"|>}<tool_call|>", "expected ':' after the argument name 'path'");
    expect_error("<|tool_call>call:f{a:<|\"|>never closed}<tool_call|>", "this one is never closed");
    expect_error("<|tool_call>f{a:1}<tool_call|>", "expected 'call:' at the start of a tool call");
    expect_error("<|tool_call>call:f{a:yes}<tool_call|>", "expected a value");
    expect_error("<|tool_call>call:f{a:1 b:2}<tool_call|>", "expected ',' or '}' after an argument");
    expect_error("<|tool_call>call:f{a:1,a:2}<tool_call|>", "'a' appears twice");
    expect_error("<|tool_call>call:f{a:[1,2}<tool_call|>", "expected ',' or ']' in a list");
    expect_error("<|tool_call>call:f{a:1}}<tool_call|>", "right after the '}' that closes the arguments");
    expect_error("<|tool_call>call:f{a:01.}<tool_call|>", "expected a number");
    expect_error("<|tool_call>call:{a:1}<tool_call|>", "expected a tool name after 'call:'");
}

static void expect_invalid(const char *schema, const char *value, const char *want)
{
    cJSON *s = cJSON_Parse(schema), *v = cJSON_Parse(value);
    char err[512];
    int rc = ag_schema_validate(s, v, err, sizeof err);
    CHECK(rc == -1 && strstr(err, want), "schema rejects %s: \"%s\"", value, rc ? err : "(accepted)");
    cJSON_Delete(s); cJSON_Delete(v);
}

static void test_schema(void)
{
    const char *sc =
        "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"n\":{\"type\":\"integer\"},"
        "\"mode\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]},\"opt\":{\"type\":\"object\",\"properties\":"
        "{\"deep\":{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"maxItems\":2}},\"required\":[\"deep\"]},"
        "\"x\":{\"type\":[\"number\",\"null\"]},\"u\":{\"type\":\"STRING\",\"nullable\":true}},"
        "\"required\":[\"path\"]}";
    cJSON *s = cJSON_Parse(sc);
    cJSON *v = cJSON_Parse("{\"path\":\"p\",\"n\":3,\"mode\":\"b\",\"opt\":{\"deep\":[true,false]},\"x\":null,\"u\":null}");
    char err[512];
    CHECK(ag_schema_validate(s, v, err, sizeof err) == 0, "a valid nested value passes (%s)", err);
    cJSON_Delete(s); cJSON_Delete(v);
    expect_invalid(sc, "{\"n\":1}", "the arguments: the required argument 'path' is missing");
    expect_invalid(sc, "{\"path\":3}", "path: expected a string, found integer 3");
    expect_invalid(sc, "{\"path\":\"p\",\"n\":1.5}", "n: expected an integer, found number 1.5");
    expect_invalid(sc, "{\"path\":\"p\",\"mode\":\"c\"}", "mode: expected one of [\"a\",\"b\"], found \"c\"");
    expect_invalid(sc, "{\"path\":\"p\",\"colour\":1}", "unknown argument 'colour' (known: path, n, mode, opt, x, u)");
    expect_invalid(sc, "{\"path\":\"p\",\"opt\":{}}", "opt: the required argument 'deep' is missing");
    expect_invalid(sc, "{\"path\":\"p\",\"opt\":{\"deep\":[true,1]}}", "opt.deep[1]: expected a boolean, found integer 1");
    expect_invalid(sc, "{\"path\":\"p\",\"opt\":{\"deep\":[true,true,true]}}", "opt.deep: expected at most 2 items");
    expect_invalid(sc, "{\"path\":\"p\",\"x\":\"s\"}", "x: expected a number or null, found string");
    expect_invalid(sc, "{\"path\":\"p\",\"u\":5}", "u: expected a string, found integer 5");
    expect_invalid("{\"type\":\"integer\",\"minimum\":1}", "0", "expected a number >= 1, found 0");

    cJSON *tools = cJSON_Parse("[{\"type\":\"function\",\"function\":{\"name\":\"a\",\"parameters\":{\"type\":\"object\"}}},"
                               "{\"name\":\"b\",\"parameters\":{\"type\":\"string\"}}]");
    CHECK(ag_tool_params(tools, "a") && ag_tool_params(tools, "b") && !ag_tool_params(tools, "c"),
          "tool parameters found by name in both tool shapes");
    cJSON *free_obj = cJSON_Parse("{\"anything\":[1]}");
    CHECK(ag_schema_validate(ag_tool_params(tools, "a"), free_obj, err, sizeof err) == 0,
          "an object schema without properties takes any keys");
    cJSON_Delete(free_obj); cJSON_Delete(tools);
}

int main(void)
{
    test_parser();
    test_schema();
    return check_exit();
}
