/* The loaders and the memory map, without KVM: valid images are planned
 * as expected, and every class of malformed image is refused, with its
 * message, before anything is written to guest memory. */
#include <stdint.h>
#include <stdlib.h>

#include "board/board.h"
#include "check.h"
#include "base/memory.h"
#include "loader/loader.h"
#include "x86/e820.h"

#define MB_MAGIC 0x1BADB002u
#define IMG 0x200

static uint8_t img[IMG];
static struct guest_mem mem;
static char err[512];

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static void mb_header(uint32_t off, uint32_t flags)
{
	put32(img + off, MB_MAGIC);
	put32(img + off + 4, flags);
	put32(img + off + 8, (uint32_t)-(MB_MAGIC + flags));
}

/* ELF32 with one PT_LOAD of the whole file at `paddr`, entry at +0x80. */
static void make_elf(uint32_t paddr, uint32_t memsz)
{
	memset(img, 0, sizeof(img));
	memcpy(img, "\177ELF", 4);
	img[4] = 1; img[5] = 1; img[6] = 1;
	put16(img + 16, 2);             /* ET_EXEC */
	put16(img + 18, 3);             /* EM_386 */
	put32(img + 24, paddr + 0x80);  /* entry */
	put32(img + 28, 52);            /* phoff */
	put16(img + 42, 32);            /* phentsize */
	put16(img + 44, 1);             /* phnum */
	put32(img + 52, 1);             /* PT_LOAD */
	put32(img + 56, 0);
	put32(img + 60, paddr);
	put32(img + 64, paddr);
	put32(img + 68, IMG);
	put32(img + 72, memsz);
	mb_header(0x60, 3);
}

/* a.out kludge: header at 0x40, image loaded at 0x100000. */
static void make_aout(uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	memset(img, 0, sizeof(img));
	mb_header(0x40, 0x10003);
	put32(img + 0x4c, 0x100040);    /* header_addr */
	put32(img + 0x50, 0x100000);    /* load_addr */
	put32(img + 0x54, load_end);
	put32(img + 0x58, bss_end);
	put32(img + 0x5c, entry);
}

static int plan(size_t size, const char *cmdline, struct boot_plan *p)
{
	struct loader_input in = { .kernel = { "kernel.img", img, size, false, -1 }, .mem = &mem,
				   .cmdline = cmdline, .ncpus = 1, .board = board_pc_acpi() };

	err[0] = 0;
	return loader_plan(&in, p, err, sizeof(err));
}

static int refused(size_t size, const char *expect)
{
	struct boot_plan p;
	int r = plan(size, NULL, &p);

	boot_plan_free(&p);
	if (r == 0 || !strstr(err, expect)) {
		printf("FAIL %s: expected refusal with \"%s\", got %d \"%s\"\n", check_current, expect,
		       r, err);
		check_failures++;
		return 0;
	}
	return 1;
}

static void elf_accepted(void)
{
	struct boot_plan p;
	const uint32_t *mbi;

	make_elf(0x100000, 0x1000);
	CHECK_EQ(plan(IMG, "hello=1", &p), 0);
	CHECK_EQ(p.entry.mode, ENTRY_PROTECTED32);
	CHECK_EQ(p.entry.rip, 0x100080);
	CHECK_EQ(p.entry.rax, 0x2BADB002);
	CHECK_EQ(p.nseg, 4);               /* kernel, GDT, boot information, ACPI */
	CHECK_EQ(p.rsdp, 0xe0000);
	CHECK_EQ(p.seg[0].gpa, 0x100000);
	CHECK_EQ(p.seg[0].memsz, 0x1000);
	CHECK_EQ(boot_plan_commit(&p, &mem, err, sizeof(err)), 0);
	mbi = gpa_to_hva(&mem, p.entry.rbx, 64);
	CHECK(mbi);
	CHECK(mbi[0] & (1u << 6));         /* memory map */
	CHECK_EQ(mbi[1], 640);
	CHECK_EQ(mbi[2], (64u << 10) - 1024);
	CHECK(!strcmp(gpa_to_hva(&mem, mbi[4], 1), "kernel.img hello=1"));
	boot_plan_free(&p);
}

static void aout_accepted(void)
{
	struct boot_plan p;

	make_aout(0x100100, 0x102000, 0x100060);
	CHECK_EQ(plan(IMG, NULL, &p), 0);
	CHECK(!strcmp(p.format, "multiboot-aout"));
	CHECK_EQ(p.entry.rip, 0x100060);
	CHECK_EQ(p.seg[0].filesz, 0x100);
	CHECK_EQ(p.seg[0].memsz, 0x2000);
	boot_plan_free(&p);
	make_aout(0, 0, 0x100060);          /* load to the end of the file */
	CHECK_EQ(plan(IMG, NULL, &p), 0);
	CHECK_EQ(p.seg[0].filesz, IMG);
	boot_plan_free(&p);
}

