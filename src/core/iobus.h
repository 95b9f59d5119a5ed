/*
 * Port-I/O and MMIO address spaces.
 *
 * A device registers a region [base, base + len) with an ops table that
 * states its access-size contract explicitly:
 *   valid_min..valid_max  sizes the guest may use (others are invalid:
 *                         reads give all ones, writes are dropped, counted
 *                         and logged at a limited rate);
 *   impl_min..impl_max    sizes the callbacks implement.  The bus widens a
 *                         narrower access to impl_min (reads are masked,
 *                         writes zero-extended, no read-modify-write) and
 *                         splits a wider one into impl_max pieces, little
 *                         endian, the way QEMU's access_with_adjusted_size()
 *                         does.
 * An access is first cut into pieces no larger than valid_max and the
 * alignment of their offset in the region; each piece is looked up by its own
 * address (QEMU's flatview loop), so the part of a too-wide access beyond
 * the first piece reaches whatever lies there, or the unassigned space.
 * A piece is not clamped to the region length: a 4-byte IN at a 1-byte
 * region reaches it whole, as on a PC, so callbacks must accept offsets
 * past the region's end.
 *
 * Regions are registered before vCPUs start and never change afterwards,
 * so lookups take no lock.  Devices lock their own state.
 */
#ifndef SHRIKE_IOBUS_H
#define SHRIKE_IOBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

struct vcpu;

struct io_ops {
	/* `vcpu` is the vCPU whose exit caused the access (NULL in unit tests). */
	uint64_t (*read)(void *opaque, struct vcpu *vcpu, uint64_t offset, unsigned size);
	void (*write)(void *opaque, struct vcpu *vcpu, uint64_t offset, uint64_t value,
		      unsigned size);
	uint8_t valid_min, valid_max;
	uint8_t impl_min, impl_max;
};

struct io_region {
	uint64_t base, len;
	const struct io_ops *ops;
	void *opaque;
	const char *name;
};

struct iobus_counters {
	uint64_t unassigned_reads, unassigned_writes, invalid;
};

struct iobus {
	const char *name;        /* "pio" or "mmio", for log lines */
	uint64_t limit;          /* one past the highest address (0 = 2^64) */
	struct io_region *regions;   /* sorted by base, non-overlapping */
	size_t nregions, cap;
	struct iobus_counters count;
	struct ratelimit rl;
};

void iobus_init(struct iobus *bus, const char *name, uint64_t limit);
void iobus_free(struct iobus *bus);

/* Returns 0, -EINVAL (zero length, overflow, beyond the bus, bad size
 * contract) or -EEXIST (overlap). */
int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
		   const struct io_ops *ops, void *opaque, const char *name);

const struct io_region *iobus_find(const struct iobus *bus, uint64_t addr);

/* `data` holds `size` bytes in guest (little-endian) order. */
void iobus_read(struct iobus *bus, struct vcpu *vcpu, uint64_t addr, void *data, unsigned size);
void iobus_write(struct iobus *bus, struct vcpu *vcpu, uint64_t addr, const void *data,
		 unsigned size);

#endif
