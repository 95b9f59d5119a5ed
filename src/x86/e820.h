/* The PC memory map shrike reports to guests (multiboot mmap, Linux e820). */
#ifndef SHRIKE_E820_H
#define SHRIKE_E820_H

#include <stdint.h>

#include "base/memory.h"

enum e820_type { E820_RAM = 1, E820_RESERVED = 2 };

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

#define E820_MAX 8
#define E820_EBDA_START 0x9fc00ull
#define E820_HIGH_START 0x100000ull

/* Fills `out` (E820_MAX entries) and returns the count. */
unsigned e820_build(const struct guest_mem *mem, struct e820_entry *out);

#endif
