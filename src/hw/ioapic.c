/*
 * The IOAPIC (82093AA, version 0x11, 24 pins) at 0xfec00000, in split
 * irqchip mode.
 *
 * Each redirection entry is mirrored into KVM's GSI routing table as the
 * MSI it stands for (destination, logical or physical mode, vector,
 * delivery mode, trigger): a pin fires with KVM_IRQ_LINE on its GSI and KVM
 * delivers to the LAPICs.  Level-triggered pins keep remote IRR set from
 * delivery until the vector's EOI, which KVM reports for the routes it
 * knows (KVM_EXIT_IOAPIC_EOI, core/irq.c); a line still high then fires
 * again.  Edge-triggered pins fire on a rising edge; an edge while masked
 * is lost, as on the chip.  The polarity bit is kept for the guest but
 * lines are handed over already asserted-high (as QEMU does).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define IOAPIC_BASE     0xfec00000ull
#define IOAPIC_VERSION  0x11

#define RTE_VECTOR      0xffull
#define RTE_DELIVERY    (7ull << 8)
#define RTE_LOGICAL     (1ull << 11)
#define RTE_PENDING     (1ull << 12)
#define RTE_REMOTE_IRR  (1ull << 14)
#define RTE_LEVEL       (1ull << 15)
#define RTE_MASKED      (1ull << 16)
#define RTE_RO_BITS     (RTE_PENDING | RTE_REMOTE_IRR)
#define RTE_DEST_SHIFT  56

struct ioapic {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t id;
	uint32_t select;           /* IOREGSEL */
	uint64_t rte[IOAPIC_PINS];
	uint32_t level;            /* pins asserted now */
	uint64_t fired[IOAPIC_PINS];
};

/* The entry as the MSI it stands for. */
static void msi_of(uint64_t rte, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000ull | ((rte >> RTE_DEST_SHIFT) & 0xff) << 12 |
		((rte & RTE_LOGICAL) ? 1u << 2 : 0);
	*data = (uint32_t)(rte & (RTE_VECTOR | RTE_DELIVERY)) |
		((rte & RTE_LEVEL) ? (1u << 15) | (1u << 14) : 0);
}

static void fire(struct ioapic *a, unsigned pin)
{
	a->fired[pin]++;
	irq_fire(a->vm, pin);
}

/* A level pin that is high, unmasked and not waiting for its EOI fires. */
static void service_level(struct ioapic *a, unsigned pin)
{
	uint64_t *e = &a->rte[pin];

	if ((*e & RTE_LEVEL) && !(*e & (RTE_MASKED | RTE_REMOTE_IRR)) && (a->level & (1u << pin))) {
		*e |= RTE_REMOTE_IRR;
		fire(a, pin);
	}
}

static void ioapic_set_irq(void *opaque, unsigned pin, bool level)
{
	struct ioapic *a = opaque;
	uint32_t bit = 1u << pin;
	bool rising;

	if (pin >= IOAPIC_PINS)
		return;
	pthread_mutex_lock(&a->lock);
	rising = level && !(a->level & bit);
	a->level = level ? (a->level | bit) : (a->level & ~bit);
	if (a->rte[pin] & RTE_LEVEL)
		service_level(a, pin);
	else if (rising && !(a->rte[pin] & RTE_MASKED))
		fire(a, pin);
	pthread_mutex_unlock(&a->lock);
}

static void ioapic_eoi(void *opaque, unsigned vector)
{
	struct ioapic *a = opaque;

	pthread_mutex_lock(&a->lock);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *e = &a->rte[pin];

		if ((*e & RTE_VECTOR) != vector || !(*e & RTE_LEVEL) || !(*e & RTE_REMOTE_IRR))
			continue;
		*e &= ~RTE_REMOTE_IRR;
		service_level(a, pin);
	}
	pthread_mutex_unlock(&a->lock);
}

/* ---- registers ---- */

static void write_rte(struct ioapic *a, unsigned pin, bool high, uint32_t v)
{
	uint64_t *e = &a->rte[pin], old = *e, addr;
	uint32_t data;

	if (high)
		*e = (*e & 0xffffffffull) | (uint64_t)v << 32;
	else
		*e = (*e & (0xffffffff00000000ull | RTE_RO_BITS)) | (v & ~(uint32_t)RTE_RO_BITS);
	/* An edge-triggered pin has no remote IRR. */
	if (!(*e & RTE_LEVEL))
		*e &= ~RTE_REMOTE_IRR;
	if (*e == old)
		return;
	msi_of(*e, &addr, &data);
	irq_set_route(a->vm, pin, addr, data);
	service_level(a, pin);
}

