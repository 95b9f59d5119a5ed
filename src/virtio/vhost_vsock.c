/*
 * virtio-vsock served by the kernel's vhost-vsock (/dev/vhost-vsock), as
 * QEMU's vhost-vsock-pci: host programs use AF_VSOCK sockets and reach the
 * guest by its CID.  shrike keeps the PCI transport and the event queue;
 * the receive and transmit queues are the kernel's once the driver is
 * ready: vhost reads their notifications straight from the ioeventfds KVM
 * writes, walks the rings in guest memory (the memory table below), and
 * signals completions straight to the queue's MSI-X irqfd while its
 * vector can take them (as QEMU's vhost does), else on an eventfd that
 * the device's I/O thread turns into the queue's interrupt (INTx, a
 * masked vector's pending bit).
 *
 * vhost stops (its ring positions read back into the transport) at a reset
 * and before a snapshot's save; it starts again after the save and at a
 * restore, where the guest is told its connections are gone (the kernel
 * that held them is not the restored VM's).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"

#define RXQ VSOCK_RXQ
#define TXQ VSOCK_TXQ

struct vhost_vsock {
	struct vsock_base b;       /* first: the model glue's vd */
	int vhost;                 /* /dev/vhost-vsock */
	int call;                  /* vhost signals completions here when not to an irqfd */
	int call_fd[2];            /* what vhost signals for each data queue now */
	uint64_t vhost_features;   /* what this kernel's vhost-vsock takes */
	bool started;
	uint16_t used_seen[2];     /* used indices at the last call: which queue moved */
	struct virtq_chain chain;
};

