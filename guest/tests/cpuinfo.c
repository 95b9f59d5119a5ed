/*
 * Prints what the guest's CPUID says (vendor, a few feature bits) and
 * whether the APIC base MSR accepts x2APIC mode, for the CPU-model tests:
 *   cpuinfo: vendor GenuineIntel x2apic 1 cx16 1 popcnt 1 pdpe1gb 0
 *   cpuinfo: x2apic mode accepted | refused
 *   cpuinfo: level 0xd xlevel 0x8000000a family 15 model 107 stepping 1 brand '...'
 */
#include "rt.h"

#define MSR_APIC_BASE 0x1b
#define APIC_EXTD (1ull << 10)

/* What a CPU model defines, whatever the accelerator: QEMU's and shrike's
 * runs of one model print the same line. */
static void print_identity(void)
{
	uint32_t level, xlevel, sig, b, c, d, brand[13] = { 0 };   /* 48 bytes and a NUL */
	unsigned family, model;

	cpuid(0, 0, &level, &b, &c, &d);
	cpuid(1, 0, &sig, &b, &c, &d);
	cpuid(0x80000000, 0, &xlevel, &b, &c, &d);
	for (uint32_t i = 0; i < 3 && xlevel >= 0x80000002 + i; i++)
		cpuid(0x80000002 + i, 0, &brand[4 * i], &brand[4 * i + 1], &brand[4 * i + 2],
		      &brand[4 * i + 3]);
	family = (sig >> 8) & 0xf;
	model = (sig >> 4) & 0xf;
	if (family == 0xf)
		family += (sig >> 20) & 0xff;
	if (family >= 6)
		model |= ((sig >> 16) & 0xf) << 4;
	kprintf("cpuinfo: level 0x%x xlevel 0x%x family %u model %u stepping %u brand '%s'\n",
		level, xlevel, family, model, sig & 0xf, (const char *)brand);
}

void test_main(void)
{
	uint32_t a, b, c, d, c1, d81 = 0, max_ext;
	char vendor[13];
	uint64_t base;
	bool ok;

	cpuid(0, 0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;
	cpuid(1, 0, &a, &b, &c1, &d);
	cpuid(0x80000000, 0, &max_ext, &b, &c, &d);
	if (max_ext >= 0x80000001)
		cpuid(0x80000001, 0, &a, &b, &c, &d81);
	kprintf("cpuinfo: vendor %s x2apic %u cx16 %u popcnt %u pdpe1gb %u\n", vendor,
		(c1 >> 21) & 1, (c1 >> 13) & 1, (c1 >> 23) & 1, (d81 >> 26) & 1);
	print_identity();
	base = rdmsr(MSR_APIC_BASE);
	ok = wrmsr_safe(MSR_APIC_BASE, base | APIC_EXTD);
	kprintf("cpuinfo: x2apic mode %s\n", ok ? "accepted" : "refused");
	if (ok)
		wrmsr_safe(MSR_APIC_BASE, base & ~APIC_EXTD & ~(1ull << 11));
}
