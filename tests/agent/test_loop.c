/* test_loop.c: the agent loop on a scripted model (tests/agent/fake_model.h).
 *
 * Final answers, tool round trips with KV-cache reuse, forced tool choice
 * under random logits, error feedback for malformed and invalid calls, the
 * loop guard, headless denials, turn and context limits, compaction, the
 * thinking budget, --output-schema, and session files with resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "commands.h"
#include "check.h"
#include "agent/fake_model.h"
#include "sandbox.h"
#include <sys/stat.h>

static char tokjson[4096];

static ag_session *mk(ag_opts *o, const char **script, int n, int n_ctx, uint64_t seed, fake_tools *ft,
                      fake_model **fmp)
{
    ag_backend b;
    ag_toolbox t;
    fake_model *fm = fm_backend(&b, tokjson, n_ctx, script, n, seed);
    ft_box(&t, ft);
    char err[1024];
    ag_session *s = ag_session_new(o, &b, &t, err, sizeof err);
    if (!s) printf("# session: %s\n", err);
    if (fmp) *fmp = fm;
    return s;
}

static void base_opts(ag_opts *o)
{
    ag_opts_default(o);
    o->no_session_file = true;
    o->headless = true;
    o->think = false;
    o->approval = AG_APPROVE_NEVER;
    o->temperature = 1;
}

/* Content of message i of the session, or "". */
static const char *msg_content(const ag_session *s, int i)
{
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(ag_session_messages(s), i), "content"));
    return c ? c : "";
}

static void test_answer_and_reuse(void)
{
    ag_opts o;
    base_opts(&o);
    const char *script[] = {"Hello there.<turn|>",
                            "<|tool_call>call:echo{text:<|\"|>hi<|\"|>}<tool_call|><|tool_response>",
                            "It said hi.<turn|>"};
    fake_tools ft = {0};
    ag_session *s = mk(&o, script, 3, 8192, 1, &ft, NULL);
    int st = ag_session_turn(s, "Say hello.");
    CHECK(st == GM_EXIT_OK && !strcmp(ag_session_answer(s), "Hello there."), "plain answer (status %d, '%s')",
          st, ag_session_answer(s));
    st = ag_session_turn(s, "Echo hi.");
    const ag_stats *sx = ag_session_stats(s);
    CHECK(st == GM_EXIT_OK && !strcmp(ag_session_answer(s), "It said hi."), "tool round trip ends in an answer");
    CHECK(ft.calls == 1 && !strcmp(ft.last, "echo"), "the tool ran once");
    CHECK(cJSON_GetArraySize(ag_session_messages(s)) == 7, "messages: system, user, model, user, model+call, tool, "
          "model (%d)", cJSON_GetArraySize(ag_session_messages(s)));
    CHECK(strstr(msg_content(s, 5), "\"output\":\"hi\"") != NULL, "tool message carries the result: %s", msg_content(s, 5));
    CHECK(sx->n_prefill == 3, "three generations recorded");
    printf("# prefill per generation: %d %d %d\n", sx->prefill[0], sx->prefill[1], sx->prefill[2]);
    CHECK(sx->prefill[1] < sx->prefill[0] / 4, "turn 2 prefills only its new tokens (%d vs %d)", sx->prefill[1],
          sx->prefill[0]);
    CHECK(sx->prefill[2] < 40, "the step after a tool call prefills only the tool response (%d tokens)", sx->prefill[2]);
    CHECK(sx->prompt[1] - sx->prefill[1] >= sx->prompt[0] && sx->prompt[2] - sx->prefill[2] >= sx->prompt[1],
          "each step reuses at least the whole previous prompt from the cache (%d/%d/%d prompt tokens)",
          sx->prompt[0], sx->prompt[1], sx->prompt[2]);
    ag_session_free(s);
}

