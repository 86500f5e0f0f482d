#!/usr/bin/env bash
# bench/llamacpp.sh: gemmash and llama.cpp side by side on the same GGUF files.
#
# The checkpoint is bench/run.sh's (E2B dimensions, BENCH_LAYERS layers,
# random BF16 weights in bench/out/), converted once by `gemmash convert` to
# each type in BENCH_TYPES (bench/out/e2b-L<layers>-<type>.gguf).  With
# BENCH_GEOMETRY=26b it is 26B-A4B's shape instead (hidden 2816, 704-wide
# experts, top 8, a 2112-wide dense MLP) with 32 experts and a 32768-token
# vocabulary to keep the file small; its Q4_K_M holds Q5_0 fallbacks.  For each
# file: prefill of BENCH_PROMPT tokens and greedy decode of BENCH_DECODE
# tokens, BENCH_RUNS times, with BENCH_THREADS threads, in
#   gemmash:   bench/bench_model.c (one process per run, --runs 1);
#   llama.cpp: the npm package node-llama-cpp (tests/gguf/llamacpp_ref.mjs),
#              installed into $BUILD/llamacpp as tests/gguf/test_llamacpp.py does.
# Prints the BEST run of each (tokens/s): the machine is shared, so the best
# run is the one least disturbed by other load.  Run by hand: `bash bench/llamacpp.sh`.
#
# Knobs: BENCH_GEOMETRY (e2b | 26b), BENCH_LAYERS (6), BENCH_TYPES ("q8_0 q4_0 bf16"), BENCH_RUNS (3),
#        BENCH_PROMPT (512), BENCH_DECODE (32), BENCH_THREADS (2).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
LAYERS=${BENCH_LAYERS:-6}
GEOM=${BENCH_GEOMETRY:-e2b}
case "$GEOM" in
    e2b) GEN_ARGS=() ; SHAPE="E2B dimensions" ;;
    26b) GEN_ARGS=(--set experts=32 --set vocab=32768) ; SHAPE="26B-A4B dimensions, 32 experts, vocab 32768" ;;
    *) echo "bench/llamacpp.sh: BENCH_GEOMETRY is e2b or 26b" >&2; exit 2 ;;
esac
TYPES=${BENCH_TYPES:-q8_0 q4_0 bf16}
RUNS=${BENCH_RUNS:-3}
PROMPT=${BENCH_PROMPT:-512}
DECODE=${BENCH_DECODE:-32}
THREADS=${BENCH_THREADS:-2}
NLC_VERSION=3.22.1
PREFIX="$BUILD/llamacpp"

die() { echo "bench/llamacpp.sh: $*" >&2; exit 1; }

[ -x "$BUILD/gemmash" ] && [ -f "$BUILD/libengine.a" ] || die "$BUILD/gemmash is missing; run 'make' first"
mkdir -p "$BUILD/bench" bench/out
. bench/lib.sh
build_bench_model "$BUILD" "$CC" || die "cannot build bench/bench_model.c"

# llama.cpp: the pinned node-llama-cpp with its Linux x64 binaries, no build, no download
if ! grep -qs "\"version\": \"$NLC_VERSION\"" "$PREFIX/node_modules/node-llama-cpp/package.json" ||
   [ ! -d "$PREFIX/node_modules/@node-llama-cpp/linux-x64" ]; then
    echo "installing node-llama-cpp@$NLC_VERSION into $PREFIX ..."
    NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --prefix "$PREFIX" --no-audit --no-fund --no-package-lock \
        --omit=optional --ignore-scripts "node-llama-cpp@$NLC_VERSION" "@node-llama-cpp/linux-x64@$NLC_VERSION" \
        >"$BUILD/bench/npm.log" 2>&1 || die "npm install failed (registry unreachable?); see $BUILD/bench/npm.log"
fi

model="bench/out/$GEOM-L$LAYERS-bf16"
if [ ! -f "$model/config.json" ]; then
    echo "generating $model (once) ..."
    "$PYTHON" tests/pylib/gen_ckpt.py --out "$model" --geometry "$GEOM" --layers "$LAYERS" "${GEN_ARGS[@]}" \
        --dtype bf16 --layout released || die "gen_ckpt.py failed for $model"
fi

echo "== gemmash vs llama.cpp (node-llama-cpp $NLC_VERSION): $SHAPE, $LAYERS layers, random weights"
echo "   prefill $PROMPT tokens, decode $DECODE tokens, $THREADS threads, best of $RUNS runs (tokens/s)"
printf "%-8s %10s %10s %12s %12s %8s\n" type "gm prefill" "gm decode" "llama prefill" "llama decode" "MB"
for t in $TYPES; do
    gguf="bench/out/$GEOM-L$LAYERS-$t.gguf"
    if [ ! -f "$gguf" ]; then
        "$BUILD/gemmash" convert -m "$model" -o "$gguf" --type "$t" --threads "$THREADS" || die "convert to $t failed"
    fi
    # gemmash: best prefill and best decode over separate one-run processes
    best=$(for r in $(seq "$RUNS"); do
        "$BUILD/bench/bench_model" "$gguf" --threads "$THREADS" --runs 1 --decode "$DECODE" \
            --prompt "$PROMPT" --label x | awk '$1 == "x" { print $2, $3 }'
    done | awk '{ if ($1 > p) p = $1; if ($2 > d) d = $2 } END { printf "%.1f %.2f", p, d }')
    [ -n "$best" ] || die "bench_model failed on $gguf"
    job="$BUILD/bench/llamacpp_job.json"
    printf '{"threads": %d, "runs": [{"model": "%s", "bench": {"prefill": %d, "decode": %d, "runs": %d}}]}\n' \
        "$THREADS" "$gguf" "$PROMPT" "$DECODE" "$RUNS" >"$job"
    ll=$(node tests/gguf/llamacpp_ref.mjs "$PREFIX/node_modules" "$job" 2>"$BUILD/bench/llamacpp.log" |
         "$PYTHON" -c 'import json,sys; r=json.load(sys.stdin)["runs"][0]; b=r.get("bench")
print("%.1f %.2f" % (max(b["prefill_tps"]), max(b["decode_tps"])) if b else "failed failed")') ||
        ll="failed failed"
    mb=$(( $(stat -c %s "$gguf") / 1048576 ))
    printf "%-8s %10s %10s %12s %12s %8d\n" "$t" ${best} ${ll} "$mb"
done
