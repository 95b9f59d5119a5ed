/* Keeps every vCPU busy for about "ms" milliseconds (default 1500), so a
 * test can look at the running process (thread names, signals). */
#include "rt.h"

static volatile bool stop;

static void ap_spin(unsigned cpu)
{
	(void)cpu;
	while (!stop)
		cpu_relax();
}

void test_main(void)
{
	unsigned n = fw_cfg_cpu_count(), ms = cmdline_uint("ms=");

	if (n > 1)
		smp_start_aps(n, ap_spin);
	kprintf("spin: %u CPUs busy\n", n);
	delay_us((ms ? ms : 1500) * 1000ull);
	stop = true;
}
