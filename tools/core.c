/* core.c: the tool table, argument checking, dispatch and the context.
 *
 * Each tool is declared once here: its name, its description for the model,
 * its flat JSON Schema and its handler.  gt_call checks the arguments
 * against that schema (types, required, unknown names) before the handler
 * runs, so a malformed call gets a clear ok:false result instead of a crash. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools_int.h"

typedef cJSON *(*gt_handler)(gt_ctx *, const cJSON *, volatile sig_atomic_t *);

typedef struct tool_def {
    const char *name;
    const char *description;
    const char *parameters;     /* JSON Schema text */
    gt_handler  fn;
    bool        mutating;
} tool_def;

static const tool_def TOOLS[] = {
    {"shell",
     "Run a bash command in the workspace inside the sandbox. stdout and stderr are merged; long output "
     "keeps its head and tail and the full output is saved to a file you can read with read_file. "
     "Returns the exit code and the duration.",
     "{\"type\":\"object\",\"properties\":{"
     "\"command\":{\"type\":\"string\",\"description\":\"bash command line\"},"
     "\"workdir\":{\"type\":\"string\",\"description\":\"folder to run in (default: the workspace)\"},"
     "\"timeout_s\":{\"type\":\"integer\",\"description\":\"seconds before the command is stopped (default 120)\"}},"
     "\"required\":[\"command\"]}",
     gt_tool_shell, true},
    {"read_file",
     "Read a text file with line numbers. Use start_line and end_line (1-based, inclusive) to read part "
     "of a long file.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{\"type\":\"string\",\"description\":\"file path, relative to the workspace or absolute\"},"
     "\"start_line\":{\"type\":\"integer\",\"description\":\"first line to show (default 1)\"},"
     "\"end_line\":{\"type\":\"integer\",\"description\":\"last line to show\"}},"
     "\"required\":[\"path\"]}",
     gt_tool_read_file, false},
    {"write_file",
     "Create or overwrite a file with the given content (parent folders are created). Prefer edit_file "
     "to change part of an existing file.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{\"type\":\"string\",\"description\":\"file path, relative to the workspace or absolute\"},"
     "\"content\":{\"type\":\"string\",\"description\":\"the whole new content of the file\"}},"
     "\"required\":[\"path\",\"content\"]}",
     gt_tool_write_file, true},
    {"edit_file",
     "Replace an exact piece of text in a file. old_string must match the file exactly (whitespace "
     "included) and only once, unless replace_all is true; include enough surrounding lines to make it "
     "unique. On a miss the closest region of the file is returned.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{\"type\":\"string\",\"description\":\"file path, relative to the workspace or absolute\"},"
     "\"old_string\":{\"type\":\"string\",\"description\":\"exact text to replace\"},"
     "\"new_string\":{\"type\":\"string\",\"description\":\"replacement text\"},"
     "\"replace_all\":{\"type\":\"boolean\",\"description\":\"replace every occurrence (default false)\"}},"
     "\"required\":[\"path\",\"old_string\",\"new_string\"]}",
     gt_tool_edit_file, true},
    {"list_dir",
     "List a folder as a tree (files with sizes, folders ending in /), skipping what .gitignore ignores.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{\"type\":\"string\",\"description\":\"folder (default: the workspace)\"},"
     "\"depth\":{\"type\":\"integer\",\"description\":\"levels to descend, 1 to 5 (default 2)\"}},"
     "\"required\":[]}",
     gt_tool_list_dir, false},
    {"glob",
     "Find files whose path matches a glob pattern such as **/*.c or src/*.h (** crosses folders), "
     "skipping what .gitignore ignores.",
     "{\"type\":\"object\",\"properties\":{"
     "\"pattern\":{\"type\":\"string\",\"description\":\"glob pattern, relative to path\"},"
     "\"path\":{\"type\":\"string\",\"description\":\"folder to search (default: the workspace)\"}},"
     "\"required\":[\"pattern\"]}",
     gt_tool_glob, false},
    {"grep",
     "Search file contents with a POSIX extended regular expression; prints path:line:text. Skips binary "
     "files and what .gitignore ignores.",
     "{\"type\":\"object\",\"properties\":{"
     "\"pattern\":{\"type\":\"string\",\"description\":\"POSIX extended regular expression\"},"
     "\"path\":{\"type\":\"string\",\"description\":\"file or folder to search (default: the workspace)\"},"
     "\"glob\":{\"type\":\"string\",\"description\":\"only files matching this glob, e.g. *.c\"},"
     "\"context\":{\"type\":\"integer\",\"description\":\"lines of context around each match (0 to 10)\"},"
     "\"ignore_case\":{\"type\":\"boolean\",\"description\":\"case-insensitive match\"}},"
     "\"required\":[\"pattern\"]}",
     gt_tool_grep, false},
    {"fetch_url",
     "Download a web page over http or https and return it as text (HTML reduced to text). Only works "
     "when network access is enabled.",
     "{\"type\":\"object\",\"properties\":{"
     "\"url\":{\"type\":\"string\",\"description\":\"http:// or https:// address\"},"
     "\"max_bytes\":{\"type\":\"integer\",\"description\":\"download at most this many bytes\"}},"
     "\"required\":[\"url\"]}",
     gt_tool_fetch_url, false},
    {"todo",
     "Replace your plan with this list of steps. Each item has content and status (pending, in_progress "
     "or completed); keep one step in_progress.",
     "{\"type\":\"object\",\"properties\":{"
     "\"items\":{\"type\":\"array\",\"description\":\"the whole plan\",\"items\":{\"type\":\"object\","
     "\"properties\":{\"content\":{\"type\":\"string\"},\"status\":{\"type\":\"string\","
     "\"enum\":[\"pending\",\"in_progress\",\"completed\"]}},\"required\":[\"content\",\"status\"]}}},"
     "\"required\":[\"items\"]}",
     gt_tool_todo, false},
};
#define N_TOOLS ((int)(sizeof TOOLS / sizeof TOOLS[0]))

