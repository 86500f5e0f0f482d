/* grammar.c: a symbol-level machine that knows which output is still valid.
 *
 * Constrained decoding needs, at every step, the set of next symbols that
 * keep a tool call (or a JSON answer) valid against its schema.  The schema
 * is compiled once into nodes; a state is a small stack of frames (one per
 * open object, array, string, number or literal).  Fixed words (tool names
 * with "call:" and "{", argument keys with ":", enum values, true/false/null)
 * are sorted literal sets, so the candidates still alive after a prefix are
 * a contiguous range [lo, hi): stepping narrows the range.  Each literal set
 * is prefix-free because every entry carries its terminator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include "grammar_int.h"

enum { K_STR = 1, K_NUM = 2, K_INT = 4, K_BOOL = 8, K_NULL = 16, K_ARR = 32, K_OBJ = 64, K_ANY = 127 };
enum { SYN_GEMMA = 0, SYN_JSON = 1 };
enum { F_VALUE = 1, F_STR, F_STR_ESC, F_STR_HEX, F_NUM, F_LIT, F_OBJ_KEY, F_FREEKEY, F_COLON,
       F_OBJ_AFTER, F_ARR_FIRST, F_ARR_AFTER, F_CALL_TAIL, F_DONE, F_JROOT };
enum { LIT_VALUE = 0, LIT_KEY = 1, LIT_NAME = 2 };   /* what completing a literal means */

#define MAX_NUM_LEN 24
#define MAX_FREEKEY 64
#define MAX_INT_LEN 18
#define MAX_WS 8
#define MAX_SCHEMA_DEPTH 10

struct glits { int n; int **s; int *len; };

struct gnode {
    int     kinds;
    glits  *en;            /* enum/const literals, or NULL */
    /* object */
    int     nprops;
    glits  *keys;          /* sorted "key:" literals; keys->... index -> prop */
    gnode **child;         /* child[i] for keys literal i */
    uint64_t reqmask;
    int     nreq_over;     /* required keys past the first 64 (not tracked) */
    bool    free_keys;     /* no declared properties: any key, any value */
    /* array */
    gnode  *items;
    int     min_items, max_items;
};

struct ag_grammar {
    int     syntax;
    int     n_nodes, cap_nodes;
    gnode **nodes;         /* all nodes, for freeing */
    glits  *lits_bool, *lits_null, *names;
    gnode  *root;          /* JSON: the value; call: unused */
    gnode **tool_args;     /* call: per names literal, the arguments node */
    gnode  *any;
    int     max_str;       /* bytes per string, 0 = no cap */
};

/* ---- literal sets ---------------------------------------------------- */

/* Lexicographic order of symbol strings (shorter prefix first). */
static int sym_cmp(const int *a, int la, const int *b, int lb)
{
    for (int i = 0; i < la && i < lb; i++) if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return la - lb;
}

/* Free a literal set and its strings. */
static void lits_free(glits *l)
{
    if (!l) return;
    for (int i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s); free(l->len); free(l);
}

/* Build a sorted literal set; perm (may be NULL) receives the original index
 * of each sorted entry.  Returns NULL on allocation failure. */
static glits *lits_new(int n, int **s, int *len, int *perm)
{
    glits *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->s = calloc((size_t)n + 1, sizeof *l->s);
    l->len = calloc((size_t)n + 1, sizeof *l->len);
    if (!l->s || !l->len) { lits_free(l); return NULL; }
    l->n = n;
    int *idx = malloc(((size_t)n + 1) * sizeof *idx);
    if (!idx) { lits_free(l); return NULL; }
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = 1; i < n; i++)         /* insertion sort: sets are small */
        for (int j = i; j > 0 && sym_cmp(s[idx[j - 1]], len[idx[j - 1]], s[idx[j]], len[idx[j]]) > 0; j--) {
            int t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t;
        }
    for (int i = 0; i < n; i++) {
        l->s[i] = s[idx[i]]; l->len[i] = len[idx[i]];
        if (perm) perm[i] = idx[i];
    }
    free(idx);
    return l;
}

