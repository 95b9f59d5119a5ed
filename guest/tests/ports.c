/* Hostile: reads and writes every I/O port 0..0xFFFF with sizes 1, 2 and 4
 * (writes of all zeros and all ones), except the debug-exit ports, which
 * would end the run.  The machine must still work afterwards. */
#include "rt.h"

/* Writes that end or reset the machine by design: the debug-exit port,
 * and 0xCF9's reset bit (a byte write of 0xff there resets; i8042 resets
 * only on 0xFE, which the sweep never writes). */
static bool skipped(unsigned port)
{
	return (port >= 0xf4 && port <= 0xf7) || port == 0xcf9;
}

/* rep outsb to the UART (one exit, count > 1) and rep insw from an
 * unassigned port. */
static void string_io(void)
{
	static const char msg[] = "ports: string output through rep outsb\n";
	static uint16_t words[32];
	const void *src = msg;
	void *dst = words;
	uint64_t n = sizeof(msg) - 1;

	__asm__ volatile("rep outsb" : "+S"(src), "+c"(n) : "d"((uint16_t)0x3f8) : "memory");
	n = 32;
	__asm__ volatile("rep insw" : "+D"(dst), "+c"(n) : "d"((uint16_t)0x1234) : "memory");
	for (unsigned i = 0; i < 32; i++)
		GUEST_ASSERT_EQ(words[i], 0xffff);
	n = 8;
	dst = words;
	__asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"((uint16_t)0x511) : "memory");
}

void test_main(void)
{
	uint32_t sink = 0;

	kprintf("ports: sweeping 0..0xffff\n");
	for (unsigned p = 0; p <= 0xffff; p++) {
		sink ^= inb((uint16_t)p);
		sink ^= inw((uint16_t)p);
		sink ^= inl((uint16_t)p);
		if (skipped(p) || (p + 3 >= 0xf4 && p <= 0xf7))
			continue;
		outb((uint16_t)p, 0); outw((uint16_t)p, 0); outl((uint16_t)p, 0);
		outb((uint16_t)p, 0xff); outw((uint16_t)p, 0xffff); outl((uint16_t)p, 0xffffffff);
	}
	/* The sweep left the UART in an arbitrary mode: set it up again. */
	serial_init();
	kprintf("\nports: survived (sink 0x%x)\n", sink);
	GUEST_ASSERT(fw_cfg_present());
	GUEST_ASSERT_EQ(inb(0x1234), 0xff);
	GUEST_ASSERT_EQ(inl(0x9000), 0xffffffff);
	string_io();
}
