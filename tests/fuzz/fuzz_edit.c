/* fuzz_edit.c: edit_file's matching on random inputs (libFuzzer).
 *
 * The input is split into a file, an old_string and a new_string (two
 * length bytes first).  Checks: gt_edit_apply never breaks its own
 * invariants (length arithmetic of a plain replacement, new text present),
 * gt_edit_closest stays inside the file, and the diff, glob and HTML helpers
 * never crash on the same bytes.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address -Iengine -Isandbox -Itools -Iagent tests/fuzz/fuzz_edit.c \
 *        tools/edit_core.c tools/util.c tools/diff.c tools/ignore.c tools/html.c */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tools_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One fuzz case. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    size_t ol = data[0] % 64, nl = data[1] % 64;
    bool all = data[2] & 1;
    data += 3;
    size -= 3;
    if (ol > size) ol = size;
    if (nl > size - ol) nl = size - ol;
    char *old_s = malloc(ol + 1), *new_s = malloc(nl + 1);
    if (!old_s || !new_s) abort();
    memcpy(old_s, data, ol);
    old_s[ol] = 0;
    memcpy(new_s, data + ol, nl);
    new_s[nl] = 0;
    const char *file = (const char *)data + ol + nl;
    size_t flen = size - ol - nl;

    gt_edit_out o;
    gt_edit_apply(file, flen, old_s, ol, new_s, nl, all, 1 << 20, &o);
    if (o.status == GT_EDIT_OK) {
        if (o.count < 1 || !o.data) abort();
        if (!o.crlf && !o.eof_nl_fixed && o.len != flen + (size_t)o.count * nl - (size_t)o.count * ol) abort();
        if (nl && !o.crlf && !o.eof_nl_fixed && !memmem(o.data, o.len, new_s, nl)) abort();
        gt_buf b = {0};
        gt_udiff(&b, file, flen, o.data, o.len, "a", "b", 3);
        if (!b.oom && o.len == flen && !memcmp(o.data, file, flen) && b.len) abort();
        gb_free(&b);
    }
    if (o.status == GT_EDIT_MULTIPLE && (o.count < 2 || all)) abort();
    free(o.data);

    gt_near n;
    gt_edit_closest(file, flen, old_s, ol, &n);
    int lines = gt_count_lines(file, flen);
    if (n.start && (n.start < 1 || n.end > lines || n.end < n.start)) abort();

    (void)gt_glob_match(old_s, new_s);
    char *t = gt_html_to_text(file, flen, 4096);
    free(t);
    free(old_s);
    free(new_s);
    return 0;
}
