/*
 * A reset storm on 2 CPUs: "boots=N" boots counted in CMOS (bytes 0x43,
 * 0x44), each ending in a reset requested one of four ways, in turn: both
 * CPUs write 0xCF9 at the same moment; the boot CPU pulses the i8042; the
 * AP triple-faults while the boot CPU writes 0xCF9; the boot CPU
 * triple-faults.
 */
#include "rt.h"

static volatile unsigned go;
static volatile unsigned mode;

static void ap_reset(unsigned cpu)
{
	(void)cpu;
	while (!go)
		cpu_relax();
	if (mode == 0)
		reset_by(RESET_CF9);
	if (mode == 2)
		reset_by(RESET_TRIPLE);
	for (;;)
		cpu_relax();
}

void test_main(void)
{
	unsigned boots = cmdline_uint("boots=");
	unsigned n = cmos_read(0x43) | (unsigned)cmos_read(0x44) << 8;

	n++;
	cmos_write(0x43, (uint8_t)n);
	cmos_write(0x44, (uint8_t)(n >> 8));
	kprintf("storm: boot %u\n", n);
	if (n >= boots) {
		cmos_write(0x43, 0);
		cmos_write(0x44, 0);
		kprintf("storm: %u boots counted\n", n);
		return;
	}
	mode = n % 4;
	if (smp_start_aps(2, ap_reset) != 1)
		test_fail("the AP did not start at boot %u", n);
	go = 1;
	switch (mode) {
	case 0:
	case 2:
		reset_by(RESET_CF9);
	case 1:
		reset_by(RESET_KBD);
	default:
		reset_by(RESET_TRIPLE);
	}
}