static void test_forced_random(void)
{
    int ok = 0, runs = 12;
    for (int seed = 1; seed <= runs; seed++) {
        ag_opts o;
        base_opts(&o);
        o.tool_choice = AG_TC_REQUIRED;
        o.max_gen_tokens = 3000;
        const char *script[] = {NULL, "Done.<turn|>"};
        fake_tools ft = {0};
        ag_session *s = mk(&o, script, 2, 8192, (uint64_t)seed, &ft, NULL);
        int st = ag_session_turn(s, "Use a tool.");
        const char *tool = msg_content(s, 3);
        bool good = st == GM_EXIT_OK && ft.calls >= 1 && !strstr(tool, "\"error\"") &&
                    !strcmp(ag_session_answer(s), "Done.");
        if (!good) printf("# seed %d: status %d calls %d tool message %.200s\n", seed, st, ft.calls, tool);
        ok += good;
        ag_session_free(s);
    }
    CHECK(ok == runs, "--tool-choice required under random logits: %d/%d runs made valid calls, ran them, "
          "and answered", ok, runs);

    ag_opts o;
    base_opts(&o);
    o.tool_choice = AG_TC_NAME;
    o.tool_choice_name = "write_file";
    o.max_gen_tokens = 600;
    const char *script[] = {"I will not call anything.<turn|>", "Done.<turn|>"};
    fake_tools ft = {0};
    ag_session *s = mk(&o, script, 2, 8192, 7, &ft, NULL);
    int st = ag_session_turn(s, "Write a file.");
    CHECK(st == GM_EXIT_OK && ft.calls >= 1 && !strcmp(ft.last, "write_file"),
          "--tool-choice write_file forces that tool (status %d, %d calls, last %s)", st, ft.calls, ft.last);
    ag_session_free(s);

    base_opts(&o);
    o.tool_choice = AG_TC_NONE;
    o.max_gen_tokens = 40;
    const char *script2[] = {"<|tool_call>call:echo{text:<|\"|>x<|\"|>}<tool_call|>"};
    fake_tools ft2 = {0};
    s = mk(&o, script2, 1, 8192, 3, &ft2, NULL);
    st = ag_session_turn(s, "Hi.");
    CHECK(st == GM_EXIT_OK && ft2.calls == 0, "--tool-choice none: no call is possible (status %d)", st);
    ag_session_free(s);
}

static void test_feedback(void)
{
    ag_opts o;
    base_opts(&o);
    const char *script[] = {"<|tool_call>call:echo{text:1,,}<tool_call|><|tool_response>",
                            "<|tool_call>call:echo{txt:<|\"|>x<|\"|>}<tool_call|><|tool_response>",
                            "<|tool_call>call:rm{path:<|\"|>/<|\"|>}<tool_call|><|tool_response>",
                            "Gave up.<turn|>"};
    fake_tools ft = {0};
    fake_model *fm;
    ag_session *s = mk(&o, script, 4, 8192, 1, &ft, &fm);
    fm->ignore_mask = true;     /* let malformed calls through to test the feedback */
    int st = ag_session_turn(s, "Go.");
    CHECK(st == GM_EXIT_OK && ft.calls == 0, "malformed and invalid calls never reach the tool");
    CHECK(strstr(msg_content(s, 3), "could not be read") && strstr(msg_content(s, 3), "expected an argument name"),
          "syntax error goes back to the model: %.160s", msg_content(s, 3));
    CHECK(strstr(msg_content(s, 5), "invalid arguments for 'echo'") &&
          strstr(msg_content(s, 5), "required argument 'text' is missing"),
          "schema error goes back to the model: %.160s", msg_content(s, 5));
    CHECK(strstr(msg_content(s, 7), "there is no tool named 'rm'; the tools are: echo, write_file") != NULL,
          "unknown tool goes back with the tool list: %.160s", msg_content(s, 7));
    ag_session_free(s);
}

