"""gemmash pull / models / -m NAME against a local stand-in hub (tests/pylib/hubserver.py):
redirects, resume after a dropped connection (in one run and across runs), checksum
failures, 401/404/no network messages, GGUF single-file pulls, and running the pulled model."""
import json
import re
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, ROOT, check, done  # noqa: E402

PY = os.environ.get("PYTHON", "/usr/bin/python3")
tmp = tempfile.mkdtemp(prefix="gm-store-")
hub = os.path.join(tmp, "hub")
home = os.path.join(tmp, "home")
os.makedirs(hub)


def write_behaviour(b):
    with open(os.path.join(hub, "behaviour.json"), "w") as f:
        json.dump(b, f)


def fake_gguf(path):
    """A GGUF header whose first metadata pair is general.architecture = gemma4."""
    key, val = b"general.architecture", b"gemma4"
    with open(path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, 1))
        f.write(struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(val)) + val)
        f.write(b"\0" * 4000)


def log_lines():
    with open(os.path.join(hub, "requests.log")) as f:
        return f.read().splitlines()


src = os.path.join(tmp, "tiny")
subprocess.run([PY, os.path.join(ROOT, "tests", "pylib", "gen_ckpt.py"), "--geometry", "tiny-e2b", "--out", src],
               check=True, capture_output=True)
for repo in ["test/tiny-e2b", "test/drop", "test/dropall", "test/corrupt", "test/corrupt-small", "test/gated"]:
    shutil.copytree(src, os.path.join(hub, repo))
os.makedirs(os.path.join(hub, "test", "gguf"))
fake_gguf(os.path.join(hub, "test", "gguf", "tiny-Q4_K_M.gguf"))
# a real (tiny) GGUF, written by gemmash convert from a text-layout checkpoint
src_t = os.path.join(tmp, "tiny-text")
subprocess.run([PY, os.path.join(ROOT, "tests", "pylib", "gen_ckpt.py"), "--geometry", "tiny-e2b", "--layout", "text",
                "--out", src_t], check=True, capture_output=True)
real_gguf = os.path.join(hub, "test", "gguf", "tiny-real-Q8_0.gguf")
subprocess.run([BIN, "convert", "-m", src_t, "-o", real_gguf, "-t", "q8_0"], check=True, capture_output=True)
for size in ["E2B", "E4B", "26B-A4B"]:          # what the first run may suggest
    os.makedirs(os.path.join(hub, "unsloth", "gemma-4-%s-it-GGUF" % size))
    shutil.copy(real_gguf, os.path.join(hub, "unsloth", "gemma-4-%s-it-GGUF" % size, "gemma-4-%s-it-Q4_K_M.gguf" % size))
write_behaviour({"test/drop": {"drop_after": 100000, "times": 1}, "test/dropall": {"drop_after": 100000, "times": -1},
                 "test/corrupt": {"corrupt": True}, "test/corrupt-small": {"corrupt_small": True}, "test/gated": {"status": 401, "token": "hf_good"}})
portfile = os.path.join(tmp, "port")
srv = subprocess.Popen([PY, os.path.join(ROOT, "tests", "pylib", "hubserver.py"), hub, portfile])
for _ in range(100):
    if os.path.exists(portfile):
        break
    time.sleep(0.05)
port = open(portfile).read().strip()
env = dict(os.environ, GEMMASH_HOME=home, HF_ENDPOINT="http://127.0.0.1:%s" % port, GEMMASH_PULL_RETRY_WAIT="0.05")
env.pop("HF_TOKEN", None)
env.pop("http_proxy", None)
env.pop("https_proxy", None)
env.pop("HTTP_PROXY", None)
env.pop("HTTPS_PROXY", None)


