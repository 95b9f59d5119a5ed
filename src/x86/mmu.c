#include "x86/mmu.h"

#include <stddef.h>

#define CR0_PG   (1ull << 31)
#define CR0_WP   (1ull << 16)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_NX   (1ull << 63)
#define ADDR_MASK 0x000ffffffffff000ull

bool mmu_paging(const struct mmu_ctx *c)
{
	return c->cr0 & CR0_PG;
}

/* One step of a walk: the entry's host location and value. */
struct level {
	void *hva;
	uint64_t value;
	bool wide;                 /* 8-byte entry */
};

static bool read_entry(const struct mmu_ctx *c, uint64_t gpa, bool wide, struct level *l)
{
	l->wide = wide;
	l->hva = gpa_to_hva(c->mem, gpa, wide ? 8 : 4);
	if (!l->hva)
		return false;
	if (wide)
		l->value = __atomic_load_n((uint64_t *)l->hva, __ATOMIC_ACQUIRE);
	else
		l->value = __atomic_load_n((uint32_t *)l->hva, __ATOMIC_ACQUIRE);
	return true;
}

/* Sets bits in an entry as the CPU does: atomically, only if not set. */
static void set_bits(struct level *l, uint64_t bits)
{
	if ((l->value & bits) == bits)
		return;
	if (l->wide)
		__atomic_fetch_or((uint64_t *)l->hva, bits, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_or((uint32_t *)l->hva, (uint32_t)bits, __ATOMIC_SEQ_CST);
}

/* The permission checks, once the leaf is known. */
static bool allowed(const struct mmu_ctx *c, unsigned access, bool user, bool writable, bool nx)
{
	bool sup = !(access & MMU_USER);

	if (access & MMU_DEBUG)
		return true;
	if (!sup && !user)
		return false;
	if ((access & MMU_WRITE) && !writable && (!sup || (c->cr0 & CR0_WP)))
		return false;
	if ((access & MMU_FETCH) && nx)
		return false;
	if (sup && user && (access & MMU_FETCH) && (c->cr4 & CR4_SMEP))
		return false;
	/* SMAP: supervisor data access to a user page, unless RFLAGS.AC
	 * allows it (never for the CPU's own implicit accesses). */
	if (sup && user && !(access & MMU_FETCH) && (c->cr4 & CR4_SMAP) &&
	    ((access & MMU_IMPLICIT) || !c->ac))
		return false;
	return true;
}

static uint32_t error_code(unsigned access, bool present, bool rsvd, const struct mmu_ctx *c)
{
	uint32_t e = present ? PFEC_P : 0;

	if (access & MMU_WRITE)
		e |= PFEC_W;
	if (access & MMU_USER)
		e |= PFEC_U;
	if (rsvd)
		e |= PFEC_RSVD | PFEC_P;
	if ((access & MMU_FETCH) && ((c->efer & EFER_NXE) || (c->cr4 & CR4_SMEP)))
		e |= PFEC_I;
	return e;
}

struct walk {
	struct level lv[5];
	unsigned n;
	bool user, writable, nx;
};

/* 32-bit paging: two levels of 4-byte entries, 4 MiB pages with PSE. */
static int walk_32(const struct mmu_ctx *c, uint64_t linear, struct walk *w, uint64_t *gpa)
{
	uint64_t pde_addr = (c->cr3 & 0xfffff000ull) + ((linear >> 22) & 0x3ff) * 4;
	struct level *pde = &w->lv[w->n];

	if (!read_entry(c, pde_addr, false, pde))
		return MMU_NOT_RAM;
	w->n++;
	if (!(pde->value & PTE_P))
		return -1;
	w->user = pde->value & PTE_U;
	w->writable = pde->value & PTE_W;
	if ((pde->value & PTE_PS) && (c->cr4 & CR4_PSE)) {
		*gpa = (pde->value & 0xffc00000ull) | ((pde->value >> 13) & 0xffull) << 32 |
		       (linear & 0x3fffff);
		return MMU_OK;
	}
	if (!read_entry(c, (pde->value & 0xfffff000ull) + ((linear >> 12) & 0x3ff) * 4, false,
			&w->lv[w->n]))
		return MMU_NOT_RAM;
	w->n++;
	if (!(w->lv[1].value & PTE_P))
		return -1;
	w->user &= (w->lv[1].value & PTE_U) != 0;
	w->writable &= (w->lv[1].value & PTE_W) != 0;
	*gpa = (w->lv[1].value & 0xfffff000ull) | (linear & 0xfff);
	return MMU_OK;
}

/*
 * PAE and long mode: 8-byte entries, 9 bits a level.  `levels`: 3 (PAE,
 * whose first level has 4 entries), 4 or 5.  Returns MMU_OK, MMU_NOT_RAM,
 * -1 (not present) or -2 (reserved bit set).
 */
static int walk_wide(const struct mmu_ctx *c, uint64_t linear, unsigned levels, struct walk *w,
		     uint64_t *gpa)
{
	uint64_t table = levels == 3 ? (c->cr3 & 0xffffffe0ull) : (c->cr3 & ADDR_MASK);
	bool nxe = c->efer & EFER_NXE;

	w->user = w->writable = true;
	w->nx = false;
	for (unsigned l = levels; l >= 1; l--) {
		unsigned shift = 12 + 9 * (l - 1);
		uint64_t idx = (linear >> shift) & (levels == 3 && l == 3 ? 3 : 0x1ff);
		struct level *e = &w->lv[w->n];

		if (!read_entry(c, table + idx * 8, true, e))
			return MMU_NOT_RAM;
		w->n++;
		if (!(e->value & PTE_P))
			return -1;
		if (((e->value & PTE_NX) && !nxe) ||
		    ((e->value & PTE_PS) && (l > 3 || (levels == 3 && l == 3))))
			return -2;
		/* PAE's PDPTEs carry no permission bits. */
		if (!(levels == 3 && l == 3)) {
			w->user &= (e->value & PTE_U) != 0;
			w->writable &= (e->value & PTE_W) != 0;
			w->nx |= nxe && (e->value & PTE_NX);
		}
		if (l == 1 || (e->value & PTE_PS)) {
			uint64_t page = (1ull << shift) - 1;

			*gpa = (e->value & ADDR_MASK & ~page) | (linear & page);
			return MMU_OK;
		}
		table = e->value & ADDR_MASK;
	}
	return -1;
}

enum mmu_result mmu_translate(const struct mmu_ctx *c, uint64_t linear, unsigned access,
			      uint64_t *gpa, uint32_t *pfec)
{
	struct walk w = { .n = 0 };
	int r;

	if (!(c->cr0 & CR0_PG)) {
		*gpa = (c->efer & EFER_LMA) ? linear : (linear & 0xffffffffull);
		return MMU_OK;
	}
	if (!(c->cr4 & CR4_PAE))
		r = walk_32(c, linear, &w, gpa);
	else if (!(c->efer & EFER_LMA))
		r = walk_wide(c, linear, 3, &w, gpa);
	else
		r = walk_wide(c, linear, (c->cr4 & CR4_LA57) ? 5 : 4, &w, gpa);
	if (r == MMU_NOT_RAM)
		return MMU_NOT_RAM;
	if (r < 0) {
		*pfec = error_code(access, false, r == -2, c);
		return MMU_FAULT;
	}
	if (!allowed(c, access, w.user, w.writable, w.nx)) {
		*pfec = error_code(access, true, false, c);
		return MMU_FAULT;
	}
	if (!(access & MMU_DEBUG)) {
		for (unsigned i = 0; i < w.n; i++)
			set_bits(&w.lv[i], PTE_A);
		if (access & MMU_WRITE)
			set_bits(&w.lv[w.n - 1], PTE_D);
	}
	return MMU_OK;
}
