"""Our GGUF files in llama.cpp itself, and our engine against it on them.

llama.cpp comes prebuilt in the npm package node-llama-cpp (pinned below,
with its Linux x64 binaries), installed once with `npm install --prefix` into
$BUILD/llamacpp (never a runtime dependency of gemmash).  Random Gemma 4
checkpoints of four shapes (E2B-like with per-layer inputs and KV sharing,
one with a few hundred hidden units, 31B-like with K=V attention, 26B-like
MoE) are written by gen_ckpt.py, converted by `gemmash convert` to bf16,
q8_0, q4_0, q4_k_m, q5_k_m and the formats gemmash reads without repacking
(q4_1, iq4_nl, iq4_xs, q3_k_m, q2_k), and each file is:

  - loaded by llama.cpp's loader (an error there is a bug in our writer);
  - tokenized: llama.cpp's ids equal `gemmash tokenize -m FILE.gguf`;
  - continued greedily for 16 tokens: `gemmash generate --raw --temp 0`
    prints the text of llama.cpp's continuation;
  - scored: at every step of that continuation our logits (`gemmash logits`)
    have llama.cpp's top-1 and its top-8 logit values within a tolerance.

llama.cpp rounds activations to the weights' dot-product type (BF16, Q8_0,
Q8_K) and keeps the KV cache in F16 while we keep F32 activations, so logits
differ by a few hundredths; the tolerance is set per weight type.

llama.cpp's gemma4 has its own rule for KV sharing (a shared layer reuses
layer n-1 if full, n-2 if sliding); convert warns when a checkpoint breaks it
and the test checks that llama.cpp aborts on such a file as predicted.

Skips (one "ok - skipped" line) only when the npm registry is unreachable or
the machine is not Linux x64.  GEMMASH_LONG=1 adds a deeper model.
"""
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, ROOT, check, done  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
GEN = os.path.join(ROOT, "tests", "pylib", "gen_ckpt.py")
VERSION = "3.22.1"
BUILD = os.environ.get("BUILD", "build")
PREFIX = os.path.join(BUILD if os.path.isabs(BUILD) else os.path.join(ROOT, BUILD), "llamacpp")
NODE_MODULES = os.path.join(PREFIX, "node_modules")
TOL_F32 = 0.3     # max |our logit - llama.cpp's| over its top 8, F32 everywhere
MIN_CORR = {"bf16": 0.98, "q8_0": 0.9, "q4_0": 0.9, "q4_k_m": 0.9, "q5_k_m": 0.9,   # first EARLY positions
            "q4_1": 0.9, "iq4_nl": 0.9, "iq4_xs": 0.9, "q3_k_m": 0.9, "q2_k": 0.9}
N_GEN = 16
EARLY = 4
EOG = {1, 50, 106}
NET_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH",
              "EHOSTUNREACH", "network", "getaddrinfo")

