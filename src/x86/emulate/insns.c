/*
 * The instructions shrike completes, with their semantics from the Intel
 * and AMD manuals: results, flags, and the faults the hardware raises
 * (#UD when the guest's CPUID does not offer the instruction or a LOCK
 * prefix is not allowed, #GP, #PF through the operand helpers).
 */
#include <string.h>

#include "x86/emulate/internal.h"

static bool locked(const struct emu *e)
{
	return e->insn.attributes & ZYDIS_ATTRIB_HAS_LOCK;
}

static void set_flags(struct emu *e, uint64_t clear, uint64_t set)
{
	e->r->rflags = (e->r->rflags & ~clear) | set;
}

/* ---- software interrupts and exceptions ---- */

static bool int3(struct emu *e)
{
	e->trap = true;
	e->vector = VEC_BP;
	return true;
}

static bool into(struct emu *e)
{
	if (e->mode == ZYDIS_MACHINE_MODE_LONG_64) {
		emu_ud(e);
		return true;
	}
	if (e->r->rflags & RFL_OF) {
		e->trap = true;
		e->vector = VEC_OF;
	}
	return true;
}

/* INT n: the gate's DPL must allow the CPL (else #GP(n * 8 + 2)); the
 * interrupt goes in as a software interrupt (KVM refuses vectors above 31
 * on its exception path). */
static bool int_n(struct emu *e)
{
	uint64_t n;

	if (!op_read(e, 0, &n))
		return false;
	if (e->cpl > 0 && (e->s->cr0 & CR0_PE)) {
		unsigned gate = e->mode == ZYDIS_MACHINE_MODE_LONG_64 ? 16 : 8;
		uint8_t access;

		if ((n + 1) * gate - 1 > e->s->idt.limit) {
			emu_fault(e, VEC_GP, true, (uint32_t)(n * 8 + 2));
			return true;
		}
		if (!mem_access(e, e->s->idt.base + n * gate + 5, &access, 1, false, true))
			return e->fault;
		if (((access >> 5) & 3) < e->cpl) {
			emu_fault(e, VEC_GP, true, (uint32_t)(n * 8 + 2));
			return true;
		}
	}
	e->trap = true;
	e->soft_int = true;
	e->vector = (unsigned)n;
	return true;
}

static bool ud(struct emu *e)
{
	emu_ud(e);
	return true;
}

/* ---- bit and arithmetic ---- */

static bool popcnt(struct emu *e)
{
	uint64_t v;

	if (locked(e) || !emu_cpuid(e, 1, 0, CPUID_ECX, 23)) {
		emu_ud(e);
		return true;
	}
	if (!op_read(e, 1, &v))
		return false;
	if (e->fault)
		return true;
	if (!op_write(e, 0, (uint64_t)__builtin_popcountll(v)))
		return false;
	set_flags(e, RFL_ARITH, v ? 0 : RFL_ZF);
	return true;
}

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as SSE4.2's. */
static uint32_t crc32c(uint32_t crc, uint64_t data, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++) {
		crc ^= (uint8_t)(data >> (8 * i));
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return crc;
}

static bool crc32(struct emu *e)
{
	uint64_t acc, src;

	if (locked(e) || !emu_cpuid(e, 1, 0, CPUID_ECX, 20)) {
		emu_ud(e);
		return true;
	}
	if (!op_read(e, 0, &acc) || !op_read(e, 1, &src))
		return false;
	if (e->fault)
		return true;
	return op_write(e, 0, crc32c((uint32_t)acc, src, e->ops[1].size / 8));
}

/* ADCX (carry in CF) and ADOX (carry in OF): an unsigned add that touches
 * only that flag. */
