# fvmm top-level build.
#
# Sources are found by globbing so that adding a file never needs an edit
# here: every src/**/*.c except src/main.c goes into libfvmm.a, which the VMM,
# the unit tests and the fuzz targets all link.  Each tools/NAME/ directory
# becomes build/NAME; each tests/unit/test_*.c becomes one cmocka binary.

CC       ?= gcc
BUILD    := build
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wpointer-arith -Wvla
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -DFVMM_VERSION=\"$(VERSION)\" \
	    -Isrc -MMD -MP -fno-strict-aliasing
LDLIBS   := -lpthread -ljansson

# Quiet by default; `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRCS := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)

TOOLS    := $(notdir $(patsubst %/,%,$(dir $(wildcard tools/*/Makefile.inc tools/*/*.c))))
TOOLS    := $(sort $(TOOLS))
TOOL_BINS:= $(TOOLS:%=$(BUILD)/%)

UNIT_SRCS:= $(wildcard tests/unit/test_*.c)
UNIT_BINS:= $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRCS:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS:= $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all guest unit fuzz check clean tools
all: $(BUILD)/fvmm guest tools

$(BUILD)/fvmm: $(BUILD)/obj/src/main.o $(BUILD)/libfvmm.a
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libfvmm.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC-SAN,$<)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) -c -o $@ $<

$(BUILD)/libfvmm-san.a: $(SAN_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

guest:
	$(MAKE) -C guest BUILD=$(abspath $(BUILD))

tools: $(TOOL_BINS)

# A tool is every .c in tools/NAME/, linked against libfvmm.a so it can reuse
# host helpers (option parsing, logging) without copying them.
.SECONDEXPANSION:
$(TOOL_BINS): $(BUILD)/%: $$(wildcard tools/%/*.c) $(BUILD)/libfvmm.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -Itools/$* -o $@ $(filter %.c,$^) $(BUILD)/libfvmm.a $(LDLIBS) -lm

unit: $(UNIT_BINS)
$(UNIT_BINS): $(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libfvmm-san.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) -Itests/unit -o $@ $< $(BUILD)/libfvmm-san.a $(LDLIBS) -lcmocka

# Fuzz targets need clang's libFuzzer; the library is rebuilt once with
# clang and fuzzer instrumentation, then each target links against it.
FUZZ_CC    := clang
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -DFVMM_VERSION=\"fuzz\" -Isrc \
	      -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
fuzz: $(FUZZ_BINS)
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC-FUZ,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
$(BUILD)/libfvmm-fuzz.a: $(FUZZ_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^
$(FUZZ_BINS): $(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libfvmm-fuzz.a
	@mkdir -p $(dir $@)
	$(call say,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(BUILD)/libfvmm-fuzz.a -lpthread -ljansson

check:
	tests/run

clean:
	rm -rf $(BUILD)

# Test and fuzz binaries are compiled and linked in one step; their .d files
# name the shared test headers, so editing one rebuilds its users.
-include $(LIB_OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(BUILD)/obj/src/main.d \
	 $(UNIT_BINS:=.d) $(FUZZ_BINS:=.d)
