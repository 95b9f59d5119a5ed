/* Every CPU makes backdoor calls for "seconds=S" seconds (default 3) while
 * the host queues state fetches from another thread. */
#include "rt.h"

#define MAGIC 0x564d5868u

static volatile bool stop;
static volatile unsigned finished;
static volatile uint64_t calls[MAX_CPUS];

static void hammer(unsigned cpu)
{
	while (!stop) {
		uint32_t eax = MAGIC, ebx = 0, ecx = 10, edx = 0x5658;

		__asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
		if (ebx != MAGIC || eax != 6)
			test_fail("CPU %u: wrong reply eax 0x%x ebx 0x%x", cpu, eax, ebx);
		calls[cpu]++;
	}
	__atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST);
}

static void ap_hammer(unsigned cpu)
{
	hammer(cpu);
}

void test_main(void)
{
	unsigned n = fw_cfg_cpu_count(), secs = 3;
	uint32_t start;
	uint64_t total = 0;

	if (n > 1 && smp_start_aps(n, ap_hammer) != n - 1)
		test_fail("APs did not start");
	tc_stage(1);
	start = pm_timer();
	while (!stop) {
		uint32_t eax = MAGIC, ebx = 0, ecx = 10, edx = 0x5658;

		__asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
		if (ebx != MAGIC)
			test_fail("CPU 0: wrong reply");
		calls[0]++;
		if ((uint32_t)(pm_timer() - start) > secs * 3579545u)
			stop = true;
	}
	finished++;
	for (int i = 0; i < 5000 && finished < n; i++)
		delay_us(1000);
	for (unsigned i = 0; i < n; i++)
		total += calls[i];
	kprintf("stress: %u CPUs, %llu backdoor calls\n", n, (unsigned long long)total);
}
