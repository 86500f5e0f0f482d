/* cmd_generate.c: `gemmash generate` (stream a completion) and `gemmash
 * render` (print the exact prompt for a conversation): the chat format and
 * the decode loop without the agent around them. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cli_spec.h"
#include "commands.h"
#include "engine.h"

/* ---- gemmash render ------------------------------------------------------------- */

static void render_usage(FILE *f)
{
    fputs("NAME\n    gemmash render - print the exact prompt text for a conversation\n\n"
          "SYNOPSIS\n    gemmash render (-m MODEL | --family small|large) --messages FILE [--tools FILE]\n"
          "                   [--think] [--no-generation-prompt]\n\n"
          "DESCRIPTION\n"
          "    FILE holds messages in the OpenAI chat shape: a JSON array, or an object with\n"
          "    \"messages\" (and optionally \"tools\").  The prompt is printed byte for byte as the\n"
          "    model will read it, starting with <bos>.  The model (or --family) decides between\n"
          "    the E2B/E4B and the 26B/31B template variants.  '-' reads FILE from stdin.\n", f);
}

static cJSON *read_json_arg(const char *cmd, const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) { fprintf(stderr, "gemmash %s: cannot open %s\n", cmd, path); return NULL; }
    char *txt = cli_slurp(f, NULL);
    if (f != stdin) fclose(f);
    if (!txt) { fprintf(stderr, "gemmash %s: cannot read %s\n", cmd, path); return NULL; }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(txt, &end, 1);
    if (!j) fprintf(stderr, "gemmash %s: %s: invalid JSON near byte %ld\n", cmd, path, end ? (long)(end - txt) : 0L);
    free(txt);
    return j;
}

int cmd_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"messages", 1, 0, 'M'}, {"tools", 1, 0, 'T'}, {"think", 0, 0, 'k'},
        {"family", 1, 0, 'f'}, {"no-generation-prompt", 0, 0, 'n'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *msgs = NULL, *tools = NULL, *family = NULL;
    gm_chat_opts co = {.add_generation_prompt = true};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'M': msgs = optarg; break;
        case 'T': tools = optarg; break;
        case 'k': co.think = true; break;
        case 'f': family = optarg; break;
        case 'n': co.add_generation_prompt = false; break;
        case 'h': render_usage(stdout); return GM_EXIT_OK;
        default: render_usage(stderr); return GM_EXIT_USAGE;
        }
    }
    if (!msgs || (!model && !family)) {
        fprintf(stderr, "gemmash render: --messages and one of -m or --family are required\n");
        return GM_EXIT_USAGE;
    }
    if (family && strcmp(family, "small") && strcmp(family, "large")) {
        fprintf(stderr, "gemmash render: --family wants small or large, got '%s'\n", family);
        return GM_EXIT_USAGE;
    }
    if (family) co.family = strcmp(family, "large") == 0 ? GM_CHAT_LARGE : GM_CHAT_SMALL;
    else {
        gm_model *m = cli_load_model("render", model, 1, NULL, GM_KV_DEFAULT);
        if (!m) return GM_EXIT_MODEL;
        co.family = gm_model_chat_family(m);
        gm_model_free(m);
    }
    cJSON *doc = read_json_arg("render", msgs), *tl = tools ? read_json_arg("render", tools) : NULL;
    if (!doc || (tools && !tl)) { cJSON_Delete(doc); cJSON_Delete(tl); return GM_EXIT_USAGE; }
    const cJSON *messages = cJSON_IsArray(doc) ? doc : cJSON_GetObjectItemCaseSensitive(doc, "messages");
    const cJSON *tdecl = tl ? tl : cJSON_GetObjectItemCaseSensitive(doc, "tools");
    gm_err err = {0};
    char *out = gm_chat_render(messages, tdecl, &co, &err);
    int rc = GM_EXIT_OK;
    if (!out) { fprintf(stderr, "gemmash render: %s\n", err.msg); rc = GM_EXIT_USAGE; }
    else fputs(out, stdout);
    free(out);
    cJSON_Delete(doc);
    cJSON_Delete(tl);
    return rc;
}

/* ---- gemmash generate ------------------------------------------------------------ */

