/*
 * Finds the ACPI tables as a multiboot kernel does under QEMU: the RSDP by
 * scanning 0xE0000-0xFFFFF on 16-byte boundaries, then the RSDT or XSDT,
 * the FADT ("FACP") and the MADT ("APIC"); reads the PM timer at the port
 * the FADT names and checks that it counts.
 */
#include "rt.h"

static uint8_t sum(const void *p, unsigned n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (unsigned i = 0; i < n; i++)
		s = (uint8_t)(s + b[i]);
	return s;
}

static uint32_t rd32(const void *p)
{
	const uint8_t *b = p;

	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t rd64(const void *p)
{
	return rd32(p) | (uint64_t)rd32((const uint8_t *)p + 4) << 32;
}

static const uint8_t *find_rsdp(void)
{
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (!memcmp(p, "RSD PTR ", 8) && sum(p, 20) == 0)
			return p;
	}
	return 0;
}

/* The table with this signature among the RSDT's or XSDT's entries. */
static const uint8_t *find_table(const uint8_t *sdt, bool wide, const char *sig)
{
	uint32_t len = rd32(sdt + 4);
	unsigned step = wide ? 8 : 4;

	for (uint32_t off = 36; off + step <= len; off += step) {
		const uint8_t *t = (const uint8_t *)(wide ? rd64(sdt + off) : rd32(sdt + off));

		if (!memcmp(t, sig, 4) && sum(t, rd32(t + 4)) == 0)
			return t;
	}
	return 0;
}

void test_main(void)
{
	const uint8_t *rsdp = find_rsdp(), *sdt, *fadt, *madt;
	bool wide;
	uint32_t port, t0, t1;

	if (!rsdp)
		test_fail("no RSDP in 0xE0000-0xFFFFF");
	wide = rsdp[15] >= 2 && rd64(rsdp + 24);
	sdt = (const uint8_t *)(wide ? rd64(rsdp + 24) : rd32(rsdp + 16));
	GUEST_ASSERT(!memcmp(sdt, wide ? "XSDT" : "RSDT", 4));
	GUEST_ASSERT_EQ(sum(sdt, rd32(sdt + 4)), 0);
	fadt = find_table(sdt, wide, "FACP");
	madt = find_table(sdt, wide, "APIC");
	if (!fadt || !madt)
		test_fail("FADT or MADT missing");
	port = rd32(fadt + 76);                     /* PM_TMR_BLK */
	GUEST_ASSERT(port != 0);
	t0 = inl((uint16_t)port) & 0xffffff;
	for (volatile int i = 0; i < 20000; i++)
		;
	t1 = inl((uint16_t)port) & 0xffffff;
	kprintf("acpifind: RSDP found by the scan, then FADT and MADT; PM timer at port 0x%x: %s\n",
		port, t1 != t0 ? "counts" : "stuck");
	GUEST_ASSERT(t1 != t0);
}
