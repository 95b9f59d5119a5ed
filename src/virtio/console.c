/*
 * virtio-console (virtio 1.2, 5.3), one port, no multiport: Linux's hvc0.
 * With --console virtio it takes the console's input (the backend of
 * --serial: stdio, a file, a socket) and writes its output there beside
 * the UART's, so the kernel's early messages (ttyS0) and everything after
 * console=hvc0 arrive in one stream.
 *
 * Output (the transmit queue) is written on the device's I/O thread.
 * Input is pulled by the main loop when the driver has posted a receive
 * buffer: can_receive() takes one chain off the receive queue and holds
 * it, receive() fills it and hands it back.
 */
#include <stdlib.h>
#include <string.h>

#include "core/chardev.h"
#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "virtio/virtio.h"

#define RXQ 0
#define TXQ 1

struct console {
	struct virtio_dev *vd;
	struct chardev *cd;
	struct virtq_chain held;       /* a receive buffer taken for input */
	bool have_held;
	uint64_t in_bytes, out_bytes;
};

static bool running(const struct virtio_dev *vd, unsigned q)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       vd->vq[q].enabled;
}

#define TX_MAX (64u << 10)     /* one buffer's output; Linux sends a page at most */

/* One chain at a time: taken and returned under the device lock, written
 * to the backend without it (a full backend ring waits for the main loop,
 * which may itself be waiting for the lock to pass input in). */
static void transmit(struct console *c, struct virtio_dev *vd)
{
	struct virtqueue *q = &vd->vq[TXQ];
	struct virtq_chain *ch = malloc(sizeof(*ch));
	uint8_t *buf = malloc(TX_MAX);
	char err[160];
	size_t len;
	int r;

	while (ch && buf) {
		pthread_mutex_lock(&vd->lock);
		r = running(vd, TXQ) ? virtq_pop(q, &vd->vm->mem, ch, err, sizeof(err)) : 0;
		if (r < 0)
			virtio_needs_reset(vd, err);
		if (r <= 0 && running(vd, TXQ) && virtq_more_after_enabling_notify(q, &vd->vm->mem))
			r = virtq_pop(q, &vd->vm->mem, ch, err, sizeof(err));
		len = 0;
		if (r > 0) {
			if (ch->read_len > TX_MAX)
				log_guest(&vd->rl, "virtio-console: a %zu-byte buffer, cut to %u",
					  ch->read_len, TX_MAX);
			len = virtq_read(ch, 0, buf, TX_MAX);
			c->out_bytes += len;
			virtq_push(q, &vd->vm->mem, ch->head, 0);
			virtio_queue_done(vd, q);
		}
		pthread_mutex_unlock(&vd->lock);
		if (r <= 0)
			break;
		chardev_write(c->cd, buf, len);
	}
	free(buf);
	free(ch);
}

static void handle_queue(void *dev, struct virtio_dev *vd, unsigned q)
{
	struct console *c = dev;

	if (q == TXQ)
		transmit(c, vd);
	else
		chardev_rx_ready(c->cd);    /* new receive buffers: read input again */
}

/* ---- input, on the main thread ---- */

static size_t can_receive(void *opaque)
{
	struct console *c = opaque;
	struct virtio_dev *vd = c->vd;
	size_t room = 0;
	char err[160];

	pthread_mutex_lock(&vd->lock);
	if (!c->have_held && running(vd, RXQ)) {
		int r = virtq_pop(&vd->vq[RXQ], &vd->vm->mem, &c->held, err, sizeof(err));

		if (r < 0)
			virtio_needs_reset(vd, err);
		c->have_held = r > 0;
	}
	if (c->have_held)
		room = c->held.write_len;
	pthread_mutex_unlock(&vd->lock);
	return room;
}

static void receive(void *opaque, const uint8_t *buf, size_t n)
{
	struct console *c = opaque;
	struct virtio_dev *vd = c->vd;
	size_t done;

	pthread_mutex_lock(&vd->lock);
	if (c->have_held && running(vd, RXQ)) {
		done = virtq_write(&c->held, 0, buf, n);
		c->in_bytes += done;
		virtq_push(&vd->vq[RXQ], &vd->vm->mem, c->held.head, (uint32_t)done);
		c->have_held = false;
		virtio_queue_done(vd, &vd->vq[RXQ]);
	}
	pthread_mutex_unlock(&vd->lock);
}

static void console_reset_dev(void *dev)
{
	struct console *c = dev;

	c->have_held = false;           /* the ring it came from is gone */
}

/* Before a save: a receive buffer held for input goes back to the ring
 * (taken again after the save or the restore). */
static void console_quiesce(void *dev, struct virtio_dev *vd)
{
	struct console *c = dev;

	if (c->have_held) {
		virtq_unpop(&vd->vq[RXQ], 1);
		c->have_held = false;
	}
}

static void config_read(void *dev, unsigned off, void *buf, unsigned n)
{
	(void)dev, (void)off;
	memset(buf, 0, n);
}

static const struct virtio_ops console_ops = {
	.name = "virtio-console",
	.locks_itself = true,
	.device_id = 3,
	.pci_class = 0x078000,
	.queue_max = 256,
	.config_read = config_read,
	.handle_queue = handle_queue,
	.reset = console_reset_dev,
	.quiesce = console_quiesce,
};

static void console_destroy(void *opaque)
{
	struct console *c = opaque;

	if (c->cd && c->cd->rx_opaque == c)
		c->cd->receive = NULL;
	virtio_pci_destroy(c->vd);
	free(c);
}

static int console_create(struct vm *vm, const struct device_params *p)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->cd = p->chardev;
	if (vm_add_device(vm, &virtio_console_model, c)) {
		free(c);
		return -1;
	}
	c->vd = virtio_pci_create(vm, &console_ops, c, 2);
	if (!c->vd)
		return -1;
	/* The console's input is this device's from now on (the UART keeps
	 * its output). */
	c->cd->can_receive = can_receive;
	c->cd->receive = receive;
	c->cd->rx_opaque = c;
	return 0;
}

static void console_stats(void *opaque, FILE *f)
{
	struct console *c = opaque;

	if (!c->vd)
		return;
	virtio_pci_stats(c->vd, f);
	fprintf(f, "    %llu bytes out, %llu in\n", (unsigned long long)c->out_bytes,
		(unsigned long long)c->in_bytes);
}

const struct device_model virtio_console_model = {
	.name = "virtio-console",
	.create = console_create,
	.reset = virtio_model_reset,
	.quiesce = virtio_model_quiesce,
	.resume = virtio_model_resume,
	.save = virtio_model_save,
	.load = virtio_model_load,
	.stats = console_stats,
	.destroy = console_destroy,
};
