/* chat_decl.c: tool declarations in the system turn (gemma4-arch.md §7.3 c).
 *
 * A JSON-Schema function description becomes
 *   declaration:NAME{description:<|"|>…<|"|>,parameters:{properties:{…},
 *   required:[…],type:<|"|>OBJECT<|"|>}}
 * with properties sorted case-insensitively; per property: description,
 * then enum (strings) or items (arrays), nullable, then properties/required
 * (objects), and type last, upper-cased.  This follows the newest template
 * revision (the one that also accepts role:"tool" messages); older revisions
 * put nullable before enum/items and wrote "} }" between closing braces, the
 * newest writes "}}". */
#include <stdlib.h>
#include <string.h>
#include "chat_int.h"

#define QUOTE "<|\"|>"

/* forward: properties and items recurse into each other */
static void format_params(chat_buf *b, const cJSON *props, bool filter_keys);

/* Write each element of a "required" list as <|"|>x<|"|>, comma-separated.
 * Jinja iterates whatever it is given: lists by element, dicts by key,
 * strings by character; anything else renders nothing. */
static void put_required(chat_buf *b, const cJSON *req)
{
    if (cJSON_IsArray(req) || cJSON_IsObject(req)) {
        bool obj = cJSON_IsObject(req);
        for (const cJSON *c = req->child; c; c = c->next) {
            if (c != req->child) chat_puts(b, ",");
            chat_puts(b, QUOTE);
            if (obj) chat_puts(b, c->string ? c->string : "");
            else chat_py_str(b, c);
            chat_puts(b, QUOTE);
        }
    } else if (cJSON_IsString(req) && req->valuestring) {
        const unsigned char *s = (const unsigned char *)req->valuestring;
        for (size_t i = 0; s[i];) {
            size_t k = 1;
            while (s[i + k] && (s[i + k] & 0xc0) == 0x80) k++;
            if (i) chat_puts(b, ",");
            chat_puts(b, QUOTE);
            chat_put(b, (const char *)s + i, k);
            chat_puts(b, QUOTE);
            i += k;
        }
    }
}

/* The upper-cased type name of a schema node ("" when absent), as the
 * template's value['type'] | upper computes it.  Returns a malloc'd string
 * or NULL when out of memory. */
static char *type_upper(const cJSON *node)
{
    chat_buf t = {0}, u = {0};
    chat_py_str(&t, chat_get(node, "type"));
    chat_put_upper(&u, t.p ? t.p : "", t.len);
    free(t.p);
    if (t.oom) u.oom = true;
    return chat_take(&u);
}

/* The separator rule of format_parameters: a comma before every field but
 * the first. */
static void sep(chat_buf *b, bool *add_comma)
{
    if (*add_comma) chat_puts(b, ",");
    *add_comma = true;
}

/* The items:{…} block of an array property: every non-null key of the items
 * schema in sorted order, with properties/required/type treated specially. */
static void format_items(chat_buf *b, const cJSON *items)
{
    const cJSON **m;
    int n = chat_sorted_members(items, &m);
    if (n < 0) { b->oom = true; return; }
    chat_puts(b, "items:{");
    bool first = true;
    for (int i = 0; i < n; i++) {
        const cJSON *v = m[i];
        const char *k = v->string ? v->string : "";
        if (cJSON_IsNull(v)) continue;
        if (!first) chat_puts(b, ",");
        first = false;
        if (strcmp(k, "properties") == 0) {
            chat_puts(b, "properties:{");
            if (cJSON_IsObject(v)) format_params(b, v, false);
            chat_puts(b, "}");
        } else if (strcmp(k, "required") == 0) {
            chat_puts(b, "required:[");
            put_required(b, v);
            chat_puts(b, "]");
        } else if (strcmp(k, "type") == 0) {
            chat_puts(b, "type:");
            if (cJSON_IsString(v)) {
                chat_puts(b, QUOTE);
                chat_put_upper(b, v->valuestring, strlen(v->valuestring));
                chat_puts(b, QUOTE);
            } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
                /* map('upper') | list, then format_argument */
                chat_puts(b, "[");
                for (const cJSON *c = v->child; c; c = c->next) {
                    chat_buf t = {0};
                    if (cJSON_IsObject(v)) chat_puts(&t, c->string ? c->string : "");
                    else chat_py_str(&t, c);
                    if (c != v->child) chat_puts(b, ",");
                    chat_puts(b, QUOTE);
                    chat_put_upper(b, t.p ? t.p : "", t.len);
                    chat_puts(b, QUOTE);
                    if (t.oom) b->oom = true;
                    free(t.p);
                }
                chat_puts(b, "]");
            } else {
                chat_format_arg(b, v, true);
            }
        } else {
            chat_puts(b, k);
            chat_puts(b, ":");
            chat_format_arg(b, v, true);
        }
    }
    chat_puts(b, "}");
    free(m);
}

