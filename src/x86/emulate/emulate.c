/*
 * The emulator's entry: state, decoding, dispatch, and how a completed or
 * faulting instruction leaves the vCPU (see emulate.h).
 */
#include "x86/emulate/emulate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x86/emulate/internal.h"

struct emu_stats {
	uint64_t count[ZYDIS_MNEMONIC_MAX_VALUE + 1];
	uint64_t not_completed;
};

struct emu_stats *emu_stats_create(void)
{
	return calloc(1, sizeof(struct emu_stats));
}

void emu_stats_free(struct emu_stats *s)
{
	free(s);
}

void emu_stats_print(const struct emu_stats *s, FILE *f)
{
	if (!s)
		return;
	fprintf(f, "shrike: stats: emulated by shrike:");
	for (unsigned m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; m++)
		if (s->count[m])
			fprintf(f, " %s=%llu", ZydisMnemonicGetString((ZydisMnemonic)m),
				(unsigned long long)__atomic_load_n(&s->count[m], __ATOMIC_RELAXED));
	fprintf(f, "; not completed: %llu\n",
		(unsigned long long)__atomic_load_n(&s->not_completed, __ATOMIC_RELAXED));
}

void emu_fault(struct emu *e, unsigned vector, bool has_error, uint32_t error)
{
	/* The first fault wins (a fault while raising one is the guest's
	 * double fault, which KVM handles when it delivers this one). */
	if (e->fault || e->trap)
		return;
	e->fault = true;
	e->vector = vector;
	e->has_error = has_error;
	e->error = error;
}

bool emu_need(struct emu *e, unsigned classes)
{
	return e->p->get(e->p->opaque, classes, CAUSE_EMULATE, e->origin) == 0;
}

bool emu_cpuid(const struct emu *e, uint32_t leaf, uint32_t sub, enum cpuid_reg reg, unsigned bit)
{
	return cpuid_has(e->p->cpuid, leaf, sub, reg, bit);
}

struct mmu_ctx emu_mmu(const struct emu *e)
{
	return (struct mmu_ctx){ e->p->mem, e->s->cr0, e->s->cr3, e->s->cr4, e->s->efer,
				 (e->r->rflags & RFL_AC) != 0 };
}

/* The processor mode the instruction runs in. */
static ZydisMachineMode machine_mode(const struct kvm_sregs2 *s, uint64_t rflags,
				     ZydisStackWidth *stack)
{
	*stack = s->ss.db ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
	if (!(s->cr0 & CR0_PE) || (rflags & RFL_VM)) {
		*stack = ZYDIS_STACK_WIDTH_16;
		return ZYDIS_MACHINE_MODE_REAL_16;
	}
	if ((s->efer & (1ull << 10)) && s->cs.l) {
		*stack = ZYDIS_STACK_WIDTH_64;
		return ZYDIS_MACHINE_MODE_LONG_64;
	}
	if (s->efer & (1ull << 10))
		return s->cs.db ? ZYDIS_MACHINE_MODE_LONG_COMPAT_32 : ZYDIS_MACHINE_MODE_LONG_COMPAT_16;
	return s->cs.db ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16;
}

static bool decode(struct emu *e, const uint8_t *bytes, unsigned n)
{
	ZydisDecoder d;
	ZydisStackWidth stack;

	e->mode = machine_mode(e->s, e->r->rflags, &stack);
	if (ZYAN_FAILED(ZydisDecoderInit(&d, e->mode, stack)))
		return false;
	return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, bytes, n, &e->insn, e->ops));
}

const char *x86_mnemonic(const struct emu_platform *p, const uint8_t *bytes, unsigned n)
{
	struct emu e = { .p = p, .r = p->state->regs, .s = &p->state->sregs };
	const char *m;

	if (p->get(p->opaque, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_DEBUG, "report") ||
	    !decode(&e, bytes, n))
		return "?";
	m = ZydisMnemonicGetString(e.insn.mnemonic);
	return m ? m : "?";
}

/* The single-step trap after a completed instruction (RFLAGS.TF was set
 * when it began): #DB with DR6.BS. */
static bool single_step_trap(struct emu *e)
{
	if (!emu_need(e, CPU_MASK(CPU_DEBUGREGS)))
		return false;
	e->p->state->debugregs.dr6 |= 1ull << 14;
	e->dirty |= CPU_MASK(CPU_DEBUGREGS);
	e->trap = true;
	e->vector = VEC_DB;
	e->has_error = false;
	return true;
}

