#include "base/memory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_ALIGN (2ull << 20)

int guest_mem_init(struct guest_mem *mem, uint64_t size)
{
	uint8_t *raw, *host;
	uint64_t slack;

	memset(mem, 0, sizeof(*mem));
	if (size == 0 || size > UINT64_MAX - HUGE_ALIGN)
		return -EINVAL;
	/* MAP_NORESERVE: a guest's RAM is populated on first touch only, so a
	 * large --memory costs nothing until the guest uses it.  Aligned to
	 * 2 MiB and advised for transparent huge pages (above 2 MiB): far
	 * fewer host page faults (and, with shadow paging, shadow faults) as
	 * the guest touches its memory. */
	raw = mmap(NULL, size + HUGE_ALIGN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return -errno;
	host = (uint8_t *)(((uintptr_t)raw + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
	slack = (uint64_t)(host - raw);
	if (slack)
		munmap(raw, slack);
	if (HUGE_ALIGN - slack)
		munmap(host + size, HUGE_ALIGN - slack);
	/* Not the first 2 MiB: where firmware tables, boot information and
	 * small kernels go, written by shrike before the first instruction.
	 * Faulting in a huge page may stall on compaction (6 ms and more on
	 * a fragmented host), which would dominate the start of a small VM. */
	if (size > HUGE_ALIGN)
		madvise(host + HUGE_ALIGN, size - HUGE_ALIGN, MADV_HUGEPAGE);
	mem->host = host;
	mem->total = size;
	mem->bank[0] = (struct mem_bank){ 0, size, host };
	mem->nbanks = 1;
	if (size > MEM_LOW_LIMIT) {
		mem->bank[0].size = MEM_LOW_LIMIT;
		mem->bank[1] = (struct mem_bank){ MEM_HIGH_BASE, size - MEM_LOW_LIMIT,
						  mem->host + MEM_LOW_LIMIT };
		mem->nbanks = 2;
	}
	return 0;
}

void guest_mem_free(struct guest_mem *mem)
{
	if (mem->host)
		munmap(mem->host, mem->total);
	free(mem->file);
	memset(mem, 0, sizeof(*mem));
}

int guest_mem_note_file_backed(struct guest_mem *mem, gpa_t gpa, uint64_t size)
{
	struct mem_file_range *f = realloc(mem->file, (mem->nfile + 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	mem->file = f;
	mem->file[mem->nfile++] = (struct mem_file_range){ gpa, size };
	return 0;
}

bool guest_mem_file_backed(const struct guest_mem *mem, gpa_t gpa)
{
	for (size_t i = 0; i < mem->nfile; i++)
		if (gpa >= mem->file[i].gpa && gpa - mem->file[i].gpa < mem->file[i].size)
			return true;
	return false;
}

void *gpa_to_hva(const struct guest_mem *mem, gpa_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mem->nbanks; i++) {
		const struct mem_bank *b = &mem->bank[i];
		uint64_t end;

		if (gpa < b->gpa || __builtin_add_overflow(gpa, len, &end))
			continue;
		if (end <= b->gpa + b->size)
			return b->host + (gpa - b->gpa);
	}
	return NULL;
}

uint64_t guest_mem_low_end(const struct guest_mem *mem)
{
	return mem->nbanks ? mem->bank[0].size : 0;
}
