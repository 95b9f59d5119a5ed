/*
 * virtio over PCI, the modern interface (virtio 1.2, 4.1.4), laid out as
 * QEMU lays it out so that drivers and tools see what they know:
 *   BAR 1  (32-bit memory, 4 KiB)   MSI-X table at 0, PBA at 0x800
 *   BAR 4  (64-bit memory, 16 KiB)  common configuration at 0x0000, ISR at
 *          0x1000, device configuration at 0x2000, notifications at 0x3000
 *          (4 bytes per queue)
 */
#include "virtio/virtio.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "base/thread.h"
#include "core/sandbox.h"
#include "core/vm.h"

#define MSIX_BAR      1
#define CAPS_BAR      4
#define COMMON_OFF    0x0000
#define COMMON_LEN    0x38
#define ISR_OFF       0x1000
#define DEVICE_OFF    0x2000
#define NOTIFY_OFF    0x3000
#define NOTIFY_MULT   4
#define CAPS_BAR_SIZE 0x4000

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR    3
#define CAP_DEVICE 4

#define TRANSPORT_FEATURES (1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_INDIRECT_DESC | \
			    1ull << VIRTIO_F_RING_EVENT_IDX)

/* ---- interrupts ---- */

static void interrupt(struct virtio_dev *vd, uint16_t vector, uint8_t isr_bit)
{
	vd->isr |= isr_bit;
	vd->interrupts++;
	/* A driver that left MSI-X off takes INTx: the line stays up until it
	 * reads the ISR (4.1.4.5). */
	if (msix_enabled(&vd->msix)) {
		if (vector != MSIX_NO_VECTOR)
			msix_notify(&vd->msix, vector);
	} else {
		pci_set_intx(&vd->pci, true);
	}
}

void virtio_queue_done(struct virtio_dev *vd, struct virtqueue *q)
{
	if (virtq_should_notify(q, &vd->vm->mem))
		interrupt(vd, q->msix_vector, 1);
}

void virtio_serve_queue(struct virtio_dev *vd, unsigned qi, struct virtq_chain *c,
			uint32_t (*serve)(void *dev, struct virtq_chain *c), void *dev)
{
	struct virtqueue *q = &vd->vq[qi];
	char err[160];
	int r;

	do {
		while ((r = virtq_pop(q, &vd->vm->mem, c, err, sizeof(err))) > 0)
			virtq_push(q, &vd->vm->mem, c->head, serve(dev, c));
		if (r < 0) {
			virtio_needs_reset(vd, err);
			return;
		}
		virtio_queue_done(vd, q);
	} while (virtq_more_after_enabling_notify(q, &vd->vm->mem));
}

void virtio_queue_interrupt(struct virtio_dev *vd, unsigned q)
{
	interrupt(vd, vd->vq[q].msix_vector, 1);
}

void virtio_config_changed(struct virtio_dev *vd)
{
	vd->config_generation++;
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		interrupt(vd, vd->msix_config, 2);
}

void virtio_needs_reset(struct virtio_dev *vd, const char *why)
{
	log_guest(&vd->rl, "%s: %s; the device stops until the driver resets it", vd->ops->name,
		  why);
	if (vd->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		interrupt(vd, vd->msix_config, 2);
}

/* ---- ioeventfd: notifications that never leave KVM ---- */

static int ioeventfd(struct virtio_dev *vd, uint64_t addr, unsigned q, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr, .len = 2, .fd = vd->kick[q],
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vd->vm->vm_fd, KVM_IOEVENTFD, &io);
}

/* Under the bus lock: the notify area moved, or decoding changed. */
static void update_ioeventfds(struct virtio_dev *vd)
{
	uint64_t bar = pci_bar_address(&vd->pci, CAPS_BAR);
	uint64_t base = bar ? bar + NOTIFY_OFF : 0;

	if (base == vd->ioeventfd_base || vd->ioeventfd_failed)
		return;
	for (unsigned q = 0; q < vd->nqueues && vd->ioeventfd_base; q++)
		ioeventfd(vd, vd->ioeventfd_base + q * NOTIFY_MULT, q, false);
	vd->ioeventfd_base = 0;
	for (unsigned q = 0; q < vd->nqueues && base; q++) {
		if (ioeventfd(vd, base + q * NOTIFY_MULT, q, true) < 0) {
			log_limited(&vd->rl, "%s: KVM_IOEVENTFD: %s; notifications take the exit path",
				    vd->ops->name, strerror(errno));
			while (q--)
				ioeventfd(vd, base + q * NOTIFY_MULT, q, false);
			vd->ioeventfd_failed = true;
			return;
		}
	}
	vd->ioeventfd_base = base;
}

