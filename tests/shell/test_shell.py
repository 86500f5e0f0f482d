"""The interactive shell driven through a real terminal (tmux on a private socket).

Three sessions on a tiny random checkpoint at temperature 0 (its answers are
random text):
  A  colours on, config + rules files: slash commands, Ctrl-C during
     generation keeps the shell and the partial answer, Ctrl-C stops !sleep 30
     quickly, !cmd output is not sent to the model, Ctrl-C twice quits;
  B  a forced write_file call: the approval prompt shows the diff, "n" with a
     reason reaches the model, "y" runs it, then /diff and /undo;
  C  NO_COLOR: a streamed answer, multi-line input (backslash, triple
     quotes), the history file;
  D  a scripted remote model (the shell's chat path) writes a file whose
     name holds control characters: /undo reports it with the controls
     shown, not obeyed; /compact and /status without a local tokenizer.
Every wait polls the screen with a generous deadline (the machine is slow
and shared), so nothing depends on fixed sleeps."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, ROOT, check, done  # noqa: E402

PY = os.environ.get("PYTHON", "/usr/bin/python3")
MODEL = os.path.join(ROOT, "tests", ".cache", "agent", "tiny-e2b-16k")
# Session A interrupts a running answer: the tiny model writes thousands of tokens a second, so an
# answer can end between seeing it on the screen and the Ctrl-C.  A wider BF16 variant (about 5 ms a
# token) keeps every answer running for seconds.
SLOW_MODEL = os.path.join(ROOT, "tests", ".cache", "agent", "wide-e2b-16k")
TMP = tempfile.mkdtemp(prefix="gemmash-shell-")
SOCK = "gemmash-test-%d" % os.getpid()
STATE = os.path.join(TMP, "state")
CFG = os.path.join(TMP, "cfg")
SLOW = 240                      # seconds allowed for one model step on a loaded machine


def make_model():
    """The same tiny checkpoint as tests/agent (16k positions, real tokenizer), and its wide variant."""
    for path, extra in ((MODEL, ["--dtype", "f32"]),
                        (SLOW_MODEL, ["--dtype", "bf16", "--set", "hidden=512", "--set", "mlp=4096"])):
        if os.path.exists(os.path.join(path, "config.json")):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        subprocess.run([PY, os.path.join(ROOT, "tests", "pylib", "gen_ckpt.py"), "--out", path, "--geometry",
                        "tiny-e2b", "--layout", "text", "--seed", "5", "--set", "max_pos=16384"] + extra,
                       check=True, capture_output=True)


def tmux(*args):
    return subprocess.run(["tmux", "-L", SOCK] + list(args), capture_output=True, text=True)


class Term:
    """One gemmash in a tmux window; the command line ends with a marker."""

    def __init__(self, name, cwd, args, env):
        self.name = name
        envs = " ".join("%s=%s" % (k, sh(v)) for k, v in env.items())
        cmd = "cd %s && env -u NO_COLOR -u GEMMASH_MODEL %s %s %s; echo EXITED $?; sleep 600" % (
            sh(cwd), envs, sh(BIN), " ".join(sh(a) for a in args))
        r = tmux("new-session", "-d", "-s", name, "-x", "200", "-y", "50", cmd)
        check(r.returncode == 0, "%s: tmux session started (%s)" % (name, r.stderr.strip()))

    def text(self, escapes=False):
        a = ["capture-pane", "-p", "-J", "-S", "-5000", "-t", self.name] + (["-e"] if escapes else [])
        return tmux(*a).stdout

    def keys(self, *k):
        tmux("send-keys", "-t", self.name, *k)

    def line(self, s):
        tmux("send-keys", "-t", self.name, "-l", s)
        tmux("send-keys", "-t", self.name, "Enter")

    def wait(self, pred, timeout=30):
        """Poll the screen until pred(text) is true; returns the text or None."""
        end = time.time() + timeout
        while time.time() < end:
            t = self.text()
            if pred(t):
                return t
            time.sleep(0.25)
        return None

    def prompts(self, t=None):
        return len(re.findall(r"^gemmash> ", t if t is not None else self.text(), re.M))

    def settle(self, n, timeout=SLOW):
        """wait_prompt, answering "n" (no reason) to any approval asked meanwhile: the random model
        may call a tool again within the turn, and what it does depends on the prompt, which names
        the (random) working folder."""
        end = time.time() + timeout
        while time.time() < end:
            t = self.text()
            last = t.rstrip().split("\n")[-1].strip()
            if self.prompts(t) >= n and last == "gemmash>":
                return t
            if last.startswith("Allow?") and last.endswith(":"):
                self.line("n")
                self.wait(lambda t: t.rstrip().split("\n")[-1].strip().startswith("Reason for the model"), 20)
                self.line("")
            time.sleep(0.25)
        return None

    def wait_prompt(self, n, timeout=SLOW):
        """Wait for the n-th prompt, empty and on the last line (the shell is idle)."""
        return self.wait(lambda t: self.prompts(t) >= n and t.rstrip().split("\n")[-1].strip() == "gemmash>", timeout)

    def check(self, cond, what):
        """check(), and on failure the end of the screen as comment lines, so a rare failure shows
        what the terminal held instead of only that a wait ran out."""
        if not check(cond, what):
            for l in self.text().rstrip("\n").split("\n")[-30:]:
                print("#   | " + l, flush=True)
        return bool(cond)

    def kill(self):
        tmux("kill-session", "-t", self.name)


def sh(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def session_messages():
    """All messages of all session files, in file order."""
    out = []
    d = os.path.join(STATE, "gemmash", "sessions")
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        for l in open(os.path.join(d, f), encoding="utf-8", errors="replace"):
            try:
                o = json.loads(l)
            except ValueError:
                continue
            m = o.get("message", o) if isinstance(o, dict) else None
            if isinstance(m, dict) and "role" in m:
                out.append(m)
    return out


def repo(name):
    p = os.path.join(TMP, name)
    os.makedirs(p)
    subprocess.run(["git", "init", "-q", p], check=True)
    return p


BASE = ["-m", MODEL, "--temp", "0"]
SYS = os.path.join(TMP, "sys.md")


def session_a():
    os.makedirs(os.path.join(CFG, "gemmash"), exist_ok=True)
    with open(os.path.join(CFG, "gemmash", "config"), "w") as f:
        f.write("# test config\nthink = false\napproval = ask\n")
    with open(os.path.join(CFG, "gemmash", "rules"), "w") as f:
        f.write("deny rm -rf\nallow echo\n")
    env = {"XDG_STATE_HOME": STATE, "XDG_CONFIG_HOME": CFG, "TERM": "xterm-256color"}
    a = Term("a", repo("a"), ["-m", SLOW_MODEL, "--temp", "0", "--system-file", SYS, "--tools", "shell,write_file",
                              "--tool-choice", "none", "--max-tokens", "4000"], env)
    t = a.wait_prompt(1, 60)
    a.check(t is not None and "session" in t and "/help" in t, "A: banner and prompt")
    a.line("/help")
    t = a.wait_prompt(2, 20)
    a.check(t is not None and "/undo" in t and "/resume" in t and "!cmd" in t, "A: /help lists the commands")
    a.line("/status")
    t = a.wait_prompt(3, 60)
    a.check(t is not None and re.search(r"approval\s+ask", t) and re.search(r"think\s+off", t),
          "A: /status shows the config file's settings (approval ask, think off)")
    a.check(t is not None and re.search(r"sandbox\s+workspace-write, network off", t), "A: /status shows the sandbox")
    a.line("/tools")
    t = a.wait_prompt(4, 20)
    tail = t.split("/tools")[-1] if t else ""
    a.check("write_file" in tail and "shell" in tail and "grep" not in tail, "A: /tools lists the declared tools")
    a.line("/think on")
    t = a.wait_prompt(5, 20)
    a.check(t is not None and "thinking is on" in t, "A: /think on")
    a.line("/think off")
    a.wait_prompt(6, 20)
    a.line("/nonsense")
    t = a.wait_prompt(7, 20)
    a.check(t is not None and "unknown command '/nonsense'" in t, "A: an unknown slash command is named")
    a.line("/approval never")
    t = a.wait_prompt(8, 20)
    a.check(t is not None and "approval mode: never" in t, "A: /approval sets the mode")

    # Ctrl-C during generation: the shell survives and the partial answer is kept.  The model is random
    # and may end its answer early, so a few tasks are tried until one is still running at the Ctrl-C.
    n = 8                       # prompts on the screen so far (7 commands and the empty one)
    streamed = interrupted = False
    took = 0.0
    for i in range(5):
        task = "Write a long story number %d." % i
        a.line(task)
        n += 1
        t = a.wait(lambda t: len(re.sub(r".*reading \d+ tokens.*", "", t.split(task)[-1]).strip()) > 20, SLOW)
        streamed = streamed or t is not None    # the spinner's line does not count as an answer
        t0 = time.time()
        a.keys("C-c")
        t = a.wait_prompt(n, SLOW)
        took = time.time() - t0
        if t is not None and "(interrupted" in t.split(task)[-1]:
            interrupted = True
            break
    a.check(streamed, "A: the answer streams to the screen")
    a.check(interrupted, "A: Ctrl-C during generation stops it and the shell lives on (%.1f s)" % took)
    last = [m for m in session_messages() if m.get("role") == "assistant"]
    a.check(interrupted and last and len(last[-1].get("content", "")) > 0, "A: the partial answer stays in the conversation")

    # Ctrl-C during a slow command
    a.line("!sleep 30")
    n += 1
    time.sleep(1.5)
    t0 = time.time()
    a.keys("C-c")
    t = a.wait_prompt(n, 25)
    took = time.time() - t0
    a.check(t is not None and "[interrupted]" in t and took < 15, "A: Ctrl-C stops !sleep 30 in %.1f s" % took)
    a.line("!echo bang-$((6*7))")
    n += 1
    t = a.wait_prompt(n, 30)
    a.check(t is not None and "bang-42" in t, "A: !cmd runs in the sandbox and shows its output")
    a.check(not any("bang-42" in json.dumps(m) for m in session_messages()), "A: !cmd output is not sent to the model")
    raw = a.text(escapes=True)
    a.check("\x1b[" in raw, "A: colours on a terminal without NO_COLOR")
    a.keys("C-c")
    a.wait(lambda t: "again on an empty line" in t, 10)
    a.keys("C-c")
    t = a.wait(lambda t: "EXITED 0" in t, 20)
    a.check(t is not None, "A: Ctrl-C twice on an empty line quits with status 0")
    a.kill()


def session_b():
    env = {"XDG_STATE_HOME": STATE, "XDG_CONFIG_HOME": os.path.join(TMP, "nocfg"), "NO_COLOR": "1"}
    rp = repo("b")
    b = Term("b", rp, BASE + ["--system-file", SYS, "--no-think", "--tools", "shell,write_file", "--tool-choice",
                              "write_file", "--max-arg-bytes", "12", "--max-tokens", "60", "--max-turns", "2",
                              "--approval", "ask"], env)
    b.check(b.wait_prompt(1, 60) is not None, "B: prompt")
    b.line("Write a file.")
    t = b.wait(lambda t: "Allow?" in t, SLOW)
    ask = t.split("gemmash asks:")[-1] if t else ""
    # the path is random text: the preview is a diff, or says why the write would fail
    b.check(t is not None and "write_file" in ask and ("+++ b/" in ask or "would fail" in ask),
          "B: the approval prompt shows the diff the write would apply: %r" % ask[-300:])
    b.line("n")
    t = b.wait(lambda t: "Reason for the model" in t, 20)
    b.line("no thanks")
    t = b.settle(2)
    b.check(t is not None, "B: the turn ends after the denial")
    tool_msgs = [m for m in session_messages() if m.get("role") == "tool"]
    b.check(any("their reason: no thanks" in m.get("content", "") for m in tool_msgs),
          "B: 'n' with a reason: the reason reaches the model")
    wrote = False
    n = 2
    for attempt in range(6):
        asked = b.text().count("Allow?")
        b.line("Write a file.")
        t = b.wait(lambda t: t.count("Allow?") > asked, SLOW)
        if t is None:
            break
        b.line("y")
        n += 1
        if b.settle(n) is None:
            break
        b.line("/diff")
        n += 1
        t = b.wait_prompt(n, 30)
        if t and "+++ b/" in t.split("/diff")[-1]:
            wrote = True
            break
    b.check(wrote, "B: 'y' runs the write and /diff shows it")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=rp, capture_output=True)
    b.check(status.stdout.strip() != b"", "B: the file is in the workspace")
    b.line("/undo")
    n += 1
    t = b.wait(lambda t: re.search(r"(removed|restored) ", t.split("/undo")[-1]) is not None, 30)
    b.check(t is not None, "B: /undo takes the write back")
    b.wait_prompt(n, 30)
    b.line("/diff")
    n += 1
    t = b.wait_prompt(n, 30)
    b.check(t is not None and "no file changes" in t.split("/diff")[-1], "B: /diff is empty after /undo")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=rp, capture_output=True)
    b.check(status.stdout.strip() == b"", "B: the workspace is clean again")
    b.line("/clear")
    n += 1
    t = b.wait_prompt(n, 30)
    b.check(t is not None and "(conversation cleared)" in t, "B: /clear")
    b.line("/exit")
    b.check(b.wait(lambda t: "EXITED 0" in t, 20) is not None, "B: /exit leaves with status 0")
    b.kill()


def session_c():
    env = {"XDG_STATE_HOME": STATE, "XDG_CONFIG_HOME": os.path.join(TMP, "nocfg"), "NO_COLOR": "1",
           "TERM": "xterm-256color"}
    rc = repo("c")
    with open(os.path.join(rc, "note.txt"), "w") as f:
        f.write("zebra-42\n")
    c = Term("c", rc, BASE + ["--system-file", SYS, "--no-think", "--tools", "write_file", "--tool-choice",
                                     "none", "--max-tokens", "24"], env)
    c.check(c.wait_prompt(1, 60) is not None, "C: prompt")
    c.line("Say hi.")
    t = c.wait_prompt(2, SLOW)
    ans = t.split("Say hi.")[-1].rsplit("gemmash>", 1)[0] if t else ""
    c.check(t is not None and ans.strip() != "", "C: a typed task gets an answer on the screen")
    c.line("first line\\")
    c.wait(lambda t: t.rstrip("\n").endswith("..."), 20)
    c.line("second line")
    c.wait_prompt(3, SLOW)
    c.line('"""')
    c.line("alpha")
    c.line("beta")
    c.line('"""')
    c.wait_prompt(4, SLOW)
    c.line("Summarise @note.txt please")
    c.wait_prompt(5, SLOW)
    users = [m.get("content") for m in session_messages() if m.get("role") == "user"]
    c.check(any("[attached file: note.txt]" in u and "zebra-42" in u for u in users if u),
          "C: @path attaches the file's text to the task")
    c.check("first line\nsecond line" in users, "C: a trailing backslash continues the input")
    c.check("alpha\nbeta" in users, "C: a triple-quote block is one input")
    raw = c.text(escapes=True)
    c.check("\x1b[" not in raw, "C: NO_COLOR: no escape sequences")
    c.line("/exit")
    c.check(c.wait(lambda t: "EXITED 0" in t, 20) is not None, "C: /exit")
    c.kill()
    hist = os.path.join(STATE, "gemmash", "history")
    h = open(hist).read() if os.path.exists(hist) else ""
    c.check("Say hi." in h and "first line second line" in h and "/exit" in h, "C: the history file keeps the inputs")