/* Symbols of a text, with optional prefix/suffix control symbols (-1 = none). */
static int *syms_of(const char *pre, int pre_sym, const char *txt, int post_sym, const char *post, int *n)
{
    size_t lp = pre ? strlen(pre) : 0, lt = strlen(txt), lq = post ? strlen(post) : 0;
    int *o = malloc((lp + lt + lq + 2) * sizeof *o);
    if (!o) return NULL;
    int k = 0;
    for (size_t i = 0; i < lp; i++) o[k++] = (unsigned char)pre[i];
    if (pre_sym >= 0) o[k++] = pre_sym;
    for (size_t i = 0; i < lt; i++) o[k++] = (unsigned char)txt[i];
    if (post_sym >= 0) o[k++] = post_sym;
    for (size_t i = 0; i < lq; i++) o[k++] = (unsigned char)post[i];
    *n = k;
    return o;
}

/* ---- schema compilation ---------------------------------------------- */

/* A new schema node, owned by the grammar (freed with it). */
static gnode *node_new(ag_grammar *g)
{
    if (g->n_nodes == g->cap_nodes) {
        int c = g->cap_nodes ? g->cap_nodes * 2 : 16;
        gnode **q = realloc(g->nodes, (size_t)c * sizeof *q);
        if (!q) return NULL;
        g->nodes = q; g->cap_nodes = c;
    }
    gnode *n = calloc(1, sizeof *n);
    if (n) g->nodes[g->n_nodes++] = n;
    return n;
}

/* The K_* bit of a JSON Schema type name, any case. */
static int kind_bit(const char *t)
{
    static const char *const names[] = {"string", "number", "integer", "boolean", "null", "array", "object"};
    for (int i = 0; i < 7; i++) if (!strcasecmp(t, names[i])) return 1 << i;
    return 0;
}

/* An enum value as the literal symbols of this syntax. */
static int *enum_lit(const ag_grammar *g, const cJSON *v, int *n)
{
    if (cJSON_IsString(v) && g->syntax == SYN_GEMMA)
        return syms_of(NULL, AG_SYM_QUOTE, v->valuestring, AG_SYM_QUOTE, NULL, n);
    char *t = cJSON_PrintUnformatted(v);
    if (!t) return NULL;
    int *o = syms_of(NULL, -1, t, -1, NULL, n);
    free(t);
    return o;
}

static gnode *compile(ag_grammar *g, const cJSON *sc, int depth, char *err, size_t cap);

/* Objects: sorted "key:" literals, a child node per key, the required mask. */
static int compile_object(ag_grammar *g, gnode *n, const cJSON *sc, int depth, char *err, size_t cap)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(sc, "properties");
    int np = cJSON_GetArraySize(props);
    if (np == 0) { n->free_keys = true; return 0; }
    int **s = calloc((size_t)np, sizeof *s), *len = calloc((size_t)np, sizeof *len);
    int *perm = calloc((size_t)np, sizeof *perm);
    gnode **ch = calloc((size_t)np, sizeof *ch);
    const cJSON **pv = calloc((size_t)np, sizeof *pv);
    int rc = -1, i = 0;
    if (!s || !len || !perm || !ch || !pv) { snprintf(err, cap, "out of memory compiling a schema"); goto out; }
    const cJSON *p;
    cJSON_ArrayForEach(p, props) {
        pv[i] = p;
        s[i] = g->syntax == SYN_GEMMA ? syms_of(NULL, -1, p->string, -1, ":", &len[i])
                                      : syms_of("\"", -1, p->string, -1, "\":", &len[i]);
        if (!s[i]) { snprintf(err, cap, "out of memory compiling a schema"); goto out; }
        i++;
    }
    n->keys = lits_new(np, s, len, perm);
    if (!n->keys) { snprintf(err, cap, "out of memory compiling a schema"); goto out; }
    free(s); s = NULL;        /* now owned by the literal set */
    n->nprops = np;
    for (int k = 0; k < np; k++) {
        ch[k] = compile(g, pv[perm[k]], depth + 1, err, cap);
        if (!ch[k]) goto out;
    }
    n->child = ch; ch = NULL;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(sc, "required")) {
        if (!cJSON_IsString(r)) continue;
        int hit = -1;
        for (int k = 0; k < np; k++)
            if (!strcmp(pv[perm[k]]->string, r->valuestring)) hit = k;
        if (hit < 0) {
            snprintf(err, cap, "schema: required key '%s' is not among the properties", r->valuestring);
            goto out;
        }
        if (hit < 64) n->reqmask |= 1ull << hit; else n->nreq_over++;
    }
    rc = 0;
