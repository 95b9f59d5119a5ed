/*
 * The PC that shrike emulates: the legacy devices a PC guest (Linux, a
 * multiboot test kernel, a kernel written for QEMU's PC) looks for, at the
 * ports and interrupt lines QEMU's "pc" machine uses.  Creation order is
 * reset order.  The LAPICs are KVM's; the IOAPIC, PIC and PIT are KVM's
 * too (set up with the VM, core/irq.c) or, in split irqchip mode, these
 * devices.
 */
#include <stddef.h>

#include "board/board.h"
#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "hw/pci.h"
#include "x86/acpi.h"

#define PC_SCI 9       /* ACPI's system control interrupt, ISA line 9 */

struct board_slot {
	const struct device_model *model;
	struct device_params p;
	bool (*wanted)(const struct vm *vm);
};

static bool want_split(const struct vm *vm) { return vm->irq.split; }
static bool want_vmport(const struct vm *vm) { return !vm->cfg.no_vmport; }
static bool want_vapic(const struct vm *vm) { return !vm->cfg.no_vapic; }
static bool want_debug_exit(const struct vm *vm) { return !vm->cfg.no_debug_exit; }
static bool want_pc_testdev(const struct vm *vm) { return vm->cfg.pc_testdev; }

static const struct board_slot pc[] = {
	/* First, so that a restore loads them before the devices that raise
	 * their lines.  Where the chipset fixes them (and KVM's in-kernel
	 * twins, core/irq.c): the 8259 pair at 0x20/0xa0 with the ELCR at
	 * 0x4d0, the IOAPIC at 0xfec00000, the PIT at 0x40 with port 0x61 on
	 * ISA line 0; no parameters. */
	{ &pic_model,        { 0 },                                    want_split },
	{ &ioapic_model,     { 0 },                                    want_split },
	{ &pit_model,        { 0 },                                    want_split },
	{ &serial_model,     { .base = 0x3f8, .irq = 4 },              NULL },
	{ &debug_exit_model, { .base = 0xf4, .size = 4 },              want_debug_exit },
	{ &fw_cfg_model,     { .base = 0x510 },                        NULL },
	{ &acpi_pm_model,    { .base = ACPI_PM_BASE, .irq = PC_SCI },  NULL },
	{ &rtc_model,        { .base = 0x70, .irq = 8 },               NULL },
	{ &i8042_model,      { .base = 0x60, .irq = 1 },               NULL },
	{ &pci_model,        { .base = 0xcf8 },                        NULL },
	{ &vmport_model,     { .base = 0x5658 },                       want_vmport },
	{ &vapic_model,      { .base = 0x7e },                         want_vapic },
	/* QEMU's fixed ports and MMIO window (hw/pc_testdev.c). */
	{ &pc_testdev_model, { 0 },                                    want_pc_testdev },
};

/* PCI devices, after the bus (the pci slot above) exists. */
static int create_pci_devices(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg.ndisks; i++) {
		struct device_params p = { .config = &vm->cfg.disks[i] };

		if (virtio_blk_model.create(vm, &p)) {
			log_error("cannot create the virtio-blk device for %s", vm->cfg.disks[i].path);
			return -1;
		}
	}
	for (unsigned i = 0; i < vm->cfg.nnets; i++) {
		struct device_params p = { .config = &vm->cfg.nets[i] };

		if (virtio_net_model.create(vm, &p)) {
			log_error("cannot create the virtio-net device for --net %s",
				  vm->cfg.nets[i].spec);
			return -1;
		}
	}
	if (vm->cfg.vsock.set) {
		const struct device_model *m =
			vm->cfg.vsock.uds ? &virtio_vsock_model : &vhost_vsock_model;

		if (m->create(vm, &(struct device_params){ .config = &vm->cfg.vsock })) {
			log_error("cannot create the %s device", m->name);
			return -1;
		}
	}
	if (vm->cfg.pci_testdev && pci_testdev_model.create(vm, &(struct device_params){ 0 })) {
		log_error("cannot create the pci-testdev device");
		return -1;
	}
	if (vm->cfg.console_virtio &&
	    virtio_console_model.create(vm, &(struct device_params){ .chardev = &vm->console })) {
		log_error("cannot create the virtio-console device");
		return -1;
	}
	if (vm->cfg.rng && virtio_rng_model.create(vm, &(struct device_params){ 0 })) {
		log_error("cannot create the virtio-rng device");
		return -1;
	}
	return 0;
}

int board_pc_create(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(pc) / sizeof(pc[0]); i++) {
		struct device_params p = pc[i].p;

		if (pc[i].wanted && !pc[i].wanted(vm))
			continue;
		if (pc[i].model == &serial_model)
			p.chardev = &vm->console;
		if (pc[i].model == &debug_exit_model && vm->cfg.debug_exit_port) {
			p.base = vm->cfg.debug_exit_port;
			p.size = vm->cfg.debug_exit_size;
		}
		if (pc[i].model->create(vm, &p)) {
			log_error("cannot create the %s device", pc[i].model->name);
			return -1;
		}
	}
	return create_pci_devices(vm);
}

static unsigned pc_intx_gsi(unsigned slot, unsigned pin)
{
	return pci_intx_gsi(slot, pin);
}

const struct acpi_board *board_pc_acpi(void)
{
	static const struct acpi_board pc_acpi = {
		.pm_base = ACPI_PM_BASE,
		.sci_irq = PC_SCI,
		.ioapic_base = 0xfec00000,
		.pci_mmio_base = PCI_MMIO_BASE,
		.pci_mmio_end = PCI_MMIO_END,
		.ecam_base = PCI_ECAM_BASE,
		.ecam_size = PCI_ECAM_SIZE,
		.pci_slots = PCI_SLOTS,
		.intx_gsi = pc_intx_gsi,
	};

	return &pc_acpi;
}
