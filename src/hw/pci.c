/*
 * The PCI host (hw/pci.h): ports 0xCF8-0xCFF, the configuration address (a
 * 32-bit latch) and data of mechanism #1, with the reset control register
 * inside the address at 0xCF9; ECAM at PCI_ECAM_BASE; the host bridge at
 * 00:00.0; the memory and I/O windows where BARs decode.
 *
 * 0xCF9: a byte write with bit 2 (RST_CPU) set resets the machine; bit 1
 * (hard or soft) is kept and read back.  Only a byte access reaches 0xCF9:
 * a 32-bit write of a configuration address at 0xCF8 must never reset.
 */
#include "hw/pci.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define RCR_SYS_RST 0x02
#define RCR_RST_CPU 0x04
#define CONF1_ENABLE 0x80000000u

/* ---- building functions ---- */

void pci_init_header(struct pci_function *f, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
		     uint16_t subsys_id)
{
	memset(f->config, 0, sizeof(f->config));
	memset(f->wmask, 0, sizeof(f->wmask));
	pci_put16(f->config + PCI_VENDOR_ID, vendor);
	pci_put16(f->config + PCI_DEVICE_ID, device);
	f->config[PCI_REVISION] = revision;
	f->config[PCI_CLASS_PROG] = (uint8_t)class_code;
	pci_put16(f->config + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	pci_put16(f->config + PCI_SUBSYS_VENDOR, subsys_vendor);
	pci_put16(f->config + PCI_SUBSYS_ID, subsys_id);
	pci_put16(f->wmask + PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER |
					  PCI_CMD_INTX_OFF);
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

unsigned pci_add_capability(struct pci_function *f, uint8_t id, unsigned len)
{
	unsigned off = f->cap_end ? f->cap_end : 0x40, last = 0;

	for (unsigned p = f->config[PCI_CAP_PTR]; p; p = f->config[p + 1])
		last = p;
	if (off + len > PCI_CONFIG_SIZE || len < 2)
		return 0;
	f->config[off] = id;
	f->config[off + 1] = 0;
	f->cap_end = (off + len + 3u) & ~3u;
	if (last)
		f->config[last + 1] = (uint8_t)off;
	else
		f->config[PCI_CAP_PTR] = (uint8_t)off;
	pci_put16(f->config + PCI_STATUS, pci_get16(f->config + PCI_STATUS) | PCI_STATUS_CAPS);
	return off;
}

/* ---- BAR decoding ---- */

static uint64_t bar_raw(const struct pci_function *f, unsigned i)
{
	uint64_t lo = pci_get32(f->config + PCI_BAR0 + 4 * i);

	if (f->bar[i].io)
		return lo & ~3ull & 0xffff;
	if (f->bar[i].mem64 && i < 5)
		return (lo & ~0xfull) | (uint64_t)pci_get32(f->config + PCI_BAR0 + 4 * (i + 1)) << 32;
	return lo & ~0xfull;
}

uint64_t pci_bar_address(struct pci_function *f, unsigned i)
{
	uint16_t cmd = pci_get16(f->config + PCI_COMMAND);
	const struct pci_bar *b = &f->bar[i];
	uint64_t a, lo, hi;

	if (i >= 6 || !b->size || !(cmd & (b->io ? PCI_CMD_IO : PCI_CMD_MEMORY)))
		return 0;
	a = bar_raw(f, i);
	for (unsigned w = 0; f->bus && w < f->bus->nwindows; w++) {
		const struct pci_window *win = &f->bus->window[w];

		if (win->io != b->io || (win->base >= PCI_MMIO64_BASE && !b->mem64))
			continue;
		lo = win->base;
		hi = win->end;
		if (a >= lo && a < hi && b->size <= hi - a)
			return a;
	}
	return 0;
}

/* The BAR that decodes addr, and the offset in it (under the bus lock). */
static struct pci_bar *decode(struct pci_bus *bus, bool io, uint64_t addr, uint64_t *off)
{
	for (unsigned s = 1; s < PCI_SLOTS; s++) {
		struct pci_function *f = bus->fn[s];

		for (unsigned i = 0; f && i < 6; i++) {
			uint64_t a;

			if (f->bar[i].io != io || !(a = pci_bar_address(f, i)))
				continue;
			if (addr >= a && addr - a < f->bar[i].size) {
				*off = addr - a;
				return &f->bar[i];
			}
		}
	}
	return NULL;
}

static uint64_t window_read(struct pci_bus *bus, struct vcpu *vcpu, bool io, uint64_t addr,
			    unsigned size)
{
	struct pci_bar *b;
	uint64_t off, v = 0;

	pthread_mutex_lock(&bus->lock);
	b = decode(bus, io, addr, &off);
	pthread_mutex_unlock(&bus->lock);
	if (!b) {
		log_guest(&bus->vm->rl, "pci: %s read of %u at 0x%llx: no BAR there", io ? "I/O" : "MMIO",
			  size, (unsigned long long)addr);
		return ~0ull;
	}
	iobus_read(&b->regions, vcpu, off, &v, size);
	return v;
}

static void window_write(struct pci_bus *bus, struct vcpu *vcpu, bool io, uint64_t addr,
			 uint64_t v, unsigned size)
{
	struct pci_bar *b;
	uint64_t off;

	pthread_mutex_lock(&bus->lock);
	b = decode(bus, io, addr, &off);
	pthread_mutex_unlock(&bus->lock);
	if (!b) {
		log_guest(&bus->vm->rl, "pci: %s write of %u at 0x%llx: no BAR there",
			  io ? "I/O" : "MMIO", size, (unsigned long long)addr);
		return;
	}
	iobus_write(&b->regions, vcpu, off, &v, size);
}

static uint64_t window_region_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	struct pci_window *w = o;

	return window_read(w->bus, v, w->io, w->base + off, size);
}

static void window_region_write(void *o, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	struct pci_window *w = o;

	window_write(w->bus, v, w->io, w->base + off, val, size);
}

static const struct io_ops mmio_window_ops = {
	.read = window_region_read, .write = window_region_write,
	.valid_min = 1, .valid_max = 8, .impl_min = 1, .impl_max = 8,
};

static const struct io_ops io_window_ops = {
	.read = window_region_read, .write = window_region_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

/* ---- INTx ---- */

/* Under intx_lock: puts the function on or off its line as its request and
 * the Interrupt Disable bit say; the line follows its first holder up and
 * its last one down. */
static void intx_update(struct pci_function *f)
{
	struct pci_bus *bus = f->bus;
	unsigned gsi = pci_intx_gsi(f->slot, f->config[PCI_INTERRUPT_PIN]);
	unsigned *holders = &bus->intx_holders[gsi - PCI_INTX_GSI_BASE];
	bool on = f->intx_request && !f->intx_disabled;

	if (on == f->intx_on)
		return;
	f->intx_on = on;
	if (on ? (*holders)++ == 0 : --*holders == 0)
		vm_set_irq(bus->vm, gsi, on);
}

void pci_set_intx(struct pci_function *f, bool level)
{
	struct pci_bus *bus = f->bus;

	if (!bus || !f->config[PCI_INTERRUPT_PIN])
		return;
	pthread_mutex_lock(&bus->intx_lock);
	f->intx_request = level;
	intx_update(f);
	pthread_mutex_unlock(&bus->intx_lock);
}

/* Under the bus lock, after a write to the command register. */
static void intx_command_written(struct pci_function *f)
{
	if (!f->bus || !f->config[PCI_INTERRUPT_PIN])
		return;
	pthread_mutex_lock(&f->bus->intx_lock);
	f->intx_disabled = pci_get16(f->config + PCI_COMMAND) & PCI_CMD_INTX_OFF;
	intx_update(f);
	pthread_mutex_unlock(&f->bus->intx_lock);
}

/* ---- configuration space ---- */

static struct pci_function *addressed(struct pci_bus *bus, uint32_t address)
{
	unsigned busno = (address >> 16) & 0xff, slot = (address >> 11) & 0x1f,
		 func = (address >> 8) & 7;

	if (!(address & CONF1_ENABLE) || busno || func)
		return NULL;
	return slot ? bus->fn[slot] : &bus->host;
}

static uint32_t config_read(struct pci_function *f, unsigned off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size && off + i < PCI_CONFIG_SIZE; i++) {
		uint8_t b = f->config[off + i];

		if (off + i == PCI_STATUS && f->bus) {
			pthread_mutex_lock(&f->bus->intx_lock);
			b = (uint8_t)((b & ~PCI_STATUS_INTX) | (f->intx_request ? PCI_STATUS_INTX : 0));
			pthread_mutex_unlock(&f->bus->intx_lock);
		}
		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void config_write(struct pci_function *f, unsigned off, uint32_t v, unsigned size)
{
	for (unsigned i = 0; i < size && off + i < PCI_CONFIG_SIZE; i++) {
		uint8_t m = f->wmask[off + i];

		f->config[off + i] = (uint8_t)((f->config[off + i] & ~m) | ((v >> (8 * i)) & m));
	}
	if (off < PCI_COMMAND + 2 && off + size > PCI_COMMAND)
		intx_command_written(f);
	if (f->config_written)
		f->config_written(f, off, size);
}

/* ---- ports 0xCF8-0xCFF ---- */

static uint64_t cf8_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct pci_bus *bus = opaque;
	struct pci_function *f;
	uint64_t v = ~0ull;

	(void)vcpu;
	pthread_mutex_lock(&bus->lock);
	if (off == 0 && size == 4) {
		v = bus->address;
	} else if (off == 1 && size == 1) {
		v = bus->rcr;
	} else if (off >= 4 && (f = addressed(bus, bus->address))) {
		v = config_read(f, (bus->address & 0xfc) + (unsigned)(off - 4), size);
	}
	pthread_mutex_unlock(&bus->lock);
	return v;
}

static void cf8_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
		      unsigned size)
{
	struct pci_bus *bus = opaque;
	struct pci_function *f;
	bool reset = false;

	(void)vcpu;
	pthread_mutex_lock(&bus->lock);
	if (off == 0 && size == 4) {
		bus->address = (uint32_t)value & 0x80fffffcu;
	} else if (off == 1 && size == 1) {
		bus->rcr = (uint8_t)(value & RCR_SYS_RST);
		reset = value & RCR_RST_CPU;
	} else if (off >= 4 && (f = addressed(bus, bus->address))) {
		config_write(f, (bus->address & 0xfc) + (unsigned)(off - 4), (uint32_t)value, size);
	}
	pthread_mutex_unlock(&bus->lock);
	if (reset)
		vm_request_reset(bus->vm, "cf9:0xcf9");
}

static const struct io_ops cf8_ops = {
	.read = cf8_read, .write = cf8_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

/* ---- ECAM: bus 0's configuration spaces, 4 KiB a function ---- */

static uint64_t ecam_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct pci_bus *bus = opaque;
	unsigned reg = off & 0xfff;
	struct pci_function *f;
	uint64_t v = ~0ull;

	(void)vcpu;
	pthread_mutex_lock(&bus->lock);
	f = addressed(bus, CONF1_ENABLE | (uint32_t)(off >> 4 & 0xffff00));
	if (f && reg < PCI_CONFIG_SIZE)
		v = config_read(f, reg, size);
	pthread_mutex_unlock(&bus->lock);
	return v;
}

static void ecam_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
		       unsigned size)
{
	struct pci_bus *bus = opaque;
	unsigned reg = off & 0xfff;
	struct pci_function *f;

	(void)vcpu;
	pthread_mutex_lock(&bus->lock);
	f = addressed(bus, CONF1_ENABLE | (uint32_t)(off >> 4 & 0xffff00));
	if (f && reg < PCI_CONFIG_SIZE)
		config_write(f, reg, (uint32_t)value, size);
	pthread_mutex_unlock(&bus->lock);
}

