/* hint.c: explain a failure that looks like the fence at work, so that the
 * model (and the user) know what was refused and what to do instead. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "sb_int.h"

/* Case-sensitive search in a buffer that may hold NUL bytes. */
static bool has(const sb_result *r, const char *needle)
{
    return r->output && r->output_len && memmem(r->output, r->output_len, needle, strlen(needle)) != NULL;
}

/* Append text to the hint (space-separated). */
static void add(sb_result *r, const char *text)
{
    size_t used = strlen(r->hint), n = strlen(text);
    if (used && used + 1 < sizeof r->hint) r->hint[used++] = ' ';
    if (used + n >= sizeof r->hint) n = sizeof r->hint - used - 1;
    memcpy(r->hint + used, text, n);
    r->hint[used + n] = '\0';
}

/* Fill r->hint when the output or the exit status shows a denial or a limit. */
void sb_hint(const sb_policy *p, sb_result *r)
{
    char buf[512];
    if (p->mode == SB_MODE_FULL) return;
    if (r->exit_code == 128 + SIGXCPU) {
        snprintf(buf, sizeof buf, "sandbox: stopped by the CPU time limit (%ld s).", p->cpu_s);
        add(r, buf);
    }
    if (r->exit_code == 128 + SIGXFSZ || has(r, "File too large")) {
        snprintf(buf, sizeof buf, "sandbox: a file reached the size limit (%lld bytes).", p->fsize_bytes);
        add(r, buf);
    }
    if (has(r, "Cannot allocate memory") || has(r, "MemoryError") || has(r, "bad_alloc") ||
        has(r, "out of memory")) {
        snprintf(buf, sizeof buf, "sandbox: memory is limited to %lld MiB of address space.", p->as_bytes >> 20);
        add(r, buf);
    }
    if (has(r, "Resource temporarily unavailable") && (has(r, "fork") || has(r, "thread"))) {
        snprintf(buf, sizeof buf, "sandbox: processes are limited to %ld.", p->nproc);
        add(r, buf);
    }
    if (r->timed_out) add(r, "sandbox: the command ran out of time and its process group was killed.");
    if (r->exit_code == 0) return;
    bool net = false;
    if (!p->allow_network &&
        (has(r, "Network is unreachable") || has(r, "Connection refused") || has(r, "Could not resolve") ||
         has(r, "Temporary failure in name resolution") || has(r, "Name or service not known") ||
         has(r, "Address family not supported") || has(r, "getaddrinfo") ||
         (has(r, "Operation not permitted") && (has(r, "socket") || has(r, "connect")))))
    {
        add(r, "sandbox: network is off in this sandbox; rerun with --allow-network if the task needs it.");
        net = true;
    }
    if (has(r, "Permission denied") || has(r, "Read-only file system") || has(r, "EACCES") ||
        (!net && (has(r, "Operation not permitted") || has(r, "EPERM")))) {
        if (p->mode == SB_MODE_READ_ONLY) {
            snprintf(buf, sizeof buf, "sandbox: read-only mode: nothing is writable except the private "
                     "$TMPDIR; rerun in workspace-write mode to change files.");
        } else {
            int n = snprintf(buf, sizeof buf, "sandbox: outside the writable roots: writable are %s", p->workspace);
            for (int i = 0; i < p->n_writable && n > 0 && (size_t)n < sizeof buf; i++)
                n += snprintf(buf + n, sizeof buf - (size_t)n, ", %s", p->writable[i]);
            if (n > 0 && (size_t)n < sizeof buf)
                snprintf(buf + n, sizeof buf - (size_t)n, " and $TMPDIR (private, per run); secrets under HOME "
                         "are unreadable; ptrace, mount and namespaces are refused.");
        }
        add(r, buf);
    }
}
