/* test_config.c: the config file: every key, comments, defaults untouched,
 * and errors that name the file, the line and what was expected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "config.h"
#include "approval.h"
#include "sandbox.h"
#include "engine.h"

static const struct { const char *text, *msg; } bad[] = {
    {"thinkk = true\n", "cfg:1: unknown key 'thinkk' (did you mean 'think'?)"},
    {"# c\n\nmodle = x\n", "cfg:3: unknown key 'modle' (did you mean 'model'?)"},
    {"tempreature = 1\n", "cfg:1: unknown key 'tempreature' (did you mean 'temperature'?)"},
    {"colour = red\n", "cfg:1: unknown key 'colour' (see"},
    {"think = maybe\n", "cfg:1: bad value 'maybe' for 'think': expected true or false"},
    {"threads = 0\n", "cfg:1: bad value '0' for 'threads': expected a whole number from 1 to 1024"},
    {"threads = 4x\n", "cfg:1: bad value '4x' for 'threads'"},
    {"ctx = -5\n", "cfg:1: bad value '-5' for 'ctx'"},
    {"temperature = 11\n", "cfg:1: bad value '11' for 'temperature': expected a number from 0 to 10"},
    {"temperature = nan\n", "cfg:1: bad value 'nan' for 'temperature'"},
    {"approval = sometimes\n", "cfg:1: bad value 'sometimes' for 'approval': expected ask, auto-edit or never"},
    {"sandbox = none\n", "cfg:1: bad value 'none' for 'sandbox': expected read-only, workspace-write or full"},
    {"network\n", "cfg:1: expected 'key = value', got 'network'"},
    {"= 3\n", "cfg:1: a line starts with '='"},
    {"model =\n", "cfg:1: 'model' needs a value"},
    {"writable =   # nothing\n", "cfg:1: 'writable' needs a folder"},
    {"compact_at = 0.99\n", "cfg:1: bad value '0.99' for 'compact_at'"},
    {"kv_type = q8_0\n", "cfg:1: bad value 'q8_0' for 'kv_type': expected f16 or f32"},
};

int main(void)
{
    ag_config c = {0};
    char err[1024] = "";
    const char *good =
        "# gemmash settings\n"
        "model = /models/gemma  # trailing comment\n"
        "threads=8\n"
        "  think = false\n"
        "approval = never\n"
        "sandbox = read-only\n"
        "writable = /tmp/a\n"
        "writable = \"/tmp/with#hash\"\n"
        "network = yes\n"
        "ctx = 8192\n"
        "temperature = 0.7\n"
        "seed = 42\n"
        "max_tokens = 100\n"
        "think_budget = 512\n"
        "max_turns = 9\n"
        "timeout = 2.5\n"
        "compact_at = 0.5\n"
        "tools = read_file,grep\n"
        "system_file = ~/p.md\n"
        "append_system_file = extra.md\n"
        "history = off\n"
        "kv_type = F32\n"
        "\r\n";
    int rc = ag_config_parse(&c, good, "cfg", err, sizeof err);
    CHECK(rc == 0, "a config with every key parses (%s)", err);
    CHECK(c.model && !strcmp(c.model, "/models/gemma"), "model, comment stripped: '%s'", c.model ? c.model : "");
    CHECK(c.threads == 8 && AG_CFG_HAS(&c, AG_CFG_THREADS), "threads = 8 without spaces");
    CHECK(!c.think && AG_CFG_HAS(&c, AG_CFG_THINK), "think = false, indented");
    CHECK(c.approval == AG_APPROVE_NEVER, "approval = never");
    CHECK(c.sandbox == SB_MODE_READ_ONLY, "sandbox = read-only");
    CHECK(c.n_writable == 2 && !strcmp(c.writable[0], "/tmp/a") && !strcmp(c.writable[1], "/tmp/with#hash"),
          "writable repeats; a quoted value keeps '#'");
    CHECK(c.network, "network = yes");
    CHECK(c.ctx == 8192 && c.seed == 42 && c.max_tokens == 100 && c.think_budget == 512 && c.max_turns == 9,
          "integers");
    CHECK(c.temperature == 0.7 && c.timeout == 2.5 && c.compact_at == 0.5, "reals");
    CHECK(c.tools && !strcmp(c.tools, "read_file,grep"), "tools");
    CHECK(c.system_file && c.append_system_file, "prompt files");
    CHECK(!c.history && AG_CFG_HAS(&c, AG_CFG_HISTORY), "history = off");
    CHECK(c.kv_type == GM_KV_F32 && AG_CFG_HAS(&c, AG_CFG_KV_TYPE), "kv_type = F32 (any case)");
    ag_config_free(&c);

    ag_config e = {0};
    CHECK(ag_config_parse(&e, "# only comments\n\n   \n", "cfg", err, sizeof err) == 0 && e.set == 0,
          "comments and blank lines set nothing");
    ag_config_free(&e);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ag_config b = {0};
        err[0] = 0;
        rc = ag_config_parse(&b, bad[i].text, "cfg", err, sizeof err);
        CHECK(rc == -1 && strstr(err, bad[i].msg), "bad config %zu: '%s' (got '%s')", i, bad[i].msg, err);
        ag_config_free(&b);
    }

    /* the file: XDG_CONFIG_HOME, a missing file, the ~ in messages */
    char home[] = "/tmp/gemmash-cfg-XXXXXX";
    CHECK(mkdtemp(home) != NULL, "temp HOME");
    setenv("HOME", home, 1);
    unsetenv("XDG_CONFIG_HOME");
    char dir[4096], path[4200], shown[4200];
    CHECK(ag_config_dir(dir, sizeof dir) == 0 && !strcmp(dir + strlen(home), "/.config/gemmash"),
          "config folder is ~/.config/gemmash: %s", dir);
    char xdg[4200];
    snprintf(xdg, sizeof xdg, "%s/xdg", home);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    CHECK(ag_config_dir(dir, sizeof dir) == 0 && !strcmp(dir + strlen(home), "/xdg/gemmash"),
          "XDG_CONFIG_HOME is honoured: %s", dir);
    snprintf(path, sizeof path, "%s/config", home);
    ag_config_shown(path, shown, sizeof shown);
    CHECK(!strcmp(shown, "~/config"), "HOME is shown as ~: %s", shown);
    ag_config f = {0};
    CHECK(ag_config_load(&f, path, shown, err, sizeof err) == 0 && f.set == 0, "a missing file sets nothing");
    FILE *fp = fopen(path, "w");
    if (fp) { fputs("model = m\n# x\n\n\n\n\nthinkk = true\n", fp); fclose(fp); }
    rc = ag_config_load(&f, path, shown, err, sizeof err);
    CHECK(rc == -1 && !strcmp(err, "~/config:7: unknown key 'thinkk' (did you mean 'think'?)"),
          "file error message: %s", err);
    ag_config_free(&f);
    unlink(path);
    rmdir(home);
    return check_exit();
}