/* Table entry of a tool name, or NULL. */
static const tool_def *find_tool(const char *name)
{
    for (int i = 0; name && i < N_TOOLS; i++)
        if (!strcmp(TOOLS[i].name, name)) return &TOOLS[i];
    return NULL;
}

/* ---- result helpers ---- */

/* {"ok":false,"error":...}; NULL only when even that cannot be allocated. */
cJSON *gt_fail(gt_ctx *c, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    gj_bool(c, o, "ok", false);
    gj_str(c, o, "error", msg);
    return o;
}

/* {"ok":true}. */
cJSON *gt_okres(gt_ctx *c)
{
    cJSON *o = cJSON_CreateObject();
    if (o) gj_bool(c, o, "ok", true);
    else c->oom = true;
    return o;
}

/* Add a string field, noting out-of-memory in the context. */
void gj_str(gt_ctx *c, cJSON *o, const char *k, const char *v)
{
    if (!cJSON_AddStringToObject(o, k, v ? v : "")) c->oom = true;
}

/* Add a number field. */
void gj_num(gt_ctx *c, cJSON *o, const char *k, double v)
{
    if (!cJSON_AddNumberToObject(o, k, v)) c->oom = true;
}

/* Add a boolean field. */
void gj_bool(gt_ctx *c, cJSON *o, const char *k, bool v)
{
    if (!cJSON_AddBoolToObject(o, k, v)) c->oom = true;
}

/* Add a buffer's text as a string field and free the buffer. */
void gj_buf(gt_ctx *c, cJSON *o, const char *k, gt_buf *b)
{
    char *s = gb_take(b);
    if (!s) { c->oom = true; return; }
    gj_str(c, o, k, s);
    free(s);
}

/* String argument or NULL. */
const char *ga_str(const cJSON *args, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Integer argument; false when absent. */
bool ga_int(const cJSON *args, const char *k, long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, k);
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    *out = d > 1e15 ? (long)1e15 : d < -1e15 ? (long)-1e15 : (long)d;
    return true;
}