def session_d():
    """A file name with control characters, chosen by a (scripted, remote) model: the shell's
    messages about it show the controls (^M, ^[) instead of letting them move the cursor or
    clear the line, so /undo's report cannot be overwritten on the screen."""
    name = "evil\r\x1b[2Kname.txt"
    call = {"name": "write_file", "arguments": json.dumps({"path": name, "content": "x\n"})}
    script = {"d": [{"json": {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                        "role": "assistant", "content": "", "tool_calls": [dict(id="c1", type="function", function=call)]}}]}},
                    {"json": {"choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": "done"}}]}}],
              "e": [{"status": 400, "body": {"error": {"message": "bad\x1b[2Jrequest"}}}]}
    sf, logf, portf = (os.path.join(TMP, f) for f in ("d-script.json", "d-log.jsonl", "d-port"))
    with open(sf, "w") as f:
        json.dump(script, f)
    srv = subprocess.Popen([PY, os.path.join(ROOT, "tests", "pylib", "oaiserver.py"), sf, logf, portf])
    try:
        for _ in range(400):
            if os.path.exists(portf) and open(portf).read().strip():
                break
            time.sleep(0.025)
        url = "http://127.0.0.1:%s/v1" % open(portf).read().strip()
        env = {"XDG_STATE_HOME": STATE, "XDG_CONFIG_HOME": os.path.join(TMP, "nocfg"), "NO_COLOR": "1",
               "REMOTE_KEY": "sk-local"}
        rd = repo("d")
        d = Term("d", rd, ["--endpoint", url, "--remote-model", "d", "--api-key-env", "REMOTE_KEY",
                           "--tools", "write_file", "--approval", "never", "--no-think"], env)
        d.check(d.wait_prompt(1, 60) is not None, "D: prompt")
        d.line("Write the file.")
        d.check(d.wait_prompt(2, 60) is not None and os.path.exists(os.path.join(rd, name)),
                "D: the scripted write_file call made the file")
        d.line("/undo")
        t = d.wait_prompt(3, 30)
        tail = t.split("/undo")[-1] if t else ""
        d.check("removed evil^M^[[2Kname.txt, which write_file had created" in tail,
                "D: /undo names the file with its control characters shown: %r" % tail.strip()[:200])
        d.check(not os.path.exists(os.path.join(rd, name)), "D: /undo removed the file")
        # a remote backend has no tokenizer here: /compact asks the server for the summary, /status
        # counts messages
        for i, task in enumerate(("Again.", "Once more.")):
            d.line(task)
            d.wait_prompt(4 + i, 60)
        d.line("/compact")
        t = d.wait_prompt(6, 60)
        tail = t.split("/compact")[-1] if t else ""
        d.check(re.search(r"compacted: \d+ -> \d+ messages", tail) is not None,
                "D: /compact on a remote model: %r" % tail.strip()[:200])
        reqs = [json.loads(l) for l in open(logf)]
        last = reqs[-1]["body"]["messages"] if reqs else []
        d.check(len(last) == 2 and "summar" in last[0]["content"] and "tools" not in reqs[-1]["body"],
                "D: the summary request goes to the server, without tools")
        d.line("/status")
        t = d.wait_prompt(7, 30)
        d.check(t is not None and re.search(r"context\s+\d+ messages, counted by the model server", t.split("/status")[-1]),
                "D: /status on a remote model")
        d.line("/exit")
        d.check(d.wait(lambda t: "EXITED 0" in t, 20) is not None, "D: /exit")
        d.kill()
        # a server's error text is shown with its controls, not obeyed (an ESC [2J would clear the screen)
        e = Term("e", rd, ["--endpoint", url, "--remote-model", "e", "--api-key-env", "REMOTE_KEY",
                           "--tools", "write_file", "--no-think"], dict(env, GEMMASH_REMOTE_RETRY_WAIT="0.05"))
        e.check(e.wait_prompt(1, 60) is not None, "D: prompt (failing server)")
        e.line("Hello.")
        t = e.wait_prompt(2, 60)
        e.check(t is not None and "bad^[[2Jrequest" in t and "Hello." in t,
                "D: the server's error is shown with its controls visible, the screen kept")
        e.kill()
    finally:
        srv.kill()
        srv.wait()


def main():
    if not shutil.which("tmux"):
        check(False, "tmux is installed")
        done()
    make_model()
    with open(SYS, "w") as f:
        f.write("You are a test assistant.\n")
    try:
        session_a()
        session_b()
        session_c()
        session_d()
    finally:
        tmux("kill-server")
        shutil.rmtree(TMP, ignore_errors=True)
    done()


main()
