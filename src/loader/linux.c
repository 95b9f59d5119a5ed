/*
 * Linux guests, two ways in:
 *
 * bzImage through the x86 boot protocol (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel at 1 MiB, the zero page (boot_params) with the
 * setup header, e820 map and command line, the initrd as high as the
 * kernel allows, and the 64-bit entry (load address + 0x200) with the
 * first 4 GiB identity-mapped and a GDT with __BOOT_CS = 0x10 and
 * __BOOT_DS = 0x18; RSI points at the zero page.
 *
 * vmlinux (ELF) through its PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): the
 * segments at their physical addresses, an hvm_start_info with the memory
 * map, command line, RSDP and the initrd as module 0; 32-bit protected
 * mode, paging off, EBX = start_info.
 *
 * Both get the ACPI tables (x86/acpi.c) in the reserved area at 0xE0000.
 *
 * Low memory used (a kernel overlapping it is refused):
 *   0x0500  GDT          0x6000  PVH start_info, memory map, module list
 *   0x7000  zero page    0x9000  page tables (PML4, PDPT, 4 PDs) to 0xF000
 *   0x20000 command line 0xE0000 ACPI tables
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "loader/loader.h"
#include "x86/acpi.h"
#include "x86/e820.h"

#define GDT_ADDR        0x500u
#define START_INFO_ADDR 0x6000u
#define ZERO_PAGE_ADDR  0x7000u
#define PT_ADDR         0x9000u
#define PT_SIZE         0x6000u
#define CMDLINE_ADDR    0x20000u
#define CMDLINE_MAX     0x10000u
#define KERNEL_ADDR     0x100000u

#define SETUP_HDR       0x1f1
#define XLF_KERNEL_64   (1u << 0)
#define LOADED_HIGH     0x01
#define PVH_MAGIC       0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY 18


bool bzimage_detect(const uint8_t *d, size_t size)
{
	return size >= 0x250 && le16(d + 0x1fe) == 0xaa55 && !memcmp(d + 0x202, "HdrS", 4);
}

/* Common to both ways: GDT (0x08 and 0x10 code, 0x18 data) and ACPI. */
static int plan_common(const struct loader_input *in, struct boot_plan *plan, char *err,
		       size_t errlen)
{
	static const uint64_t gdt[4] = { 0, 0x00cf9a000000ffffull, 0x00af9a000000ffffull,
					 0x00cf92000000ffffull };
	uint8_t *g = plan_alloc(plan, sizeof(gdt));

	if (!g) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	memcpy(g, gdt, sizeof(gdt));
	if (plan_add(plan, in->mem, GDT_ADDR, g, sizeof(gdt), sizeof(gdt), "boot GDT", err, errlen) ||
	    plan_acpi(in, plan, true, err, errlen))
		return -1;
	plan->entry.gdt_base = GDT_ADDR;
	plan->entry.gdt_limit = sizeof(gdt) - 1;
	return 0;
}

static const char *linux_cmdline(const struct loader_input *in)
{
	return in->cmdline ? in->cmdline : "console=ttyS0";
}

/* The command line, with the profile's options after the user's. */
static int plan_cmdline(const struct loader_input *in, struct boot_plan *plan, uint32_t max,
			char *err, size_t errlen)
{
	const char *user = linux_cmdline(in);
	size_t len = strlen(user) + (in->cmdline_extra ? 1 + strlen(in->cmdline_extra) : 0);
	char *c;

	if (len >= max || len >= CMDLINE_MAX) {
		err_set(err, errlen, "kernel command line of %zu bytes exceeds the kernel's limit of %u",
			len, max);
		return -1;
	}
	c = (char *)plan_alloc(plan, len + 1);
	if (!c) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	snprintf(c, len + 1, "%s%s%s", user, in->cmdline_extra ? " " : "",
		 in->cmdline_extra ? in->cmdline_extra : "");

	if (len >= max || len >= CMDLINE_MAX) {
		err_set(err, errlen, "kernel command line of %zu bytes exceeds the kernel's limit of %u",
			len, max);
		return -1;
	}
	return plan_add(plan, in->mem, CMDLINE_ADDR, c, len, len + 1, "command line", err, errlen);
}

/* The initrd (module 0) as high as possible below `limit`, above `floor`. */
static int plan_initrd(const struct loader_input *in, struct boot_plan *plan, uint64_t floor,
		       uint64_t limit, uint64_t *addr, char *err, size_t errlen)
{
	const struct blob *rd = &in->modules[0];
	uint64_t top = guest_mem_low_end(in->mem);

	*addr = 0;
	if (!in->nmodules)
		return 0;
	if (in->nmodules > 1) {
		err_set(err, errlen, "a Linux kernel takes one initrd, not %u modules", in->nmodules);
		return -1;
	}
	if (limit && top > limit + 1)
		top = limit + 1;
	if (rd->size > top || ((top - rd->size) & ~0xfffull) < floor) {
		err_set(err, errlen, "%s: initrd of %zu bytes does not fit in guest RAM above the kernel",
			rd->path, rd->size);
		return -1;
	}
	*addr = (top - rd->size) & ~0xfffull;
	return plan_add(plan, in->mem, *addr, rd->data, rd->size, rd->size ? rd->size : 1, rd->path,
			err, errlen);
}