out:
    if (s) for (int k = 0; k < np; k++) free(s[k]);
    free(s); free(len); free(perm); free(ch); free(pv);
    return rc;
}

/* One schema node: its kinds, enum literals, object keys, array items. */
static gnode *compile(ag_grammar *g, const cJSON *sc, int depth, char *err, size_t cap)
{
    if (depth > MAX_SCHEMA_DEPTH) {
        snprintf(err, cap, "schema nests deeper than %d levels; flatten it", MAX_SCHEMA_DEPTH);
        return NULL;
    }
    if (!cJSON_IsObject(sc)) return g->any;
    gnode *n = node_new(g);
    if (!n) { snprintf(err, cap, "out of memory compiling a schema"); return NULL; }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(sc, "type");
    if (cJSON_IsString(t)) n->kinds = kind_bit(t->valuestring);
    else if (cJSON_IsArray(t)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, t) if (cJSON_IsString(e)) n->kinds |= kind_bit(e->valuestring);
    } else if (cJSON_GetObjectItemCaseSensitive(sc, "properties")) n->kinds = K_OBJ;
    else n->kinds = K_ANY;
    if (n->kinds & K_NUM) n->kinds |= K_INT;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sc, "nullable"))) n->kinds |= K_NULL;
    if (!n->kinds) { snprintf(err, cap, "schema: unknown type"); return NULL; }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(sc, "enum");
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(sc, "const");
    if (cJSON_IsArray(en) || cn) {
        int ne = cn ? 1 : cJSON_GetArraySize(en);
        if (ne == 0) { snprintf(err, cap, "schema: an empty enum admits no value"); return NULL; }
        int **s = calloc((size_t)ne, sizeof *s), *len = calloc((size_t)ne, sizeof *len), k = 0;
        if (!s || !len) { free(s); free(len); snprintf(err, cap, "out of memory"); return NULL; }
        const cJSON *e;
        if (cn) { s[0] = enum_lit(g, cn, &len[0]); k = 1; }
        else cJSON_ArrayForEach(e, en) { s[k] = enum_lit(g, e, &len[k]); k++; }
        for (int i = 0; i < k; i++)
            if (!s[i]) { for (int j = 0; j < k; j++) free(s[j]); free(s); free(len); return NULL; }
        n->en = lits_new(ne, s, len, NULL);
        free(s); free(len);
        if (!n->en) { snprintf(err, cap, "out of memory"); return NULL; }
        return n;
    }
    if (n->kinds & K_OBJ) {
        if (compile_object(g, n, sc, depth, err, cap)) return NULL;
    }
    n->max_items = -1;
    if (n->kinds & K_ARR) {
        const cJSON *mn = cJSON_GetObjectItemCaseSensitive(sc, "minItems");
        const cJSON *mx = cJSON_GetObjectItemCaseSensitive(sc, "maxItems");
        n->min_items = cJSON_IsNumber(mn) ? mn->valueint : 0;
        n->max_items = cJSON_IsNumber(mx) ? mx->valueint : -1;
        if (n->max_items >= 0 && n->max_items < n->min_items) {
            snprintf(err, cap, "schema: maxItems < minItems admits no array");
            return NULL;
        }
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(sc, "items");
        n->items = compile(g, it, depth + 1, err, cap);
        if (!n->items) return NULL;
    }
    return n;
}