/* Naturally aligned accesses of up to 4 bytes, as PCIe allows; an 8-byte
 * one is two. */
static const struct io_ops ecam_ops = {
	.read = ecam_read, .write = ecam_write,
	.valid_min = 1, .valid_max = 8, .impl_min = 1, .impl_max = 4,
};

/* ---- adding functions ---- */

static int assign_bar(struct pci_bus *bus, struct pci_function *f, unsigned i)
{
	struct pci_bar *b = &f->bar[i];
	uint32_t flags = b->io ? 1 : (b->mem64 ? 4 : 0) | (b->prefetch ? 8 : 0);
	uint64_t mask = ~(b->size - 1), a;

	if (b->io) {
		a = (bus->next_io + b->size - 1) & mask;
		if (a + b->size > PCI_IO_END)
			return -1;
		bus->next_io = (uint32_t)(a + b->size);
	} else {
		a = (bus->next_mmio + b->size - 1) & mask;
		if (a + b->size > PCI_MMIO_END)
			return -1;
		bus->next_mmio = a + b->size;
	}
	pci_put32(f->config + PCI_BAR0 + 4 * i, (uint32_t)a | flags);
	pci_put32(f->wmask + PCI_BAR0 + 4 * i, (uint32_t)mask & (b->io ? ~3u : ~0xfu));
	if (b->mem64 && i < 5) {
		pci_put32(f->config + PCI_BAR0 + 4 * (i + 1), (uint32_t)(a >> 32));
		pci_put32(f->wmask + PCI_BAR0 + 4 * (i + 1), (uint32_t)(mask >> 32));
	}
	return 0;
}

