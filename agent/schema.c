/* schema.c: checking tool arguments against the tool's JSON Schema.
 *
 * A call that parses may still be wrong: a missing required argument, a
 * string where a number belongs, a key the tool does not have.  Running the
 * tool with it would fail in a less useful way, so the agent checks first and
 * sends the model a message naming the argument, what was expected and what
 * was found.  Only the subset of JSON Schema that tool declarations use is
 * supported (agent.h lists it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>
#include "agent.h"

/* What a value is, in the words of JSON Schema. */
static const char *kind_of(const cJSON *v)
{
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return v->valuedouble == floor(v->valuedouble) ? "integer" : "number";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "array";
    return "object";
}

/* Does v have schema type t (case-insensitive, as Gemma upper-cases them)? */
static bool has_type(const cJSON *v, const char *t)
{
    if (!strcasecmp(t, "string")) return cJSON_IsString(v);
    if (!strcasecmp(t, "number")) return cJSON_IsNumber(v);
    if (!strcasecmp(t, "integer"))
        return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.1e18;
    if (!strcasecmp(t, "boolean")) return cJSON_IsBool(v);
    if (!strcasecmp(t, "null")) return cJSON_IsNull(v);
    if (!strcasecmp(t, "array")) return cJSON_IsArray(v);
    if (!strcasecmp(t, "object")) return cJSON_IsObject(v);
    return false;
}

/* A short quote of a value for an error message. */
static void quote(const cJSON *v, char *buf, size_t cap)
{
    char *s = cJSON_PrintUnformatted(v);
    if (!s) { snprintf(buf, cap, "(a value)"); return; }
    if (strlen(s) > 60) snprintf(buf, cap, "%.57s...", s);
    else snprintf(buf, cap, "%s", s);
    free(s);
}

static int check(const cJSON *sc, const cJSON *v, const char *path, char *err, size_t cap);

/* Compose "path.key" or "path[i]" for nested messages. */
static void sub_path(char *out, size_t cap, const char *path, const char *key, int idx)
{
    if (key) snprintf(out, cap, "%s%s%s", path, path[0] ? "." : "", key);
    else snprintf(out, cap, "%s[%d]", path, idx);
}

#define WHERE(path) ((path)[0] ? (path) : "the arguments")

/* Objects: required keys, unknown keys, and each property's schema. */
static int check_object(const cJSON *sc, const cJSON *v, const char *path, char *err, size_t cap)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(sc, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(sc, "required");
    const cJSON *addl = cJSON_GetObjectItemCaseSensitive(sc, "additionalProperties");
    char sp[512];
    const cJSON *r;
    cJSON_ArrayForEach(r, req) {
        if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring)) {
            snprintf(err, cap, "%s: the required argument '%s' is missing", WHERE(path), r->valuestring);
            return -1;
        }
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, v) {
        const cJSON *ps = props ? cJSON_GetObjectItemCaseSensitive(props, kv->string) : NULL;
        sub_path(sp, sizeof sp, path, kv->string, 0);
        if (!ps) {
            if (cJSON_IsObject(addl)) { if (check(addl, kv, sp, err, cap)) return -1; continue; }
            if (cJSON_IsTrue(addl) || (!props && !addl)) continue;
            char names[300] = "";
            const cJSON *p;
            size_t k = 0;
            cJSON_ArrayForEach(p, props) {
                k += (size_t)snprintf(names + k, k < sizeof names ? sizeof names - k : 0,
                                      "%s%s", k ? ", " : "", p->string);
                if (k >= sizeof names) break;
            }
            snprintf(err, cap, "%s: unknown argument '%s' (known: %s)", WHERE(path), kv->string,
                     names[0] ? names : "none");
            return -1;
        }
        if (check(ps, kv, sp, err, cap)) return -1;
    }
    return 0;
}

/* Arrays: item counts and each item's schema. */
static int check_array(const cJSON *sc, const cJSON *v, const char *path, char *err, size_t cap)
{
    int n = cJSON_GetArraySize(v);
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(sc, "minItems");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(sc, "maxItems");
    if (cJSON_IsNumber(mn) && n < mn->valueint) {
        snprintf(err, cap, "%s: expected at least %d items, found %d", WHERE(path), mn->valueint, n);
        return -1;
    }
    if (cJSON_IsNumber(mx) && n > mx->valueint) {
        snprintf(err, cap, "%s: expected at most %d items, found %d", WHERE(path), mx->valueint, n);
        return -1;
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(sc, "items");
    if (!cJSON_IsObject(items)) return 0;
    char sp[512];
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v) {
        sub_path(sp, sizeof sp, path, NULL, i++);
        if (check(items, e, sp, err, cap)) return -1;
    }
    return 0;
}

