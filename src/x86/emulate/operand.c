/*
 * Operands as the decoder reports them: registers (with the 8-, 16-, 32-
 * and 64-bit rules), memory (every addressing mode: base, index, scale,
 * displacement, RIP-relative, segment overrides, address-size truncation,
 * segment limits and canonical checks), immediates.  Memory goes through
 * the guest's page tables (x86/mmu.c); a page-crossing write is checked on
 * both pages before either is written.
 */
#include <string.h>

#include "x86/emulate/internal.h"

__u64 *gpr(struct emu *e, ZydisRegister reg, unsigned *shift, unsigned *width)
{
	struct kvm_regs *r = e->r;
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
	__u64 *slots[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi,
				&r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
				&r->r14, &r->r15 };
	static const ZydisRegister order[16] = {
		ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
		ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
		ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
		ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
	};

	*shift = (reg == ZYDIS_REGISTER_AH || reg == ZYDIS_REGISTER_CH || reg == ZYDIS_REGISTER_DH ||
		  reg == ZYDIS_REGISTER_BH) ? 8 : 0;
	*width = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg);
	for (int i = 0; i < 16; i++)
		if (order[i] == big)
			return slots[i];
	return NULL;
}

static bool reg_read(struct emu *e, ZydisRegister reg, uint64_t *value)
{
	unsigned shift, width;
	__u64 *p;

	if (reg == ZYDIS_REGISTER_RIP || reg == ZYDIS_REGISTER_EIP) {
		*value = e->next_rip;
		return true;
	}
	if (reg == ZYDIS_REGISTER_RFLAGS || reg == ZYDIS_REGISTER_EFLAGS ||
	    reg == ZYDIS_REGISTER_FLAGS) {
		*value = e->r->rflags;
		return true;
	}
	p = gpr(e, reg, &shift, &width);
	if (!p || width > 64)
		return false;
	*value = (*p >> shift) & (width == 64 ? ~0ull : (1ull << width) - 1);
	return true;
}

static bool reg_write(struct emu *e, ZydisRegister reg, uint64_t value)
{
	unsigned shift, width;
	__u64 *p = gpr(e, reg, &shift, &width);
	uint64_t mask;

	if (!p)
		return false;
	if (width == 64 || width == 32) {
		/* A 32-bit write clears bits 63:32. */
		*p = width == 32 ? (value & 0xffffffffull) : value;
		return true;
	}
	mask = ((1ull << width) - 1) << shift;
	*p = (*p & ~mask) | ((value << shift) & mask);
	return true;
}

