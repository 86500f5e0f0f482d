/* check.h: the smallest test harness that fits the runner's protocol.
 *
 * Each CHECK prints "ok - what" or "not ok - what (file:line)"; check_exit()
 * returns the process status.  Tests stay plain C with no framework. */
#ifndef GEMMASH_CHECK_H
#define GEMMASH_CHECK_H
#include <stdio.h>
#include <stdarg.h>

static int check_failures_;

/* Print one check result; the message is printf-style. */
static inline int check_report_(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(ok ? "ok - " : "not ok - ", stdout);
    vprintf(fmt, ap);
    if (!ok) printf(" (%s:%d)", file, line);
    putchar('\n');
    fflush(stdout);
    va_end(ap);
    if (!ok) check_failures_++;
    return ok;
}

#define CHECK(cond, ...) check_report_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define check_exit() (check_failures_ ? 1 : 0)

#endif