static bool adcx_adox(struct emu *e)
{
	uint64_t a, b, flag = e->insn.mnemonic == ZYDIS_MNEMONIC_ADCX ? RFL_CF : RFL_OF;
	unsigned bits = e->ops[0].size;
	uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1, sum, carry;

	if (locked(e) || !emu_cpuid(e, 7, 0, CPUID_EBX, 19)) {
		emu_ud(e);
		return true;
	}
	if (!op_read(e, 0, &a) || !op_read(e, 1, &b))
		return false;
	if (e->fault)
		return true;
	carry = (e->r->rflags & flag) ? 1 : 0;
	sum = (a + b + carry) & mask;
	if (bits == 64)
		carry = sum < a || (carry && sum == a);
	else
		carry = (a + b + carry) >> bits;
	if (!op_write(e, 0, sum))
		return false;
	set_flags(e, flag, carry ? flag : 0);
	return true;
}

/* CMPXCHG16B: with LOCK (or without: the hardware's access is atomic
 * anyway) one host `lock cmpxchg16b` on the guest page's mapping, so it
 * is atomic against the other vCPUs, whatever KVM or native code they
 * run.  The destination is written in either case, as on hardware: a
 * read-only page faults even when the comparison fails. */
static bool cmpxchg16b(struct emu *e)
{
	uint64_t linear, lo = e->r->rax, hi = e->r->rdx;
	unsigned __int128 *p;
	bool ok;

	if (e->ops[0].type != ZYDIS_OPERAND_TYPE_MEMORY) {
		emu_ud(e);
		return true;
	}
	if (e->ops[0].size != 128)
		return false;                /* CMPXCHG8B: KVM's emulator does it */
	if (!emu_cpuid(e, 1, 0, CPUID_ECX, 13)) {
		emu_ud(e);
		return true;
	}
	if (!op_linear(e, 0, 16, true, &linear))
		return false;
	if (e->fault)
		return true;
	if (linear & 15) {
		emu_gp0(e);
		return true;
	}
	p = mem_host(e, linear, 16, true);
	if (!p)
		return e->fault;
	__asm__ volatile("lock cmpxchg16b %1\n\tsetz %0"
			 : "=q"(ok), "+m"(*p), "+a"(lo), "+d"(hi)
			 : "b"(e->r->rbx), "c"(e->r->rcx)
			 : "memory", "cc");
	if (!ok) {
		e->r->rax = lo;
		e->r->rdx = hi;
	}
	set_flags(e, RFL_ZF, ok ? RFL_ZF : 0);
	return true;
}

/* ---- system ---- */

static bool xgetbv(struct emu *e)
{
	uint32_t ecx = (uint32_t)e->r->rcx;
	uint64_t v;

	if (!(e->s->cr4 & CR4_OSXSAVE) || locked(e)) {
		emu_ud(e);
		return true;
	}
	if (!emu_need(e, CPU_MASK(CPU_XCRS)))
		return false;
	if (ecx == 0) {
		v = e->p->state->xcrs.nr_xcrs ? e->p->state->xcrs.xcrs[0].value : 1;
	} else if (ecx == 1 && emu_cpuid(e, 0xd, 1, CPUID_EAX, 2)) {
		/* XINUSE: the components not in their initial state. */
		if (!emu_need(e, CPU_MASK(CPU_FPU)) || !e->p->state->xsave)
			return false;
		memcpy(&v, (uint8_t *)e->p->state->xsave->region + 512, 8);
		v &= e->p->state->xcrs.xcrs[0].value;
	} else {
		emu_gp0(e);
		return true;
	}
	e->r->rax = (uint32_t)v;
	e->r->rdx = (uint32_t)(v >> 32);
	return true;
}

static bool clac_stac(struct emu *e)
{
	if (e->cpl > 0 || locked(e) || !emu_cpuid(e, 7, 0, CPUID_EBX, 20)) {
		emu_ud(e);
		return true;
	}
	set_flags(e, RFL_AC, e->insn.mnemonic == ZYDIS_MNEMONIC_STAC ? RFL_AC : 0);
	return true;
}

/* CLWB and CLFLUSHOPT: guest memory is coherent with the host's caches,
 * so only the address is checked, as for a read. */
