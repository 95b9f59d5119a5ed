/*
 * LAR, LSL, VERR and VERW: a selector's descriptor, read from the GDT or
 * LDT through the guest's page tables (implicit supervisor accesses), and
 * the checks the instructions make.  A selector that fails a check clears
 * ZF and leaves the destination alone; no exception is raised for it.
 */
#include "x86/emulate/internal.h"

/* The 8-byte descriptor of a selector; false (ZF = 0) if there is none. */
static bool descriptor(struct emu *e, uint16_t sel, uint64_t *desc)
{
	const struct kvm_segment *table = (sel & 4) ? &e->s->ldt : NULL;
	uint64_t base = table ? table->base : e->s->gdt.base;
	uint32_t limit = table ? table->limit : e->s->gdt.limit;

	if ((sel & ~3u) == 0 || (table && (!table->present || table->unusable)))
		return false;
	if ((uint32_t)(sel & ~7u) + 7 > limit)
		return false;
	return mem_access(e, base + (sel & ~7u), desc, 8, false, true);
}

/* DPL against CPL and RPL, except for conforming code segments. */
static bool visible(const struct emu *e, uint64_t d, uint16_t sel)
{
	unsigned dpl = (d >> 45) & 3, type = (d >> 40) & 15;
	bool code = (d >> 44) & 1 && (type & 8);
	bool conforming = code && (type & 4);

	return conforming || (dpl >= e->cpl && dpl >= (sel & 3u));
}

/* LAR accepts these system types; LSL those with a limit. */
static bool system_type_ok(unsigned type, bool lar)
{
	switch (type) {
	case 1: case 2: case 3: case 9: case 11:           /* TSS, LDT */
		return true;
	case 4: case 5: case 12:                           /* call and task gates */
		return lar;
	default:
		return false;
	}
}

/*
 * What LAR, LSL, VERR and VERW share: #UD outside protected mode, the
 * selector from operand `op`, its descriptor.  Returns false if the
 * instruction cannot be completed, else true with *done set when a fault
 * ends it; *found: the descriptor exists (in *d).
 */
static bool selector_descriptor(struct emu *e, unsigned op, uint64_t *sel, uint64_t *d,
				bool *found, bool *done)
{
	*done = true;
	if (!(e->s->cr0 & CR0_PE) || (e->r->rflags & RFL_VM)) {
		emu_ud(e);
		return true;
	}
	if (!op_read(e, op, sel))
		return false;
	if (e->fault)
		return true;
	*found = descriptor(e, (uint16_t)*sel, d);
	*done = e->fault;
	return true;
}

bool emu_lar_lsl(struct emu *e)
{
	bool lar = e->insn.mnemonic == ZYDIS_MNEMONIC_LAR;
	uint64_t sel, d = 0;
	bool ok = false, done;

	if (!selector_descriptor(e, 1, &sel, &d, &ok, &done))
		return false;
	if (done)
		return true;
	if (ok && !((d >> 44) & 1))
		ok = system_type_ok((unsigned)(d >> 40) & 15, lar);
	if (ok)
		ok = visible(e, d, (uint16_t)sel);
	if (ok) {
		uint64_t v;

		if (lar) {
			v = (d >> 32) & 0x00f0ff00ull;
		} else {
			v = (d & 0xffff) | ((d >> 32) & 0xf0000);
			if ((d >> 55) & 1)
				v = (v << 12) | 0xfff;
		}
		if (!op_write(e, 0, v))
			return false;
	}
	e->r->rflags = (e->r->rflags & ~RFL_ZF) | (ok ? RFL_ZF : 0);
	return true;
}

bool emu_verr_verw(struct emu *e)
{
	bool write = e->insn.mnemonic == ZYDIS_MNEMONIC_VERW;
	uint64_t sel, d = 0;
	bool ok = false, done;

	if (!selector_descriptor(e, 0, &sel, &d, &ok, &done))
		return false;
	if (done)
		return true;
	if (ok) {
		unsigned type = (unsigned)(d >> 40) & 15;
		bool segment = (d >> 44) & 1, code = type & 8;

		ok = segment && visible(e, d, (uint16_t)sel) &&
		     (write ? (!code && (type & 2)) : (!code || (type & 2)));
	}
	e->r->rflags = (e->r->rflags & ~RFL_ZF) | (ok ? RFL_ZF : 0);
	return true;
}
