/* test_chat.c: the chat format renders byte-exact prompts.
 *
 * Three sources of expected text:
 *   1. the literal examples of gemma4-arch.md §7.3 (a)-(f), written out here;
 *   2. tests/fixtures/chat/cases.json: conversations with the prompt the
 *      official template renders for them (see tests/chat/gen_cases.py);
 *   3. our own rules where the template renders uselessly or fails (JSON text
 *      arguments/results, tool messages matched by position, errors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "check.h"

/* Render a conversation given as JSON text; returns malloc'd text or NULL
 * (with err filled). */
static char *render_json(const char *msgs, const char *tools, bool think, bool large, bool gen,
                         gm_err *err)
{
    cJSON *m = cJSON_Parse(msgs);
    cJSON *t = tools ? cJSON_Parse(tools) : NULL;
    if (!m || (tools && !t)) {
        fprintf(stderr, "test JSON does not parse: %s\n", m ? tools : msgs);
        cJSON_Delete(m);
        cJSON_Delete(t);
        return NULL;
    }
    gm_chat_opts o = { .think = think, .add_generation_prompt = gen,
                       .family = large ? GM_CHAT_LARGE : GM_CHAT_SMALL };
    char *s = gm_chat_render(m, t, &o, err);
    cJSON_Delete(m);
    cJSON_Delete(t);
    return s;
}

/* Check one rendering against the expected bytes; print where they differ. */
static void expect_render(const char *what, const char *msgs, const char *tools, bool think,
                          bool large, bool gen, const char *want)
{
    gm_err err = {0};
    char *got = render_json(msgs, tools, think, large, gen, &err);
    bool ok = got && strcmp(got, want) == 0;
    if (!ok) {
        size_t i = 0;
        if (got) while (got[i] && got[i] == want[i]) i++;
        fprintf(stdout, "# %s: differs at byte %zu\n# want: %s\n# got:  %s\n", what, i, want,
                got ? got : err.msg);
    }
    CHECK(ok, "render: %s", what);
    free(got);
}

/* Check that rendering fails with GM_E_ARG and a message containing needle. */
static void expect_error(const char *what, const char *msgs, const char *tools, const char *needle)
{
    gm_err err = {0};
    char *got = render_json(msgs, tools, false, false, true, &err);
    CHECK(!got && err.code == GM_E_ARG && strstr(err.msg, needle),
          "error: %s (got: %s)", what, got ? got : err.msg);
    free(got);
}

