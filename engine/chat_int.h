/* chat_int.h: internals shared by the chat-format files (chat.c renders the
 * conversation, chat_decl.c the tool declarations, chat_fmt.c values).
 *
 * The rules mirror the Gemma 4 chat template (gemma4-arch.md §7): values are
 * printed the way a Jinja template running on Python objects prints them, so
 * the prompt is byte-identical to what the official template produces. */
#ifndef GEMMASH_CHAT_INT_H
#define GEMMASH_CHAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "engine.h"

/* A growable output string.  Allocation failure sets oom and makes every
 * later append a no-op, so callers check once at the end. */
typedef struct chat_buf {
    char  *p;
    size_t len, cap;
    bool   oom;
} chat_buf;

void chat_put(chat_buf *b, const char *s, size_t n);
void chat_puts(chat_buf *b, const char *s);
/* Append s upper-cased (ASCII letters only). */
void chat_put_upper(chat_buf *b, const char *s, size_t n);
/* Hand the text over (NUL-terminated, malloc'd); NULL on allocation failure. */
char *chat_take(chat_buf *b);

/* Python truthiness of a JSON value: null, false, 0, "", [] and {} are false;
 * a NULL pointer (absent key) is false too. */
bool chat_truthy(const cJSON *v);

/* Member lookup that treats a non-object like Jinja treats a failed lookup:
 * as undefined (NULL). */
const cJSON *chat_get(const cJSON *obj, const char *key);

/* Python str.strip() on UTF-8 text: the span without leading/trailing
 * Unicode whitespace. */
void chat_strip(const char *s, size_t n, const char **out, size_t *out_n);

/* Print a value the way Jinja's {{ x }} prints the Python object json.loads
 * would have made: strings verbatim, ints as ints, floats in Python repr,
 * True/False/None, lists and dicts in Python repr.  NULL (undefined) prints
 * nothing. */
void chat_py_str(chat_buf *b, const cJSON *v);

/* The template's format_argument: strings in <|"|>, booleans true/false,
 * maps {k:v} with keys sorted case-insensitively (keys in <|"|> when
 * escape_keys), lists [a,b], anything else as chat_py_str. */
void chat_format_arg(chat_buf *b, const cJSON *v, bool escape_keys);

/* The children of an object in Jinja dictsort order (case-insensitive by
 * key, stable).  *out is malloc'd (NULL when empty); returns the count or
 * -1 when out of memory. */
int chat_sorted_members(const cJSON *obj, const cJSON ***out);

/* One tool declaration: "declaration:NAME{...}" (without <|tool>).  Returns
 * 0, or -1 with err set when the tool has no function name. */
int chat_format_decl(chat_buf *b, const cJSON *tool, int index, gm_err *err);

#endif
