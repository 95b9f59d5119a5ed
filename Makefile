# shrike: one non-recursive Makefile.
#   make              build/shrike, the test kernels and the unit tests
#   make demo         build and run the demo kernel on 2 vCPUs
#   make check        run every test; ends with "N passed, N failed, N skipped"
#                     (inside the nested test VM where /dev/kvm is missing)
#   make check-nested the same, inside the nested test VM on any host
#   make check-asan   the same tests with AddressSanitizer + UBSan (build-asan/)
#   make check-tsan   the concurrency suites under ThreadSanitizer (build-tsan/)
#   make fuzz         the libFuzzer targets, FUZZ_SECONDS each (build-fuzz/)
#   make check-linux  Linux guest boots (minutes where KVM emulates kernel code)
#   make check-long   those and the other long tests
#   make bench        benchmarks (bench/README.md)
#   make bench-nested Linux to init, shrike and QEMU microvm, in the nested test VM
#   make bench-nested-blk  virtio-blk, shrike and QEMU, in the nested test VM
#   make bench-nested-vsock  vsock throughput, shrike and QEMU, likewise
#   make bench-nested-net  TCP throughput and round trips, shrike and QEMU, likewise
#   V=1               show the commands

BUILD ?= build
SAN ?= 0
CC := gcc
LD := ld
OBJCOPY := objcopy

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wundef -Wvla -Wwrite-strings -Wcast-qual \
	-Wold-style-definition -Wredundant-decls -Wnull-dereference
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -Isrc -pthread -MMD -MP
HOST_LDFLAGS := -pthread
# The decompressors and nettle are linked statically: each shared library
# costs the dynamic loader about 0.1 ms at every start, and a small VM's
# whole life is a few milliseconds.  (Debian ships no static libZydis.)
HOST_LIBS := -Wl,-Bstatic -llz4 -lz -llzma -lzstd -lbz2 -lnettle -lseccomp -luring -Wl,-Bdynamic -lZydis
# ThreadSanitizer (make check-tsan): the concurrency suites.
ifeq ($(TSAN),1)
HOST_CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
HOST_LDFLAGS += -fsanitize=thread
endif
# Sanitizer builds run without the seccomp sandbox by default
# (core/sandbox.c: LeakSanitizer's exit check and ThreadSanitizer's helper
# thread make calls no VMM thread needs); its own tests are skipped there.
ifeq ($(SAN),1)
HOST_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
HOST_LDFLAGS += -fsanitize=address,undefined
endif

# ---- what the build needs (scripts/deps.sh installs it, or says how) ----
DEPS_OK := $(BUILD)/.deps-ok
$(DEPS_OK): scripts/deps.sh
	$(Q)scripts/deps.sh build
	@mkdir -p $(dir $@) && touch $@

