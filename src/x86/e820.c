#include "x86/e820.h"

static unsigned add(struct e820_entry *out, unsigned n, uint64_t addr, uint64_t end, uint32_t type)
{
	if (end > addr && n < E820_MAX)
		out[n++] = (struct e820_entry){ addr, end - addr, type };
	return n;
}

unsigned e820_build(const struct guest_mem *mem, struct e820_entry *out)
{
	uint64_t low = guest_mem_low_end(mem);
	unsigned n = 0;

	/* Conventional memory up to the EBDA; the EBDA, the VGA hole, the ACPI
	 * tables and the BIOS area as one reserved range (Linux's PVH entry
	 * reserves 640K-1M itself, so any finer split would not survive);
	 * then extended memory, PCI's ECAM window (Linux uses ECAM only where
	 * the map reserves it) and the RAM above 4 GiB. */
	n = add(out, n, 0, low < E820_EBDA_START ? low : E820_EBDA_START, E820_RAM);
	if (low > E820_EBDA_START)
		n = add(out, n, E820_EBDA_START, E820_HIGH_START, E820_RESERVED);
	n = add(out, n, E820_HIGH_START, low, E820_RAM);
	n = add(out, n, MEM_ECAM_BASE, MEM_ECAM_BASE + MEM_ECAM_SIZE, E820_RESERVED);
	for (unsigned i = 1; i < mem->nbanks; i++)
		n = add(out, n, mem->bank[i].gpa, mem->bank[i].gpa + mem->bank[i].size, E820_RAM);
	return n;
}
