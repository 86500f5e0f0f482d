/* mtp.c: loading a Gemma 4 "assistant" drafter and binding it to a target.
 *
 * The drafter folder holds a gemma4_assistant config (the decoder settings
 * under text_config, plus backbone_hidden_size and the clustered-head
 * fields) and safetensors weights (gemma4-mtp.md §1-2).  Everything the draft
 * step touches is looked up and shape-checked here, and the drafter is
 * checked against the target it will read from: same hidden size, same
 * vocabulary, and head dims / KV heads that match the target layers whose
 * caches its layers attend to.  A drafter for another model fails here with
 * the mismatch named, never later with garbage drafts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "mtp.h"

/* Allocation owned by the drafter (freed by gm_drafter_free). */
static void *dalloc(gm_drafter *d, size_t bytes)
{
    if (d->n_owned == d->cap_owned) {
        int nc = d->cap_owned ? d->cap_owned * 2 : 64;
        void **no = realloc(d->owned, (size_t)nc * sizeof *no);
        if (!no) return NULL;
        d->owned = no;
        d->cap_owned = nc;
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (p) d->owned[d->n_owned++] = p;
    return p;
}

/* Find a tensor and check its PyTorch shape [ne1, ne0] (ne1 = 1: a vector). */
static const gm_tensor *dbind(gm_drafter *d, const char *name, int64_t ne0, int64_t ne1, bool required,
                              gm_err *err)
{
    const gm_tensor *t = d->src->find(d->src, name);
    if (!t) {
        if (required)
            gm_err_set(err, GM_E_FORMAT, "%s: drafter tensor '%s' is missing (expected shape [%lld, %lld]; is "
                       "this a gemma4_assistant checkpoint?)", d->src->path, name, (long long)ne1, (long long)ne0);
        return NULL;
    }
    if (gm_type_block(t->type) == 0) {
        gm_err_set(err, GM_E_UNSUPPORTED, "%s: drafter tensor '%s' has a data type gemmash cannot compute with",
                   d->src->path, name);
        return NULL;
    }
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1) {
        gm_err_set(err, GM_E_FORMAT, "%s: drafter tensor '%s' has shape [%lld, %lld], expected [%lld, %lld] "
                   "(the config and the weights disagree)", d->src->path, name, (long long)t->ne[1],
                   (long long)t->ne[0], (long long)ne1, (long long)ne0);
        return NULL;
    }
    d->step_bytes += t->nbytes;
    return t;
}

/* A small vector as an owned float copy. */
static const float *dvec(gm_drafter *d, const char *name, int64_t n, gm_err *err)
{
    const gm_tensor *t = dbind(d, name, n, 1, true, err);
    if (!t) return NULL;
    float *f = dalloc(d, (size_t)n * sizeof *f);
    if (!f) { gm_err_set(err, GM_E_NOMEM, "out of memory"); return NULL; }
    gm_tensor_row(t, 0, 0, f);
    return f;
}

/* Integer field of the outer config, def when absent. */
static int outer_int(const cJSON *root, const char *key, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : def;
}

/* Parse the outer gemma4_assistant config and its text_config.  HF marks
 * every drafter layer KV-shared; gm_config_parse wants an owner layer, so
 * the sharing count is cleared on a copy (the drafter owns no cache). */