/* Puts the exception (or software interrupt) into the vCPU's events. */
static bool inject(struct emu *e)
{
	struct kvm_vcpu_events *ev = &e->p->state->events;

	if (!emu_need(e, CPU_MASK(CPU_EVENTS)))
		return false;
	if (e->soft_int) {
		ev->interrupt.injected = 1;
		ev->interrupt.nr = (uint8_t)e->vector;
		ev->interrupt.soft = 1;
	} else {
		ev->exception.injected = 1;
		ev->exception.nr = (uint8_t)e->vector;
		ev->exception.has_error_code = e->has_error;
		ev->exception.error_code = e->error;
	}
	e->dirty |= CPU_MASK(CPU_EVENTS);
	if (e->set_cr2) {
		e->s->cr2 = e->cr2;
		e->dirty |= CPU_MASK(CPU_SREGS);
	}
	return true;
}

/* After the handler: RIP, RF, TF, the exception, and what to write back. */
static enum emu_result complete(struct emu *e, uint64_t rflags_before)
{
	const struct emu_platform *p = e->p;

	if (!e->fault) {
		e->r->rip = e->next_rip;
		e->r->rflags &= ~RFL_RF;
		if ((rflags_before & RFL_TF) && !e->trap && !single_step_trap(e))
			return EMU_ERROR;
	}
	e->dirty |= CPU_MASK(CPU_REGS);
	if ((e->fault || e->trap) && !inject(e))
		return EMU_ERROR;
	p->dirty(p->opaque, e->dirty, e->origin);
	if (p->stats)
		__atomic_fetch_add(&p->stats->count[e->insn.mnemonic], 1, __ATOMIC_RELAXED);
	/* The debugger steps this vCPU: the step ends here. */
	if (!e->fault && p->single_stepping && p->single_stepping(p->opaque))
		return EMU_DEBUG_STEP;
	return EMU_DONE;
}

/* The fetch of the instruction itself: KVM handed over the bytes, but the
 * page may not allow executing them (NX, SMEP, a user page at CPL 3). */
static bool fetch_allowed(struct emu *e)
{
	struct mmu_ctx c = emu_mmu(e);
	unsigned access = MMU_FETCH | (e->cpl == 3 ? MMU_USER : 0);
	uint64_t last = e->linear_rip + e->insn.length - 1, gpa;
	uint32_t pfec;

	for (uint64_t a = e->linear_rip;; a = (a | 4095) + 1) {
		if (mmu_translate(&c, a, access, &gpa, &pfec) == MMU_FAULT) {
			emu_fault(e, VEC_PF, true, pfec);
			e->set_cr2 = true;
			e->cr2 = a;
			return false;
		}
		if ((a | 4095) >= last)
			return true;
	}
}

static unsigned cpl_of(const struct kvm_sregs2 *s, uint64_t rflags)
{
	if (!(s->cr0 & CR0_PE))
		return 0;
	if (rflags & RFL_VM)
		return 3;
	return s->ss.dpl & 3;
}

enum emu_result x86_emulate(const struct emu_platform *p, const uint8_t *bytes, unsigned n)
{
	struct emu e;
	uint64_t rflags;
	emu_fn fn;
	const char *m;

	memset(&e, 0, sizeof(e));
	e.p = p;
	if (p->get(p->opaque, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_EMULATE, "emulate"))
		return EMU_ERROR;
	e.r = p->state->regs;
	e.s = &p->state->sregs;
	if (!decode(&e, bytes, n))
		goto unknown;
	m = ZydisMnemonicGetString(e.insn.mnemonic);
	snprintf(p->origin, p->origin_len, "emulate:%s", m ? m : "?");
	e.origin = p->origin;
	e.cpl = cpl_of(e.s, e.r->rflags);
	e.linear_rip = e.s->cs.base + e.r->rip;
	e.next_rip = e.r->rip + e.insn.length;
	if (e.mode != ZYDIS_MACHINE_MODE_LONG_64) {
		e.linear_rip &= 0xffffffffull;
		e.next_rip &= (e.s->cs.db && e.mode != ZYDIS_MACHINE_MODE_REAL_16) ? 0xffffffffull
										     : 0xffffull;
	}
	fn = emu_handler(e.insn.mnemonic);
	if (!fn)
		goto unknown;
	rflags = e.r->rflags;
	if (fetch_allowed(&e) && !fn(&e))
		goto unknown;
	return complete(&e, rflags);
unknown:
	if (p->stats)
		__atomic_fetch_add(&p->stats->not_completed, 1, __ATOMIC_RELAXED);
	return EMU_UNKNOWN;
}
