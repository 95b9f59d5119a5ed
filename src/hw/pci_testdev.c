/*
 * QEMU's pci-testdev (hw/misc/pci-testdev.c; PCI 1b36:0005), which x86
 * unit-test kernels use to check I/O and MMIO writes through BARs: BAR 0
 * (memory, 4 KiB) and BAR 1 (I/O, 256 bytes) each hold a header
 *
 *   u8 test; u8 width; u8 pad[2]; u32 offset; u8 data; u8 pad[3]; u32 count;
 *   char name[]
 *
 * for the selected test.  Writing n to byte 0 selects test n and zeroes its
 * count; n past the last test selects none, and the BAR reads zeros (how a
 * kernel finds the end of the list).  There are three tests,
 * named as QEMU names them: "mmio-no-eventfd", "mmio-wildcard-eventfd",
 * "mmio-datamatch-eventfd", "portio-..."); a write of `width` bytes at
 * `offset` (of `data`, for datamatch) counts.  As in QEMU, the two eventfd
 * tests register that address with KVM as an ioeventfd (any value, or the
 * data only): KVM takes those writes without an exit and the count stays 0.
 * Where KVM refuses an ioeventfd, shrike counts those writes too (the
 * kernels accept a count of 0 or of every write).
 */
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/vm.h"
#include "hw/devices.h"
#include "hw/pci.h"

#define NTESTS     3
#define MMIO_SIZE  4096
#define IO_SIZE    256
#define HDR_SIZE   16
#define DATAMATCH  0xfa
#define NOMATCH    0xce

static const char *const test_names[2][NTESTS] = {
	{ "mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd" },
	{ "portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd" },
};

struct testdev_test {
	uint8_t buf[HDR_SIZE + 32];   /* the header, then the name */
	unsigned bufsize;
	uint32_t offset;
	bool match_data;
};

struct pci_testdev {
	struct pci_function pci;
	struct vm *vm;
	pthread_mutex_t lock;
	struct testdev_test test[2][NTESTS];   /* [0]: memory BAR, [1]: I/O BAR */
	int current[2];                        /* -1: none selected */
	int efd;                               /* what KVM signals for the eventfd tests */
	uint64_t registered[2];                /* the ioeventfd address per BAR (0: none) */
	bool datamatch[2];
};

static void setup_tests(struct pci_testdev *d)
{
	for (unsigned type = 0; type < 2; type++) {
		for (unsigned i = 0; i < NTESTS; i++) {
			struct testdev_test *t = &d->test[type][i];
			size_t len = strlen(test_names[type][i]) + 1;

			memset(t->buf, 0, sizeof(t->buf));
			t->offset = (type ? IO_SIZE : MMIO_SIZE) - 1;
			t->match_data = i == 2;
			t->buf[0] = (uint8_t)i;
			t->buf[1] = 1;                             /* width */
			pci_put32(t->buf + 4, t->offset);
			t->buf[8] = t->match_data ? DATAMATCH : NOMATCH;
			memcpy(t->buf + HDR_SIZE, test_names[type][i], len);
			t->bufsize = (unsigned)(HDR_SIZE + len);
		}
		d->current[type] = -1;            /* none until the guest picks one */
	}
}

/* ---- the eventfd tests ---- */