static int add_window(struct vm *vm, struct pci_bus *bus, uint64_t base, uint64_t end, bool io)
{
	struct pci_window *w = &bus->window[bus->nwindows];

	if (end <= base)
		return 0;
	if (bus->nwindows == PCI_WINDOWS)
		return -1;
	*w = (struct pci_window){ bus, base, end, io };
	bus->nwindows++;
	return iobus_register(io ? &vm->pio : &vm->mmio, base, end - base,
			      io ? &io_window_ops : &mmio_window_ops, w, "pci-window");
}

/* The windows: the one the DSDT names and shrike assigns in, the rest of
 * the hole below 4 GiB that is not RAM, ECAM or the chipset's, the 64-bit
 * space, and the I/O window. */
static int ensure_windows(struct vm *vm, struct pci_bus *bus)
{
	uint64_t low = guest_mem_low_end(&vm->mem);

	if (bus->next_mmio)
		return 0;
	bus->next_mmio = PCI_MMIO_BASE;
	bus->next_io = PCI_IO_BASE;
	/* Low RAM ends at ECAM's base at the latest (base/memory.h). */
	return add_window(vm, bus, PCI_MMIO_BASE, PCI_MMIO_END, false) ||
	       add_window(vm, bus, low, PCI_ECAM_BASE, false) ||
	       add_window(vm, bus, PCI_ECAM_BASE + PCI_ECAM_SIZE, PCI_MMIO_BASE, false) ||
	       add_window(vm, bus, PCI_MMIO_END, PCI_HOLE_END, false) ||
	       add_window(vm, bus, PCI_MMIO64_BASE, PCI_MMIO64_END, false) ||
	       add_window(vm, bus, PCI_IO_BASE, PCI_IO_END, true);
}

