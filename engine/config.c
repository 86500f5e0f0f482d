/* config.c: turn a Gemma 4 config.json into gm_config.
 *
 * Released checkpoints nest the decoder under "text_config" (model_type
 * gemma4); text-only exports are flat (gemma4_text).  The per-layer plan
 * (head dims, KV heads, KV sharing sources, MLP widths) is derived here once,
 * following gemma4-arch.md §1.3, so the forward pass never re-derives it. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "model.h"

/* Integer field, or def when absent/null; -1 and an error when mistyped. */
static int get_int(const cJSON *o, const char *key, int def, const char *name, gm_err *err, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) { *out = def; return 0; }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < 0 || v->valuedouble > 1e9)
        return gm_err_set(err, GM_E_FORMAT, "%s: \"%s\" must be a non-negative integer", name, key);
    *out = (int)v->valuedouble;
    return 0;
}

static double get_num(const cJSON *o, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static bool get_bool(const cJSON *o, const char *key, bool def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return def;
}

/* Read rope theta / partial factor for one layer type from rope_parameters. */
static void rope_params(const cJSON *t, const char *type, double *theta, double *partial,
                        double def_theta, double def_partial)
{
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(t, "rope_parameters");
    const cJSON *p = rp ? cJSON_GetObjectItemCaseSensitive(rp, type) : NULL;
    *theta = def_theta;
    *partial = def_partial;
    if (!p) return;
    *theta = get_num(p, "rope_theta", def_theta);
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(p, "rope_type");
    if (cJSON_IsString(rt) && strcmp(rt->valuestring, "default") == 0) *partial = 1.0;
    else *partial = get_num(p, "partial_rotary_factor", def_partial);
}

int gm_config_parse(const cJSON *root, const char *name, gm_config *cfg, gm_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (!cJSON_IsObject(root)) return gm_err_set(err, GM_E_FORMAT, "%s: not a JSON object", name);
    const cJSON *t = root;
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (cJSON_IsObject(tc)) t = tc;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(t, "model_type");
    if (cJSON_IsString(mt) && strcmp(mt->valuestring, "gemma4_text") != 0 &&
        strcmp(mt->valuestring, "gemma4") != 0)
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: model_type \"%s\" is not Gemma 4 (expected gemma4 or gemma4_text)",
                          name, mt->valuestring);
    snprintf(cfg->arch, sizeof cfg->arch, "gemma4");

    struct { const char *key; int *dst; int def; bool required; } ints[] = {
        {"vocab_size", &cfg->vocab, 0, true},
        {"hidden_size", &cfg->hidden, 0, true},
        {"num_hidden_layers", &cfg->n_layers, 0, true},
        {"num_attention_heads", &cfg->n_heads, 0, true},
        {"num_key_value_heads", &cfg->n_kv_heads, 0, true},
        {"head_dim", &cfg->head_dim, 0, true},
        {"intermediate_size", &cfg->intermediate, 0, true},
        {"sliding_window", &cfg->sliding_window, 512, false},
        {"max_position_embeddings", &cfg->max_pos, 131072, false},
        {"num_kv_shared_layers", &cfg->n_kv_shared, 0, false},
        {"hidden_size_per_layer_input", &cfg->ple_dim, 0, false},
        {"num_experts", &cfg->n_experts, 0, false},
        {"top_k_experts", &cfg->top_k_experts, 0, false},
        {"moe_intermediate_size", &cfg->moe_inter, 0, false},
        {"bos_token_id", &cfg->bos_id, 2, false},
        {"pad_token_id", &cfg->pad_id, 0, false},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (get_int(t, ints[i].key, ints[i].def, name, err, ints[i].dst)) return -1;
        if (ints[i].required && *ints[i].dst == 0)
            return gm_err_set(err, GM_E_FORMAT, "%s: required field \"%s\" is missing or zero", name, ints[i].key);
    }
    int v;
    if (get_int(t, "global_head_dim", cfg->head_dim, name, err, &v)) return -1;
    cfg->head_dim_global = v;
    if (get_int(t, "num_global_key_value_heads", cfg->n_kv_heads, name, err, &v)) return -1;
    cfg->n_kv_heads_global = v;
    if (get_int(t, "vocab_size_per_layer_input", cfg->vocab, name, err, &v)) return -1;
    cfg->ple_vocab = v;
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(t, "eos_token_id");
    cfg->eos_id = cJSON_IsNumber(eos) ? eos->valueint :
                  (cJSON_IsArray(eos) && cJSON_IsNumber(cJSON_GetArrayItem(eos, 0)))
                      ? cJSON_GetArrayItem(eos, 0)->valueint : 1;

    cfg->k_eq_v = get_bool(t, "attention_k_eq_v", false);
    cfg->double_wide = get_bool(t, "use_double_wide_mlp", false);
    cfg->moe = get_bool(t, "enable_moe_block", false);
    cfg->tied_embeddings = get_bool(t, "tie_word_embeddings", true);
    cfg->final_softcap = (float)get_num(t, "final_logit_softcapping", 0.0);
    cfg->eps = (float)get_num(t, "rms_norm_eps", 1e-6);
    double th, pr;
    rope_params(t, "sliding_attention", &th, &pr, 10000.0, 1.0);
    cfg->rope_theta_local = (float)th;
    rope_params(t, "full_attention", &th, &pr, 1000000.0, 1.0);
    cfg->rope_theta_global = (float)th;
    cfg->partial_rotary_global = (float)pr;

    int L = cfg->n_layers;
    if (L <= 0 || L > GM_MAX_LAYERS)
        return gm_err_set(err, GM_E_UNSUPPORTED, "%s: %d layers, 1 to %d supported", name, L, GM_MAX_LAYERS);
    if (cfg->n_kv_shared >= L)
        return gm_err_set(err, GM_E_FORMAT, "%s: num_kv_shared_layers %d must be below num_hidden_layers %d",
                          name, cfg->n_kv_shared, L);
    if (cfg->moe && (cfg->n_experts <= 0 || cfg->top_k_experts <= 0 || cfg->moe_inter <= 0 ||
                     cfg->top_k_experts > cfg->n_experts || cfg->n_experts > 1024))
        return gm_err_set(err, GM_E_FORMAT, "%s: enable_moe_block needs num_experts, top_k_experts <= num_experts "
                          "and moe_intermediate_size", name);
    if (cfg->n_heads > 1024 || cfg->head_dim > 4096 || cfg->head_dim_global > 4096 || cfg->hidden > 65536 ||
        (cfg->head_dim & 1) || (cfg->head_dim_global & 1))
        return gm_err_set(err, GM_E_FORMAT, "%s: implausible geometry (heads %d, head_dim %d/%d, hidden %d)",
                          name, cfg->n_heads, cfg->head_dim, cfg->head_dim_global, cfg->hidden);

    /* layer types: explicit list, or full every 6th; the last is always full */
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(t, "layer_types");
    if (lt && (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != L))
        return gm_err_set(err, GM_E_FORMAT, "%s: layer_types must list %d entries", name, L);
    for (int l = 0; l < L; l++) {
        if (lt) {
            const cJSON *e = cJSON_GetArrayItem(lt, l);
            if (!cJSON_IsString(e) || (strcmp(e->valuestring, "full_attention") &&
                                       strcmp(e->valuestring, "sliding_attention")))
                return gm_err_set(err, GM_E_FORMAT, "%s: layer_types[%d] must be \"sliding_attention\" or "
                                  "\"full_attention\"", name, l);
            cfg->is_full[l] = strcmp(e->valuestring, "full_attention") == 0;
        } else cfg->is_full[l] = (l + 1) % 6 == 0;
    }
    cfg->is_full[L - 1] = 1;

    const cJSON *plc = cJSON_GetObjectItemCaseSensitive(t, "per_layer_config");
    int first_shared = L - cfg->n_kv_shared;
    for (int l = 0; l < L; l++) {
        bool full = cfg->is_full[l];
        cfg->head_dim_l[l] = full ? cfg->head_dim_global : cfg->head_dim;
        cfg->n_kv_heads_l[l] = (full && cfg->k_eq_v) ? cfg->n_kv_heads_global : cfg->n_kv_heads;
        bool shared = cfg->n_kv_shared > 0 && l >= first_shared;
        cfg->ffn_width[l] = cfg->intermediate * ((cfg->double_wide && shared) ? 2 : 1);
        if (cJSON_IsObject(plc)) {       /* explicit per-layer overrides win */
            char key[16];
            snprintf(key, sizeof key, "%d", l);
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(plc, key);
            if (cJSON_IsObject(o)) {
                if (get_int(o, "head_dim", cfg->head_dim_l[l], name, err, &cfg->head_dim_l[l]) ||
                    get_int(o, "num_key_value_heads", cfg->n_kv_heads_l[l], name, err, &cfg->n_kv_heads_l[l]) ||
                    get_int(o, "intermediate_size", cfg->ffn_width[l], name, err, &cfg->ffn_width[l]))
                    return -1;
            }
        }
        if (cfg->head_dim_l[l] <= 0 || (cfg->head_dim_l[l] & 1) || cfg->n_kv_heads_l[l] <= 0 ||
            cfg->n_heads % cfg->n_kv_heads_l[l] || cfg->ffn_width[l] <= 0)
            return gm_err_set(err, GM_E_FORMAT, "%s: layer %d: head_dim %d, %d KV heads for %d query heads, "
                              "MLP width %d is not a valid geometry", name, l, cfg->head_dim_l[l],
                              cfg->n_kv_heads_l[l], cfg->n_heads, cfg->ffn_width[l]);
        cfg->kv_source[l] = l;
        if (shared) {
            int s = -1;
            for (int j = first_shared - 1; j >= 0; j--)
                if (cfg->is_full[j] == cfg->is_full[l]) { s = j; break; }
            if (s < 0)
                return gm_err_set(err, GM_E_FORMAT, "%s: layer %d shares KV but no earlier %s layer owns one",
                                  name, l, full ? "full" : "sliding");
            cfg->kv_source[l] = s;
        }
    }
    /* the head dims of full layers must agree (one RoPE table per type) */
    for (int l = 0; l < L; l++)
        for (int j = 0; j < l; j++)
            if (cfg->is_full[l] == cfg->is_full[j] && cfg->head_dim_l[l] != cfg->head_dim_l[j])
                return gm_err_set(err, GM_E_UNSUPPORTED, "%s: layers %d and %d are both %s but have head dims "
                                  "%d and %d", name, j, l, cfg->is_full[l] ? "full" : "sliding",
                                  cfg->head_dim_l[j], cfg->head_dim_l[l]);
    if (cfg->sliding_window <= 0)
        return gm_err_set(err, GM_E_FORMAT, "%s: sliding_window must be positive", name);
    return 0;
}

void gm_genconfig_parse(const cJSON *root, gm_genconfig *g)
{
    memset(g, 0, sizeof *g);
    g->temperature = 1.0f;
    g->top_k = 64;
    g->top_p = 0.95f;
    g->min_p = 0.0f;
    g->n_eos = 3;
    g->eos[0] = 1; g->eos[1] = 106; g->eos[2] = 50;
    if (!cJSON_IsObject(root)) return;
    g->temperature = (float)get_num(root, "temperature", g->temperature);
    g->top_k = (int)get_num(root, "top_k", g->top_k);
    g->top_p = (float)get_num(root, "top_p", g->top_p);
    g->min_p = (float)get_num(root, "min_p", g->min_p);
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(root, "eos_token_id");
    if (cJSON_IsNumber(eos)) { g->n_eos = 1; g->eos[0] = eos->valueint; }
    else if (cJSON_IsArray(eos)) {
        g->n_eos = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, eos)
            if (cJSON_IsNumber(e) && g->n_eos < 8) g->eos[g->n_eos++] = e->valueint;
    }
}
