#!/usr/bin/env bash
# bench/quant.sh: kernel-level figures for quantized weights (GEMV GB/s,
# GEMM int8 GOP/s per kernel path, int8 peak).  Run after `make`; called
# from bench/run.sh or on its own:  bash bench/quant.sh [threads] [gemv_mib]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
mkdir -p "$BUILD/bench"
CC=${CC:-cc}
FLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iengine -pthread"
$CC $FLAGS -mavx2 -mfma -c -o "$BUILD/bench/qpeak_avx2.o" bench/qpeak_avx2.c
$CC $FLAGS -mavx512f -mavx512bw -mavx512vnni -c -o "$BUILD/bench/qpeak_avx512.o" bench/qpeak_avx512.c
$CC $FLAGS -o "$BUILD/bench/qbench" bench/qbench.c "$BUILD/bench/qpeak_avx2.o" "$BUILD/bench/qpeak_avx512.o" \
    "$BUILD/libengine.a" -lcjson -lm -lpthread
echo "== quantized kernels"
"$BUILD/bench/qbench" "$@"
