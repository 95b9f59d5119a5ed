/*
 * Ports 0xCF8-0xCFF: the PCI configuration address (a 32-bit latch) and
 * data; there are no PCI devices, so the data port reads all ones and a
 * conf1 scan finds nothing.  Inside the address, at 0xCF9, the reset
 * control register.  A byte
 * write to 0xCF9 with bit 2 (RST_CPU) set resets the machine; bit 1 (hard
 * or soft) is kept and read back.  Only a byte access reaches 0xCF9: a
 * 32-bit write of a configuration address at 0xCF8 must never reset.
 */
#include <pthread.h>
#include <stdlib.h>

#include "core/vm.h"
#include "hw/devices.h"
#include "snapshot/stream.h"

#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04

struct pci_cf8 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint32_t address;
	uint8_t rcr;
};

static uint64_t cf8_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct pci_cf8 *p = opaque;
	uint64_t v = ~0ull;

	(void)vcpu;
	pthread_mutex_lock(&p->lock);
	if (off == 0 && size == 4)
		v = p->address;
	else if (off == 1 && size == 1)
		v = p->rcr;
	/* 0xCFC-0xCFF: configuration data; no device answers: all ones. */
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void cf8_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
		      unsigned size)
{
	struct pci_cf8 *p = opaque;
	bool reset = false;

	(void)vcpu;
	pthread_mutex_lock(&p->lock);
	if (off == 0 && size == 4) {
		p->address = (uint32_t)value & 0x80fffffcu;
	} else if (off == 1 && size == 1) {
		p->rcr = (uint8_t)(value & RCR_SYS_RST);
		reset = value & RCR_RST_CPU;
	}
	pthread_mutex_unlock(&p->lock);
	if (reset)
		vm_request_reset(p->vm, "cf9:0xcf9");
}

static const struct io_ops cf8_ops = {
	.read = cf8_read, .write = cf8_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

static void cf8_reset(void *opaque)
{
	struct pci_cf8 *p = opaque;

	pthread_mutex_lock(&p->lock);
	p->address = 0;
	p->rcr = 0;
	pthread_mutex_unlock(&p->lock);
}

static void cf8_destroy(void *opaque)
{
	struct pci_cf8 *p = opaque;

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int pci_cf8_create(struct vm *vm, const struct device_params *dp)
{
	struct pci_cf8 *p = calloc(1, sizeof(*p));

	if (!p)
		return -1;
	p->vm = vm;
	pthread_mutex_init(&p->lock, NULL);
	if (vm_add_device(vm, &pci_cf8_model, p)) {
		cf8_destroy(p);
		return -1;
	}
	return iobus_register(&vm->pio, dp->base, 8, &cf8_ops, p, "pci-cf8");
}

static int cf8_save(void *opaque, struct snap_writer *w)
{
	struct pci_cf8 *p = opaque;

	pthread_mutex_lock(&p->lock);
	snap_put_u32(w, p->address);
	snap_put_u8(w, p->rcr);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int cf8_load(void *opaque, struct snap_reader *r)
{
	struct pci_cf8 *p = opaque;
	uint32_t a = snap_get_u32(r);
	uint8_t rcr = snap_get_u8(r);

	if (!snap_done(r))
		return -1;
	pthread_mutex_lock(&p->lock);
	p->address = a & 0x80fffffcu;
	p->rcr = rcr & RCR_SYS_RST;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

const struct device_model pci_cf8_model = {
	.save = cf8_save,
	.load = cf8_load,
	.name = "pci-cf8",
	.create = pci_cf8_create,
	.reset = cf8_reset,
	.destroy = cf8_destroy,
};
