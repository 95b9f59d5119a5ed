/*
 * QEMU's pc-testdev, every register, as a test kernel written for QEMU uses
 * it (run with -device pc-testdev / --device pc-testdev).  Each step prints
 * one line of what it saw, so that QEMU's and shrike's runs compare line
 * by line; a wrong value fails at once.
 *
 *   scratch   0xe0 at 1/2/4-byte sizes and every byte offset, the byte-wide
 *             window 0xe8 onto the same register, string I/O (outs/ins)
 *   mmio      0xff000000: writes and reads of 1, 2, 4 and 8 bytes that
 *             overlap, at the window's start and its last bytes
 *   flush     a page written, flushed through 0xe4, read back and written
 *   irq       ISA line 5 raised and lowered through 0x2005: through the
 *             8259 edge- and level-triggered (ELCR), then through the
 *             IOAPIC edge- and level-triggered ("extra=1" allows KVM's
 *             in-kernel IOAPIC one extra delivery, as in irqchip.c)
 */
#include "rt.h"

#define SCRATCH    0xe0
#define FLUSH      0xe4
#define SCRATCH_B  0xe8
#define IRQ_LINE(n) (0x2000 + (n))
#define IOMEM      0xff000000ull
#define IOMEM_LEN  0x10000ull
#define LINE       5
#define PIC_VEC    0x20
#define IOAPIC_VEC 0x40

static uint8_t page[4096] __attribute__((aligned(4096)));
static volatile unsigned deliveries, lower_after;
static volatile bool pic_path;

#define EXPECT(what, got, want)                                                                 \
	do {                                                                                     \
		uint64_t g_ = (got), w_ = (want);                                                \
		if (g_ != w_)                                                                    \
			test_fail("%s: 0x%llx, expected 0x%llx", what, (unsigned long long)g_,   \
				  (unsigned long long)w_);                                       \
	} while (0)

static void scratch_sizes(void)
{
	outl(SCRATCH, 0x12345678);
	EXPECT("inl 0xe0", inl(SCRATCH), 0x12345678);
	EXPECT("inb 0xe0", inb(SCRATCH), 0x78);
	EXPECT("inb 0xe1", inb(SCRATCH + 1), 0x56);
	EXPECT("inb 0xe3", inb(SCRATCH + 3), 0x12);
	EXPECT("inw 0xe0", inw(SCRATCH), 0x5678);
	EXPECT("inw 0xe2", inw(SCRATCH + 2), 0x1234);
	outb(SCRATCH + 1, 0xab);
	EXPECT("after outb 0xe1", inl(SCRATCH), 0x1234ab78);
	outw(SCRATCH + 2, 0xcdef);
	EXPECT("after outw 0xe2", inl(SCRATCH), 0xcdefab78);
	EXPECT("inl 0xe8 (byte window)", inl(SCRATCH_B), 0xcdefab78);
	outl(SCRATCH_B, 0x11223344);
	EXPECT("inl 0xe0 after outl 0xe8", inl(SCRATCH), 0x11223344);
	EXPECT("inb 0xeb", inb(SCRATCH_B + 3), 0x11);
	outw(SCRATCH_B + 2, 0xa55a);
	EXPECT("after outw 0xea", inl(SCRATCH), 0xa55a3344);
	kprintf("scratch: 1/2/4-byte reads and writes at every offset, both windows: ok\n");
}

static void scratch_strings(void)
{
	static const uint32_t words[3] = { 0xdeadbeef, 0xcafef00d, 0x0badc0de };
	static const uint8_t bytes[4] = { 0x01, 0x02, 0x03, 0x04 };
	uint32_t in[3] = { 0 };
	uint16_t inw_buf[2] = { 0 };
	const void *src = words;
	void *dst = in;
	unsigned long n = 3;

	__asm__ volatile("cld; rep outsl" : "+S"(src), "+c"(n) : "d"(SCRATCH) : "memory");
	EXPECT("after rep outsl", inl(SCRATCH), 0x0badc0de);
	n = 3;
	__asm__ volatile("cld; rep insl" : "+D"(dst), "+c"(n) : "d"(SCRATCH) : "memory");
	for (int i = 0; i < 3; i++)
		EXPECT("rep insl", in[i], 0x0badc0de);
	src = bytes;
	n = 4;
	__asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(n) : "d"(SCRATCH_B + 2) : "memory");
	EXPECT("after rep outsb to 0xea", inl(SCRATCH), 0x0b04c0de);
	dst = inw_buf;
	n = 2;
	__asm__ volatile("cld; rep insw" : "+D"(dst), "+c"(n) : "d"(SCRATCH + 2) : "memory");
	EXPECT("rep insw 0xe2", inw_buf[0], 0x0b04);
	EXPECT("rep insw 0xe2 (2nd)", inw_buf[1], 0x0b04);
	kprintf("scratch: string I/O (rep outs/ins, bytes, words, dwords): ok\n");
}