static void modules_placed(void)
{
	static uint8_t m0[100], m1[5000];
	struct loader_input in = { .kernel = { "k", img, IMG, false, -1 }, .mem = &mem, .ncpus = 1,
				   .board = board_pc_acpi() };
	struct boot_plan p;
	const uint32_t *mbi, *mods;

	make_elf(0x100000, 0x1800);
	in.modules[0] = (struct blob){ .path = "initrd", .data = m0, .size = sizeof(m0), .fd = -1 };
	in.modules[1] = (struct blob){ .path = "mod1", .data = m1, .size = sizeof(m1), .fd = -1 };
	in.module_args[1] = "a=b";
	in.nmodules = 2;
	CHECK_EQ(loader_plan(&in, &p, err, sizeof(err)), 0);
	CHECK_EQ(boot_plan_commit(&p, &mem, err, sizeof(err)), 0);
	mbi = gpa_to_hva(&mem, p.entry.rbx, 64);
	CHECK_EQ(mbi[5], 2);
	mods = gpa_to_hva(&mem, mbi[6], 32);
	CHECK_EQ(mods[0], 0x102000);       /* page-aligned after the kernel */
	CHECK_EQ(mods[1] - mods[0], 100);
	CHECK_EQ(mods[4], 0x103000);
	CHECK(!strcmp(gpa_to_hva(&mem, mods[6], 1), "mod1 a=b"));
	boot_plan_free(&p);
}

static void malformed_refused(void)
{
	memset(img, 0x90, sizeof(img));
	if (!refused(IMG, "unrecognised kernel format")) return;
	make_elf(0x100000, 0x1000);
	put32(img + 0x68, 0);               /* bad checksum: no header */
	if (!refused(IMG, "ELF image with neither a multiboot header nor a PVH entry note")) return;
	make_elf(0x100000, 0x1000);
	mb_header(0x60, 3 | (1u << 5));
	if (!refused(IMG, "unsupported features")) return;
	make_elf(0x100000, 0x1000);
	put32(img + 28, 0x1f0);             /* program headers past the end */
	if (!refused(IMG, "program headers missing or truncated")) return;
	make_elf(0x100000, 0x1000);
	put32(img + 68, 0x400);             /* segment larger than the file */
	if (!refused(IMG, "truncated")) return;
	make_elf(0x100000, 0x1000);
	put32(img + 72, 0x10);              /* filesz > memsz */
	if (!refused(IMG, "exceeds memory size")) return;
	make_elf(0x3ffff00, 0x1000);        /* beyond 64 MiB of RAM */
	if (!refused(IMG, "outside guest RAM")) return;
	make_elf(0x1000, 0x1000);           /* over shrike's boot information */
	if (!refused(IMG, "overlaps")) return;
	make_elf(0x100000, 0x1000);
	put32(img + 24, 0x300000);          /* entry outside */
	if (!refused(IMG, "entry point")) return;
	make_elf(0x100000, 0x1000);
	if (!refused(40, "")) return;       /* truncated header: no multiboot magic left */
	make_aout(0x0fff00, 0, 0x100060);
	if (!refused(IMG, "not above load_addr")) return;
	make_aout(0x101000, 0, 0x100060);
	if (!refused(IMG, "truncated")) return;
	make_aout(0x100100, 0x100080, 0x100060);
	if (!refused(IMG, "bss_end_addr")) return;
	make_aout(0x100100, 0, 0x100200);
	if (!refused(IMG, "entry")) return;
	make_aout(0x100100, 0, 0x100060);
	put32(img + 0x50, 0x0f0000);        /* load_addr far below header_addr */
	if (!refused(IMG, "inconsistent")) return;
}