static int parse_config(gm_drafter *d, const char *dir, gm_err *err)
{
    const cJSON *root = d->src->config;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!cJSON_IsString(mt) || strcmp(mt->valuestring, "gemma4_assistant") != 0)
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s/config.json: model_type is \"%s\", a drafter needs "
                          "\"gemma4_assistant\" (give the -assistant checkpoint with --draft)", dir,
                          cJSON_IsString(mt) ? mt->valuestring : "(none)");
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (!cJSON_IsObject(tc))
        return gm_err_set(err, GM_E_FORMAT, "%s/config.json: no \"text_config\" object", dir);
    cJSON *copy = cJSON_Duplicate(tc, 1);
    if (!copy) return gm_err_set(err, GM_E_NOMEM, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "num_kv_shared_layers");
    char name[4200];
    snprintf(name, sizeof name, "%s/config.json", dir);
    int rc = gm_config_parse(copy, name, &d->cfg, err);
    cJSON_Delete(copy);
    if (rc) return -1;
    d->Hb = outer_int(root, "backbone_hidden_size", 0);
    d->n_centroids = outer_int(root, "num_centroids", 2048);
    d->top_clusters = outer_int(root, "centroid_intermediate_top_k", 32);
    const cJSON *ord = cJSON_GetObjectItemCaseSensitive(root, "use_ordered_embeddings");
    if (!cJSON_IsTrue(ord)) d->n_centroids = 0;
    if (d->Hb <= 0)
        return gm_err_set(err, GM_E_FORMAT, "%s: \"backbone_hidden_size\" is missing (not a drafter config?)", name);
    if (d->cfg.n_layers > GM_DRAFT_MAX_LAYERS || d->cfg.moe || d->cfg.ple_dim > 0)
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: a drafter has at most %d layers and no MoE or per-layer "
                          "inputs", name, GM_DRAFT_MAX_LAYERS);
    return 0;
}

/* The last target layer of a type that owns its K/V (the cache a drafter
 * layer of that type reads, gemma4-mtp.md §3.2), or -1. */
static int kv_owner_of_type(const gm_config *t, int full)
{
    for (int l = t->n_layers - 1; l >= 0; l--)
        if (t->kv_source[l] == l && t->is_full[l] == full) return l;
    return -1;
}

/* Check that the drafter belongs to the target and tie each layer to its cache. */
static int plan(gm_drafter *d, const char *dir, gm_err *err)
{
    const gm_config *t = &d->target->cfg, *c = &d->cfg;
    if (d->Hb != t->hidden)
        return gm_err_set(err, GM_E_FORMAT, "%s: this drafter is for a target of hidden size %d, but the model "
                          "has %d (use the drafter released with this model)", dir, d->Hb, t->hidden);
    if (c->vocab != t->vocab)
        return gm_err_set(err, GM_E_FORMAT, "%s: the drafter's vocabulary has %d tokens, the model's %d "
                          "(use the drafter released with this model)", dir, c->vocab, t->vocab);
    d->d = c->hidden;
    d->V = c->vocab;
    d->nH = c->n_heads;
    d->window = c->sliding_window + 1;
    d->n_layers = c->n_layers;
    for (int l = 0; l < c->n_layers; l++) {
        gm_draft_layer *y = &d->layers[l];
        y->full = c->is_full[l];
        y->src = kv_owner_of_type(t, y->full);
        if (y->src < 0)
            return gm_err_set(err, GM_E_FORMAT, "%s: drafter layer %d is %s but the model has no %s layer "
                              "that owns a KV cache", dir, l, y->full ? "full" : "sliding",
                              y->full ? "full" : "sliding");
        y->hd = c->head_dim_l[l];
        y->nkv = t->n_kv_heads_l[y->src];
        if (y->hd != t->head_dim_l[y->src])
            return gm_err_set(err, GM_E_FORMAT, "%s: drafter layer %d has head dim %d, but target layer %d, "
                              "whose cache it reads, has %d (drafter and model do not match)", dir, l, y->hd,
                              y->src, t->head_dim_l[y->src]);
        if (c->n_kv_heads_l[l] != y->nkv || d->nH % y->nkv)
            return gm_err_set(err, GM_E_FORMAT, "%s: drafter layer %d expects %d KV heads for %d query heads, "
                              "but target layer %d has %d KV heads (drafter and model do not match)", dir, l,
                              c->n_kv_heads_l[l], d->nH, y->src, y->nkv);
        if (!d->target->inv_freq[y->full] || d->target->rope_dim[y->full] != y->hd)
            return gm_err_set(err, GM_E_FORMAT, "%s: drafter layer %d: no target RoPE table for head dim %d",
                              dir, l, y->hd);
    }
    return 0;
}