static void mmio_window(void)
{
	volatile uint8_t *b = (volatile uint8_t *)IOMEM;
	volatile uint64_t *q = (volatile uint64_t *)(IOMEM + 0x100);

	*q = 0x0102030405060708ull;
	EXPECT("read64 +0x100", *q, 0x0102030405060708ull);
	EXPECT("read8 +0x103", b[0x103], 0x05);
	EXPECT("read16 +0x106", *(volatile uint16_t *)(IOMEM + 0x106), 0x0102);
	EXPECT("read32 +0x104", *(volatile uint32_t *)(IOMEM + 0x104), 0x01020304);
	b[0x101] = 0xee;
	*(volatile uint16_t *)(IOMEM + 0x102) = 0xbbaa;
	EXPECT("read64 after narrow writes", *q, 0x01020304bbaaee08ull);
	*(volatile uint32_t *)(IOMEM + IOMEM_LEN - 4) = 0xfeedface;
	b[IOMEM_LEN - 8] = 0x77;
	EXPECT("read32 at the end", *(volatile uint32_t *)(IOMEM + IOMEM_LEN - 4), 0xfeedface);
	EXPECT("read8 at end - 8", b[IOMEM_LEN - 8], 0x77);
	EXPECT("untouched byte", b[0x2000], 0);
	kprintf("mmio: 1/2/4/8-byte writes and reads, overlapping, to the window's end: ok\n");
}

static void flush_page(void)
{
	for (unsigned i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 7 + 3);
	outl(FLUSH, (uint32_t)(uintptr_t)page);
	for (unsigned i = 0; i < sizeof(page); i++)
		EXPECT("page after flush", page[i], (uint8_t)(i * 7 + 3));
	page[100] = 0x5a;
	outl(FLUSH, (uint32_t)(uintptr_t)page + 123);   /* any address in the page */
	EXPECT("write after flush", page[100], 0x5a);
	kprintf("flush: the page reads back after a flush and takes writes: ok\n");
}

/* ---- IRQ lines ---- */

static void on_line(struct frame *f)
{
	(void)f;
	deliveries++;
	if (lower_after && deliveries >= lower_after)
		outb(IRQ_LINE(LINE), 0);
	if (pic_path)
		outb(0x20, 0x20);          /* the 8259's EOI; the runtime EOIs the LAPIC */
}

static unsigned settle(void)
{
	irq_enable();
	delay_us(20000);
	irq_disable();
	return deliveries;
}

static void pulse_twice(const char *what)
{
	deliveries = 0;
	lower_after = 0;
	/* One at a time: two edges before the first is taken are one
	 * request (the 8259's IRR and the LAPIC's IRR are latches). */
	for (unsigned i = 1; i <= 2; i++) {
		outb(IRQ_LINE(LINE), 1);
		outb(IRQ_LINE(LINE), 0);
		EXPECT(what, settle(), i);
	}
}

static void level_three(const char *what, unsigned extra)
{
	unsigned n;

	deliveries = 0;
	lower_after = 3;
	outb(IRQ_LINE(LINE), 1);
	n = settle();
	if (n < 3 || n > 3 + extra)
		test_fail("%s: %u deliveries, expected 3", what, n);
	deliveries = 0;
	EXPECT(what, settle(), 0);   /* lowered: nothing more */
}

static void irq_pic(void)
{
	pic_path = true;
	set_handler(PIC_VEC + LINE, on_line);
	outb(0x21, (uint8_t)~(1u << LINE) & 0xfb);
	pulse_twice("8259 edge: deliveries for two pulses");
	outb(0x4d0, 1u << LINE);           /* ELCR: level-triggered */
	level_three("8259 level", 0);
	outb(0x4d0, 0);
	outb(0x21, 0xff);
	kprintf("irq: ISA line %u through the 8259, edge and level: ok\n", LINE);
}

static void irq_ioapic(void)
{
	pic_path = false;
	set_handler(IOAPIC_VEC + LINE, on_line);
	ioapic_route(LINE, IOAPIC_VEC + LINE, 0, lapic_id());
	pulse_twice("IOAPIC edge: deliveries for two pulses");
	ioapic_route(LINE, IOAPIC_VEC + LINE, IOAPIC_LEVEL, lapic_id());
	level_three("IOAPIC level", cmdline_uint("extra="));
	EXPECT("IOAPIC remote IRR after", ioapic_read(0x10 + 2 * LINE) & (1u << 14), 0);
	ioapic_route(LINE, IOAPIC_VEC + LINE, IOAPIC_MASKED, lapic_id());
	kprintf("irq: ISA line %u through the IOAPIC, edge and level: ok\n", LINE);
}

void test_main(void)
{
	lapic_enable();
	scratch_sizes();
	scratch_strings();
	mmio_window();
	flush_page();
	irq_pic();
	irq_ioapic();
}