static void flat_rules(void)
{
	struct loader_input in = { .kernel = { "flat", img, 0, false, -1 }, .mem = &mem, .force_flat = true };
	struct boot_plan p;
	static uint8_t big[0x90001];

	CHECK(loader_plan(&in, &p, err, sizeof(err)) != 0);
	CHECK_CONTAINS(err, "empty");
	boot_plan_free(&p);
	in.kernel = (struct blob){ .path = "flat", .data = big, .size = sizeof(big), .fd = -1 };
	CHECK(loader_plan(&in, &p, err, sizeof(err)) != 0);
	CHECK_CONTAINS(err, "exceeds");
	boot_plan_free(&p);
	in.kernel = (struct blob){ .path = "flat", .data = img, .size = 16, .fd = -1 };
	CHECK_EQ(loader_plan(&in, &p, err, sizeof(err)), 0);
	CHECK_EQ(p.entry.mode, ENTRY_REAL16);
	CHECK_EQ(p.entry.real_segment, 0x1000);
	CHECK_EQ(p.seg[0].gpa, 0x10000);
	boot_plan_free(&p);
}

/* A bzImage whose header names no payload (or one compressed some way
 * shrike does not know): --kernel-boot auto boots it through the boot
 * protocol; pvh refuses it. */
static void bzimage_without_payload(void)
{
	static uint8_t bz[5 * 512 + 4096];
	struct loader_input in;
	struct boot_plan p;

	memset(bz, 0, sizeof(bz));
	bz[0x1f1] = 4;
	bz[0x1fe] = 0x55;
	bz[0x1ff] = 0xaa;
	bz[0x201] = 0x66;
	memcpy(bz + 0x202, "HdrS", 4);
	put16(bz + 0x206, 0x020f);
	bz[0x211] = 1;                          /* LOADED_HIGH */
	put32(bz + 0x22c, 0x7fffffff);
	put16(bz + 0x236, 3);                   /* XLF_KERNEL_64 */
	put32(bz + 0x238, 2048);
	put32(bz + 0x260, 0x100000);            /* init_size */
	memset(&in, 0, sizeof(in));
	in.kernel = (struct blob){ .path = "nopayload", .data = bz, .size = sizeof(bz), .fd = -1 };
	in.mem = &mem;
	in.ncpus = 1;
	in.board = board_pc_acpi();
	in.linux_boot = KERNEL_BOOT_AUTO;
	CHECK_EQ(loader_plan(&in, &p, err, sizeof(err)), 0);
	CHECK_CONTAINS(p.format, "boot protocol");
	CHECK_CONTAINS(p.note, "no payload to decompress");
	boot_plan_free(&p);
	in.linux_boot = KERNEL_BOOT_PVH;
	CHECK(loader_plan(&in, &p, err, sizeof(err)) != 0);
	CHECK_CONTAINS(err, "payload missing");
	boot_plan_free(&p);
}

static void e820_layout(void)
{
	struct guest_mem big;
	struct e820_entry e[E820_MAX];
	unsigned n = e820_build(&mem, e);

	CHECK_EQ(n, 4);
	CHECK_EQ(e[0].addr, 0);
	CHECK_EQ(e[0].size, 0x9fc00);
	CHECK_EQ(e[1].addr, 0x9fc00);
	CHECK_EQ(e[1].addr + e[1].size, 0x100000);
	CHECK_EQ(e[1].type, E820_RESERVED);
	CHECK_EQ(e[2].addr, 0x100000);
	CHECK_EQ(e[2].addr + e[2].size, 64u << 20);
	CHECK_EQ(e[3].addr, 0xc0000000);                   /* PCI's ECAM window */
	CHECK_EQ(e[3].size, 1u << 20);
	CHECK_EQ(e[3].type, E820_RESERVED);
	CHECK_EQ(guest_mem_init(&big, 5ull << 30), 0);
	n = e820_build(&big, e);
	CHECK_EQ(n, 5);
	CHECK_EQ(e[2].addr + e[2].size, 0xc0000000);
	CHECK_EQ(e[3].addr, 0xc0000000);
	CHECK_EQ(e[4].addr, 0x100000000ull);
	CHECK_EQ(e[4].size, 2ull << 30);
	CHECK(gpa_to_hva(&big, 0x100000000ull, 4096));
	CHECK(!gpa_to_hva(&big, 0xc0000000ull, 1));
	CHECK(!gpa_to_hva(&big, 0xbffff000ull, 0x2000));
	CHECK(!gpa_to_hva(&big, ~0ull - 10, 20));
	guest_mem_free(&big);
}

int main(void)
{
	if (guest_mem_init(&mem, 64ull << 20)) {
		printf("FAIL loader_test: cannot allocate test memory\n");
		return 1;
	}
	RUN(elf_accepted);
	RUN(aout_accepted);
	RUN(modules_placed);
	RUN(malformed_refused);
	RUN(flat_rules);
	RUN(e820_layout);
	RUN(bzimage_without_payload);
	guest_mem_free(&mem);
	return check_failures ? 1 : 0;
}
