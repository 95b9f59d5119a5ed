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

#include <stdint.h>
#include <stdio.h>

struct vcpu;
struct vm;

enum emu_result {
	EMU_DONE,                  /* completed, or an exception injected: re-enter */
	EMU_UNKNOWN,               /* not an instruction shrike completes */
	EMU_ERROR,                 /* the state could not be read or written */
	EMU_DEBUG_STEP,            /* completed while the debugger steps the vCPU */
};

/* Handles one emulation failure; bytes are the instruction at RIP. */
enum emu_result x86_emulate(struct vcpu *v, const uint8_t *bytes, unsigned n);

/* Per-VM counters, by mnemonic (--stats). */
struct emu_stats;
struct emu_stats *emu_stats_create(void);
void emu_stats_free(struct emu_stats *s);
void emu_stats_print(const struct emu_stats *s, FILE *f);

/* The mnemonic of an instruction, for messages ("?" if it does not
 * decode). */
const char *x86_mnemonic(struct vcpu *v, const uint8_t *bytes, unsigned n);

#endif
