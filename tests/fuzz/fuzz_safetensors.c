/* fuzz_safetensors.c: the safetensors header validator on arbitrary bytes.
 * Whatever the input, it must return cleanly: accepted, or rejected with a
 * message; never a crash, a hang or a read outside the buffer. */
#include <stdint.h>
#include <stddef.h>
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gm_err err = {0};
    if (gm_safetensors_check_buf(data, size, "fuzz.safetensors", &err) != 0 && !err.msg[0])
        __builtin_trap();              /* a rejection must say why */
    return 0;
}
