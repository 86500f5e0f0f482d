/* err.c: the engine's one error-reporting helper, so every message is built
 * the same way (what happened, where, what was expected). */
#include <stdarg.h>
#include <stdio.h>
#include "engine.h"

int gm_err_set(gm_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}
