# bench/lib.sh: build steps the bench scripts share (sourced, not run).

# build_bench_model BUILD CC "CFLAGS" "LIBS": $BUILD/bench/bench_model from
# bench_model.c, measure.c, int8peak.c and the two int8 peak loops, each
# compiled with its ISA flags.  Returns non-zero if any step fails.
build_bench_model() {
    local build=$1 cc=$2 cf=$3 libs=$4
    mkdir -p "$build/bench" || return 1
    # shellcheck disable=SC2086
    $cc $cf -mavx2 -mfma -c -o "$build/bench/qpeak_avx2.o" bench/qpeak_avx2.c &&
    $cc $cf -mavx512f -mavx512bw -mavx512vnni -c -o "$build/bench/qpeak_avx512.o" bench/qpeak_avx512.c &&
    $cc $cf -o "$build/bench/bench_model" bench/bench_model.c bench/measure.c bench/int8peak.c \
        "$build/bench/qpeak_avx2.o" "$build/bench/qpeak_avx512.o" "$build/libengine.a" $libs
}