# (name, gen_ckpt arguments).  llama.cpp lets a KV-shared layer reuse the
# cache of layer (first shared - 1) if full, (first shared - 2) if sliding,
# so the last non-shared layer must be full and the one before it sliding,
# as in the released E2B/E4B: kv_shared is chosen to fit.
ALL = ["f32", "bf16", "q8_0", "q4_0", "q4_k_m", "q5_k_m", "q4_1", "iq4_nl", "iq4_xs", "q3_k_m", "q2_k"]
MODELS = [  # (name, gen_ckpt arguments, types in the default suite; GEMMASH_LONG=1: all)
    ("e2b-tiny", ["--geometry", "tiny-e2b", "--set", "kv_shared=5"], ["f32"]),
    ("e2b-h512", ["--geometry", "e2b", "--layers", "10", "--set", "hidden=512", "--set", "mlp=1024",
                  "--set", "heads=4", "--set", "head_dim=128", "--set", "global_head_dim=256",
                  "--set", "ple=64", "--set", "vocab=1024", "--set", "window=16", "--set", "kv_shared=5",
                  "--set", "max_pos=4096"], ALL),
    # matrices scaled per run of 16 by factors 1..2^-5 (gen_ckpt --spread): sub-block scales of every
    # size, so every bit of the packed K-type and IQ4_XS scales is read (uniform random weights leave
    # the top bits of six-bit scales at zero in every block)
    ("e2b-spread", ["--geometry", "e2b", "--layers", "10", "--spread", "--set", "hidden=512", "--set", "mlp=1024",
                    "--set", "heads=4", "--set", "head_dim=128", "--set", "global_head_dim=256",
                    "--set", "ple=64", "--set", "vocab=1024", "--set", "window=16", "--set", "kv_shared=5",
                    "--set", "max_pos=4096"], ["f32", "q4_k_m", "q5_k_m", "q3_k_m", "q2_k", "iq4_xs", "iq4_nl", "q4_1"]),
    ("31b-h256", ["--geometry", "tiny-31b", "--set", "hidden=256", "--set", "mlp=512", "--set", "vocab=1024",
                  "--set", "head_dim=64", "--set", "global_head_dim=128"], ["f32", "q4_k_m", "q5_k_m"]),
    # expert and dense widths not a multiple of 256, as 26B-A4B's 704 and 2112: their down projections
    # take llama.cpp's fallback types in the K mixes (Q5_0 for Q4_K, Q5_1 for Q5_K, Q8_0 for Q6_K)
    ("26b-h256", ["--geometry", "tiny-moe", "--set", "hidden=256", "--set", "mlp=288", "--set", "vocab=1024",
                  "--set", "expert_width=160", "--set", "head_dim=64", "--set", "global_head_dim=128"],
     ["f32", "bf16", "q4_0", "q4_k_m", "q5_k_m", "q3_k_m"]),
]
LONG_MODELS = [
    ("e4b-h768", ["--geometry", "e4b", "--layers", "12", "--set", "hidden=768", "--set", "mlp=2048",
                  "--set", "vocab=4096", "--set", "head_dim=128", "--set", "global_head_dim=256",
                  "--set", "ple=64", "--set", "window=32", "--set", "kv_shared=6"], ALL),
]
TEXTS = ["Hello world, the tokenizer", "<|turn>user\nWrite a haiku.<turn|>\n<|turn>model\n",
         "  two  spaces\tand\ttabs\n\n\nnewlines", "caf\u00e9 \u4e2d\u6587 \U0001f600 <0x41> <unused3> <b>bold</b>",
         "if (x == 1) { return y; } // done"]
PROMPT = "The quick brown fox"


def installed():
    """Is the pinned node-llama-cpp with its Linux x64 binaries in the cache?"""
    try:
        for pkg in ("node-llama-cpp", os.path.join("@node-llama-cpp", "linux-x64")):
            with open(os.path.join(NODE_MODULES, pkg, "package.json")) as f:
                if json.load(f).get("version") != VERSION:
                    return False
        return True
    except (OSError, ValueError):
        return False


def install():
    """Install node-llama-cpp into the cache; returns (ok, why, skip)."""
    if installed():
        return True, "cached", False
    os.makedirs(PREFIX, exist_ok=True)
    env = dict(os.environ, NODE_LLAMA_CPP_SKIP_DOWNLOAD="true")
    cmd = ["npm", "install", "--prefix", PREFIX, "--no-audit", "--no-fund", "--no-package-lock",
           "--omit=optional", "--ignore-scripts",
           "node-llama-cpp@" + VERSION, "@node-llama-cpp/linux-x64@" + VERSION]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=300, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "npm install of node-llama-cpp failed: %s" % e, isinstance(e, subprocess.TimeoutExpired)
    msg = (r.stdout + r.stderr).decode(errors="replace")
    if r.returncode != 0:
        lines = [x for x in msg.splitlines() if "npm error" in x and ("code" in x or "request" in x or "ERR" in x)]
        tail = " | ".join((lines or msg.strip().splitlines())[:3])
        return False, "npm install of node-llama-cpp failed: %s" % tail, any(e in msg for e in NET_ERRORS)
    return installed(), "npm install of node-llama-cpp@%s left no package" % VERSION, False


def gm(args, timeout=120, **kw):
    """Run gemmash; returns CompletedProcess (bytes)."""
    return subprocess.run([BIN] + args, capture_output=True, timeout=timeout, **kw)


def llamacpp(runs):
    """llama.cpp's answers for the runs (llamacpp_ref.mjs); one process for
    all, and on an abort (a llama.cpp assertion) one process per file."""
    def once(rs):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"threads": 2, "runs": rs}, f)
        try:
            r = subprocess.run(["node", os.path.join(HERE, "llamacpp_ref.mjs"), NODE_MODULES, f.name],
                               capture_output=True, timeout=600)
        finally:
            os.unlink(f.name)
        if r.returncode != 0:
            return None, r.stderr.decode(errors="replace")
        return json.loads(r.stdout.decode().strip().splitlines()[-1]), ""
    out, err = once(runs)
    if out:
        return out
    res = []
    for run in runs:
        o, e = once([run])
        res.append(o["runs"][0] if o else {"error": "llama.cpp aborted: " + " | ".join(
            line for line in e.strip().splitlines()[-3:])})
    return {"release": "?", "runs": res}


