/* fuzz_chat.c: libFuzzer target for the chat format.
 *
 * The input is JSON text.  An object with "messages" (and maybe "tools") is
 * rendered as a conversation; any other value is rendered as the messages
 * array itself and through gm_chat_format_value.  The renderer must return
 * text or a clean error, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

/* Render once per option set; the results are only checked for shape. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (!root) return 0;
    const cJSON *msgs = root, *tools = NULL;
    if (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "messages")) {
        msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
        tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
    }
    for (int v = 0; v < 4; v++) {
        gm_chat_opts o = { .think = v & 1, .add_generation_prompt = true,
                           .family = (v & 2) ? GM_CHAT_LARGE : GM_CHAT_SMALL };
        gm_err err = {0};
        char *s = gm_chat_render(msgs, tools, &o, &err);
        if (s && strncmp(s, "<bos>", 5) != 0) abort();
        if (!s && err.msg[0] == '\0') abort();
        free(s);
    }
    char *f = gm_chat_format_value(root, NULL);
    free(f);
    cJSON_Delete(root);
    return 0;
}