/* §7.3 (a)-(f), byte for byte. */
static void test_spec_examples(void)
{
    const char *a = "[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
                    "{\"role\":\"user\",\"content\":\"Hello.\"}]";
    expect_render("(a) system + user, small", a, NULL, false, false, true,
        "<bos><|turn>system\nYou are a helpful assistant.<turn|>\n"
        "<|turn>user\nHello.<turn|>\n<|turn>model\n");
    expect_render("(a) system + user, large adds an empty thought channel", a, NULL, false, true, true,
        "<bos><|turn>system\nYou are a helpful assistant.<turn|>\n"
        "<|turn>user\nHello.<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
    expect_render("(a) no system message: no system turn", "[{\"role\":\"user\",\"content\":\"Hello.\"}]",
        NULL, false, false, true, "<bos><|turn>user\nHello.<turn|>\n<|turn>model\n");

    const char *b = "[{\"role\":\"user\",\"content\":\"What is the water formula?\"}]";
    const char *bw = "<bos><|turn>system\n<|think|>\n<turn|>\n"
                     "<|turn>user\nWhat is the water formula?<turn|>\n<|turn>model\n";
    expect_render("(b) thinking, no system, small", b, NULL, true, false, true, bw);
    expect_render("(b) thinking, no system, large (no empty channel)", b, NULL, true, true, true, bw);
    expect_render("(b) thinking with a system message", a, NULL, true, false, true,
        "<bos><|turn>system\n<|think|>\nYou are a helpful assistant.<turn|>\n"
        "<|turn>user\nHello.<turn|>\n<|turn>model\n");

    /* (c): the newest template writes "}}" where the notebook output in the
     * spec shows "} }" (a template-revision whitespace difference, §7.3 c). */
    const char *tool = "[{\"type\":\"function\",\"function\":{\"name\":\"get_current_temperature\","
        "\"description\":\"Gets the current temperature for a given location.\",\"parameters\":"
        "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\",\"description\":"
        "\"The city name, e.g. San Francisco\"}},\"required\":[\"location\"]}}}]";
    const char *decl = "<|tool>declaration:get_current_temperature{description:<|\"|>Gets the current "
        "temperature for a given location.<|\"|>,parameters:{properties:{location:{description:"
        "<|\"|>The city name, e.g. San Francisco<|\"|>,type:<|\"|>STRING<|\"|>}},required:"
        "[<|\"|>location<|\"|>],type:<|\"|>OBJECT<|\"|>}}<tool|>";
    char want[2048];
    snprintf(want, sizeof want, "<bos><|turn>system\nYou are a helpful assistant.%s<turn|>\n"
             "<|turn>user\nWhat's the temperature in London?<turn|>\n<|turn>model\n", decl);
    expect_render("(c) tool declaration with a system message",
        "[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
        "{\"role\":\"user\",\"content\":\"What's the temperature in London?\"}]", tool, false, false, true, want);
    snprintf(want, sizeof want, "<bos><|turn>system\n%s<turn|>\n"
             "<|turn>user\nWhat's the temperature in London?<turn|>\n<|turn>model\n", decl);
    expect_render("(c) tool declaration without a system message",
        "[{\"role\":\"user\",\"content\":\"What's the temperature in London?\"}]", tool, false, false, true, want);
    expect_render("(c) enum property",
        "[{\"role\":\"user\",\"content\":\"x\"}]",
        "[{\"type\":\"function\",\"function\":{\"name\":\"t\",\"description\":\"d\",\"parameters\":"
        "{\"type\":\"object\",\"properties\":{\"unit\":{\"type\":\"string\",\"description\":\"The unit\","
        "\"enum\":[\"celsius\",\"fahrenheit\"]}}}}}]", false, false, false,
        "<bos><|turn>system\n<|tool>declaration:t{description:<|\"|>d<|\"|>,parameters:{properties:"
        "{unit:{description:<|\"|>The unit<|\"|>,enum:[<|\"|>celsius<|\"|>,<|\"|>fahrenheit<|\"|>],"
        "type:<|\"|>STRING<|\"|>}},type:<|\"|>OBJECT<|\"|>}}<tool|><turn|>\n<|turn>user\nx<turn|>\n");

    /* (d) a pending call ends with <|tool_response> and no generation prompt */
    expect_render("(d) the model's tool call, pending",
        "[{\"role\":\"user\",\"content\":\"London?\"},{\"role\":\"assistant\",\"tool_calls\":[{\"type\":"
        "\"function\",\"function\":{\"name\":\"get_current_temperature\",\"arguments\":{\"location\":"
        "\"London\"}}}]}]", NULL, false, true, true,
        "<bos><|turn>user\nLondon?<turn|>\n<|turn>model\n<|tool_call>call:get_current_temperature"
        "{location:<|\"|>London<|\"|>}<tool_call|><|tool_response>");

    /* (e) the result continues the same model turn, map and string results */
    const char *e_call = "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
        "\"function\":{\"name\":\"get_current_weather\",\"arguments\":{\"location\":\"Tokyo, JP\"}}}]}";
    const char *e_turn = "<|turn>model\n<|tool_call>call:get_current_weather{location:<|\"|>Tokyo, JP"
        "<|\"|>}<tool_call|><|tool_response>response:get_current_weather{temperature:15,weather:"
        "<|\"|>sunny<|\"|>}<tool_response|>";
    char msgs[2048];
    snprintf(msgs, sizeof msgs, "[{\"role\":\"user\",\"content\":\"Weather?\"},%s,{\"role\":\"tool\","
             "\"tool_call_id\":\"c1\",\"content\":{\"temperature\":15,\"weather\":\"sunny\"}}]", e_call);
    snprintf(want, sizeof want, "<bos><|turn>user\nWeather?<turn|>\n%s", e_turn);
    expect_render("(e) map result continues the turn (large: no empty channel)", msgs, NULL, false, true,
                  true, want);
    snprintf(msgs, sizeof msgs, "[{\"role\":\"user\",\"content\":\"Weather?\"},%s,{\"role\":\"tool\","
             "\"tool_call_id\":\"c1\",\"content\":{\"temperature\":15,\"weather\":\"sunny\"}},"
             "{\"role\":\"assistant\",\"content\":\"The current weather in Tokyo is 15 degrees and sunny.\"}]",
             e_call);
    snprintf(want, sizeof want, "<bos><|turn>user\nWeather?<turn|>\n%sThe current weather in Tokyo is "
             "15 degrees and sunny.<turn|>\n<|turn>model\n", e_turn);
    expect_render("(e) full history after the answer", msgs, NULL, false, false, true, want);
    snprintf(msgs, sizeof msgs, "[{\"role\":\"user\",\"content\":\"Weather?\"},%s,{\"role\":\"tool\","
             "\"tool_call_id\":\"c1\",\"content\":\"15 degrees, sunny\"}]", e_call);
    expect_render("(e) string result as value:", msgs, NULL, false, false, true,
        "<bos><|turn>user\nWeather?<turn|>\n<|turn>model\n<|tool_call>call:get_current_weather"
        "{location:<|\"|>Tokyo, JP<|\"|>}<tool_call|><|tool_response>response:get_current_weather"
        "{value:<|\"|>15 degrees, sunny<|\"|>}<tool_response|>");

    /* (f) old thoughts are stripped from history */
    expect_render("(f) multi-turn with thinking",
        "[{\"role\":\"user\",\"content\":\"What is the water formula?\"},{\"role\":\"assistant\","
        "\"content\":\"<|channel>thought\\nThinking Process: ...<channel|>The term \\\"water formula\\\" "
        "can refer to H2O.\"},{\"role\":\"user\",\"content\":\"What is its boiling point in Celsius?\"}]",
        NULL, true, false, true,
        "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nWhat is the water formula?<turn|>\n"
        "<|turn>model\nThe term \"water formula\" can refer to H2O.<turn|>\n"
        "<|turn>user\nWhat is its boiling point in Celsius?<turn|>\n<|turn>model\n");
    expect_render("(f) reasoning kept before a tool call of the current turn",
        "[{\"role\":\"user\",\"content\":\"ls\"},{\"role\":\"assistant\",\"reasoning_content\":\"Run ls.\","
        "\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"sh\",\"arguments\":{\"cmd\":\"ls\"}}}]}]",
        NULL, true, false, true,
        "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nls<turn|>\n<|turn>model\n"
        "<|channel>thought\nRun ls.\n<channel|><|tool_call>call:sh{cmd:<|\"|>ls<|\"|>}<tool_call|><|tool_response>");
}

/* Read a whole file; NULL if it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0, k;
    char tmp[65536];
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (n + k + 1 > cap) {
            cap = (n + k + 1) * 2;
            char *p = realloc(buf, cap);
            if (!p) { free(buf); fclose(f); return NULL; }
            buf = p;
        }
        memcpy(buf + n, tmp, k);
        n += k;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

/* Every case of the fixture renders exactly as the official template did. */
static void test_fixture_cases(void)
{
    const char *fx = getenv("FIXTURES");
    char path[4096];
    snprintf(path, sizeof path, "%s/chat/cases.json", fx ? fx : "tests/fixtures");
    char *text = slurp(path);
    cJSON *all = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!CHECK(cJSON_IsArray(all), "fixture %s loads", path)) return;
    int n = 0, pass = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, all) {
        const cJSON *name = cJSON_GetObjectItem(c, "name"), *expect = cJSON_GetObjectItem(c, "expect");
        const cJSON *tools = cJSON_GetObjectItem(c, "tools");
        gm_chat_opts o = { .think = cJSON_IsTrue(cJSON_GetObjectItem(c, "think")),
                           .add_generation_prompt = !cJSON_IsFalse(cJSON_GetObjectItem(c, "gen")),
                           .family = cJSON_IsTrue(cJSON_GetObjectItem(c, "large")) ? GM_CHAT_LARGE
                                                                                   : GM_CHAT_SMALL };
        gm_err err = {0};
        char *got = gm_chat_render(cJSON_GetObjectItem(c, "messages"),
                                   cJSON_IsNull(tools) ? NULL : tools, &o, &err);
        bool ok = got && cJSON_IsString(expect) && strcmp(got, expect->valuestring) == 0;
        if (!ok)
            printf("# case %s\n# want: %s\n# got:  %s\n", cJSON_IsString(name) ? name->valuestring : "?",
                   cJSON_IsString(expect) ? expect->valuestring : "?", got ? got : err.msg);
        CHECK(ok, "template case %s", cJSON_IsString(name) ? name->valuestring : "?");
        pass += ok;
        n++;
        free(got);
    }
    CHECK(n >= 40 && pass == n, "all %d fixture cases match (%d passed)", n, pass);
    cJSON_Delete(all);
}