static bool cache_line(struct emu *e)
{
	bool clwb = e->insn.mnemonic == ZYDIS_MNEMONIC_CLWB;
	uint64_t linear;
	uint8_t probe;

	if (locked(e) || !emu_cpuid(e, 7, 0, CPUID_EBX, clwb ? 24 : 23)) {
		emu_ud(e);
		return true;
	}
	if (!op_linear(e, 0, 1, false, &linear))
		return false;
	if (e->fault)
		return true;
	return mem_access(e, linear & ~63ull, &probe, 1, false, false) || e->fault;
}

/* TSC and TSC_AUX as the guest sees them, from KVM. */
static bool read_tsc_aux(struct emu *e, uint64_t *tsc, uint64_t *aux)
{
	if (!emu_need(e, CPU_MASK(CPU_MSRS)))
		return false;
	if (tsc && e->p->msr_read(e->p->opaque, 0x10, tsc))
		return false;
	if (aux && e->p->msr_read(e->p->opaque, 0xc0000103, aux))
		*aux = 0;
	return true;
}

static bool rdtscp(struct emu *e)
{
	uint64_t tsc, aux;

	if (!emu_cpuid(e, 0x80000001, 0, CPUID_EDX, 27)) {
		emu_ud(e);
		return true;
	}
	if ((e->s->cr4 & CR4_TSD) && e->cpl > 0) {
		emu_gp0(e);
		return true;
	}
	if (!read_tsc_aux(e, &tsc, &aux))
		return false;
	e->r->rax = (uint32_t)tsc;
	e->r->rdx = (uint32_t)(tsc >> 32);
	e->r->rcx = (uint32_t)aux;
	return true;
}

static bool rdpid(struct emu *e)
{
	uint64_t aux;

	if (!emu_cpuid(e, 7, 0, CPUID_ECX, 22)) {
		emu_ud(e);
		return true;
	}
	if (!read_tsc_aux(e, NULL, &aux))
		return false;
	return op_write(e, 0, aux);
}

static const struct {
	ZydisMnemonic m;
	emu_fn fn;
} handlers[] = {
	{ ZYDIS_MNEMONIC_INT3, int3 },
	{ ZYDIS_MNEMONIC_INT, int_n },
	{ ZYDIS_MNEMONIC_INTO, into },
	{ ZYDIS_MNEMONIC_UD0, ud },
	{ ZYDIS_MNEMONIC_UD1, ud },
	{ ZYDIS_MNEMONIC_UD2, ud },
	{ ZYDIS_MNEMONIC_FWAIT, emu_fwait },
	{ ZYDIS_MNEMONIC_FNSTSW, emu_fnstsw },
	{ ZYDIS_MNEMONIC_FNSTCW, emu_fnstcw },
	{ ZYDIS_MNEMONIC_FLD1, emu_fld_const },
	{ ZYDIS_MNEMONIC_FLDZ, emu_fld_const },
	{ ZYDIS_MNEMONIC_POPCNT, popcnt },
	{ ZYDIS_MNEMONIC_CRC32, crc32 },
	{ ZYDIS_MNEMONIC_ADCX, adcx_adox },
	{ ZYDIS_MNEMONIC_ADOX, adcx_adox },
	{ ZYDIS_MNEMONIC_CMPXCHG16B, cmpxchg16b },
	{ ZYDIS_MNEMONIC_XGETBV, xgetbv },
	{ ZYDIS_MNEMONIC_CLAC, clac_stac },
	{ ZYDIS_MNEMONIC_STAC, clac_stac },
	{ ZYDIS_MNEMONIC_CLWB, cache_line },
	{ ZYDIS_MNEMONIC_CLFLUSHOPT, cache_line },
	{ ZYDIS_MNEMONIC_RDTSCP, rdtscp },
	{ ZYDIS_MNEMONIC_RDPID, rdpid },
	{ ZYDIS_MNEMONIC_LAR, emu_lar_lsl },
	{ ZYDIS_MNEMONIC_LSL, emu_lar_lsl },
	{ ZYDIS_MNEMONIC_VERR, emu_verr_verw },
	{ ZYDIS_MNEMONIC_VERW, emu_verr_verw },
};

emu_fn emu_handler(ZydisMnemonic m)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].m == m)
			return handlers[i].fn;
	return NULL;
}
