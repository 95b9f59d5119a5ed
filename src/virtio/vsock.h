/*
 * What the two virtio-vsock devices share (virtio/vsock.c, shrike's own
 * host side; virtio/vhost_vsock.c, the kernel's): device ID 19, the guest's
 * CID as the configuration, and the event queue's one event.
 */
#ifndef SHRIKE_VIRTIO_VSOCK_H
#define SHRIKE_VIRTIO_VSOCK_H

#include <stdbool.h>

#include "virtio/virtio.h"

#define VSOCK_DEVICE_ID 19
#define VSOCK_PCI_CLASS 0x088000       /* "other system peripheral", as QEMU */

/* Tells the driver that every connection is gone (a restore): the
 * TRANSPORT_RESET event into a buffer of event queue evq.  False if the
 * driver has none posted yet (try again at its next notification). */
bool vsock_send_reset_event(struct virtio_dev *vd, unsigned evq, struct virtq_chain *ch);

/* A snapshot's part of either device: the transport, then the CID (a
 * restore must be given the same).  Connections are never in it. */
int vsock_save(struct virtio_dev *vd, uint64_t cid, struct snap_writer *w);
int vsock_load(struct virtio_dev *vd, uint64_t cid, struct snap_reader *r);

#endif
