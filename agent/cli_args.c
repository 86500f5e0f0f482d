/* cli_args.c: the agent's command line, read into ag_cli.
 *
 * Kept apart from cli.c (which loads the model and runs) so that every flag
 * and every usage error can be tested without a model.  Each bad value is
 * named with what was expected; the caller exits with status 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <errno.h>
#include "ag_cli.h"

/* The manual of `gemmash` without a subcommand, man-page style. */
void ag_cli_usage(FILE *f)
{
    fputs(
"OPTIONS (agent)\n"
"    -p, --prompt TASK          run TASK headless and exit; without -p, a task\n"
"                               piped on standard input runs headless too\n"
"    -m, --model MODEL          a checkpoint folder, a .gguf file, or a name from\n"
"                               'gemmash models' / an alias such as e2b-q4\n"
"                               (default: $GEMMASH_MODEL; none: the store's model,\n"
"                               or a suggested one to pull, asked once)\n"
"        --endpoint URL         use a model served by an OpenAI-compatible\n"
"                               chat-completions server (vLLM, SGLang,\n"
"                               llama-server, Ollama), e.g. http://gpu:8000/v1;\n"
"                               tools still run here, in the sandbox\n"
"        --api-key-env VAR      send the key held in environment variable VAR\n"
"        --remote-model NAME    the model name to ask the server for\n"
"        --threads N            compute threads (default: one per core)\n"
"        --ctx N                context size in tokens (default: the model's\n"
"                               limit, capped by available memory)\n"
"        --kv-type T            KV cache elements: f16 (default; half the memory\n"
"                               of f32 and what llama.cpp uses) or f32\n"
"        --seed N               sampling seed (default 0; recorded in the session)\n"
"        --temp F               sampling temperature (default: the model's\n"
"                               generation_config; 0 = greedy)\n"
"        --max-tokens N         tokens per model step (default: up to the context)\n"
"        --think, --no-think    thinking on (default) or off; thoughts are shown\n"
"                               dimmed and sent as 'thinking' events\n"
"        --think-budget N       close the thought channel after N tokens\n"
"        --tool-choice C        auto (default) | required | none | NAME: required\n"
"                               and NAME make each task start with a tool call\n"
"                               (NAME: that tool); none forbids tool calls\n"
"        --tools LIST           declare only these tools (comma-separated, e.g.\n"
"                               read_file,write_file; default: all)\n"
"        --max-arg-bytes N      close any string in a tool call (or JSON answer)\n"
"                               after N bytes, so a runaway argument cannot\n"
"                               fill the context (default: no cap)\n"
"        --spec MODE            speculative decoding: auto (default: the MTP drafter\n"
"                               found next to the model, or prompt lookup), mtp,\n"
"                               lookup, off; the output is the same either way\n"
"        --output-schema FILE   the final answer must be JSON matching this JSON\n"
"                               Schema (enforced while decoding)\n"
"        --output FMT           text (default: the answer only) | json (one\n"
"                               result document) | jsonl (one event per line:\n"
"                               init, thinking, message, tool_call, tool_result,\n"
"                               denial, compaction, error, result)\n"
"        --max-turns N          model steps per task (default 100)\n"
"        --timeout S            stop a task after S seconds\n"
"        --compact-at F         compact the context at this fraction (default 0.8)\n"
"        --approval A           ask | auto-edit (default) | never: which calls need\n"
"                               approval; headless runs deny what would ask\n"
"        --mode M, --sandbox M  read-only | workspace-write (default) | full\n"
"        --allow-network        let commands use the network\n"
"        --writable DIR         another writable folder (repeatable)\n"
"        --dangerously-full-access\n"
"                               no sandbox at all (same as --mode full)\n"
"        --resume ID|last       continue a saved session\n"
"        --continue             continue the last session\n"
"        --no-session           do not save this session\n"
"        --system-file F, --system-prompt-file F\n"
"                               replace the built-in system prompt\n"
"        --append-system F      add the text of file F to the system prompt\n"
"        --append-system-prompt TEXT\n"
"                               add TEXT to the system prompt\n"
"\n"
"    Interactive: type a task; /exit or Ctrl-D leaves; Ctrl-C stops the model.\n"
"    AGENTS.md files (~/.config/gemmash/, then the repository root down to\n"
"    the working folder) are added to the system prompt, 32 KiB at most.\n"
"\n"
"FILES\n"
"    ~/.config/gemmash/config   settings, 'key = value' lines (flags override):\n"
"                               model, threads, ctx, kv_type, seed, temperature,\n"
"                               max_tokens, think, think_budget, approval,\n"
"                               sandbox, writable (repeatable), network,\n"
"                               max_turns, timeout, compact_at, tools,\n"
"                               system_file, append_system_file, history\n"
"    ~/.config/gemmash/rules    shell command rules: 'allow|ask|deny PREFIX'\n"
"    ~/.local/state/gemmash/    sessions, tool outputs, shell history\n", f);
}

