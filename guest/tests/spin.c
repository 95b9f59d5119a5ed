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
	unsigned n = fw_cfg_cpu_count();

	if (n > 1)
		smp_start_aps(n, ap_spin);
	kprintf("spin: %u CPUs busy\n", n);
	delay_us(1500000);
	stop = true;
}
