/*
 * QEMU's firmware configuration interface, traditional I/O form: a 16-bit
 * write to 0x510 selects an item, byte reads from 0x511 stream it.  Items:
 * signature, interface ID, UUID, RAM size, CPU counts, "nographic" and an
 * empty file directory, so that kernels written for QEMU's PC find their
 * machine.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define FW_CFG_SIGNATURE  0x00
#define FW_CFG_ID         0x01
#define FW_CFG_UUID       0x02
#define FW_CFG_RAM_SIZE   0x03
#define FW_CFG_NOGRAPHIC  0x04
#define FW_CFG_NB_CPUS    0x05
#define FW_CFG_MAX_CPUS   0x0f
#define FW_CFG_FILE_DIR   0x19
#define FW_CFG_MAX_ITEM   0x20

struct fw_cfg_item {
	uint8_t data[16];
	unsigned len;
};

struct fw_cfg {
	pthread_mutex_t lock;
	uint16_t selector;
	unsigned offset;
	struct fw_cfg_item item[FW_CFG_MAX_ITEM];
};

static void set_item(struct fw_cfg *f, unsigned key, const void *data, unsigned len)
{
	memcpy(f->item[key].data, data, len);
	f->item[key].len = len;
}

static uint64_t fw_cfg_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct fw_cfg *f = opaque;
	const struct fw_cfg_item *it;
	uint8_t v = 0;

	(void)vcpu, (void)size;
	if (off != 1)
		return 0;
	pthread_mutex_lock(&f->lock);
	/* The selector is guest-controlled: unknown items read as zeros. */
	it = f->selector < FW_CFG_MAX_ITEM ? &f->item[f->selector] : NULL;
	if (it && f->offset < it->len)
		v = it->data[f->offset];
	if (f->offset < 0xffff)
		f->offset++;
	pthread_mutex_unlock(&f->lock);
	return v;
}

static void fw_cfg_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	struct fw_cfg *f = opaque;

	(void)vcpu;
	/* Only a 16-bit selector write counts; data writes are ignored, as
	 * in QEMU since 2.4. */
	if (off != 0 || size != 2)
		return;
	pthread_mutex_lock(&f->lock);
	f->selector = (uint16_t)value;
	f->offset = 0;
	pthread_mutex_unlock(&f->lock);
}

static const struct io_ops fw_cfg_ops = {
	.read = fw_cfg_read, .write = fw_cfg_write,
	.valid_min = 1, .valid_max = 2, .impl_min = 1, .impl_max = 2,
};

static void fw_cfg_reset(void *opaque)
{
	struct fw_cfg *f = opaque;

	pthread_mutex_lock(&f->lock);
	f->selector = 0;
	f->offset = 0;
	pthread_mutex_unlock(&f->lock);
}

static void fw_cfg_destroy(void *opaque)
{
	struct fw_cfg *f = opaque;

	pthread_mutex_destroy(&f->lock);
	free(f);
}

static int fw_cfg_create(struct vm *vm, const struct device_params *p)
{
	struct fw_cfg *f = calloc(1, sizeof(*f));
	uint64_t ram = vm->mem.total;
	uint32_t id = 1;           /* traditional interface, no DMA */
	uint16_t cpus = (uint16_t)vm->ncpus, one = 1;
	uint32_t files = 0;

	if (!f)
		return -1;
	pthread_mutex_init(&f->lock, NULL);
	set_item(f, FW_CFG_SIGNATURE, "QEMU", 4);
	set_item(f, FW_CFG_ID, &id, 4);
	set_item(f, FW_CFG_UUID, vm->uuid, 16);
	set_item(f, FW_CFG_RAM_SIZE, &ram, 8);
	set_item(f, FW_CFG_NOGRAPHIC, &one, 2);
	set_item(f, FW_CFG_NB_CPUS, &cpus, 2);
	set_item(f, FW_CFG_MAX_CPUS, &cpus, 2);
	set_item(f, FW_CFG_FILE_DIR, &files, 4);   /* big-endian 0 == 0 */
	if (vm_add_device(vm, &fw_cfg_model, f)) {
		fw_cfg_destroy(f);
		return -1;
	}
	return iobus_register(&vm->pio, p->base, 2, &fw_cfg_ops, f, "fw_cfg");
}

/* The items are configuration (rebuilt at creation); the guest's
 * position in them is state. */
static int fw_cfg_save(void *opaque, struct snap_writer *w)
{
	struct fw_cfg *f = opaque;

	pthread_mutex_lock(&f->lock);
	snap_put_u16(w, f->selector);
	snap_put_u32(w, f->offset);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int fw_cfg_load(void *opaque, struct snap_reader *r)
{
	struct fw_cfg *f = opaque;
	uint16_t sel = snap_get_u16(r);
	uint32_t off = snap_get_u32(r);

	if (!snap_done(r) || off > 0xffff)
		return -1;
	pthread_mutex_lock(&f->lock);
	f->selector = sel;
	f->offset = off;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

const struct device_model fw_cfg_model = {
	.name = "fw_cfg",
	.create = fw_cfg_create,
	.reset = fw_cfg_reset,
	.save = fw_cfg_save,
	.load = fw_cfg_load,
	.destroy = fw_cfg_destroy,
};