static void config_written(struct pci_function *f, unsigned off, unsigned size)
{
	struct virtio_dev *vd = f->opaque;

	if (off < vd->msix.cap + 4 && off + size > vd->msix.cap)
		msix_config_written(&vd->msix);
	if (off < PCI_BAR0 + 24 && off + size > PCI_COMMAND)
		update_ioeventfds(vd);
}

/* ---- reset and status ---- */

static void reset_locked(struct virtio_dev *vd)
{
	for (unsigned q = 0; q < vd->nqueues; q++) {
		virtq_reset(&vd->vq[q]);
		vd->vq[q].size = vd->ops->queue_max;   /* the default the driver may lower */
	}
	vd->guest_features = 0;
	vd->dfselect = vd->gfselect = 0;
	vd->msix_config = MSIX_NO_VECTOR;
	vd->queue_select = 0;
	vd->status = 0;
	vd->isr = 0;
	pci_set_intx(&vd->pci, false);
	if (vd->ops->reset)
		vd->ops->reset(vd->dev);
}

void virtio_pci_reset(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
	reset_locked(vd);
	pthread_mutex_unlock(&vd->lock);
	msix_reset(&vd->msix);
}

static void write_status(struct virtio_dev *vd, uint8_t v)
{
	if (!v) {
		reset_locked(vd);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vd->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* Only what was offered, and the modern interface. */
		if ((vd->guest_features & ~vd->host_features) ||
		    !virtio_has(vd, VIRTIO_F_VERSION_1))
			v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		for (unsigned q = 0; q < vd->nqueues; q++) {
			vd->vq[q].event_idx = virtio_has(vd, VIRTIO_F_RING_EVENT_IDX);
			vd->vq[q].indirect = virtio_has(vd, VIRTIO_F_RING_INDIRECT_DESC);
		}
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_DRIVER_OK)) {
		/* Buffers a driver made available before DRIVER_OK (Linux's
		 * console fills its receive queue during probe) are looked at
		 * now: their notifications were ignored. */
		for (unsigned q = 0; q < vd->nqueues; q++)
			if (vd->vq[q].enabled)
				eventfd_write(vd->kick[q], 1);
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_DRIVER_OK) &&
	    vd->ops->driver_ok) {
		vd->status = (uint8_t)(v | (vd->status & VIRTIO_STATUS_NEEDS_RESET));
		vd->ops->driver_ok(vd->dev, vd);
		return;
	}
	vd->status = (uint8_t)(v | (vd->status & VIRTIO_STATUS_NEEDS_RESET));
}

/* ---- the common configuration (4.1.4.3) ---- */

static struct virtqueue *selected(struct virtio_dev *vd)
{
	return vd->queue_select < vd->nqueues ? &vd->vq[vd->queue_select] : NULL;
}