/* Shared parts of both grammars: the any-node and true/false/null literals. */
static ag_grammar *grammar_base(int syntax, char *err, size_t cap)
{
    ag_grammar *g = calloc(1, sizeof *g);
    if (!g) { snprintf(err, cap, "out of memory"); return NULL; }
    g->syntax = syntax;
    int *s[2], len[2];
    s[0] = syms_of(NULL, -1, "true", -1, NULL, &len[0]);
    s[1] = syms_of(NULL, -1, "false", -1, NULL, &len[1]);
    if (s[0] && s[1]) g->lits_bool = lits_new(2, s, len, NULL);
    int *nl[1], nlen[1];
    nl[0] = syms_of(NULL, -1, "null", -1, NULL, &nlen[0]);
    if (nl[0]) g->lits_null = lits_new(1, nl, nlen, NULL);
    g->any = node_new(g);
    if (!g->lits_bool || !g->lits_null || !g->any) {
        if (!g->lits_bool) { free(s[0]); free(s[1]); }
        if (!g->lits_null) free(nl[0]);
        ag_grammar_free(g);
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    g->any->kinds = K_ANY; g->any->free_keys = true; g->any->max_items = -1;
    g->any->items = g->any;
    return g;
}

/* The --output-schema grammar: one JSON value. */
ag_grammar *ag_grammar_json(const cJSON *schema, char *err, size_t cap)
{
    ag_grammar *g = grammar_base(SYN_JSON, err, cap);
    if (!g) return NULL;
    g->root = compile(g, schema, 0, err, cap);
    if (!g->root) { ag_grammar_free(g); return NULL; }
    return g;
}

/* The tool-call grammar: names as literals, each with its arguments node. */
ag_grammar *ag_grammar_toolcall(const cJSON *tools, const char *only, char *err, size_t cap)
{
    ag_grammar *g = grammar_base(SYN_GEMMA, err, cap);
    if (!g) return NULL;
    int nt = cJSON_GetArraySize(tools), k = 0;
    int **s = calloc((size_t)nt + 1, sizeof *s), *len = calloc((size_t)nt + 1, sizeof *len);
    int *perm = calloc((size_t)nt + 1, sizeof *perm);
    const cJSON **params = calloc((size_t)nt + 1, sizeof *params);
    g->tool_args = calloc((size_t)nt + 1, sizeof *g->tool_args);
    if (!s || !len || !perm || !params || !g->tool_args) { snprintf(err, cap, "out of memory"); goto fail; }
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(t, "function");
        if (!f) f = t;
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");
        if (!cJSON_IsString(nm)) continue;
        if (only && strcmp(only, nm->valuestring)) continue;
        params[k] = ag_tool_params(tools, nm->valuestring);
        s[k] = syms_of("call:", -1, nm->valuestring, -1, "{", &len[k]);
        if (!s[k]) { snprintf(err, cap, "out of memory"); goto fail; }
        k++;
    }
    if (k == 0) {
        snprintf(err, cap, only ? "no declared tool is named '%s'" : "no tools are declared%s", only ? only : "");
        goto fail;
    }
    g->names = lits_new(k, s, len, perm);
    if (!g->names) { snprintf(err, cap, "out of memory"); goto fail; }
    free(s); s = NULL;
    for (int i = 0; i < k; i++) {
        gnode *a = compile(g, params[perm[i]], 1, err, cap);
        if (!a) goto fail;
        if (a == g->any) {               /* no schema: any keys, any values */
            a = node_new(g);
            if (!a) { snprintf(err, cap, "out of memory"); goto fail; }
            a->kinds = K_OBJ; a->free_keys = true; a->max_items = -1;
        }
        if (!(a->kinds & K_OBJ) || a->en) { snprintf(err, cap, "tool parameters must be an object schema"); goto fail; }
        a->kinds = K_OBJ;
        g->tool_args[i] = a;
    }
    free(len); free(perm); free(params);
    return g;
fail:
    if (s) for (int i = 0; i < k; i++) free(s[i]);
    free(s); free(len); free(perm); free(params);
    ag_grammar_free(g);
    return NULL;
}