/* Our rules for inputs the template renders uselessly. */
static void test_extensions(void)
{
    expect_render("arguments as a JSON object string are parsed and sorted",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"b\\\": [1, 2.5], \\\"a\\\": {\\\"y\\\": null, \\\"X\\\": true}}\"}}]}]",
        NULL, false, false, true,
        "<bos><|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:f{a:{X:true,y:None},b:[1,2.5]}"
        "<tool_call|><|tool_response>");
    expect_render("arguments string that is not an object stays verbatim",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"[1,2]\"}}]}]", NULL, false, false, true,
        "<bos><|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:f{[1,2]}<tool_call|><|tool_response>");
    expect_render("tool content with JSON object text renders as a map",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"1\","
        "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]},{\"role\":\"tool\","
        "\"tool_call_id\":\"1\",\"content\":\" {\\\"ok\\\": true, \\\"Count\\\": 3, \\\"msg\\\": \\\"hi\\\"} \"}]",
        NULL, false, false, true,
        "<bos><|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|><|tool_response>"
        "response:f{Count:3,msg:<|\"|>hi<|\"|>,ok:true}<tool_response|>");
    expect_render("tool content that is JSON but not an object stays a string",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"1\","
        "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]},{\"role\":\"tool\","
        "\"tool_call_id\":\"1\",\"content\":\"[1, 2]\"}]", NULL, false, false, true,
        "<bos><|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|><|tool_response>"
        "response:f{value:<|\"|>[1, 2]<|\"|>}<tool_response|>");
    expect_render("tool content given as an object renders as a map, null as None",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"1\","
        "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{}}},{\"id\":\"2\",\"type\":"
        "\"function\",\"function\":{\"name\":\"g\",\"arguments\":{}}}]},{\"role\":\"tool\",\"tool_call_id\":"
        "\"1\",\"content\":{\"b\":[1,2],\"A\":{\"z\":null}}},{\"role\":\"tool\",\"tool_call_id\":\"2\","
        "\"content\":null}]", NULL, false, false, true,
        "<bos><|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|><|tool_call>call:g{}"
        "<tool_call|><|tool_response>response:f{A:{z:None},b:[1,2]}<tool_response|><|tool_response>"
        "response:g{value:None}<tool_response|>");
    expect_render("tool messages without ids or names take the call in the same position",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"a\","
        "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{}}},{\"id\":\"b\",\"type\":"
        "\"function\",\"function\":{\"name\":\"g\",\"arguments\":{}}}]},{\"role\":\"tool\",\"content\":\"1\"},"
        "{\"role\":\"tool\",\"content\":\"2\"}]", NULL, false, false, true,
        "<bos><|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|><|tool_call>call:g{}"
        "<tool_call|><|tool_response>response:f{value:<|\"|>1<|\"|>}<tool_response|><|tool_response>"
        "response:g{value:<|\"|>2<|\"|>}<tool_response|>");
    expect_render("a cJSON-unrepresentable big integer prints as the double it became",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"n\",\"arguments\":{\"h\":9007199254740993,\"f\":2.0}}}]}]", NULL, false, false, true,
        "<bos><|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:n{f:2,h:9007199254740992.0}"
        "<tool_call|><|tool_response>");
    expect_render("no generation prompt after a pending call even when asked",
        "[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
        "\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}]", NULL, false, true, true,
        "<bos><|turn>system\ns<turn|>\n<|turn>user\nx<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|>"
        "<|tool_response>");
}

