"""The agent on a remote model: gemmash -p ... --endpoint URL against a scripted
OpenAI-compatible server (tests/pylib/oaiserver.py).  The server's first reply is a
streamed write_file tool call (arguments split over deltas), its second the final
answer; the tool runs here, in the sandbox.  Malformed or failing servers end the run
with exit 3 and a clear message, never a hang."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, ROOT, check, done  # noqa: E402

PY = os.environ.get("PYTHON", "/usr/bin/python3")
tmp = tempfile.mkdtemp(prefix="gm-agent-remote-")
work = os.path.join(tmp, "work")
os.makedirs(work)


def chunk(delta, finish=None):
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


SCRIPT = {
    "scripted": [
        {"sse": [chunk({"role": "assistant", "reasoning_content": "I should write the file."}),
                 chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                                        "function": {"name": "write_file", "arguments": ""}}]}),
                 chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"path\": \"hello.txt\", "}}]}),
                 chunk({"tool_calls": [{"index": 0, "function": {"arguments": "\"content\": \"hi from remote\\n\"}"}}]}),
                 chunk({}, "tool_calls"),
                 {"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": 20}}], "done": True},
        {"sse": [chunk({"content": "I wrote "}), chunk({"content": "hello.txt."}, "stop"),
                 {"choices": [], "usage": {"prompt_tokens": 150, "completion_tokens": 5}}], "done": True},
    ],
    "badjson": [{"sse": [chunk({"content": "x"}), "{oops"], "done": True}],
    "drop": [{"drop": [chunk({"content": "half an answ"})]}],
    "err500": [{"status": 500, "body": {"error": {"message": "CUDA out of memory"}}}],
    "hang": [{"hang": 30}],
    "json": [{"sse": [chunk({"content": "{\"files\": 1}"}, "stop")], "done": True}],
    "prose": [{"sse": [chunk({"content": "one file"}, "stop")], "done": True}],
}
script = os.path.join(tmp, "script.json")
json.dump(SCRIPT, open(script, "w"))
logf = os.path.join(tmp, "log.jsonl")
portf = os.path.join(tmp, "port")
srv = subprocess.Popen([PY, os.path.join(ROOT, "tests", "pylib", "oaiserver.py"), script, logf, portf])
for _ in range(200):
    if os.path.exists(portf):
        break
    time.sleep(0.025)
url = "http://127.0.0.1:%s/v1" % open(portf).read().strip()
env = dict(os.environ, XDG_STATE_HOME=os.path.join(tmp, "state"), GEMMASH_HOME=os.path.join(tmp, "home"),
           REMOTE_KEY="sk-local", GEMMASH_REMOTE_STALL_S="1", GEMMASH_REMOTE_RETRY_WAIT="0.05")


def agent(model, *extra, timeout=60):
    t = time.time()
    r = subprocess.run([BIN, "-p", "Create hello.txt saying hi", "--endpoint", url, "--remote-model", model,
                        "--api-key-env", "REMOTE_KEY", "--output", "jsonl", "--no-session"] + list(extra),
                       capture_output=True, cwd=work, env=env, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), time.time() - t


try:
    rc, out, err, _ = agent("scripted")
    events = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    types = [e["type"] for e in events]
    check(rc == 0, "the agent completes the task through --endpoint (rc %d: %s)" % (rc, err.strip()[-300:]))
    p = os.path.join(work, "hello.txt")
    check(os.path.exists(p) and open(p).read() == "hi from remote\n", "the remote model's write_file call ran here")
    check("tool_call" in types and "tool_result" in types and "result" in types, "tool_call, tool_result and result events: %s" % types)
    res = [e for e in events if e["type"] == "result"]
    check(res and "hello.txt" in json.dumps(res[0]), "the result carries the final answer")
    th = [e for e in events if e["type"] == "thinking"]
    check(th and "write the file" in th[0].get("text", ""), "the server's reasoning_content becomes a thinking event")
    reqs = [json.loads(l) for l in open(logf)]
    check(len(reqs) == 2 and all(r["auth"] == "Bearer sk-local" for r in reqs), "two requests, with the key from --api-key-env")
    second = reqs[1]["body"]["messages"] if len(reqs) > 1 else []
    tool_msgs = [m for m in second if m.get("role") == "tool"]
    asst = [m for m in second if m.get("role") == "assistant" and m.get("tool_calls")]
    check(tool_msgs and "ok" in tool_msgs[0]["content"], "the second request carries the tool's result")
    check(asst and isinstance(asst[0]["tool_calls"][0]["function"]["arguments"], str),
          "tool-call arguments go back to the server as a JSON string")
    check(any(t.get("function", {}).get("name") == "write_file" for t in reqs[0]["body"].get("tools", [])),
          "the tools are declared to the server")

    for model, want in [("badjson", "not a JSON object"), ("drop", "closed mid-reply"), ("err500", "CUDA out of memory")]:
        rc, out, err, el = agent(model)
        check(rc == 3 and want in (out + err), "%s: exit 3 with a clear message (rc %d, %.1f s): %s" % (model, rc, el, (out + err).strip()[-200:]))
    rc, out, err, el = agent("hang", timeout=40)
    check(rc == 3 and "stall" in (out + err) and el < 20, "a stalled server is given up on (%.1f s)" % el)
    schema = os.path.join(tmp, "schema.json")
    json.dump({"type": "object", "properties": {"files": {"type": "integer"}}, "required": ["files"]}, open(schema, "w"))
    n0 = len(open(logf).readlines())
    rc, out, err, _ = agent("json", "--output-schema", schema, "--no-think")
    req = json.loads(open(logf).readlines()[n0])["body"]
    check(rc == 0 and req.get("response_format", {}).get("json_schema", {}).get("schema", {}).get("required") == ["files"],
          "--output-schema goes to the server as response_format json_schema (rc %d)" % rc)
    check(req.get("chat_template_kwargs") == {"enable_thinking": False}, "--no-think goes out as enable_thinking false")
    rc, out, err, _ = agent("prose", "--output-schema", schema)
    check(rc == 3 and "does not match --output-schema" in (out + err), "an answer that breaks the schema is exit 3")
    rc, out, err, _ = agent("scripted", "--api-key-env", "NO_SUCH_VAR_X")
    check(rc == 2 and "NO_SUCH_VAR_X" in err, "a missing key variable is a usage error naming it")
finally:
    srv.terminate()
    srv.wait()
    shutil.rmtree(tmp, ignore_errors=True)
done()
