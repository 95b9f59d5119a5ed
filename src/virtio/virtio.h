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

#include "base/log.h"
#include "hw/msix.h"
#include "hw/pci.h"
#include "virtio/queue.h"

struct vm;
struct snap_writer;
struct snap_reader;

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
	/* Optional, under the device lock: the events to wait for on that
	 * descriptor now (0: none, while the device cannot take its input);
	 * POLLIN without it. */
	short (*poll_events)(void *dev, const struct virtio_dev *vd);
	/* Optional, under the device lock: requests still in flight (a save
	 * waits until none is). */
	unsigned (*inflight)(void *dev);
	/* Optional, under the device lock, before a save: give back what the
	 * device holds that is not in the rings (a buffer taken for input). */
	void (*quiesce)(void *dev, struct virtio_dev *vd);
	/* Optional, under the device lock: the driver set DRIVER_OK. */
	void (*driver_ok)(void *dev, struct virtio_dev *vd);
	/* Queues served outside the I/O thread (by vhost in the kernel): the
	 * thread leaves their notification eventfds alone.  A bit per queue. */
	uint32_t external_queues;
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
	/* A save in progress: notifications wait (kicked_while_paused) and
	 * the save waits for the I/O thread to be idle (busy, idle). */
	bool paused;
	unsigned busy;
	uint32_t kicked_while_paused;
	pthread_cond_t idle;
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
/* For handle_queue of a device that answers each request at once: every
 * chain on queue q goes through serve (which returns the bytes it wrote
 * into it) and back, the driver is interrupted if it asked, and the loop
 * goes on while chains came after notifications were turned on again
 * (with EVENT_IDX that also tells the driver to notify the next one).  A
 * malformed ring asks the driver for a reset. */
void virtio_serve_queue(struct virtio_dev *vd, unsigned q, struct virtq_chain *c,
			uint32_t (*serve)(void *dev, struct virtq_chain *c), void *dev);
/* Interrupts the driver for queue q, unconditionally (a backend outside
 * shrike decided that it must be). */
void virtio_queue_interrupt(struct virtio_dev *vd, unsigned q);
/* The device changed its configuration space (under the device lock): the
 * generation moves on and the driver gets the configuration interrupt. */
void virtio_config_changed(struct virtio_dev *vd);
/* A malformed request or ring: the device stops and asks for a reset. */
void virtio_needs_reset(struct virtio_dev *vd, const char *why);

/*
 * The device model glue every virtio device shares (hw/devices.h's
 * struct device_model): the device's own state struct begins with its
 * struct virtio_dev *, so these take the model's opaque pointer as is.
 * A save quiesces the device (requests in flight complete, notifications
 * wait), writes the transport's state (PCI configuration, MSI-X, features,
 * status, every queue's addresses and indices), then resumes it; a load
 * checks every field against the device built from the command line and
 * maps the rings again.  Devices add their own fields after the
 * transport's (virtio_pci_save/load).
 */
void virtio_model_reset(void *opaque);
int virtio_model_quiesce(void *opaque);
void virtio_model_resume(void *opaque);
int virtio_model_save(void *opaque, struct snap_writer *w);
int virtio_model_load(void *opaque, struct snap_reader *r);
void virtio_pci_save(struct virtio_dev *vd, struct snap_writer *w);
int virtio_pci_load(struct virtio_dev *vd, struct snap_reader *r);

static inline bool virtio_has(const struct virtio_dev *vd, unsigned bit)
{
	return vd->guest_features >> bit & 1;
}

#endif
