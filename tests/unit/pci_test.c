/*
 * The PCI host (hw/pci.c) without KVM: conf1 reads of empty slots, the
 * host bridge, BAR sizing by all ones, BARs assigned in the windows,
 * decoding that follows the command register and a BAR the guest moves,
 * read-only fields, capability lists, MSI-X table accesses, ECAM, and INTx
 * lines shared by two functions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "hw/msix.h"
#include "hw/pci.h"

static struct vm *vm;
static struct pci_function fn, fn2;
static struct msix msix;
static uint64_t last_off, hits;

static void out32(uint16_t port, uint32_t v) { iobus_write(&vm->pio, NULL, port, &v, 4); }
static uint32_t in32(uint16_t port) { uint32_t v = 0; iobus_read(&vm->pio, NULL, port, &v, 4); return v; }

static uint32_t cfg_read(unsigned slot, unsigned reg)
{
	out32(0xcf8, 0x80000000u | slot << 11 | reg);
	return in32(0xcfc);
}

static void cfg_write(unsigned slot, unsigned reg, uint32_t v)
{
	out32(0xcf8, 0x80000000u | slot << 11 | reg);
	out32(0xcfc, v);
}

static uint64_t reg_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	(void)o, (void)v, (void)size;
	last_off = off;
	hits++;
	return 0x5a5a5a5a;
}

static void reg_write(void *o, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	(void)o, (void)v, (void)val, (void)size;
	last_off = off;
	hits++;
}

static const struct io_ops reg_ops = { reg_read, reg_write, 1, 4, 1, 4 };

static uint32_t mmio_read32(uint64_t a) { uint32_t v = 0; iobus_read(&vm->mmio, NULL, a, &v, 4); return v; }
static void mmio_write32(uint64_t a, uint32_t v) { iobus_write(&vm->mmio, NULL, a, &v, 4); }

static void empty_slots_and_host(void)
{
	CHECK_EQ(cfg_read(0, 0), 0x12378086);                  /* 440FX */
	CHECK_EQ(cfg_read(0, 8) >> 8, 0x060000);               /* a host bridge */
	CHECK_EQ(cfg_read(9, 0), 0xffffffff);                  /* nothing in slot 9 */
	out32(0xcf8, 0x80000100u | 1 << 11);                   /* function 1 */
	CHECK_EQ(in32(0xcfc), 0xffffffff);
	out32(0xcf8, 0x80010000u);                             /* bus 1 */
	CHECK_EQ(in32(0xcfc), 0xffffffff);
	cfg_write(0, 0, 0);                                    /* IDs are read-only */
	CHECK_EQ(cfg_read(0, 0), 0x12378086);
}

static void bars_assigned_and_sized(void)
{
	uint32_t bar0 = cfg_read(fn.slot, 0x10), bar2 = cfg_read(fn.slot, 0x18);

	CHECK(fn.slot == 1);
	CHECK_EQ(cfg_read(1, 0), 0x00011234);
	CHECK(bar0 >= PCI_MMIO_BASE && bar0 < PCI_MMIO_END && !(bar0 & 0xfff));
	CHECK_EQ(bar0 & 0xf, 0);                               /* 32-bit memory */
	CHECK_EQ(bar2 & 0x3, 1);                               /* I/O */
	CHECK((bar2 & ~3u) >= PCI_IO_BASE);
	CHECK_EQ(cfg_read(1, 4) & 3, 3);                       /* decoding enabled */
	cfg_write(1, 0x10, 0xffffffff);                        /* sizing */
	CHECK_EQ(cfg_read(1, 0x10), 0xfffff000);               /* 4 KiB */
	cfg_write(1, 0x18, 0xffffffff);
	CHECK_EQ(cfg_read(1, 0x18), 0xffffffc1);               /* 64 bytes of I/O */
	cfg_write(1, 0x10, bar0);
	cfg_write(1, 0x18, bar2);
}

static void decoding_follows_the_guest(void)
{
	uint32_t bar0 = cfg_read(1, 0x10);

	hits = 0;
	CHECK_EQ(mmio_read32(bar0 + 0x120), 0x5a5a5a5a);
	CHECK_EQ(last_off, 0x20);
	cfg_write(1, 4, 0);                                    /* decoding off */
	CHECK_EQ(mmio_read32(bar0 + 0x120), 0xffffffff);
	CHECK_EQ(hits, 1);
	cfg_write(1, 4, 3);
	cfg_write(1, 0x10, bar0 + 0x100000);                   /* moved by the guest */
	CHECK_EQ(mmio_read32(bar0 + 0x120), 0xffffffff);
	mmio_write32(bar0 + 0x100000 + 0x130, 1);
	CHECK_EQ(last_off, 0x30);
	cfg_write(1, 0x10, 0x1000);                            /* outside the window: nowhere */
	hits = 0;
	mmio_read32(0x1000);
	CHECK_EQ(hits, 0);
	cfg_write(1, 0x10, bar0);
}

