"""Helpers for Python tests: the runner's "ok - / not ok -" protocol and paths."""
import os
import subprocess
import sys

ROOT = os.environ.get("GEMMASH_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("GEMMASH_BIN", os.path.join(ROOT, "gemmash"))
FIXTURES = os.environ.get("FIXTURES", os.path.join(ROOT, "tests", "fixtures"))
_failures = 0


def check(cond, what):
    """Report one check; returns cond so callers can chain."""
    global _failures
    if cond:
        print("ok - " + what, flush=True)
    else:
        _failures += 1
        print("not ok - " + what, flush=True)
    return bool(cond)


def run(args, **kw):
    """Run the gemmash binary with args; returns CompletedProcess (bytes)."""
    return subprocess.run([BIN] + list(args), capture_output=True, **kw)


def done():
    sys.exit(1 if _failures else 0)