/* Free every node and literal set of a grammar. */
void ag_grammar_free(ag_grammar *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_nodes; i++) {
        gnode *n = g->nodes[i];
        lits_free(n->en); lits_free(n->keys); free(n->child); free(n);
    }
    free(g->nodes);
    lits_free(g->lits_bool); lits_free(g->lits_null); lits_free(g->names);
    free(g->tool_args);
    free(g);
}

/* ---- the machine ------------------------------------------------------ */

/* Open a frame on the state's stack (NULL when nesting is too deep). */
static gframe *push(ag_gstate *s, int st, const gnode *n)
{
    if (s->depth >= G_MAXD) return NULL;
    gframe *f = &s->f[s->depth++];
    memset(f, 0, sizeof *f);
    f->st = (uint8_t)st; f->n = n; f->first = 1;
    return f;
}

/* Open a literal frame over a whole literal set. */
static void push_lit(ag_gstate *s, const glits *L, int purpose, const gnode *n)
{
    gframe *f = push(s, F_LIT, n);
    if (!f) return;
    f->L = L; f->lo = 0; f->hi = (uint32_t)L->n; f->sub = (uint8_t)purpose;
}

/* Back to the start: before 'call:' or before the JSON value. */
void ag_gstate_reset(ag_gstate *s)
{
    s->depth = 0; s->ws = 0;
    if (s->g->syntax == SYN_GEMMA) {
        push(s, F_CALL_TAIL, NULL);
        push_lit(s, s->g->names, LIT_NAME, NULL);
    } else {
        push(s, F_JROOT, NULL);
        push(s, F_VALUE, s->g->root);
    }
}

/* A state at the start of grammar g. */
ag_gstate *ag_gstate_new(const ag_grammar *g)
{
    ag_gstate *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->g = g;
    ag_gstate_reset(s);
    return s;
}

void ag_gstate_free(ag_gstate *s) { free(s); }

/* The mask copies states at every trie branch: copy only live frames. */
void ag_gs_copy(ag_gstate *d, const ag_gstate *s)
{
    d->g = s->g; d->depth = s->depth; d->ws = s->ws;
    memcpy(d->f, s->f, (size_t)s->depth * sizeof s->f[0]);
}

/* Are all required keys of an object frame given? */
static bool obj_complete(const gframe *f)
{
    return (f->seen & f->n->reqmask) == f->n->reqmask;
}

/* Is there a key left that may still be given? */
static bool obj_key_left(const gframe *f)
{
    if (f->n->free_keys) return true;
    for (int i = 0; i < f->n->nprops; i++) if (i >= 64 || !(f->seen & (1ull << i))) return true;
    return false;
}

/* Can this number frame end here (complete digits)? */
static bool num_can_end(const gframe *f) { return f->sub == 1 || f->sub == 2 || f->sub == 4 || f->sub == 7; }

/* UTF-8 well-formedness inside strings, one byte at a time. */
static int utf8_step(gframe *f, int c)
{
    if (f->u8need) {
        if (c < f->u8lo || c > f->u8hi) return -1;
        f->u8need--; f->u8lo = 0x80; f->u8hi = 0xBF;
        return 0;
    }
    if (c < 0x80) return 0;
    f->u8lo = 0x80; f->u8hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) f->u8need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        f->u8need = 2;
        if (c == 0xE0) f->u8lo = 0xA0;
        if (c == 0xED) f->u8hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        f->u8need = 3;
        if (c == 0xF0) f->u8lo = 0x90;
        if (c == 0xF4) f->u8hi = 0x8F;
    } else return -1;
    return 0;
}