enum {
    O_THREADS = 1000, O_CTX, O_SEED, O_TEMP, O_MAXTOK, O_THINK, O_NOTHINK, O_BUDGET, O_TC, O_SCHEMA,
    O_OUTPUT, O_TURNS, O_TIMEOUT, O_COMPACT, O_APPROVAL, O_MODE, O_NET, O_WRITABLE, O_FULL, O_RESUME,
    O_CONTINUE, O_NOSESSION, O_SYSFILE, O_APPEND, O_TOOLS, O_MAXARG, O_ENDPOINT, O_KEYENV, O_RMODEL,
    O_APPENDFILE, O_SPEC, O_KVTYPE,
};

static const struct option longopts[] = {
    {"prompt", required_argument, 0, 'p'}, {"model", required_argument, 0, 'm'},
    {"threads", required_argument, 0, O_THREADS}, {"ctx", required_argument, 0, O_CTX},
    {"kv-type", required_argument, 0, O_KVTYPE},
    {"seed", required_argument, 0, O_SEED}, {"temp", required_argument, 0, O_TEMP},
    {"max-tokens", required_argument, 0, O_MAXTOK}, {"think", no_argument, 0, O_THINK},
    {"no-think", no_argument, 0, O_NOTHINK}, {"think-budget", required_argument, 0, O_BUDGET},
    {"tool-choice", required_argument, 0, O_TC}, {"output-schema", required_argument, 0, O_SCHEMA},
    {"output", required_argument, 0, O_OUTPUT}, {"max-turns", required_argument, 0, O_TURNS},
    {"timeout", required_argument, 0, O_TIMEOUT}, {"compact-at", required_argument, 0, O_COMPACT},
    {"approval", required_argument, 0, O_APPROVAL}, {"mode", required_argument, 0, O_MODE},
    {"sandbox", required_argument, 0, O_MODE}, {"allow-network", no_argument, 0, O_NET},
    {"writable", required_argument, 0, O_WRITABLE}, {"dangerously-full-access", no_argument, 0, O_FULL},
    {"resume", required_argument, 0, O_RESUME}, {"continue", no_argument, 0, O_CONTINUE},
    {"no-session", no_argument, 0, O_NOSESSION}, {"system-prompt-file", required_argument, 0, O_SYSFILE},
    {"append-system-prompt", required_argument, 0, O_APPEND}, {"tools", required_argument, 0, O_TOOLS},
    {"endpoint", required_argument, 0, O_ENDPOINT}, {"api-key-env", required_argument, 0, O_KEYENV},
    {"remote-model", required_argument, 0, O_RMODEL},
    {"max-arg-bytes", required_argument, 0, O_MAXARG}, {"help", no_argument, 0, 'h'},
    {"system-file", required_argument, 0, O_SYSFILE}, {"append-system", required_argument, 0, O_APPENDFILE},
    {"spec", required_argument, 0, O_SPEC},
    {0, 0, 0, 0},
};