static int ioeventfd(struct pci_testdev *d, unsigned type, uint64_t addr, bool match, bool on)
{
	struct kvm_ioeventfd io = {
		.addr = addr, .len = 1, .fd = d->efd, .datamatch = DATAMATCH,
		.flags = (type ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (match ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (on ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return d->efd < 0 ? -1 : ioctl(d->vm->vm_fd, KVM_IOEVENTFD, &io);
}

/* Under d->lock (and the bus lock, or before the vCPUs run): the selected
 * test's ioeventfd follows the selection and the BAR. */
static void update_eventfd(struct pci_testdev *d, unsigned type)
{
	int cur = d->current[type];
	uint64_t bar = pci_bar_address(&d->pci, type);
	uint64_t want = cur > 0 && bar ? bar + d->test[type][cur].offset : 0;
	bool match = cur == 2;

	if (want == d->registered[type] && match == d->datamatch[type])
		return;
	if (d->registered[type])
		ioeventfd(d, type, d->registered[type], d->datamatch[type], false);
	d->registered[type] = 0;
	if (want && ioeventfd(d, type, want, match, true) == 0) {
		d->registered[type] = want;
		d->datamatch[type] = match;
	}
}

static void config_written(struct pci_function *f, unsigned off, unsigned size)
{
	struct pci_testdev *d = f->opaque;

	if (off >= PCI_BAR0 + 8 || off + size <= PCI_COMMAND)
		return;
	pthread_mutex_lock(&d->lock);
	update_eventfd(d, 0);
	update_eventfd(d, 1);
	pthread_mutex_unlock(&d->lock);
}

/* ---- the BARs ---- */

static uint64_t bar_read(struct pci_testdev *d, unsigned type, uint64_t off, unsigned size)
{
	struct testdev_test *t;
	uint64_t v = 0;

	pthread_mutex_lock(&d->lock);
	if (d->current[type] >= 0) {
		t = &d->test[type][d->current[type]];
		if (off + size < t->bufsize)
			memcpy(&v, t->buf + off, size);
	}
	pthread_mutex_unlock(&d->lock);
	return v;
}

static void bar_write(struct pci_testdev *d, unsigned type, uint64_t off, uint64_t value,
		      unsigned size)
{
	struct testdev_test *t;

	pthread_mutex_lock(&d->lock);
	if (off == 0) {
		d->current[type] = value < NTESTS ? (int)value : -1;
		if (value < NTESTS)
			pci_put32(d->test[type][value].buf + 12, 0);
		update_eventfd(d, type);
	} else if (d->current[type] >= 0) {
		t = &d->test[type][d->current[type]];
		if (off == t->offset && (!t->match_data || (size == 1 && value == DATAMATCH)))
			pci_put32(t->buf + 12, pci_get32(t->buf + 12) + 1);
	}
	pthread_mutex_unlock(&d->lock);
}

static uint64_t mmio_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	(void)v;
	return bar_read(o, 0, off, size);
}

static void mmio_write(void *o, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	(void)v;
	bar_write(o, 0, off, val, size);
}

static uint64_t io_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	(void)v;
	return bar_read(o, 1, off, size);
}

static void io_write(void *o, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	(void)v;
	bar_write(o, 1, off, val, size);
}

static const struct io_ops mmio_ops = {
	.read = mmio_read, .write = mmio_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

static const struct io_ops io_ops = {
	.read = io_read, .write = io_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

static void testdev_reset(void *opaque)
{
	struct pci_testdev *d = opaque;

	pthread_mutex_lock(&d->lock);
	setup_tests(d);
	update_eventfd(d, 0);
	update_eventfd(d, 1);
	pthread_mutex_unlock(&d->lock);
}

static void testdev_destroy(void *opaque)
{
	struct pci_testdev *d = opaque;

	iobus_free(&d->pci.bar[0].regions);
	iobus_free(&d->pci.bar[1].regions);
	if (d->efd >= 0)
		close(d->efd);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static int testdev_create(struct vm *vm, const struct device_params *p)
{
	struct pci_testdev *d = calloc(1, sizeof(*d));
	struct pci_function *f;

	(void)p;
	if (!d)
		return -1;
	pthread_mutex_init(&d->lock, NULL);
	d->vm = vm;
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	setup_tests(d);
	if (vm_add_device(vm, &pci_testdev_model, d)) {
		testdev_destroy(d);
		return -1;
	}
	f = &d->pci;
	pci_init_header(f, 0x1b36, 0x0005, 0x00ff00, 0, 0x1af4, 0x1100);
	f->name = "pci-testdev";
	f->opaque = d;
	f->config_written = config_written;
	f->bar[0].size = MMIO_SIZE;
	f->bar[1] = (struct pci_bar){ .size = IO_SIZE, .io = true };
	iobus_init(&f->bar[0].regions, "pci-testdev-mmio", MMIO_SIZE);
	iobus_init(&f->bar[1].regions, "pci-testdev-portio", IO_SIZE);
	if (iobus_register(&f->bar[0].regions, 0, MMIO_SIZE, &mmio_ops, d, "pci-testdev-mmio") ||
	    iobus_register(&f->bar[1].regions, 0, IO_SIZE, &io_ops, d, "pci-testdev-portio"))
		return -1;
	return pci_add_function(vm, f);
}

const struct device_model pci_testdev_model = {
	.name = "pci-testdev",
	.create = testdev_create,
	.reset = testdev_reset,
	.destroy = testdev_destroy,
};