static void test_limits(void)
{
    const char *call = "<|tool_call>call:echo{text:<|\"|>same<|\"|>}<tool_call|><|tool_response>";
    const char *script[] = {call, call, call, call, call, call, call};
    ag_opts o;
    base_opts(&o);
    fake_tools ft = {0};
    ag_session *s = mk(&o, script, 7, 8192, 1, &ft, NULL);
    int st = ag_session_turn(s, "Loop.");
    CHECK(st == GM_EXIT_LIMIT && ft.calls == 5, "the fifth identical call stops the turn (status %d, %d calls)", st,
          ft.calls);
    CHECK(strstr(msg_content(s, 7), "you are looping") && !strstr(msg_content(s, 5), "looping"),
          "the third identical call carries a loop warning");
    ag_session_free(s);

    base_opts(&o);
    o.max_turns = 2;
    const char *script2[] = {"<|tool_call>call:echo{text:<|\"|>a<|\"|>}<tool_call|><|tool_response>",
                             "<|tool_call>call:echo{text:<|\"|>b<|\"|>}<tool_call|><|tool_response>", "x<turn|>"};
    fake_tools ft2 = {0};
    s = mk(&o, script2, 3, 8192, 1, &ft2, NULL);
    st = ag_session_turn(s, "Go.");
    CHECK(st == GM_EXIT_LIMIT && ag_session_stats(s)->turns == 2, "--max-turns 2 stops at two generations");
    ag_session_free(s);

    base_opts(&o);
    o.timeout_s = 1e-9;
    fake_tools ftt = {0};
    s = mk(&o, script2, 3, 8192, 1, &ftt, NULL);
    st = ag_session_turn(s, "Go.");
    CHECK(st == GM_EXIT_LIMIT && ag_session_stats(s)->turns == 0, "--timeout stops the run with status 5 (%d)", st);
    ag_session_free(s);

    base_opts(&o);
    o.approval = AG_APPROVE_ASK;
    const char *script3[] = {"<|tool_call>call:write_file{content:<|\"|>x<|\"|>,path:<|\"|>f<|\"|>}<tool_call|>"
                             "<|tool_response>", "Could not write.<turn|>"};
    fake_tools ft3 = {0};
    s = mk(&o, script3, 2, 8192, 1, &ft3, NULL);
    st = ag_session_turn(s, "Write.");
    CHECK(st == GM_EXIT_APPROVAL && ft3.calls == 0 && ag_session_stats(s)->denials == 1,
          "headless: a call that needs approval is denied, the run ends with status 4 (%d)", st);
    CHECK(strstr(msg_content(s, 3), "denied") && strstr(msg_content(s, 3), "headless"),
          "the model is told why: %.160s", msg_content(s, 3));
    ag_session_free(s);

    base_opts(&o);
    const char *script4[] = {"Hi.<turn|>"};
    fake_tools ft4 = {0};
    s = mk(&o, script4, 1, 60, 1, &ft4, NULL);
    st = ag_session_turn(s, "Hello.");
    CHECK(st == GM_EXIT_CONTEXT, "a context too small for the prompt ends with status 6 (%d)", st);
    ag_session_free(s);

    base_opts(&o);
    fake_tools ft5 = {.fence_fail = true};
    s = mk(&o, script3, 2, 8192, 1, &ft5, NULL);
    st = ag_session_turn(s, "Write.");
    CHECK(st == GM_EXIT_SANDBOX, "a sandbox that cannot be applied ends with status 7 (%d)", st);
    ag_session_free(s);
}

static void test_compaction(void)
{
    static char calls[6][700];
    const char *script[7];
    for (int i = 0; i < 6; i++) {
        char text[400];
        memset(text, 'a' + i, sizeof text - 1);
        text[sizeof text - 1] = 0;
        snprintf(calls[i], sizeof calls[i], "<|tool_call>call:echo{text:<|\"|>%s<|\"|>}<tool_call|><|tool_response>", text);
        script[i] = calls[i];
    }
    script[6] = "All echoed.<turn|>";
    ag_opts o;
    base_opts(&o);
    o.keep_last = 2;
    fake_tools ft = {0};
    fake_model *fm;
    ag_session *s = mk(&o, script, 7, 3600, 1, &ft, &fm);
    int st = ag_session_turn(s, "Echo six long texts.");
    const ag_stats *sx = ag_session_stats(s);
    CHECK(st == GM_EXIT_OK && sx->compactions >= 1 && fm->summaries >= 1,
          "the loop compacts when the prompt passes 80%% of the context (status %d, %d compactions)", st,
          sx->compactions);
    CHECK(strstr(msg_content(s, 1), "replaced the older messages with this summary") &&
          strstr(msg_content(s, 1), "Earlier: the agent echoed") && strstr(msg_content(s, 1), "Echo six long texts."),
          "the summary message keeps the goal verbatim");
    CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(ag_session_messages(s), 0), "role")),
                  "system"), "the system message stays pinned");
    ag_session_free(s);
}

static void test_think_and_schema(void)
{
    ag_opts o;
    base_opts(&o);
    o.think = true;
    o.think_budget = 14;   /* the fixture spells the label in 8 byte tokens */
    o.max_gen_tokens = 80;
    o.tool_choice = AG_TC_NONE;
    const char *script[] = {"<|channel>thought\nlet me think about this for a very long time indeed<channel|>Fine.<turn|>"};
    fake_tools ft = {0};
    ag_session *s = mk(&o, script, 1, 8192, 1, &ft, NULL);
    ag_session_turn(s, "Think.");
    const char *r = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(ag_session_messages(s), 2),
                                                             "reasoning_content"));
    CHECK(r && strlen(r) < 16 && !strncmp(r, "let", 3), "the thinking budget closes the thought gracefully ('%s')",
          r ? r : "(none)");
    ag_session_free(s);

    int ok = 0, runs = 8;
    cJSON *schema = cJSON_Parse("{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"},"
                                "\"n\":{\"type\":\"integer\"}},\"required\":[\"answer\",\"n\"]}");
    for (int seed = 1; seed <= runs; seed++) {
        base_opts(&o);
        o.output_schema = schema;
        o.tool_choice = AG_TC_NONE;
        o.max_gen_tokens = 800;
        const char *sc[] = {NULL};
        fake_tools f2 = {0};
        s = mk(&o, sc, 1, 8192, (uint64_t)seed, &f2, NULL);
        int st = ag_session_turn(s, "Answer in JSON.");
        cJSON *j = cJSON_Parse(ag_session_answer(s));
        char err[256];
        bool good = st == GM_EXIT_OK && j && ag_schema_validate(schema, j, err, sizeof err) == 0;
        if (!good) printf("# seed %d: status %d answer %.200s\n", seed, st, ag_session_answer(s));
        ok += good;
        cJSON_Delete(j);
        ag_session_free(s);
    }
    CHECK(ok == runs, "--output-schema: %d/%d random-logit answers are valid JSON for the schema", ok, runs);
    cJSON_Delete(schema);
}

