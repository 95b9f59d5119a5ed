/* ACPI tables (RSDP, XSDT, FADT, FACS, DSDT, MADT) for Linux guests. */
#ifndef SHRIKE_ACPI_H
#define SHRIKE_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* Where the loaders put the tables: in the reserved BIOS area, which Linux
 * also scans for the RSDP on a legacy boot. */
#define ACPI_TABLES_ADDR 0xe0000ull
#define ACPI_TABLES_SIZE 0x10000u
#define ACPI_MAX_CPUS    255

/* Builds the tables into buf (at least ACPI_TABLES_SIZE bytes), for
 * guest-physical address `base`, RSDP first.  Returns the bytes used, or 0
 * if ncpus is out of range. */
size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, unsigned ncpus);

/* The value that makes the bytes sum to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
