/* Counts its boots in CMOS NVRAM (byte 0x40) and resets itself until it
 * has booted "boots=N" times, by "source=kbd|cf9|triple|host" (host: it
 * waits for the VMM to be told, e.g. SIGHUP).  Prints the TSC at each boot
 * and whether it restarted small. */
#include "rt.h"

static unsigned arg(const char *s, const char *key)
{
	for (; *s; s++) {
		const char *a = s, *b = key;

		while (*b && *a == *b) { a++; b++; }
		if (!*b) {
			unsigned v = 0;

			for (; *a >= '0' && *a <= '9'; a++)
				v = v * 10 + (unsigned)(*a - '0');
			return v;
		}
	}
	return 0;
}

static bool has(const char *s, const char *w)
{
	for (; *s; s++) {
		const char *a = s, *b = w;

		while (*b && *a == *b) { a++; b++; }
		if (!*b)
			return true;
	}
	return false;
}

void test_main(void)
{
	const char *cmd = mb_cmdline();
	unsigned boots = arg(cmd, "boots="), n = cmos_read(0x40);

	cmos_write(0x40, (uint8_t)(n + 1));
	kprintf("reboot: boot %u, TSC 0x%llx\n", n, (unsigned long long)rdtsc());
	if (n + 1 >= boots) {
		cmos_write(0x40, 0);
		kprintf("reboot: %u boots counted\n", n + 1);
		return;
	}
	if (has(cmd, "source=kbd"))
		reset_by(RESET_KBD);
	if (has(cmd, "source=cf9"))
		reset_by(RESET_CF9);
	if (has(cmd, "source=triple"))
		reset_by(RESET_TRIPLE);
	kprintf("reboot: waiting for a host reset\n");
	for (;;)
		cpu_relax();
}
