/*
 * virtio-rng (virtio 1.2, 5.4): the entropy device.  Each buffer the
 * driver offers is filled from getrandom(), up to 64 KiB per request.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "virtio/virtio.h"

#define RNG_CHUNK (64u << 10)

struct rng {
	struct virtio_dev *vd;
	uint64_t bytes;
	uint8_t buf[RNG_CHUNK];
};

static uint32_t fill(void *dev, struct virtq_chain *c)
{
	struct rng *r = dev;
	size_t want = c->write_len < RNG_CHUNK ? c->write_len : RNG_CHUNK;
	ssize_t got = want ? getrandom(r->buf, want, 0) : 0;

	if (got <= 0)
		return 0;
	r->bytes += (uint64_t)got;
	return (uint32_t)virtq_write(c, 0, r->buf, (size_t)got);
}

static void handle_queue(void *dev, struct virtio_dev *vd, unsigned qi)
{
	struct virtq_chain *c = malloc(sizeof(*c));

	if (!c)
		return;
	virtio_serve_queue(vd, qi, c, fill, dev);
	free(c);
}

static void config_read(void *dev, unsigned off, void *buf, unsigned n)
{
	(void)dev, (void)off;
	memset(buf, 0, n);
}

static const struct virtio_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = 4,
	.pci_class = 0x00ff00,
	.queue_max = 256,
	.config_read = config_read,
	.handle_queue = handle_queue,
};

static void rng_destroy(void *opaque)
{
	struct rng *r = opaque;

	virtio_pci_destroy(r->vd);
	free(r);
}

static int rng_create(struct vm *vm, const struct device_params *p)
{
	struct rng *r = calloc(1, sizeof(*r));

	(void)p;
	if (!r)
		return -1;
	if (vm_add_device(vm, &virtio_rng_model, r)) {
		free(r);
		return -1;
	}
	r->vd = virtio_pci_create(vm, &rng_ops, r, 1);
	return r->vd ? 0 : -1;
}

static void rng_stats(void *opaque, FILE *f)
{
	struct rng *r = opaque;

	if (!r->vd)
		return;
	virtio_pci_stats(r->vd, f);
	fprintf(f, "    %llu random bytes given\n", (unsigned long long)r->bytes);
}

const struct device_model virtio_rng_model = {
	.name = "virtio-rng",
	.create = rng_create,
	.reset = virtio_model_reset,
	.quiesce = virtio_model_quiesce,
	.resume = virtio_model_resume,
	.save = virtio_model_save,
	.load = virtio_model_load,
	.stats = rng_stats,
	.destroy = rng_destroy,
};
