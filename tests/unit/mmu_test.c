/*
 * The page walker (x86/mmu.c) that the debugger and the emulator use: every
 * paging mode and page size, with page tables built in guest RAM, and what
 * a debugger access (MMU_DEBUG) does differently.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "base/memory.h"
#include "x86/mmu.h"

#define P  1ull
#define W  2ull
#define U  4ull
#define A  (1ull << 5)
#define D  (1ull << 6)
#define PS (1ull << 7)
#define NX (1ull << 63)

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static struct guest_mem mem;

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(gpa_to_hva(&mem, gpa, 8), &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(gpa_to_hva(&mem, gpa, 4), &v, 4);
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, gpa_to_hva(&mem, gpa, 8), 8);
	return v;
}

static void clear(void)
{
	memset(mem.host, 0, 16u << 20);
}

static enum mmu_result tr(const struct mmu_ctx *c, uint64_t la, unsigned access, uint64_t *gpa)
{
	uint32_t pfec = 0;

	return mmu_translate(c, la, access, gpa, &pfec);
}

static void paging_off(void)
{
	struct mmu_ctx c = { .mem = &mem, .cr0 = CR0_PE };
	uint64_t gpa;

	CHECK_EQ(tr(&c, 0x123456789ull, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0x23456789);            /* 32-bit linear addresses */
	c.cr0 = 0;
	CHECK_EQ(tr(&c, 0xb8000, MMU_DEBUG, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0xb8000);
}

static void legacy_32bit(void)
{
	struct mmu_ctx c = { .mem = &mem, .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PSE };
	uint64_t gpa;

	clear();
	put32(0x1000 + 1 * 4, 0x2000 | P | W);             /* 4 MiB-8 MiB: a page table */
	put32(0x2000 + 5 * 4, 0x7000 | P);                 /* 0x405000 -> 0x7000, read-only */
	put32(0x1000 + 2 * 4, 0xc00000 | P | W | U | PS);  /* 8 MiB: a 4 MiB page */
	CHECK_EQ(tr(&c, 0x405123, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0x7123);
	CHECK_EQ(tr(&c, 0x912345, MMU_READ | MMU_USER, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0xd12345);
	CHECK_EQ(tr(&c, 0x1000, MMU_READ, &gpa), MMU_FAULT);
}

static void pae(void)
{
	struct mmu_ctx c = { .mem = &mem, .cr0 = CR0_PE | CR0_PG, .cr3 = 0x3000,
			     .cr4 = CR4_PAE, .efer = EFER_NXE };
	uint64_t gpa;

	clear();
	put64(0x3000 + 1 * 8, 0x4000 | P);                  /* 1-2 GiB */
	put64(0x4000 + 0 * 8, 0x6000 | P | W);              /* 1 GiB + 0: a page table */
	put64(0x6000 + 3 * 8, 0x9000 | P | W | NX);
	put64(0x4000 + 1 * 8, 0xa00000 | P | W | PS);       /* 1 GiB + 2 MiB: a 2 MiB page */
	CHECK_EQ(tr(&c, 0x40003abc, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0x9abc);
	CHECK_EQ(tr(&c, 0x40003abc, MMU_FETCH, &gpa), MMU_FAULT);   /* NX */
	CHECK_EQ(tr(&c, 0x40003abc, MMU_FETCH | MMU_DEBUG, &gpa), MMU_OK);
	CHECK_EQ(tr(&c, 0x40234567, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0xa34567);
}

/* Long mode page tables: 4 KiB, 2 MiB and 1 GiB leaves. */
static void build_long(uint64_t top)
{
	put64(top + 0 * 8, 0x11000 | P | W | U);            /* PML4[0] */
	put64(0x11000 + 0 * 8, 0x12000 | P | W | U);        /* PDPT[0]: 0-1 GiB */
	put64(0x12000 + 0 * 8, 0x13000 | P | W);            /* PD[0]: 0-2 MiB, supervisor */
	put64(0x13000 + 0x42 * 8, 0x8000 | P);              /* 0x42000 -> 0x8000, read-only */
	put64(0x12000 + 3 * 8, 0x400000 | P | W | U | PS);  /* 6 MiB: 2 MiB page at 4 MiB */
	put64(0x11000 + 2 * 8, 0x0 | P | W | U | PS);       /* 2 GiB: 1 GiB page at 0 */
}

static void long_mode(void)
{
	struct mmu_ctx c = { .mem = &mem, .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x10000,
			     .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA };
	uint64_t gpa, pte;

	clear();
	build_long(0x10000);
	CHECK_EQ(tr(&c, 0x42010, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0x8010);
	CHECK_EQ(tr(&c, 0x612345, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0x412345);
	CHECK_EQ(tr(&c, 0x80000000ull + 0x123456, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0x123456);
	CHECK_EQ(tr(&c, 0x7f0000000000ull, MMU_READ, &gpa), MMU_FAULT);
	/* A debugger's access: no permission checks, no A/D bits. */
	CHECK_EQ(tr(&c, 0x42010, MMU_WRITE | MMU_USER, &gpa), MMU_FAULT);
	build_long(0x10000);                                 /* A bits clear again */
	CHECK_EQ(tr(&c, 0x42010, MMU_WRITE | MMU_DEBUG, &gpa), MMU_OK);
	pte = get64(0x13000 + 0x42 * 8);
	CHECK_EQ(pte & (A | D), 0);
	CHECK_EQ(tr(&c, 0x42010, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(get64(0x13000 + 0x42 * 8) & A, A);
}

static void five_level(void)
{
	struct mmu_ctx c = { .mem = &mem, .cr0 = CR0_PE | CR0_PG, .cr3 = 0x20000,
			     .cr4 = CR4_PAE | CR4_LA57, .efer = EFER_LME | EFER_LMA };
	uint64_t gpa;

	clear();
	put64(0x20000 + 1 * 8, 0x10000 | P | W);            /* PML5[1]: 128 PiB up */
	build_long(0x10000);
	CHECK_EQ(tr(&c, (1ull << 48) + 0x612345, MMU_READ, &gpa), MMU_OK);
	CHECK_EQ(gpa, 0x412345);
	CHECK_EQ(tr(&c, 0x612345, MMU_READ, &gpa), MMU_FAULT);   /* PML5[0] absent */
}

static void tables_outside_ram(void)
{
	struct mmu_ctx c = { .mem = &mem, .cr0 = CR0_PE | CR0_PG, .cr3 = 0x10000,
			     .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA };
	uint64_t gpa;

	clear();
	put64(0x10000, 0xfee00000ull | P | W);              /* PDPT in the LAPIC page */
	CHECK_EQ(tr(&c, 0x1000, MMU_DEBUG, &gpa), MMU_NOT_RAM);
	c.cr3 = 0x7ff0000000ull;                             /* CR3 far beyond RAM */
	CHECK_EQ(tr(&c, 0x1000, MMU_DEBUG, &gpa), MMU_NOT_RAM);
}

int main(void)
{
	if (guest_mem_init(&mem, 16u << 20)) {
		printf("FAIL mmu_test: no guest memory\n");
		return 1;
	}
	run_test("mmu_paging_off", paging_off);
	run_test("mmu_32bit_4k_4m", legacy_32bit);
	run_test("mmu_pae_4k_2m_nx", pae);
	run_test("mmu_long_4k_2m_1g_debug", long_mode);
	run_test("mmu_five_level", five_level);
	run_test("mmu_tables_outside_ram", tables_outside_ram);
	guest_mem_free(&mem);
	return check_failures ? 1 : 0;
}