def our_logits(path, seq, vocab):
    """`gemmash logits` for seq: [len(seq), vocab] float32, or (None, stderr)."""
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        out = f.name
    try:
        r = gm(["logits", "-m", path, "--threads", "2", "--tokens", ",".join(map(str, seq)), "--out", out,
                "--kv-type", "f32"])
        x = np.fromfile(out, dtype=np.float32) if r.returncode == 0 else np.zeros(0)
    finally:
        os.unlink(out)
    if x.size != len(seq) * vocab:
        return None, r.stderr.decode(errors="replace")[-800:]
    return x.reshape(len(seq), vocab), ""


def step_stats(ours, ref, tie):
    """Per position: top-1 agreement (a near-tie in our logits counts as
    agreement), max |difference| over llama.cpp's top 8, and the Pearson
    correlation over the vocabulary."""
    agree, ties, errs, corr = 0, 0, [], []
    for o, r in zip(ours, ref):
        r = np.asarray(r, dtype=np.float64)
        top = np.argsort(-r)[:8]
        errs.append(float(np.max(np.abs(o[top] - r[top]))))
        corr.append(float(np.corrcoef(o, r)[0, 1]))
        best = int(np.argmax(o))
        if best == int(top[0]):
            agree += 1
        elif o[best] - o[top[0]] < tie:
            ties += 1
    return agree, ties, errs, corr


