/*
 * MSR and LAPIC leak audit across every reset source.  Boot 0 records the
 * MSRs it can read and the LAPIC registers (in RAM outside the kernel
 * image, which a reset keeps), then writes a non-default value to every
 * MSR that takes one, to the LAPIC, and turns on x2APIC; every reset source
 * follows in turn (i8042, 0xCF9, triple fault, a host request), and each
 * later boot compares everything with boot 0.  Only the TSC may differ: it
 * is reported on its own (restarted small, or not, where the host ignores
 * TSC writes).  The boot counter lives in CMOS NVRAM (byte 0x41).
 */
#include "rt.h"

#define STORE ((volatile struct store *)0x2000000ull)
#define MAX_MSRS 96
#define NBOOTS 5

static const uint32_t candidates[] = {
	0x3a, 0x3b, 0x48, 0x9e, 0x140, 0x174, 0x175, 0x176, 0x17a, 0x17b, 0x1a0, 0x1d9,
	0x1db, 0x1dc, 0x1dd, 0x1de, 0x1fc, 0x200, 0x201, 0x202, 0x203, 0x204, 0x205,
	0x206, 0x207, 0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f, 0x250,
	0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f, 0x277,
	0x2ff, 0x6e0, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100,
	0xc0000101, 0xc0000102, 0xc0000103, 0xc0010015, 0xc0010117, 0xc001011f, 0x11,
	0x12, 0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04, 0x4b564d05,
	0x4b564d06, 0x4b564d07,
};
#define NCAND (sizeof(candidates) / sizeof(candidates[0]))

static const uint64_t dirty_values[] = {
	0x0007060504010006ull,   /* a valid PAT */
	0x0000000003000001ull,   /* a page in RAM with the enable bit (PV areas) */
	0x0000123456789000ull, 0x0000000012345000ull, 0xa5a0, 0x10, 0x1,
};

static const unsigned lapic_regs[] = { 0x20, 0x30, 0x80, 0xd0, 0xe0, 0xf0, 0x320, 0x330,
				       0x340, 0x350, 0x360, 0x370, 0x380, 0x3e0 };
#define NLAPIC (sizeof(lapic_regs) / sizeof(lapic_regs[0]))

struct store {
	uint64_t magic;
	unsigned n;
	uint32_t index[MAX_MSRS];
	uint64_t value[MAX_MSRS];
	uint32_t lapic[NLAPIC];
	uint64_t apic_base;
	uint64_t tsc_before_reset;
};

static void record(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NCAND && n < MAX_MSRS; i++) {
		uint64_t v;

		if (rdmsr_safe(candidates[i], &v)) {
			STORE->index[n] = candidates[i];
			STORE->value[n] = v;
			n++;
		}
	}
	STORE->n = n;
	for (unsigned i = 0; i < NLAPIC; i++)
		STORE->lapic[i] = lapic_read(lapic_regs[i]);
	STORE->apic_base = rdmsr(0x1b);
	STORE->magic = 0x5348524b41554454ull;
	kprintf("audit: recorded %u MSRs, %u LAPIC registers, APIC base 0x%llx\n", n,
		(unsigned)NLAPIC, (unsigned long long)STORE->apic_base);
}

static unsigned compare(void)
{
	unsigned bad = 0;
	uint64_t base = rdmsr(0x1b);

	for (unsigned i = 0; i < STORE->n; i++) {
		uint64_t v = 0;

		if (!rdmsr_safe(STORE->index[i], &v) || v != STORE->value[i]) {
			kprintf("audit: MSR 0x%x is 0x%llx, first boot had 0x%llx\n", STORE->index[i],
				(unsigned long long)v, (unsigned long long)STORE->value[i]);
			bad++;
		}
	}
	for (unsigned i = 0; i < NLAPIC; i++) {
		uint32_t v = lapic_read(lapic_regs[i]);

		if (v != STORE->lapic[i]) {
			kprintf("audit: LAPIC 0x%x is 0x%x, first boot had 0x%x\n", lapic_regs[i], v,
				STORE->lapic[i]);
			bad++;
		}
	}
	if (base != STORE->apic_base) {
		kprintf("audit: APIC base 0x%llx, first boot had 0x%llx\n", (unsigned long long)base,
			(unsigned long long)STORE->apic_base);
		bad++;
	}
	return bad;
}

static unsigned dirty(void)
{
	unsigned changed = 0;

	for (unsigned i = 0; i < STORE->n; i++) {
		for (unsigned c = 0; c < sizeof(dirty_values) / sizeof(dirty_values[0]); c++) {
			uint64_t back;

			if (dirty_values[c] == STORE->value[i])
				continue;
			if (wrmsr_safe(STORE->index[i], dirty_values[c]) &&
			    rdmsr_safe(STORE->index[i], &back) && back != STORE->value[i]) {
				changed++;
				break;
			}
		}
	}
	lapic_write(0x80, 0x20);            /* TPR */
	lapic_write(0xd0, 0x01000000);      /* LDR */
	lapic_write(0xe0, 0x0fffffff);      /* DFR: cluster */
	lapic_write(0xf0, 0x1ff);           /* SVR: enabled */
	lapic_write(0x3e0, 0xb);            /* divide by 1 */
	lapic_write(0x320, 0x30);           /* timer unmasked, vector 0x30 */
	lapic_write(0x350, 0x10000);        /* LINT0 masked */
	lapic_write(0x370, 0x33);           /* error vector */
	{
		uint32_t a, b, c, d;

		cpuid(1, 0, &a, &b, &c, &d);
		if (c & (1u << 21))          /* x2APIC on: a reset must turn it off */
			wrmsr_safe(0x1b, rdmsr(0x1b) | (1u << 10));
	}
	return changed;
}

void test_main(void)
{
	unsigned boot = cmos_read(0x41), changed;

	cmos_write(0x41, (uint8_t)(boot + 1));
	kprintf("audit: boot %u\n", boot);
	if (boot == 0) {
		record();
	} else {
		uint64_t tsc = rdtsc();

		GUEST_ASSERT_EQ(STORE->magic, 0x5348524b41554454ull);
		if (compare())
			test_fail("boot %u differs from the first boot", boot);
		kprintf("audit: boot %u matches the first boot\n", boot);
		kprintf("audit: TSC %s (0x%llx after reset, 0x%llx before)\n",
			tsc < STORE->tsc_before_reset ? "restarted" : "not restarted",
			(unsigned long long)tsc, (unsigned long long)STORE->tsc_before_reset);
	}
	if (boot + 1 >= NBOOTS) {
		cmos_write(0x41, 0);
		kprintf("audit: all %u boots clean\n", NBOOTS);
		return;
	}
	changed = dirty();
	kprintf("audit: dirtied %u MSRs and the LAPIC\n", changed);
	STORE->tsc_before_reset = rdtsc();
	switch (boot) {
	case 0: kprintf("audit: reset through the i8042\n"); reset_by(RESET_KBD);
	case 1: kprintf("audit: reset through 0xcf9\n"); reset_by(RESET_CF9);
	case 2: kprintf("audit: reset through a triple fault\n"); reset_by(RESET_TRIPLE);
	default:
		kprintf("audit: waiting for a host reset\n");
		for (;;)
			cpu_relax();
	}
}
