/*
 * Interrupt lines: the one interface through which devices raise and lower
 * their lines, whichever irqchip serves them.
 *
 *   kernel   the PIC, IOAPIC and PIT are KVM's (KVM_CREATE_IRQCHIP,
 *            KVM_CREATE_PIT2); a line is KVM_IRQ_LINE on its GSI, routed as
 *            QEMU's PC routes it: ISA IRQ n to PIC pin n and IOAPIC pin n,
 *            except IRQ 0 to IOAPIC pin 2 (the MADT's override)
 *   split    only the LAPICs are KVM's (KVM_CAP_SPLIT_IRQCHIP); the 8259
 *            pair (hw/pic.c), the IOAPIC (hw/ioapic.c) and the PIT
 *            (hw/pit.c) are shrike's.  A line goes to both the PIC and the
 *            IOAPIC, as on a PC.  The PIC's output reaches vCPU 0 as an
 *            ExtINT (KVM_INTERRUPT when KVM says the vCPU can take one, an
 *            interrupt window otherwise); each IOAPIC pin is an MSI route in
 *            KVM's GSI routing table, fired with KVM_IRQ_LINE, so that KVM
 *            reports the EOI of a level-triggered vector
 *            (KVM_EXIT_IOAPIC_EOI) and the IOAPIC can clear its remote IRR.
 *
 * Creating and destroying the in-kernel PIC, IOAPIC and PIT costs about
 * 20 ms of host time on some KVM back-ends; split mode costs 0.3 ms.
 */
#ifndef SHRIKE_IRQ_H
#define SHRIKE_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

#define IOAPIC_PINS 24
#define IRQ_MSI_ROUTES 256   /* GSIs above the IOAPIC for PCI MSI-X vectors */

struct irq_counters {
	uint64_t extint_injected;      /* KVM_INTERRUPT */
	uint64_t extint_windows;       /* interrupt-window requests */
	uint64_t msi_fired;            /* IOAPIC pins fired through their route */
	uint64_t eoi_exits;            /* KVM_EXIT_IOAPIC_EOI */
};

/* What a split-mode chip offers the lines (set by hw/pic.c, hw/ioapic.c). */
struct irq_chip {
	void (*set_irq)(void *chip, unsigned pin, bool level);
	/* PIC: the interrupt acknowledge cycle; returns the vector. */
	unsigned (*intack)(void *chip);
	/* IOAPIC: a level-triggered vector was ended (EOI). */
	void (*eoi)(void *chip, unsigned vector);
	void *opaque;
};

struct irq_lines {
	bool split;
	struct irq_chip pic;           /* split: the 8259 pair */
	struct irq_chip ioapic;        /* split: the IOAPIC */
	bool extint;                   /* the PIC's output (atomic) */
	pthread_mutex_t route_lock;
	struct {
		uint64_t addr;
		uint32_t data;
	} route[IOAPIC_PINS];
	/* PCI MSI-X vectors as GSI routes (GSI IOAPIC_PINS + i), for irqfd. */
	struct {
		uint64_t addr;
		uint32_t data;
		bool used;
	} msi[IRQ_MSI_ROUTES];
	struct irq_counters count;
};

/* Creates the irqchip in KVM for the configured mode: the in-kernel PIC,
 * IOAPIC and PIT with QEMU's routing, or the split LAPIC-only set-up.
 * Falls back to kernel when KVM lacks KVM_CAP_SPLIT_IRQCHIP.  0 or
 * -errno (logged). */
int irq_create(struct vm *vm);

/* Raises or lowers ISA line `irq` (0..15), or GSI 16..23. */
void vm_set_irq(struct vm *vm, unsigned irq, bool level);

/* A PCI device's MSI (MSI-X entry): KVM delivers it to the LAPICs, in
 * either mode.  0 or -errno (logged, rate-limited). */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);

/* An MSI as a route in KVM's GSI routing table, next to the interrupt
 * controllers' routes, for an irqfd: an eventfd that KVM turns into the
 * MSI when it is written, without another system call.  Returns the GSI,
 * or -errno (the device then falls back to vm_signal_msi). */
int irq_msi_route_add(struct vm *vm);
/* The route's address and data changed (the guest wrote the table). */
int irq_msi_route_set(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data);
/* KVM_IRQFD: writes to fd raise gsi.  0 or -errno. */
int irq_irqfd(struct vm *vm, int fd, unsigned gsi);

/* Split mode, from the devices: */
/* The PIC's INT output changed (called under the PIC's lock). */
void irq_pic_output(struct vm *vm, bool level);
/* IOAPIC pin `gsi`'s redirection entry as an MSI (address, data); 0 or
 * -errno.  Written to KVM's routing table at once. */
int irq_set_route(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data);
/* Sends pin `gsi`'s MSI. */
void irq_fire(struct vm *vm, unsigned gsi);

/* Split mode, on the vCPU threads: */
/* Before KVM_RUN on vCPU 0: an ExtINT the PIC holds goes in now, or an
 * interrupt window is requested. */
void irq_before_run(struct vcpu *v);
/* KVM_EXIT_IOAPIC_EOI: the guest ended a level-triggered vector. */
void irq_eoi(struct vcpu *v, unsigned vector);

#endif
