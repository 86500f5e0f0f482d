# gemmash build.
#
# Each top-level folder is one static library with one public header:
#   engine/  -> libengine.a   (model loading, tokenizer, chat format, forward pass, sampling)
#   sandbox/ -> libsandbox.a  (Landlock + seccomp + rlimits fence)
#   tools/   -> libtools.a    (the tools the model may call; uses sandbox)
#   agent/   -> libagent.a    (the agent loop, shell, headless mode; uses engine and tools)
# agent/main.c is the gemmash binary.  Sources are found by wildcard, so adding a
# file to a folder needs no Makefile edit.  Files named *_avx2.c, *_avx512.c and
# *_avxvnni.c get the instruction-set flags they need; the engine picks the
# kernel at run time, so the binary runs on any x86-64.

CC      ?= cc
BUILD   ?= build
PYTHON  ?= /usr/bin/python3
OPT     ?= -O2
SAN     ?=
# -fno-math-errno: nothing reads errno after a math call, and without it
# lrintf/sqrtf are library calls in the quantizers' inner loops.
# -ffp-contract=off: a * b + c stays two roundings unless the code asks for
# fma; the kernel paths agree bit for bit only if no compiler fuses on its
# own (GCC's ISO mode already does not, clang's does by default).
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) $(SAN) -pthread \
                 -fno-strict-aliasing -fno-math-errno -ffp-contract=off -Iengine -Isandbox -Itools -Iagent
CFLAGS  ?=
LDLIBS  := -lcurl -lcjson -lreadline -lseccomp -lm -lpthread

ENGINE_SRC  := $(sort $(wildcard engine/*.c engine/cpu/*.c))
SANDBOX_SRC := $(sort $(wildcard sandbox/*.c))
TOOLS_SRC   := $(sort $(wildcard tools/*.c))
AGENT_SRC   := $(sort $(filter-out agent/main.c,$(wildcard agent/*.c)))
PROMPT_MD   := $(sort $(wildcard prompts/*.md))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBS := $(BUILD)/libagent.a $(BUILD)/libtools.a $(BUILD)/libsandbox.a $(BUILD)/libengine.a

TEST_C    := $(sort $(wildcard tests/*/test_*.c))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_C))

.PHONY: all deps run test test-long bench asan fuzz clean tests-bin

all: gemmash

gemmash: $(BUILD)/gemmash
	@rm -f $@ && cp $< $@

$(BUILD)/gemmash: $(call obj,agent/main.c) $(LIBS)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libengine.a:  $(call obj,$(ENGINE_SRC))
$(BUILD)/libsandbox.a: $(call obj,$(SANDBOX_SRC))
$(BUILD)/libtools.a:   $(call obj,$(TOOLS_SRC))
$(BUILD)/libagent.a:   $(call obj,$(AGENT_SRC)) $(call obj,$(BUILD)/gen/prompts.c)

# The system prompts are embedded in the binary (prompts/*.md -> C strings).
$(BUILD)/gen/prompts.c: $(PROMPT_MD) prompts/embed.sh
	@mkdir -p $(dir $@)
	sh prompts/embed.sh $@ $(PROMPT_MD)

$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

ISA_FLAGS_avx2    := -mavx2 -mfma -mf16c
ISA_FLAGS_avxvnni := -mavx2 -mfma -mf16c -mavxvnni
ISA_FLAGS_avx512  := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16 -mfma -mf16c -mavx2
isa = $(strip $(if $(findstring _avx512.,$(1)),$(ISA_FLAGS_avx512),$(if $(findstring _avxvnni.,$(1)),$(ISA_FLAGS_avxvnni),$(if $(findstring _avx2.,$(1)),$(ISA_FLAGS_avx2),))))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) $(call isa,$<) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIBS) tests/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) -Itests -o $@ $< $(LIBS) $(LDLIBS)

tests-bin: $(TEST_BINS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Install the Debian packages the build and the tests need (only missing ones).
deps:
	@bash .ci/deps.sh

# The main job: make sure the build works, then start the interactive agent.
run: deps all
	./gemmash $(ARGS)

# The default test suite (under 10 minutes on 2 cores).  T=pattern runs a subset.
test: all tests-bin
	@BUILD=$(BUILD) PYTHON=$(PYTHON) bash tests/run.sh $(T)

# Long runs: bigger generated models, longer fuzzing.
test-long: all tests-bin
	@BUILD=$(BUILD) PYTHON=$(PYTHON) GEMMASH_LONG=1 bash tests/run.sh $(T)

bench: all
	@BUILD=$(BUILD) PYTHON=$(PYTHON) bash bench/run.sh

# Same suite, built with AddressSanitizer and UBSan into its own folder.
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" build-asan/gemmash tests-bin
	@TEST_TIMEOUT=$${TEST_TIMEOUT:-1800} ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 BUILD=build-asan GEMMASH_BIN=build-asan/gemmash PYTHON=$(PYTHON) bash tests/run.sh $(T)

fuzz:
	@BUILD=$(BUILD) FUZZ_SECONDS=$${FUZZ_SECONDS:-60} bash tests/fuzz/run.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz gemmash
