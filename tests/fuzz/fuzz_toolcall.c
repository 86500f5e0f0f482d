/* fuzz_toolcall.c: libFuzzer target for the model-output reader.
 *
 * Arbitrary model output must never crash the parser, the value reader or
 * the grammar: the input is fed as text in pieces (the first byte picks the
 * piece size), then as symbols through a tool-call grammar, where every
 * accepted prefix must keep the machine consistent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"

static const char tools_json[] =
    "[{\"name\":\"w\",\"parameters\":{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"string\"},"
    "\"n\":{\"type\":\"integer\"},\"e\":{\"enum\":[\"a\",\"b\"]},\"l\":{\"type\":\"array\",\"items\":"
    "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"boolean\"}}}}},\"required\":[\"p\"]}},"
    "{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t step = 1 + data[0] % 16;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    ag_parser *p = ag_parser_new(NULL, NULL);
    if (!p) return 0;
    for (size_t i = 0; i < n; i += step) ag_parser_feed_text(p, s + i, i + step > n ? n - i : step);
    ag_parser_finish(p);
    ag_parser_free(p);

    size_t ns;
    int *syms = ag_text_to_syms(s, n, &ns);
    if (!syms) return 0;
    char err[256];
    cJSON_Delete(ag_parse_value(syms, ns, err, sizeof err));
    cJSON_Delete(ag_parse_call(syms, ns, err, sizeof err));

    cJSON *tools = cJSON_Parse(tools_json);
    ag_grammar *g = ag_grammar_toolcall(tools, NULL, err, sizeof err);
    ag_gstate *st = g ? ag_gstate_new(g) : NULL;
    if (st) {
        size_t k = 0;
        while (k < ns && ag_gstate_step(st, syms[k]) == 0) k++;
        /* an accepted, complete call must read back and validate */
        if (ag_gstate_done(st) && k > 0) {
            cJSON *c = ag_parse_call(syms, k - 1, err, sizeof err);
            if (!c) abort();
            const cJSON *nm = cJSON_GetObjectItem(c, "name");
            if (ag_schema_validate(ag_tool_params(tools, nm->valuestring),
                                   cJSON_GetObjectItem(c, "arguments"), err, sizeof err))
                abort();
            cJSON_Delete(c);
        }
    }
    ag_gstate_free(st);
    ag_grammar_free(g);
    cJSON_Delete(tools);
    free(syms);
    return 0;
}
