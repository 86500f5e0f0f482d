/* test_prompt.c: the system prompt: built-in prompts, replace and append,
 * and AGENTS.md collection (global, repository root down to the working
 * folder, closest last) within its budget, with a warning when cut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"
#include "prompt.h"

static char base[] = "/tmp/gemmash-prompt-XXXXXX";

/* Write text to base/rel (parents must exist). */
static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    FILE *f = fopen(p, "w");
    if (f) { fputs(text, f); fclose(f); }
}

static void dir(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    mkdir(p, 0700);
}

/* Position of needle in hay, or -1. */
static long pos(const char *hay, const char *needle)
{
    const char *p = hay ? strstr(hay, needle) : NULL;
    return p ? p - hay : -1;
}

int main(void)
{
    const char *coding = ag_prompt_builtin("coding"), *autom = ag_prompt_builtin("automation");
    CHECK(coding && strstr(coding, "sandbox") && strstr(coding, "denied"), "coding prompt is embedded and explains the sandbox and denials");
    CHECK(autom && strstr(autom, "headless") && strstr(autom, "Denials"), "automation prompt is embedded");
    CHECK(ag_prompt_builtin("nope") == NULL, "unknown built-in prompt: NULL");

    CHECK(mkdtemp(base) != NULL, "temp folder");
    dir("cfg"); dir("repo"); dir("repo/.git"); dir("repo/a"); dir("repo/a/b"); dir("plain");
    put("cfg/AGENTS.md", "GLOBAL rules\n");
    put("AGENTS.md", "ABOVE THE REPO: never read\n");
    put("repo/AGENTS.md", "ROOT rules\n");
    put("repo/a/b/AGENTS.md", "CLOSEST rules\n");
    char cwd[512], cfg[512];
    snprintf(cwd, sizeof cwd, "%s/repo/a/b", base);
    snprintf(cfg, sizeof cfg, "%s/cfg", base);

    char *files = ag_agents_files(cwd, cfg);
    char want[2048];
    snprintf(want, sizeof want, "%s/cfg/AGENTS.md\n%s/repo/AGENTS.md\n%s/repo/a/b/AGENTS.md\n", base, base, base);
    CHECK(files && !strcmp(files, want), "AGENTS.md files: global, repo root, closest");
    free(files);

    char warn[1024];
    ag_prompt_opts o = {.cwd = cwd, .config_dir = cfg};
    char *p = ag_build_system_prompt(&o, warn, sizeof warn);
    CHECK(p && pos(p, "You are gemmash") == 0, "the coding prompt comes first");
    CHECK(pos(p, "GLOBAL") > 0 && pos(p, "GLOBAL") < pos(p, "ROOT") && pos(p, "ROOT") < pos(p, "CLOSEST"),
          "AGENTS.md order: global, root, closest last");
    CHECK(pos(p, "ABOVE THE REPO") < 0, "nothing above the repository root is read");
    CHECK(pos(p, "## a/b/AGENTS.md") > 0 && pos(p, "## AGENTS.md") > 0, "files are named relative to the repository");
    CHECK(pos(p, "Working folder: ") > pos(p, "CLOSEST") && strstr(p, cwd), "the working folder is named last");
    CHECK(warn[0] == 0, "no warning within budget (%s)", warn);
    free(p);

    /* replace and append */
    ag_prompt_opts r = {.cwd = cwd, .config_dir = cfg, .system_text = "CUSTOM PROMPT\n\n", .append_text = "EXTRA TEXT"};
    p = ag_build_system_prompt(&r, warn, sizeof warn);
    CHECK(p && pos(p, "CUSTOM PROMPT\n\nEXTRA TEXT") == 0 && pos(p, "You are gemmash") < 0,
          "--system-file replaces, --append-system appends");
    CHECK(pos(p, "CLOSEST") > 0, "AGENTS.md still added to a replaced prompt");
    free(p);
    ag_prompt_opts h = {.cwd = cwd, .config_dir = cfg, .builtin = "automation", .no_agents = true};
    p = ag_build_system_prompt(&h, warn, sizeof warn);
    CHECK(p && pos(p, "headless") > 0 && pos(p, "GLOBAL") < 0, "automation prompt, AGENTS.md off");
    free(p);
    ag_prompt_opts bad = {.cwd = cwd, .builtin = "nope"};
    CHECK(ag_build_system_prompt(&bad, warn, sizeof warn) == NULL && strstr(warn, "no built-in prompt named 'nope'"),
          "unknown built-in: NULL with a message (%s)", warn);

    /* budget: the file that passes it is cut, later ones left out, a warning names them */
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big + 82, "\xc3\xa9", 2);                /* a 2-byte character across the cut at 83 */
    put("repo/AGENTS.md", big);
    ag_prompt_opts t = {.cwd = cwd, .config_dir = cfg, .agents_budget = 13 + 83};   /* GLOBAL file is 13 bytes */
    p = ag_build_system_prompt(&t, warn, sizeof warn);
    CHECK(p && pos(p, "GLOBAL") > 0, "the first file fits");
    CHECK(strstr(warn, "AGENTS.md was cut at 82 bytes") != NULL, "warning names the cut file, cut before the UTF-8 character: %s", warn);
    CHECK(strstr(warn, "left out: a/b/AGENTS.md") != NULL, "warning names the file left out: %s", warn);
    CHECK(pos(p, "CLOSEST") < 0 && pos(p, "the rest of this file was cut") > 0, "the prompt says the file was cut");
    free(p);

    /* no repository: only the working folder's own AGENTS.md (and the global one) */
    put("plain/AGENTS.md", "PLAIN rules\n");
    snprintf(cwd, sizeof cwd, "%s/plain", base);
    files = ag_agents_files(cwd, cfg);
    snprintf(want, sizeof want, "%s/cfg/AGENTS.md\n%s/plain/AGENTS.md\n", base, base);
    CHECK(files && !strcmp(files, want), "outside a repository: global and the working folder only");
    free(files);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    CHECK(system(cmd) == 0, "cleanup");
    return check_exit();
}
