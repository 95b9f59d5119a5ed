/*
 * The device model: what the VM needs from every device, whatever it
 * emulates.  A device is an instance of a model (one file in src/hw/); the
 * board (src/board/) says which devices a machine has, at which ports and
 * with which interrupt lines, and creates them in order.
 *
 *   create    allocates the device, adds itself with vm_add_device() and
 *             registers its regions on the VM's buses (iobus_register() on
 *             vm->pio or vm->mmio); gets the board's parameters (a device
 *             whose addresses the chipset fixes takes none)
 *   reset     back to power-on state (a system reset); called with every
 *             vCPU parked, in creation order
 *   quiesce   optional: before a save, with every vCPU parked: finish
 *             the I/O in flight and stop touching guest memory (a device
 *             with its own threads); 0, or -1 (logged: the save fails)
 *   resume    optional: after the save (whether it worked or not), and
 *             at a restored VM's start, once every vCPU's state is
 *             written (a device interrupts the guest only from then on)
 *   save      writes the guest-visible state into a snapshot section
 *   load      reads it back, validating every field (a snapshot file is
 *             input from outside); called before any vCPU runs
 *   stats     optional lines for --stats
 *   powerdown optional: the machine's power button was pressed
 *   set_link  optional: a network card named `name` (its ID) sets its link
 *             up or down; 0, or -1 if the device is not that card
 *   destroy   frees it, in reverse creation order
 */
#ifndef SHRIKE_DEVICE_H
#define SHRIKE_DEVICE_H

#include <stdint.h>
#include <stdio.h>

struct vm;
struct chardev;
struct snap_writer;
struct snap_reader;

/* What the board hands a device at creation. */
struct device_params {
	uint64_t base;             /* first port (or MMIO address) */
	uint64_t size;             /* 0: the model's own size */
	unsigned irq;              /* ISA line, if it has one */
	struct chardev *chardev;   /* serial ports */
	const void *config;        /* the model's own settings (a disk's, ...) */
};

struct device_model {
	const char *name;
	int (*create)(struct vm *vm, const struct device_params *p);
	void (*reset)(void *opaque);
	int (*quiesce)(void *opaque);
	void (*resume)(void *opaque);
	int (*save)(void *opaque, struct snap_writer *w);
	int (*load)(void *opaque, struct snap_reader *r);
	void (*stats)(void *opaque, FILE *f);
	void (*powerdown)(void *opaque);
	int (*set_link)(void *opaque, const char *name, bool up);
	void (*destroy)(void *opaque);
};

struct device {
	const struct device_model *model;
	void *opaque;
};

#define VM_MAX_DEVICES 24

/* Adds a created device to the VM's table.  Returns 0 or -ENOSPC. */
int vm_add_device(struct vm *vm, const struct device_model *model, void *opaque);

/* Finds a device by model name (NULL if the machine has none). */
void *vm_find_device(const struct vm *vm, const char *name);

/* Presses the power button (the device that has one); -ENODEV if none. */
int vm_powerdown(struct vm *vm);

/* QMP's set_link: the card called `name`'s link up or down; -ENODEV if no
 * card has that name. */
int vm_set_link(struct vm *vm, const char *name, bool up);

#endif