/* Malformed input gives a clear error, never a crash. */
static void test_errors(void)
{
    gm_err err = {0};
    cJSON *obj = cJSON_CreateObject();
    char *s = gm_chat_render(obj, NULL, NULL, &err);
    CHECK(!s && err.code == GM_E_ARG && strstr(err.msg, "array"), "error: messages not an array (%s)", err.msg);
    cJSON_Delete(obj);
    memset(&err, 0, sizeof err);
    s = gm_chat_render(NULL, NULL, NULL, &err);
    CHECK(!s && err.code == GM_E_ARG, "error: messages NULL (%s)", err.msg);
    s = gm_chat_render(NULL, NULL, NULL, NULL);
    CHECK(!s, "error: NULL err pointer is allowed");
    expect_error("empty messages", "[]", NULL, "empty");
    expect_error("message not an object", "[\"hi\"]", NULL, "messages[0] is not an object");
    expect_error("unknown role", "[{\"role\":\"robot\",\"content\":\"x\"}]", NULL, "unknown role \"robot\"");
    expect_error("missing role", "[{\"content\":\"x\"}]", NULL, "no role");
    expect_error("tool call without name",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"type\":\"function\","
        "\"function\":{\"arguments\":{}}}]}]", NULL, "tool_calls[0] has no function.name");
    expect_error("tool call without function",
        "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"name\":\"f\"}]}]",
        NULL, "function.name");
    expect_error("array arguments", "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
        "\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":[1]}}]}]", NULL, "arguments must be an object");
    expect_error("number arguments", "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\","
        "\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":5}}]}]", NULL, "not a scalar");
    expect_error("tool_calls not an array", "[{\"role\":\"assistant\",\"tool_calls\":{}}]", NULL,
        "tool_calls is not an array");
    expect_error("orphan tool message", "[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"tool\","
        "\"content\":\"r\"}]", NULL, "does not follow an assistant message with tool_calls");
    expect_error("content of the wrong type", "[{\"role\":\"user\",\"content\":42}]", NULL,
        "neither a string nor");
    expect_error("text part without text", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]", NULL,
        "without a \"text\" string");
    expect_error("non-string reasoning", "[{\"role\":\"assistant\",\"reasoning\":[1]}]", NULL,
        "non-string reasoning");
    expect_error("tools not an array", "[{\"role\":\"user\",\"content\":\"x\"}]", "{\"a\":1}",
        "tools is not an array");
    expect_error("tool declaration without name", "[{\"role\":\"user\",\"content\":\"x\"}]",
        "[{\"type\":\"function\",\"function\":{\"description\":\"d\"}}]", "tools[0].function has no \"name\"");
    expect_error("tool declaration not an object", "[{\"role\":\"user\",\"content\":\"x\"}]", "[3]",
        "tools[0] is not an object");
}

