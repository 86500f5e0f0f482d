#!/usr/bin/env bash
# The short fuzz run of the default suite: every target for 5 seconds.
# `make fuzz` runs the same targets longer (FUZZ_SECONDS, default 60).
cd "$(dirname "$0")/../.." || exit 2
FUZZ_SECONDS=${FUZZ_SHORT_SECONDS:-5} exec bash tests/fuzz/run.sh
