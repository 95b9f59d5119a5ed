/*
 * QEMU's pc-testdev (hw/misc/pc-testdev.c), which test kernels written for
 * QEMU (kvm-unit-tests' x86 suite among them) use to poke the machine:
 *
 *   0xe0-0xe3      a 32-bit scratch register, any access size; a narrow
 *                  access at offset k reads or replaces bytes k.. of it
 *   0xe8-0xeb      the same register, implemented a byte at a time (wider
 *                  accesses are split, as QEMU's memory core does)
 *   0xe4           flush page: a 32-bit write of a guest-physical address
 *                  drops that page from KVM's mapping, to be faulted back
 *   0x2000-0x2017  IRQ lines: a byte write of v to 0x2000 + n sets ISA
 *                  line n to !!v through whichever irqchip is in use
 *   0xff000000     a 64 KiB scratch MMIO window, every access size
 *
 * Present only with -device pc-testdev / --device pc-testdev: shrike's
 * own benchmarks use port 0xe0 as an unassigned port.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/irq.h"
#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define TESTDEV_SCRATCH     0xe0
#define TESTDEV_FLUSH       0xe4
#define TESTDEV_SCRATCH_B   0xe8
#define TESTDEV_IRQ         0x2000
#define TESTDEV_IRQ_LINES   24
#define TESTDEV_IOMEM       0xff000000ull
#define TESTDEV_IOMEM_LEN   0x10000u
#define PAGE                4096ull

struct pc_testdev {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t scratch;
	uint8_t iomem[TESTDEV_IOMEM_LEN];
};

/* ---- the scratch register (both windows) ---- */

static uint32_t lane_mask(uint64_t off, unsigned size)
{
	unsigned shift = (unsigned)(off & 3) * 8;
	uint64_t bits = size >= 4 ? 0xffffffffull : (1ull << (size * 8)) - 1;

	return (uint32_t)(bits << shift);
}

static uint64_t scratch_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct pc_testdev *d = opaque;
	uint32_t v;

	(void)vcpu;
	pthread_mutex_lock(&d->lock);
	v = (d->scratch & lane_mask(off, size)) >> ((off & 3) * 8);
	pthread_mutex_unlock(&d->lock);
	return v;
}

static void scratch_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			  unsigned size)
{
	struct pc_testdev *d = opaque;
	uint32_t mask = lane_mask(off, size);

	(void)vcpu;
	pthread_mutex_lock(&d->lock);
	d->scratch = (d->scratch & ~mask) | ((uint32_t)(value << ((off & 3) * 8)) & mask);
	pthread_mutex_unlock(&d->lock);
}

static const struct io_ops scratch_ops = {
	.read = scratch_read, .write = scratch_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

static const struct io_ops scratch_byte_ops = {
	.read = scratch_read, .write = scratch_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 1,
};

/* ---- flush page ---- */

static uint64_t flush_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)size;
	return 0;
}

/* QEMU makes the page PROT_NONE and then read-write again, so that KVM's
 * MMU notifier drops its mapping.  shrike adds PROT_EXEC and takes it
 * away instead: every protection change invalidates KVM's mapping just
 * the same, and the page never stops being readable and writable, so a
 * device or debugger thread touching it at that moment cannot fault. */
static void flush_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			unsigned size)
{
	struct pc_testdev *d = opaque;
	uint64_t gpa = (value & 0xffffffffull) & ~(PAGE - 1);
	void *hva = gpa_to_hva(&d->vm->mem, gpa, PAGE);

	(void)vcpu, (void)off, (void)size;
	if (!hva) {
		log_guest(&d->vm->rl, "pc-testdev: flush of 0x%llx: not RAM, ignored",
			    (unsigned long long)gpa);
		return;
	}
	if (mprotect(hva, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    mprotect(hva, PAGE, PROT_READ | PROT_WRITE))
		log_limited(&d->vm->rl, "pc-testdev: flush of 0x%llx: %s", (unsigned long long)gpa,
			    strerror(errno));
}

static const struct io_ops flush_ops = {
	.read = flush_read, .write = flush_write,
	.valid_min = 4, .valid_max = 4, .impl_min = 4, .impl_max = 4,
};

/* ---- IRQ lines ---- */

static uint64_t irq_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)size;
	return 0;
}

