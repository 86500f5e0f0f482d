#!/usr/bin/env bash
# The short fuzz run of the default suite: every target for 5 seconds.
# `make fuzz` runs the same targets longer (FUZZ_SECONDS, default 60).
cd "$(dirname "$0")/../.." || exit 2
# -O0 compiles the sanitized libraries about twice as fast; the short run is a smoke test.
FUZZ_OPT=${FUZZ_OPT:--O0} FUZZ_SECONDS=${FUZZ_SHORT_SECONDS:-5} exec bash tests/fuzz/run.sh
