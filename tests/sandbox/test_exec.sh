#!/usr/bin/env bash
# gemmash exec and gemmash sandbox doctor: what must still WORK inside the
# fence (git, cc + make, python3), what the fence does to every run (secrets
# out of the environment, inherited fds closed, private TMPDIR, the timeout
# killing a whole process group), and the fail-closed path.
set -u
G=${GEMMASH_BIN:-./gemmash}
PY=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d /tmp/gemmash-exec.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
fails=0
check() { if eval "$1"; then echo "ok - $2"; else echo "not ok - $2"; fails=$((fails + 1)); fi; }
W=$T/ws
mkdir -p "$W" "$T/home"
export HOME=$T/home
ex() { out=$("$G" exec --workspace "$W" "$@" 2>&1); rc=$?; }

# git init, add, commit inside the workspace; the repository stays usable afterwards
ex -- sh -c 'git init -q . && echo hello > a.txt && git add a.txt &&
             git -c user.name=t -c user.email=t@t commit -q -m first && git log --oneline'
check '[ $rc -eq 0 ] && [ "$(git -C $W log --format=%s)" = first ]' "git init/add/commit works inside the fence"
check '[ -f $W/.git/config ] && [ -e $W/.git/hooks/pre-commit.sample ]' "git init's own config and sample hooks are kept"
ex -- sh -c 'echo more >> a.txt && git -c user.name=t -c user.email=t@t commit -qam second'
check '[ $rc -eq 0 ] && [ "$(git -C $W rev-list --count HEAD)" = 2 ]' "a second commit in an existing repository works"

# cc and make
printf '#include <stdio.h>\nint main(void){puts("built and ran");return 0;}\n' > "$W/hello.c"
printf 'hello: hello.c\n\tcc -O1 -o hello hello.c\n' > "$W/Makefile"
ex -- sh -c 'make -s && ./hello'
check '[ $rc -eq 0 ] && [ "$out" = "built and ran" ]' "cc and make build and run a program ($out)"

# python3
ex -- "$PY" -c 'import json, tempfile; f = tempfile.NamedTemporaryFile(); print(json.dumps(6 * 7))'
check '[ $rc -eq 0 ] && [ "$out" = 42 ]' "python3 runs, with tempfile ($out)"

# secrets removed from the environment, kept when allowed by name
out=$(HF_TOKEN=h AWS_SECRET_ACCESS_KEY=a MY_API_KEY=k GITHUB_TOKEN=g DB_PASSWORD=p SSH_AUTH_SOCK=/x KEEP_ME=1 \
      "$G" exec --workspace "$W" -- env 2>&1)
check '! printf "%s" "$out" | grep -Eq "^(HF_TOKEN|AWS_SECRET_ACCESS_KEY|MY_API_KEY|GITHUB_TOKEN|DB_PASSWORD|SSH_AUTH_SOCK)="' \
      "secrets are removed from the environment"
check 'printf "%s" "$out" | grep -q "^KEEP_ME=1$" && printf "%s" "$out" | grep -q "^PATH="' "ordinary variables are kept"
out=$(HF_TOKEN=h "$G" exec --workspace "$W" --env-allow HF_TOKEN -- env 2>&1)
check 'printf "%s" "$out" | grep -q "^HF_TOKEN=h$"' "--env-allow keeps a variable by name"

# inherited descriptors are closed
exec 7<"$G" 9>"$T/fd9"
ex -- sh -c 'ls /proc/self/fd'
exec 7<&- 9>&-
check '[ $rc -eq 0 ] && [ "$(printf "%s" "$out" | tr "\n" " ")" = "0 1 2 3" ]' "inherited fds are closed (left: $(printf "%s" "$out" | tr '\n' ' '))"

# private TMPDIR: inside the fence, mode 0700, removed afterwards; /tmp itself is not writable
ex -- sh -c 'echo "$TMPDIR"; stat -c %a "$TMPDIR"; touch "$TMPDIR/x" && echo tmp-ok; touch /tmp/gemmash-escape-probe 2>/dev/null || echo tmp-denied'
tmpd=$(printf "%s" "$out" | sed -n 1p)
check 'case $tmpd in */gemmash-run-*) true;; *) false;; esac && [ "$(printf "%s" "$out" | sed -n 2p)" = 700 ]' "TMPDIR is private ($tmpd, 0700)"
check 'printf "%s" "$out" | grep -q tmp-ok && printf "%s" "$out" | grep -q tmp-denied && [ ! -e /tmp/gemmash-escape-probe ]' \
      "TMPDIR is writable but /tmp is not"
check '[ ! -e "$tmpd" ]' "TMPDIR is removed after the run"

# timeout: SIGINT, SIGTERM, then SIGKILL to the whole group, even when both ignore SIGINT/SIGTERM
start=$(date +%s%N)
ex --timeout 0.5 --kill-grace 0.2 -- sh -c 'trap "" INT TERM; sleep 30 & echo $! > gc.pid; echo $$ > c.pid; while :; do sleep 1; done'
took=$(( ($(date +%s%N) - start) / 1000000 ))
c=$(cat "$W/c.pid" 2>/dev/null); gc=$(cat "$W/gc.pid" 2>/dev/null)
check '[ $rc -eq 137 ] && [ $took -lt 5000 ]' "timeout escalates to SIGKILL (rc=$rc after ${took} ms)"
check '[ -n "$c" ] && [ -n "$gc" ] && ! kill -0 $c 2>/dev/null && ! kill -0 $gc 2>/dev/null' \
      "the whole process group is gone, the grandchild too"