def compare(name, typ, path, prompt_ids, got, vocab, ref_f32=None):
    """The checks for one GGUF file against llama.cpp's answers `got`;
    `ref_f32` is llama.cpp's logits for the same model's F32 file (or None).
    Returns a summary line or None."""
    what = "%s %s" % (name, typ)
    if not check("error" not in got, "%s: llama.cpp loads the file" % what):
        print("# " + got["error"][-1500:])
        return None
    ours = []
    for t in TEXTS:
        r = gm(["tokenize", "-m", path, t])
        ours.append(json.loads(r.stdout) if r.returncode == 0 else None)
    same = sum(a == b for a, b in zip(ours, got["tokens"]))
    for t, a, b in zip(TEXTS, ours, got["tokens"]):
        if a != b:
            print("# %s: %r: ours %s, llama.cpp %s" % (what, t, a, b))
    check(same == len(TEXTS), "%s: %d/%d texts tokenize to llama.cpp's ids" % (what, same, len(TEXTS)))
    gen = got["gen"]
    seq = prompt_ids + gen[:-1]
    logits, msg = our_logits(path, seq, vocab)
    if not check(logits is not None, "%s: gemmash logits ran on the prompt and llama.cpp's continuation" % what):
        print("# " + msg)
        return None
    exact = typ == "f32"
    agree, ties, errs, corr = step_stats(logits, got["logits"], 0.05 if exact else 0.0)
    n = len(seq)
    # the greedy continuation from `gemmash generate` (it stops at an end-of-turn token)
    # (an F32 file against llama.cpp's F32 cache: ours in F32 too)
    r = gm(["generate", "-m", path, "--raw", "-n", str(N_GEN), "--temp", "0", "--threads", "2"] +
           (["--kv-type", "f32"] if exact else []) + [PROMPT])
    cut = next((i for i, t in enumerate(gen) if t in EOG), len(gen))
    d = gm(["detokenize", "-m", path, "--skip-special", ",".join(map(str, gen[:cut]))]) if cut else None
    want = d.stdout if d is not None and d.returncode == 0 else b""
    text_same = r.returncode == 0 and r.stdout.rstrip(b"\n") == want.rstrip(b"\n")
    # steps of the continuation our logits pick the same greedy token as llama.cpp
    p0 = len(prompt_ids) - 1
    prefix = next((i for i in range(len(gen)) if int(np.argmax(logits[p0 + i])) != gen[i]), len(gen))
    line = ("%s: over %d positions top-1 agrees at %d, max err %.3f, median err %.3f, min corr %.4f; "
            "greedy continuation agrees for %d/%d tokens" %
            (what, len(errs), agree, max(errs), float(np.median(errs)), min(corr), prefix, len(gen)))
    if exact:
        # F32 weights, F32 KV cache, no flash attention: the same function up
        # to float rounding, so the same greedy path and close logits
        check(agree + ties == n, "%s: our top-1 is llama.cpp's at %d/%d positions (%d near-ties)" %
              (what, agree, n, ties))
        check(max(errs) <= TOL_F32, "%s: logits within %.2f of llama.cpp's top 8 at every position "
              "(max %.4f, median %.4f)" % (what, TOL_F32, max(errs), float(np.median(errs))))
        check(text_same or ties, "%s: gemmash generate --raw --temp 0 prints llama.cpp's %d-token greedy "
              "continuation" % (what, cut))
        if not text_same:
            print("# ours %r\n# llama.cpp %r (ids %s)" % (r.stdout[:300], want[:300], gen))
    else:
        # llama.cpp's defaults round activations to the weights' dot type and
        # keep an F16 KV cache.  On random weights that noise grows layer by
        # layer and position by position (see the f32 runs for the exact
        # comparison), so the check is on the first positions: a block
        # layout read differently would give unrelated logits there.
        # A random-weight MoE is chaotic: one router choice flipped by
        # rounding moves a whole position (both engines' logits on the
        # quantized file then correlate with the F32 logits at ~0.6).  So at
        # each position the bound is the lower of MIN_CORR and llama.cpp's
        # own agreement with its F32 run there: our distance from llama.cpp
        # may not exceed what the quantization itself does to the logits.
        own = [1.0] * len(corr)
        if ref_f32 is not None:
            own = [float(np.corrcoef(np.asarray(r, np.float64), np.asarray(f, np.float64))[0, 1])
                   for r, f in zip(got["logits"], ref_f32)]
        bound = [min(MIN_CORR[typ], o) for o in own]
        worst = min(range(len(corr)), key=lambda i: corr[i] - bound[i])
        check(all(c >= b for c, b in zip(corr, bound)),
              "%s: first %d positions: logits correlate with llama.cpp's at least as well as min(%.2f, "
              "llama.cpp's own quantized-vs-F32 correlation) (worst position %d: %.4f >= %.4f; max err %.3f)" %
              (what, EARLY, MIN_CORR[typ], worst, corr[worst], bound[worst], max(errs)))
        # the first position has no attention history for rounding to build
        # on: there the two engines must agree closely on any dense model
        # (a block layout or scale bit read differently gives a correlation
        # far below this; the MoE router may flip an expert even here)
        if not name.startswith("26b"):
            check(corr[0] >= 0.99, "%s: position 0: logits correlate with llama.cpp's at %.4f >= 0.99" %
                  (what, corr[0]))
        check(r.returncode == 0, "%s: gemmash generate ran (%s)" %
              (what, "prints llama.cpp's continuation" if text_same else
               "its greedy path leaves llama.cpp's after %d/%d tokens" % (prefix, len(gen))))
    return line


def check_kv_share_rule(work):
    """A KV-sharing layout llama.cpp cannot run (the last layer with its own
    cache is sliding): convert warns, and llama.cpp indeed aborts on it."""
    d = os.path.join(work, "kvshare")
    r = subprocess.run([PYTHON, GEN, "--out", d, "--geometry", "tiny-e2b", "--set", "kv_shared=4"],
                       capture_output=True, timeout=120)
    path = d + ".gguf"
    c = gm(["convert", "-m", d, "-o", path, "--type", "f32"]) if r.returncode == 0 else None
    check(c is not None and c.returncode == 0 and b"llama.cpp's gemma4 needs it full" in c.stderr,
          "convert warns that llama.cpp cannot run 10 layers with 4 KV-shared (layer 5 sliding)")
    if c is None or c.returncode != 0:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"threads": 2, "runs": [{"model": path, "prompt": [2, 300], "n": 1}]}, f)
    try:
        n = subprocess.run(["node", os.path.join(HERE, "llamacpp_ref.mjs"), NODE_MODULES, f.name],
                           capture_output=True, timeout=120)
    finally:
        os.unlink(f.name)
    err = n.stderr.decode(errors="replace")
    check(n.returncode != 0 and "map_layer_ids" in err,
          "llama.cpp aborts on that file as predicted (%s)" %
          next((x.strip() for x in err.splitlines() if "GGML_ASSERT" in x), "exit %d" % n.returncode)[-120:])