/* The structure as the driver sees it now, little endian. */
static void common_image(struct virtio_dev *vd, uint8_t *img)
{
	struct virtqueue *q = selected(vd);
	uint64_t feat = vd->dfselect < 2 ? vd->host_features >> (32 * vd->dfselect) : 0;
	uint64_t gfeat = vd->gfselect < 2 ? vd->guest_features >> (32 * vd->gfselect) : 0;

	memset(img, 0, COMMON_LEN);
	pci_put32(img + 0x00, vd->dfselect);
	pci_put32(img + 0x04, (uint32_t)feat);
	pci_put32(img + 0x08, vd->gfselect);
	pci_put32(img + 0x0c, (uint32_t)gfeat);
	pci_put16(img + 0x10, vd->msix_config);
	pci_put16(img + 0x12, (uint16_t)vd->nqueues);
	img[0x14] = vd->status;
	img[0x15] = vd->config_generation;
	pci_put16(img + 0x16, vd->queue_select);
	if (!q)
		return;
	pci_put16(img + 0x18, q->size);
	pci_put16(img + 0x1a, q->msix_vector);
	pci_put16(img + 0x1c, q->enabled);
	pci_put16(img + 0x1e, vd->queue_select);           /* queue_notify_off */
	pci_put32(img + 0x20, (uint32_t)q->desc_gpa);
	pci_put32(img + 0x24, (uint32_t)(q->desc_gpa >> 32));
	pci_put32(img + 0x28, (uint32_t)q->avail_gpa);
	pci_put32(img + 0x2c, (uint32_t)(q->avail_gpa >> 32));
	pci_put32(img + 0x30, (uint32_t)q->used_gpa);
	pci_put32(img + 0x34, (uint32_t)(q->used_gpa >> 32));
}

static uint64_t common_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct virtio_dev *vd = opaque;
	uint8_t img[COMMON_LEN];
	uint32_t v = 0;

	(void)vcpu;
	if (off >= COMMON_LEN)
		return 0;
	pthread_mutex_lock(&vd->lock);
	common_image(vd, img);
	pthread_mutex_unlock(&vd->lock);
	for (unsigned i = 0; i < size && off + i < COMMON_LEN; i++)
		v |= (uint32_t)img[off + i] << (8 * i);
	return v;
}

static void set_half(uint64_t *reg, uint64_t off, uint32_t v)
{
	if (off & 4)
		*reg = (*reg & 0xffffffffull) | (uint64_t)v << 32;
	else
		*reg = (*reg & ~0xffffffffull) | v;
}

static void enable_queue(struct virtio_dev *vd, struct virtqueue *q)
{
	if (virtq_map(q, &vd->vm->mem)) {
		virtio_needs_reset(vd, "a queue's rings are not in RAM, or its size is not a power of two");
		return;
	}
	q->enabled = true;
}

/* A write to a queue's fields: only before the queue is enabled. */
static void queue_write(struct virtio_dev *vd, struct virtqueue *q, uint64_t off, uint32_t v)
{
	if (off == 0x1a) {
		q->msix_vector = v < vd->msix.nvec ? (uint16_t)v : MSIX_NO_VECTOR;
		return;
	}
	if (q->enabled) {
		log_guest(&vd->rl, "%s: queue %u changed while enabled, ignored", vd->ops->name,
			  vd->queue_select);
		return;
	}
	if (off == 0x18)
		q->size = (uint16_t)(v && v <= vd->ops->queue_max && !(v & (v - 1)) ? v : q->size);
	else if (off == 0x1c && v == 1)
		enable_queue(vd, q);
	else if (off >= 0x20 && off < 0x28)
		set_half(&q->desc_gpa, off, v);
	else if (off >= 0x28 && off < 0x30)
		set_half(&q->avail_gpa, off, v);
	else if (off >= 0x30 && off < 0x38)
		set_half(&q->used_gpa, off, v);
}

static void common_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	struct virtio_dev *vd = opaque;
	uint32_t v = (uint32_t)value;
	struct virtqueue *q;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&vd->lock);
	q = selected(vd);
	switch (off) {
	case 0x00: vd->dfselect = v; break;
	case 0x08: vd->gfselect = v; break;
	case 0x0c:
		if (vd->gfselect < 2 && !(vd->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&vd->guest_features, vd->gfselect * 4, v);
		break;
	case 0x10: vd->msix_config = v < vd->msix.nvec ? (uint16_t)v : MSIX_NO_VECTOR; break;
	case 0x14: write_status(vd, (uint8_t)v); break;
	case 0x16: vd->queue_select = (uint16_t)v; break;
	default:
		if (q && off >= 0x18)
			queue_write(vd, q, off, v);
		break;
	}
	pthread_mutex_unlock(&vd->lock);
}

/* The common configuration has 8-, 16- and 32-bit fields; 64-bit ones are
 * written as two halves. */
