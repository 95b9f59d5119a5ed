/*
 * The instruction completer (x86/emulate/) through its platform interface
 * alone: a fake vCPU state, fake MSRs, a fake MMIO bus, no VM and no KVM.
 * RDTSCP completes from the MSRs and moves RIP, is #UD where the guest's
 * CPUID lacks it and #GP at CPL 3 under CR4.TSD; an instruction shrike
 * does not complete is left alone; the state engine is asked for what the
 * instruction needs and told what changed.  (Memory operands, RAM and
 * MMIO, are covered by the guest tests: guest/tests/emulate.c.)
 */
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "check.h"
#include "x86/emulate/emulate.h"

struct fake {
	struct cpu_state state;
	struct kvm_regs regs;
	unsigned got, dirtied;
	unsigned mmio_accesses;
	uint64_t tsc, aux;
};

static struct fake fk;
static struct guest_mem mem;
static char origin[64];

static int fake_get(void *o, unsigned classes, enum sync_cause cause, const char *why)
{
	(void)o, (void)cause, (void)why;
	fk.got |= classes;
	return 0;
}

static void fake_dirty(void *o, unsigned classes, const char *why)
{
	(void)o, (void)why;
	fk.dirtied |= classes;
}

static int fake_msr(void *o, uint32_t index, uint64_t *value)
{
	(void)o;
	if (index == 0x10)
		*value = fk.tsc;
	else if (index == 0xc0000103)
		*value = fk.aux;
	else
		return -1;
	return 0;
}

static void fake_mmio(void *o, uint64_t gpa, void *buf, unsigned n, bool write)
{
	(void)o, (void)gpa;
	fk.mmio_accesses++;
	if (!write)
		memset(buf, 0xff, n);
}

/* A CPUID table with leaf 0x80000001, EDX as given. */
static struct kvm_cpuid2 *cpuid_with(uint32_t edx_80000001)
{
	struct kvm_cpuid2 *t = calloc(1, sizeof(*t) + sizeof(t->entries[0]));

	t->nent = 1;
	t->entries[0].function = 0x80000001;
	t->entries[0].edx = edx_80000001;
	return t;
}

/* 32-bit protected mode, paging off, CPL 0 (or 3), RIP at 0x1000. */
static struct emu_platform flat32(const struct kvm_cpuid2 *cpuid, unsigned cpl)
{
	memset(&fk, 0, sizeof(fk));
	fk.state.regs = &fk.regs;
	fk.regs.rip = 0x1000;
	fk.regs.rflags = 2;
	fk.state.sregs.cr0 = 1;                      /* PE */
	fk.state.sregs.cs.db = 1;
	fk.state.sregs.cs.limit = 0xffffffff;
	fk.state.sregs.cs.present = 1;
	fk.state.sregs.cs.type = 0xb;
	fk.state.sregs.cs.s = 1;
	fk.state.sregs.ss = fk.state.sregs.cs;
	fk.state.sregs.ss.type = 3;
	fk.state.sregs.ss.dpl = (uint8_t)cpl;
	fk.state.sregs.ds = fk.state.sregs.ss;
	return (struct emu_platform){
		.state = &fk.state, .cpuid = cpuid, .mem = &mem, .origin = origin,
		.origin_len = sizeof(origin), .get = fake_get, .dirty = fake_dirty,
		.msr_read = fake_msr, .mmio = fake_mmio,
	};
}

static const uint8_t RDTSCP[] = { 0x0f, 0x01, 0xf9 };

static void rdtscp_completes(void)
{
	struct kvm_cpuid2 *c = cpuid_with(1u << 27);
	struct emu_platform p = flat32(c, 0);

	fk.tsc = 0x1122334455667788ull;
	fk.aux = 7;
	CHECK_EQ(x86_emulate(&p, RDTSCP, sizeof(RDTSCP)), EMU_DONE);
	CHECK_EQ(fk.regs.rax, 0x55667788);
	CHECK_EQ(fk.regs.rdx, 0x11223344);
	CHECK_EQ(fk.regs.rcx, 7);
	CHECK_EQ(fk.regs.rip, 0x1003);
	CHECK(fk.got & CPU_MASK(CPU_MSRS));
	CHECK(fk.dirtied & CPU_MASK(CPU_REGS));
	CHECK(!strcmp(origin, "emulate:rdtscp"));
	free(c);
}

static void rdtscp_faults(void)
{
	struct kvm_cpuid2 *without = cpuid_with(0), *with = cpuid_with(1u << 27);
	struct emu_platform p = flat32(without, 0);

	CHECK_EQ(x86_emulate(&p, RDTSCP, sizeof(RDTSCP)), EMU_DONE);
	CHECK_EQ(fk.regs.rip, 0x1000);                         /* a fault: RIP stays */
	CHECK(fk.state.events.exception.injected);
	CHECK_EQ(fk.state.events.exception.nr, 6);             /* #UD */
	p = flat32(with, 3);
	fk.state.sregs.cr4 = 1u << 2;                          /* TSD */
	CHECK_EQ(x86_emulate(&p, RDTSCP, sizeof(RDTSCP)), EMU_DONE);
	CHECK_EQ(fk.state.events.exception.nr, 13);            /* #GP(0) */
	CHECK(fk.state.events.exception.has_error_code);
	CHECK_EQ(fk.state.events.exception.error_code, 0);
	free(without);
	free(with);
}

static void unknown_left_alone(void)
{
	static const uint8_t NOP[] = { 0x90 };
	struct kvm_cpuid2 *c = cpuid_with(0);
	struct emu_platform p = flat32(c, 0);

	CHECK_EQ(x86_emulate(&p, NOP, sizeof(NOP)), EMU_UNKNOWN);
	CHECK_EQ(fk.regs.rip, 0x1000);
	CHECK_EQ(fk.dirtied, 0);
	CHECK(!strcmp(x86_mnemonic(&p, RDTSCP, sizeof(RDTSCP)), "rdtscp"));
	free(c);
}

int main(void)
{
	if (guest_mem_init(&mem, 1u << 20))
		return 1;
	RUN(rdtscp_completes);
	RUN(rdtscp_faults);
	RUN(unknown_left_alone);
	guest_mem_free(&mem);
	return check_failures ? 1 : 0;
}
