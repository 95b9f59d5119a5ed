#include "core/irq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/log.h"
#include "core/vcpu.h"
#include "core/vm.h"

#define MSI_ADDR_BASE 0xfee00000ull

/* ---- the routing table ---- */

static void msi_entry(struct kvm_irq_routing_entry *e, unsigned gsi, uint64_t addr,
		      uint32_t data)
{
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

static void chip_entry(struct kvm_irq_routing_entry *e, unsigned gsi, unsigned chip, unsigned pin)
{
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/* The interrupt controllers' routes.  Kernel mode: QEMU's PC routing, GSI
 * n to PIC pin n (none for the cascade, GSI 2) and IOAPIC pin n, GSI 0 to
 * IOAPIC pin 2.  Split mode: every IOAPIC pin is an MSI route, its
 * redirection entry (hw/ioapic.c keeps them current). */
static unsigned chip_routes(struct vm *vm, struct kvm_irq_routing_entry *e)
{
	unsigned n = 0;

	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (vm->irq.split) {
			msi_entry(&e[n++], gsi, vm->irq.route[gsi].addr, vm->irq.route[gsi].data);
			continue;
		}
		if (gsi < 16 && gsi != 2)
			chip_entry(&e[n++], gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				   gsi % 8);
		if (gsi != 2)
			chip_entry(&e[n++], gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi);
	}
	return n;
}

/* The whole table to KVM (it takes nothing less).  Called with route_lock. */
static int commit_routes(struct vm *vm)
{
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + (2 * IOAPIC_PINS + IRQ_MSI_ROUTES) *
						       sizeof(r->entries[0]));
	unsigned n;
	int ret;

	if (!r)
		return -ENOMEM;
	n = chip_routes(vm, r->entries);
	for (unsigned i = 0; i < IRQ_MSI_ROUTES; i++)
		if (vm->irq.msi[i].used)
			msi_entry(&r->entries[n++], IOAPIC_PINS + i, vm->irq.msi[i].addr,
				  vm->irq.msi[i].data);
	r->nr = n;
	ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : 0;
	free(r);
	return ret;
}

int irq_msi_route_add(struct vm *vm)
{
	int r = -ENOSPC;

	pthread_mutex_lock(&vm->irq.route_lock);
	for (unsigned i = 0; i < IRQ_MSI_ROUTES; i++) {
		if (vm->irq.msi[i].used)
			continue;
		vm->irq.msi[i].used = true;
		vm->irq.msi[i].addr = MSI_ADDR_BASE;
		vm->irq.msi[i].data = 0;
		r = commit_routes(vm);
		if (r)
			vm->irq.msi[i].used = false;
		else
			r = (int)(IOAPIC_PINS + i);
		break;
	}
	pthread_mutex_unlock(&vm->irq.route_lock);
	return r;
}

int irq_msi_route_set(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	unsigned i = gsi - IOAPIC_PINS;
	int r = 0;

	if (gsi < IOAPIC_PINS || i >= IRQ_MSI_ROUTES)
		return -EINVAL;
	pthread_mutex_lock(&vm->irq.route_lock);
	if (vm->irq.msi[i].used && (vm->irq.msi[i].addr != addr || vm->irq.msi[i].data != data)) {
		vm->irq.msi[i].addr = addr;
		vm->irq.msi[i].data = data;
		r = commit_routes(vm);
	}
	pthread_mutex_unlock(&vm->irq.route_lock);
	if (r)
		log_limited(&vm->rl, "KVM_SET_GSI_ROUTING failed: %s", strerror(-r));
	return r;
}

int irq_irqfd(struct vm *vm, int fd, unsigned gsi)
{
	struct kvm_irqfd f = { .fd = (uint32_t)fd, .gsi = gsi };

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int irq_set_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	int r = 0;

	if (gsi >= IOAPIC_PINS)
		return -EINVAL;
	pthread_mutex_lock(&vm->irq.route_lock);
	if (vm->irq.route[gsi].addr != addr || vm->irq.route[gsi].data != data) {
		vm->irq.route[gsi].addr = addr;
		vm->irq.route[gsi].data = data;
		r = commit_routes(vm);
	}
	pthread_mutex_unlock(&vm->irq.route_lock);
	if (r)
		log_limited(&vm->rl, "KVM_SET_GSI_ROUTING failed: %s", strerror(-r));
	return r;
}

void irq_fire(struct vm *vm, unsigned gsi)
{
	struct kvm_irq_level l = { .irq = gsi, .level = 1 };

	__atomic_fetch_add(&vm->irq.count.msi_fired, 1, __ATOMIC_RELAXED);
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		log_limited(&vm->rl, "KVM_IRQ_LINE (MSI route %u) failed: %s", gsi, strerror(errno));
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32),
			       .data = data };

	__atomic_fetch_add(&vm->irq.count.msi_fired, 1, __ATOMIC_RELAXED);
	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0) {
		log_limited(&vm->rl, "KVM_SIGNAL_MSI (0x%llx, 0x%x) failed: %s",
			    (unsigned long long)addr, data, strerror(errno));
		return -errno;
	}
	return 0;
}

