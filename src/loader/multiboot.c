/*
 * Multiboot v1 (the multiboot specification 0.6.96): ELF and a.out-kludge
 * images, command line, modules and memory map.  The boot CPU enters in
 * flat 32-bit protected mode with paging off, EAX = 0x2BADB002 and EBX =
 * the multiboot information structure.
 *
 * Low memory used by shrike (a kernel that overlaps it is refused):
 *   0x0500  boot GDT (null, flat code 0x08, flat data 0x10)
 *   0x1000  multiboot information, memory map, module list, strings
 *           (up to 0x8000)
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "loader/loader.h"
#include "x86/e820.h"

#define MB_MAGIC            0x1BADB002u
#define MB_BOOT_MAGIC       0x2BADB002u
#define MB_SEARCH           8192
#define MB_FLAG_PAGE_ALIGN  (1u << 0)
#define MB_FLAG_MEMINFO     (1u << 1)
#define MB_FLAG_VIDEO       (1u << 2)
#define MB_FLAG_AOUT        (1u << 16)
#define MB_KNOWN_REQUIRED   (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

#define MBI_MEM       (1u << 0)
#define MBI_CMDLINE   (1u << 2)
#define MBI_MODS      (1u << 3)
#define MBI_MMAP      (1u << 6)
#define MBI_LOADER    (1u << 9)

#define GDT_ADDR      0x500u
#define INFO_ADDR     0x1000u
#define INFO_SIZE     0x7000u
#define INFO_MMAP     0x100u
#define INFO_MODS     0x400u
#define INFO_STRINGS  0x800u

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name, apm_table;
};

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* Offset of a valid header, or -1. */
static long find_header(const uint8_t *data, size_t size)
{
	size_t limit = size < MB_SEARCH ? size : MB_SEARCH;

	for (size_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t magic = le32(data + off);

		if (magic == MB_MAGIC && magic + le32(data + off + 4) + le32(data + off + 8) == 0)
			return (long)off;
	}
	return -1;
}

bool multiboot_detect(const uint8_t *data, size_t size)
{
	return find_header(data, size) >= 0;
}

static int plan_aout(const struct loader_input *in, struct boot_plan *plan, size_t hoff,
		     uint64_t *end, char *err, size_t errlen)
{
	const struct blob *k = &in->kernel;
	struct mb_header h;
	uint64_t file_off, load_size, mem_size;

	if (hoff + sizeof(h) > k->size) {
		err_set(err, errlen, "%s: multiboot a.out header truncated", k->path);
		return -1;
	}
	memcpy(&h, k->data + hoff, sizeof(h));
	if (h.load_addr > h.header_addr || h.header_addr - h.load_addr > hoff) {
		err_set(err, errlen, "%s: multiboot load_addr 0x%x inconsistent with header_addr 0x%x",
			k->path, h.load_addr, h.header_addr);
		return -1;
	}
	file_off = hoff - (h.header_addr - h.load_addr);
	if (h.load_end_addr == 0) {
		load_size = k->size - file_off;
	} else if (h.load_end_addr <= h.load_addr) {
		err_set(err, errlen, "%s: multiboot load_end_addr 0x%x not above load_addr 0x%x",
			k->path, h.load_end_addr, h.load_addr);
		return -1;
	} else {
		load_size = h.load_end_addr - h.load_addr;
	}
	if (file_off + load_size > k->size) {
		err_set(err, errlen, "%s: image truncated: needs 0x%llx bytes, file has 0x%zx",
			k->path, (unsigned long long)(file_off + load_size), k->size);
		return -1;
	}
	mem_size = load_size;
	if (h.bss_end_addr) {
		if (h.bss_end_addr < h.load_addr + load_size) {
			err_set(err, errlen, "%s: multiboot bss_end_addr 0x%x below the loaded image",
				k->path, h.bss_end_addr);
			return -1;
		}
		mem_size = h.bss_end_addr - h.load_addr;
	}
	if (h.entry_addr < h.load_addr || h.entry_addr >= h.load_addr + load_size) {
		err_set(err, errlen, "%s: multiboot entry 0x%x outside the loaded image", k->path,
			h.entry_addr);
		return -1;
	}
	if (plan_add(plan, in->mem, h.load_addr, k->data + file_off, load_size, mem_size,
		     "kernel image", err, errlen))
		return -1;
	plan->entry.rip = h.entry_addr;
	*end = h.load_addr + mem_size;
	plan->format = "multiboot-aout";
	return 0;
}

static int plan_elf(const struct loader_input *in, struct boot_plan *plan, uint64_t *end,
		    char *err, size_t errlen)
{
	struct elf_info elf;

	if (elf_plan_segments(in, &in->kernel, plan, &elf, err, errlen))
		return -1;
	if (!elf.entry_found || elf.entry_paddr > 0xffffffffull) {
		err_set(err, errlen, "%s: ELF entry point 0x%llx outside the loaded segments",
			in->kernel.path, (unsigned long long)elf.entry);
		return -1;
	}
	*end = elf.end;
	plan->entry.rip = elf.entry_paddr;
	plan->format = "multiboot-elf";
	return 0;
}

