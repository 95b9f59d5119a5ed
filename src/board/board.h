/*
 * Machines.  A board lists the devices of a machine, with their ports and
 * interrupt lines, the way QEMU's machine definitions and kvmtool's device
 * lists do; adding a device is one file in src/hw/ and one line here.
 */
#ifndef SHRIKE_BOARD_H
#define SHRIKE_BOARD_H

struct vm;
struct acpi_board;

/* Creates the PC's devices on the VM (configuration from vm->cfg).
 * Returns 0 or -1 (logged). */
int board_pc_create(struct vm *vm);

/* The PC as its ACPI tables describe it (the loaders build them). */
const struct acpi_board *board_pc_acpi(void);

#endif
