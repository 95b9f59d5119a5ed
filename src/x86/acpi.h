/* ACPI tables (RSDP, XSDT, FADT, FACS, DSDT, MADT, MCFG) for Linux guests. */
#ifndef SHRIKE_ACPI_H
#define SHRIKE_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Where the loaders put the tables: in the reserved BIOS area, which Linux
 * also scans for the RSDP on a legacy boot. */
#define ACPI_TABLES_ADDR 0xe0000ull
#define ACPI_TABLES_SIZE 0x10000u
#define ACPI_MAX_CPUS    255

#define ACPI_MAX_PCI_SLOTS 32

/* What the tables say about the board (board/pc.c fills it in: the tables
 * describe the machine, they do not choose it). */
struct acpi_board {
	uint16_t pm_base;          /* PM1a event block; control at +4, timer at +8 */
	uint8_t sci_irq;           /* level-triggered, active high */
	uint32_t ioapic_base;
	uint32_t pci_mmio_base, pci_mmio_end;   /* the BARs' windows, [base, end) */
	uint64_t ecam_base, ecam_size;          /* bus 0's ECAM (MCFG) */
	unsigned pci_slots;        /* at most ACPI_MAX_PCI_SLOTS */
	unsigned (*intx_gsi)(unsigned slot, unsigned pin);   /* pin 1 = INTA */
};

/* Builds the tables into buf (at least ACPI_TABLES_SIZE bytes), for
 * guest-physical address `base`, RSDP first.  Returns the bytes used, or 0
 * if ncpus is out of range. */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, unsigned ncpus,
		  const struct acpi_board *b);

/* The value that makes the bytes sum to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