/* Bind every weight the draft step reads (gemma4-mtp.md §2). */
static int bind_all(gm_drafter *d, gm_err *err)
{
    const gm_config *c = &d->cfg;
    int64_t D = d->d, Hb = d->Hb, V = d->V, nH = d->nH;
    if (!(d->embed = dbind(d, "embed_tokens.weight", D, V, true, err)) ||
        !(d->pre = dbind(d, "pre_projection.weight", 2 * Hb, D, true, err)) ||
        !(d->post = dbind(d, "post_projection.weight", D, Hb, true, err)) ||
        !(d->final_norm = dvec(d, "norm.weight", D, err)))
        return -1;
    char n[128];
    for (int l = 0; l < d->n_layers; l++) {
        gm_draft_layer *y = &d->layers[l];
        int64_t hd = y->hd, F = c->ffn_width[l];
#define DV(dst, s, len) do { snprintf(n, sizeof n, "layers.%d.%s", l, s); if (!((dst) = dvec(d, n, len, err))) return -1; } while (0)
#define DM(dst, s, a, b) do { snprintf(n, sizeof n, "layers.%d.%s", l, s); if (!((dst) = dbind(d, n, a, b, true, err))) return -1; } while (0)
        DV(y->attn_norm, "input_layernorm.weight", D);
        DV(y->post_attn_norm, "post_attention_layernorm.weight", D);
        DV(y->ffn_norm, "pre_feedforward_layernorm.weight", D);
        DV(y->post_ffn_norm, "post_feedforward_layernorm.weight", D);
        DV(y->q_norm, "self_attn.q_norm.weight", hd);
        DM(y->wq, "self_attn.q_proj.weight", D, nH * hd);
        DM(y->wo, "self_attn.o_proj.weight", nH * hd, D);
        DM(y->gate, "mlp.gate_proj.weight", D, F);
        DM(y->up, "mlp.up_proj.weight", D, F);
        DM(y->down, "mlp.down_proj.weight", F, D);
#undef DV
#undef DM
        snprintf(n, sizeof n, "layers.%d.layer_scalar", l);
        const float *ls = d->src->find(d->src, n) ? dvec(d, n, 1, err) : NULL;
        if (!ls && err && err->code) return -1;
        y->layer_scalar = ls ? ls[0] : 1.0f;
        if (F > d->F) d->F = (int)F;
    }
    /* the tied head is read in full only without clusters */
    if (d->n_centroids > 0) {
        if (d->n_centroids <= 0 || V % d->n_centroids || d->top_clusters <= 0 || d->top_clusters > d->n_centroids)
            return gm_err_set(err, GM_E_FORMAT, "%s: %d centroids (top %d) do not split a vocabulary of %lld",
                              d->src->path, d->n_centroids, d->top_clusters, (long long)V);
        d->vpc = (int)(V / d->n_centroids);
        if (!(d->centroids = dbind(d, "masked_embedding.centroids.weight", D, d->n_centroids, true, err)))
            return -1;
        const gm_tensor *o = d->src->find(d->src, "masked_embedding.token_ordering");
        if (!o || o->nbytes != (size_t)V * 8 || o->ne[0] != V)
            return gm_err_set(err, GM_E_FORMAT, "%s: 'masked_embedding.token_ordering' must be %lld int64 values",
                              d->src->path, (long long)V);
        int64_t *ord = dalloc(d, (size_t)V * sizeof *ord);
        if (!ord) return gm_err_set(err, GM_E_NOMEM, "out of memory");
        memcpy(ord, o->data, (size_t)V * sizeof *ord);
        for (int64_t i = 0; i < V; i++)
            if (ord[i] < 0 || ord[i] >= V)
                return gm_err_set(err, GM_E_FORMAT, "%s: token_ordering[%lld] = %lld is outside the vocabulary",
                                  d->src->path, (long long)i, (long long)ord[i]);
        d->ordering = ord;
        d->step_bytes -= d->embed->nbytes;
        d->step_bytes += (size_t)d->top_clusters * (size_t)d->vpc * d->embed->row_bytes;
    }
    return 0;
}

