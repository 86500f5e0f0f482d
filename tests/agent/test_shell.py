"""The interactive shell in a pseudo-terminal: banner, /help, one task answered,
/exit leaves with status 0; Ctrl-D (EOF) leaves too."""
import os
import pty
import select
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, ROOT, check, done  # noqa: E402

MODEL = os.path.join(ROOT, "tests", ".cache", "agent", "tiny-e2b-16k")
PY = os.environ.get("PYTHON", "/usr/bin/python3")


def read_until(fd, want, timeout=60):
    """Read from the pty until want appears (bytes) or the time is up."""
    buf = b""
    end = time.time() + timeout
    while want not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def main():
    if not os.path.exists(os.path.join(MODEL, "config.json")):
        os.makedirs(os.path.dirname(MODEL), exist_ok=True)
        subprocess.run([PY, os.path.join(ROOT, "tests", "pylib", "gen_ckpt.py"), "--out", MODEL, "--geometry",
                        "tiny-e2b", "--layout", "text", "--dtype", "f32", "--seed", "5", "--set", "max_pos=16384"],
                       check=True, capture_output=True)
    tmp = tempfile.mkdtemp(prefix="gemmash-shell-")
    sysf = os.path.join(tmp, "system.md")
    with open(sysf, "w") as f:
        f.write("You are a test agent.\n")
    env = dict(os.environ, XDG_STATE_HOME=os.path.join(tmp, "state"), HOME=tmp, NO_COLOR="1")
    args = [BIN, "-m", MODEL, "--no-think", "--tools", "list_dir", "--tool-choice", "none", "--max-tokens", "8",
            "--system-prompt-file", sysf]
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp)
        os.execve(BIN, args, env)
    out = read_until(fd, b"gemmash> ")
    check(b"/exit to leave" in out and b"gemmash> " in out, "the shell starts with a banner and a prompt")
    os.write(fd, b"/help\n")
    out = read_until(fd, b"gemmash> ")
    check(b"/clear" in out, "/help lists the commands")
    os.write(fd, b"Say something.\n")
    out = read_until(fd, b"gemmash> ", timeout=120)
    check(out.count(b"gemmash> ") == 1, "a task is answered and the prompt comes back")
    os.write(fd, b"/exit\n")
    _, status = os.waitpid(pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "/exit leaves with status 0")
    os.close(fd)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp)
        os.execve(BIN, args, env)
    read_until(fd, b"gemmash> ")
    os.write(fd, b"\x04")
    _, status = os.waitpid(pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "Ctrl-D leaves with status 0")
    os.close(fd)
    subprocess.run(["rm", "-rf", tmp])


main()
done()
