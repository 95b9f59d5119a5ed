/*
 * The guest-visible devices shrike emulates in user space, one file each;
 * each exports its model (core/device.h).  The board (src/board/) places
 * them.
 */
#ifndef SHRIKE_DEVICES_H
#define SHRIKE_DEVICES_H

#include "core/device.h"

/* Split irqchip mode (core/irq.h): the 8259 pair with its ELCR, the
 * IOAPIC at 0xfec00000, the 8254 PIT with port 0x61. */
extern const struct device_model pic_model;
extern const struct device_model ioapic_model;
extern const struct device_model pit_model;

/* 8250/16550A UART; params: base, irq, chardev. */
extern const struct device_model serial_model;

/* QEMU's isa-debug-exit: writing v ends the VM with (v << 1) | 1. */
extern const struct device_model debug_exit_model;

/* QEMU's fw_cfg interface, traditional I/O form (selector, data). */
extern const struct device_model fw_cfg_model;

/* ACPI PM1a event/control blocks and PM timer (QEMU PC layout at 0x600):
 * SLP_EN with SLP_TYP = 0 (S5) powers the VM off; the power button sets
 * PWRBTN_STS and raises the SCI (params: irq). */
#define ACPI_PM_BASE   0x600
#define ACPI_S5_SLP_TYP 0
extern const struct device_model acpi_pm_model;

/* vapic hypercall port (0x7e). */
extern const struct device_model vapic_model;

/* VMware backdoor (0x5658). */
extern const struct device_model vmport_model;

/* RTC/CMOS (0x70/0x71): time of day from the host clock, NVRAM that
 * survives a reset. */
extern const struct device_model rtc_model;

/* i8042 keyboard controller (0x60/0x64): enough for Linux's probe; 0xFE
 * resets the machine. */
extern const struct device_model i8042_model;

/* QEMU's pc-testdev: scratch ports 0xe0/0xe8, flush page 0xe4, IRQ lines
 * at 0x2000, a scratch MMIO window at 0xff000000.  Only on request. */
extern const struct device_model pc_testdev_model;

/* The PCI host (hw/pci.h): configuration mechanism #1 at 0xCF8/0xCFC, the
 * reset control register 0xCF9, the host bridge, the BAR windows. */
extern const struct device_model pci_model;

/* virtio over PCI (src/virtio/): a raw disk image (params: config = a
 * struct disk_config) and the entropy device. */
extern const struct device_model virtio_blk_model;
/* QEMU's pci-testdev (1b36:0005): test registers behind a memory and an I/O
 * BAR. */
extern const struct device_model pci_testdev_model;
extern const struct device_model virtio_rng_model;
/* virtio-net on a tap (params: config = a struct net_backend_config). */
extern const struct device_model virtio_net_model;
/* virtio-vsock (params: config = a struct vsock_config): the host side in
 * shrike over Unix sockets (uds set), or the kernel's vhost-vsock. */
extern const struct device_model virtio_vsock_model;
extern const struct device_model vhost_vsock_model;
/* virtio-console (--console virtio): hvc0 on the console's backend
 * (params: chardev). */
extern const struct device_model virtio_console_model;

#endif
