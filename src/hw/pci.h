/*
 * The PCI bus of the PC (hw/pci.c): configuration mechanism #1 at
 * 0xCF8/0xCFC and ECAM (memory-mapped configuration, 4 KiB per function,
 * described to the guest by ACPI's MCFG table and reserved in the E820
 * map), a host bridge at 00:00.0, and up to 31 more functions on bus 0,
 * one per slot.  Both mechanisms reach the same configuration spaces; the
 * 3.75 KiB of extended space past each function's 256 bytes read as all
 * ones (conventional PCI functions have none).  A device fills a struct pci_function (its configuration
 * header, which bits the guest may write, its BARs and their regions) and
 * adds it with pci_add_function() while the machine is built.
 *
 * shrike has no firmware: the bus assigns every BAR itself, in its windows
 * (memory 0xE0000000-0xFBFFFFFF, 64-bit BARs too; I/O 0xC000-0xFFFF),
 * aligned to its size, and enables decoding, as SeaBIOS would.  A guest may
 * move a BAR (the sizing protocol, all ones, works on every BAR); the bus
 * decodes a BAR wherever the guest puts it that is not RAM or the
 * chipset's (below), and not at all while the command register turns
 * decoding off.  Accesses reach the
 * BAR's own regions (a small iobus per BAR, with the usual size contracts).
 *
 * INTx: a function with an interrupt pin (INTA, set before adding it) is
 * wired to an IOAPIC input by the swizzle the DSDT's _PRT describes,
 * GSI 16 + (slot + pin) % 8, level-triggered; functions that share a GSI
 * hold it up together (the line is the OR of them).  The command
 * register's Interrupt Disable bit takes a function off its line, and
 * the status register's Interrupt Status bit shows its request.
 */
#ifndef SHRIKE_PCI_H
#define SHRIKE_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/iobus.h"
#include "base/memory.h"

struct vm;
struct snap_writer;
struct snap_reader;

#define PCI_MMIO_BASE   0xe0000000ull
#define PCI_MMIO_END    0xfc000000ull
/* Where else a memory BAR decodes, as a PC's chipset forwards to PCI
 * what is neither RAM nor its own (a guest without ACPI's windows, Linux
 * with pci=noacpi, moves BARs there): the 32-bit space from the end of
 * low RAM to the IOAPIC (ECAM's megabyte aside), and for a 64-bit BAR the
 * space from 4 GiB to 1 TiB (RAM there never exits to shrike). */
#define PCI_HOLE_END    0xfec00000ull
#define PCI_MMIO64_BASE MEM_HIGH_BASE
#define PCI_MMIO64_END  (1ull << 40)
#define PCI_WINDOWS     6
#define PCI_IO_BASE     0xc000u
#define PCI_IO_END      0x10000u
#define PCI_ECAM_BASE   MEM_ECAM_BASE   /* bus 0 only: 1 MiB */
#define PCI_ECAM_SIZE   MEM_ECAM_SIZE
#define PCI_SLOTS       32
#define PCI_CONFIG_SIZE 256

/* Configuration header offsets and bits (PCI Local Bus 3.0). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION       0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CLASS_DEVICE   0x0a
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_CMD_IO         0x0001
#define PCI_CMD_MEMORY     0x0002
#define PCI_CMD_MASTER     0x0004
#define PCI_CMD_INTX_OFF   0x0400
#define PCI_STATUS_INTX    0x0008
#define PCI_STATUS_CAPS    0x0010
#define PCI_CAP_ID_MSIX    0x11
#define PCI_CAP_ID_VENDOR  0x09
#define PCI_INTX_GSI_BASE  16
#define PCI_INTX_GSIS      8

struct pci_bar {
	uint64_t size;             /* a power of two, at least 16 (memory) or 4 (I/O); 0: none */
	bool io, mem64, prefetch;
	struct iobus regions;      /* the BAR's registers, at offsets from its start */
};

struct pci_function {
	const char *name;
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];   /* bits the guest may write */
	uint8_t at_reset[PCI_CONFIG_SIZE];/* the header as shrike set it up */
	unsigned cap_end;                 /* where the next capability goes (0: 0x40) */
	struct pci_bar bar[6];
	unsigned slot;                    /* set by pci_add_function */
	struct pci_bus *bus;
	void *opaque;
	/* After the guest wrote [off, off + size) of the configuration
	 * space (MSI-X enable, for instance); optional.  Under the bus lock. */
	void (*config_written)(struct pci_function *f, unsigned off, unsigned size);
	/* INTx, under the bus's intx_lock: what the device asks for, whether
	 * the command register lets it through, and what it holds up now. */
	bool intx_request, intx_disabled, intx_on;
};

/* A stretch of address space the bus decodes BARs in (an iobus region). */
struct pci_window {
	struct pci_bus *bus;
	uint64_t base, end;
	bool io;
};

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;             /* the functions' configuration spaces */
	struct pci_function host;
	struct pci_function *fn[PCI_SLOTS];
	struct pci_window window[PCI_WINDOWS];
	unsigned nwindows;
	uint64_t next_mmio;
	uint32_t next_io;
	uint32_t address;                 /* 0xCF8 */
	uint8_t rcr;                      /* 0xCF9 */
	/* The INTx lines; taken last (under the bus, device and MSI-X locks),
	 * nothing is taken under it but the interrupt controller's. */
	pthread_mutex_t intx_lock;
	unsigned intx_holders[PCI_INTX_GSIS];
};

/* Begins a type 0 header: IDs, class, header type; the BARs' sizes and
 * kinds go in f->bar before pci_add_function(). */
void pci_init_header(struct pci_function *f, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
		     uint16_t subsys_id);

/* Adds a capability of `len` bytes (its ID first) to the list; returns its
 * offset, 0 if the space is full.  wmask stays the device's to set. */
unsigned pci_add_capability(struct pci_function *f, uint8_t id, unsigned len);

/* Places a function in the next free slot of the VM's bus and assigns its
 * BARs.  0, or -1 (no bus, no slot, no room in a window). */
int pci_add_function(struct vm *vm, struct pci_function *f);

/* The GSI that pin (1 = INTA .. 4 = INTD) of a slot is wired to. */
static inline unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_INTX_GSIS;
}

/* The device raises (true) or lowers its INTx request.  Any thread, any
 * lock of the function's own held; a function without a pin, or not on a
 * bus yet, is ignored. */
void pci_set_intx(struct pci_function *f, bool level);

/* A function's configuration space in a device's snapshot section, and
 * back: only the bits the guest may write are taken from the file (the
 * rest stays as shrike built it), then the function's hooks see the
 * whole space written.  0, or -1 if the reader ran short. */
void pci_config_save(struct pci_function *f, struct snap_writer *w);
int pci_config_load(struct pci_function *f, struct snap_reader *r);

/* The address a BAR decodes now (0 when decoding is off or it lies outside
 * the bus's windows). */
uint64_t pci_bar_address(struct pci_function *f, unsigned bar);

static inline uint16_t pci_get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t pci_get32(const uint8_t *p) { return pci_get16(p) | (uint32_t)pci_get16(p + 2) << 16; }
static inline void pci_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void pci_put32(uint8_t *p, uint32_t v) { pci_put16(p, (uint16_t)v); pci_put16(p + 2, (uint16_t)(v >> 16)); }

#endif
