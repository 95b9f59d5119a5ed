/* ELF images (32- and 64-bit, x86): every PT_LOAD segment at its physical
 * address.  Shared by the multiboot and PVH loaders. */
#include <string.h>

#include "base/log.h"
#include "loader/loader.h"

struct elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static struct elf_phdr read_phdr(const uint8_t *p, bool is64)
{
	struct elf_phdr ph = { .type = le32(p) };

	if (is64) {
		ph.offset = le64(p + 8);
		ph.vaddr = le64(p + 16);
		ph.paddr = le64(p + 24);
		ph.filesz = le64(p + 32);
		ph.memsz = le64(p + 40);
	} else {
		ph.offset = le32(p + 4);
		ph.vaddr = le32(p + 8);
		ph.paddr = le32(p + 12);
		ph.filesz = le32(p + 16);
		ph.memsz = le32(p + 20);
	}
	return ph;
}

int elf_program_headers(const struct blob *k, struct elf_info *info, char *err, size_t errlen)
{
	const uint8_t *d = k->data;
	bool is64;

	if (k->size < 52 || memcmp(d, "\177ELF", 4) || (d[4] != 1 && d[4] != 2) || d[5] != 1) {
		err_set(err, errlen, "%s: not a little-endian ELF file", k->path);
		return -1;
	}
	is64 = d[4] == 2;
	if ((is64 && k->size < 64) || (le16(d + 18) != 3 && le16(d + 18) != 62)) {
		err_set(err, errlen, "%s: ELF header truncated or not for x86", k->path);
		return -1;
	}
	info->is64 = is64;
	info->entry = is64 ? le64(d + 24) : le32(d + 24);
	info->phoff = is64 ? le64(d + 32) : le32(d + 28);
	info->phentsize = le16(d + (is64 ? 54 : 42));
	info->phnum = le16(d + (is64 ? 56 : 44));
	if (info->phentsize != (is64 ? 56u : 32u) || info->phnum == 0 || info->phoff > k->size ||
	    (uint64_t)info->phnum * info->phentsize > k->size - info->phoff) {
		err_set(err, errlen, "%s: ELF program headers missing or truncated", k->path);
		return -1;
	}
	return 0;
}

int elf_plan_segments(const struct loader_input *in, const struct blob *k, struct boot_plan *plan,
		      struct elf_info *info, char *err, size_t errlen)
{
	const uint8_t *d = k->data;
	unsigned loads = 0;

	if (elf_program_headers(k, info, err, errlen))
		return -1;
	info->end = 0;
	info->entry_paddr = 0;
	info->entry_found = false;
	for (unsigned i = 0; i < info->phnum; i++) {
		struct elf_phdr ph = read_phdr(d + info->phoff + (uint64_t)i * info->phentsize,
					       info->is64);

		if (ph.type != 1 /* PT_LOAD */ || ph.memsz == 0)
			continue;
		if (ph.offset > k->size || ph.filesz > k->size - ph.offset) {
			err_set(err, errlen, "%s: ELF segment %u truncated (needs 0x%llx bytes at 0x%llx)",
				k->path, i, (unsigned long long)ph.filesz,
				(unsigned long long)ph.offset);
			return -1;
		}
		if (plan_add(plan, in->mem, ph.paddr, d + ph.offset, ph.filesz, ph.memsz,
			     "kernel segment", err, errlen))
			return -1;
		/* The entry is virtual: find its segment, take the physical one. */
		if (!info->entry_found && info->entry >= ph.vaddr && info->entry - ph.vaddr < ph.memsz) {
			info->entry_paddr = info->entry - ph.vaddr + ph.paddr;
			info->entry_found = true;
		}
		if (ph.paddr + ph.memsz > info->end)
			info->end = ph.paddr + ph.memsz;
		loads++;
	}
	if (!loads) {
		err_set(err, errlen, "%s: ELF file has no loadable segment", k->path);
		return -1;
	}
	return 0;
}
