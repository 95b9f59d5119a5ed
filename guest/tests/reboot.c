/* Counts its boots in CMOS NVRAM (byte 0x40) and resets itself until it
 * has booted "boots=N" times, by "source=kbd|cf9|triple|host" (host: it
 * waits for the VMM to be told, e.g. SIGHUP).  Prints the TSC at each boot
 * and whether it restarted small. */
#include "rt.h"

void test_main(void)
{
	unsigned boots = cmdline_uint("boots="), n = cmos_read(0x40);

	cmos_write(0x40, (uint8_t)(n + 1));
	kprintf("reboot: boot %u, TSC 0x%llx\n", n, (unsigned long long)rdtsc());
	if (n + 1 >= boots) {
		cmos_write(0x40, 0);
		kprintf("reboot: %u boots counted\n", n + 1);
		return;
	}
	if (cmdline_has("source=kbd"))
		reset_by(RESET_KBD);
	if (cmdline_has("source=cf9"))
		reset_by(RESET_CF9);
	if (cmdline_has("source=triple"))
		reset_by(RESET_TRIPLE);
	kprintf("reboot: waiting for a host reset\n");
	for (;;)
		cpu_relax();
}
