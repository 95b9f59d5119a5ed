/*
 * What every virtio device model shares (virtio.h): reset, and the
 * snapshot of the transport with the quiesce/resume pair around it.
 *
 * A save must see the rings and the RAM as one moment, but a device's I/O
 * thread writes guest memory on its own (used entries, data read from a
 * disk by io_uring).  So before the save the device is paused: the I/O
 * thread finishes what it is doing, the requests in flight complete (and
 * are pushed to the used ring: nothing is left to replay), notifications
 * that arrive meanwhile wait; the save then writes the state; resume
 * serves the waiting notifications.
 *
 * A load is input from a file: every field is checked against the device
 * the command line built (same queues, same features offered), sizes and
 * vectors are bounded, the rings must lie in RAM, and only the writable
 * bits of the configuration space are taken.
 */
#include "virtio/virtio.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <time.h>

#include "core/vm.h"
#include "base/stream.h"

#define SAVE_VERSION 1
#define QUIESCE_SECONDS 10

static struct virtio_dev *dev_of(void *opaque)
{
	return *(struct virtio_dev **)opaque;
}

void virtio_model_reset(void *opaque)
{
	struct virtio_dev *vd = dev_of(opaque);

	if (vd)
		virtio_pci_reset(vd);
}

static bool io_pending(struct virtio_dev *vd)
{
	return vd->busy || (vd->ops->inflight && vd->ops->inflight(vd->dev));
}

int virtio_model_quiesce(void *opaque)
{
	struct virtio_dev *vd = dev_of(opaque);
	struct timespec deadline;
	bool stuck;

	if (!vd)
		return 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += QUIESCE_SECONDS;
	pthread_mutex_lock(&vd->lock);
	vd->paused = true;
	while (io_pending(vd) && pthread_cond_timedwait(&vd->idle, &vd->lock, &deadline) != ETIMEDOUT)
		;
	stuck = io_pending(vd);
	if (!stuck && vd->ops->quiesce)
		vd->ops->quiesce(vd->dev, vd);
	pthread_mutex_unlock(&vd->lock);
	if (stuck) {
		log_error("%s: requests still in flight after %d s", vd->ops->name, QUIESCE_SECONDS);
		virtio_model_resume(opaque);
		return -1;
	}
	return 0;
}

void virtio_model_resume(void *opaque)
{
	struct virtio_dev *vd = dev_of(opaque);
	uint32_t kicked;

	if (!vd)
		return;
	pthread_mutex_lock(&vd->lock);
	vd->paused = false;
	kicked = vd->kicked_while_paused;
	vd->kicked_while_paused = 0;
	pthread_mutex_unlock(&vd->lock);
	for (unsigned q = 0; q < vd->nqueues; q++)
		if (kicked >> q & 1)
			eventfd_write(vd->kick[q], 1);
}

int virtio_model_save(void *opaque, struct snap_writer *w)
{
	virtio_pci_save(dev_of(opaque), w);
	return w->sb.failed ? -1 : 0;
}

int virtio_model_load(void *opaque, struct snap_reader *r)
{
	return virtio_pci_load(dev_of(opaque), r) || !snap_done(r) ? -1 : 0;
}

/* ---- the transport's state ---- */

static void save_queue(const struct virtqueue *q, struct snap_writer *w)
{
	snap_put_u16(w, q->size);
	snap_put_u8(w, q->enabled);
	snap_put_u8(w, q->broken);
	snap_put_u16(w, q->msix_vector);
	snap_put_u64(w, q->desc_gpa);
	snap_put_u64(w, q->avail_gpa);
	snap_put_u64(w, q->used_gpa);
	snap_put_u16(w, q->last_avail);
	snap_put_u16(w, q->used_idx);
	snap_put_u16(w, q->signalled_used);
	snap_put_u8(w, q->signalled_valid);
}

void virtio_pci_save(struct virtio_dev *vd, struct snap_writer *w)
{
	snap_put_u8(w, SAVE_VERSION);
	pci_config_save(&vd->pci, w);          /* the bus lock, then the device's */
	msix_save(&vd->msix, w);
	pthread_mutex_lock(&vd->lock);
	snap_put_u32(w, vd->nqueues);
	snap_put_u64(w, vd->host_features);
	snap_put_u64(w, vd->guest_features);
	snap_put_u32(w, vd->dfselect);
	snap_put_u32(w, vd->gfselect);
	snap_put_u16(w, vd->msix_config);
	snap_put_u16(w, vd->queue_select);
	snap_put_u8(w, vd->status);
	snap_put_u8(w, vd->config_generation);
	snap_put_u8(w, vd->isr);
	for (unsigned q = 0; q < vd->nqueues; q++)
		save_queue(&vd->vq[q], w);
	pthread_mutex_unlock(&vd->lock);
}

