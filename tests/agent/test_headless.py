"""Headless gemmash end to end on a tiny random checkpoint with the real tokenizer.

Every exit code is provoked, the JSONL stream is checked against its schema,
forced tool calls run in the sandbox and are fed back, KV reuse shows in the
prefill counts, a forced write_file lands inside a scratch git repository and
nowhere else, and a recorded session replays without divergence."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, ROOT, FIXTURES, check, done  # noqa: E402

PY = os.environ.get("PYTHON", "/usr/bin/python3")
CACHE = os.path.join(ROOT, "tests", ".cache", "agent")
MODEL = os.path.join(CACHE, "tiny-e2b-16k")
TMP = tempfile.mkdtemp(prefix="gemmash-headless-")
STATE = os.path.join(TMP, "state")
EVENT_FIELDS = {
    "init": ["model", "cwd", "tools", "ctx", "think", "sandbox", "approval"],
    "thinking": ["text"], "message": ["role", "text"], "tool_call": ["id", "name", "arguments"],
    "tool_result": ["id", "name", "ok", "result"], "denial": ["id", "name", "arguments", "reason"],
    "compaction": ["tokens_before", "tokens_after", "messages_summarized"], "error": ["message", "exit_code"],
    "result": ["status", "exit_code", "answer", "turns", "input_tokens", "output_tokens", "tool_calls",
               "denials", "duration_s", "prefill_tokens", "prompt_tokens"],
}


def make_model():
    """A tiny e2b-shaped checkpoint whose context holds our prompts (16k positions)."""
    if os.path.exists(os.path.join(MODEL, "config.json")):
        return
    os.makedirs(CACHE, exist_ok=True)
    subprocess.run([PY, os.path.join(ROOT, "tests", "pylib", "gen_ckpt.py"), "--out", MODEL, "--geometry",
                    "tiny-e2b", "--layout", "text", "--dtype", "f32", "--seed", "5", "--set", "max_pos=16384"],
                   check=True, capture_output=True)


def run(args, cwd=None, env_extra=None, inp=None, timeout=120):
    env = dict(os.environ, XDG_STATE_HOME=STATE, HOME=TMP, NO_COLOR="1")
    env.pop("GEMMASH_MODEL", None)
    env.pop("GEMMASH_HOME", None)     # the model store is HOME's (empty)
    env.update(env_extra or {})
    t0 = time.time()
    r = subprocess.run([BIN] + args, cwd=cwd or TMP, env=env, input=inp, capture_output=True, timeout=timeout)
    print("# %.1fs gemmash %s" % (time.time() - t0, " ".join(a for a in args if not a.startswith(ROOT))[:90]))
    return r


def events(out):
    """Parse a JSONL stream; None if a line is not JSON."""
    try:
        return [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    except ValueError:
        return None


def schema_ok(evs):
    """Every event has a known type, its fields and the session id; init first, result last;
    each tool_call is answered by a tool_result or a denial with the same id."""
    if not evs or evs[0].get("type") != "init" or evs[-1].get("type") != "result":
        return False
    sid = evs[0].get("session_id")
    open_calls = []
    for e in evs:
        t = e.get("type")
        if t not in EVENT_FIELDS or e.get("session_id") != sid:
            return False
        if any(f not in e for f in EVENT_FIELDS[t]):
            return False
        if t == "tool_call":
            open_calls.append(e["id"])
        if t in ("tool_result",) and e["id"] in open_calls:
            open_calls.remove(e["id"])
    return not open_calls


# short prompts (one line of system prompt, few tools) and capped strings keep a
# random model's runs short
SYS = os.path.join(TMP, "system.md")
AGENT = ["-m", MODEL, "--no-think", "--system-prompt-file", SYS, "--max-arg-bytes", "10"]
ONE = ["--tools", "list_dir"]


def main():
    make_model()
    with open(SYS, "w") as f:
        f.write("You are a test agent.\n")
    # 2: usage errors, before anything loads
    r = run(["--frobnicate"])
    check(r.returncode == 2 and b"unknown option" in r.stderr, "exit 2 for an unknown flag")
    r = run(["-p", "hi"])
    check(r.returncode == 3 and b"no model" in r.stderr and b"gemmash pull " in r.stderr,
          "exit 3 without a model and an empty store, naming the pull command")
    r = run(["-p", "hi", "-m", MODEL, "--output", "xml"])
    check(r.returncode == 2 and b"--output expects" in r.stderr, "exit 2 for a bad --output value")
    # 3: the model cannot be loaded
    r = run(["-p", "hi", "-m", os.path.join(TMP, "no-such-model"), "--output", "json"])
    doc = json.loads(r.stdout or b"{}")
    check(r.returncode == 3 and doc.get("status") == "model_error", "exit 3 for a bad model path, JSON says why")
    # 1: an internal error: the working folder was removed under the agent
    gone = os.path.join(TMP, "gone")
    os.makedirs(gone, exist_ok=True)
    env = dict(os.environ, XDG_STATE_HOME=STATE, HOME=TMP, NO_COLOR="1")
    r = subprocess.run(["sh", "-c", 'cd "$1" && rmdir "$1" && exec "$2" -p hi -m "$3" --output json',
                        "sh", gone, BIN, MODEL], capture_output=True, env=env, timeout=120)
    check(r.returncode == 1 and b"working folder" in r.stderr,
          "exit 1 for an internal error (the working folder vanished): %r" % r.stderr[-120:])
    # 7: the sandbox cannot be applied
    r = run(["-p", "hi"] + AGENT + ONE, env_extra={"GEMMASH_SANDBOX_SIMULATE": "no-landlock"})
    check(r.returncode == 7 and b"sandbox unavailable" in r.stderr, "exit 7 when Landlock is missing")
    # 6: the context cannot hold the prompt
    r = run(["-p", "hi", "--ctx", "64", "--output", "jsonl"] + AGENT + ONE)
    evs = events(r.stdout)
    check(r.returncode == 6 and evs and evs[-1].get("status") == "context_exhausted", "exit 6 with --ctx 64")
    r = run(["-p", "hi", "--ctx", "64"] + AGENT + ONE)
    check(r.returncode == 6 and r.stdout == b"" and b"context exhausted" in r.stderr,
          "--output text: nothing on stdout but the answer; the reason goes to stderr")
    # 0: a final answer
    r = run(["-p", "Say hi.", "--tool-choice", "none", "--max-tokens", "20", "--output", "jsonl"] + AGENT + ONE)
    evs = events(r.stdout)
    check(r.returncode == 0 and schema_ok(evs), "exit 0 for a final answer; the JSONL stream matches its schema")
    # 5 + forced call fed back + KV reuse
    r = run(["-p", "Look around.", "--tool-choice", "required", "--max-turns", "2", "--max-tokens", "150",
             "--approval", "never", "--output", "jsonl", "--seed", "2", "--tools", "read_file,list_dir"] + AGENT)
    evs = events(r.stdout) or []
    calls = [e for e in evs if e["type"] == "tool_call"]
    results = [e for e in evs if e["type"] == "tool_result"]
    res = evs[-1] if evs else {}
    check(r.returncode in (0, 5) and schema_ok(evs), "forced tool call run: exit %d, stream valid" % r.returncode)
    check(len(calls) >= 1 and "parse_error" not in calls[0] and len(results) >= 1,
          "--tool-choice required: the first step is a valid call that runs and is fed back")
    pf, pt = res.get("prefill_tokens", []), res.get("prompt_tokens", [])
    check(len(pf) == res.get("turns") and len(pf) >= 2 and len(pt) == len(pf) and pf[0] == pt[0] and
          pt[1] - pf[1] >= pt[0],
          "KV reuse: step 2 prefills %s of its %s prompt tokens; the whole first prompt (%s) comes from the cache"
          % (pf[1:2], pt[1:2], pt[:1]))
    r = run(["-p", "Look around.", "--tool-choice", "required", "--max-turns", "1", "--max-tokens", "60",
             "--approval", "never"] + AGENT + ONE)
    check(r.returncode == 5 and b"--max-turns 1" in r.stderr, "exit 5 at --max-turns")
    # --output-schema: the answer is JSON matching the schema
    schema = os.path.join(TMP, "schema.json")
    with open(schema, "w") as f:
        json.dump({"type": "object", "properties": {"answer": {"type": "string"}, "n": {"type": "integer"},
                                                     "ok": {"type": "boolean"}}, "required": ["answer", "n"]}, f)
    r = run(["-p", "Answer in JSON.", "--tool-choice", "none", "--output-schema", schema, "--max-tokens", "200",
             "--output", "json", "--seed", "3"] + AGENT + ONE)
    doc = json.loads(r.stdout or b"{}")
    try:
        ans = json.loads(doc.get("answer", ""))
    except ValueError:
        ans = None
    check(r.returncode == 0 and isinstance(ans, dict) and isinstance(ans.get("answer"), str) and
          isinstance(ans.get("n"), int) and set(ans) <= {"answer", "n", "ok"},
          "--output-schema: the final answer is JSON that matches the schema: %s" % doc.get("answer", "").strip()[:60].encode())
    # 4: a call that needs approval in a headless run
    r = run(["-p", "Write.", "--tool-choice", "write_file", "--approval", "ask", "--max-turns", "1",
             "--max-tokens", "100", "--output", "jsonl", "--tools", "write_file"] + AGENT)
    evs = events(r.stdout) or []
    check(r.returncode == 4 and any(e["type"] == "denial" for e in evs) and evs[-1]["denials"] >= 1,
          "exit 4 and a denial event when a call needs approval")
    # 130: interrupted
    env = dict(os.environ, XDG_STATE_HOME=STATE, HOME=TMP)
    p = subprocess.Popen([BIN, "--output", "jsonl"] + AGENT + ONE, cwd=TMP, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(b"Count to a million.", timeout=120)
    evs = events(out) or []
    check(p.returncode == 130 and evs and evs[-1].get("status") == "interrupted", "exit 130 on SIGINT")
    # forced write_file in a scratch git repository
    repo = os.path.join(TMP, "repo")
    os.makedirs(repo)
    subprocess.run(["git", "init", "-q", repo], check=True)
    outside = os.path.join(TMP, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "keep.txt"), "w") as f:
        f.write("keep\n")
    before = sorted(os.listdir(TMP)), open(os.path.join(outside, "keep.txt")).read()
    wrote = None
    for seed in range(1, 9):
        r = run(["-p", "Write a file.", "--tool-choice", "write_file", "--max-turns", "1", "--max-tokens", "100",
                 "--output", "jsonl", "--seed", str(seed), "--tools", "write_file"] + AGENT, cwd=repo)
        evs = events(r.stdout) or []
        ok = [e for e in evs if e["type"] == "tool_result" and e["result"].get("ok")]
        if ok:
            wrote = [e for e in evs if e["type"] == "tool_call"][0]["arguments"]
            break
    st = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo, capture_output=True)
    check(wrote is not None and st.stdout.strip() != b"",
          "forced write_file wrote a file in the repository (%s)" % (wrote or {}).get("path", "")[:40].encode())
    after = sorted(os.listdir(TMP)), open(os.path.join(outside, "keep.txt")).read()
    check(before == after, "nothing outside the workspace changed")
    # replay of a recorded session at temperature 0
    r = run(["-p", "Look around.", "--tool-choice", "required", "--max-turns", "2", "--max-tokens", "60",
             "--approval", "never", "--temp", "0", "--seed", "1", "--output", "json"] + AGENT + ONE)
    doc = json.loads(r.stdout or b"{}")
    sf = doc.get("session_file", "")
    check(os.path.exists(sf) and sf.startswith(os.path.join(STATE, "gemmash", "sessions")),
          "the session is saved under $XDG_STATE_HOME/gemmash/sessions")
    r = run(["replay", sf])
    check(r.returncode == 0 and b"no divergence" in r.stdout, "replay at temperature 0 reports no divergence: %s"
          % r.stdout.decode(errors="replace").strip()[:120])


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
done()
