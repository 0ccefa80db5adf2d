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
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libfvmm.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(SAN) -c -o $@ $<

$(BUILD)/libfvmm-san.a: $(SAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

guest:
	$(MAKE) -C guest BUILD=$(abspath $(BUILD))

tools: $(TOOL_BINS)

# A tool is every .c in tools/NAME/, linked against libfvmm.a so it can reuse
# host helpers (option parsing, logging) without copying them.
.SECONDEXPANSION:
$(TOOL_BINS): $(BUILD)/%: $$(wildcard tools/%/*.c) $(BUILD)/libfvmm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools/$* -o $@ $(filter %.c,$^) $(BUILD)/libfvmm.a $(LDLIBS) -lm

unit: $(UNIT_BINS)
$(UNIT_BINS): $(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libfvmm-san.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(SAN) -Itests/unit -o $@ $< $(BUILD)/libfvmm-san.a $(LDLIBS) -lcmocka

# Fuzz targets need clang's libFuzzer; the library is rebuilt with clang.
FUZZ_CC  := clang
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz: $(FUZZ_BINS)
$(FUZZ_BINS): $(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -DFVMM_VERSION=\"fuzz\" -o $@ $< $(LIB_SRCS) -lpthread -ljansson

check: all unit fuzz
	tests/run

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(BUILD)/obj/src/main.d
