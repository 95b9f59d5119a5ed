/* The ACPI tables, without KVM: signatures, lengths, checksums, pointers
 * and one MADT entry per vCPU. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "board/board.h"
#include "hw/pci.h"
#include "x86/acpi.h"

static uint8_t buf[ACPI_TABLES_SIZE];

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static const uint8_t *at(uint64_t gpa)
{
	return gpa >= ACPI_TABLES_ADDR && gpa < ACPI_TABLES_ADDR + sizeof(buf) ? buf + (gpa - ACPI_TABLES_ADDR)
									       : NULL;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* The table at gpa with this signature, checked; NULL if broken. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = at(gpa);

	if (!t || memcmp(t, sig, 4) || rd32(t + 4) < 36 || sum(t, rd32(t + 4)) != 0)
		return NULL;
	return t;
}

static void check_for(unsigned ncpus)
{
	const uint8_t *xsdt, *fadt, *madt, *mcfg, *dsdt, *p, *end;
	unsigned lapics = 0, ioapics = 0, overrides = 0;

	CHECK(acpi_build(buf, sizeof(buf), ACPI_TABLES_ADDR, ncpus, board_pc_acpi()) > 0);
	CHECK(!memcmp(buf, "RSD PTR ", 8));
	CHECK_EQ(sum(buf, 20), 0);
	CHECK_EQ(sum(buf, 36), 0);
	CHECK_EQ(buf[15], 2);
	xsdt = table(rd64(buf + 24), "XSDT");
	CHECK(xsdt);
	CHECK_EQ(rd32(xsdt + 4), 36 + 24);
	fadt = table(rd64(xsdt + 36), "FACP");
	madt = table(rd64(xsdt + 44), "APIC");
	mcfg = table(rd64(xsdt + 52), "MCFG");
	CHECK(fadt && madt && mcfg);
	CHECK_EQ(rd32(mcfg + 4), 60);                          /* one ECAM range */
	CHECK_EQ(rd64(mcfg + 44), PCI_ECAM_BASE);
	CHECK_EQ(mcfg[54] | mcfg[55] << 8, 0);                 /* segment 0, buses 0-0 */
	CHECK_EQ(mcfg[55], 0);
	CHECK_EQ(rd32(fadt + 4), 244);
	dsdt = table(rd64(fadt + 140), "DSDT");
	CHECK(dsdt);
	CHECK_EQ(rd32(fadt + 40), rd64(fadt + 140));          /* DSDT and X_DSDT agree */
	CHECK(at(rd32(fadt + 36)) && !memcmp(at(rd32(fadt + 36)), "FACS", 4));
	CHECK_EQ(rd32(at(rd32(fadt + 36)) + 4), 64);
	CHECK_EQ(rd32(fadt + 64), 0x604);                      /* PM1a_CNT_BLK */
	CHECK_EQ(rd32(fadt + 76), 0x608);                      /* PM_TMR_BLK */
	CHECK(memchr(dsdt + 36, '_', rd32(dsdt + 4) - 36) && !memcmp(dsdt + 37, "_S5_", 4));
	CHECK(memmem(dsdt, rd32(dsdt + 4), "_PRT", 4));        /* INTx routing */
	CHECK(memmem(dsdt, rd32(dsdt + 4), "MRES", 4));        /* ECAM reserved */
	CHECK_EQ(rd32(madt + 36), 0xfee00000);
	for (p = madt + 44, end = madt + rd32(madt + 4); p < end; p += p[1]) {
		CHECK(p[1] >= 2 && p + p[1] <= end);
		if (p[0] == 0) {
			CHECK_EQ(p[3], lapics);                /* APIC ID = index */
			CHECK_EQ(rd32(p + 4) & 1, 1);          /* enabled */
			lapics++;
		} else if (p[0] == 1) {
			CHECK_EQ(rd32(p + 4), 0xfec00000);
			ioapics++;
		} else if (p[0] == 2) {
			overrides++;
		}
	}
	CHECK_EQ(lapics, ncpus);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(overrides, 2);
}

static void one_cpu(void) { check_for(1); }
static void four_cpus(void) { check_for(4); }
static void many_cpus(void) { check_for(255); }

static void too_many_cpus(void)
{
	CHECK_EQ(acpi_build(buf, sizeof(buf), ACPI_TABLES_ADDR, 256, board_pc_acpi()), 0);
}

int main(void)
{
	RUN(one_cpu);
	RUN(four_cpus);
	RUN(many_cpus);
	RUN(too_many_cpus);
	return check_failures ? 1 : 0;
}
