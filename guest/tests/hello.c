/* The greeting kernel: prints, starts every AP (each reports its APIC ID),
 * powers off. */
#include "rt.h"

static volatile unsigned reported;

static void ap_hello(unsigned cpu)
{
	kprintf("CPU %u online, APIC ID %u\n", cpu, lapic_id());
	__atomic_fetch_add(&reported, 1, __ATOMIC_SEQ_CST);
}

void test_main(void)
{
	unsigned n = fw_cfg_cpu_count(), up;

	kprintf("Hello from a shrike test kernel!\n");
	kprintf("command line: %s\n", mb_cmdline());
	kprintf("CPU 0 is the boot CPU, APIC ID %u; %u CPU(s) in this machine\n", lapic_id(), n);
	up = n > 1 ? smp_start_aps(n, ap_hello) : 0;
	if (up != n - 1)
		test_fail("only %u of %u application processors came online", up, n - 1);
	for (int i = 0; i < 5000 && reported < n - 1; i++)
		delay_us(1000);
	kprintf("all %u CPUs online\n", n);
}
