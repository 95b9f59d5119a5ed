/*
 * Guest memory as gdb sees it: linear addresses, translated through the
 * page tables of the thread gdb selected (Hg), in whatever mode that vCPU
 * is in (x86/mmu.c walks them; no permission checks, no accessed or dirty
 * bits set).  Only RAM is read or written: an MMIO address would have a
 * device act on a debugger's read, so it ends the transfer like an
 * unmapped page.  Breakpoint bytes are hidden (gdb/breakpoints.c).
 */
#include "gdb/internal.h"

#include <string.h>

#include "core/vcpu.h"
#include "core/vm.h"

#define RFLAGS_AC (1ull << 18)

static void fetch_mmu(struct vcpu *v, void *arg)
{
	struct mmu_ctx *c = arg;

	if (cpu_state_get(&v->state, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_DEBUG, "gdb")) {
		c->mem = NULL;
		return;
	}
	c->cr0 = v->state.sregs.cr0;
	c->cr3 = v->state.sregs.cr3;
	c->cr4 = v->state.sregs.cr4;
	c->efer = v->state.sregs.efer;
	c->ac = (v->state.regs->rflags & RFLAGS_AC) != 0;
	c->mem = &v->vm->mem;
}

static const struct mmu_ctx *mmu_of(struct gdb_server *g, unsigned cpu)
{
	struct gdb_cpu *c = &g->cpu[cpu];

	if (!c->mmu_valid) {
		vcpu_run_on(g->vm->vcpu[cpu], fetch_mmu, &c->mmu);
		c->mmu_valid = c->mmu.mem != NULL;
	}
	return c->mmu_valid ? &c->mmu : NULL;
}

void gdb_forget_translations(struct gdb_server *g)
{
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		g->cpu[i].mmu_valid = false;
}

/* In long mode, bits 63..47 (63..56 with 5-level paging) repeat one bit. */
static bool canonical(const struct mmu_ctx *c, uint64_t addr)
{
	unsigned bits = (c->cr4 & (1ull << 12)) ? 57 : 48;
	int64_t s = (int64_t)(addr << (64 - bits)) >> (64 - bits);

	return (uint64_t)s == addr;
}

bool gdb_translate(struct gdb_server *g, unsigned cpu, uint64_t addr, gpa_t *gpa)
{
	const struct mmu_ctx *c = mmu_of(g, cpu);
	uint32_t pfec;

	if (!c)
		return false;
	if (!mmu_paging(c) && !(c->efer & (1ull << 10)) && addr > 0xffffffffull)
		return false;      /* no linear address above 4 GiB without paging */
	if (mmu_paging(c) && (c->efer & (1ull << 10)) && !canonical(c, addr))
		return false;
	return mmu_translate(c, addr, MMU_DEBUG, gpa, &pfec) == MMU_OK;
}

/* The host bytes of the chunk [addr, addr + n) within one page, or NULL. */
static uint8_t *chunk(struct gdb_server *g, unsigned cpu, uint64_t addr, size_t n, gpa_t *gpa)
{
	if (!gdb_translate(g, cpu, addr, gpa))
		return NULL;
	return gpa_to_hva(&g->vm->mem, *gpa, n);
}

static size_t page_chunk(uint64_t addr, size_t left)
{
	size_t room = 4096 - (addr & 4095);

	return left < room ? left : room;
}

/* Copies guest memory into `out`, or `in` into guest memory (the other
 * is NULL), page by page, up to the first byte that is not mapped RAM;
 * returns how many bytes were copied. */
static size_t transfer(struct gdb_server *g, unsigned cpu, uint64_t addr, size_t len,
		       uint8_t *out, const uint8_t *in)
{
	size_t done = 0;

	while (done < len) {
		size_t n = page_chunk(addr + done, len - done);
		gpa_t gpa;
		uint8_t *p;

		if (addr + done < addr)
			break;         /* wrapped past the top of the address space */
		p = chunk(g, cpu, addr + done, n, &gpa);
		if (!p)
			break;
		if (in) {
			memcpy(p, in + done, n);
			bp_write(&g->bp, gpa, in + done, n);
		} else {
			memcpy(out + done, p, n);
			bp_hide(&g->bp, gpa, out + done, n);
		}
		done += n;
	}
	return done;
}

size_t gdb_read_memory(struct gdb_server *g, unsigned cpu, uint64_t addr, uint8_t *buf,
		       size_t len)
{
	return transfer(g, cpu, addr, len, buf, NULL);
}

size_t gdb_write_memory(struct gdb_server *g, unsigned cpu, uint64_t addr, const uint8_t *buf,
			size_t len)
{
	return transfer(g, cpu, addr, len, NULL, buf);
}
