/* Inside the instruction emulator (x86/emulate/): one instruction's
 * context, operand access, faults. */
#ifndef SHRIKE_EMULATE_INTERNAL_H
#define SHRIKE_EMULATE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <Zydis/Zydis.h>

#include "x86/cpuid.h"
#include "x86/cpustate.h"
#include "x86/emulate/emulate.h"
#include "x86/mmu.h"

#define RFL_CF (1ull << 0)
#define RFL_PF (1ull << 2)
#define RFL_AF (1ull << 4)
#define RFL_ZF (1ull << 6)
#define RFL_SF (1ull << 7)
#define RFL_TF (1ull << 8)
#define RFL_IF (1ull << 9)
#define RFL_DF (1ull << 10)
#define RFL_OF (1ull << 11)
#define RFL_RF (1ull << 16)
#define RFL_VM (1ull << 17)
#define RFL_AC (1ull << 18)
#define RFL_ARITH (RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_OF)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR4_TSD (1ull << 2)
#define CR4_OSXSAVE (1ull << 18)

enum { VEC_DE = 0, VEC_DB = 1, VEC_BP = 3, VEC_OF = 4, VEC_UD = 6, VEC_NM = 7, VEC_GP = 13,
       VEC_SS = 12, VEC_PF = 14, VEC_MF = 16 };

struct emu {
	const struct emu_platform *p;
	struct kvm_regs *r;
	struct kvm_sregs2 *s;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisMachineMode mode;
	unsigned cpl;
	uint64_t linear_rip;       /* where the instruction is */
	uint64_t next_rip;
	const char *origin;        /* "emulate:<mnemonic>" */
	unsigned dirty;            /* classes changed (CPU_MASK bits) */

	/* The exception the instruction raises, if any. */
	bool fault;                /* RIP stays on the instruction */
	bool trap;                 /* RIP moves past it */
	bool soft_int;             /* INT n: a software interrupt */
	unsigned vector;
	bool has_error;
	uint32_t error;
	bool set_cr2;
	uint64_t cr2;
};

/* ---- faults (emulate.c) ---- */
void emu_fault(struct emu *e, unsigned vector, bool has_error, uint32_t error);
static inline void emu_ud(struct emu *e) { emu_fault(e, VEC_UD, false, 0); }
static inline void emu_gp0(struct emu *e) { emu_fault(e, VEC_GP, true, 0); }
/* Fetches more classes (cause emulate); false (and the instruction is
 * not completed) on failure. */
bool emu_need(struct emu *e, unsigned classes);
/* The guest's CPUID offers the bit. */
bool emu_cpuid(const struct emu *e, uint32_t leaf, uint32_t sub, enum cpuid_reg reg, unsigned bit);

/* ---- operands (operand.c) ---- */
/* An operand's value (register, memory or immediate), zero-extended. */
bool op_read(struct emu *e, unsigned i, uint64_t *value);
/* Writes a register or memory operand with the architecture's rules
 * (a 32-bit register write zero-extends). */
bool op_write(struct emu *e, unsigned i, uint64_t value);
/* The linear address of a memory operand, with segmentation checks for
 * an access of `size` bytes (false: a fault is set). */
bool op_linear(struct emu *e, unsigned i, unsigned size, bool write, uint64_t *linear);
/* Guest memory through the guest's page tables; false: a fault is set,
 * or (*not_ram) the address is not RAM. */
bool mem_access(struct emu *e, uint64_t linear, void *buf, unsigned size, bool write,
		bool implicit);
/* The host address of `size` bytes at a linear address, one page only,
 * checked for the access (false: fault set or not RAM). */
void *mem_host(struct emu *e, uint64_t linear, unsigned size, bool write);
/* A general register by Zydis name: pointer to the 64-bit slot, and the
 * byte it starts at (1 for AH..BH). */
__u64 *gpr(struct emu *e, ZydisRegister reg, unsigned *shift, unsigned *width);
struct mmu_ctx emu_mmu(const struct emu *e);

/* ---- instructions (insns.c, fpu.c, desc.c) ---- */
typedef bool (*emu_fn)(struct emu *e);
emu_fn emu_handler(ZydisMnemonic m);

bool emu_fwait(struct emu *e);
bool emu_fnstsw(struct emu *e);
bool emu_fnstcw(struct emu *e);
bool emu_fld_const(struct emu *e);
bool emu_lar_lsl(struct emu *e);
bool emu_verr_verw(struct emu *e);

#endif