/* One property: NAME:{description,enum|items,nullable,properties,required,type}. */
static void format_property(chat_buf *b, const char *key, const cJSON *value)
{
    bool add_comma = false;
    chat_puts(b, key);
    chat_puts(b, ":{");
    const cJSON *desc = chat_get(value, "description");
    if (chat_truthy(desc)) {
        chat_puts(b, "description:" QUOTE);
        chat_py_str(b, desc);
        chat_puts(b, QUOTE);
        add_comma = true;
    }
    char *t = type_upper(value);
    if (!t) { b->oom = true; return; }
    if (strcmp(t, "STRING") == 0) {
        const cJSON *en = chat_get(value, "enum");
        if (chat_truthy(en)) {
            sep(b, &add_comma);
            chat_puts(b, "enum:");
            chat_format_arg(b, en, true);
        }
    } else if (strcmp(t, "ARRAY") == 0) {
        const cJSON *items = chat_get(value, "items");
        if (cJSON_IsObject(items) && items->child) {
            sep(b, &add_comma);
            format_items(b, items);
        }
    }
    if (chat_truthy(chat_get(value, "nullable"))) {
        sep(b, &add_comma);
        chat_puts(b, "nullable:true");
    }
    if (strcmp(t, "OBJECT") == 0) {
        const cJSON *props = chat_get(value, "properties");
        /* Without a properties map the template lists the node's own
         * non-schema keys as if they were properties. */
        sep(b, &add_comma);
        chat_puts(b, "properties:{");
        if (cJSON_IsObject(props)) format_params(b, props, false);
        else format_params(b, value, true);
        chat_puts(b, "}");
        const cJSON *req = chat_get(value, "required");
        if (chat_truthy(req)) {
            sep(b, &add_comma);
            chat_puts(b, "required:[");
            put_required(b, req);
            chat_puts(b, "]");
        }
    }
    sep(b, &add_comma);
    chat_puts(b, "type:" QUOTE);
    chat_puts(b, t);
    chat_puts(b, QUOTE "}");
    free(t);
}

/* format_parameters: the properties of a schema in sorted order; with
 * filter_keys the JSON-Schema keywords themselves are skipped. */
static void format_params(chat_buf *b, const cJSON *props, bool filter_keys)
{
    static const char *const standard[] = { "description", "type", "properties",
                                            "required", "nullable" };
    const cJSON **m;
    int n = chat_sorted_members(props, &m);
    if (n < 0) { b->oom = true; return; }
    bool first = true;
    for (int i = 0; i < n; i++) {
        const char *k = m[i]->string ? m[i]->string : "";
        bool skip = false;
        if (filter_keys)
            for (size_t j = 0; j < sizeof standard / sizeof *standard; j++)
                if (strcmp(k, standard[j]) == 0) skip = true;
        if (skip) continue;
        if (!first) chat_puts(b, ",");
        first = false;
        format_property(b, k, m[i]);
    }
    free(m);
}

/* format_function_declaration (see chat_int.h). */
int chat_format_decl(chat_buf *b, const cJSON *tool, int index, gm_err *err)
{
    if (!cJSON_IsObject(tool))
        return gm_err_set(err, GM_E_ARG, "chat: tools[%d] is not an object; expected "
                          "{\"type\":\"function\",\"function\":{\"name\":...}}", index);
    const cJSON *fn = chat_get(tool, "function");
    if (!fn && chat_get(tool, "name")) fn = tool;   /* flat {name, parameters} shape */
    if (!cJSON_IsObject(fn))
        return gm_err_set(err, GM_E_ARG, "chat: tools[%d] has no \"function\" object; expected "
                          "{\"type\":\"function\",\"function\":{\"name\":...}}", index);
    const cJSON *name = chat_get(fn, "name");
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return gm_err_set(err, GM_E_ARG, "chat: tools[%d].function has no \"name\" string; "
                          "every declared tool needs a name", index);
    chat_puts(b, "declaration:");
    chat_puts(b, name->valuestring);
    chat_puts(b, "{description:" QUOTE);
    chat_py_str(b, chat_get(fn, "description"));
    chat_puts(b, QUOTE);
    const cJSON *params = chat_get(fn, "parameters");
    if (chat_truthy(params)) {
        chat_puts(b, ",parameters:{");
        const cJSON *props = chat_get(params, "properties");
        if (chat_truthy(props)) {
            chat_puts(b, "properties:{");
            if (cJSON_IsObject(props)) format_params(b, props, false);
            chat_puts(b, "},");
        }
        const cJSON *req = chat_get(params, "required");
        if (chat_truthy(req)) {
            chat_puts(b, "required:[");
            put_required(b, req);
            chat_puts(b, "],");
        }
        const cJSON *ty = chat_get(params, "type");
        if (chat_truthy(ty)) {
            char *t = type_upper(params);
            if (!t) { b->oom = true; return 0; }
            chat_puts(b, "type:" QUOTE);
            chat_puts(b, t);
            chat_puts(b, QUOTE "}");
            free(t);
        }
        /* no type: the template never closes the parameters brace */
    }
    const cJSON *resp = cJSON_IsObject(fn) ? cJSON_GetObjectItemCaseSensitive(fn, "response") : NULL;
    if (resp) {
        chat_puts(b, ",response:{");
        const cJSON *rd = chat_get(resp, "description");
        if (chat_truthy(rd)) {
            chat_puts(b, "description:" QUOTE);
            chat_py_str(b, rd);
            chat_puts(b, QUOTE ",");
        }
        char *t = type_upper(resp);
        if (!t) { b->oom = true; return 0; }
        if (strcmp(t, "OBJECT") == 0) {
            chat_puts(b, "type:" QUOTE "OBJECT" QUOTE "}");
        }
        free(t);
    }
    chat_puts(b, "}");
    return 0;
}