static int vhost_ioctl(struct vhost_vsock *v, unsigned long req, void *arg, const char *what)
{
	if (ioctl(v->vhost, req, arg) < 0) {
		log_limited(&v->b.vd->rl, "vhost-vsock: %s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

static int set_mem_table(struct vhost_vsock *v)
{
	const struct guest_mem *mem = &v->b.vd->vm->mem;
	struct vhost_memory *t = calloc(1, sizeof(*t) + mem->nbanks * sizeof(t->regions[0]));
	int r;

	if (!t)
		return -1;
	t->nregions = mem->nbanks;
	for (unsigned i = 0; i < mem->nbanks; i++)
		t->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = mem->bank[i].gpa, .memory_size = mem->bank[i].size,
			.userspace_addr = (uintptr_t)mem->bank[i].host,
		};
	r = vhost_ioctl(v, VHOST_SET_MEM_TABLE, t, "VHOST_SET_MEM_TABLE");
	free(t);
	return r;
}

static int start_queue(struct vhost_vsock *v, unsigned qi)
{
	struct virtio_dev *vd = v->b.vd;
	struct virtqueue *q = &vd->vq[qi];
	struct vhost_vring_state num = { .index = qi, .num = q->size };
	struct vhost_vring_state base = { .index = qi, .num = q->last_avail };
	struct vhost_vring_addr addr = {
		.index = qi, .desc_user_addr = (uintptr_t)q->desc,
		.avail_user_addr = (uintptr_t)q->avail, .used_user_addr = (uintptr_t)q->used,
	};
	struct vhost_vring_file kick = { .index = qi, .fd = vd->kick[qi] };
	struct vhost_vring_file call = { .index = qi, .fd = v->call };

	v->used_seen[qi] = q->used_idx;
	v->call_fd[qi] = v->call;
	return vhost_ioctl(v, VHOST_SET_VRING_NUM, &num, "VHOST_SET_VRING_NUM") ||
	       vhost_ioctl(v, VHOST_SET_VRING_BASE, &base, "VHOST_SET_VRING_BASE") ||
	       vhost_ioctl(v, VHOST_SET_VRING_ADDR, &addr, "VHOST_SET_VRING_ADDR") ||
	       vhost_ioctl(v, VHOST_SET_VRING_KICK, &kick, "VHOST_SET_VRING_KICK") ||
	       vhost_ioctl(v, VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL") ? -1 : 0;
}

/* Under the device lock: each data queue's completions go to its MSI-X
 * vector's irqfd while that vector delivers at once, so an interrupt
 * takes no hop through this thread (on one CPU, each hop was a thread
 * switch: vhost's guest to host stream ran at 0.66x QEMU's); else to
 * `call`, for completions() to relay.  The vector's readiness changes
 * only by the guest's writes, which wake completions() to call this. */
static void route_calls(struct vhost_vsock *v)
{
	struct virtio_dev *vd = v->b.vd;

	for (unsigned qi = RXQ; qi <= TXQ && v->started; qi++) {
		uint16_t vector = vd->vq[qi].msix_vector;
		int direct = vector == MSIX_NO_VECTOR ? -1 : msix_direct_fd(&vd->msix, vector);
		struct vhost_vring_file call = { .index = qi, .fd = direct >= 0 ? direct : v->call };

		if (call.fd != v->call_fd[qi] &&
		    !vhost_ioctl(v, VHOST_SET_VRING_CALL, &call, "VHOST_SET_VRING_CALL"))
			v->call_fd[qi] = call.fd;
	}
}

/* Under the device lock: the kernel takes the two data queues. */
static void start(struct vhost_vsock *v)
{
	struct virtio_dev *vd = v->b.vd;
	uint64_t features = vd->guest_features;
	int run = 1;

	if (v->started || !(vd->status & VIRTIO_STATUS_DRIVER_OK) ||
	    (vd->status & VIRTIO_STATUS_NEEDS_RESET))
		return;
	if (!vd->vq[RXQ].enabled || !vd->vq[TXQ].enabled) {
		virtio_needs_reset(vd, "vhost-vsock: DRIVER_OK with a data queue not enabled");
		return;
	}
	if (vhost_ioctl(v, VHOST_SET_FEATURES, &features, "VHOST_SET_FEATURES") ||
	    set_mem_table(v) || start_queue(v, RXQ) || start_queue(v, TXQ) ||
	    vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &run, "VHOST_VSOCK_SET_RUNNING")) {
		virtio_needs_reset(vd, "vhost-vsock could not take the queues");
		return;
	}
	v->started = true;
	route_calls(v);
}

/* Under the device lock: the kernel lets go of the queues; where it got to
 * goes back into the transport (a save writes it, a start resumes it). */
static void stop(struct vhost_vsock *v)
{
	struct virtio_dev *vd = v->b.vd;
	int run = 0;

	if (!v->started)
		return;
	v->started = false;
	vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &run, "VHOST_VSOCK_SET_RUNNING");
	for (unsigned qi = RXQ; qi <= TXQ; qi++) {
		struct vhost_vring_state base = { .index = qi };
		struct virtqueue *q = &vd->vq[qi];

		if (vhost_ioctl(v, VHOST_GET_VRING_BASE, &base, "VHOST_GET_VRING_BASE") == 0)
			q->last_avail = (uint16_t)base.num;
		if (q->used)
			q->used_idx = q->used[1];
	}
}

static void driver_ok(void *dev, struct virtio_dev *vd)
{
	(void)vd;
	start(dev);
}

/* vhost completed buffers on a queue not routed to its irqfd (interrupt
 * for each whose used index moved), or the guest changed an MSI-X mask. */
static void completions(void *dev, struct virtio_dev *vd)
{
	struct vhost_vsock *v = dev;
	eventfd_t n;

	if (eventfd_read(v->call, &n) < 0 || !v->started)
		return;
	route_calls(v);
	for (unsigned qi = RXQ; qi <= TXQ; qi++) {
		uint16_t used = vd->vq[qi].used[1];

		if (used != v->used_seen[qi]) {
			v->used_seen[qi] = used;
			virtio_queue_interrupt(vd, qi);
		}
	}
}

/* From msix: a mask or enable bit was written; completions() reroutes. */
static void wake_relay(void *opaque)
{
	eventfd_write(((struct vhost_vsock *)opaque)->call, 1);
}

static int call_fd(void *dev)
{
	return ((struct vhost_vsock *)dev)->call;
}

/* Only the event queue is notified to shrike. */
static void handle_queue(void *dev, struct virtio_dev *vd, unsigned q)
{
	struct vhost_vsock *v = dev;

	(void)vd;                      /* v->b.vd */
	if (q == VSOCK_EVQ)
		vsock_send_owed_event(&v->b, &v->chain);
}

static void vhost_dev_reset(void *dev)
{
	struct vhost_vsock *v = dev;

	stop(v);
	v->b.reset_event_owed = false;
}

static const struct virtio_ops vhost_vsock_ops = {
	.name = "vhost-vsock",
	.device_id = VSOCK_DEVICE_ID,
	.pci_class = VSOCK_PCI_CLASS,
	.queue_max = VSOCK_QUEUE_MAX,
	.config_read = vsock_config_read,
	.config_size = sizeof(uint64_t),
	.handle_queue = handle_queue,
	.reset = vhost_dev_reset,
	.poll_fd = call_fd,
	.poll_ready = completions,
	.driver_ok = driver_ok,
	.external_queues = 1u << RXQ | 1u << TXQ,
};

/* ---- the device model ---- */

static int open_vhost(struct vhost_vsock *v)
{
	uint64_t cid = v->b.cfg->cid;

	v->vhost = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (v->vhost < 0) {
		log_error("--vsock cid=%llu: /dev/vhost-vsock: %s (modprobe vhost_vsock, or give "
			  "uds=PATH for shrike's own host side)", (unsigned long long)cid,
			  strerror(errno));
		return -1;
	}
	if (ioctl(v->vhost, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->vhost, VHOST_GET_FEATURES, &v->vhost_features) < 0) {
		log_error("--vsock: vhost-vsock: %s", strerror(errno));
		return -1;
	}
	if (ioctl(v->vhost, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0) {
		log_error("--vsock cid=%llu: %s", (unsigned long long)cid,
			  errno == EADDRINUSE ? "another VM on this host has that CID" : strerror(errno));
		return -1;
	}
	return 0;
}

static void vhost_vsock_destroy(void *opaque)
{
	struct vhost_vsock *v = opaque;

	if (v->b.vd) {
		pthread_mutex_lock(&v->b.vd->lock);
		stop(v);
		pthread_mutex_unlock(&v->b.vd->lock);
	}
	virtio_pci_destroy(v->b.vd);
	if (v->vhost >= 0)
		close(v->vhost);
	if (v->call >= 0)
		close(v->call);
	free(v);
}

static int vhost_vsock_create(struct vm *vm, const struct device_params *p)
{
	struct vhost_vsock *v = calloc(1, sizeof(*v));

	if (!v)
		return -1;
	vsock_base_init(&v->b, p->config);
	v->vhost = -1;
	v->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm_add_device(vm, &vhost_vsock_model, v)) {
		if (v->call >= 0)
			close(v->call);
		free(v);
		return -1;
	}
	if (v->call < 0 || open_vhost(v))
		return -1;
	v->b.vd = virtio_pci_create(vm, &vhost_vsock_ops, v, 3);
	if (!v->b.vd)
		return -1;
	v->b.vd->msix.readiness_changed = wake_relay;
	v->b.vd->msix.readiness_opaque = v;
	/* The kernel moves the packets, so SOCK_SEQPACKET works where its
	 * vhost-vsock does (Linux 5.14 on); shrike's own host side has no
	 * message boundaries to keep and does not offer it. */
	v->b.vd->host_features |= v->vhost_features & 1ull << VSOCK_F_SEQPACKET;
	return 0;
}

/* A save: the kernel stops touching the rings first. */
static int vhost_vsock_quiesce(void *opaque)
{
	struct vhost_vsock *v = opaque;
	int r = virtio_model_quiesce(opaque);

	if (!r) {
		pthread_mutex_lock(&v->b.vd->lock);
		stop(v);
		pthread_mutex_unlock(&v->b.vd->lock);
	}
	return r;
}

static void vhost_vsock_resume(void *opaque)
{
	struct vhost_vsock *v = opaque;

	pthread_mutex_lock(&v->b.vd->lock);
	start(v);
	pthread_mutex_unlock(&v->b.vd->lock);
	virtio_model_resume(opaque);
}

static int vhost_vsock_save(void *opaque, struct snap_writer *w)
{
	struct vhost_vsock *v = opaque;

	return vsock_save(&v->b, w);
}

static int vhost_vsock_load(void *opaque, struct snap_reader *r)
{
	struct vhost_vsock *v = opaque;

	/* vhost takes the queues when the VM starts (vhost_vsock_resume). */
	return vsock_load(&v->b, r);
}

static void vhost_vsock_stats(void *opaque, FILE *f)
{
	struct vhost_vsock *v = opaque;

	if (!v->b.vd)
		return;
	virtio_pci_stats(v->b.vd, f);
	pthread_mutex_lock(&v->b.vd->lock);
	fprintf(f, "    vsock cid %llu: vhost-vsock in the kernel; its completions go %s\n",
		(unsigned long long)v->b.config.guest_cid,
		!v->started ? "nowhere (stopped)"
		: v->call_fd[RXQ] != v->call && v->call_fd[TXQ] != v->call
			? "to the queues' irqfds (not counted above)"
		: v->call_fd[RXQ] != v->call || v->call_fd[TXQ] != v->call
			? "to one queue's irqfd, the other's through shrike"
			: "through shrike (counted above)");
	pthread_mutex_unlock(&v->b.vd->lock);
}

const struct device_model vhost_vsock_model = {
	.name = "vhost-vsock",
	.create = vhost_vsock_create,
	.reset = virtio_model_reset,
	.quiesce = vhost_vsock_quiesce,
	.resume = vhost_vsock_resume,
	.save = vhost_vsock_save,
	.load = vhost_vsock_load,
	.stats = vhost_vsock_stats,
	.destroy = vhost_vsock_destroy,
};