/* The segment register a memory operand uses. */
static const struct kvm_segment *segment(struct emu *e, ZydisRegister seg)
{
	switch (seg) {
	case ZYDIS_REGISTER_ES: return &e->s->es;
	case ZYDIS_REGISTER_CS: return &e->s->cs;
	case ZYDIS_REGISTER_SS: return &e->s->ss;
	case ZYDIS_REGISTER_FS: return &e->s->fs;
	case ZYDIS_REGISTER_GS: return &e->s->gs;
	default: return &e->s->ds;
	}
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Segmentation outside 64-bit mode: the limit (expand-up or -down) and
 * the type (no write to code or read-only data, no read of execute-only
 * code). */
static bool segment_ok(const struct kvm_segment *s, uint64_t ea, unsigned size, bool write,
		       bool real)
{
	uint64_t limit = s->limit, last = ea + size - 1;

	if (real)
		return last <= 0xffff;
	if (!s->present || !s->s)
		return false;
	if ((s->type & 8) ? (write || !(s->type & 2)) : (write && !(s->type & 2)))
		return false;
	if (!(s->type & 8) && (s->type & 4))        /* expand-down */
		return ea > limit && last <= (s->db ? 0xffffffffull : 0xffffull);
	return last <= limit;
}

bool op_linear(struct emu *e, unsigned i, unsigned size, bool write, uint64_t *linear)
{
	const ZydisDecodedOperandMem *m = &e->ops[i].mem;
	const struct kvm_segment *seg = segment(e, m->segment);
	bool stack = m->segment == ZYDIS_REGISTER_SS;
	uint64_t ea = 0, v;

	if (m->base != ZYDIS_REGISTER_NONE) {
		if (!reg_read(e, m->base, &v))
			return false;
		ea += v;
	}
	if (m->index != ZYDIS_REGISTER_NONE) {
		if (!reg_read(e, m->index, &v))
			return false;
		ea += v * (m->scale ? m->scale : 1);
	}
	if (m->disp.has_displacement)
		ea += (uint64_t)m->disp.value;
	if (e->insn.address_width == 32)
		ea &= 0xffffffffull;
	else if (e->insn.address_width == 16)
		ea &= 0xffffull;
	if (e->mode == ZYDIS_MACHINE_MODE_LONG_64) {
		/* Only FS and GS have bases; every address must be canonical. */
		*linear = ea + ((m->segment == ZYDIS_REGISTER_FS || m->segment == ZYDIS_REGISTER_GS)
					? seg->base : 0);
		if (!canonical(*linear) || !canonical(*linear + size - 1)) {
			emu_fault(e, stack ? VEC_SS : VEC_GP, true, 0);
			return true;
		}
		return true;
	}
	if (!segment_ok(seg, ea, size, write, e->mode == ZYDIS_MACHINE_MODE_REAL_16)) {
		emu_fault(e, stack ? VEC_SS : VEC_GP, true, 0);
		return true;
	}
	*linear = (seg->base + ea) & 0xffffffffull;
	return true;
}

/* One page of an access: the host address, checked (NULL: a fault, or
 * not RAM: then *mmio holds the physical address, else ~0). */
static void *page_host_or_mmio(struct emu *e, uint64_t linear, unsigned size, unsigned access,
			       uint64_t *mmio)
{
	struct mmu_ctx c = emu_mmu(e);
	uint64_t gpa;
	uint32_t pfec = 0;
	void *p;

	*mmio = ~0ull;
	switch (mmu_translate(&c, linear, access, &gpa, &pfec)) {
	case MMU_OK:
		p = gpa_to_hva(e->p->mem, gpa, size);
		if (!p)
			*mmio = gpa;
		return p;
	case MMU_FAULT:
		emu_fault(e, VEC_PF, true, pfec);
		e->set_cr2 = true;
		e->cr2 = linear;
		return NULL;
	default:
		return NULL;
	}
}

static unsigned access_bits(const struct emu *e, bool write, bool implicit)
{
	unsigned a = write ? MMU_WRITE : MMU_READ;

	if (implicit)
		a |= MMU_IMPLICIT;
	else if (e->cpl == 3)
		a |= MMU_USER;
	return a;
}

static void *page_host(struct emu *e, uint64_t linear, unsigned size, unsigned access)
{
	uint64_t mmio;

	return page_host_or_mmio(e, linear, size, access, &mmio);
}

void *mem_host(struct emu *e, uint64_t linear, unsigned size, bool write)
{
	if ((linear & 4095) + size > 4096)
		return NULL;
	return page_host(e, linear, size, access_bits(e, write, false));
}

/* A piece of an access that is not RAM goes to the MMIO bus, as the
 * hardware's would (at most 8 bytes at a time). */
static void mmio_access(struct emu *e, uint64_t gpa, uint8_t *buf, unsigned size, bool write)
{
	for (unsigned done = 0; done < size;) {
		unsigned n = size - done > 8 ? 8 : size - done;

		if (write)
			e->p->mmio(e->p->opaque, gpa + done, buf + done, n, true);
		else
			e->p->mmio(e->p->opaque, gpa + done, buf + done, n, false);
		done += n;
	}
}

bool mem_access(struct emu *e, uint64_t linear, void *buf, unsigned size, bool write,
		bool implicit)
{
	unsigned first = 4096 - (unsigned)(linear & 4095);
	unsigned access = access_bits(e, write, implicit);
	uint8_t *a, *b = NULL;

	if (first > size)
		first = size;
	uint64_t mmio_a, mmio_b = ~0ull;

	/* Both pages are checked before either is touched. */
	a = page_host_or_mmio(e, linear, first, access, &mmio_a);
	if ((a || mmio_a != ~0ull) && first < size)
		b = page_host_or_mmio(e, linear + first, size - first, access, &mmio_b);
	if (e->fault || (!a && mmio_a == ~0ull) ||
	    (first < size && !b && mmio_b == ~0ull))
		return false;
	if (a)
		write ? memcpy(a, buf, first) : memcpy(buf, a, first);
	else
		mmio_access(e, mmio_a, buf, first, write);
	if (first < size) {
		uint8_t *rest = (uint8_t *)buf + first;

		if (b)
			write ? memcpy(b, rest, size - first) : memcpy(rest, b, size - first);
		else
			mmio_access(e, mmio_b, rest, size - first, write);
	}
	return true;
}

bool op_read(struct emu *e, unsigned i, uint64_t *value)
{
	const ZydisDecodedOperand *op = &e->ops[i];
	unsigned bytes = op->size / 8;
	uint64_t linear;

	*value = 0;
	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		return reg_read(e, op->reg.value, value);
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		*value = op->imm.value.u;
		if (op->size < 64)
			*value &= (1ull << op->size) - 1;
		return true;
	case ZYDIS_OPERAND_TYPE_MEMORY:
		if (bytes == 0 || bytes > 8 || !op_linear(e, i, bytes, false, &linear))
			return false;
		if (e->fault)
			return true;
		if (!mem_access(e, linear, value, bytes, false, false))
			return e->fault;   /* a fault is a completion; not RAM is not */
		return true;
	default:
		return false;
	}
}

bool op_write(struct emu *e, unsigned i, uint64_t value)
{
	const ZydisDecodedOperand *op = &e->ops[i];
	unsigned bytes = op->size / 8;
	uint64_t linear;

	if (e->fault)
		return true;
	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		return reg_write(e, op->reg.value, value);
	case ZYDIS_OPERAND_TYPE_MEMORY:
		if (bytes == 0 || bytes > 8 || !op_linear(e, i, bytes, true, &linear))
			return false;
		if (e->fault)
			return true;
		if (!mem_access(e, linear, &value, bytes, true, false))
			return e->fault;
		return true;
	default:
		return false;
	}
}
