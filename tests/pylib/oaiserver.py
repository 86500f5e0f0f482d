"""A scripted OpenAI-compatible chat-completions server for the remote tests.

POST /v1/chat/completions answers according to the request's "model" field:
the script (JSON file SCRIPT) maps a model name to a list of replies, used in
turn (the last one repeats).  A reply is one of:
  {"sse": [CHUNK, ...], "done": true}   event stream; a CHUNK is a JSON object, or a
                                        string sent verbatim as "data: STRING"
  {"drop": [CHUNK, ...]}                 those chunks, then the connection is closed
  {"status": N, "body": OBJ, "retry_after": "1"}   an error answer
  {"json": OBJ}                          a whole, non-streamed reply
  {"hang": SECONDS}                      headers, then silence
Each request is appended to LOG as one JSON line {model, headers, body}.
Usage: oaiserver.py SCRIPT LOG PORTFILE
"""
import http.server
import json
import os
import sys
import threading
import time

SCRIPT, LOG, PORTFILE = sys.argv[1:4]
LOCK = threading.Lock()
COUNT = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        req = json.loads(self.rfile.read(n) or b"{}")
        model = req.get("model", "")
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps({"path": self.path, "model": model,
                                    "auth": self.headers.get("Authorization"), "body": req}) + "\n")
            replies = json.load(open(SCRIPT)).get(model, [{"status": 404, "body": {"error": {"message": "no such model"}}}])
            i = COUNT.get(model, 0)
            COUNT[model] = i + 1
        r = replies[min(i, len(replies) - 1)]
        if not self.path.endswith("/chat/completions"):
            r = {"status": 404, "body": {"error": "not found"}}
        if "status" in r:
            body = json.dumps(r.get("body", {})).encode()
            self.send_response(r["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if "retry_after" in r:
                self.send_header("Retry-After", r["retry_after"])
            self.end_headers()
            self.wfile.write(body)
            return
        if "json" in r:
            body = json.dumps(r["json"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if "hang" in r:
            self.wfile.flush()
            time.sleep(r["hang"])
            return
        for c in r.get("sse", r.get("drop", [])):
            data = c if isinstance(c, str) else json.dumps(c)
            self.wfile.write(("data: %s\r\n\r\n" % data).encode())
            self.wfile.flush()
        if r.get("done"):
            self.wfile.write(b"data: [DONE]\n\n")


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