def check_padded_vocab(work):
    """A tokenizer smaller than the embedding (512 pieces, 640 rows) is padded
    to one token per row; llama.cpp loads the file and we agree with it."""
    d = os.path.join(work, "padded")
    r = subprocess.run([PYTHON, GEN, "--out", d, "--geometry", "tiny-31b", "--set", "vocab=640"],
                       capture_output=True, timeout=120)
    if not check(r.returncode == 0, "640-row model written"):
        return
    shutil.copyfile(os.path.join(ROOT, "tests", "fixtures", "gemma4-ref", "e2b_like", "tokenizer.json"),
                    os.path.join(d, "tokenizer.json"))
    path = d + ".gguf"
    c = gm(["convert", "-m", d, "-o", path, "--type", "f32"])
    if not check(c.returncode == 0, "512-piece tokenizer on 640 rows converts"):
        print("# " + c.stderr.decode(errors="replace")[-800:])
        return
    t = gm(["tokenize", "-m", path, PROMPT])
    prompt = [2] + (json.loads(t.stdout) if t.returncode == 0 else [])
    got = llamacpp([{"model": path, "texts": TEXTS, "prompt": prompt, "n": N_GEN, "top": "all", "from": 0,
                     "kv": "F32", "flash": False}])["runs"][0]
    compare("padded-vocab", "f32", path, prompt, got, 640)


