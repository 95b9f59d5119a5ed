#include "x86/reset.h"

#include <string.h>

#include "x86/cpuid.h"
#include "x86/cpustate.h"
#include "x86/entry.h"
#include "x86/msr.h"

#define SEG_CODE_RX_ACCESSED 0xb
#define SEG_DATA_RW_ACCESSED 0x3
#define SEG_TSS_BUSY_32      0xb
#define SEG_LDT              0x2

static struct kvm_segment seg(uint16_t sel, uint64_t base, uint32_t limit, uint8_t type,
			      bool s)
{
	return (struct kvm_segment){ .base = base, .limit = limit, .selector = sel, .type = type,
				     .present = 1, .s = s };
}

static void reset_sregs(struct cpu_state *st)
{
	struct kvm_sregs2 *s = &st->sregs;

	memset(s, 0, sizeof(*s));
	s->cs = seg(0xf000, 0xffff0000, 0xffff, SEG_CODE_RX_ACCESSED, true);
	s->ds = s->es = s->fs = s->gs = s->ss = seg(0, 0, 0xffff, SEG_DATA_RW_ACCESSED, true);
	/* VMX requires TR to be a busy TSS at entry; KVM's own reset agrees. */
	s->tr = seg(0, 0, 0xffff, SEG_TSS_BUSY_32, false);
	s->ldt = seg(0, 0, 0xffff, SEG_LDT, false);
	s->gdt.limit = s->idt.limit = 0xffff;
	s->cr0 = RESET_CR0;
	s->apic_base = APIC_BASE_ADDR | APIC_BASE_ENABLE | (st->port.index == 0 ? APIC_BASE_BSP : 0);
}

static void reset_fpu(struct cpu_state *st)
{
	/* FINIT values, as QEMU and KVM use (not the SDM's FCW 0x40). */
	if (st->xsave) {
		uint16_t fcw = 0x37f;
		uint32_t mxcsr = 0x1f80;

		memset(st->xsave, 0, st->xsave_size);
		memcpy((uint8_t *)st->xsave->region + 0, &fcw, sizeof(fcw));
		memcpy((uint8_t *)st->xsave->region + 24, &mxcsr, sizeof(mxcsr));
	} else {
		memset(&st->fpu, 0, sizeof(st->fpu));
		st->fpu.fcw = 0x37f;
		st->fpu.mxcsr = 0x1f80;
	}
	memset(&st->xcrs, 0, sizeof(st->xcrs));
	st->xcrs.nr_xcrs = 1;
	st->xcrs.xcrs[0].xcr = 0;
	st->xcrs.xcrs[0].value = 1;   /* XCR0: x87 only */
}