# ---- the VMM ----
LIB_SRCS := $(wildcard src/*/*.c src/*/*/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libshrike.a

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

# The layers of src/ (scripts/check-layers.sh, DEVELOPERS.md), checked
# whenever a source changes: a wrong include fails the build.
LAYERS_OK := $(BUILD)/.layers-ok
$(LAYERS_OK): scripts/check-layers.sh $(wildcard src/*/*.[ch] src/*/*/*.[ch])
	$(Q)scripts/check-layers.sh
	@mkdir -p $(dir $@) && touch $@

$(LIB): $(LIB_OBJS) | $(LAYERS_OK)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/shrike: $(BUILD)/src/main.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(HOST_LIBS)

# ---- fuzzing: libFuzzer targets (fuzz/*.c), built with clang (FUZZ=1) ----
ifeq ($(FUZZ),1)
HOST_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard fuzz/*.c))
$(BUILD)/fuzz/%: fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(HOST_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB) $(HOST_LIBS)
fuzz-bins: $(FUZZ_BINS)
endif

# ---- test kernels (guest/): freestanding, 64-bit code in a multiboot ELF32 ----
GUEST_CFLAGS := -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-fno-builtin -mno-red-zone -mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 \
	-fcf-protection=none -fno-asynchronous-unwind-tables -mcmodel=small \
	$(WARN) -Wno-missing-prototypes -Iguest/lib -MMD -MP
GUEST_ASFLAGS := -Iguest/lib -MMD -MP
GUEST_RT_SRCS := $(wildcard guest/lib/*.c) guest/lib/start.S
GUEST_RT_OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(GUEST_RT_SRCS)))
GUEST_TESTS := $(basename $(notdir $(wildcard guest/tests/*.c)))
GUEST_KERNELS := $(GUEST_TESTS:%=$(BUILD)/guest/%.elf) $(BUILD)/guest/hello-aout.elf \
	$(BUILD)/guest/hello-aout.bin $(BUILD)/guest/flat-hello.bin

$(BUILD)/guest/%.o: guest/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTCC $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: guest/%.S | $(DEPS_OK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUESTAS $@")
	$(Q)$(CC) $(GUEST_ASFLAGS) -c $< -o $@

$(BUILD)/guest/lib/start-aout.o: guest/lib/start.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(GUEST_ASFLAGS) -DMULTIBOOT_AOUT_KLUDGE -c $< -o $@

# Link as ELF64, then convert to ELF32: multiboot loaders (QEMU's too)
# take 32-bit ELF files; the 64-bit code inside does not care.
$(BUILD)/guest/%.elf: $(BUILD)/guest/tests/%.o $(GUEST_RT_OBJS) guest/lib/kernel.ld
	@$(if $(Q),echo "  GUESTLD $@")
	$(Q)$(LD) -nostdlib -static -z max-page-size=0x1000 -T guest/lib/kernel.ld \
		--no-warn-rwx-segments --no-warn-execstack -o $@.64 $(filter %.o,$^)
	$(Q)$(OBJCOPY) -O elf32-i386 $@.64 $@

GUEST_RT_AOUT_OBJS := $(filter-out %/start.o,$(GUEST_RT_OBJS)) $(BUILD)/guest/lib/start-aout.o
$(BUILD)/guest/hello-aout.elf: $(BUILD)/guest/tests/hello.o $(GUEST_RT_AOUT_OBJS) guest/lib/kernel.ld
	$(Q)$(LD) -nostdlib -static -z max-page-size=0x1000 -T guest/lib/kernel.ld \
		--no-warn-rwx-segments --no-warn-execstack -o $@ $(filter %.o,$^)

# The a.out-kludge form as a raw image: the header carries the addresses.
$(BUILD)/guest/hello-aout.bin: $(BUILD)/guest/hello-aout.elf
	$(Q)$(OBJCOPY) -O binary $< $@

$(BUILD)/guest/flat-hello.bin: guest/flat/hello.S
	@mkdir -p $(dir $@)
	$(Q)$(CC) -c -o $@.o $<
	$(Q)$(LD) -Ttext=0 --oformat=binary -o $@ $@.o

# ---- tests ----
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HOST_TEST_SRCS := $(wildcard tests/host/*.c)
HOST_TEST_BINS := $(HOST_TEST_SRCS:tests/host/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(HOST_CFLAGS) -Itests -Itests/unit -o $@ $< $(LIB) $(HOST_LDFLAGS) $(HOST_LIBS)

$(BUILD)/tests/%: tests/host/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(HOST_CFLAGS) -Itests -Itests/unit -o $@ $< $(LIB) $(HOST_LDFLAGS) $(HOST_LIBS)

all: $(BUILD)/shrike $(GUEST_KERNELS) $(UNIT_BINS) $(HOST_TEST_BINS)

# Where /dev/kvm is missing (or with make check-nested anywhere), the tests
# that need KVM run inside the nested test VM (tests/nested/: QEMU's TCG with
# AMD-V, a Debian kernel with kvm-amd), so that they test shrike on a KVM
# with hardware semantics instead of being skipped (tests/check.sh).
check: all
	$(Q)scripts/deps.sh test
	$(Q)BUILD=$(BUILD) tests/check.sh

check-nested: all
	$(Q)scripts/deps.sh test
	$(Q)BUILD=$(BUILD) tests/check.sh --nested

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan SAN=1 check

# The state engine, reset storms and SMP under ThreadSanitizer; setarch -R
# because TSan's memory layout does not fit a fully randomized one.
check-tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-tsan TSAN=1 all
	$(Q)BUILD=build-tsan SUITES_ONLY="foundation state reset irqchip control gdb" TSAN=1 \
		tests/check.sh setarch -R tests/run.sh

# Linux guests, and other tests that take minutes on a KVM back-end that
# emulates kernel code.
check-linux: all
	$(Q)BUILD=$(BUILD) SUITES_ONLY=linux tests/check.sh

check-long: all
	$(Q)BUILD=$(BUILD) SUITES_ONLY="long linux" tests/check.sh

# Where /dev/kvm is missing, the demo runs inside the nested test VM.
DEMO := $(BUILD)/shrike run --kernel $(BUILD)/guest/demo.elf --cpus 2 --stats
demo: $(BUILD)/shrike $(BUILD)/guest/demo.elf
	$(Q)if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then $(DEMO); else \
		echo "make demo: /dev/kvm is missing here: the demo runs inside the nested test VM (tests/nested/)"; \
		scripts/deps.sh nested && tests/nested/run.py --timeout 600 -- $(DEMO); fi

bench: all
	$(Q)BUILD=$(BUILD) bench/run.sh

# Linux to init's first output, shrike against QEMU microvm, on the nested
# test VM's KVM (one that runs guest user space, on any host).
check-layers:
	$(Q)scripts/check-layers.sh && echo "layers: every include follows DEVELOPERS.md's rule"

bench-nested: all
	$(Q)BUILD=$(BUILD) tests/nested/run.py --env RUNS --env LIMIT --timeout 5400 -- bench/linux-init.sh

# The nested VM at one CPU: at two, QEMU's guest with virtio-blk-pci never
# got past its first kernel lines (QEMU 7.2 TCG's twice-delivered
# interrupt, tests/tools/linux_userspace.py TCG_DOUBLE_DELIVERY, is the
# likely cause); at one it boots.
bench-nested-blk: all
	$(Q)BUILD=$(BUILD) tests/nested/run.py --cpus 1 --env RUNS --env SECS --env LIMIT \
		--timeout 5400 -- bench/virtio-blk.sh

# TCP both ways and ping round trips, shrike and QEMU's virtio-net-pci with
# vhost off and on, at one CPU likewise.
bench-nested-net: all
	$(Q)BUILD=$(BUILD) tests/nested/run.py --cpus 1 --env RUNS --env MB --env LIMIT \
		--timeout 5400 -- bench/net.sh

# vsock throughput, shrike (both host sides) and QEMU's vhost-vsock-pci, at
# one CPU for the same reason.
bench-nested-vsock: all
	$(Q)BUILD=$(BUILD) tests/nested/run.py --cpus 1 --env RUNS --env MB --env LIMIT \
		--timeout 5400 -- bench/vsock.sh

# make fuzz: every target for FUZZ_SECONDS (default 60) from seed corpora
# the build makes (scripts/fuzz.sh); make check runs each for a few seconds.
fuzz: all
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-60} scripts/fuzz.sh

clean:
	rm -rf build build-asan build-fuzz build-tsan

.PHONY: all bench-nested bench-nested-blk bench-nested-net bench-nested-vsock check check-layers check-nested check-asan check-tsan check-linux check-long demo bench clean fuzz fuzz-bins
.DEFAULT_GOAL := all
# Keep the test kernels' objects (intermediates of the .elf pattern rule);
# a bare .SECONDARY: would also stop make from rebuilding missing objects.
.SECONDARY: $(GUEST_TESTS:%=$(BUILD)/guest/tests/%.o)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
