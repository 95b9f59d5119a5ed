/*
 * The x87 instructions shrike completes: FWAIT, FNSTSW, FNSTCW, FLD1, FLDZ.
 * The FPU state is fetched only for these (the legacy region of the XSAVE
 * area, or KVM's FPU state without XSAVE); #NM follows CR0.EM/TS/MP and
 * #MF an unmasked exception pending in the status word, with CR0.NE.
 */
#include <string.h>

#include "x86/emulate/internal.h"

#define FSW_ES   (1u << 7)
#define FSW_SF   (1u << 6)
#define FSW_IE   (1u << 0)
#define FSW_C1   (1u << 9)
#define FSW_B    (1u << 15)
#define FSW_TOP_SHIFT 11
#define FCW_IM   (1u << 0)

/* A view of the legacy FXSAVE region, wherever the state lives. */
struct x87 {
	uint16_t *fcw, *fsw;
	uint8_t *ftw;              /* abridged: bit i = physical register i in use */
	uint8_t (*st)[16];         /* ST(0)..ST(7), 80 bits each in 16-byte slots */
	uint64_t *xstate_bv;       /* XSAVE: the header's component bitmap */
};

static bool x87_view(struct emu *e, struct x87 *x)
{
	struct cpu_state *s = e->p->state;

	if (!emu_need(e, CPU_MASK(CPU_FPU)))
		return false;
	if (s->xsave) {
		uint8_t *r = (uint8_t *)s->xsave->region;

		x->fcw = (uint16_t *)r;
		x->fsw = (uint16_t *)(r + 2);
		x->ftw = r + 4;
		x->st = (uint8_t (*)[16])(r + 32);
		x->xstate_bv = (uint64_t *)(r + 512);
	} else {
		x->fcw = &s->fpu.fcw;
		x->fsw = &s->fpu.fsw;
		x->ftw = &s->fpu.ftwx;
		x->st = s->fpu.fpr;
		x->xstate_bv = NULL;
	}
	return true;
}

/* #NM for an x87 instruction (waiting: only FWAIT's rule). */
static bool device_not_available(struct emu *e, bool fwait)
{
	uint64_t cr0 = e->s->cr0;

	if (fwait ? ((cr0 & CR0_MP) && (cr0 & CR0_TS)) : (cr0 & (CR0_EM | CR0_TS))) {
		emu_fault(e, VEC_NM, false, 0);
		return true;
	}
	return false;
}

/* #MF for a waiting instruction with an unmasked exception pending. */
static bool pending_math_fault(struct emu *e, const struct x87 *x)
{
	if ((*x->fsw & FSW_ES) && (e->s->cr0 & CR0_NE)) {
		emu_fault(e, VEC_MF, false, 0);
		return true;
	}
	return false;
}

bool emu_fwait(struct emu *e)
{
	struct x87 x;

	if (device_not_available(e, true))
		return true;
	if (!x87_view(e, &x))
		return false;
	pending_math_fault(e, &x);
	return true;
}

bool emu_fnstsw(struct emu *e)
{
	struct x87 x;

	if (device_not_available(e, false))
		return true;
	if (!x87_view(e, &x))
		return false;
	return op_write(e, 0, *x.fsw);
}

bool emu_fnstcw(struct emu *e)
{
	struct x87 x;

	if (device_not_available(e, false))
		return true;
	if (!x87_view(e, &x))
		return false;
	return op_write(e, 0, *x.fcw);
}

/* FLD1 and FLDZ push a constant: TOP moves down, ST(i) become ST(i+1).
 * Pushing onto a register in use is a stack overflow (IE, SF, C1): with
 * IE masked the QNaN indefinite is pushed, else nothing changes but the
 * exception flags. */
bool emu_fld_const(struct emu *e)
{
	static const uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f };
	static const uint8_t zero[10] = { 0 };
	static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
	const uint8_t *value = e->insn.mnemonic == ZYDIS_MNEMONIC_FLD1 ? one : zero;
	struct x87 x;
	unsigned top, ntop;

	if (device_not_available(e, false))
		return true;
	if (!x87_view(e, &x))
		return false;
	if (pending_math_fault(e, &x))
		return true;
	top = (*x.fsw >> FSW_TOP_SHIFT) & 7;
	ntop = (top + 7) & 7;
	*x.fsw &= (uint16_t)~FSW_C1;
	if (*x.ftw & (1u << ntop)) {
		*x.fsw |= FSW_IE | FSW_SF | FSW_C1;
		if (!(*x.fcw & FCW_IM)) {
			*x.fsw |= FSW_ES | FSW_B;
			goto out;
		}
		value = indefinite;
	}
	memmove(x.st[1], x.st[0], 7 * sizeof(x.st[0]));
	memset(x.st[0], 0, sizeof(x.st[0]));
	memcpy(x.st[0], value, 10);
	*x.ftw |= (uint8_t)(1u << ntop);
	*x.fsw = (uint16_t)((*x.fsw & ~(7u << FSW_TOP_SHIFT)) | ntop << FSW_TOP_SHIFT);
out:
	/* XRSTOR (KVM_SET_XSAVE) takes the x87 state only if its bit is set. */
	if (x.xstate_bv)
		*x.xstate_bv |= 1;
	e->dirty |= CPU_MASK(CPU_FPU);
	return true;
}