/* The xAPIC register page after RESET: LVTs masked, SVR 0xFF, the ID. */
static void reset_lapic(struct cpu_state *st)
{
	uint8_t *regs = (uint8_t *)st->lapic.regs;
	static const unsigned lvts[] = { 0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x2f0 };
	uint32_t w;

	memset(regs, 0, sizeof(st->lapic.regs));
#define LAPIC_SET(off, val) (w = (val), memcpy(regs + (off), &w, 4))
	LAPIC_SET(0x20, st->port.index << 24);         /* ID */
	LAPIC_SET(0x30, 0x50014);                /* version; KVM recomputes it */
	LAPIC_SET(0xe0, 0xffffffff);             /* DFR: flat model */
	LAPIC_SET(0xf0, 0xff);                   /* SVR: software-disabled */
	for (size_t i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		LAPIC_SET(lvts[i], 0x10000);     /* masked */
	/* As KVM does for the BSP: LINT0 in ExtINT mode, so the PIC's
	 * interrupts reach it in virtual-wire mode. */
	if (st->port.index == 0)
		LAPIC_SET(0x350, 0x700);
#undef LAPIC_SET
}

static uint64_t reset_msr_value(struct cpu_state *st, const struct msr_info *m, bool has_run)
{
	switch (m->index) {
	case MSR_IA32_TSC:
		return has_run ? 1 : 0;
	case MSR_IA32_PAT:
		return RESET_PAT;
	case 0x9e:                /* SMBASE */
		return RESET_SMBASE;
	case 0x4b564d05:          /* KVM_POLL_CONTROL */
		return 1;
	case MSR_IA32_MISC_ENABLE:
		/* Fast strings, plus MONITOR/MWAIT when CPUID exposes it. */
		return 1 | (cpuid_has(st->port.cpuid, 1, 0, CPUID_ECX, 3) ? 1ull << 18 : 0);
	default:
		break;
	}
	/* Every other MSR in the catalog: kvmclock, async-PF, steal time,
	 * PV-EOI, MTRRs, SYSENTER, STAR..., TSC_DEADLINE, FEATURE_CONTROL are 0
	 * after RESET.  MSRs that shrike does not know take KVM's value for a
	 * new vCPU.  Machine-check status is not in the catalog and is kept. */
	if (msr_name(m->index) || m->kind != MSR_KIND_RESET)
		return 0;
	return m->init_value;
}

static void reset_msrs(struct cpu_state *st, bool has_run)
{
	const struct msr_catalog *cat = st->port.msrs;

	for (unsigned i = 0; i < cat->n; i++) {
		st->msr_value[i] = reset_msr_value(st, &cat->msr[i], has_run);
		st->msr_dirty[i] = 1;
	}
}

void cpu_reset_state(struct cpu_state *st, bool has_run)
{
	memset(st->regs, 0, sizeof(*st->regs));
	st->regs->rip = 0xfff0;
	st->regs->rflags = 0x2;
	st->regs->rdx = cpuid_reg(st->port.cpuid, 1, 0, CPUID_EAX);   /* CPU signature */
	reset_sregs(st);
	reset_fpu(st);
	reset_msrs(st, has_run);
	memset(&st->events, 0, sizeof(st->events));
	memset(&st->debugregs, 0, sizeof(st->debugregs));
	st->debugregs.dr6 = 0xffff0ff0;
	st->debugregs.dr7 = 0x400;
	st->mp.mp_state = st->port.index == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED;
	reset_lapic(st);
	st->valid = CPU_ALL;
	st->dirty = CPU_ALL;
	st->regs_in_run = false;
	st->sregs_in_run = false;
}

static void set_msr(struct cpu_state *st, uint32_t index, uint64_t value)
{
	int i = msr_catalog_find(st->port.msrs, index);

	if (i >= 0)
		st->msr_value[i] = value;
}

void cpu_boot_entry(struct cpu_state *st, const struct entry_state *e)
{
	struct kvm_sregs2 *s = &st->sregs;
	struct kvm_regs *r = st->regs;

	r->rip = e->rip;
	r->rsp = e->rsp;
	r->rax = e->rax;
	r->rbx = e->rbx;
	r->rsi = e->rsi;
	r->rdx = 0;
	if (e->mode == ENTRY_REAL16) {
		struct kvm_segment rs = seg(e->real_segment, (uint64_t)e->real_segment << 4, 0xffff,
					    SEG_DATA_RW_ACCESSED, true);

		s->ds = s->es = s->ss = s->fs = s->gs = rs;
		s->cs = rs;
		s->cs.type = SEG_CODE_RX_ACCESSED;
	} else {
		bool lm = e->mode == ENTRY_LONG64;
		struct kvm_segment code = seg(lm ? 0x10 : (e->code_selector ? e->code_selector : 0x08),
					      0, 0xffffffff, SEG_CODE_RX_ACCESSED, true);
		struct kvm_segment data = seg(lm ? 0x18 : (e->data_selector ? e->data_selector : 0x10),
					      0, 0xffffffff, SEG_DATA_RW_ACCESSED, true);

		code.db = !lm;
		code.l = lm;
		data.db = 1;
		code.g = data.g = 1;
		s->cs = code;
		s->ds = s->es = s->fs = s->gs = s->ss = data;
		s->gdt.base = e->gdt_base;
		s->gdt.limit = e->gdt_limit ? e->gdt_limit : 3 * 8 - 1;
		s->idt.base = 0;
		s->idt.limit = 0;
		/* Protection on; caches on, as firmware leaves them. */
		s->cr0 = 0x11;
		if (lm) {
			/* Long mode as the 64-bit boot protocol wants it. */
			s->cr0 |= 0x80000000u;         /* PG */
			s->cr3 = e->cr3;
			s->cr4 = 0x20;                 /* PAE */
			s->efer = 0x500;               /* LME | LMA */
		}
	}
	/* No firmware programs the MTRRs for a directly booted kernel: enable
	 * them with write-back as the default type, as firmware would. */
	set_msr(st, MSR_MTRR_DEF_TYPE, 0xc06);
}
