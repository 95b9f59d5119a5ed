/* What the two virtio-vsock devices share: see vsock.h. */
#include <pthread.h>
#include <string.h>

#include "base/log.h"
#include "base/stream.h"
#include "core/vm.h"
#include "virtio/vsock.h"

void vsock_base_init(struct vsock_base *b, const struct vsock_config *cfg)
{
	b->cfg = cfg;
	b->config.guest_cid = cfg->cid;
}

void vsock_config_read(void *dev, unsigned off, void *buf, unsigned n)
{
	memcpy(buf, (const uint8_t *)&((struct vsock_base *)dev)->config + off, n);
}

void vsock_send_owed_event(struct vsock_base *b, struct virtq_chain *ch)
{
	struct virtio_dev *vd = b->vd;
	struct virtqueue *q = &vd->vq[VSOCK_EVQ];
	uint32_t id = 0;           /* VIRTIO_VSOCK_EVENT_TRANSPORT_RESET */
	char err[160];
	int r;

	if (!b->reset_event_owed || !(vd->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (vd->status & VIRTIO_STATUS_NEEDS_RESET) || !q->enabled || q->broken)
		return;
	r = virtq_pop(q, &vd->vm->mem, ch, err, sizeof(err));
	if (r < 0)
		virtio_needs_reset(vd, err);
	if (r <= 0)
		return;
	virtq_push(q, &vd->vm->mem, ch->head, (uint32_t)virtq_write(ch, 0, &id, sizeof(id)));
	virtio_queue_done(vd, q);
	b->reset_event_owed = false;
}

int vsock_save(struct vsock_base *b, struct snap_writer *w)
{
	virtio_pci_save(b->vd, w);
	snap_put_u64(w, b->config.guest_cid);
	return w->sb.failed ? -1 : 0;
}

/* The event goes out when the VM starts: the restored device is paused
 * until then (virtio_pci_load), and resuming it serves its queues. */
int vsock_load(struct vsock_base *b, struct snap_reader *r)
{
	uint64_t cid;

	if (virtio_pci_load(b->vd, r))
		return -1;
	cid = snap_get_u64(r);
	if (!snap_done(r))
		return -1;
	if (cid != b->config.guest_cid) {
		log_error("--vsock: the snapshot's guest had CID %llu: give the restore the same",
			  (unsigned long long)cid);
		return -1;
	}
	pthread_mutex_lock(&b->vd->lock);
	b->reset_event_owed = true;
	pthread_mutex_unlock(&b->vd->lock);
	return 0;
}
