/*
 * Prints what the guest's CPUID says (vendor, a few feature bits) and
 * whether the APIC base MSR accepts x2APIC mode, for the CPU-model tests:
 *   cpuinfo: vendor GenuineIntel x2apic 1 cx16 1 popcnt 1 pdpe1gb 0
 *   cpuinfo: x2apic mode accepted | refused
 */
#include "rt.h"

#define MSR_APIC_BASE 0x1b
#define APIC_EXTD (1ull << 10)

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
	base = rdmsr(MSR_APIC_BASE);
	ok = wrmsr_safe(MSR_APIC_BASE, base | APIC_EXTD);
	kprintf("cpuinfo: x2apic mode %s\n", ok ? "accepted" : "refused");
	if (ok)
		wrmsr_safe(MSR_APIC_BASE, base & ~APIC_EXTD & ~(1ull << 11));
}