/* A whole decimal integer within [lo, hi]. */
static int num_arg(const char *flag, const char *v, long long lo, long long hi, long long *out, char *err, size_t cap)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        snprintf(err, cap, "%s expects a whole number from %lld to %lld, got '%s'", flag, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* A number within [lo, hi]. */
static int real_arg(const char *flag, const char *v, double lo, double hi, double *out, char *err, size_t cap)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= lo && x <= hi)) {
        snprintf(err, cap, "%s expects a number from %g to %g, got '%s'", flag, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* Free what ag_cli_parse allocated. */
void ag_cli_free(ag_cli *c)
{
    ag_cli_release(c);
    free(c->writable);
    memset(c, 0, sizeof *c);
}

/* Read the agent's flags; every bad value is a usage error with a reason. */
int ag_cli_parse(int argc, char **argv, ag_cli *c, char *err, size_t cap)
{
    memset(c, 0, sizeof *c);
    ag_opts_default(&c->o);
    c->mode = SB_MODE_WORKSPACE_WRITE;
    c->o.model = getenv("GEMMASH_MODEL");
    if (ag_cli_config(c, err, cap)) return -1;          /* the config file, then the flags over it */
    optind = 1;
    opterr = 0;
    int ch;
    long long n;
    double d;
    while ((ch = getopt_long(argc, argv, ":p:m:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'p': c->prompt = optarg; break;
        case 'm': c->o.model = optarg; break;
        case 'h': c->help = true; break;
        case O_THREADS: if (num_arg("--threads", optarg, 1, 1024, &n, err, cap)) return -1; c->o.threads = (int)n; break;
        case O_CTX: if (num_arg("--ctx", optarg, 1, 1 << 24, &n, err, cap)) return -1; c->o.n_ctx = (int)n; break;
        case O_KVTYPE:
            if ((n = gm_kv_type_from_name(optarg)) < 0) { snprintf(err, cap, "--kv-type wants f16 or f32, got '%s'", optarg); return -1; }
            c->o.kv_type = (gm_kv_type)n;
            break;
        case O_SEED: if (num_arg("--seed", optarg, 0, (1LL << 62), &n, err, cap)) return -1; c->o.seed = (uint64_t)n; break;
        case O_TEMP: if (real_arg("--temp", optarg, 0, 10, &d, err, cap)) return -1; c->o.temperature = (float)d; break;
        case O_MAXTOK: if (num_arg("--max-tokens", optarg, 1, 1 << 24, &n, err, cap)) return -1; c->o.max_gen_tokens = (int)n; break;
        case O_THINK: c->o.think = true; break;
        case O_NOTHINK: c->o.think = false; break;
        case O_BUDGET: if (num_arg("--think-budget", optarg, 1, 1 << 24, &n, err, cap)) return -1; c->o.think_budget = (int)n; break;
        case O_TC:
            if (!strcmp(optarg, "auto")) c->o.tool_choice = AG_TC_AUTO;
            else if (!strcmp(optarg, "required")) c->o.tool_choice = AG_TC_REQUIRED;
            else if (!strcmp(optarg, "none")) c->o.tool_choice = AG_TC_NONE;
            else if (*optarg) { c->o.tool_choice = AG_TC_NAME; c->o.tool_choice_name = optarg; }
            else { snprintf(err, cap, "--tool-choice expects auto, required, none or a tool name"); return -1; }
            break;
        case O_SCHEMA: c->schema_file = optarg; break;
        case O_OUTPUT:
            if (!strcmp(optarg, "text")) c->o.output = AG_OUT_FMT_TEXT;
            else if (!strcmp(optarg, "json")) c->o.output = AG_OUT_FMT_JSON;
            else if (!strcmp(optarg, "jsonl")) c->o.output = AG_OUT_FMT_JSONL;
            else { snprintf(err, cap, "--output expects text, json or jsonl, got '%s'", optarg); return -1; }
            break;
        case O_TURNS: if (num_arg("--max-turns", optarg, 1, 100000, &n, err, cap)) return -1; c->o.max_turns = (int)n; break;
        case O_TIMEOUT: if (real_arg("--timeout", optarg, 0.001, 1e7, &d, err, cap)) return -1; c->o.timeout_s = d; break;
        case O_COMPACT: if (real_arg("--compact-at", optarg, 0.1, 0.95, &d, err, cap)) return -1; c->o.compact_at = d; break;
        case O_APPROVAL:
            if (ag_approval_parse(optarg, &c->o.approval)) {
                snprintf(err, cap, "--approval expects ask, auto-edit or never, got '%s'", optarg);
                return -1;
            }
            break;
        case O_MODE:
            if (sb_mode_parse(optarg, &c->mode)) {
                snprintf(err, cap, "--mode expects read-only, workspace-write or full, got '%s'", optarg);
                return -1;
            }
            break;
        case O_NET: c->allow_network = true; break;
        case O_WRITABLE: {
            const char **w = realloc(c->writable, (size_t)(c->n_writable + 1) * sizeof *w);
            if (!w) { snprintf(err, cap, "out of memory"); return -1; }
            c->writable = w;
            c->writable[c->n_writable++] = optarg;
            break;
        }
        case O_FULL: c->mode = SB_MODE_FULL; break;
        case O_RESUME: c->resume = optarg; break;
        case O_CONTINUE: c->resume = "last"; break;
        case O_NOSESSION: c->o.no_session_file = true; break;
        case O_SYSFILE: c->system_file = optarg; break;
        case O_APPEND: c->o.append_system = optarg; break;
        case O_APPENDFILE: c->append_file = optarg; break;
        case O_SPEC:            /* read by the engine backend when it opens the model */
            if (strcmp(optarg, "auto") && strcmp(optarg, "off") && strcmp(optarg, "lookup") && strcmp(optarg, "mtp")) {
                snprintf(err, cap, "--spec wants auto, mtp, lookup or off, got '%s'", optarg);
                return -1;
            }
            setenv("GEMMASH_SPEC", optarg, 1);
            break;
        case O_TOOLS: c->tools = optarg; break;
        case O_ENDPOINT: c->endpoint = optarg; break;
        case O_KEYENV: c->api_key_env = optarg; break;
        case O_RMODEL: c->remote_model = optarg; break;
        case O_MAXARG: if (num_arg("--max-arg-bytes", optarg, 1, 1 << 30, &n, err, cap)) return -1; c->o.max_arg_bytes = (int)n; break;
        case ':': snprintf(err, cap, "%s needs a value", argv[optind - 1]); return -1;
        default:
            snprintf(err, cap, "unknown option '%s' (see gemmash --help)", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, cap, "unexpected argument '%s' (a task goes after -p, in quotes; commands: gemmash --help)",
                 argv[optind]);
        return -1;
    }
    return 0;
}