static bool is_ws(int c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Whitespace is allowed between JSON tokens, a bounded run at a time. */
static int take_ws(ag_gstate *s, int c)
{
    if (s->g->syntax != SYN_JSON || !is_ws(c) || s->ws >= MAX_WS) return -1;
    s->ws++;
    return 0;
}

/* Start a value in frame f (state F_VALUE) on its first symbol. */
static int value_start(ag_gstate *s, gframe *f, int c)
{
    const gnode *n = f->n;
    bool json = s->g->syntax == SYN_JSON;
    if (json && is_ws(c)) return take_ws(s, c);
    if (n->en) {
        f->st = F_LIT; f->L = n->en; f->lo = 0; f->hi = (uint32_t)n->en->n; f->sub = LIT_VALUE; f->pos = 0;
        return 1;    /* re-dispatch c into the literal */
    }
    if ((n->kinds & K_STR) && c == (json ? '"' : AG_SYM_QUOTE)) { f->st = F_STR; f->u8need = 0; f->count = 0; return 0; }
    if ((n->kinds & (K_NUM | K_INT)) && (c == '-' || (c >= '0' && c <= '9'))) {
        f->st = F_NUM; f->sub = 0; f->pos = 0;
        return 1;
    }
    if ((n->kinds & K_BOOL) && (c == 't' || c == 'f')) {
        f->st = F_LIT; f->L = s->g->lits_bool; f->lo = 0; f->hi = 2; f->sub = LIT_VALUE; f->pos = 0;
        return 1;
    }
    if ((n->kinds & K_NULL) && c == 'n') {
        f->st = F_LIT; f->L = s->g->lits_null; f->lo = 0; f->hi = 1; f->sub = LIT_VALUE; f->pos = 0;
        return 1;
    }
    bool room = s->depth < G_MAXD - 3;
    if ((n->kinds & K_ARR) && c == '[' && room) { f->st = F_ARR_FIRST; f->count = 0; return 0; }
    if ((n->kinds & K_OBJ) && c == '{' && room) { f->st = F_OBJ_KEY; f->first = 1; f->seen = 0; return 0; }
    if (take_ws(s, c) == 0) return 0;
    return -1;
}

/* Number sub-states: 0 after '-', 1 after a leading 0, 2 in digits, 3 after
 * '.', 4 in the fraction, 5 after e, 6 after the exponent sign, 7 in the
 * exponent.  Returns 0 consumed, 1 ended (re-dispatch), -1 invalid. */
static int num_step(gframe *f, int c)
{
    bool dig = c >= '0' && c <= '9';
    bool integer = !(f->n->kinds & K_NUM);
    if (f->pos >= (integer ? MAX_INT_LEN : MAX_NUM_LEN)) return num_can_end(f) ? 1 : -1;
    int st = f->sub, nx = -1;
    if (f->pos == 0 && c == '-') nx = 0;
    else if (f->pos == 0 || st == 0) nx = c == '0' ? 1 : (dig ? 2 : -1);
    else if ((st == 1 || st == 2) && c == '.' && !integer) nx = 3;
    else if ((st == 1 || st == 2 || st == 4) && (c == 'e' || c == 'E') && !integer) nx = 5;
    else if (st == 2 && dig) nx = 2;
    else if ((st == 3 || st == 4) && dig) nx = 4;
    else if (st == 5 && (c == '+' || c == '-')) nx = 6;
    else if ((st == 5 || st == 6 || st == 7) && dig) nx = 7;
    if (nx < 0) return num_can_end(f) ? 1 : -1;
    f->sub = (uint8_t)nx; f->pos++;
    return 0;
}

/* A literal completed: act on what it was (value, key or tool name). */
static int lit_done(ag_gstate *s, gframe *f, int idx)
{
    int purpose = f->sub;
    if (purpose == LIT_VALUE) { s->depth--; return 0; }
    if (purpose == LIT_NAME) {       /* "call:NAME{" read: the arguments object */
        f->st = F_OBJ_KEY; f->n = s->g->tool_args[idx]; f->first = 1; f->seen = 0;
        return 0;
    }
    /* a key: frame below is the object */
    s->depth--;
    gframe *o = &s->f[s->depth - 1];
    if (idx < 64) o->seen |= 1ull << idx;
    o->st = F_OBJ_AFTER;
    return push(s, F_VALUE, o->n->child[idx]) ? 0 : -1;
}

/* Narrow a literal's live range by one symbol; skip keys already given. */
static int lit_step(ag_gstate *s, gframe *f, int c)
{
    const glits *L = f->L;
    uint32_t lo = f->lo, hi = f->hi;
    while (lo < hi && (L->len[lo] <= f->pos || L->s[lo][f->pos] < c)) lo++;
    uint32_t h = lo;
    while (h < hi && L->len[h] > f->pos && L->s[h][f->pos] == c) h++;
    if (lo == h) return -1;
    if (f->sub == LIT_KEY) {          /* some candidate must be an unused key */
        const gframe *o = &s->f[s->depth - 2];
        bool any = false;
        for (uint32_t i = lo; i < h && !any; i++) any = i >= 64 || !(o->seen & (1ull << i));
        if (!any) return -1;
        while (lo < h && lo < 64 && (o->seen & (1ull << lo))) lo++;
    }
    f->lo = lo; f->hi = h; f->pos++;
    if (L->len[lo] == f->pos) return lit_done(s, f, (int)lo);
    return 0;
}

/* The machine: one symbol, dispatched on the top frame (re-dispatched when a number ends). */
int ag_gs_step_raw(ag_gstate *s, int c)
{
    bool json = s->g->syntax == SYN_JSON;
    for (;;) {
        if (s->depth == 0) return -1;
        gframe *f = &s->f[s->depth - 1];
        if (!is_ws(c)) s->ws = 0;
        int r;
        switch (f->st) {
        case F_VALUE:
            r = value_start(s, f, c);
            if (r <= 0) return r;
            continue;
        case F_STR:
            if (c == (json ? '"' : AG_SYM_QUOTE)) {
                if (f->u8need) return -1;
                s->depth--;
                return 0;
            }
            if (c >= 256) return -1;
            if (s->g->max_str && f->count >= s->g->max_str && !f->u8need) return -1;   /* only the close */
            f->count++;
            if (json && c == '\\' && !f->u8need) { f->st = F_STR_ESC; return 0; }
            if (json && c < 0x20) return -1;
            return utf8_step(f, c);
        case F_STR_ESC:
            if (c == 'u') { f->st = F_STR_HEX; f->pos = 0; return 0; }
            if (c < 256 && strchr("\"\\/bfnrt", c) && c) { f->st = F_STR; return 0; }
            return -1;
        case F_STR_HEX:
            if (c >= 256 || !isxdigit(c)) return -1;
            if (++f->pos == 4) f->st = F_STR;
            return 0;
        case F_NUM:
            r = num_step(f, c);
            if (r <= 0) return r;
            s->depth--;          /* the number ended; the parent reads c */
            continue;
        case F_LIT:
            return lit_step(s, f, c);
        case F_OBJ_KEY:
            if (json && is_ws(c)) return take_ws(s, c);
            if (c == '}' && f->first && obj_complete(f)) { s->depth--; return 0; }
            if (f->n->free_keys) {
                if (json ? c == '"' : (c < 256 && (isalnum(c) || c == '_'))) {
                    f->st = F_OBJ_AFTER;
                    gframe *k = push(s, F_FREEKEY, f->n);
                    if (!k) return -1;
                    k->pos = json ? 0 : 1;
                    k->sub = json;
                    return 0;
                }
            } else if (f->n->keys) {
                gframe *k = push(s, F_LIT, f->n);
                if (!k) return -1;
                k->L = f->n->keys; k->lo = 0; k->hi = (uint32_t)f->n->keys->n; k->sub = LIT_KEY;
                if (lit_step(s, k, c) == 0) return 0;
                return -1;
            }
            return take_ws(s, c);
        case F_FREEKEY:
            if (f->sub) {                     /* JSON: a simple quoted key */
                if (c == '"' && f->pos > 0) { f->st = F_COLON; return 0; }
                if (c < 256 && (isalnum(c) || c == '_') && f->pos < MAX_FREEKEY) { f->pos++; return 0; }
                return -1;
            }
            if (c == ':') { f->st = F_VALUE; f->n = s->g->any; return 0; }
            if (c < 256 && (isalnum(c) || c == '_') && f->pos < MAX_FREEKEY) { f->pos++; return 0; }
            return -1;
        case F_COLON:
            if (c == ':') { f->st = F_VALUE; f->n = s->g->any; return 0; }
            return -1;
        case F_OBJ_AFTER:
            if (c == '}' && obj_complete(f)) { s->depth--; return 0; }
            if (c == ',' && obj_key_left(f)) { f->st = F_OBJ_KEY; f->first = 0; return 0; }
            return take_ws(s, c);
        case F_ARR_FIRST:
            if (c == ']' && f->n->min_items == 0) { s->depth--; return 0; }
            if (take_ws(s, c) == 0) return 0;
            if (f->n->max_items == 0) return -1;
            f->st = F_ARR_AFTER; f->count = 1;
            if (!push(s, F_VALUE, f->n->items)) return -1;
            continue;
        case F_ARR_AFTER:
            if (c == ']' && f->count >= f->n->min_items) { s->depth--; return 0; }
            if (c == ',' && (f->n->max_items < 0 || f->count < f->n->max_items)) {
                f->count++;
                return push(s, F_VALUE, f->n->items) ? 0 : -1;
            }
            return take_ws(s, c);
        case F_CALL_TAIL:
            if (c == AG_SYM_CALL_CLOSE) { f->st = F_DONE; return 0; }
            return -1;
        case F_JROOT:
            return take_ws(s, c);
        default:
            return -1;
        }
    }
}

/* Atomic step for callers: the state changes only if the symbol is accepted. */
int ag_gstate_step(ag_gstate *s, int sym)
{
    ag_gstate t;
    ag_gs_copy(&t, s);
    if (ag_gs_step_raw(&t, sym)) return -1;
    ag_gs_copy(s, &t);
    return 0;
}

/* Complete: the call closed, or the JSON value ended (a root number may end anywhere). */
bool ag_gstate_done(const ag_gstate *s)
{
    if (s->depth == 0) return false;
    const gframe *f = &s->f[s->depth - 1];
    if (f->st == F_DONE || f->st == F_JROOT) return true;
    return s->depth == 2 && f->st == F_NUM && num_can_end(f) && s->f[0].st == F_JROOT;
}

void ag_grammar_limit_strings(ag_grammar *g, int max_bytes) { g->max_str = max_bytes > 0 ? max_bytes : 0; }

/* Tells the mask when the plain-text fast path is exact. */
int ag_gs_free_string(const ag_gstate *s, int max_token_len)
{
    if (s->depth == 0) return 0;
    const gframe *f = &s->f[s->depth - 1];
    if (f->st == F_FREEKEY && f->pos + AG_IDENT_TOKEN_MAX <= MAX_FREEKEY) return 3;
    if (f->st != F_STR || f->u8need) return 0;
    if (s->g->max_str && f->count + max_token_len > s->g->max_str) return 0;   /* near the cap: walk */
    return s->g->syntax == SYN_JSON ? 2 : 1;
}