static const struct io_ops common_ops = {
	.read = common_read, .write = common_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

/* ---- ISR, device configuration, notifications ---- */

static uint64_t isr_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct virtio_dev *vd = opaque;
	uint8_t v;

	(void)vcpu, (void)size;
	if (off)
		return 0;
	pthread_mutex_lock(&vd->lock);
	v = vd->isr;
	vd->isr = 0;                   /* reading clears it, and lowers INTx */
	pci_set_intx(&vd->pci, false);
	pthread_mutex_unlock(&vd->lock);
	return v;
}

static void ignore_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)value, (void)size;
}

static const struct io_ops isr_ops = {
	.read = isr_read, .write = ignore_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 1,
};

static uint64_t device_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct virtio_dev *vd = opaque;
	uint64_t v = 0;

	(void)vcpu;
	if (off >= vd->ops->config_size || size > vd->ops->config_size - off)
		return 0;
	pthread_mutex_lock(&vd->lock);
	vd->ops->config_read(vd->dev, (unsigned)off, &v, size);
	pthread_mutex_unlock(&vd->lock);
	return v;
}

static void device_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	struct virtio_dev *vd = opaque;

	(void)vcpu;
	if (!vd->ops->config_write || off >= vd->ops->config_size ||
	    size > vd->ops->config_size - off)
		return;
	pthread_mutex_lock(&vd->lock);
	vd->ops->config_write(vd->dev, (unsigned)off, &value, size);
	pthread_mutex_unlock(&vd->lock);
}

static const struct io_ops device_ops = {
	.read = device_read, .write = device_write,
	.valid_min = 1, .valid_max = 8, .impl_min = 1, .impl_max = 8,
};

/* The exit path of a notification (where KVM has no ioeventfd for it). */
static void notify_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	struct virtio_dev *vd = opaque;
	unsigned q = (unsigned)(off / NOTIFY_MULT);

	(void)vcpu, (void)value, (void)size;
	if (q < vd->nqueues && eventfd_write(vd->kick[q], 1) < 0)
		log_limited(&vd->rl, "%s: cannot signal queue %u: %s", vd->ops->name, q,
			    strerror(errno));
}

static uint64_t zero_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)size;
	return 0;
}

