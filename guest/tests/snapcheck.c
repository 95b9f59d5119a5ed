/*
 * Snapshot/restore check (issue 10).  Keeps working while snapshots are
 * taken, with state in every corner a restore must bring back:
 *   - both CPUs update memory checksums (deterministic: the final result
 *     does not depend on timing);
 *   - the BSP's LAPIC timer runs periodically, the AP's in TSC-deadline
 *     mode, so interrupts are armed and often pending;
 *   - the AP is started only after a while: early snapshots catch it in
 *     wait-for-SIPI;
 *   - bytes sent to the UART wait in its FIFO until the end;
 *   - a boot counter in CMOS (0x48), a banner printed once, and a progress
 *     counter printed every PROGRESS rounds, so that a restored guest can
 *     be told from a rebooted one.
 * Ends with "snapcheck: result ..." and powers off.  "rounds=N".
 *
 * "identity": state for a restore-identity check instead: distinctive MSR
 * and XMM values, timers armed far in the future (so nothing changes while
 * the VM is stopped), the AP started; then it spins.
 */
#include "rt.h"

#define TIMER_VECTOR 0x40
#define DEADLINE_VECTOR 0x41
#define PROGRESS 100
#define AP_START 300
#define WORDS 512

static volatile uint64_t ticks[2];
static volatile unsigned ap_done;
static uint64_t sums[2];
static uint32_t data[2][WORDS];

static void bsp_tick(struct frame *f)
{
	(void)f;
	ticks[0]++;
}

static void ap_tick(struct frame *f)
{
	(void)f;
	ticks[1]++;
	wrmsr(0x6e0, rdtsc() + 20000000ull);          /* re-arm the deadline */
}

/* One round of a CPU's work: a few dozen emulated instructions. */
static void work(unsigned cpu, unsigned round)
{
	uint32_t *d = data[cpu];

	for (unsigned i = 0; i < 16; i++) {
		unsigned k = (round * 16 + i) % WORDS;

		d[k] = d[k] * 31u + round + i + cpu;
	}
}

static uint64_t checksum(unsigned cpu)
{
	uint64_t h = 1469598103934665603ull;

	for (unsigned i = 0; i < WORDS; i++)
		h = (h ^ data[cpu][i]) * 1099511628211ull;
	return h;
}

static void ap_main(unsigned cpu)
{
	unsigned rounds = cmdline_uint("rounds=");

	(void)cpu;
	lapic_write(0x320, DEADLINE_VECTOR | (2u << 17)); /* LVT timer: TSC deadline */
	wrmsr(0x6e0, rdtsc() + 20000000ull);
	irq_enable();
	for (unsigned r = 0; r < rounds; r++)
		work(1, r);
	sums[1] = checksum(1);
	__atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("hlt");
}

static void read_input(char *buf, unsigned cap)
{
	unsigned n = 0;

	/* Whatever the host queued, in the FIFO since the start. */
	while (n + 1 < cap && (inb(0x3f8 + 5) & 1)) {
		char c = (char)inb(0x3f8);

		if (c != '\n' && c != '\r')
			buf[n++] = c;
	}
	buf[n] = 0;
}

static void set_distinctive_state(void)
{
	static const uint64_t xmm[2] __attribute__((aligned(16))) = { 0x0123456789abcdefull,
								       0xfedcba9876543210ull };
	/* AMD CPUs keep only the low half of SYSENTER_ESP/EIP (KVM keeps the
	 * high half for guests that say Intel); a value an AMD CPU shortens
	 * would test the CPU, not the snapshot. */
	uint32_t a, b, c, d;
	uint64_t cr4, high;

	cpuid(0, 0, &a, &b, &c, &d);
	high = b == 0x756e6547 ? 0xffff800000000000ull : 0;   /* "Genu"ineIntel */
	wrmsr(0x174, 0x10);                               /* SYSENTER_CS */
	wrmsr(0x175, high | 0x1000);                      /* SYSENTER_ESP */
	wrmsr(0x176, high | 0x2000);                      /* SYSENTER_EIP */
	wrmsr(0xc0000081, 0x0023001000000000ull);         /* STAR */
	wrmsr(0xc0000082, 0xffffffff81000000ull);         /* LSTAR */
	wrmsr(0xc0000084, 0x47700);                       /* SYSCALL_MASK */
	wrmsr(0xc0000102, 0xffff888000000000ull);         /* KERNEL_GS_BASE */
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | (3u << 9)));   /* OSFXSR, OSXMMEXCPT */
	__asm__ volatile("movdqu %0, %%xmm3\n\tmovdqu %0, %%xmm12" :: "m"(xmm));
}

static void ap_identity(unsigned cpu)
{
	(void)cpu;
	set_distinctive_state();
	lapic_write(0x320, DEADLINE_VECTOR | (2u << 17));
	wrmsr(0x6e0, rdtsc() + (1ull << 50));            /* far in the future */
	for (;;)
		cpu_relax();
}

static void identity(void)
{
	set_distinctive_state();
	set_handler(TIMER_VECTOR, bsp_tick);
	set_handler(DEADLINE_VECTOR, ap_tick);
	lapic_enable();
	lapic_write(0x3e0, 0xb);
	lapic_write(0x320, TIMER_VECTOR);                  /* one-shot */
	lapic_write(0x380, 0xffffffff);                    /* 4 s at 1 GHz */
	if (fw_cfg_cpu_count() > 1 && smp_start_aps(2, ap_identity) != 1)
		test_fail("the AP did not start");
	kprintf("snapcheck: identity ready\n");
	for (;;)
		cpu_relax();
}

void test_main(void)
{
	unsigned rounds = cmdline_uint("rounds="), boots = cmos_read(0x48);
	char input[64];

	if (cmdline_has("identity"))
		identity();
	if (!rounds)
		rounds = 2000;
	cmos_write(0x48, (uint8_t)(boots + 1));
	kprintf("snapcheck: banner (boot %u)\n", boots + 1);
	set_handler(TIMER_VECTOR, bsp_tick);
	set_handler(DEADLINE_VECTOR, ap_tick);
	lapic_enable();
	lapic_write(0x3e0, 0xb);                          /* divide by 1 */
	lapic_write(0x320, TIMER_VECTOR | (1u << 17));    /* periodic */
	lapic_write(0x380, 10000000);                     /* 10 ms at 1 GHz */
	irq_enable();
	for (unsigned r = 0; r < rounds; r++) {
		if (r == AP_START && fw_cfg_cpu_count() > 1 && smp_start_aps(2, ap_main) != 1)
			test_fail("the AP did not start");
		work(0, r);
		if (r % PROGRESS == 0)
			kprintf("snapcheck: progress %u ticks %llu %llu\n", r,
				(unsigned long long)ticks[0], (unsigned long long)ticks[1]);
	}
	sums[0] = checksum(0);
	while (fw_cfg_cpu_count() > 1 && !__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE))
		cpu_relax();
	irq_disable();
	lapic_write(0x320, 1u << 16);                     /* timer off */
	read_input(input, sizeof(input));
	kprintf("snapcheck: result %llx %llx input '%s' boots %u\n", (unsigned long long)sums[0],
		(unsigned long long)sums[1], input, cmos_read(0x48));
	cmos_write(0x48, 0);
}