int pci_add_function(struct vm *vm, struct pci_function *f)
{
	struct pci_bus *bus = vm_find_device(vm, "pci");
	unsigned slot = 1;
	uint16_t cmd = 0;

	if (!bus || ensure_windows(vm, bus))
		return -1;
	while (slot < PCI_SLOTS && bus->fn[slot])
		slot++;
	if (slot == PCI_SLOTS)
		return -1;
	/* Largest BARs first keeps the windows dense; assigned in order is
	 * simpler and the windows are large. */
	for (unsigned i = 0; i < 6; i++) {
		if (!f->bar[i].size)
			continue;
		if (assign_bar(bus, f, i))
			return -1;
		cmd |= f->bar[i].io ? PCI_CMD_IO : PCI_CMD_MEMORY;
		if (f->bar[i].mem64)
			i++;
	}
	pci_put16(f->config + PCI_COMMAND, cmd);
	if (f->config[PCI_INTERRUPT_PIN] > 4)
		return -1;
	if (f->config[PCI_INTERRUPT_PIN])      /* as firmware fills it in */
		f->config[PCI_INTERRUPT_LINE] = (uint8_t)pci_intx_gsi(slot, f->config[PCI_INTERRUPT_PIN]);
	memcpy(f->at_reset, f->config, sizeof(f->at_reset));
	f->slot = slot;
	f->bus = bus;
	pthread_mutex_lock(&bus->lock);
	bus->fn[slot] = f;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

/* ---- a function's configuration space in snapshots ---- */

void pci_config_save(struct pci_function *f, struct snap_writer *w)
{
	pthread_mutex_lock(&f->bus->lock);
	snap_put(w, f->config, PCI_CONFIG_SIZE);
	pthread_mutex_unlock(&f->bus->lock);
}

int pci_config_load(struct pci_function *f, struct snap_reader *r)
{
	uint8_t saved[PCI_CONFIG_SIZE];

	if (!snap_get(r, saved, sizeof(saved)))
		return -1;
	pthread_mutex_lock(&f->bus->lock);
	for (unsigned i = 0; i < PCI_CONFIG_SIZE; i++)
		f->config[i] = (uint8_t)((f->at_reset[i] & ~f->wmask[i]) | (saved[i] & f->wmask[i]));
	if (f->config_written)
		f->config_written(f, 0, PCI_CONFIG_SIZE);
	intx_command_written(f);
	pthread_mutex_unlock(&f->bus->lock);
	return 0;
}

/* ---- the model ---- */

static void pci_reset(void *opaque)
{
	struct pci_bus *bus = opaque;

	pthread_mutex_lock(&bus->lock);
	bus->address = 0;
	bus->rcr = 0;
	/* The header as shrike assigned it, as firmware would set it again. */
	for (unsigned s = 1; s < PCI_SLOTS; s++) {
		struct pci_function *f = bus->fn[s];

		if (!f)
			continue;
		memcpy(f->config, f->at_reset, sizeof(f->config));
		if (f->config_written)
			f->config_written(f, 0, PCI_CONFIG_SIZE);
		intx_command_written(f);
	}
	pthread_mutex_unlock(&bus->lock);
}

static void pci_destroy(void *opaque)
{
	struct pci_bus *bus = opaque;

	pthread_mutex_destroy(&bus->lock);
	pthread_mutex_destroy(&bus->intx_lock);
	free(bus);
}

static int pci_create(struct vm *vm, const struct device_params *dp)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return -1;
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->intx_lock, NULL);
	/* Intel 440FX, as QEMU's pc machine: Linux's conf1 sanity check looks
	 * for a host bridge on bus 0. */
	pci_init_header(&bus->host, 0x8086, 0x1237, 0x060000, 0x02, 0, 0);
	bus->host.name = "host bridge";
	pci_put16(bus->host.config + PCI_COMMAND, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	bus->fn[0] = &bus->host;
	if (vm_add_device(vm, &pci_model, bus)) {
		pci_destroy(bus);
		return -1;
	}
	return iobus_register(&vm->pio, dp->base, 8, &cf8_ops, bus, "pci-cf8") ||
	       iobus_register(&vm->mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE, &ecam_ops, bus, "pci-ecam");
}

static int pci_save(void *opaque, struct snap_writer *w)
{
	struct pci_bus *bus = opaque;

	pthread_mutex_lock(&bus->lock);
	snap_put_u32(w, bus->address);
	snap_put_u8(w, bus->rcr);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

static int pci_load(void *opaque, struct snap_reader *r)
{
	struct pci_bus *bus = opaque;
	uint32_t a = snap_get_u32(r);
	uint8_t rcr = snap_get_u8(r);

	if (!snap_done(r))
		return -1;
	pthread_mutex_lock(&bus->lock);
	bus->address = a & 0x80fffffcu;
	bus->rcr = rcr & RCR_SYS_RST;
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

const struct device_model pci_model = {
	.name = "pci",
	.create = pci_create,
	.reset = pci_reset,
	.save = pci_save,
	.load = pci_load,
	.destroy = pci_destroy,
};