/* Boolean argument with a default. */
bool ga_bool(const cJSON *args, const char *k, bool dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* ---- argument checking ---- */

/* Does value v have the JSON Schema type t? */
static bool type_ok(const cJSON *v, const char *t)
{
    if (!strcmp(t, "string")) return cJSON_IsString(v) && v->valuestring;
    if (!strcmp(t, "boolean")) return cJSON_IsBool(v);
    if (!strcmp(t, "array")) return cJSON_IsArray(v);
    if (!strcmp(t, "object")) return cJSON_IsObject(v);
    if (!strcmp(t, "number")) return cJSON_IsNumber(v) && isfinite(v->valuedouble);
    if (!strcmp(t, "integer"))   /* range first: casting inf or 1e300 to an integer is undefined */
        return cJSON_IsNumber(v) && v->valuedouble > -1e15 && v->valuedouble < 1e15 &&
               v->valuedouble == (double)(long long)v->valuedouble;
    return true;
}

/* Name of v's JSON type, for error messages. */
static const char *type_name(const cJSON *v)
{
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsNull(v)) return "null";
    return "invalid";
}

/* Check args against a tool's schema; NULL when fine, else a failure result. */
cJSON *gt_check_args(gt_ctx *c, const char *tool, const cJSON *args)
{
    const cJSON *schema = gt_schema(c, tool);
    if (!schema) return gt_fail(c, "unknown tool '%s'", tool ? tool : "(none)");
    if (args && !cJSON_IsObject(args))
        return gt_fail(c, "%s: arguments must be a JSON object, got %s", tool, type_name(args));
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *a;
    cJSON_ArrayForEach(a, args) {
        if (!a->string) return gt_fail(c, "%s: malformed arguments object", tool);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(props, a->string);
        if (!p) {
            char names[512] = "";
            const cJSON *q;
            cJSON_ArrayForEach(q, props) {
                size_t l = strlen(names);
                snprintf(names + l, sizeof names - l, "%s%s", l ? ", " : "", q->string);
            }
            return gt_fail(c, "%s: unknown argument '%s'; the arguments are: %s", tool, a->string, names);
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "type");
        if (cJSON_IsString(t) && !cJSON_IsNull(a) && !type_ok(a, t->valuestring))
            return gt_fail(c, "%s: argument '%s' must be %s %s, got %s", tool, a->string,
                           strchr("aeiou", t->valuestring[0]) ? "an" : "a", t->valuestring, type_name(a));
    }
    cJSON_ArrayForEach(a, req) {
        if (!cJSON_IsString(a)) continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, a->valuestring);
        if (!v || cJSON_IsNull(v)) return gt_fail(c, "%s: missing required argument '%s'", tool, a->valuestring);
    }
    return NULL;
}

/* ---- public API ---- */

/* Context with default caps and the declarations parsed once. */
gt_ctx *gt_new(const sb_policy *policy, const char *output_dir, char *err, size_t errlen)
{
    if (!policy || !output_dir || !*output_dir) {
        snprintf(err, errlen, "gt_new: a policy and an output folder are required");
        return NULL;
    }
    if (strlen(output_dir) >= GT_PATH_MAX - 64) {
        snprintf(err, errlen, "gt_new: output folder path is too long: %s", output_dir);
        return NULL;
    }
    gt_ctx *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "gt_new: out of memory"); return NULL; }
    c->pol = policy;
    snprintf(c->outdir, sizeof c->outdir, "%s", output_dir);
    c->caps = (gt_caps){
        .read_max_bytes = 65536, .read_max_lines = 2000, .line_max_chars = 2000,
        .file_max_bytes = 64u << 20, .write_max_bytes = 16u << 20,
        .shell_max_capture = 32768, .shell_timeout_s = 120, .shell_max_timeout_s = 1800,
        .search_max_bytes = 65536, .search_max_results = 1000,
        .fetch_max_bytes = 2u << 20, .fetch_hard_max = 10u << 20, .fetch_max_text = 100000,
        .fetch_timeout_s = 30, .journal_max_bytes = 256u << 20,
    };
    if (mkdir(output_dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "gt_new: cannot create the output folder %s: %s", output_dir, strerror(errno));
        free(c);
        return NULL;
    }
    char res[GT_PATH_MAX], why[1024] = "";
    if (sb_check_path(policy, output_dir, SB_ACCESS_READ, res, sizeof res, why, sizeof why)) {
        snprintf(err, errlen, "gt_new: the output folder %s is not readable under the sandbox policy (%s); make it "
                 "a writable root so the model can read saved outputs", output_dir, why);
        free(c);
        return NULL;
    }
    c->todo = cJSON_CreateArray();
    c->decls = cJSON_CreateArray();
    if (!c->todo || !c->decls) goto oom;
    for (int i = 0; i < N_TOOLS; i++) {
        cJSON *params = cJSON_Parse(TOOLS[i].parameters);
        cJSON *d = cJSON_CreateObject(), *f = cJSON_CreateObject();
        if (!params || !d || !f) { cJSON_Delete(params); cJSON_Delete(d); cJSON_Delete(f); goto oom; }
        cJSON_AddItemToArray(c->decls, d);
        cJSON_AddItemToObject(d, "function", f);
        if (!cJSON_AddStringToObject(d, "type", "function") || !cJSON_AddStringToObject(f, "name", TOOLS[i].name) ||
            !cJSON_AddStringToObject(f, "description", TOOLS[i].description)) {
            cJSON_Delete(params);
            goto oom;
        }
        cJSON_AddItemToObject(f, "parameters", params);
    }
    return c;
