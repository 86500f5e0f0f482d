/* fuzz_sse.c: the chat-completions stream reader (agent/remote.c) on
 * arbitrary bytes: SSE framing, chunk JSON, tool-call fragments by index,
 * the non-streamed reply path, and assembling the final message.  The first
 * byte picks the split size, so framing across reads is exercised too. */
#include <stdint.h>
#include "../../agent/remote.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t step = (size_t)(data[0] % 17) + 1;
    rm_params p = {0};
    rstream r = {.p = &p, .retry_after = -1, .last_call = -1, .ptok = -1, .ctok = -1, .status = 200, .sse = true};
    int bad = 0;
    for (size_t i = 1; i < size && !bad; i += step)
        bad = sse_feed(&r, (const char *)data + i, size - i < step ? size - i : step) != 0;
    if (!bad && r.data.n) on_event(&r, r.data.s);
    cJSON_Delete(build_message(&r));
    rs_free(&r);
    rstream w = {.p = &p, .retry_after = -1, .last_call = -1, .ptok = -1, .ctok = -1, .status = 200};
    rb_add(&w.body, (const char *)data + 1, size - 1);
    if (take_whole(&w) == 0) cJSON_Delete(build_message(&w));
    rs_free(&w);
    return 0;
}
