#include "cli/catalog.h"

#include <string.h>

static const struct device_prop debug_exit_props[] = {
	{ "iobase", "uint32", "1281" },
	{ "iosize", "uint32", "2" },
	{ NULL, NULL, NULL },
};

/* In QEMU's category order, then by name (QEMU sorts each category). */
static const struct device_entry devices[] = {
	{ "isa-debug-exit", "ISA", NULL, "Misc", debug_exit_props,
	  "a write of v to port 0xf4 ends the VM with status (v << 1) | 1 (always present)" },
	{ "pc-testdev", "ISA", NULL, "Misc", NULL,
	  "QEMU's test device: scratch ports 0xe0/0xe8, flush page 0xe4, IRQ lines at 0x2000, "
	  "scratch MMIO at 0xff000000" },
};

/* QEMU's categories, in its order (hw/core/qdev's DEVICE_CATEGORY_*). */
static const char *const categories[] = {
	"Controller/Bridge/Hub", "USB", "Storage", "Network", "Input", "Display", "Sound", "Misc",
	"CPU", "Watchdog", "Uncategorized",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

bool is_help(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "?");
}

const struct device_entry *catalog_device(const char *name)
{
	for (size_t i = 0; i < N(devices); i++)
		if (!strcmp(devices[i].name, name))
			return &devices[i];
	return NULL;
}

void catalog_print_devices(FILE *f)
{
	for (size_t c = 0; c < N(categories); c++) {
		bool printed = false;

		for (size_t i = 0; i < N(devices); i++) {
			const struct device_entry *d = &devices[i];

			if (strcmp(d->category, categories[c]))
				continue;
			/* QEMU separates every category but the first by a blank
			 * line, printed or not. */
			if (!printed)
				fprintf(f, "%s%s devices:\n", c ? "\n" : "", categories[c]);
			printed = true;
			fprintf(f, "name \"%s\"", d->name);
			if (d->bus)
				fprintf(f, ", bus %s", d->bus);
			if (d->desc)
				fprintf(f, ", desc \"%s\"", d->desc);
			fputc('\n', f);
		}
	}
}

void catalog_print_device_props(FILE *f, const struct device_entry *d)
{
	char left[64];

	if (!d->props || !d->props[0].name) {
		fprintf(f, "There are no options for %s.\n", d->name);
		return;
	}
	fprintf(f, "%s options:\n", d->name);
	for (const struct device_prop *p = d->props; p->name; p++) {
		snprintf(left, sizeof(left), "  %s=<%s>", p->name, p->type);
		fprintf(f, "%-24s - ", left);
		if (p->def)
			fprintf(f, " (default: %s)", p->def);
		fputc('\n', f);
	}
}

void catalog_print_devices_native(FILE *f)
{
	fprintf(f, "Devices (--device NAME; QEMU's -device takes the same names):\n");
	for (size_t i = 0; i < N(devices); i++)
		fprintf(f, "  %-16s %s\n", devices[i].name, devices[i].about);
	fprintf(f, "Built in: 8250 UART (COM1), i8042, RTC/CMOS, ACPI PM, fw_cfg, PCI 0xcf8/0xcf9, "
		   "VMware backdoor, vapic; split irqchip: 8259 PIC, IOAPIC, 8254 PIT.\n");
}

void catalog_print_machines(FILE *f)
{
	fprintf(f, "Supported machines are:\n"
		   "microvm              microvm (i386)\n"
		   "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)\n"
		   "pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)\n"
		   "q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\n"
		   "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)\n");
}

void catalog_print_accels(FILE *f)
{
	fprintf(f, "Accelerators supported in QEMU binary:\nkvm\n");
}

void catalog_print_chardevs(FILE *f)
{
	fprintf(f, "Available chardev backend types: \n  stdio\n  null\n  socket\n  file\n");
}
