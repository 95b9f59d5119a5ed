/*
 * The registers gdb sees, in the order of shrike's target description
 * (i386:x86-64): the general registers, rip, eflags, the segment
 * selectors; x87 and SSE from the FXSAVE part of the vCPU's XSAVE area;
 * fs_base, gs_base; k_gs_base, cr0, cr2, cr3, cr4, cr8, efer.
 *
 * The `g` packet carries only the first GDB_G_REGS registers (the classes
 * REGS and SREGS, which KVM_CAP_SYNC_REGS gives for free after every exit):
 * gdb fetches the others one by one with `p` when it needs them, so a stop
 * does not cost an FPU or MSR transfer nobody looks at.
 *
 * Every access goes through the state engine (x86/cpustate.h); the caller
 * makes the classes named by gdb_reg_classes() valid first, on the vCPU's
 * thread.
 */
#ifndef SHRIKE_GDB_REGS_H
#define SHRIKE_GDB_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

#define GDB_REG_MAX_SIZE 16
#define GDB_G_REGS 24              /* rax..gs: what `g` carries */

enum {
	GDB_REG_RBP = 6,
	GDB_REG_RSP = 7,
	GDB_REG_RIP = 16,
};

unsigned gdb_reg_count(void);
/* Bytes of register n in packets, 0 if there is no such register. */
unsigned gdb_reg_size(unsigned n);
/* The state classes (CPU_MASK bits) register n lives in. */
unsigned gdb_reg_classes(unsigned n);
/* The classes of the `g` packet's registers. */
unsigned gdb_g_classes(void);

/* Reads register n into out (gdb_reg_size bytes, target byte order). */
void gdb_reg_read(struct vcpu *v, unsigned n, uint8_t *out);
/* Writes register n; returns the classes changed (for cpu_state_dirty), or
 * 0 if the value is refused. */
unsigned gdb_reg_write(struct vcpu *v, unsigned n, const uint8_t *in);

/* The target description (qXfer:features:read:target.xml). */
const char *gdb_target_xml(size_t *len);

#endif
