/*
 * No runtime clobbering (tests/host/state_test.c), one case per run,
 * chosen by the command line:
 *   case=tsc calls=N  TSC monotonic across N backdoor calls
 *   case=nmi          an NMI sent while the target sits in a slow,
 *                     state-consuming exit is delivered, once
 *   case=init         an INIT/SIPI sent then restarts the target
 *   case=deadline     a TSC-deadline timer armed before such an exit fires
 *                     exactly once
 */
#include "rt.h"

#define MAGIC 0x564d5868u

static void backdoor(void)
{
	uint32_t eax = MAGIC, ebx = 0, ecx = 10, edx = 0x5658;

	__asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
	if (ebx != MAGIC)
		test_fail("backdoor reply lost (ebx 0x%x)", ebx);
}

static void case_tsc(unsigned calls)
{
	uint64_t prev = rdtsc(), start = prev, max_step = 0;

	for (unsigned i = 0; i < calls; i++) {
		uint64_t now;

		backdoor();
		now = rdtsc();
		if (now < prev)
			test_fail("TSC went back after call %u: 0x%llx -> 0x%llx", i,
				  (unsigned long long)prev, (unsigned long long)now);
		if (now - prev > max_step)
			max_step = now - prev;
		prev = now;
	}
	kprintf("tsc: monotonic across %u backdoor calls, %llu ticks, largest step %llu\n", calls,
		(unsigned long long)(prev - start), (unsigned long long)max_step);
}

static volatile unsigned nmis, ap_starts, ap_done;

static void nmi_handler(struct frame *f)
{
	(void)f;
	__atomic_fetch_add(&nmis, 1, __ATOMIC_SEQ_CST);
}

static void wait_inside(unsigned n)
{
	for (int i = 0; i < 10000 && inl(TC_INSIDE) < n; i++)
		delay_us(100);
	if (inl(TC_INSIDE) < n)
		test_fail("the target never entered the slow exit");
}

static void ap_slow(unsigned cpu)
{
	(void)cpu;
	if (__atomic_fetch_add(&ap_starts, 1, __ATOMIC_SEQ_CST) == 0) {
		tc_slow_exit();
		delay_us(20000);        /* time for a pending NMI to arrive */
		ap_done = 1;
	}
	/* A restarted AP (case init) only counts itself. */
}

static void case_nmi(void)
{
	set_handler(2, nmi_handler);
	if (smp_start_aps(2, ap_slow) != 1)
		test_fail("AP did not start");
	wait_inside(1);
	lapic_send_ipi(1, 0x4400);     /* NMI */
	for (int i = 0; i < 5000 && !ap_done; i++)
		delay_us(1000);
	delay_us(20000);
	if (nmis != 1)
		test_fail("%u NMIs delivered, expected 1", nmis);
	kprintf("nmi: delivered once across the slow exit\n");
}

static void case_init(void)
{
	if (smp_start_aps(2, ap_slow) != 1)
		test_fail("AP did not start");
	wait_inside(1);
	lapic_send_ipi(1, 0x4500);     /* INIT */
	delay_us(10000);
	lapic_send_ipi(1, 0x4608);     /* SIPI to the trampoline */
	for (int i = 0; i < 5000 && ap_starts < 2; i++)
		delay_us(1000);
	if (ap_starts != 2)
		test_fail("the AP started %u times, expected 2 (INIT/SIPI lost)", ap_starts);
	if (ap_done)
		test_fail("the AP went on after the INIT");
	kprintf("init: the INIT/SIPI sent during the slow exit restarted the AP\n");
}

static volatile unsigned timer_irqs;

static void timer_handler(struct frame *f)
{
	(void)f;
	timer_irqs++;
}

static uint64_t tsc_per_ms(void)
{
	uint64_t t0 = rdtsc();

	delay_us(10000);
	return (rdtsc() - t0) / 10;
}

static void case_deadline(void)
{
	uint32_t a, b, c, d;
	uint64_t per_ms;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 24)))
		guest_exit(0x30);          /* no TSC-deadline timer: the host test skips */
	per_ms = tsc_per_ms();
	lapic_enable();
	set_handler(0x40, timer_handler);
	lapic_write(0x320, 0x40 | (2u << 17));      /* LVT timer: TSC-deadline mode */
	wrmsr(0x6e0, rdtsc() + 20 * per_ms);
	tc_slow_exit();                              /* the host sleeps past the deadline */
	irq_enable();
	delay_us(100000);
	irq_disable();
	if (timer_irqs != 1)
		test_fail("the TSC-deadline timer fired %u times, expected once", timer_irqs);
	kprintf("deadline: fired exactly once (TSC %llu per ms)\n", (unsigned long long)per_ms);
}

void test_main(void)
{
	if (cmdline_has("case=tsc"))
		case_tsc(cmdline_uint("calls="));
	else if (cmdline_has("case=nmi"))
		case_nmi();
	else if (cmdline_has("case=init"))
		case_init();
	else if (cmdline_has("case=deadline"))
		case_deadline();
	else
		test_fail("no case given");
}
