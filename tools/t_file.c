/* t_file.c: the read_file and write_file tools.
 *
 * read_file shows numbered lines within line and byte caps and says how to
 * read on; it refuses binary files and repairs invalid UTF-8.  write_file
 * replaces a whole file atomically through gt_write_file, which journals
 * the pre-image for undo. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools_int.h"

/* Append one numbered line, cut at max chars on a UTF-8 boundary; returns
 * the replaced-byte count. */
static size_t put_numbered(gt_buf *b, int no, const char *p, size_t n, int max)
{
    gb_printf(b, "%6d\t", no);
    size_t bad;
    if (max > 0 && n > (size_t)max) {
        size_t cut = (size_t)max;
        while (cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80) cut--;
        bad = gt_put_utf8(b, p, cut);
        gb_printf(b, " [... line cut, %zu more bytes]", n - cut);
    } else {
        bad = gt_put_utf8(b, p, n);
    }
    gb_putc(b, '\n');
    return bad;
}

/* Describe a binary file for the refusal message. */
static const char *binary_kind(const char *d, size_t n)
{
    if (n >= 4 && !memcmp(d, "\x7f" "ELF", 4)) return "an ELF executable or library";
    if (n >= 8 && !memcmp(d, "\x89PNG", 4)) return "a PNG image";
    if (n >= 3 && !memcmp(d, "\xff\xd8\xff", 3)) return "a JPEG image";
    if (n >= 4 && !memcmp(d, "PK\x03\x04", 4)) return "a zip archive";
    if (n >= 2 && !memcmp(d, "\x1f\x8b", 2)) return "a gzip file";
    if (n >= 4 && !memcmp(d, "%PDF", 4)) return "a PDF document";
    if (n >= 4 && !memcmp(d, "GGUF", 4)) return "a GGUF model file";
    return "binary data";
}

/* read_file(path, start_line?, end_line?) */
cJSON *gt_tool_read_file(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    (void)intr;
    const char *path = ga_str(a, "path");
    char res[GT_PATH_MAX], why[1024];
    struct stat st;
    int fd = gt_open_read(c, path, res, sizeof res, &st, why, sizeof why);
    if (fd < 0) return gt_fail(c, "read_file: %s", why);
    if ((unsigned long long)st.st_size > c->caps.file_max_bytes) {
        close(fd);
        char hs[32];
        gt_human_size((unsigned long long)st.st_size, hs, sizeof hs);
        return gt_fail(c, "read_file: %s is %s, over the %zu-byte limit; use shell with head, tail, sed -n "
                       "or grep to look at parts of it", path, hs, c->caps.file_max_bytes);
    }
    char *data;
    size_t len;
    int r = gt_read_fd(fd, c->caps.file_max_bytes, &data, &len, why, sizeof why);
    close(fd);
    if (r) return gt_fail(c, "read_file: %s: %s", path, why);
    if (gt_looks_binary(data, len)) {
        char hs[32];
        gt_human_size(len, hs, sizeof hs);
        cJSON *o = gt_fail(c, "read_file: %s is a binary file (%s, %s); read_file only shows text. Use shell "
                           "(file, xxd | head, strings) to inspect it", path, binary_kind(data, len), hs);
        free(data);
        if (o) gj_bool(c, o, "binary", true);
        return o;
    }
    gt_seen_set(c, res, &st, gt_hash(data, len));
    int total = gt_count_lines(data, len);
    long start = 1, end = 0;
    ga_int(a, "start_line", &start);
    bool has_end = ga_int(a, "end_line", &end);
    if (start < 1) start = 1;
    if (total == 0) {
        free(data);
        cJSON *o = gt_okres(c);
        if (!o) return NULL;
        gj_str(c, o, "path", gt_display(c, res));
        gj_str(c, o, "content", "");
        gj_num(c, o, "total_lines", 0);
        gj_str(c, o, "note", "the file is empty");
        return o;
    }
    if (start > total) {
        free(data);
        return gt_fail(c, "read_file: start_line %ld is past the end of %s, which has %d lines", start, path, total);
    }
    if (has_end && end < start) {
        free(data);
        return gt_fail(c, "read_file: end_line %ld is before start_line %ld", end, start);
    }
    if (!has_end || end > total) end = total;
    bool truncated = false;
    if (end - start + 1 > c->caps.read_max_lines) { end = start + c->caps.read_max_lines - 1; truncated = true; }
    gt_buf b = {0};
    size_t bad = 0, pos = 0;
    bool crlf = false;
    int line = 1, last = (int)start - 1;
    while (pos < len && line <= end) {
        const char *e = memchr(data + pos, '\n', len - pos);
        size_t n = e ? (size_t)(e - (data + pos)) : len - pos;
        if (line >= start) {
            size_t shown = n;
            if (shown && data[pos + shown - 1] == '\r') { shown--; crlf = true; }
            if (b.len > c->caps.read_max_bytes) { truncated = true; break; }
            bad += put_numbered(&b, line, data + pos, shown, c->caps.line_max_chars);
            last = line;
        }
        pos += n + (e ? 1 : 0);
        line++;
    }
    if (last < end) truncated = true;
    free(data);
    cJSON *o = gt_okres(c);
    if (!o) { gb_free(&b); return NULL; }
    gj_str(c, o, "path", gt_display(c, res));
    gj_buf(c, o, "content", &b);
    gj_num(c, o, "start_line", (double)start);
    gj_num(c, o, "end_line", last);
    gj_num(c, o, "total_lines", total);
    gj_bool(c, o, "truncated", truncated || last < total);
    char note[512] = "";
    if (last < total)
        snprintf(note, sizeof note, "showing lines %ld-%d of %d; call read_file with start_line=%d to read further",
                 start, last, total, last + 1);
    if (crlf) {
        size_t l = strlen(note);
        snprintf(note + l, sizeof note - l, "%sthe file uses CRLF line endings (shown without \\r; edit_file keeps them)",
                 l ? "; " : "");
    }
    if (bad) {
        size_t l = strlen(note);
        snprintf(note + l, sizeof note - l, "%s%zu invalid UTF-8 bytes are shown as U+FFFD", l ? "; " : "", bad);
    }
    if (note[0]) gj_str(c, o, "note", note);
    return o;
}

/* write_file(path, content) */
cJSON *gt_tool_write_file(gt_ctx *c, const cJSON *a, volatile sig_atomic_t *intr)
{
    (void)intr;
    const char *path = ga_str(a, "path"), *content = ga_str(a, "content");
    size_t len = strlen(content);
    if (len > c->caps.write_max_bytes)
        return gt_fail(c, "write_file: content is %zu bytes, over the %zu-byte limit; write smaller files", len,
                       c->caps.write_max_bytes);
    char res[GT_PATH_MAX], why[1024];
    if (gt_check(c, path, SB_ACCESS_WRITE, res, sizeof res, why, sizeof why))
        return gt_fail(c, "write_file: %s", why);
    bool created = false;
    if (gt_write_file(c, res, content, len, NULL, "write_file", true, &created, why, sizeof why))
        return gt_fail(c, "write_file: %s", why);
    cJSON *o = gt_okres(c);
    if (!o) return NULL;
    gj_str(c, o, "path", gt_display(c, res));
    gj_num(c, o, "bytes", (double)len);
    gj_num(c, o, "lines", gt_count_lines(content, len));
    gj_bool(c, o, "created", created);
    return o;
}
