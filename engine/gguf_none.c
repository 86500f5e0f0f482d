/* gguf_none.c: placeholder until the GGUF reader lands; says so clearly. */
#include "source.h"

gm_source *gm_source_open_gguf(const char *path, gm_err *err)
{
    gm_err_set(err, GM_E_UNSUPPORTED, "%s: not a checkpoint folder, and this build reads no GGUF files yet", path);
    return NULL;
}
