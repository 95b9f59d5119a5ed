/*
 * The snapshot file.
 *
 *   header     one 4 KiB page: magic, format version, shrike's version,
 *              where the section table is, a SHA-256 of the metadata (the
 *              table and every section except RAM data) and one of the
 *              header itself
 *   sections   typed, with lengths, each at an offset the table gives:
 *                CONFIG    the machine (CPUs, RAM, devices, UUID, name, ...)
 *                CPUID     the CPUID table the guest saw (vCPU 0), with what
 *                          the restoring host must offer
 *                IRQCHIP   in-kernel PIC, IOAPIC, PIT and kvmclock
 *                BOOT      the boot plan (entry state, segments) so that a
 *                          reset after restore reloads the images
 *                BOOTDATA  the segments' bytes
 *                VCPU      one per vCPU: every class of the state engine
 *                DEVICE    one per device, named, the device's own record
 *                RAMMAP    runs of non-zero guest pages: (gpa, pages, offset)
 *                RAM       the pages, page-aligned, so that a restore maps
 *                          the file instead of reading it
 *
 * Integers are little-endian.  Every offset and length is checked against
 * the file before use; the metadata checksum is checked before any
 * section is read; RAM is not checksummed (that would mean reading it).
 */
#ifndef SHRIKE_SNAPSHOT_FORMAT_H
#define SHRIKE_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"

#define SNAP_MAGIC        "SHRKSNAP"
#define SNAP_VERSION      1
#define SNAP_HEADER_SIZE  4096
#define SNAP_PAGE         4096
#define SNAP_MAX_SECTIONS 1024
#define SNAP_NAME         48

enum snap_section_type {
	SNAP_CONFIG = 1,
	SNAP_CPUID = 2,
	SNAP_IRQCHIP = 3,
	SNAP_BOOT = 4,
	SNAP_BOOTDATA = 5,
	SNAP_VCPU = 6,
	SNAP_DEVICE = 7,
	SNAP_RAMMAP = 8,
	SNAP_RAM = 9,
};

/* On disk; all fields little-endian (x86 hosts only: stored as is). */
struct snap_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	char shrike_version[16];
	uint64_t table_offset;
	uint32_t nsections;
	uint32_t reserved;
	uint64_t file_size;
	uint8_t metadata_digest[DIGEST_SIZE];
	/* Of the whole header page, with this field zero: any change in the
	 * page, padding included, is seen. */
	uint8_t header_digest[DIGEST_SIZE];
};

#define SNAP_HEADER_DIGEST_AT offsetof(struct snap_header, header_digest)

struct snap_entry {
	uint32_t type;
	uint32_t index;            /* vCPU number, device order, ... */
	uint64_t offset;
	uint64_t length;
	char name[SNAP_NAME];      /* devices: the model's name */
};

struct snap_ram_run {
	uint64_t gpa;
	uint64_t pages;
	uint64_t offset;           /* in the file, page-aligned */
};

#endif