static void capabilities(void)
{
	unsigned p = cfg_read(1, 0x34) & 0xff;
	uint32_t ctrl;

	CHECK(cfg_read(1, 4) >> 16 & 0x10);                    /* status: a list */
	CHECK(p >= 0x40);
	CHECK_EQ(cfg_read(1, p) & 0xff, PCI_CAP_ID_MSIX);
	ctrl = cfg_read(1, p) >> 16;
	CHECK_EQ(ctrl & 0x7ff, 3);                             /* 4 vectors */
	CHECK_EQ(cfg_read(1, p + 4), 0x0 | 0);                 /* table at BAR 0, offset 0 */
	cfg_write(1, p, (0x8000u | 0x7ff) << 16);              /* enable; size is read-only */
	CHECK_EQ(cfg_read(1, p) >> 16, 0x8003);
	CHECK(msix.enabled);
}

static void msix_table(void)
{
	uint32_t bar0 = cfg_read(1, 0x10);

	CHECK_EQ(mmio_read32(bar0 + 12), 1);                   /* vector 0 masked at reset */
	mmio_write32(bar0, 0xfee00000);
	mmio_write32(bar0 + 8, 0x41);
	CHECK_EQ(mmio_read32(bar0), 0xfee00000);
	CHECK_EQ(mmio_read32(bar0 + 8), 0x41);
	msix_notify(&msix, 0);                                 /* masked: pending */
	CHECK_EQ(mmio_read32(bar0 + 0x800) & 1, 1);
	mmio_read32(bar0 + 16 * 64);                           /* past the table: harmless */
}

static uint32_t ecam_read(unsigned slot, unsigned reg, unsigned size)
{
	uint32_t v = 0;

	iobus_read(&vm->mmio, NULL, PCI_ECAM_BASE + (slot << 15 | reg), &v, size);
	return v;
}

static void ecam_write(unsigned slot, unsigned reg, uint32_t v, unsigned size)
{
	iobus_write(&vm->mmio, NULL, PCI_ECAM_BASE + (slot << 15 | reg), &v, size);
}

/* A 64-bit BAR decodes above 4 GiB too, where Linux without ACPI's
 * windows (pci=noacpi) moves it. */
static void bar64_above_4g(void)
{
	uint32_t lo = cfg_read(2, 0x10);

	CHECK_EQ(lo & 0x6, 0x4);                               /* 64-bit memory */
	cfg_write(2, 0x10, 0);
	cfg_write(2, 0x14, 0x1);                               /* 0x1_0000_0000 */
	hits = 0;
	CHECK_EQ(mmio_read32(0x100000024ull), 0x5a5a5a5a);
	CHECK_EQ(last_off, 4);
	CHECK_EQ(hits, 1);
	cfg_write(2, 0x14, 0x10000);                           /* 2^48: past the window */
	CHECK_EQ(mmio_read32(0x100000024ull), 0xffffffff);
	CHECK_EQ(hits, 1);
	cfg_write(2, 0x10, lo);                                /* back where it was */
	cfg_write(2, 0x14, 0);
	CHECK_EQ(mmio_read32((lo & ~0xfu) + 0x20), 0x5a5a5a5a);
}

/* ECAM reaches the same configuration spaces as conf1. */
static void ecam_matches_conf1(void)
{
	CHECK_EQ(ecam_read(0, 0, 4), 0x12378086);
	CHECK_EQ(ecam_read(1, 0, 4), cfg_read(1, 0));
	CHECK_EQ(ecam_read(1, 0x10, 4), cfg_read(1, 0x10));
	CHECK_EQ(ecam_read(1, 2, 2), 0x0001);
	CHECK_EQ(ecam_read(9, 0, 4), 0xffffffff);              /* empty slot */
	CHECK_EQ(ecam_read(1, 0x100, 4), 0xffffffff);          /* no extended space */
	CHECK_EQ(ecam_read(1, 1 << 12, 4), 0xffffffff);        /* function 1 */
	ecam_write(1, 0x3c, 0x5a, 1);                          /* interrupt line, writable */
	CHECK_EQ(cfg_read(1, 0x3c) & 0xff, 0x5a);
	ecam_write(1, 0, 0, 4);                                /* IDs stay */
	CHECK_EQ(cfg_read(1, 0), 0x00011234);
	ecam_write(1, 0x100, 0, 4);                            /* ignored */
}