static uint32_t read_reg(struct ioapic *a)
{
	unsigned reg = a->select & 0xff, pin = (reg - 0x10) / 2;

	switch (reg) {
	case 0x00:
		return (uint32_t)a->id << 24;
	case 0x01:
		return (IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
	case 0x02:
		return (uint32_t)a->id << 24;          /* arbitration ID */
	default:
		if (reg >= 0x10 && pin < IOAPIC_PINS)
			return (uint32_t)(a->rte[pin] >> ((reg & 1) ? 32 : 0));
		return 0xffffffff;
	}
}

static void write_reg(struct ioapic *a, uint32_t v)
{
	unsigned reg = a->select & 0xff, pin = (reg - 0x10) / 2;

	if (reg == 0x00)
		a->id = (v >> 24) & 0x0f;
	else if (reg >= 0x10 && pin < IOAPIC_PINS)
		write_rte(a, pin, reg & 1, v);
}

static uint64_t ioapic_read(void *opaque, struct vcpu *v, uint64_t off, unsigned size)
{
	struct ioapic *a = opaque;
	uint32_t val = 0;

	(void)v, (void)size;
	pthread_mutex_lock(&a->lock);
	if (off == 0x00)
		val = a->select;
	else if (off == 0x10)
		val = read_reg(a);
	pthread_mutex_unlock(&a->lock);
	return val;
}

static void ioapic_write(void *opaque, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	struct ioapic *a = opaque;

	(void)v, (void)size;
	pthread_mutex_lock(&a->lock);
	if (off == 0x00)
		a->select = (uint32_t)val & 0xff;
	else if (off == 0x10)
		write_reg(a, (uint32_t)val);
	pthread_mutex_unlock(&a->lock);
}

static const struct io_ops ioapic_ops = {
	.read = ioapic_read, .write = ioapic_write,
	.valid_min = 1, .valid_max = 8, .impl_min = 4, .impl_max = 4,
};

/* ---- the device ---- */

static void reset_locked(struct ioapic *a)
{
	uint64_t addr;
	uint32_t data;

	a->id = (uint8_t)a->vm->ncpus;     /* as the MADT says */
	a->select = 0;
	a->level = 0;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		a->rte[pin] = RTE_MASKED;
		msi_of(a->rte[pin], &addr, &data);
		irq_set_route(a->vm, pin, addr, data);
	}
}

static void ioapic_reset(void *opaque)
{
	struct ioapic *a = opaque;

	pthread_mutex_lock(&a->lock);
	reset_locked(a);
	pthread_mutex_unlock(&a->lock);
}

static int ioapic_save(void *opaque, struct snap_writer *w)
{
	struct ioapic *a = opaque;

	pthread_mutex_lock(&a->lock);
	snap_put_u8(w, a->id);
	snap_put_u32(w, a->select);
	snap_put_u32(w, a->level);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		snap_put_u64(w, a->rte[pin]);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

static int ioapic_load(void *opaque, struct snap_reader *r)
{
	struct ioapic *a = opaque;
	uint64_t addr;
	uint32_t data;

	pthread_mutex_lock(&a->lock);
	a->id = snap_get_u8(r) & 0x0f;
	a->select = snap_get_u32(r) & 0xff;
	a->level = snap_get_u32(r) & ((1u << IOAPIC_PINS) - 1);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		a->rte[pin] = snap_get_u64(r) & ~RTE_PENDING;
		msi_of(a->rte[pin], &addr, &data);
		irq_set_route(a->vm, pin, addr, data);
	}
	pthread_mutex_unlock(&a->lock);
	return snap_done(r) ? 0 : -1;
}

static void ioapic_stats(void *opaque, FILE *f)
{
	struct ioapic *a = opaque;
	uint64_t total = 0;

	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		total += a->fired[pin];
	fprintf(f, "  ioapic: %llu interrupts sent", (unsigned long long)total);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		if (a->fired[pin])
			fprintf(f, ", pin %u: %llu", pin, (unsigned long long)a->fired[pin]);
	fprintf(f, "\n");
}

static void ioapic_destroy(void *opaque)
{
	struct ioapic *a = opaque;

	a->vm->irq.ioapic = (struct irq_chip){ 0 };
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static int ioapic_create(struct vm *vm, const struct device_params *p)
{
	struct ioapic *a = calloc(1, sizeof(*a));

	(void)p;
	if (!a)
		return -ENOMEM;
	a->vm = vm;
	pthread_mutex_init(&a->lock, NULL);
	reset_locked(a);
	if (vm_add_device(vm, &ioapic_model, a)) {
		ioapic_destroy(a);
		return -ENOSPC;
	}
	vm->irq.ioapic = (struct irq_chip){ .set_irq = ioapic_set_irq, .eoi = ioapic_eoi,
					    .opaque = a };
	return iobus_register(&vm->mmio, IOAPIC_BASE, 0x1000, &ioapic_ops, a, "ioapic");
}

const struct device_model ioapic_model = {
	.name = "ioapic",
	.create = ioapic_create,
	.reset = ioapic_reset,
	.save = ioapic_save,
	.load = ioapic_load,
	.stats = ioapic_stats,
	.destroy = ioapic_destroy,
};