/* A string in the boot-info area; returns its guest address or 0. */
static uint32_t put_string(uint8_t *info, size_t *pos, const char *a, const char *b)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	size_t need = la + (b ? 1 + lb : 0) + 1;
	uint32_t addr = INFO_ADDR + (uint32_t)*pos;

	if (*pos + need > INFO_SIZE)
		return 0;
	memcpy(info + *pos, a, la);
	if (b) {
		info[*pos + la] = ' ';
		memcpy(info + *pos + la + 1, b, lb);
	}
	info[*pos + need - 1] = 0;
	*pos += need;
	return addr;
}

static int plan_modules(const struct loader_input *in, struct boot_plan *plan, uint8_t *info,
			size_t *spos, uint64_t end, char *err, size_t errlen)
{
	struct mb_module *mods = (struct mb_module *)(info + INFO_MODS);
	uint64_t addr = (end + 0xfff) & ~0xfffull;

	for (unsigned i = 0; i < in->nmodules; i++) {
		const struct blob *m = &in->modules[i];
		uint32_t str = put_string(info, spos, m->path, in->module_args[i]);

		if (!str) {
			err_set(err, errlen, "multiboot module strings exceed the boot information area");
			return -1;
		}
		if (addr + m->size > 0xffffffffull) {
			err_set(err, errlen, "%s: module does not fit below 4 GiB", m->path);
			return -1;
		}
		if (plan_add(plan, in->mem, addr, m->data, m->size, m->size ? m->size : 1,
			     m->path, err, errlen))
			return -1;
		mods[i] = (struct mb_module){ (uint32_t)addr, (uint32_t)(addr + m->size), str, 0 };
		addr = (addr + m->size + 0xfff) & ~0xfffull;
	}
	return 0;
}

static void fill_memory(const struct loader_input *in, struct mb_info *mbi, uint8_t *info)
{
	struct e820_entry map[E820_MAX];
	unsigned n = e820_build(in->mem, map);
	struct mb_mmap *mm = (struct mb_mmap *)(info + INFO_MMAP);
	uint64_t low = guest_mem_low_end(in->mem);

	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct mb_mmap){ 20, map[i].addr, map[i].size, map[i].type };
	mbi->mmap_addr = INFO_ADDR + INFO_MMAP;
	mbi->mmap_length = n * (uint32_t)sizeof(*mm);
	mbi->mem_lower = 640;
	mbi->mem_upper = low > E820_HIGH_START ? (uint32_t)((low - E820_HIGH_START) >> 10) : 0;
	mbi->flags |= MBI_MEM | MBI_MMAP;
}

static uint8_t *build_gdt(struct boot_plan *plan)
{
	static const uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	uint8_t *p = plan_alloc(plan, sizeof(gdt));

	if (p)
		memcpy(p, gdt, sizeof(gdt));
	return p;
}

int multiboot_plan(const struct loader_input *in, struct boot_plan *plan, char *err,
		   size_t errlen)
{
	const struct blob *k = &in->kernel;
	long hoff = find_header(k->data, k->size);
	uint32_t flags;
	uint64_t end = 0;
	uint8_t *info, *gdt;
	struct mb_info *mbi;
	size_t spos = INFO_STRINGS;
	int r;

	if (hoff < 0) {
		err_set(err, errlen, "%s: no multiboot header", k->path);
		return -1;
	}
	flags = le32(k->data + hoff + 4);
	if ((flags & 0xffff) & ~MB_KNOWN_REQUIRED) {
		err_set(err, errlen, "%s: multiboot header requires unsupported features (flags 0x%x)",
			k->path, flags);
		return -1;
	}
	r = (flags & MB_FLAG_AOUT) ? plan_aout(in, plan, (size_t)hoff, &end, err, errlen)
				   : plan_elf(in, plan, &end, err, errlen);
	if (r)
		return -1;
	info = plan_alloc(plan, INFO_SIZE);
	gdt = build_gdt(plan);
	if (!info || !gdt) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	mbi = (struct mb_info *)info;
	fill_memory(in, mbi, info);
	mbi->cmdline = put_string(info, &spos, k->path, in->cmdline);
	mbi->boot_loader_name = put_string(info, &spos, "shrike", NULL);
	if (!mbi->cmdline || !mbi->boot_loader_name) {
		err_set(err, errlen, "kernel command line too long for the boot information area");
		return -1;
	}
	mbi->flags |= MBI_CMDLINE | MBI_LOADER;
	if (in->nmodules) {
		if (plan_modules(in, plan, info, &spos, end, err, errlen))
			return -1;
		mbi->mods_count = in->nmodules;
		mbi->mods_addr = INFO_ADDR + INFO_MODS;
		mbi->flags |= MBI_MODS;
	}
	if (plan_add(plan, in->mem, GDT_ADDR, gdt, 24, 24, "boot GDT", err, errlen) ||
	    plan_add(plan, in->mem, INFO_ADDR, info, INFO_SIZE, INFO_SIZE,
		     "multiboot information", err, errlen))
		return -1;
	plan->entry.mode = ENTRY_PROTECTED32;
	plan->entry.rax = MB_BOOT_MAGIC;
	plan->entry.rbx = INFO_ADDR;
	plan->entry.gdt_base = GDT_ADDR;
	return 0;
}