/* gm_chat_format_value and the Python-style number printing. */
static void test_format_value(void)
{
    static const struct { const char *json, *want; } cases[] = {
        { "{\"b\":1,\"a\":\"x\"}", "{a:<|\"|>x<|\"|>,b:1}" },
        { "[true,false,null]", "[true,false,None]" },
        { "\"plain\"", "<|\"|>plain<|\"|>" },
        { "0.1", "0.1" }, { "100", "100" }, { "-0.0", "0" }, { "1e-5", "1e-05" },
        { "0.0001", "0.0001" }, { "1.5e300", "1.5e+300" }, { "123456789.125", "123456789.125" },
        { "1e16", "1e+16" }, { "-2.5", "-2.5" }, { "1e15", "1000000000000000" },
        { "{\"Zeta\":{\"b\":[],\"a\":{}},\"alpha\":[[1]]}", "{alpha:[[1]],Zeta:{a:{},b:[]}}" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *v = cJSON_Parse(cases[i].json);
        gm_err err = {0};
        char *s = v ? gm_chat_format_value(v, &err) : NULL;
        CHECK(s && strcmp(s, cases[i].want) == 0, "format_value %s -> %s (got %s)", cases[i].json,
              cases[i].want, s ? s : err.msg);
        free(s);
        cJSON_Delete(v);
    }
    cJSON *raw = cJSON_CreateRaw("15.0");
    char *s = gm_chat_format_value(raw, NULL);
    CHECK(s && strcmp(s, "15.0") == 0, "a raw number keeps its text (15.0)");
    free(s);
    cJSON_Delete(raw);
    gm_err err = {0};
    CHECK(!gm_chat_format_value(NULL, &err) && err.code == GM_E_ARG, "format_value(NULL) is an error");
}

/* Family detection by the template's generation-prompt logic. */
static void test_family(void)
{
    const char *large = "{%- if not enable_thinking | default(false) -%}\n"
                        "{{- '<|channel>thought\\n<channel|>' -}}\n{%- endif -%}";
    const char *small = "{{- '<|channel>thought\\n' + thinking_text + '\\n<channel|>' -}}"
                        "{{- '<|turn>model\\n' -}}";
    CHECK(gm_chat_family_from_template(large) == GM_CHAT_LARGE, "family: large template detected");
    CHECK(gm_chat_family_from_template(small) == GM_CHAT_SMALL, "family: small template detected");
    CHECK(gm_chat_family_from_template(NULL) == GM_CHAT_SMALL, "family: NULL template is small");
    CHECK(gm_chat_family_from_template("x<|channel>thought\n<channel|>y") == GM_CHAT_LARGE,
          "family: unescaped newline form detected");
}

/* Run every group; the exit status says whether any check failed. */
int main(void)
{
    test_spec_examples();
    test_fixture_cases();
    test_extensions();
    test_errors();
    test_format_value();
    test_family();
    return check_exit();
}