def gm(*args, **kw):
    e = dict(env, **kw)
    r = subprocess.run([BIN] + list(args), capture_output=True, env=e, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


store = os.path.join(home, "models")
try:
    rc, out, err = gm("pull", "hf:test/tiny-e2b", "--as", "tiny")
    check(rc == 0, "pull hf:test/tiny-e2b --as tiny succeeds (rc %d: %s)" % (rc, err.strip()[-300:]))
    d = os.path.join(store, "tiny")
    check(sorted(os.listdir(src)) == sorted(f for f in os.listdir(d) if f != ".gemmash.json"),
          "every checkpoint file is in the store folder, no .part left")
    check(all(open(os.path.join(src, f), "rb").read() == open(os.path.join(d, f), "rb").read() for f in os.listdir(src)),
          "the pulled files are byte-identical to the hub's")
    check(os.path.exists(os.path.join(d, ".gemmash.json")), "the manifest is written")
    check(any(l.startswith("GET /cdn/test/tiny-e2b/") for l in log_lines()), "the resolve redirect to the CDN path was followed")
    check(out.strip() == d, "pull prints the loadable path")

    rc, out, err = gm("models")
    line = [l for l in out.splitlines() if l.startswith("tiny ")]
    check(rc == 0 and line and "safetensors" in line[0] and "Gemma4" in line[0] and "MiB" in line[0] and "test/tiny-e2b" in line[0],
          "gemmash models lists tiny with size, type, architecture, repository: %r" % (line[:1],))
    rc, out, err = gm("generate", "-m", "tiny", "-n", "3", "--temp", "0", "hello")
    check(rc == 0, "gemmash generate -m tiny runs the pulled model (rc %d: %s)" % (rc, err.strip()[-200:]))
    rc, out, err = gm("info", "-m", "tiny", "--json")
    check(rc == 0 and '"variant"' in out, "gemmash info -m tiny resolves the store name")

    rc, out, err = gm("pull", "hf:test/tiny-e2b", "--as", "tiny")
    check(rc == 0 and err.count("already here") >= 2, "a second pull fetches nothing")

    n0 = len(log_lines())
    rc, out, err = gm("pull", "hf:test/drop")
    new = log_lines()[n0:]
    check(rc == 0 and "connection dropped at byte 100000" in err, "a connection dropped mid-file is retried (rc %d)" % rc)
    check(any(l.endswith("bytes=100000-") for l in new), "the retry resumes with a Range request from byte 100000")
    check(os.path.exists(os.path.join(store, "test--drop", ".gemmash.json")), "the resumed model is complete")

    rc, out, err = gm("pull", "hf:test/dropall", "--retries", "1")
    check(rc == 3 and "the connection dropped while fetching" in err and "run the same pull again to resume" in err,
          "a connection that keeps dropping fails with exit 3 and says how to resume: %s" % err.strip()[-200:])
    parts = [f for f in os.listdir(os.path.join(store, "test--dropall")) if f.endswith(".part")]
    check(len(parts) == 1 and os.path.getsize(os.path.join(store, "test--dropall", parts[0])) == 200000,
          "the partial file is kept as FILE.part, with both attempts' bytes (%r)" % parts)
    rc, out, err = gm("models")
    check("incomplete" in [l for l in out.splitlines() if l.startswith("test--dropall")][0], "models shows the unfinished pull as incomplete")
    rc, out, err = gm("info", "-m", "hf:test/dropall")
    check(rc == 3 and "only partly downloaded" in err and "gemmash pull hf:test/dropall" in err,
          "-m on an unfinished pull says how to finish it")
    write_behaviour({"test/corrupt": {"corrupt": True}, "test/corrupt-small": {"corrupt_small": True}, "test/gated": {"status": 401, "token": "hf_good"}})
    n0 = len(log_lines())
    rc, out, err = gm("pull", "hf:test/dropall")
    new = log_lines()[n0:]
    check(rc == 0 and "resuming at byte 200000" in err and any(l.endswith("bytes=200000-") for l in new),
          "a later pull resumes the kept .part file with a Range request (rc %d)" % rc)
    rc, out, err = gm("generate", "-m", "hf:test/dropall", "-n", "2", "--temp", "0", "hi")
    check(rc == 0, "the model finished across two runs loads and generates")

    rc, out, err = gm("pull", "hf:test/corrupt")
    check(rc == 3 and "checksum mismatch" in err and "expected sha256" in err, "a flipped byte is caught by the sha256 check")
    cd = os.path.join(store, "test--corrupt")
    check(not any(f.endswith(".part") for f in os.listdir(cd)) and not os.path.exists(os.path.join(cd, ".gemmash.json")),
          "the corrupt file is removed and the model is not marked complete")

    rc, out, err = gm("pull", "hf:test/corrupt-small")
    check(rc == 3 and "checksum mismatch for config.json" in err and "expected git blob id" in err,
          "a flipped byte in a small git-kept file is caught by its git blob id")
    rc, out, err = gm("pull", "hf:test/gated")
    check(rc == 3 and "HTTP 401" in err and "HF_TOKEN" in err, "401 says a token is needed and how to set it")
    rc, out, err = gm("pull", "hf:test/gated", HF_TOKEN="hf_good")
    check(rc == 0, "with HF_TOKEN the gated model pulls (rc %d: %s)" % (rc, err.strip()[-200:]))

    rc, out, err = gm("pull", "hf:test/missing")
    check(rc == 3 and "not found" in err and "HTTP 404" in err, "404 on an unknown repository: %s" % err.strip()[-160:])
    rc, out, err = gm("pull", "hf:test/tiny-e2b/nofile.gguf")
    check(rc == 3 and "has no file nofile.gguf" in err, "a missing file is named")
    rc, out, err = gm("pull", "hf:test/gguf")
    check(rc == 3 and "hf:test/gguf/FILE" in err and ".gguf" in err, "a GGUF repository asks for a file name")
    rc, out, err = gm("pull", "hf:test/gguf/tiny-real-Q8_0.gguf")
    check(rc == 0, "a real GGUF file pulls")
    rc, out, err = gm("generate", "-m", "test--gguf--tiny-real-Q8_0", "-n", "2", "--temp", "0", "hi")
    check(rc == 0, "gemmash generate -m NAME runs the pulled GGUF (rc %d: %s)" % (rc, err.strip()[-200:]))
    rc, out, err = gm("pull", "hf:test/gguf/tiny-Q4_K_M.gguf")
    gp = os.path.join(store, "test--gguf--tiny-Q4_K_M", "tiny-Q4_K_M.gguf")
    check(rc == 0 and out.strip() == gp, "a single GGUF file pulls and its path is the loadable path")
    rc, out, err = gm("models", "--json")
    e = [m for m in json.loads(out) if m["name"] == "test--gguf--tiny-Q4_K_M"]
    check(e and e[0]["type"] == "gguf" and e[0]["architecture"] == "gemma4" and e[0]["path"] == gp,
          "models --json reads the GGUF architecture")

    rc, out, err = gm("pull", "hf:test/tiny-e2b", HF_ENDPOINT="http://127.0.0.1:1")
    check(rc == 3 and "cannot reach" in err and "network" in err, "no network gives a clear message")
    rc, out, err = gm("pull", "nonsense-alias")
    check(rc == 2 and "aliases are e2b, e4b, 26b, 31b" in err, "an unknown alias is a usage error listing the aliases")
    rc, out, err = gm("info", "-m", "e2b-q4")
    check(rc == 3 and "not installed" in err and "gemmash pull e2b-q4" in err, "-m ALIAS not yet pulled names the pull command")
    rc, out, err = gm("info", "-m", "./no/such/dir")
    check(rc == 3 and "no such file or folder" in err, "-m with a missing path says so")
    rc, out, err = gm("pull", "--help")
    check(rc == 0 and "e2b-q4" in out and "google/gemma-4-E2B-it" in out and "HF_TOKEN" in out, "pull --help lists aliases and variables")

    # first run: no -m, nothing in the store
    fresh = os.path.join(tmp, "fresh")
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    rc, out, err = gm("-p", "hi", "--no-session", GEMMASH_HOME=fresh)
    check(rc == 3 and "suggested model for this machine's memory" in err and re.search(r"gemmash pull (e2b|e4b|26b)-q4", err),
          "headless first run with an empty store: exit 3 and the pull command (%d)" % rc)
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, "--no-session"], stdin=slave, stdout=slave, stderr=slave, cwd=work,
                         env=dict(env, GEMMASH_HOME=fresh, XDG_STATE_HOME=os.path.join(tmp, "state")))
    os.close(slave)
    seen, answered, exited, t0 = b"", False, False, time.time()
    while time.time() - t0 < 60:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"[Y/n]" in seen:
            os.write(master, b"y\n")
            answered = True
        if answered and b"done:" in seen and not exited:
            os.write(master, b"/exit\n")      # the pulled model loads and the shell starts: leave it
            exited = True
        if p.poll() is not None and not r:
            break
    first_rc = p.wait(timeout=30)
    os.close(master)
    text = seen.decode(errors="replace")
    made = [d for d in os.listdir(os.path.join(fresh, "models"))] if os.path.isdir(os.path.join(fresh, "models")) else []
    check(answered and "done:" in text and len(made) == 1 and made[0].endswith("-q4") and
          os.path.exists(os.path.join(fresh, "models", made[0], ".gemmash.json")),
          "interactive first run asks once and pulls the suggested model (%r)" % made)
    check(first_rc == 0 and "cannot load" not in text, "then loads it and starts the shell, which /exit leaves (rc %s)" % first_rc)
    rc, out, err = gm("-p", "hi", "--no-session", "--max-turns", "1", "--max-tokens", "8", GEMMASH_HOME=fresh)
    check("using '%s' from the model store" % (made[0] if made else "?") in err,
          "the next run without -m uses the model in the store")
finally:
    srv.terminate()
    srv.wait()
    shutil.rmtree(tmp, ignore_errors=True)
done()
