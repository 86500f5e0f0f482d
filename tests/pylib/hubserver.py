"""A local stand-in for a Hugging Face hub, for the pull tests.

Serves ROOT/OWNER/REPO/FILE in the hub's URL layout:
  GET /api/models/OWNER/REPO/tree/main   JSON list: type, path, size, oid and,
                                         for .safetensors/.gguf, lfs {oid = sha256, size}
  GET|HEAD /OWNER/REPO/resolve/main/FILE 302 to /cdn/OWNER/REPO/FILE with
                                         X-Linked-Size, X-Linked-Etag, ETag (LFS files);
                                         small files are answered directly
  GET /cdn/OWNER/REPO/FILE               the bytes, with Range support (206)
Behaviour per repository comes from ROOT/behaviour.json:
  {"OWNER/REPO": {"status": 401, "token": T}} every request answered with that status,
                                              unless it carries "Authorization: Bearer T"
  {"OWNER/REPO": {"drop_after": N, "times": K}} the first K file bodies (K=-1: all) stop after N bytes
  {"OWNER/REPO": {"corrupt": true}}           one byte of each served LFS file is flipped
  {"OWNER/REPO": {"corrupt_small": true}}     the same for the files kept in git (config.json ...)
Every request is appended to ROOT/requests.log as "METHOD PATH RANGE".
Usage: hubserver.py ROOT PORTFILE   (binds 127.0.0.1 on a free port, writes it to PORTFILE)
"""
import hashlib
import http.server
import json
import os
import sys
import threading

ROOT = sys.argv[1]
LOCK = threading.Lock()
DROPS = {}


def behaviour(repo):
    try:
        with open(os.path.join(ROOT, "behaviour.json")) as f:
            return json.load(f).get(repo, {})
    except FileNotFoundError:
        return {}


def is_lfs(name):
    return name.endswith(".safetensors") or name.endswith(".gguf")


class Hub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", headers=(), ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        with LOCK, open(os.path.join(ROOT, "requests.log"), "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Range", "-")))
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:2] == ["api", "models"] and parts[-2:] == ["tree", "main"]:
            return self.tree("/".join(parts[2:-2]))
        if len(parts) >= 5 and parts[2:4] == ["resolve", "main"]:
            return self.resolve("/".join(parts[:2]), "/".join(parts[4:]))
        if parts[0] == "cdn" and len(parts) >= 4:
            return self.serve("/".join(parts[1:3]), "/".join(parts[3:]))
        self.reply(404, b'{"error":"Not Found"}')

    def refused(self, repo):
        b = behaviour(repo)
        st = b.get("status")
        if st and not (b.get("token") and self.headers.get("Authorization") == "Bearer " + b["token"]):
            self.reply(st, json.dumps({"error": "Access to model %s is restricted." % repo}).encode(),
                       [("X-Error-Code", "GatedRepo")])
            return True
        if not os.path.isdir(os.path.join(ROOT, repo)):
            self.reply(404, json.dumps({"error": "Repository not found"}).encode(),
                       [("X-Error-Code", "RepoNotFound")])
            return True
        return False

    def tree(self, repo):
        if self.refused(repo):
            return
        out = []
        d = os.path.join(ROOT, repo)
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            data = open(p, "rb").read()
            e = {"type": "file", "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
                 "size": len(data), "path": name}
            if is_lfs(name):
                e["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            out.append(e)
        self.reply(200, json.dumps(out).encode())

    def resolve(self, repo, name):
        if self.refused(repo):
            return
        p = os.path.join(ROOT, repo, name)
        if not os.path.isfile(p):
            return self.reply(404, b'{"error":"Entry not found"}', [("X-Error-Code", "EntryNotFound")])
        if not is_lfs(name):
            return self.serve(repo, name)
        data = open(p, "rb").read()
        sha = hashlib.sha256(data).hexdigest()
        self.reply(302, b"", [("Location", "/cdn/%s/%s" % (repo, name)), ("X-Linked-Size", str(len(data))),
                              ("X-Linked-Etag", '"%s"' % sha), ("ETag", '"%s"' % sha)])

    def serve(self, repo, name):
        if self.refused(repo):
            return
        p = os.path.join(ROOT, repo, name)
        if not os.path.isfile(p):
            return self.reply(404, b'{"error":"Entry not found"}')
        data = bytearray(open(p, "rb").read())
        b = behaviour(repo)
        if (b.get("corrupt") and is_lfs(name)) or (b.get("corrupt_small") and not is_lfs(name)):
            data[len(data) // 2] ^= 0x01
        start, code, extra = 0, 200, [("Accept-Ranges", "bytes")]
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.reply(416, b"", [("Content-Range", "bytes */%d" % len(data))])
            code = 206
            extra.append(("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data))))
        body = bytes(data[start:])
        drop = b.get("drop_after")
        with LOCK:
            left = DROPS.setdefault(repo, b.get("times", 1))
            cut = drop is not None and is_lfs(name) and left != 0 and len(body) > drop
            if cut and left > 0:
                DROPS[repo] = left - 1
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"%s"' % hashlib.sha256(bytes(data)).hexdigest())
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if cut:
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
