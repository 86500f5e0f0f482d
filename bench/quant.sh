#!/usr/bin/env bash
# bench/quant.sh: figures for quantized weights.
#   1. Kernels (bench/qbench.c): GEMV GB/s and GEMM int8 GOP/s per weight type
#      and kernel path, against a streaming-read baseline and the measured
#      int8 peak of one core.  Needs no model.
#   2. Whole model (model_section): one checkpoint folder converted to bf16,
#      q8_0, q4_0, q4_k_m, q5_k_m, q3_k_m and iq4_xs GGUF files (once, into
#      bench/out/; the last two read in place by row kernels), then prefill
#      and decode speed of each with bench/bench_model.c, and of the folder
#      quantized at load (--quant, the packed tiles); prefill also as a
#      fraction of the int8 peak measured before each prefill.  The folder is
#      QBENCH_MODEL, else the E2B-shaped one bench/run.sh generates
#      (bench/out/e2b-L6-bf16) when it exists; otherwise the section is skipped.
# Usage: bash bench/quant.sh [threads] [gemv_mib]   (after `make`)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
THREADS=${1:-${BENCH_THREADS:-0}}
mkdir -p "$BUILD/bench" bench/out
. bench/lib.sh
build_with_int8peak "$BUILD" "$CC" qbench
echo "== quantized kernels"
"$BUILD/bench/qbench" "$@" | tee "$BUILD/bench/qbench.log"
# One bench_model run: its %int8 column reads prefill against the int8
# peak measured right before each prefill (int8peak.c).
model_run() {
    "$BUILD/bench/bench_model" "$@" --threads "$THREADS" --runs "${QBENCH_RUNS:-3}" \
        --prompt "${QBENCH_PROMPT:-512}" --decode "${QBENCH_DECODE:-16}"
}

# Convert $1 to each type and time prefill/decode of each file (row layout,
# mapped as it is), then the same checkpoint quantized at load (--quant;
# repacked into 16-row tiles on AVX-512 VNNI CPUs).
model_section() {
    local src=$1 name
    name=$(basename "$src")
    build_bench_model "$BUILD" "$CC"
    echo
    echo "== model $name: prefill ${QBENCH_PROMPT:-512} tokens, decode ${QBENCH_DECODE:-16}, per weight type"
    local header=--header
    for t in bf16 q8_0 q4_0 q4_k_m q5_k_m q3_k_m iq4_xs; do
        local out="bench/out/$name-$t.gguf"
        [ -f "$out" ] || ./gemmash convert -m "$src" -o "$out" --type "$t" --threads "$THREADS"
        model_run "$out" --label "$name $t file" $header
        header=
    done
    for t in q8_0 q4_0 q4_k q5_k; do
        model_run "$src" --quant "$t" --label "$name $t at load"
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