/* ---- bzImage ---- */

static int plan_page_tables(const struct loader_input *in, struct boot_plan *plan, char *err,
			    size_t errlen)
{
	uint8_t *pt = plan_alloc(plan, PT_SIZE);

	if (!pt) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	/* PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs of 2 MiB pages: 4 GiB identity. */
	put_le64(pt, (PT_ADDR + 0x1000) | 0x3);
	for (unsigned i = 0; i < 4; i++)
		put_le64(pt + 0x1000 + 8 * i, (PT_ADDR + 0x2000 + 0x1000 * i) | 0x3);
	for (unsigned i = 0; i < 2048; i++)
		put_le64(pt + 0x2000 + 8 * i, ((uint64_t)i << 21) | 0x83);
	plan->entry.cr3 = PT_ADDR;
	return plan_add(plan, in->mem, PT_ADDR, pt, PT_SIZE, PT_SIZE, "page tables", err, errlen);
}

static void fill_e820(const struct loader_input *in, uint8_t *zp)
{
	struct e820_entry map[E820_MAX];
	unsigned n = e820_build(in->mem, map);

	zp[0x1e8] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = zp + 0x2d0 + 20 * i;

		put_le64(e, map[i].addr);
		put_le64(e + 8, map[i].size);
		put_le32(e + 16, map[i].type);
	}
}

int bzimage_plan(const struct loader_input *in, struct boot_plan *plan, char *err, size_t errlen)
{
	const struct blob *k = &in->kernel;
	const uint8_t *d = k->data;
	unsigned setup_sects = d[SETUP_HDR] ? d[SETUP_HDR] : 4;
	uint16_t version = le16(d + 0x206);
	size_t setup_size = (size_t)(setup_sects + 1) * 512, hdr_end = 0x202 + d[0x201];
	uint32_t init_size, cmdline_size, initrd_max;
	uint64_t kernel_size, initrd_addr;
	uint8_t *zp;

	if (version < 0x020c) {
		err_set(err, errlen, "%s: boot protocol %u.%02u is too old (2.12 or later needed)",
			k->path, version >> 8, version & 0xff);
		return -1;
	}
	if (setup_size >= k->size || hdr_end > 0x280) {
		err_set(err, errlen, "%s: bzImage truncated (setup of %zu bytes, file of %zu)", k->path,
			setup_size, k->size);
		return -1;
	}
	if (!(le16(d + 0x236) & XLF_KERNEL_64)) {
		err_set(err, errlen, "%s: kernel has no 64-bit entry point (xloadflags)", k->path);
		return -1;
	}
	kernel_size = k->size - setup_size;
	init_size = le32(d + 0x260);
	cmdline_size = le32(d + 0x238);
	initrd_max = le32(d + 0x22c);
	if (init_size < kernel_size)
		init_size = (uint32_t)kernel_size;
	/* The kernel decompresses and relocates within init_size: reserve it. */
	if (plan_add(plan, in->mem, KERNEL_ADDR, d + setup_size, kernel_size, init_size,
		     "kernel (init_size)", err, errlen) ||
	    plan_common(in, plan, err, errlen) || plan_page_tables(in, plan, err, errlen) ||
	    plan_cmdline(in, plan, cmdline_size ? cmdline_size : 256, err, errlen) ||
	    plan_initrd(in, plan, KERNEL_ADDR + init_size, initrd_max, &initrd_addr, err, errlen))
		return -1;
	zp = plan_alloc(plan, 4096);
	if (!zp) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	memcpy(zp + SETUP_HDR, d + SETUP_HDR, hdr_end - SETUP_HDR);
	zp[0x210] = 0xff;                            /* type_of_loader: undefined */
	zp[0x211] |= LOADED_HIGH;
	put_le32(zp + 0x228, CMDLINE_ADDR);
	put_le32(zp + 0x218, (uint32_t)initrd_addr);
	put_le32(zp + 0x21c, in->nmodules ? (uint32_t)in->modules[0].size : 0);
	put_le64(zp + 0x070, ACPI_TABLES_ADDR);          /* acpi_rsdp_addr (2.14+) */
	fill_e820(in, zp);
	if (plan_add(plan, in->mem, ZERO_PAGE_ADDR, zp, 4096, 4096, "zero page", err, errlen))
		return -1;
	plan->entry.mode = ENTRY_LONG64;
	plan->entry.rip = KERNEL_ADDR + 0x200;
	plan->entry.rsi = ZERO_PAGE_ADDR;
	plan->format = "bzImage (boot protocol)";
	return 0;
}

