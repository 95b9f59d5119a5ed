/* The guest-visible devices shrike emulates in user space, one file each. */
#ifndef SHRIKE_DEVICES_H
#define SHRIKE_DEVICES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vm;
struct serial;

/* Every device registers its reset and destroy hooks with vm_add_device()
 * (core/vm.h); a system reset calls the reset hooks in creation order. */

/* 8250/16550A UART (COM1 at 0x3f8, IRQ 4). out_fd < 0: output discarded.
 * Takes ownership of out_fd. */
int serial_create(struct vm *vm, uint16_t base, unsigned irq, int out_fd, struct serial **out);
/* Host input for the guest (bytes beyond the FIFO are dropped, counted). */
void serial_receive(struct serial *s, const uint8_t *buf, size_t n);

/* QEMU's isa-debug-exit at 0xf4: writing v ends the VM with (v << 1) | 1. */
int debug_exit_create(struct vm *vm);

/* QEMU's fw_cfg interface at 0x510/0x511 (traditional I/O interface). */
int fw_cfg_create(struct vm *vm);

/* ACPI PM1a event/control blocks and PM timer at 0x600 (QEMU PC layout):
 * SLP_EN with SLP_TYP = 0 (S5) powers the VM off. */
#define ACPI_PM_BASE   0x600
#define ACPI_S5_SLP_TYP 0
int acpi_pm_create(struct vm *vm);

/* vapic hypercall port 0x7e. */
int vapic_create(struct vm *vm);
void vapic_print_stats(const struct vm *vm, FILE *f);

/* VMware backdoor at 0x5658. */
int vmport_create(struct vm *vm);

/* RTC/CMOS at 0x70/0x71 (IRQ 8): time of day from the host clock, 114
 * bytes of NVRAM that survive a reset. */
int rtc_create(struct vm *vm);

/* i8042 keyboard controller at 0x60/0x64: enough for Linux's probe; the
 * 0xFE command (pulse the reset line) resets the machine. */
int i8042_create(struct vm *vm);

/* PCI configuration address 0xCF8 (latched, no devices behind 0xCFC) and
 * the reset control register 0xCF9 (bit 2 resets the machine). */
int pci_cf8_create(struct vm *vm);

#endif
