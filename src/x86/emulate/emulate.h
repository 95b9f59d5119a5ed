/*
 * Completing what KVM's instruction emulator cannot.
 *
 * On KVM back-ends that emulate guest kernel code (kvm_pvm, or any set-up
 * without hardware virtualization), KVM gives up on instructions its
 * emulator lacks and exits with KVM_EXIT_INTERNAL_ERROR, suberror 1 and the
 * instruction's bytes.  shrike decodes them (Debian's libzydis) and, for
 * the instructions it knows, carries them out on the vCPU's state and guest
 * memory with the architecture's semantics (flags, faults), then re-enters.
 *
 * State goes through the state engine (cause "emulate"): the general
 * registers (free with KVM_CAP_SYNC_REGS), sregs for the mode and the
 * page tables, the FPU only for x87 instructions, MSRs only for RDTSCP and
 * RDPID; what changed is written back by the next RUNTIME put.  Faults are
 * injected as hardware raises them (#UD for what the guest's CPUID does
 * not offer, #GP, #PF with CR2 and the error code, #NM, #MF); a completed
 * instruction under RFLAGS.TF raises the single-step #DB.
 *
 * Writes shrike makes to guest memory (CMPXCHG16B, a pushed x87 register
 * is not memory, accessed/dirty bits) go through the host mapping of the
 * page: they bypass KVM's write tracking, and no KVM interface makes them
 * safe on pages KVM write-protects (the guest's page tables, under shadow
 * paging).  Guests do not use these instructions on page tables; if one
 * did, KVM's shadow copy would be stale.
 */
#ifndef SHRIKE_EMULATE_H
#define SHRIKE_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "x86/cpustate.h"

struct guest_mem;
struct kvm_cpuid2;
struct emu_stats;

/*
 * What the emulator needs from the machine, and all it may touch (Cloud
 * Hypervisor's PlatformEmulator, in C): the vCPU's state through the state
 * engine's cache and calls, guest RAM, MMIO, the guest's CPUID.  The core
 * fills one in for the vCPU that exited (core/exits.c); a test fills one in
 * with fakes (tests/unit/emulate_test.c), no VM needed.
 */
struct emu_platform {
	void *opaque;                      /* the callbacks' */
	struct cpu_state *state;           /* the state engine's cache (x86/cpustate.h) */
	const struct kvm_cpuid2 *cpuid;    /* what the guest's CPUID says */
	const struct guest_mem *mem;       /* RAM, through its host mapping */
	char *origin;                      /* room for "emulate:<mnemonic>" (trace origin), */
	size_t origin_len;                 /* living as long as the vCPU */
	/* The state engine: fetch classes (CPU_MASK bits) from KVM if not
	 * valid (0 or -1), mark them changed for the next put. */
	int (*get)(void *opaque, unsigned classes, enum sync_cause cause, const char *origin);
	void (*dirty)(void *opaque, unsigned classes, const char *origin);
	int (*msr_read)(void *opaque, uint32_t index, uint64_t *value);
	/* Guest-physical memory that is not RAM. */
	void (*mmio)(void *opaque, uint64_t gpa, void *buf, unsigned n, bool write);
	/* A debugger steps this vCPU. */
	bool (*single_stepping)(void *opaque);
	struct emu_stats *stats;           /* counters (--stats); may be NULL */
};

enum emu_result {
	EMU_DONE,                  /* completed, or an exception injected: re-enter */
	EMU_UNKNOWN,               /* not an instruction shrike completes */
	EMU_ERROR,                 /* the state could not be read or written */
	EMU_DEBUG_STEP,            /* completed while the debugger steps the vCPU */
};

/* Handles one emulation failure; bytes are the instruction at RIP. */
enum emu_result x86_emulate(const struct emu_platform *p, const uint8_t *bytes, unsigned n);

/* Per-VM counters, by mnemonic (--stats). */
struct emu_stats *emu_stats_create(void);
void emu_stats_free(struct emu_stats *s);
void emu_stats_print(const struct emu_stats *s, FILE *f);

/* The mnemonic of an instruction, for messages ("?" if it does not
 * decode). */
const char *x86_mnemonic(const struct emu_platform *p, const uint8_t *bytes, unsigned n);

#endif