/* ---- PVH ---- */

/* The PVH entry from the ELF notes, or 0. */
static uint64_t pvh_entry(const uint8_t *d, size_t size)
{
	uint64_t phoff = le64(d + 32);
	unsigned phnum = le16(d + 56), phentsize = le16(d + 54);

	if (phentsize != 56 || phoff > size || (uint64_t)phnum * 56 > size - phoff)
		return 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = d + phoff + 56ull * i;
		uint64_t off = le64(ph + 8), len = le64(ph + 32), pos = 0;

		if (le32(ph) != 4 /* PT_NOTE */ || off > size || len > size - off)
			continue;
		while (pos + 12 <= len) {
			const uint8_t *n = d + off + pos;
			uint32_t namesz = le32(n), descsz = le32(n + 4), type = le32(n + 8);
			uint64_t name_pad = (namesz + 3ull) & ~3ull, desc_pad = (descsz + 3ull) & ~3ull;

			if (12 + name_pad + desc_pad > len - pos)
				break;
			if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && !memcmp(n + 12, "Xen", 4) &&
			    (descsz == 4 || descsz == 8))
				return descsz == 4 ? le32(n + 12 + name_pad) : le64(n + 12 + name_pad);
			pos += 12 + name_pad + desc_pad;
		}
	}
	return 0;
}

bool pvh_detect(const uint8_t *d, size_t size)
{
	return size >= 64 && !memcmp(d, "\177ELF", 4) && d[4] == 2 && d[5] == 1 &&
	       le16(d + 18) == 62 && pvh_entry(d, size) != 0;
}

int pvh_plan(const struct loader_input *in, const struct blob *vmlinux, struct boot_plan *plan,
	     char *err, size_t errlen)
{
	const uint8_t *d = vmlinux->data;
	uint64_t entry, end, initrd_addr;
	struct elf_info elf;
	struct e820_entry map[E820_MAX];
	unsigned n;
	uint8_t *si;

	if (vmlinux->size < 64 || !pvh_detect(d, vmlinux->size)) {
		err_set(err, errlen, "%s: not a 64-bit ELF kernel with a PVH entry note", vmlinux->path);
		return -1;
	}
	entry = pvh_entry(d, vmlinux->size);
	if (elf_plan_segments(in, vmlinux, plan, &elf, err, errlen))
		return -1;
	end = elf.end;
	if (plan_common(in, plan, err, errlen) ||
	    plan_cmdline(in, plan, CMDLINE_MAX, err, errlen) ||
	    plan_initrd(in, plan, end, 0xffffffffull, &initrd_addr, err, errlen))
		return -1;
	if (entry >= 0xffffffffull) {
		err_set(err, errlen, "%s: PVH entry 0x%llx is not a 32-bit address", vmlinux->path,
			(unsigned long long)entry);
		return -1;
	}
	si = plan_alloc(plan, 4096);
	if (!si) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	/* hvm_start_info (version 1), then the memory map, then the module. */
	n = e820_build(in->mem, map);
	put_le32(si, PVH_MAGIC);
	put_le32(si + 4, 1);
	put_le32(si + 12, in->nmodules ? 1 : 0);
	put_le64(si + 16, in->nmodules ? START_INFO_ADDR + 0x800 : 0);
	put_le64(si + 24, CMDLINE_ADDR);
	put_le64(si + 32, ACPI_TABLES_ADDR);
	put_le64(si + 40, START_INFO_ADDR + 0x100);
	put_le32(si + 48, n);
	for (unsigned i = 0; i < n; i++) {
		put_le64(si + 0x100 + 24 * i, map[i].addr);
		put_le64(si + 0x100 + 24 * i + 8, map[i].size);
		put_le32(si + 0x100 + 24 * i + 16, map[i].type);
	}
	if (in->nmodules) {
		put_le64(si + 0x800, initrd_addr);
		put_le64(si + 0x808, in->modules[0].size);
	}
	if (plan_add(plan, in->mem, START_INFO_ADDR, si, 4096, 4096, "PVH start_info", err, errlen))
		return -1;
	plan->entry.mode = ENTRY_PROTECTED32;
	plan->entry.rip = entry;
	plan->entry.rbx = START_INFO_ADDR;
	plan->entry.code_selector = 0x08;
	plan->entry.data_selector = 0x18;
	if (!plan->format)
		plan->format = "vmlinux (PVH)";
	return 0;
}