/* Check the scalar bounds: minimum/maximum and string lengths. */
static int check_bounds(const cJSON *sc, const cJSON *v, const char *path, char *err, size_t cap)
{
    const cJSON *b;
    if (cJSON_IsNumber(v)) {
        if ((b = cJSON_GetObjectItemCaseSensitive(sc, "minimum")) && cJSON_IsNumber(b) &&
            v->valuedouble < b->valuedouble) {
            snprintf(err, cap, "%s: expected a number >= %g, found %g", WHERE(path), b->valuedouble, v->valuedouble);
            return -1;
        }
        if ((b = cJSON_GetObjectItemCaseSensitive(sc, "maximum")) && cJSON_IsNumber(b) &&
            v->valuedouble > b->valuedouble) {
            snprintf(err, cap, "%s: expected a number <= %g, found %g", WHERE(path), b->valuedouble, v->valuedouble);
            return -1;
        }
    }
    if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring);
        if ((b = cJSON_GetObjectItemCaseSensitive(sc, "minLength")) && cJSON_IsNumber(b) &&
            len < (size_t)b->valueint) {
            snprintf(err, cap, "%s: expected a string of at least %d characters", WHERE(path), b->valueint);
            return -1;
        }
        if ((b = cJSON_GetObjectItemCaseSensitive(sc, "maxLength")) && cJSON_IsNumber(b) &&
            len > (size_t)b->valueint) {
            snprintf(err, cap, "%s: expected a string of at most %d characters", WHERE(path), b->valueint);
            return -1;
        }
    }
    return 0;
}

/* One value against one schema node; recursive for objects and arrays. */
static int check(const cJSON *sc, const cJSON *v, const char *path, char *err, size_t cap)
{
    if (!cJSON_IsObject(sc)) return 0;
    char q[80];
    const cJSON *nullable = cJSON_GetObjectItemCaseSensitive(sc, "nullable");
    if (cJSON_IsNull(v) && cJSON_IsTrue(nullable)) return 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(sc, "type");
    if (cJSON_IsString(t) || cJSON_IsArray(t)) {
        bool ok = false;
        char want[128] = "";
        if (cJSON_IsString(t)) { ok = has_type(v, t->valuestring); snprintf(want, sizeof want, "%s", t->valuestring); }
        else {
            const cJSON *e;
            size_t k = 0;
            cJSON_ArrayForEach(e, t) {
                if (!cJSON_IsString(e)) continue;
                ok = ok || has_type(v, e->valuestring);
                k += (size_t)snprintf(want + k, k < sizeof want ? sizeof want - k : 0, "%s%s",
                                      k ? " or " : "", e->valuestring);
                if (k >= sizeof want) break;
            }
        }
        if (!ok) {
            for (char *c = want; *c; c++) if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
            quote(v, q, sizeof q);
            snprintf(err, cap, "%s: expected %s %s, found %s %s", WHERE(path),
                     strchr("aeiou", want[0]) ? "an" : "a", want, kind_of(v), q);
            return -1;
        }
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(sc, "enum");
    if (cJSON_IsArray(en)) {
        const cJSON *e;
        bool hit = false;
        cJSON_ArrayForEach(e, en) if (cJSON_Compare(e, v, true)) hit = true;
        if (!hit) {
            char *all = cJSON_PrintUnformatted(en);
            quote(v, q, sizeof q);
            snprintf(err, cap, "%s: expected one of %.300s, found %s", WHERE(path), all ? all : "the enum", q);
            free(all);
            return -1;
        }
    }
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(sc, "const");
    if (cn && !cJSON_Compare(cn, v, true)) {
        char w[80];
        quote(cn, w, sizeof w);
        quote(v, q, sizeof q);
        snprintf(err, cap, "%s: expected %s, found %s", WHERE(path), w, q);
        return -1;
    }
    if (check_bounds(sc, v, path, err, cap)) return -1;
    if (cJSON_IsObject(v)) return check_object(sc, v, path, err, cap);
    if (cJSON_IsArray(v)) return check_array(sc, v, path, err, cap);
    return 0;
}

/* Entry point: the empty path reads as 'the arguments' in messages. */
int ag_schema_validate(const cJSON *schema, const cJSON *value, char *err, size_t cap)
{
    char dummy[8];
    if (!err || !cap) { err = dummy; cap = sizeof dummy; }
    err[0] = 0;
    return check(schema, value, "", err, cap);
}

/* Find a tool's parameter schema in either declaration shape. */
const cJSON *ag_tool_params(const cJSON *tools, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        if (!f) f = t;
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(f, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "parameters");
            return p ? p : cJSON_GetObjectItemCaseSensitive(f, "input_schema");
        }
    }
    return NULL;
}