/* Scratch of one draft step, sized once. */
static int scratch(gm_drafter *d, gm_err *err)
{
    int qmax = 0;
    for (int l = 0; l < d->n_layers; l++)
        if (d->nH * d->layers[l].hd > qmax) qmax = d->nH * d->layers[l].hd;
    int nc = d->n_centroids > 0 ? d->n_centroids : 1, ns = d->n_centroids > 0 ? d->top_clusters * d->vpc : 1;
    size_t Hb = (size_t)d->Hb, D = (size_t)d->d;
    float **bufs[] = {&d->x2, &d->h, &d->a, &d->q, &d->att, &d->o, &d->g, &d->u, &d->nrm, &d->cs, &d->logits,
                      &d->emb};
    size_t sizes[] = {2 * Hb, D, D, (size_t)qmax, (size_t)qmax, D, (size_t)d->F, (size_t)d->F, D, (size_t)nc,
                      (size_t)d->V, D > Hb ? D : Hb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (!(*bufs[i] = dalloc(d, sizes[i] * sizeof(float))))
            return gm_err_set(err, GM_E_NOMEM, "drafter: out of memory");
    if (!(d->sel = dalloc(d, (size_t)(nc > ns ? nc : ns) * sizeof *d->sel)))
        return gm_err_set(err, GM_E_NOMEM, "drafter: out of memory");
    return 0;
}

/* Load, validate against the target, bind and size the scratch (engine.h). */
gm_drafter *gm_drafter_load(const char *dir, gm_model *target, gm_err *err)
{
    gm_err local = {0};
    if (!err) err = &local;
    err->code = 0;
    if (!dir || !target) { gm_err_set(err, GM_E_ARG, "drafter: no folder or no target model"); return NULL; }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        gm_err_set(err, GM_E_IO, "%s: not a folder (give the drafter's Hugging Face checkpoint folder)", dir);
        return NULL;
    }
    gm_drafter *d = calloc(1, sizeof *d);
    if (!d) { gm_err_set(err, GM_E_NOMEM, "out of memory"); return NULL; }
    d->target = target;
    if (!(d->src = gm_source_open_hf_weights(dir, err)) || parse_config(d, dir, err) || plan(d, dir, err) ||
        bind_all(d, err) || scratch(d, err)) {
        gm_drafter_free(d);
        return NULL;
    }
    return d;
}

/* Release the drafter, its weights' mappings and scratch. */
void gm_drafter_free(gm_drafter *d)
{
    if (!d) return;
    for (int i = 0; i < d->n_owned; i++) free(d->owned[i]);
    free(d->owned);
    free(d->scores);
    if (d->src) d->src->free(d->src);
    free(d);
}

/* The drafter folder beside a target folder (engine.h), or NULL. */
char *gm_drafter_find(const char *target_path)
{
    static const char *const fmt[] = {"%s-assistant", "%s_assistant", "%s/assistant"};
    if (!target_path || !*target_path) return NULL;
    size_t n = strlen(target_path);
    while (n > 1 && target_path[n - 1] == '/') n--;
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        size_t cap = n + 16;
        char *p = malloc(cap), *base = strndup(target_path, n);
        if (!p || !base) { free(p); free(base); return NULL; }
        snprintf(p, cap, fmt[i], base);
        free(base);
        char cfg[4200];
        snprintf(cfg, sizeof cfg, "%s/config.json", p);
        struct stat st;
        if (stat(cfg, &st) == 0 && S_ISREG(st.st_mode)) return p;
        free(p);
    }
    return NULL;
}

/* Draft-step weight bytes over target decode-step weight bytes. */
double gm_drafter_cost_ratio(const gm_drafter *d)
{
    size_t t = d->target->bytes_per_token;
    return t ? (double)d->step_bytes / (double)t : 0.0;
}