static void generate_usage(FILE *f)
{
    fputs("NAME\n    gemmash generate - stream a completion from a model\n\n"
          "SYNOPSIS\n    gemmash generate -m MODEL [--raw] [--think] [-n N] [--temp T] [--top-k K]\n"
          "                     [--top-p P] [--min-p P] [--seed S] [--threads N] [--ctx N]\n"
          "                     [--spec auto|mtp|lookup|off] [--draft DIR] [--draft-k K]\n"
          "                     [--kv-type f16|f32] [--stats] PROMPT\n\n"
          "DESCRIPTION\n"
          "    Without --raw, PROMPT becomes a user turn in the model's chat format and the\n"
          "    answer is streamed until the model ends its turn.  With --raw, PROMPT is fed as\n"
          "    is (after <bos>), control tokens written in it included.  '-' reads PROMPT from\n"
          "    stdin.  --think turns on the thinking mode; thoughts are shown dimmed on a\n"
          "    terminal (plain when NO_COLOR is set or stdout is not a terminal).\n\n"
          "OPTIONS\n"
          "    -n, --max-tokens N   stop after N tokens (default: the end of the turn)\n"
          "    --temp T             temperature, 0 = greedy (default: generation_config.json)\n"
          "    --top-k K, --top-p P, --min-p P   sampling filters (defaults from the model)\n"
          "    --seed S             the same seed gives the same output\n"
          "    --quant TYPE         quantize a checkpoint at load: q8_0, q4_0, q4_k, q5_k,\n                         q4_1, q3_k, q2_k, iq4_nl or iq4_xs\n"
          "    --kv-type T          KV cache elements: f16 (default, half the memory) or f32\n"
          "    --spec MODE          speculative decoding: auto (default: the MTP drafter next to\n"
          "                         the model if there is one, and prompt lookup, whichever\n"
          "                         promises more per round), mtp, lookup, or off.  The output\n"
          "                         is the same as without it.\n"
          "    --draft DIR          the drafter (gemma4_assistant folder); default: MODEL-assistant\n"
          "    --draft-k K          draft tokens per round, fixed (default: per model size, adaptive)\n"
          "    --stats              print prefill and decode speed to stderr; with speculation also\n"
          "                         acceptance per draft position and the speed without it\n\n"
          "EXIT STATUS\n    0 done, 2 usage error, 3 model error, 6 context full, 130 interrupted.\n", f);
}

typedef struct {
    const gm_tokenizer *tok;
    int32_t chan_open, chan_close;
    bool in_thought, color, label_pending;
    char label[16];
    int  nlabel;
} stream_state;

static volatile sig_atomic_t gen_interrupted;
static void on_sigint(int sig) { (void)sig; gen_interrupted = 1; }

/* Print one token's text: control tokens hidden, thoughts dimmed, the
 * "thought\n" channel label dropped. */
