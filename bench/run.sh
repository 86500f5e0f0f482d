#!/usr/bin/env bash
# bench/run.sh: the benchmark table (`make bench`).
#
# 1. Builds the bench programs against $BUILD/libengine.a with the project's flags.
# 2. Machine limits: streaming read/copy bandwidth and FMA peak (bench/membw.c).
# 3. Kernel level (bench/bench_kernels.c): GEMV at the LM head and MLP sizes,
#    512-token GEMM, per kernel family; then (bench/bench_layers.c) every
#    matrix product of an E2B-shaped pass: decode roofline ratio and prefill
#    fraction of FMA peak for the kernels alone.  Works without a model.
# 4. Whole model (bench/bench_model.c): a checkpoint with real E2B dimensions
#    and random BF16 weights, generated once into bench/out/, BENCH_LAYERS
#    layers deep; prefill of 512 tokens and decode, medians of BENCH_RUNS;
#    then Q4_0 at a long context (BENCH_LONG tokens, default 4096) with the
#    KV cache in f32 and in f16 (the default), where the cache's bytes count.
#
# Knobs: BENCH_LAYERS (6), BENCH_RUNS (3), BENCH_DECODE (16 tokens), BENCH_LONG (4096; 0 skips),
#        BENCH_THREADS (0 = physical cores), BENCH_KERNELS=0 skips step 3.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
LAYERS=${BENCH_LAYERS:-6}
RUNS=${BENCH_RUNS:-3}
DECODE=${BENCH_DECODE:-16}
THREADS=${BENCH_THREADS:-0}
. bench/lib.sh

if [ ! -f "$BUILD/libengine.a" ]; then
    echo "bench: $BUILD/libengine.a is missing; run 'make' first (make bench does)" >&2
    exit 1
fi
mkdir -p "$BUILD/bench" bench/out
for prog in membw bench_kernels bench_layers; do
    $CC $BENCH_CF -o "$BUILD/bench/$prog" "bench/$prog.c" bench/measure.c "$BUILD/libengine.a" $BENCH_LIBS || {
        echo "bench: cannot build bench/$prog.c (see the compiler message above)" >&2; exit 1; }
done

echo "== machine"
echo "cores: $(nproc) online;" \
     "ISA flags: $(grep -o -w -E 'avx2|fma|f16c|avx512f|avx512bw|avx512_bf16|avx512_vnni|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$BUILD/bench/membw" --threads "$THREADS" || exit 1

if [ "${BENCH_KERNELS:-1}" != 0 ]; then
    echo
    echo "== kernels (medians of $RUNS)"
    "$BUILD/bench/bench_kernels" --threads "$THREADS" --runs "$RUNS" || exit 1
    echo
    echo "== kernels in an E2B-shaped pass ($LAYERS layers, matrix products only)"
    "$BUILD/bench/bench_layers" --threads "$THREADS" --runs "$RUNS" --layers "$LAYERS" || exit 1
fi

echo
echo "== model: Gemma 4 E2B dimensions, $LAYERS layers, random BF16 weights"
if ! build_bench_model "$BUILD" "$CC" 2>"$BUILD/bench/bench_model.log"; then
    echo "model bench skipped: bench_model does not link against this engine yet" \
         "(no forward pass?); see $BUILD/bench/bench_model.log"
    exit 0
fi
model="bench/out/e2b-L$LAYERS-bf16"
if [ ! -f "$model/config.json" ]; then
    if [ ! -f tests/pylib/gen_ckpt.py ]; then
        echo "model bench skipped: tests/pylib/gen_ckpt.py (the checkpoint generator) is not in this tree"
        exit 0
    fi
    echo "generating $model (once) ..."
    "$PYTHON" tests/pylib/gen_ckpt.py --out "$model" --geometry e2b --layers "$LAYERS" \
        --dtype bf16 --layout released || { echo "bench: gen_ckpt.py failed for $model" >&2; exit 1; }
fi
"$BUILD/bench/bench_model" "$model" --threads "$THREADS" --runs "$RUNS" --decode "$DECODE" \
    --prompt 512 --label "e2b-L$LAYERS bf16" --header
# the same checkpoint quantized at load (the Q4_K and Q5_K mixes are llama.cpp's Q4_K_M and Q5_K_M;
# q3_k (the Q3_K_M mix) and iq4_xs are read in place by the row kernels)
for q in ${BENCH_QUANTS:-q8_0 q4_0 q4_k q5_k q3_k iq4_xs}; do
    "$BUILD/bench/bench_model" "$model" --threads "$THREADS" --runs "$RUNS" --decode "$DECODE" \
        --prompt 512 --label "e2b-L$LAYERS $q" --quant "$q" || exit 1
done
# a long context: the KV cache read by every decode step, as f32 and as f16
LONG=${BENCH_LONG:-4096}
if [ "$LONG" != 0 ]; then
    for kv in f32 f16; do
        "$BUILD/bench/bench_model" "$model" --threads "$THREADS" --runs "$RUNS" --decode "$DECODE" \
            --prompt "$LONG" --label "e2b-L$LAYERS q4_0 ${LONG} $kv" --quant q4_0 --kv-type "$kv" || exit 1
    done
fi
# speculative decoding: verify-pass cost and projected speedups
if [ "${BENCH_MTP:-1}" != 0 ] && [ -f bench/mtp.sh ]; then
    echo
    bash bench/mtp.sh || exit 1
fi