/* ---- creation ---- */

static int create_split(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { IOAPIC_PINS } };
	int r;

	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		log_error("KVM_CAP_SPLIT_IRQCHIP failed: %s", strerror(errno));
		return -errno;
	}
	vm->irq.split = true;
	vm->kernel_irqchip = false;
	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++)
		vm->irq.route[gsi].addr = MSI_ADDR_BASE;
	pthread_mutex_lock(&vm->irq.route_lock);
	r = commit_routes(vm);
	pthread_mutex_unlock(&vm->irq.route_lock);
	if (r)
		log_error("KVM_SET_GSI_ROUTING failed: %s", strerror(-r));
	return r;
}

static int create_kernel(struct vm *vm)
{
	/* SPEAKER_DUMMY: KVM also serves port 0x61, with PIT channel 2's gate
	 * and output, which guests use to calibrate their TSC. */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int r;

	vm->kernel_irqchip = true;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		log_error("KVM_CREATE_IRQCHIP failed: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_error("KVM_CREATE_PIT2 failed: %s", strerror(errno));
		return -errno;
	}
	pthread_mutex_lock(&vm->irq.route_lock);
	r = commit_routes(vm);
	pthread_mutex_unlock(&vm->irq.route_lock);
	if (r)
		log_error("KVM_SET_GSI_ROUTING failed: %s", strerror(-r));
	return r;
}

int irq_create(struct vm *vm)
{
	pthread_mutex_init(&vm->irq.route_lock, NULL);
	if (vm->cfg.irqchip == IRQCHIP_SPLIT) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) > 0)
			return create_split(vm);
		/* A KVM without it: the in-kernel chips serve the same guest. */
		vm->cfg.irqchip = IRQCHIP_KERNEL;
	}
	return create_kernel(vm);
}

/* ---- lines ---- */

void vm_set_irq(struct vm *vm, unsigned irq, bool level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (!vm->irq.split) {
		if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
			log_limited(&vm->rl, "KVM_IRQ_LINE %u failed: %s", irq, strerror(errno));
		return;
	}
	if (irq < 16 && vm->irq.pic.set_irq)
		vm->irq.pic.set_irq(vm->irq.pic.opaque, irq, level);
	/* ISA IRQ 0 is IOAPIC pin 2 (the MADT's interrupt source override). */
	if (irq < IOAPIC_PINS && irq != 2 && vm->irq.ioapic.set_irq)
		vm->irq.ioapic.set_irq(vm->irq.ioapic.opaque, irq == 0 ? 2 : irq, level);
}

void irq_pic_output(struct vm *vm, bool level)
{
	bool was = __atomic_exchange_n(&vm->irq.extint, level, __ATOMIC_ACQ_REL);

	/* vCPU 0 takes the ExtINT before its next KVM_RUN; wake it if it is
	 * inside (halted) and this is not its own thread. */
	if (level && !was && vm->vcpu && vm->vcpu[0] && !vcpu_is_current(vm->vcpu[0]))
		vcpu_kick(vm->vcpu[0]);
}

void irq_before_run(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_interrupt intr;

	if (!__atomic_load_n(&vm->irq.extint, __ATOMIC_ACQUIRE)) {
		v->run->request_interrupt_window = 0;
		return;
	}
	if (!v->run->ready_for_interrupt_injection) {
		/* KVM exits (KVM_EXIT_IRQ_WINDOW_OPEN) once the vCPU can take it. */
		v->run->request_interrupt_window = 1;
		vm->irq.count.extint_windows++;
		return;
	}
	intr.irq = vm->irq.pic.intack(vm->irq.pic.opaque);
	if (vcpu_ioctl(v, KVM_INTERRUPT, &intr) < 0)
		log_limited(&vm->rl, "KVM_INTERRUPT vector 0x%x failed", intr.irq);
	else
		vm->irq.count.extint_injected++;
	/* Another one pending: come back as soon as it can go in. */
	v->run->request_interrupt_window = __atomic_load_n(&vm->irq.extint, __ATOMIC_ACQUIRE);
}

void irq_eoi(struct vcpu *v, unsigned vector)
{
	struct vm *vm = v->vm;

	__atomic_fetch_add(&vm->irq.count.eoi_exits, 1, __ATOMIC_RELAXED);
	if (vm->irq.ioapic.eoi)
		vm->irq.ioapic.eoi(vm->irq.ioapic.opaque, vector);
}
