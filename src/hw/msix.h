/*
 * MSI-X for a PCI function (PCI 3.0, 6.8.2): the capability in the
 * configuration space, the vector table and the pending-bit array in one of
 * the function's memory BARs.  A device notifies a vector; it is delivered
 * when MSI-X is enabled and neither the function nor the vector is masked,
 * else its pending bit is set and it goes out when the mask is lifted.
 * Each vector is a route in KVM's GSI routing table (kept equal to the
 * table entry the guest wrote) with an irqfd, so delivering it is one
 * eventfd write from the device's thread; a KVM without irqfd gets
 * KVM_SIGNAL_MSI.
 */
#ifndef SHRIKE_MSIX_H
#define SHRIKE_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_function;
struct snap_writer;
struct snap_reader;

#define MSIX_MAX_VECTORS 64
#define MSIX_NO_VECTOR   0xffff

struct msix {
	struct vm *vm;
	struct pci_function *fn;
	unsigned cap;              /* the capability's offset in configuration space */
	unsigned nvec;
	pthread_mutex_t lock;
	bool enabled, masked;      /* the capability's enable and function-mask bits */
	struct {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} entry[MSIX_MAX_VECTORS];
	uint64_t pending;          /* one bit per vector */
	uint64_t delivered;        /* counted for --stats */
	/* Each vector a GSI route with an irqfd (KVM_IRQFD): a notification
	 * is one eventfd write.  Without (no such KVM): KVM_SIGNAL_MSI. */
	bool irqfd;
	int efd[MSIX_MAX_VECTORS];
	unsigned gsi[MSIX_MAX_VECTORS];
	/* Optional: called (no lock held; from a vCPU's thread) after the
	 * enable or function-mask bit or a vector's mask was written, so a
	 * device whose kernel backend signals irqfds itself can follow. */
	void (*readiness_changed)(void *opaque);
	void *readiness_opaque;
};

/* Adds the capability and registers the table (at table_off) and the PBA
 * (at pba_off) in BAR `bar`, which must exist with room for both.  0 or -1. */
int msix_init(struct msix *m, struct vm *vm, struct pci_function *f, unsigned nvec,
	      unsigned bar, uint64_t table_off, uint64_t pba_off);
void msix_destroy(struct msix *m);

/* Whether the driver turned MSI-X on (devices fall back to INTx if not). */
bool msix_enabled(struct msix *m);

/* Vector v's irqfd while a write to it delivers at once (MSI-X enabled,
 * neither the function nor v masked, irqfds in use), else -1: a kernel
 * backend (vhost) may then be given it to signal directly. */
int msix_direct_fd(struct msix *m, unsigned v);

/* Raises vector v (ignored if out of range). */
void msix_notify(struct msix *m, unsigned v);

/* From the function's config_written hook: the enable and mask bits may
 * have changed (and pending vectors may now go out). */
void msix_config_written(struct msix *m);

/* The vector table and pending bits in a snapshot section, and back (the
 * enable and mask bits are the configuration space's, loaded before).
 * A load delivers nothing: pending vectors go out when unmasked.  0, or
 * -1 if the section does not fit this function. */
void msix_save(struct msix *m, struct snap_writer *w);
int msix_load(struct msix *m, struct snap_reader *r);

/* Every entry masked, nothing pending, disabled. */
void msix_reset(struct msix *m);

#endif
