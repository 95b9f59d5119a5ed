/* A vCPU's registers as text in QEMU's `info registers` layout. */
#ifndef SHRIKE_DUMP_H
#define SHRIKE_DUMP_H

#include "base/strbuf.h"
#include "x86/cpustate.h"

struct cpu_state;

/* The classes the dump reads: fetch them (cause debug) first. */
#define X86_DUMP_CLASSES (CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS) | CPU_MASK(CPU_FPU) | \
			  CPU_MASK(CPU_DEBUGREGS) | CPU_MASK(CPU_EVENTS) | CPU_MASK(CPU_MP_STATE))

void x86_dump_registers(const struct cpu_state *st, struct strbuf *sb);

#endif