def check_full_vocab(work):
    """Tokenization with the full 262144-piece Gemma 4 vocabulary (the one
    tests/tokenizer/test_reference.py builds from an npm package): a tiny
    model carrying it, converted, tokenized by llama.cpp and by us on the
    tokenizer corpus."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "tokenizer"))
    import test_reference as tr  # noqa: E402 (fetches into tests/.cache/tokenizer)
    err = tr.fetch()
    if not check(err is None, "the full Gemma 4 vocabulary is at hand (%s)" % (err or "npm package cached")):
        return
    tr.write_gemma4_variant()
    # that tokenizer.json has 262145 pieces (<image_soft_token> is 262144), so
    # the embedding gets 262145 rows (test_gguf_vocabfit: fewer are refused)
    d = os.path.join(work, "fullvocab")
    r = subprocess.run([PYTHON, GEN, "--out", d, "--geometry", "tiny-31b", "--set", "vocab=262145"],
                       capture_output=True, timeout=300)
    if not check(r.returncode == 0, "full-vocab model written"):
        return
    shutil.copyfile(tr.G4_JSON, os.path.join(d, "tokenizer.json"))
    path = d + ".gguf"
    c = gm(["convert", "-m", d, "-o", path, "--type", "bf16"], timeout=300)
    if not check(c.returncode == 0, "full-vocab model converted"):
        print("# " + c.stderr.decode(errors="replace")[-800:])
        return
    files = sorted(os.path.join(tr.CORPUS, f) for f in os.listdir(tr.CORPUS) if f.endswith(".txt"))
    texts = [open(f, encoding="utf-8", newline="").read() for f in files] + TEXTS
    got = llamacpp([{"model": path, "texts": texts}])["runs"][0]
    if not check("error" not in got, "llama.cpp loads the full-vocab file"):
        print("# " + got["error"][-800:])
        return
    r = gm(["tokenize", "-m", path] + [a for f in files for a in ("-f", f)])
    ours = [json.loads(x) for x in r.stdout.decode().splitlines()] if r.returncode == 0 else []
    for t in TEXTS:
        t = gm(["tokenize", "-m", path, t])
        ours.append(json.loads(t.stdout) if t.returncode == 0 else None)
    names = [os.path.basename(f) for f in files] + ["text %d" % i for i in range(len(TEXTS))]
    bad = [i for i, (a, b) in enumerate(zip(ours, got["tokens"])) if a != b]
    # llama.cpp's vocab loader, for gemma4 (when <|tool_response> ends a
    # generation), makes the added token </s> (212) a NORMAL piece, so "</s>"
    # in text is split by BPE there, where Hugging Face (and we) match it as
    # token 212.  A file that differs only so decodes to the same text.
    def decode(ids):
        r = gm(["detokenize", "-m", path, ",".join(map(str, ids))])
        return r.stdout if r.returncode == 0 else None
    s_eos = [i for i in bad if ours[i] and "</s>" in texts[i] and 212 in ours[i] and 212 not in got["tokens"][i]
             and decode(ours[i]) == decode(got["tokens"][i]) == texts[i].encode()]
    bad = [i for i in bad if i not in s_eos]
    for i in bad[:6]:
        a, b = ours[i] or [], got["tokens"][i]
        k = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        print("# %s: first difference at id %d: ours %s, llama.cpp %s" % (names[i], k, a[max(0, k - 2):k + 4],
                                                                        b[max(0, k - 2):k + 4]))
    check(len(ours) == len(texts) and not bad,
          "full vocabulary: %d/%d corpus files and texts tokenize to llama.cpp's ids (%d ids)%s" %
          (len(texts) - len(bad), len(texts), sum(len(x) for x in got["tokens"]),
           "; %s differ only in llama.cpp's gemma4 treatment of \"</s>\" as text" %
           ", ".join(names[i] for i in s_eos) if s_eos else ""))


def main():
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        check(True, "skipped: node-llama-cpp's prebuilt llama.cpp is for Linux x64, this is %s %s" %
              (platform.system(), platform.machine()))
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        check(False, "node and npm are needed (Debian packages nodejs, npm)")
        return
    ok, why, skip = install()
    if not ok:
        check(skip, ("skipped: npm registry unreachable: " if skip else "") + why)
        return
    work = tempfile.mkdtemp(prefix="gm-llamacpp-")
    try:
        run_all(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_all(work):
    """Generate, convert, ask llama.cpp once for all files, then compare."""
    t_start = time.time()
    long = os.environ.get("GEMMASH_LONG") == "1"
    models = MODELS + (LONG_MODELS if long else [])
    files, runs = [], []
    for name, args, types in models:
        d = os.path.join(work, name)
        r = subprocess.run([PYTHON, GEN, "--out", d, "--dtype", "bf16", "--layout", "released", "--seed", "7"] + args,
                           capture_output=True, timeout=300)
        if not check(r.returncode == 0, "%s: gen_ckpt.py wrote the checkpoint" % name):
            print("# " + r.stderr.decode(errors="replace")[-800:])
            continue
        vocab = json.load(open(os.path.join(d, "config.json")))["text_config"]["vocab_size"]
        for typ in (ALL if long else types):
            path = os.path.join(work, "%s-%s.gguf" % (name, typ))
            r = gm(["convert", "-m", d, "-o", path, "--type", typ, "--threads", "2"], timeout=300)
            if not check(r.returncode == 0, "%s %s: gemmash convert wrote the GGUF" % (name, typ)):
                print("# " + r.stderr.decode(errors="replace")[-800:])
                continue
            t = gm(["tokenize", "-m", path, PROMPT])
            prompt_ids = [2] + (json.loads(t.stdout) if t.returncode == 0 else [])
            files.append((name, typ, path, prompt_ids, vocab))
            run = {"model": path, "texts": TEXTS, "prompt": prompt_ids, "n": N_GEN, "top": "all", "from": 0}
            if typ == "f32":
                run.update(kv="F32", flash=False)
            else:
                run.update(to=EARLY)
            runs.append(run)
    print("# checkpoints written and converted: %.1fs" % (time.time() - t_start))
    if not runs:
        return
    t0 = time.time()
    got = llamacpp(runs)
    print("# llama.cpp %s (node-llama-cpp %s): %d files in %.1fs" % (got["release"], VERSION, len(runs),
                                                                    time.time() - t0))
    for part in (check_kv_share_rule, check_padded_vocab, check_full_vocab):
        t0 = time.time()
        part(work)
        print("# %s: %.1fs" % (part.__name__, time.time() - t0))
    t0 = time.time()
    lines = []
    f32 = {name: g.get("logits") for (name, typ, _, _, _), g in zip(files, got["runs"])
           if typ == "f32" and "error" not in g}
    for (name, typ, path, prompt_ids, vocab), g in zip(files, got["runs"]):
        ref = f32.get(name) if typ != "f32" else None
        line = compare(name, typ, path, prompt_ids, g, vocab, ref[:EARLY] if ref else None)
        if line:
            lines.append(line)
    print("# our side of the comparisons: %.1fs" % (time.time() - t0))
    for line in lines:
        print("# " + line)


if __name__ == "__main__":
    t0 = time.time()
    main()
    print("# %.1fs" % (time.time() - t0))
    done()
