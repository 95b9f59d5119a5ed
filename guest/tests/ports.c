/* Hostile: reads and writes every I/O port 0..0xFFFF with sizes 1, 2 and 4
 * (writes of all zeros and all ones), except the debug-exit ports, which
 * would end the run.  The machine must still work afterwards. */
#include "rt.h"

static bool skipped(unsigned port)
{
	return port >= 0xf4 && port <= 0xf7;
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
}
