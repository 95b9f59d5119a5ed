/*
 * Guest physical memory.  RAM starts at guest physical 0; above 3 GiB it is
 * split around the PC's 32-bit MMIO hole and continues at 4 GiB.  Every
 * guest-supplied address goes through gpa_to_hva(), which checks the whole
 * range against RAM with overflow-safe arithmetic.
 */
#ifndef SHRIKE_MEMORY_H
#define SHRIKE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t gpa_t;

#define MEM_LOW_LIMIT  0xC0000000ull   /* RAM below the 32-bit MMIO hole */
#define MEM_HIGH_BASE  0x100000000ull  /* RAM above it restarts at 4 GiB */
/* The hole opens with PCI's memory-mapped configuration space (bus 0
 * only, 1 MiB; hw/pci.c), which the E820 map reserves as Linux wants. */
#define MEM_ECAM_BASE  MEM_LOW_LIMIT
#define MEM_ECAM_SIZE  0x100000ull

struct mem_bank {
	gpa_t gpa;
	uint64_t size;
	uint8_t *host;
};

/* A range of RAM mapped from a file (a restored snapshot): its pages are
 * not zero just because they were never touched. */
struct mem_file_range {
	gpa_t gpa;
	uint64_t size;
};

struct guest_mem {
	uint8_t *host;          /* one host mapping for all banks */
	uint64_t total;         /* bytes of RAM */
	struct mem_bank bank[2];
	unsigned nbanks;
	struct mem_file_range *file;
	size_t nfile;
};

/* Maps `size` bytes of zeroed RAM and lays it out in banks.  Returns 0 or
 * -errno. */
int guest_mem_init(struct guest_mem *mem, uint64_t size);
void guest_mem_free(struct guest_mem *mem);

/* Host pointer for [gpa, gpa + len) if the whole range is RAM within one
 * bank, else NULL. */
void *gpa_to_hva(const struct guest_mem *mem, gpa_t gpa, uint64_t len);

/* Records / asks whether RAM at gpa is mapped from a file. */
int guest_mem_note_file_backed(struct guest_mem *mem, gpa_t gpa, uint64_t size);
bool guest_mem_file_backed(const struct guest_mem *mem, gpa_t gpa);

/* End of the RAM bank that starts at 0 (the "low" RAM). */
uint64_t guest_mem_low_end(const struct guest_mem *mem);

#endif
