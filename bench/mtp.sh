#!/usr/bin/env bash
# bench/mtp.sh: the cost side of speculative decoding on this machine.
#
# Measures, on a CPU bench model (random weights, so acceptance is not
# measured): one target pass over K+1 tokens relative to one decode step,
# and one drafter step relative to one decode step; then prints the
# projected speedup per model size from the published per-position
# acceptance (gemma4-mtp.md §11) and each size's real drafter/target weight
# ratio (computed here from the real geometries).
#
# Environment: MODEL (a checkpoint folder; default: bench/run.sh's E2B model
# bench/out/e2b-L6-bf16 if it exists, else an E2B-shaped model with
# 5 layers and a 32768-token vocabulary, generated once under
# $BUILD/bench-models: small enough for a shared 2-core machine), DRAFT (its
# drafter; default: a generated E2B-shaped drafter with the clustered head),
# THREADS (default 2), REPS (default 7; the fastest counts).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
REPS=${REPS:-7}
make -s -j2 "$BUILD/libengine.a"
bin="$BUILD/bench/mtp_bench"
mkdir -p "$BUILD/bench"
cc -std=c11 -D_GNU_SOURCE -O2 -g -pthread -Iengine -Wall -Wextra -Werror -o "$bin" bench/mtp_bench.c \
    "$BUILD/libengine.a" -lcjson -lm -lpthread

models="$BUILD/bench-models"
if [ -z "${MODEL:-}" ] && [ -f "bench/out/e2b-L${BENCH_LAYERS:-6}-bf16/config.json" ]; then
    MODEL="bench/out/e2b-L${BENCH_LAYERS:-6}-bf16"     # the model bench/run.sh generates, if it is there
fi
if [ -z "${MODEL:-}" ]; then
    MODEL="$models/e2b-l5-v32k"
    if [ ! -f "$MODEL/config.json" ]; then
        echo "# generating the bench model $MODEL (once)"
        "$PYTHON" tests/pylib/gen_ckpt.py --out "$MODEL" --geometry e2b --layers 5 --set vocab=32768 \
            --layout text --dtype bf16 --seed 1 >/dev/null
    fi
fi
if [ -z "${DRAFT:-}" ]; then
    DRAFT="$MODEL-bench-assistant"
    if [ ! -f "$DRAFT/config.json" ]; then
        "$PYTHON" tests/pylib/gen_assistant.py --target "$MODEL" --out "$DRAFT" --hidden 256 --mlp 2048 \
            --heads 4 --centroids 2048 --top-k 32 --seed 1 >/dev/null
    fi
fi

# drafter/target multiply-adds per token for the real sizes (embedding lookups excluded,
# tied head counted once, experts at top-k of E; drafters as released, gemma4-mtp.md §1-2)
ratios=$("$PYTHON" - <<'PY'
import sys
sys.path.insert(0, "tests/pylib")
import numpy as np
import gen_ckpt, gen_assistant

def target_macs(geo):
    t = 0
    for name, shape, _ in gen_ckpt.tensor_specs(geo):
        if len(shape) < 2 or name == "embed_tokens_per_layer.weight":
            continue
        n = int(np.prod(shape))
        if name.endswith("experts.gate_up_proj") or name.endswith("experts.down_proj"):
            n = n * geo["top_k"] // geo["experts"]
        t += n
    return t

def drafter_macs(geo, d, mlp, heads, clustered):
    t = 0
    for name, shape, _ in gen_assistant.tensor_specs(geo, d, mlp, heads, 2048 if clustered else 0):
        if len(shape) < 2:
            continue
        n = int(np.prod(shape))
        if name == "model.embed_tokens.weight" and clustered:
            n = 32 * (geo["vocab"] // 2048) * d      # only the 32 selected clusters are scored
        t += n
    return t

out = []
for size, preset, d, mlp, heads, cl in (("E2B", "e2b", 256, 2048, 4, True), ("E4B", "e4b", 256, 2048, 4, True),
                                        ("26B-A4B", "26b", 1024, 8192, 16, False), ("31B", "31b", 1024, 8192, 32, False)):
    geo = gen_ckpt.geometry(preset)
    out.append("%s:%.5f" % (size, drafter_macs(geo, d, mlp, heads, cl) / target_macs(geo)))
print(" ".join(out))
PY
)
"$bin" "$MODEL" "$DRAFT" "$THREADS" "$REPS" $ratios