static bool vector_ok(const struct virtio_dev *vd, uint16_t v)
{
	return v == MSIX_NO_VECTOR || v < vd->msix.nvec;
}

/* Under the device lock: one queue, checked, mapped if enabled. */
static int load_queue(struct virtio_dev *vd, struct virtqueue *q, struct snap_reader *r)
{
	struct virtqueue in = { 0 };
	uint16_t last_avail, used_idx;

	in.size = snap_get_u16(r);
	in.enabled = snap_get_u8(r) != 0;
	in.broken = snap_get_u8(r) != 0;
	in.msix_vector = snap_get_u16(r);
	in.desc_gpa = snap_get_u64(r);
	in.avail_gpa = snap_get_u64(r);
	in.used_gpa = snap_get_u64(r);
	last_avail = snap_get_u16(r);
	used_idx = snap_get_u16(r);
	in.signalled_used = snap_get_u16(r);
	in.signalled_valid = snap_get_u8(r) != 0;
	if (r->failed || !in.size || in.size > vd->ops->queue_max || (in.size & (in.size - 1)) ||
	    !vector_ok(vd, in.msix_vector))
		return -1;
	in.event_idx = virtio_has(vd, VIRTIO_F_RING_EVENT_IDX);
	in.indirect = virtio_has(vd, VIRTIO_F_RING_INDIRECT_DESC);
	in.requests = q->requests;
	if (in.enabled && virtq_map(&in, &vd->vm->mem))
		return -1;
	in.last_avail = last_avail;             /* the saved ones, not the ring's */
	in.used_idx = used_idx;
	*q = in;
	return 0;
}

/* Under the device lock: the common configuration's fields. */
static int load_common(struct virtio_dev *vd, struct snap_reader *r)
{
	uint32_t nqueues = snap_get_u32(r);
	uint64_t host = snap_get_u64(r), guest = snap_get_u64(r);

	if (nqueues != vd->nqueues || host != vd->host_features || (guest & ~host))
		return -1;
	vd->guest_features = guest;
	vd->dfselect = snap_get_u32(r);
	vd->gfselect = snap_get_u32(r);
	vd->msix_config = snap_get_u16(r);
	vd->queue_select = snap_get_u16(r);
	vd->status = snap_get_u8(r);
	vd->config_generation = snap_get_u8(r);
	vd->isr = snap_get_u8(r) & 3;
	if (r->failed || !vector_ok(vd, vd->msix_config))
		return -1;
	for (unsigned q = 0; q < vd->nqueues; q++)
		if (load_queue(vd, &vd->vq[q], r))
			return -1;
	return 0;
}

int virtio_pci_load(struct virtio_dev *vd, struct snap_reader *r)
{
	int rc = -1;

	if (snap_get_u8(r) != SAVE_VERSION || pci_config_load(&vd->pci, r) ||
	    msix_load(&vd->msix, r)) {
		log_error("%s: the snapshot's PCI function does not fit this one", vd->ops->name);
		virtio_pci_reset(vd);
		return -1;
	}
	pthread_mutex_lock(&vd->lock);
	rc = load_common(vd, r);
	pthread_mutex_unlock(&vd->lock);
	if (rc) {
		log_error("%s: the snapshot's device differs from this one (queues, features), or "
			  "its rings are not in RAM", vd->ops->name);
		virtio_pci_reset(vd);
		return -1;
	}
	/* A driver without MSI-X had its line up until it read the ISR. */
	pci_set_intx(&vd->pci, vd->isr && !msix_enabled(&vd->msix));
	/* Whatever the driver made available after the last look is looked
	 * at when the VM starts (virtio_model_resume, from vm_start): an
	 * interrupt raised now would reach a local APIC that the vCPU's first
	 * run overwrites with the snapshot's. */
	pthread_mutex_lock(&vd->lock);
	vd->paused = true;
	for (unsigned q = 0; q < vd->nqueues; q++)
		if (vd->vq[q].enabled)
			vd->kicked_while_paused |= 1u << q;
	pthread_mutex_unlock(&vd->lock);
	return 0;
}