static int print_token(void *ud, int32_t id, const char *text, size_t len)
{
    stream_state *s = ud;
    if (id >= 0 && id == s->chan_open) {
        s->in_thought = s->label_pending = true;
        s->nlabel = 0;
        if (s->color) fputs("\033[2m", stdout);
        return 0;
    }
    if (id >= 0 && id == s->chan_close) {
        if (s->label_pending) fwrite(s->label, 1, (size_t)s->nlabel, stdout);
        s->in_thought = s->label_pending = false;
        if (s->color) fputs("\033[0m", stdout);
        fputc('\n', stdout);
        fflush(stdout);
        return 0;
    }
    if (id >= 0 && gm_tok_type(s->tok, id) == GM_TOK_CONTROL) return 0;
    if (s->label_pending) {                 /* hold back until we know it is the label */
        for (size_t i = 0; i < len && s->nlabel < (int)sizeof s->label; i++) s->label[s->nlabel++] = text[i];
        static const char lab[] = "thought\n";
        int k = s->nlabel < 8 ? s->nlabel : 8;
        if (memcmp(s->label, lab, (size_t)k) == 0 && s->nlabel < 8) return 0;
        s->label_pending = false;
        if (s->nlabel >= 8 && memcmp(s->label, lab, 8) == 0)
            fwrite(s->label + 8, 1, (size_t)s->nlabel - 8, stdout);
        else fwrite(s->label, 1, (size_t)s->nlabel, stdout);
        fflush(stdout);
        return 0;
    }
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

int cmd_generate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"raw", 0, 0, 'r'}, {"think", 0, 0, 'k'}, {"max-tokens", 1, 0, 'n'},
        {"temp", 1, 0, 't'}, {"top-k", 1, 0, 'K'}, {"top-p", 1, 0, 'P'}, {"min-p", 1, 0, 'p'},
        {"seed", 1, 0, 's'}, {"threads", 1, 0, 'j'}, {"ctx", 1, 0, 'c'}, {"stats", 0, 0, 'S'}, {"quant", 1, 0, 'q'},
        {"spec", 1, 0, 'X'}, {"draft", 1, 0, 'D'}, {"draft-k", 1, 0, 'Q'}, {"kv-type", 1, 0, 'V'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *quant = NULL, *draft = NULL;
    int spec = GM_SPEC_AUTO;
    gm_kv_type kv = GM_KV_DEFAULT;
    long draftk = 0;
    bool raw = false, think = false, stats = false;
    long maxn = 0, topk = -1, seed = 0, threads = 0, ctxn = 0;
    double temp = -1, topp = -1, minp = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:n:s:j:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': model = optarg; break;
        case 'r': raw = true; break;
        case 'k': think = true; break;
        case 'S': stats = true; break;
        case 'q': quant = optarg; break;
        case 'n': bad = cli_parse_int("generate", "--max-tokens", optarg, 1, 1 << 24, &maxn); break;
        case 't': bad = cli_parse_float("generate", "--temp", optarg, 0, 100, &temp); break;
        case 'K': bad = cli_parse_int("generate", "--top-k", optarg, 0, 1 << 24, &topk); break;
        case 'P': bad = cli_parse_float("generate", "--top-p", optarg, 0, 1, &topp); break;
        case 'p': bad = cli_parse_float("generate", "--min-p", optarg, 0, 1, &minp); break;
        case 's': bad = cli_parse_int("generate", "--seed", optarg, 0, 0x7fffffffffffffffL, &seed); break;
        case 'j': bad = cli_parse_int("generate", "--threads", optarg, 1, 512, &threads); break;
        case 'c': bad = cli_parse_int("generate", "--ctx", optarg, 1, 1 << 24, &ctxn); break;
        case 'D': draft = optarg; break;
        case 'V': bad = cli_parse_kv("generate", optarg, &kv); break;
        case 'Q': bad = cli_parse_int("generate", "--draft-k", optarg, 1, GM_SPEC_KMAX, &draftk); break;
        case 'X':
            if ((spec = cli_spec_mode(optarg)) < 0) {
                fprintf(stderr, "gemmash generate: --spec wants auto, mtp, lookup or off, got '%s'\n", optarg);
                return GM_EXIT_USAGE;
            }
            break;
        case 'h': generate_usage(stdout); return GM_EXIT_OK;
        default: generate_usage(stderr); return GM_EXIT_USAGE;
        }
        if (bad) return GM_EXIT_USAGE;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "gemmash generate: give exactly one PROMPT ('-' reads stdin); see --help\n");
        return GM_EXIT_USAGE;
    }
    char *prompt = strcmp(argv[optind], "-") ? strdup(argv[optind]) : cli_slurp(stdin, NULL);
    if (!prompt) { fprintf(stderr, "gemmash generate: cannot read the prompt\n"); return GM_EXIT_INTERNAL; }
    if (!*prompt) {
        free(prompt);
        fprintf(stderr, "gemmash generate: the prompt is empty\n");
        return GM_EXIT_USAGE;
    }
    gm_model *m = cli_load_model("generate", model, (int)threads, quant, kv);
    if (!m) { free(prompt); return GM_EXIT_MODEL; }
    const gm_genconfig *g = gm_model_genconfig(m);
    const gm_tokenizer *tok = gm_model_tokenizer(m);
    gm_err err = {0};
    char *text = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = GM_EXIT_MODEL;
    gm_ctx *ctx = NULL;
    gm_drafter *dr = NULL;
    if (raw) {
        bool has_bos = strncmp(prompt, "<bos>", 5) == 0;
        size_t l = strlen(prompt) + 6;
        text = malloc(l);
        if (text) snprintf(text, l, "%s%s", has_bos ? "" : "<bos>", prompt);
    } else {
        cJSON *msgs = cJSON_CreateArray(), *u = cJSON_CreateObject();
        cJSON_AddStringToObject(u, "role", "user");
        cJSON_AddStringToObject(u, "content", prompt);
        cJSON_AddItemToArray(msgs, u);
        gm_chat_opts co = {.think = think, .add_generation_prompt = true, .family = gm_model_chat_family(m)};
        text = gm_chat_render(msgs, NULL, &co, &err);
        cJSON_Delete(msgs);
    }
    if (!text) { fprintf(stderr, "gemmash generate: %s\n", err.code ? err.msg : "out of memory"); goto done; }
    if (gm_tok_encode(tok, text, strlen(text), true, &ids, &n, &err)) {
        fprintf(stderr, "gemmash generate: %s\n", err.msg);
        goto done;
    }
    if (cli_spec_drafter("generate", (gm_spec_mode)spec, draft, model, m, &dr)) goto done;
    if (!(ctx = gm_ctx_new(m, (int)ctxn, &err))) { fprintf(stderr, "gemmash generate: %s\n", err.msg); goto done; }
    stream_state ss = {.tok = tok, .chan_open = gm_tok_find(tok, "<|channel>"),
                       .chan_close = gm_tok_find(tok, "<channel|>"),
                       .color = isatty(1) && !getenv("NO_COLOR")};
    gm_gen_params gp = {
        .sampling = {.temperature = temp >= 0 ? (float)temp : g->temperature,
                     .top_k = topk >= 0 ? (int)topk : g->top_k,
                     .top_p = topp >= 0 ? (float)topp : g->top_p,
                     .min_p = minp >= 0 ? (float)minp : g->min_p, .seed = (uint64_t)seed},
        .max_tokens = (int)maxn, .on_token = print_token, .ud = &ss, .interrupt = &gen_interrupted};
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    gm_gen_result res;
    gm_spec_params sp = {.mode = (gm_spec_mode)spec, .draft = dr, .k = (int)draftk, .fixed_k = draftk > 0};
    gm_spec_stats sst;
    int gr = gm_generate_spec(ctx, ids, (int)n, &gp, &sp, &res, &sst, &err);
    sigaction(SIGINT, &old, NULL);
    if (ss.in_thought && ss.color) fputs("\033[0m", stdout);
    fputc('\n', stdout);
    fflush(stdout);
    if (stats)
        fprintf(stderr, "prefill %d tokens in %.3f s (%.1f tok/s), decode %d tokens in %.3f s (%.1f tok/s)\n",
                res.n_prompt, res.prefill_s, res.prefill_s > 0 ? res.n_prompt / res.prefill_s : 0,
                res.n_generated, res.decode_s, res.decode_s > 0 ? res.n_generated / res.decode_s : 0);
    if (stats && spec != GM_SPEC_OFF && gr == 0) {   /* the same run without speculation, for the speed */
        gm_gen_params pp = gp;
        pp.on_token = NULL;
        pp.max_tokens = res.n_generated;
        gm_gen_result pres;
        gm_err perr = {0};
        gm_ctx_truncate(ctx, 0, &perr);
        double plain = gm_generate(ctx, ids, (int)n, &pp, &pres, &perr) == 0 && pres.decode_s > 0
                       ? pres.n_generated / pres.decode_s : 0;
        cli_spec_report(&sst, &res, plain);
    }
    if (res.reason == GM_STOP_INTERRUPT) rc = GM_EXIT_INTERRUPTED;
    else if (res.reason == GM_STOP_CONTEXT) {
        fprintf(stderr, "gemmash generate: %s\n", err.code ? err.msg : "the context is full (raise --ctx)");
        rc = GM_EXIT_CONTEXT;
    } else if (gr) fprintf(stderr, "gemmash generate: %s\n", err.msg);
    else rc = GM_EXIT_OK;
done:
    gm_ctx_free(ctx);
    gm_drafter_free(dr);
    gm_model_free(m);
    free(ids);
    free(text);
    free(prompt);
    return rc;
}
