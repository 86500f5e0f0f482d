#!/usr/bin/env bash
# bench/quant.sh: figures for quantized weights.
#   1. Kernels (bench/qbench.c): GEMV GB/s and GEMM int8 GOP/s per weight type
#      and kernel path, against a streaming-read baseline and the measured
#      int8 peak of one core.  Needs no model.
#   2. Whole model (model_section): one checkpoint folder converted to bf16,
#      q8_0, q4_0 and q4_k_m GGUF files (once, into bench/out/), then prefill
#      and decode speed of each with bench/bench_model.c.  The folder is
#      QBENCH_MODEL, else the E2B-shaped one bench/run.sh generates
#      (bench/out/e2b-L6-bf16) when it exists; otherwise the section is skipped.
# Usage: bash bench/quant.sh [threads] [gemv_mib]   (after `make`)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
THREADS=${1:-${BENCH_THREADS:-0}}
mkdir -p "$BUILD/bench" bench/out
FLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iengine -Ibench -pthread"
LIBS="-lcurl -lcjson -lreadline -lseccomp -lm -lpthread"
$CC $FLAGS -mavx2 -mfma -c -o "$BUILD/bench/qpeak_avx2.o" bench/qpeak_avx2.c
$CC $FLAGS -mavx512f -mavx512bw -mavx512vnni -c -o "$BUILD/bench/qpeak_avx512.o" bench/qpeak_avx512.c
$CC $FLAGS -o "$BUILD/bench/qbench" bench/qbench.c "$BUILD/bench/qpeak_avx2.o" "$BUILD/bench/qpeak_avx512.o" \
    "$BUILD/libengine.a" $LIBS
echo "== quantized kernels"
"$BUILD/bench/qbench" "$@"

# Convert $1 to each type and time prefill/decode of each file.
model_section() {
    local src=$1 name
    name=$(basename "$src")
    $CC $FLAGS -o "$BUILD/bench/bench_model" bench/bench_model.c bench/measure.c "$BUILD/libengine.a" $LIBS
    echo
    echo "== model $name: prefill ${QBENCH_PROMPT:-512} tokens, decode ${QBENCH_DECODE:-16}, per weight type"
    local header=--header
    for t in bf16 q8_0 q4_0 q4_k_m; do
        local out="bench/out/$name-$t.gguf"
        [ -f "$out" ] || ./gemmash convert -m "$src" -o "$out" --type "$t" --threads "$THREADS"
        "$BUILD/bench/bench_model" "$out" --threads "$THREADS" --runs "${QBENCH_RUNS:-3}" \
            --prompt "${QBENCH_PROMPT:-512}" --decode "${QBENCH_DECODE:-16}" --label "$name $t" $header
        header=
    done
}

if [ -n "${QBENCH_MODEL:-}" ]; then
    model_section "$QBENCH_MODEL"
elif [ -f bench/out/e2b-L6-bf16/config.json ]; then
    model_section bench/out/e2b-L6-bf16
else
    echo
    echo "model section skipped: set QBENCH_MODEL=DIR, or run 'make bench' once to generate bench/out/e2b-L6-bf16"
fi
