/* For bench/snapshot.py: touches "mib=N" MiB (one word per page, so every
 * page is not zero), says "ready", then prints '.' until told 'p' on the
 * serial line; then it reads one byte of each touched page and prints
 * "pass C" (C = TSC cycles), so the first pass after a restore shows what
 * the first touches of restored pages cost. */
#include "rt.h"

#define BASE (32ull << 20)

static uint64_t pass(uint64_t pages)
{
	volatile const uint8_t *p = (const uint8_t *)BASE;
	uint64_t t0 = rdtsc(), sum = 0;

	for (uint64_t i = 0; i < pages; i++)
		sum += p[i * 4096];
	(void)sum;
	return rdtsc() - t0;
}

void test_main(void)
{
	uint64_t pages = (uint64_t)cmdline_uint("mib=") * 256;

	for (uint64_t i = 0; i < pages; i++)
		*(volatile uint64_t *)(BASE + i * 4096) = i + 1;
	kprintf("ready\n");
	for (;;) {
		if (inb(0x3f8 + 5) & 1) {
			if (inb(0x3f8) == 'p')
				kprintf("\npass %llu\n", (unsigned long long)pass(pages));
			continue;
		}
		outb(0x3f8, '.');
	}
}