static void test_session_file(void)
{
    char dir[] = "/tmp/gemmash-test-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0, "temp dir"); return; }
    ag_opts o;
    base_opts(&o);
    o.no_session_file = false;
    o.state_dir = dir;
    const char *script[] = {"<|tool_call>call:echo{text:<|\"|>hi<|\"|>}<tool_call|><|tool_response>", "Done.<turn|>"};
    fake_tools ft = {0};
    ag_session *s = mk(&o, script, 2, 8192, 1, &ft, NULL);
    ag_session_turn(s, "Echo.");
    char path[4200];
    snprintf(path, sizeof path, "%s", ag_session_path(s));
    char err[512];
    cJSON *meta = NULL;
    cJSON *msgs = ag_session_read(path, &meta, err, sizeof err);
    CHECK(strstr(path, dir) && strstr(path, "/sessions/") && msgs, "session saved under the state folder: %s", path);
    CHECK(msgs && cJSON_Compare(msgs, ag_session_messages(s), true), "the file holds exactly the session's messages");
    CHECK(meta && cJSON_GetObjectItem(meta, "seed") && cJSON_GetObjectItem(meta, "model"),
          "the first line records seed and model");
    cJSON_Delete(msgs); cJSON_Delete(meta);
    int n = cJSON_GetArraySize(ag_session_messages(s));
    ag_session_free(s);

    const char *script2[] = {"Resumed.<turn|>"};
    fake_tools ft2 = {0};
    s = mk(&o, script2, 1, 8192, 1, &ft2, NULL);
    int rc = ag_session_load(s, path, err, sizeof err);
    int st = ag_session_turn(s, "Again.");
    CHECK(rc == 0 && st == 0 && cJSON_GetArraySize(ag_session_messages(s)) == n + 2,
          "a resumed session continues the conversation (%d messages)", cJSON_GetArraySize(ag_session_messages(s)));
    ag_session_free(s);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) printf("# could not remove %s\n", dir);
}

/* Record a run at temperature 0 (random model, forced call), then replay
 * it: no divergence; then alter the record: the replay finds the change. */
static void test_replay(void)
{
    char dir[] = "/tmp/gemmash-replay-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0, "temp dir"); return; }
    ag_opts o;
    base_opts(&o);
    o.no_session_file = false;
    o.state_dir = dir;
    o.temperature = 0;
    o.seed = 11;
    o.tool_choice = AG_TC_REQUIRED;
    o.max_gen_tokens = 300;
    fake_tools ft = {0};
    ag_session *s = mk(&o, NULL, 0, 8192, 5, &ft, NULL);
    int st1 = ag_session_turn(s, "Do something.");
    int st2 = ag_session_turn(s, "And again.");
    char path[4200];
    snprintf(path, sizeof path, "%s", ag_session_path(s));
    int nmsg = cJSON_GetArraySize(ag_session_messages(s));
    ag_session_free(s);
    CHECK(ft.calls >= 1 && nmsg >= 6, "recorded a two-task session with %d tool calls (status %d %d)", ft.calls, st1, st2);
    ag_backend b;
    fm_backend(&b, tokjson, 8192, NULL, 0, 99);
    char out[4096] = "";
    FILE *mem = fmemopen(out, sizeof out, "w");
    int rc = ag_replay_session(path, &b, false, mem);
    fclose(mem);
    CHECK(rc == 0 && strstr(out, "no divergence"), "replay at temperature 0 reports no divergence");
    /* alter the last model answer in the record */
    char cmd[4600];
    snprintf(cmd, sizeof cmd, "%s -c \"import json,sys\nL=open(sys.argv[1]).read().splitlines()\n"
             "i=max(k for k,l in enumerate(L) if json.loads(l).get('message',{}).get('role')=='assistant')\n"
             "o=json.loads(L[i]); o['message']['content']='edited'; L[i]=json.dumps(o)\n"
             "open(sys.argv[1],'w').write(chr(10).join(L)+chr(10))\" '%s'",
             getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3", path);
    if (system(cmd)) { CHECK(0, "editing the record"); return; }
    fm_backend(&b, tokjson, 8192, NULL, 0, 99);
    mem = fmemopen(out, sizeof out, "w");
    rc = ag_replay_session(path, &b, false, mem);
    fclose(mem);
    CHECK(rc == 1 && strstr(out, "departs from the record") && strstr(out, "edited"),
          "an altered record is reported where it departs");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) printf("# could not remove %s\n", dir);
}

