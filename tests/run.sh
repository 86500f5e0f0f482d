#!/usr/bin/env bash
# Test runner.  Runs every test file and counts its checks.
#
# A test file is any of:
#   $BUILD/tests/<area>/test_*      (compiled from tests/<area>/test_*.c)
#   tests/<area>/test_*.sh          (run with bash)
#   tests/<area>/test_*.py          (run with $PYTHON, Debian's python3 + numpy)
# Each prints one line per check: "ok - what" or "not ok - what: why".
# A file that exits non-zero without printing "not ok" counts as one failure,
# and so does a file that prints no check at all.  The last line is the total.
#
# Usage: tests/run.sh [PATTERN]   (only files whose path contains PATTERN)
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
export GEMMASH_ROOT="$ROOT"
export GEMMASH_BIN=${GEMMASH_BIN:-$ROOT/gemmash}
case "$GEMMASH_BIN" in /*) ;; *) GEMMASH_BIN="$ROOT/$GEMMASH_BIN" ;; esac
export PYTHON=${PYTHON:-/usr/bin/python3}
export FIXTURES="$ROOT/tests/fixtures"
export BUILD
export NO_COLOR=1
export PYTHONDONTWRITEBYTECODE=1
pattern=${1:-}
per_file_timeout=${TEST_TIMEOUT:-600}

files=()
for f in $(ls "$BUILD"/tests/*/test_* 2>/dev/null | grep -v '\.d$' | sort) \
         $(ls tests/*/test_*.sh tests/*/test_*.py 2>/dev/null | sort); do
    [ -x "$f" ] || [ "${f##*.}" = sh ] || [ "${f##*.}" = py ] || continue
    case "$f" in *"$pattern"*) files+=("$f") ;; esac
done

passed=0; failed=0; failed_names=(); failed_lines=()
log=$(mktemp); trap 'rm -f "$log"' EXIT
for f in "${files[@]}"; do
    start=$(date +%s)
    echo "# $f"
    case "$f" in
        *.sh) cmd=(bash "$f") ;;
        *.py) cmd=("$PYTHON" "$f") ;;
        *)    cmd=("$f") ;;
    esac
    timeout -k 10 "$per_file_timeout" "${cmd[@]}" </dev/null >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(grep -c '^ok ' "$log"); n=$(grep -c '^not ok ' "$log")
    why=
    if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then why="exited with status $rc"
    elif [ "$p" -eq 0 ] && [ "$n" -eq 0 ]; then why="ran no check"
    fi
    [ -n "$why" ] && { echo "not ok - $f $why"; n=1; }
    passed=$((passed + p)); failed=$((failed + n))
    if [ "$n" -gt 0 ]; then
        failed_names+=("$f")
        while IFS= read -r line; do failed_lines+=("$f: $line"); done < <(grep '^not ok ' "$log")
        [ -n "$why" ] && failed_lines+=("$f: $why")
    fi
    echo "# $f: $p passed, $n failed, $(( $(date +%s) - start ))s"
done
if [ "${#failed_names[@]}" -gt 0 ]; then
    echo "# files with failures: ${failed_names[*]}"
    # the failed checks again, so the end of a long log says what broke
    for line in "${failed_lines[@]}"; do echo "#   $line"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
