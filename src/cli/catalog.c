#include "cli/catalog.h"

#include <string.h>

static const struct device_prop debug_exit_props[] = {
	{ "iobase", "uint32", NULL, "1281" },
	{ "iosize", "uint32", NULL, "2" },
	{ NULL, NULL, NULL, NULL },
};

static const struct device_prop virtio_net_props[] = {
	{ "netdev", "str", "ID of a netdev to use as a backend", NULL },
	{ "mac", "str", "Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56", NULL },
	{ NULL, NULL, NULL, NULL },
};

static const struct device_prop vhost_vsock_props[] = {
	{ "guest-cid", "uint64", NULL, "0" },
	{ NULL, NULL, NULL, NULL },
};

static const struct device_prop virtio_blk_props[] = {
	{ "drive", "str", "Node name or ID of a block device to use as a backend", NULL },
	{ "serial", "str", NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

/* By name, as QEMU sorts them; printed by category. */
static const struct device_entry devices[] = {
	{ "isa-debug-exit", "ISA", NULL, NULL, "Misc", debug_exit_props,
	  "a write of v to port 0xf4 ends the VM with status (v << 1) | 1 (always present)" },
	{ "pc-testdev", "ISA", NULL, NULL, "Misc", NULL,
	  "QEMU's test device: scratch ports 0xe0/0xe8, flush page 0xe4, IRQ lines at 0x2000, "
	  "scratch MMIO at 0xff000000" },
	{ "virtconsole", "virtio-serial-bus", NULL, NULL, "Input", NULL,
	  "with virtio-serial-pci: hvc0 on the console's backend (--console virtio)" },
	{ "virtio-serial-pci", "PCI", "virtio-serial", NULL, "Input", NULL,
	  "virtio-console with one port, for virtconsole" },
	{ "pci-testdev", "PCI", NULL, "PCI Test Device", "Misc", NULL,
	  "QEMU's PCI test device: test registers behind a memory and an I/O BAR" },
	{ "vhost-vsock-pci", "PCI", NULL, NULL, "Misc", vhost_vsock_props,
	  "vsock through the kernel's vhost-vsock (--vsock cid=N; uds=PATH for shrike's own)" },
	{ "virtio-blk-pci", "PCI", "virtio-blk", NULL, "Storage", virtio_blk_props,
	  "a raw disk image (--disk PATH[,ro][,serial=S])" },
	{ "virtio-net-pci", "PCI", "virtio-net", NULL, "Network", virtio_net_props,
	  "a network card on a tap (--net tap:IFNAME[,mac=M])" },
	{ "virtio-rng-pci", "PCI", "virtio-rng", NULL, "Misc", NULL,
	  "the entropy device, from the host's getrandom() (--rng)" },
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
		if (!strcmp(devices[i].name, name) || (devices[i].alias && !strcmp(devices[i].alias, name)))
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
			if (d->alias)
				fprintf(f, ", alias \"%s\"", d->alias);
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
		if (!p->desc && !p->def) {
			fprintf(f, "%s\n", left);
			continue;
		}
		fprintf(f, "%-24s - %s", left, p->desc ? p->desc : "");
		if (p->def)
			fprintf(f, " (default: %s)", p->def);
		fputc('\n', f);
	}
}

void catalog_print_devices_native(FILE *f)
{
	fprintf(f, "Devices (QEMU's -device takes these names):\n");
	for (size_t i = 0; i < N(devices); i++)
		fprintf(f, "  %-16s %s\n", devices[i].name, devices[i].about);
	fprintf(f, "Built in: 8250 UART (COM1), i8042, RTC/CMOS, ACPI PM, fw_cfg, the PCI host "
		   "(0xcf8/0xcfc, 0xcf9), VMware backdoor, vapic; split irqchip: 8259 PIC, IOAPIC, 8254 PIT.\n");
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