/* Real tools in a scratch git repository: the forced write_file lands in
 * the workspace and nothing outside it changes. */
static void test_real_tools(void)
{
    char root[] = "/tmp/gemmash-ws-XXXXXX";
    if (!mkdtemp(root)) { CHECK(0, "temp dir"); return; }
    char ws[128], outside[128], outdir[128], cmd[1024];
    snprintf(ws, sizeof ws, "%s/repo", root);
    snprintf(outside, sizeof outside, "%s/outside.txt", root);
    snprintf(outdir, sizeof outdir, "%s/out", root);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s' && cd '%s' && git init -q . && echo keep > '%s'", ws, outdir, ws, outside);
    if (system(cmd)) { CHECK(0, "scratch repo"); return; }
    sb_policy *pol = calloc(1, sizeof *pol);
    char err[1024];
    int rc = sb_policy_init(pol, ws, err, sizeof err);
    if (!rc) rc = sb_policy_add_writable(pol, outdir, err, sizeof err);
    ag_toolbox t;
    if (!rc) rc = ag_toolbox_open(&t, pol, outdir, "write_file,read_file", NULL, err, sizeof err);
    CHECK(rc == 0, "tools open on the scratch workspace (%s)", rc ? err : "ok");
    if (rc) return;
    ag_opts o;
    base_opts(&o);
    o.tool_choice = AG_TC_NAME;
    o.tool_choice_name = "write_file";
    o.approval = AG_APPROVE_AUTO_EDIT;
    const char *script[] = {"<|tool_call>call:write_file{content:<|\"|>hello\n<|\"|>,path:<|\"|>hello.txt<|\"|>}"
                            "<tool_call|><|tool_response>",
                            "<|tool_call>call:write_file{content:<|\"|>x<|\"|>,path:<|\"|>../outside.txt<|\"|>}"
                            "<tool_call|><|tool_response>", "Wrote hello.txt.<turn|>"};
    ag_backend b;
    fm_backend(&b, tokjson, 8192, script, 3, 1);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd) || chdir(ws)) { CHECK(0, "chdir"); return; }
    ag_session *s = ag_session_new(&o, &b, &t, err, sizeof err);
    int st = s ? ag_session_turn(s, "Write hello.txt") : -1;
    if (chdir(cwd)) printf("# chdir back failed\n");
    char path[4300], buf[64] = "";
    snprintf(path, sizeof path, "%s/hello.txt", ws);
    FILE *f = fopen(path, "r");
    if (f) { if (!fgets(buf, sizeof buf, f)) buf[0] = 0; fclose(f); }
    CHECK(st == GM_EXIT_OK && !strcmp(buf, "hello\n"), "forced write_file wrote hello.txt in the workspace (status %d)", st);
    f = fopen(outside, "r");
    buf[0] = 0;
    if (f) { if (!fgets(buf, sizeof buf, f)) buf[0] = 0; fclose(f); }
    CHECK(!strcmp(buf, "keep\n"), "the file outside the workspace is untouched");
    CHECK(s && strstr(msg_content(s, 5), "\"ok\":false"), "the write outside is refused and the model told: %.200s",
          s ? msg_content(s, 5) : "");
    ag_session_free(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd)) printf("# could not remove %s\n", root);
}

int main(void)
{
    const char *fx = getenv("FIXTURES");
    snprintf(tokjson, sizeof tokjson, "%s/gemma4-ref/e2b_like/tokenizer.json", fx ? fx : "tests/fixtures");
    test_answer_and_reuse();
    test_forced_random();
    test_feedback();
    test_limits();
    test_compaction();
    test_think_and_schema();
    test_session_file();
    test_real_tools();
    test_replay();
    return check_exit();
}