static int line_level[24];

static void record_line(void *chip, unsigned pin, bool level)
{
	(void)chip;
	if (pin < 24)
		line_level[pin] = level;
}

/* INTx: fn (slot 1, INTB) and fn2 (slot 2, INTA) share GSI 18; the line
 * is up while either asks, the Interrupt Disable bit takes one off, the
 * status bit shows the request. */
static void intx_shared_line(void)
{
	CHECK_EQ(cfg_read(1, 0x3c) >> 8 & 0xff, 2);            /* INTB */
	CHECK_EQ(cfg_read(2, 0x3c) & 0xffff, 0x0112);          /* INTA, line 18 */
	CHECK_EQ(pci_intx_gsi(1, 2), 18);
	pci_set_intx(&fn, true);
	CHECK_EQ(line_level[18], 1);
	CHECK(cfg_read(1, 4) >> 16 & PCI_STATUS_INTX);
	CHECK(!(cfg_read(2, 4) >> 16 & PCI_STATUS_INTX));
	pci_set_intx(&fn2, true);
	pci_set_intx(&fn, false);
	CHECK_EQ(line_level[18], 1);                           /* fn2 still holds it */
	CHECK(!(cfg_read(1, 4) >> 16 & PCI_STATUS_INTX));
	cfg_write(2, 4, (cfg_read(2, 4) & 0xffff) | PCI_CMD_INTX_OFF);
	CHECK_EQ(line_level[18], 0);                           /* disabled: off the line */
	CHECK(cfg_read(2, 4) >> 16 & PCI_STATUS_INTX);         /* still asking */
	cfg_write(2, 4, cfg_read(2, 4) & 0xffff & ~PCI_CMD_INTX_OFF);
	CHECK_EQ(line_level[18], 1);
	pci_set_intx(&fn2, false);
	CHECK_EQ(line_level[18], 0);
	pci_set_intx(&fn2, false);                             /* twice: no underflow */
	pci_set_intx(&fn, true);
	CHECK_EQ(line_level[18], 1);
	pci_set_intx(&fn, false);
	CHECK_EQ(line_level[18], 0);
}

static void msix_written(struct pci_function *f, unsigned off, unsigned size)
{
	(void)f, (void)off, (void)size;
	msix_config_written(&msix);
}

int main(void)
{
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return 1;
	vm->vm_fd = -1;                                        /* MSIs fail quietly: no KVM */
	iobus_init(&vm->pio, "pio", 0x10000);
	iobus_init(&vm->mmio, "mmio", 0);
	if (pci_model.create(vm, &(struct device_params){ .base = 0xcf8 }))
		return 1;
	pci_init_header(&fn, 0x1234, 0x0001, 0xff0000, 0, 0, 0);
	fn.bar[0].size = 0x1000;
	fn.bar[2] = (struct pci_bar){ .size = 64, .io = true };
	iobus_init(&fn.bar[0].regions, "bar0", 0x1000);
	iobus_init(&fn.bar[2].regions, "bar2", 64);
	fn.opaque = &msix;
	if (iobus_register(&fn.bar[0].regions, 0x100, 0x40, &reg_ops, NULL, "regs") ||
	    msix_init(&msix, vm, &fn, 4, 0, 0x000, 0x800))
		return 1;
	fn.config_written = msix_written;
	fn.config[PCI_INTERRUPT_PIN] = 2;
	pci_init_header(&fn2, 0x1234, 0x0002, 0xff0000, 0, 0, 0);
	fn2.config[PCI_INTERRUPT_PIN] = 1;
	fn2.bar[0] = (struct pci_bar){ .size = 0x1000, .mem64 = true };
	iobus_init(&fn2.bar[0].regions, "bar0-64", 0x1000);
	if (iobus_register(&fn2.bar[0].regions, 0x20, 0x10, &reg_ops, NULL, "regs64"))
		return 1;
	vm->irq.split = true;                                  /* the lines reach record_line */
	vm->irq.ioapic.set_irq = record_line;
	if (pci_add_function(vm, &fn) || pci_add_function(vm, &fn2))
		return 1;
	RUN(empty_slots_and_host);
	RUN(bars_assigned_and_sized);
	RUN(decoding_follows_the_guest);
	RUN(capabilities);
	RUN(msix_table);
	RUN(ecam_matches_conf1);
	RUN(bar64_above_4g);
	RUN(intx_shared_line);
	return check_failures ? 1 : 0;
}