static void irq_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
		      unsigned size)
{
	struct pc_testdev *d = opaque;

	(void)vcpu, (void)size;
	if (off < TESTDEV_IRQ_LINES)
		vm_set_irq(d->vm, (unsigned)off, value != 0);
}

static const struct io_ops irq_ops = {
	.read = irq_read, .write = irq_write,
	.valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

/* ---- the MMIO window ---- */

static uint64_t iomem_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct pc_testdev *d = opaque;
	uint64_t v = 0;

	(void)vcpu;
	if (off >= TESTDEV_IOMEM_LEN || size > TESTDEV_IOMEM_LEN - off)
		return 0;
	pthread_mutex_lock(&d->lock);
	memcpy(&v, d->iomem + off, size);
	pthread_mutex_unlock(&d->lock);
	return v;
}

static void iomem_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			unsigned size)
{
	struct pc_testdev *d = opaque;

	(void)vcpu;
	if (off >= TESTDEV_IOMEM_LEN || size > TESTDEV_IOMEM_LEN - off)
		return;
	pthread_mutex_lock(&d->lock);
	memcpy(d->iomem + off, &value, size);
	pthread_mutex_unlock(&d->lock);
}

static const struct io_ops iomem_ops = {
	.read = iomem_read, .write = iomem_write,
	.valid_min = 1, .valid_max = 8, .impl_min = 1, .impl_max = 8,
};

/* ---- the model ---- */

static void testdev_reset(void *opaque)
{
	struct pc_testdev *d = opaque;

	pthread_mutex_lock(&d->lock);
	d->scratch = 0;
	memset(d->iomem, 0, sizeof(d->iomem));
	pthread_mutex_unlock(&d->lock);
}

static int testdev_save(void *opaque, struct snap_writer *w)
{
	struct pc_testdev *d = opaque;

	pthread_mutex_lock(&d->lock);
	snap_put_u32(w, d->scratch);
	snap_put(w, d->iomem, sizeof(d->iomem));
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int testdev_load(void *opaque, struct snap_reader *r)
{
	struct pc_testdev *d = opaque;
	uint32_t scratch = snap_get_u32(r);

	pthread_mutex_lock(&d->lock);
	d->scratch = scratch;
	snap_get(r, d->iomem, sizeof(d->iomem));
	pthread_mutex_unlock(&d->lock);
	return snap_done(r) ? 0 : -1;
}

static void testdev_destroy(void *opaque)
{
	struct pc_testdev *d = opaque;

	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int register_regions(struct vm *vm, struct pc_testdev *d)
{
	if (iobus_register(&vm->pio, TESTDEV_SCRATCH, 4, &scratch_ops, d, "pc-testdev-ioport") ||
	    iobus_register(&vm->pio, TESTDEV_FLUSH, 4, &flush_ops, d, "pc-testdev-flush-page") ||
	    iobus_register(&vm->pio, TESTDEV_SCRATCH_B, 4, &scratch_byte_ops, d,
			   "pc-testdev-ioport-byte") ||
	    iobus_register(&vm->pio, TESTDEV_IRQ, TESTDEV_IRQ_LINES, &irq_ops, d,
			   "pc-testdev-irq-line") ||
	    iobus_register(&vm->mmio, TESTDEV_IOMEM, TESTDEV_IOMEM_LEN, &iomem_ops, d,
			   "pc-testdev-iomem"))
		return -1;
	return 0;
}

static int testdev_create(struct vm *vm, const struct device_params *p)
{
	struct pc_testdev *d = calloc(1, sizeof(*d));

	(void)p;
	if (!d)
		return -1;
	d->vm = vm;
	pthread_mutex_init(&d->lock, NULL);
	if (vm_add_device(vm, &pc_testdev_model, d)) {
		testdev_destroy(d);
		return -1;
	}
	return register_regions(vm, d);
}

const struct device_model pc_testdev_model = {
	.name = "pc-testdev",
	.create = testdev_create,
	.reset = testdev_reset,
	.save = testdev_save,
	.load = testdev_load,
	.destroy = testdev_destroy,
};
