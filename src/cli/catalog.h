/*
 * What a user can ask for by name, one table each, and the listings that
 * show it: the devices -device/--device adds, the machines, accelerators
 * and character-device back-ends.  The listings use QEMU 7.2's formats
 * (harnesses written for QEMU parse them: `-device help`,
 * `-device NAME,help`, `-machine help`, ...); the CPU models are listed by
 * x86/cpumodel.c, which defines them.
 */
#ifndef SHRIKE_CATALOG_H
#define SHRIKE_CATALOG_H

#include <stdbool.h>
#include <stdio.h>

struct device_prop {
	const char *name, *type;
	const char *desc;                /* QEMU's description, or NULL */
	const char *def;                 /* QEMU's "(default: ...)" text, or NULL */
};

struct device_entry {
	const char *name;
	const char *bus;                 /* "ISA", "PCI" */
	const char *alias;               /* QEMU's short name, or NULL */
	const char *desc;                /* NULL: QEMU gives none */
	const char *category;            /* QEMU's heading, without " devices:" */
	const struct device_prop *props; /* NULL-terminated, or NULL */
	const char *about;               /* one line for shrike's own --device help */
};

/* QEMU's spellings of a request for help. */
bool is_help(const char *s);

const struct device_entry *catalog_device(const char *name);

/* QEMU's `-device help`. */
void catalog_print_devices(FILE *f);
/* QEMU's `-device NAME,help`. */
void catalog_print_device_props(FILE *f, const struct device_entry *d);
/* shrike's own `--device help`. */
void catalog_print_devices_native(FILE *f);

void catalog_print_machines(FILE *f);
void catalog_print_accels(FILE *f);
void catalog_print_chardevs(FILE *f);

#endif
