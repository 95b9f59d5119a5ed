/*
 * QEMU's pci-testdev found by a conf1 scan of bus 0 and driven the way x86
 * unit-test kernels drive it: for each test in the header of BAR 0 (memory)
 * and BAR 1 (I/O): select it, check its count starts at 0, write its data
 * at its offset 16 times with its width, and read the count back: 0 (KVM's
 * ioeventfd took the writes) or 16 passes.  Prints each test's name; under
 * QEMU and shrike alike: "pcitestdev: 3 memory and 3 I/O tests passed".
 */
#include "rt.h"

#define CONF_ADDR 0xcf8
#define CONF_DATA 0xcfc
#define WRITES    16

static uint32_t conf_read(unsigned slot, unsigned reg)
{
	outl(CONF_ADDR, 0x80000000u | slot << 11 | (reg & 0xfc));
	return inl(CONF_DATA);
}

static void conf_write(unsigned slot, unsigned reg, uint32_t v)
{
	outl(CONF_ADDR, 0x80000000u | slot << 11 | (reg & 0xfc));
	outl(CONF_DATA, v);
}

struct bar_ops {
	uint8_t (*rb)(uint64_t a);
	uint32_t (*rl)(uint64_t a);
	void (*wb)(uint64_t a, uint8_t v);
	void (*ww)(uint64_t a, uint16_t v);
	void (*wl)(uint64_t a, uint32_t v);
};

static uint8_t m_rb(uint64_t a) { return *(volatile uint8_t *)a; }
static uint32_t m_rl(uint64_t a) { return *(volatile uint32_t *)a; }
static void m_wb(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static void m_ww(uint64_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static void m_wl(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static uint8_t p_rb(uint64_t a) { return inb((uint16_t)a); }
static uint32_t p_rl(uint64_t a) { return inl((uint16_t)a); }
static void p_wb(uint64_t a, uint8_t v) { outb((uint16_t)a, v); }
static void p_ww(uint64_t a, uint16_t v) { outw((uint16_t)a, v); }
static void p_wl(uint64_t a, uint32_t v) { outl((uint16_t)a, v); }

static const struct bar_ops mem_ops = { m_rb, m_rl, m_wb, m_ww, m_wl };
static const struct bar_ops io_ops = { p_rb, p_rl, p_wb, p_ww, p_wl };

static bool one_test(uint64_t base, const struct bar_ops *o, unsigned nr)
{
	uint32_t count, data, off;
	uint8_t width;
	char name[32];

	o->wb(base, (uint8_t)nr);
	if (o->rl(base + 12) != 0)
		return false;
	width = o->rb(base + 1);
	if (width != 1 && width != 2 && width != 4)
		return false;
	data = o->rl(base + 8);
	off = o->rl(base + 4);
	for (int i = 0; i < WRITES; i++) {
		if (width == 1)
			o->wb(base + off, (uint8_t)data);
		else if (width == 2)
			o->ww(base + off, (uint16_t)data);
		else
			o->wl(base + off, data);
	}
	count = o->rl(base + 12);
	if (count && count != WRITES)
		return false;
	for (unsigned i = 0; i < sizeof(name) - 1; i++)
		if (!(name[i] = (char)o->rb(base + 16 + i)))
			break;
	name[sizeof(name) - 1] = 0;
	kprintf("pcitestdev: %s test %u (%s): %s\n", o == &mem_ops ? "memory" : "I/O", nr, name,
		count ? "counted every write" : "writes taken by an eventfd");
	return true;
}

static unsigned all_tests(uint64_t base, const struct bar_ops *o)
{
	unsigned n = 0;

	while (n < 16 && one_test(base, o, n))
		n++;
	return n;
}

void test_main(void)
{
	unsigned slot, mem_tests, io_tests;
	uint64_t mem, io;

	for (slot = 0; slot < 32; slot++)
		if (conf_read(slot, 0) == 0x00051b36)
			break;
	if (slot == 32)
		test_fail("no pci-testdev (1b36:0005) on bus 0");
	mem = conf_read(slot, 0x10) & ~0xfull;
	io = conf_read(slot, 0x14) & ~3ull;
	if (!mem || !io)
		test_fail("pci-testdev's BARs are not assigned (0x%llx, 0x%llx)",
			  (unsigned long long)mem, (unsigned long long)io);
	conf_write(slot, 0x04, conf_read(slot, 0x04) | 3);     /* decode memory and I/O */
	mem_tests = all_tests(mem, &mem_ops);
	io_tests = all_tests(io, &io_ops);
	kprintf("pcitestdev: %u memory and %u I/O tests passed\n", mem_tests, io_tests);
	if (mem_tests != 3 || io_tests != 3)
		test_fail("expected 3 and 3");
}
