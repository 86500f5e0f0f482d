# bench/lib.sh: what the bench scripts share (sourced, not run): the flags
# their C programs are built with, and the build steps used by more than one.

BENCH_CF="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O2 -pthread -fno-strict-aliasing -Iengine -Ibench"
BENCH_LIBS="-lcurl -lcjson -lreadline -lseccomp -lm -lpthread"

# build_qpeak BUILD CC: the two int8 peak loops, each with its ISA flags,
# into $BUILD/bench/qpeak_{avx2,avx512}.o.
build_qpeak() {
    local build=$1 cc=$2
    mkdir -p "$build/bench" || return 1
    # shellcheck disable=SC2086
    $cc $BENCH_CF -mavx2 -mfma -c -o "$build/bench/qpeak_avx2.o" bench/qpeak_avx2.c &&
    $cc $BENCH_CF -mavx512f -mavx512bw -mavx512vnni -c -o "$build/bench/qpeak_avx512.o" bench/qpeak_avx512.c
}

# build_with_int8peak BUILD CC NAME: $BUILD/bench/NAME from bench/NAME.c with
# measure.c, int8peak.c and the peak loops (built first).
build_with_int8peak() {
    local build=$1 cc=$2 name=$3
    build_qpeak "$build" "$cc" || return 1
    # shellcheck disable=SC2086
    $cc $BENCH_CF -o "$build/bench/$name" "bench/$name.c" bench/measure.c bench/int8peak.c \
        "$build/bench/qpeak_avx2.o" "$build/bench/qpeak_avx512.o" "$build/libengine.a" $BENCH_LIBS
}

# build_bench_model BUILD CC: $BUILD/bench/bench_model.
build_bench_model() { build_with_int8peak "$1" "$2" bench_model; }
