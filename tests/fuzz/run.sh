#!/usr/bin/env bash
# Build and run every libFuzzer target tests/fuzz/fuzz_*.c.
#
# The library sources (engine/ engine/cpu/ sandbox/ tools/ agent/, without
# agent/main.c) are compiled once with clang and the sanitizers into
# $BUILD/fuzz/obj and archived, so each target links only what it uses.  A
# new target needs no edit here: drop tests/fuzz/fuzz_<name>.c in, and
# optionally seed inputs in tests/fuzz/corpus/<name>/.
#
# Each target runs FUZZ_SECONDS (default 60) seconds.  Prints one line per
# target: "ok - fuzz <name>: ..." or "not ok - fuzz <name>: ...".  Crash
# reproducers go to $BUILD/fuzz/artifacts/<name>/.
#
# Environment: BUILD (default build), FUZZ_SECONDS, FUZZ_CC (default clang), FUZZ_OPT
# (default -O1; objects go to $BUILD/fuzz$FUZZ_OPT when set),
# FUZZ_JOBS (parallel compiles, default 2).
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
SECONDS_EACH=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
JOBS=${FUZZ_JOBS:-2}
OUT=$BUILD/fuzz${FUZZ_OPT:-}      # one object folder per optimisation level
export FIXTURES=${FIXTURES:-$(pwd)/tests/fixtures}

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "not ok - fuzz: $CC not found; install clang and libclang-rt-14-dev (make deps)"
    exit 1
fi

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -g ${FUZZ_OPT:--O1} -pthread -fno-strict-aliasing -Iengine -Isandbox -Itools -Iagent"
LDLIBS="-lcurl -lcjson -lreadline -lseccomp -lm -lpthread"

# The instruction-set flags a source file needs, as in the Makefile.
isa_flags() {
    case "$1" in
        *_avx512.c)  echo "-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c -mavx2" ;;
        *_avxvnni.c) echo "-mavx2 -mfma -mf16c -mavxvnni" ;;
        *_avx2.c)    echo "-mavx2 -mfma -mf16c" ;;
        *)           echo "" ;;
    esac
}
export -f isa_flags

mkdir -p "$OUT/obj" "$OUT/artifacts"
srcs=$(ls engine/*.c engine/cpu/*.c sandbox/*.c tools/*.c agent/*.c 2>/dev/null | grep -v '^agent/main\.c$' || true)
newest_header=$(ls -t engine/*.h sandbox/*.h tools/*.h agent/*.h 2>/dev/null | head -n 1)

# Compile what is out of date (source or any header newer than its object).
stale=()
for s in $srcs; do
    o="$OUT/obj/${s%.c}.o"
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || { [ -n "$newest_header" ] && [ "$newest_header" -nt "$o" ]; }; then
        stale+=("$s")
    fi
done
if [ "${#stale[@]}" -gt 0 ]; then
    log="$OUT/compile.log"
    : >"$log"
    printf '%s\n' "${stale[@]}" | CC="$CC" CFLAGS="$CFLAGS -fsanitize=fuzzer-no-link $SAN" OUT="$OUT" \
        xargs -P "$JOBS" -I{} bash -c 's={}; o="$OUT/obj/${s%.c}.o"; mkdir -p "$(dirname "$o")";
            $CC $CFLAGS $(isa_flags "$s") -c -o "$o" "$s" 2>>"$OUT/compile.log" || { rm -f "$o"; exit 1; }'
    if [ $? -ne 0 ]; then
        echo "not ok - fuzz: compiling the libraries with $CC failed:"
        sed 's/^/# /' "$log" | head -n 40
        exit 1
    fi
fi
lib="$OUT/libfuzzdeps.a"
rm -f "$lib"
objs=$(for s in $srcs; do echo "$OUT/obj/${s%.c}.o"; done)
if [ -n "$objs" ]; then
    # shellcheck disable=SC2086
    ar rcs "$lib" $objs || { echo "not ok - fuzz: ar failed on $OUT/obj"; exit 1; }
fi

targets=$(ls tests/fuzz/fuzz_*.c 2>/dev/null)
if [ -z "$targets" ]; then
    echo "not ok - fuzz: no targets tests/fuzz/fuzz_*.c found"
    exit 1
fi
failed=0
for t in $targets; do
    name=$(basename "$t" .c); name=${name#fuzz_}
    bin="$OUT/fuzz_$name"
    # shellcheck disable=SC2086
    if ! $CC $CFLAGS -fsanitize=fuzzer $SAN -o "$bin" "$t" ${objs:+"$lib"} $LDLIBS >"$OUT/link_$name.log" 2>&1; then
        echo "not ok - fuzz $name: build failed:"
        sed 's/^/# /' "$OUT/link_$name.log" | head -n 30
        failed=$((failed + 1))
        continue
    fi
    work="$OUT/corpus/$name"
    mkdir -p "$work" "$OUT/artifacts/$name"
    seeds=()
    [ -d "tests/fuzz/corpus/$name" ] && seeds+=("tests/fuzz/corpus/$name")
    log="$OUT/run_$name.log"
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$name/" "$work" "${seeds[@]}" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "ok - fuzz $name: ${SECONDS_EACH}s, ${runs:-?} runs, no failure"
    else
        echo "not ok - fuzz $name: failed (status $rc); reproducer in $OUT/artifacts/$name/, log $log"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 10 | sed 's/^/# /'
        failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ]