check 'printf "%s" "$out" | grep -q "timed out"' "the timeout is reported"

# a background daemon cannot outlive the run (setsid is refused, the group is swept)
ex -- sh -c 'setsid sleep 30 >/dev/null 2>&1 & echo $! > d.pid; sleep 30 >/dev/null 2>&1 & echo $! > bg.pid; echo started'
d=$(cat "$W/bg.pid" 2>/dev/null)
check '[ $rc -eq 0 ] && [ -n "$d" ] && ! kill -0 $d 2>/dev/null' "background processes are killed when the command ends"

# /dev/shm: private tmpfs in the namespace layer (Python multiprocessing works), else not writable
ex -- "$PY" -c '
import multiprocessing as m
q = m.Queue(); p = m.Process(target=q.put, args=(7,)); p.start(); print("mp", q.get()); p.join()
open("/dev/shm/gemmash-test-shm", "w").write("x"); print("shm-ok")'
if "$G" sandbox doctor --workspace "$W" | grep -q "extra layer: new user"; then
    check '[ $rc -eq 0 ] && printf "%s" "$out" | grep -q "mp 7"' "python multiprocessing works (private /dev/shm)"
    check '[ ! -e /dev/shm/gemmash-test-shm ]' "the run's /dev/shm is private to it"
else
    check '[ $rc -ne 0 ] && [ ! -e /dev/shm/gemmash-test-shm ]' "without the namespace layer /dev/shm is not writable"
fi

# read-only mode
ex --mode read-only -- sh -c 'cat a.txt >/dev/null && echo read-ok; touch new-file'
check '[ $rc -ne 0 ] && printf "%s" "$out" | grep -q read-ok && [ ! -e $W/new-file ]' "read-only mode reads but does not write"

# extra writable roots
mkdir -p "$T/extra"
ex --writable "$T/extra" -- sh -c "touch '$T/extra/ok'"
check '[ $rc -eq 0 ] && [ -e $T/extra/ok ]' "--writable adds a writable root"

# network on: sockets allowed, AF_UNIX still refused
ex --allow-network -- "$PY" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM); print("inet-ok")'
check '[ $rc -eq 0 ] && [ "$out" = inet-ok ]' "--allow-network allows TCP sockets"

# fail closed
rm -f "$W/ran"
out=$(GEMMASH_SANDBOX_SIMULATE=no-landlock "$G" exec --workspace "$W" -- touch "$W/ran" 2>&1); rc=$?
check '[ $rc -eq 7 ] && [ ! -e $W/ran ]' "without Landlock nothing runs and exec exits 7"
check 'printf "%s" "$out" | grep -q "lacks Landlock" && printf "%s" "$out" | grep -q -- --dangerously-full-access' \
      "the fail-closed message says why and what to do"
out=$(GEMMASH_SANDBOX_SIMULATE=no-seccomp "$G" exec --workspace "$W" -- touch "$W/ran" 2>&1); rc=$?
check '[ $rc -eq 7 ] && [ ! -e $W/ran ]' "without seccomp nothing runs and exec exits 7"
out=$(GEMMASH_SANDBOX_SIMULATE=no-landlock "$G" exec --dangerously-full-access --workspace "$W" -- touch "$W/ran" 2>&1); rc=$?
check '[ $rc -eq 0 ] && [ -e $W/ran ]' "--dangerously-full-access runs without Landlock"
out=$(HOME=$W "$G" exec --workspace "$W" -- true 2>&1); rc=$?
check '[ $rc -eq 7 ] && printf "%s" "$out" | grep -q "home folder"' "a workspace that contains HOME is refused (exit 7)"

out=$("$G" exec --workspace / -- true 2>&1); rc=$?
check '[ $rc -eq 7 ] && printf "%s" "$out" | grep -q "system folder"' "a workspace that contains /usr, /etc... is refused (exit 7)"

# usage
"$G" exec --mode full --workspace "$W" -- true >/dev/null 2>&1; rc=$?
check '[ $rc -eq 2 ]' "--mode full without --dangerously-full-access is a usage error"
"$G" exec --workspace "$W" >/dev/null 2>&1; rc=$?
check '[ $rc -eq 2 ]' "exec without a command is a usage error"
"$G" exec --workspace "$W" -- no-such-command-xyz >/dev/null 2>&1; rc=$?
check '[ $rc -eq 127 ]' "an unknown command exits 127"
ex -- sh -c 'exit 3'
check '[ $rc -eq 3 ]' "exec returns the command's exit status"
check '"$G" exec --help | grep -q "^SYNOPSIS" && "$G" sandbox doctor --help | grep -q "^SYNOPSIS"' "--help reads like a manual"

# doctor
out=$("$G" sandbox doctor --workspace "$W" 2>&1); rc=$?
check '[ $rc -eq 0 ] && printf "%s" "$out" | grep -q "landlock:   ABI" && printf "%s" "$out" | grep -q "verdict: OK"' \
      "doctor reports the Landlock ABI and an OK verdict"
check 'printf "%s" "$out" | grep -q "tcp bind/connect: denied" && printf "%s" "$out" | grep -q "$W"' \
      "doctor shows network off and the workspace"
out=$(GEMMASH_SANDBOX_SIMULATE=no-landlock "$G" sandbox doctor --workspace "$W" 2>&1); rc=$?
check '[ $rc -eq 7 ] && printf "%s" "$out" | grep -q UNAVAILABLE' "doctor says UNAVAILABLE without Landlock (exit 7)"
exit $((fails > 0))