static const struct io_ops notify_ops = {
	.read = zero_read, .write = notify_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

/* ---- the I/O thread ---- */

static void serve_queue(struct virtio_dev *vd, unsigned q)
{
	eventfd_t n;

	bool ready;

	if (eventfd_read(vd->kick[q], &n) < 0)
		return;
	pthread_mutex_lock(&vd->lock);
	vd->notifies++;
	if (vd->paused) {               /* a save: served when it ends */
		vd->kicked_while_paused |= 1u << q;
		pthread_mutex_unlock(&vd->lock);
		return;
	}
	ready = (vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_NEEDS_RESET) &&
		vd->vq[q].enabled;
	vd->busy += ready;
	if (ready && !vd->ops->locks_itself)
		vd->ops->handle_queue(vd->dev, vd, q);
	pthread_mutex_unlock(&vd->lock);
	if (!ready)
		return;
	if (vd->ops->locks_itself)
		vd->ops->handle_queue(vd->dev, vd, q);
	pthread_mutex_lock(&vd->lock);
	vd->busy--;
	pthread_cond_broadcast(&vd->idle);
	pthread_mutex_unlock(&vd->lock);
}

static void *io_thread(void *arg)
{
	struct virtio_dev *vd = arg;
	struct pollfd pfd[VIRTIO_MAX_QUEUES + 2];
	int extra = vd->ops->poll_fd ? vd->ops->poll_fd(vd->dev) : -1;
	nfds_t n = vd->nqueues + 1 + (extra >= 0);
	char err[256];

	if (sandbox_install(ROLE_IO, (enum sandbox_mode)vd->vm->cfg.seccomp, err, sizeof(err))) {
		log_error("%s: %s", vd->ops->name, err);
		return NULL;
	}
	for (unsigned q = 0; q < vd->nqueues; q++)
		pfd[q] = (struct pollfd){
			.fd = vd->ops->external_queues >> q & 1 ? -1 : vd->kick[q], .events = POLLIN,
		};
	pfd[vd->nqueues] = (struct pollfd){ .fd = vd->stop_fd, .events = POLLIN };
	pfd[vd->nqueues + 1] = (struct pollfd){ .fd = extra, .events = POLLIN };
	for (;;) {
		if (extra >= 0 && vd->ops->poll_events) {
			pthread_mutex_lock(&vd->lock);
			pfd[vd->nqueues + 1].events = vd->ops->poll_events(vd->dev, vd);
			pthread_mutex_unlock(&vd->lock);
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("%s: poll: %s", vd->ops->name, strerror(errno));
			return NULL;
		}
		if (pfd[vd->nqueues].revents)
			return NULL;
		for (unsigned q = 0; q < vd->nqueues; q++)
			if (pfd[q].revents & POLLIN)
				serve_queue(vd, q);
		if (pfd[vd->nqueues + 1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			/* The backend broke (a tap deleted under the device):
			 * waiting on it again would return at once, forever. */
			log_error("%s: its backend failed; the device's input stops", vd->ops->name);
			pfd[vd->nqueues + 1].fd = -1;
			extra = -1;
		}
		if (extra >= 0 && (pfd[vd->nqueues + 1].revents & POLLIN)) {
			pthread_mutex_lock(&vd->lock);
			vd->ops->poll_ready(vd->dev, vd);
			pthread_cond_broadcast(&vd->idle);   /* completions: a save may wait */
			pthread_mutex_unlock(&vd->lock);
		}
	}
}

/* ---- creation ---- */

static void add_cap(struct virtio_dev *vd, uint8_t type, uint32_t off, uint32_t len)
{
	unsigned c = pci_add_capability(&vd->pci, PCI_CAP_ID_VENDOR, type == CAP_NOTIFY ? 20 : 16);
	uint8_t *p = vd->pci.config + c;

	p[2] = type == CAP_NOTIFY ? 20 : 16;     /* cap_len */
	p[3] = type;
	p[4] = CAPS_BAR;
	pci_put32(p + 8, off);
	pci_put32(p + 12, len);
	if (type == CAP_NOTIFY)
		pci_put32(p + 16, NOTIFY_MULT);
}

static int setup_function(struct vm *vm, struct virtio_dev *vd)
{
	struct pci_function *f = &vd->pci;
	struct iobus *caps = &f->bar[CAPS_BAR].regions;

	pci_init_header(f, 0x1af4, (uint16_t)(0x1040 + vd->ops->device_id), vd->ops->pci_class, 1,
			0x1af4, (uint16_t)(0x40 + vd->ops->device_id));
	f->name = vd->ops->name;
	f->opaque = vd;
	f->config_written = config_written;
	f->config[PCI_INTERRUPT_PIN] = 1;       /* INTA, for drivers that leave MSI-X off */
	f->bar[MSIX_BAR].size = 0x1000;
	f->bar[CAPS_BAR] = (struct pci_bar){ .size = CAPS_BAR_SIZE, .mem64 = true, .prefetch = true };
	iobus_init(&f->bar[MSIX_BAR].regions, "virtio-msix", 0x1000);
	iobus_init(caps, "virtio-caps", CAPS_BAR_SIZE);
	add_cap(vd, CAP_COMMON, COMMON_OFF, COMMON_LEN);
	add_cap(vd, CAP_ISR, ISR_OFF, 4);
	if (vd->ops->config_size)       /* a zero-length capability is refused by Linux */
		add_cap(vd, CAP_DEVICE, DEVICE_OFF, vd->ops->config_size);
	add_cap(vd, CAP_NOTIFY, NOTIFY_OFF, vd->nqueues * NOTIFY_MULT);
	if (msix_init(&vd->msix, vm, f, vd->nqueues + 1, MSIX_BAR, 0, 0x800) ||
	    iobus_register(caps, COMMON_OFF, COMMON_LEN, &common_ops, vd, "virtio-common") ||
	    iobus_register(caps, ISR_OFF, 4, &isr_ops, vd, "virtio-isr") ||
	    (vd->ops->config_size &&
	     iobus_register(caps, DEVICE_OFF, vd->ops->config_size, &device_ops, vd, "virtio-device")) ||
	    iobus_register(caps, NOTIFY_OFF, vd->nqueues * NOTIFY_MULT, &notify_ops, vd,
			   "virtio-notify"))
		return -1;
	return pci_add_function(vm, f);
}

struct virtio_dev *virtio_pci_create(struct vm *vm, const struct virtio_ops *ops, void *dev,
				     unsigned nqueues)
{
	struct virtio_dev *vd = calloc(1, sizeof(*vd));

	if (!vd || !nqueues || nqueues > VIRTIO_MAX_QUEUES) {
		free(vd);
		return NULL;
	}
	vd->vm = vm;
	vd->ops = ops;
	vd->dev = dev;
	vd->nqueues = nqueues;
	vd->rl = (struct ratelimit)RATELIMIT_INIT;
	vd->host_features = ops->features | TRANSPORT_FEATURES;
	pthread_mutex_init(&vd->lock, NULL);
	pthread_cond_init(&vd->idle, NULL);
	vd->stop_fd = eventfd(0, EFD_CLOEXEC);
	for (unsigned q = 0; q < nqueues; q++)
		vd->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	reset_locked(vd);
	if (vd->stop_fd < 0 || setup_function(vm, vd)) {
		log_error("%s: cannot create the PCI function", ops->name);
		virtio_pci_destroy(vd);
		return NULL;
	}
	pthread_mutex_lock(&vd->pci.bus->lock);
	update_ioeventfds(vd);
	pthread_mutex_unlock(&vd->pci.bus->lock);
	if (thread_start(&vd->thread, io_thread, vd)) {
		log_error("%s: cannot start its I/O thread", ops->name);
		virtio_pci_destroy(vd);
		return NULL;
	}
	vd->thread_live = true;
	return vd;
}

void virtio_pci_destroy(struct virtio_dev *vd)
{
	if (!vd)
		return;
	if (vd->thread_live) {
		eventfd_write(vd->stop_fd, 1);
		pthread_join(vd->thread, NULL);
	}
	for (unsigned q = 0; q < vd->nqueues; q++)
		if (vd->kick[q] > 0)
			close(vd->kick[q]);
	if (vd->stop_fd >= 0)
		close(vd->stop_fd);
	iobus_free(&vd->pci.bar[MSIX_BAR].regions);
	iobus_free(&vd->pci.bar[CAPS_BAR].regions);
	msix_destroy(&vd->msix);
	pthread_cond_destroy(&vd->idle);
	pthread_mutex_destroy(&vd->lock);
	free(vd);
}

/* Under vd->lock: where each ring stands (a stalled queue shows work the
 * driver posted that was not taken, or an interrupt it did not ask for). */
static void print_ring_positions(struct virtio_dev *vd, FILE *f)
{
	unsigned shown = 0;

	for (unsigned q = 0; q < vd->nqueues; q++) {
		struct virtqueue_position p;

		if (!virtq_position(&vd->vq[q], &p))
			continue;
		if (!shown++)
			fprintf(f, "    rings (avail taken/posted, used, driver's used_event):");
		fprintf(f, " q%u %u/%u %u %u%s", q, p.taken, p.posted, p.used, p.used_event,
			p.interrupts_off ? " (no interrupts)" : "");
	}
	/* After the driver's reset (a power-off) no ring is live. */
	fprintf(f, shown ? "\n" : "    rings: none live\n");
}

void virtio_pci_stats(struct virtio_dev *vd, FILE *f)
{
	pthread_mutex_lock(&vd->lock);
	fprintf(f, "  %s (PCI 00:%02x.0): %llu notifications (%s), %llu interrupts (MSI-X by %s)",
		vd->ops->name, vd->pci.slot, (unsigned long long)vd->notifies,
		vd->ioeventfd_base ? "ioeventfd" : "exit path", (unsigned long long)vd->interrupts,
		vd->msix.irqfd ? "irqfd" : "KVM_SIGNAL_MSI");
	for (unsigned q = 0; q < vd->nqueues; q++)
		fprintf(f, "%s%llu", q ? "/" : ", requests per queue ",
			(unsigned long long)vd->vq[q].requests);
	fprintf(f, "\n");
	print_ring_positions(vd, f);
	pthread_mutex_unlock(&vd->lock);
}