oom:
    snprintf(err, errlen, "gt_new: out of memory building the tool declarations");
    gt_free(c);
    return NULL;
}

/* Free the context, its journal and its plan. */
void gt_free(gt_ctx *c)
{
    if (!c) return;
    while (c->n_jr) {
        gt_jentry *e = &c->jr[--c->n_jr];
        free(e->path);
        free(e->pre);
        free(e->tool);
        for (int i = 0; i < e->n_dirs; i++) free(e->dirs[i]);
        free(e->dirs);
    }
    free(c->jr);
    for (int i = 0; i < c->n_seen; i++) free(c->seen[i].path);
    free(c->seen);
    cJSON_Delete(c->todo);
    cJSON_Delete(c->decls);
    free(c);
}

/* Tunable limits. */
gt_caps *gt_caps_of(gt_ctx *c) { return &c->caps; }

/* Declarations, all or some. */
cJSON *gt_declarations(const gt_ctx *c, const char *const *only, int n_only)
{
    cJSON *out = cJSON_CreateArray();
    if (!out) return NULL;
    const cJSON *d;
    cJSON_ArrayForEach(d, c->decls) {
        const char *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "function"), "name")->valuestring;
        bool keep = !only;
        for (int i = 0; only && i < n_only; i++)
            if (only[i] && !strcmp(only[i], name)) keep = true;
        if (!keep) continue;
        cJSON *copy = cJSON_Duplicate(d, true);
        if (!copy) { cJSON_Delete(out); return NULL; }
        cJSON_AddItemToArray(out, copy);
    }
    return out;
}

/* Parameters schema of one tool. */
const cJSON *gt_schema(const gt_ctx *c, const char *name)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, c->decls) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(d, "function");
        if (name && !strcmp(cJSON_GetObjectItemCaseSensitive(f, "name")->valuestring, name))
            return cJSON_GetObjectItemCaseSensitive(f, "parameters");
    }
    return NULL;
}

/* Tools that change the world. */
bool gt_is_mutating(const char *name)
{
    const tool_def *t = find_tool(name);
    return t && t->mutating;
}

/* Check, dispatch, and make sure a result always comes back. */
cJSON *gt_call(gt_ctx *c, const char *name, const cJSON *args, volatile sig_atomic_t *interrupt)
{
    c->oom = false;
    const tool_def *t = find_tool(name);
    if (!t) {
        char names[256] = "";
        for (int i = 0; i < N_TOOLS; i++) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "", TOOLS[i].name);
        }
        return gt_fail(c, "unknown tool '%s'; the tools are: %s", name ? name : "(none)", names);
    }
    cJSON *bad = gt_check_args(c, t->name, args);
    if (bad) return bad;
    cJSON *empty = NULL;
    if (!args) {
        empty = cJSON_CreateObject();
        if (!empty) return gt_fail(c, "%s: out of memory", t->name);
        args = empty;
    }
    cJSON *r = t->fn(c, args, interrupt);
    cJSON_Delete(empty);
    if (!r || c->oom) {
        cJSON_Delete(r);
        c->oom = false;
        return gt_fail(c, "%s: out of memory while building the result", t->name);
    }
    return r;
}
