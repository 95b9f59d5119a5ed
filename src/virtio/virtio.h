/*
 * virtio 1.x devices over PCI (virtio 1.2, 4.1), modern interface only.
 *
 * The transport (virtio/pci.c) owns what every device shares: the PCI
 * function with its capabilities (common configuration, notification, ISR
 * and device configuration, all in BAR 4; MSI-X in BAR 1), feature
 * negotiation, the device status, the virtqueues and an I/O thread per
 * device.  A queue notification reaches that thread through an eventfd,
 * registered with KVM as an ioeventfd so that the vCPU does not exit to
 * shrike for it (the MMIO exit writes the same eventfd where KVM cannot).
 *
 * A device (virtio/blk.c, virtio/rng.c) supplies a struct virtio_ops: its
 * ID, queues, feature bits and configuration space, and a handler that
 * the I/O thread calls, under the device lock, when a queue was notified.
 */
#ifndef SHRIKE_VIRTIO_H
#define SHRIKE_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"
#include "hw/msix.h"
#include "hw/pci.h"
#include "virtio/queue.h"

struct vm;

#define VIRTIO_MAX_QUEUES 16

#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX     29
#define VIRTIO_F_VERSION_1          32

#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   64
#define VIRTIO_STATUS_FAILED        128

struct virtio_dev;

struct virtio_ops {
	const char *name;          /* "virtio-blk" */
	uint16_t device_id;        /* virtio's device ID (2: block, 4: entropy) */
	uint32_t pci_class;
	uint16_t queue_max;        /* the largest queue the device takes */
	uint64_t features;         /* device-specific bits offered (0-23, 50-127) */
	/* The device configuration space: reads and writes of [off, off+n). */
	void (*config_read)(void *dev, unsigned off, void *buf, unsigned n);
	void (*config_write)(void *dev, unsigned off, const void *buf, unsigned n);
	unsigned config_size;
	/* handle_queue takes the device lock itself, around its ring work
	 * only (it writes to a backend that may wait for the main loop). */
	bool locks_itself;
	/* Queue q was notified: take and complete its requests (under the
	 * device lock unless locks_itself). */
	void (*handle_queue)(void *dev, struct virtio_dev *vd, unsigned q);
	/* The driver reset the device (or the machine was reset). */
	void (*reset)(void *dev);
	/* Optional: one more descriptor for the I/O thread to wait on (an
	 * io_uring's completions), and what to do when it is readable (under
	 * the device lock). */
	int (*poll_fd)(void *dev);
	void (*poll_ready)(void *dev, struct virtio_dev *vd);
};

struct virtio_dev {
	struct vm *vm;
	const struct virtio_ops *ops;
	void *dev;
	unsigned nqueues;
	struct pci_function pci;
	struct msix msix;
	pthread_mutex_t lock;      /* everything below; the I/O thread works under it */
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint16_t msix_config, queue_select;
	uint8_t status, config_generation, isr;
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	int kick[VIRTIO_MAX_QUEUES];     /* eventfds: queue notifications */
	int stop_fd;
	pthread_t thread;
	bool thread_live;
	uint64_t ioeventfd_base;         /* notify address registered with KVM (0: none) */
	bool ioeventfd_failed;
	struct ratelimit rl;
	uint64_t notifies, interrupts;   /* --stats */
};

/* Creates the PCI function, its queues and its I/O thread, and adds it to
 * the VM's bus.  NULL on failure (logged). */
struct virtio_dev *virtio_pci_create(struct vm *vm, const struct virtio_ops *ops, void *dev,
				     unsigned nqueues);
void virtio_pci_destroy(struct virtio_dev *vd);
/* The machine's reset: as if the driver wrote status 0. */
void virtio_pci_reset(struct virtio_dev *vd);
void virtio_pci_stats(struct virtio_dev *vd, FILE *f);

/* For handle_queue: after pushing used buffers, interrupt the driver if
 * it asked to be. */
void virtio_queue_done(struct virtio_dev *vd, struct virtqueue *q);
/* A malformed request or ring: the device stops and asks for a reset. */
void virtio_needs_reset(struct virtio_dev *vd, const char *why);

/* A virtio device model's save: not in snapshots yet, said by name (the
 * save fails, the VM goes on). */
int virtio_refuse_save(const char *name);

static inline bool virtio_has(const struct virtio_dev *vd, unsigned bit)
{
	return vd->guest_features >> bit & 1;
}

#endif
