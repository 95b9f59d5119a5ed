/*
 * Snapshot and restore: a whole VM in one file (snapshot/format.h), on the
 * state engine's FULL level.
 *
 * Save (the VM paused): every vCPU's state in every class, fetched on its
 * own thread with cause "snapshot"; the in-kernel irqchip, PIT and
 * kvmclock; every device's record; the machine's configuration and CPUID;
 * the boot images (so that a reset of the restored VM needs no files); and
 * the guest RAM pages that are not zero.  Written to a temporary name,
 * renamed when complete.
 *
 * Restore: the file is checked whole before anything is used (bounds,
 * checksums, versions, the host's CPU features); RAM is mapped from the
 * file (MAP_PRIVATE: pages fault in when the guest touches them, so the
 * restore does not grow with RAM) or read into anonymous memory; devices
 * are loaded before any vCPU runs, and each vCPU's state goes to KVM in its
 * first FULL put, with cause "restore".
 */
#ifndef SHRIKE_SNAPSHOT_H
#define SHRIKE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_config;
struct guest_mem;
struct snapshot;

struct snapshot_stats {
	uint64_t file_bytes;
	uint64_t ram_pages;        /* non-zero pages written */
	uint64_t total_ram;
	uint64_t duration_ns;
};

/* Saves a paused VM to path, writing at most bytes_per_sec (0: no limit;
 * QMP's max-bandwidth).  Returns 0, or -1 with a message. */
int snapshot_save(struct vm *vm, const char *path, uint64_t bytes_per_sec,
		  struct snapshot_stats *st, char *err, size_t errlen);

/* Opens and checks a snapshot file.  Returns NULL with a one-line message. */
struct snapshot *snapshot_open(const char *path, char *err, size_t errlen);
void snapshot_close(struct snapshot *s);

/* The machine the snapshot describes, over the user's runtime options in
 * cfg (serial, trace, QMP, ...).  Returns 0 or -1 with a message. */
int snapshot_config(struct snapshot *s, struct vm_config *cfg, char *err, size_t errlen);

/* Guest RAM: mapped from the file (read = false) or read into it.  mem
 * must be fresh (guest_mem_init).  Returns 0 or -1 with a message. */
int snapshot_load_ram(struct snapshot *s, struct guest_mem *mem, bool read, char *err,
		      size_t errlen);

/* Into a created VM (not started): CPUID check, irqchip, devices, boot
 * plan, vCPU state (put at start with cause restore). */
int snapshot_restore(struct snapshot *s, struct vm *vm, char *err, size_t errlen);

/* The CPUID table the guest saw (vCPU 0's), for vm_create. */
const struct kvm_cpuid2 *snapshot_cpuid(const struct snapshot *s);

#endif
