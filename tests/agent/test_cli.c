/* test_cli.c: the agent's command line: every flag, and the usage errors
 * (exit status 2) named with what was expected. */
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
#include "ag_cli.h"
#include "check.h"

static int parse(ag_cli *c, char *err, const char *a0, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, a0);
    argv[argc++] = (char *)"gemmash";
    for (const char *a = a0; a && argc < 63; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    return ag_cli_parse(argc, argv, c, err, 512);
}

static void bad(const char *want, const char *a, const char *b)
{
    ag_cli c;
    char err[512] = "";
    int rc = parse(&c, err, a, b, NULL);
    CHECK(rc == -1 && strstr(err, want), "rejects %s %s: %s", a, b ? b : "", err);
    ag_cli_free(&c);
}

int main(void)
{
    ag_cli c;
    char err[512] = "";
    int rc = parse(&c, err, "-p", "fix it", "-m", "ckpt", "--threads", "3", "--ctx", "4096", "--seed", "7",
                   "--temp", "0", "--no-think", "--think-budget", "64", "--tool-choice", "write_file",
                   "--output", "jsonl", "--max-turns", "9", "--timeout", "30", "--approval", "never",
                   "--mode", "read-only", "--allow-network", "--writable", "/tmp", "--writable", "/var/tmp",
                   "--continue", "--no-session", "--compact-at", "0.5", "--kv-type", "f32", NULL);
    CHECK(rc == 0, "every flag parses (%s)", err);
    CHECK(!strcmp(c.prompt, "fix it") && !strcmp(c.o.model, "ckpt") && c.o.threads == 3 && c.o.n_ctx == 4096 &&
          c.o.seed == 7 && c.o.temperature == 0 && !c.o.think && c.o.think_budget == 64 && c.o.kv_type == GM_KV_F32,
          "model and sampling flags");
    CHECK(c.o.tool_choice == AG_TC_NAME && !strcmp(c.o.tool_choice_name, "write_file") &&
          c.o.output == AG_OUT_FMT_JSONL && c.o.max_turns == 9 && c.o.timeout_s == 30 &&
          c.o.approval == AG_APPROVE_NEVER && c.o.compact_at == 0.5, "agent flags");
    CHECK(c.mode == SB_MODE_READ_ONLY && c.allow_network && c.n_writable == 2 && !strcmp(c.resume, "last") &&
          c.o.no_session_file, "sandbox and session flags");
    ag_cli_free(&c);
    rc = parse(&c, err, "--dangerously-full-access", "--tool-choice", "required", NULL);
    CHECK(rc == 0 && c.mode == SB_MODE_FULL && c.o.tool_choice == AG_TC_REQUIRED && c.o.think &&
          c.o.approval == AG_APPROVE_AUTO_EDIT, "defaults: thinking on, approval auto-edit; full access flag");
    ag_cli_free(&c);
    bad("unknown option '--frobnicate'", "--frobnicate", NULL);
    bad("--ctx expects a whole number", "--ctx", "lots");
    bad("--kv-type wants f16 or f32, got 'bf16'", "--kv-type", "bf16");
    bad("--temp expects a number from 0 to 10", "--temp", "-1");
    bad("--output expects text, json or jsonl", "--output", "xml");
    bad("--approval expects ask, auto-edit or never", "--approval", "maybe");
    bad("--mode expects read-only, workspace-write or full", "--mode", "open");
    bad("--max-turns needs a value", "--max-turns", NULL);
    bad("unexpected argument 'stray'", "stray", NULL);
    bad("--compact-at expects a number from 0.1 to 0.95", "--compact-at", "1.5");
    return check_exit();
}
