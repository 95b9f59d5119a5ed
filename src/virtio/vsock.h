/*
 * What the two virtio-vsock devices share (virtio/vsock.c, shrike's own
 * host side; virtio/vhost_vsock.c, the kernel's): device ID 19, the guest's
 * CID as the configuration, and the event queue's one event.
 */
#ifndef SHRIKE_VIRTIO_VSOCK_H
#define SHRIKE_VIRTIO_VSOCK_H

#include <stdbool.h>

#include "virtio/virtio.h"

#include "core/config.h"

#define VSOCK_DEVICE_ID 19
#define VSOCK_PCI_CLASS 0x088000       /* "other system peripheral", as QEMU */
#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_QUEUE_MAX 256
#define VSOCK_F_SEQPACKET 1            /* virtio 1.2, 5.10.3 */

/* What both devices keep, first in their state (vd first of all: the
 * model glue of virtio/model.c finds it there). */
struct vsock_base {
	struct virtio_dev *vd;
	const struct vsock_config *cfg;
	struct { uint64_t guest_cid; } __attribute__((packed)) config;
	bool reset_event_owed;     /* a restore: tell the guest its connections are gone */
};

void vsock_base_init(struct vsock_base *b, const struct vsock_config *cfg);
/* virtio_ops.config_read of a device whose state begins with its base. */
void vsock_config_read(void *dev, unsigned off, void *buf, unsigned n);
/* Under the device lock: the TRANSPORT_RESET event, if one is owed, into
 * a buffer of the event queue; if the driver has none posted yet, it stays
 * owed until its next notification. */
void vsock_send_owed_event(struct vsock_base *b, struct virtq_chain *ch);

/* A snapshot's part of either device: the transport, then the CID (a
 * restore must be given the same).  Connections are never in it: a load
 * owes the guest the reset event. */
int vsock_save(struct vsock_base *b, struct snap_writer *w);
int vsock_load(struct vsock_base *b, struct snap_reader *r);

#endif
