/* After a reset with every CPU busy, the APs must be back in wait-for-SIPI
 * (not running, not halted in old code) and the guest must be able to start
 * them all again.  Boot counter: CMOS byte 0x42. */
#include "rt.h"

#define COUNTERS ((volatile uint64_t *)0x2100000ull)

static void ap_count(unsigned cpu)
{
	for (;;)
		COUNTERS[cpu * 8]++;
}

static volatile unsigned reported;

static void ap_report(unsigned cpu)
{
	kprintf("smp_reset: CPU %u back online, APIC ID %u\n", cpu, lapic_id());
	__atomic_fetch_add(&reported, 1, __ATOMIC_SEQ_CST);
}

void test_main(void)
{
	unsigned boot = cmos_read(0x42), n = fw_cfg_cpu_count();

	cmos_write(0x42, (uint8_t)(boot + 1));
	kprintf("smp_reset: boot %u, %u CPUs\n", boot, n);
	if (boot == 0) {
		if (smp_start_aps(n, ap_count) != n - 1)
			test_fail("APs did not start");
		delay_us(20000);
		kprintf("smp_reset: every AP counting; resetting\n");
		reset_by(RESET_CF9);
	}
	cmos_write(0x42, 0);
	{
		uint64_t before[MAX_CPUS];

		for (unsigned c = 1; c < n; c++)
			before[c] = COUNTERS[c * 8];
		delay_us(20000);
		for (unsigned c = 1; c < n; c++)
			if (COUNTERS[c * 8] != before[c])
				test_fail("AP %u still runs after the reset", c);
	}
	kprintf("smp_reset: no AP runs after the reset\n");
	if (smp_start_aps(n, ap_report) != n - 1)
		test_fail("not every AP came back with INIT/SIPI");
	for (int i = 0; i < 5000 && reported < n - 1; i++)
		delay_us(1000);
	kprintf("smp_reset: all %u APs restarted\n", n - 1);
}
