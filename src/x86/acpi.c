/*
 * ACPI tables for Linux guests: RSDP, XSDT, FADT (+ FACS), MADT, MCFG and a DSDT
 * with the S5 sleep state, built into one buffer that the loader places in
 * the reserved area below 1 MiB (ACPI_TABLES_ADDR).
 *
 * FADT: PM1a event block at 0x600, PM1a control at 0x604 and the PM timer
 * at 0x608 (hw/acpi_pm.c), SCI on IRQ 9, no SMI command port (ACPI is
 * always enabled), no CMOS century index games, "no VGA".  The DSDT holds
 * \_S5 = {0, 0}, matching what hw/acpi_pm.c treats as power-off, and the
 * PCI root \_SB.PCI0 with its windows (hw/pci.h), where Linux finds the
 * bus, and its interrupt routing (_PRT).
 * MCFG: PCI's ECAM window (hw/pci.h), bus 0.
 * MADT: one local APIC per vCPU (ID = index), the IOAPIC (ID = ncpus,
 * 0xFEC00000, GSI base 0), IRQ 0 -> GSI 2 and IRQ 9 level/active-high.
 */
#include "x86/acpi.h"

#include <string.h>


#define OEM_ID       "SHRIKE"
#define OEM_TABLE_ID "SHRIKEVM"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_gas {
	uint8_t space_id, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
} __attribute__((packed));

struct acpi_facs {
	char signature[4];
	uint32_t length, hardware_signature, firmware_waking_vector, global_lock, flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version, reserved[31];
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, processor_id, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address, gsi_base;
} __attribute__((packed));

struct madt_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_SLP_BUTTON    (1u << 5)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_TMR_VAL_EXT   (1u << 8)
#define BOOT_ARCH_8042     (1u << 1)
#define BOOT_ARCH_NO_VGA   (1u << 2)

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)-sum;
}

static void header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "SHRK", 4);
	h->creator_revision = 1;
}

static void finish_table(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bits)
{
	return (struct acpi_gas){ .space_id = 1, .bit_width = bits, .access_size = bits / 8 > 2 ? 3 : bits / 8,
				  .address = port };
}

/* ---- AML, as much as the DSDT needs ---- */

struct aml {
	uint8_t *p;
	size_t len;
};

static void emit(struct aml *a, const void *bytes, size_t n)
{
	memcpy(a->p + a->len, bytes, n);
	a->len += n;
}

static void emit_u8(struct aml *a, uint8_t v) { emit(a, &v, 1); }
static void emit_u16(struct aml *a, uint16_t v) { emit_u8(a, (uint8_t)v); emit_u8(a, (uint8_t)(v >> 8)); }
static void emit_u32(struct aml *a, uint32_t v) { emit_u16(a, (uint16_t)v); emit_u16(a, (uint16_t)(v >> 16)); }

/* Opcode bytes, a PkgLength, then the body (ACPI 6.4, 20.2.4). */
static void emit_pkg(struct aml *a, const char *op, size_t oplen, const struct aml *body)
{
	size_t v = body->len + 1;

	emit(a, op, oplen);
	if (v <= 63) {
		emit_u8(a, (uint8_t)v);
	} else if (body->len + 2 <= 0xfff) {
		v = body->len + 2;
		emit_u8(a, (uint8_t)(0x40 | (v & 0xf)));
		emit_u8(a, (uint8_t)(v >> 4));
	} else {
		v = body->len + 3;
		emit_u8(a, (uint8_t)(0x80 | (v & 0xf)));
		emit_u8(a, (uint8_t)(v >> 4));
		emit_u8(a, (uint8_t)(v >> 12));
	}
	emit(a, body->p, body->len);
}

/* Word and DWord address space descriptors (6.4.3.5): a producer range
 * with fixed minimum and maximum. */
static void word_range(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
	emit_u8(a, 0x88);
	emit_u16(a, 13);
	emit_u8(a, type);
	emit_u8(a, 0x0c);                      /* MinFixed, MaxFixed, PosDecode, producer */
	emit_u8(a, type_flags);
	emit_u16(a, 0);                        /* granularity */
	emit_u16(a, min);
	emit_u16(a, max);
	emit_u16(a, 0);                        /* translation */
	emit_u16(a, (uint16_t)(max - min + 1));
}

static void dword_memory(struct aml *a, uint32_t min, uint32_t max)
{
	emit_u8(a, 0x87);
	emit_u16(a, 23);
	emit_u8(a, 0);                         /* memory */
	emit_u8(a, 0x0c);
	emit_u8(a, 0x01);                      /* read-write, non-cacheable */
	emit_u32(a, 0);
	emit_u32(a, min);
	emit_u32(a, max);
	emit_u32(a, 0);
	emit_u32(a, max - min + 1);
}

/* The PCI root's resources: bus 0, the configuration ports, the I/O
 * space around them, the memory window where BARs decode. */
static void pci_crs(struct aml *a, const struct acpi_board *b)
{
	static const uint8_t conf_ports[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };

	word_range(a, 2, 0, 0, 0);              /* bus 0 only, as ECAM covers */
	emit(a, conf_ports, sizeof(conf_ports));
	word_range(a, 1, 0x03, 0x0000, 0x0cf7);
	word_range(a, 1, 0x03, 0x0d00, 0xffff);
	dword_memory(a, b->pci_mmio_base, b->pci_mmio_end - 1);
	emit_u8(a, 0x79);                      /* end tag, checksum 0 */
	emit_u8(a, 0);
}

static void name_int(struct aml *a, const char *name, uint32_t v)
{
	emit_u8(a, 0x08);
	emit(a, name, 4);
	emit_u8(a, 0x0c);                      /* DWordConst */
	emit_u32(a, v);
}

/* Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, 0, GSI }, ... }):
 * every slot's INTA-INTD straight to IOAPIC inputs (no link devices), by
 * the swizzle hw/pci.h wires; such interrupts are level-triggered and
 * active-low (ACPI 6.4, 6.2.13). */
static void pci_routing(struct aml *a, const struct acpi_board *b)
{
	uint8_t eb[16], lb[ACPI_MAX_PCI_SLOTS * 4 * 16];
	struct aml list = { lb, 0 };

	emit_u8(&list, (uint8_t)((b->pci_slots - 1) * 4));   /* NumElements */
	for (unsigned slot = 1; slot < b->pci_slots; slot++) {
		for (unsigned pin = 1; pin <= 4; pin++) {
			struct aml e = { eb, 0 };

			emit_u8(&e, 4);
			emit_u8(&e, 0x0c);             /* DWordConst: the slot, any function */
			emit_u32(&e, slot << 16 | 0xffff);
			emit_u8(&e, 0x0a);             /* ByteConst: the pin, 0 = INTA */
			emit_u8(&e, (uint8_t)(pin - 1));
			emit_u8(&e, 0x00);             /* Zero: no link device, a GSI */
			emit_u8(&e, 0x0a);
			emit_u8(&e, (uint8_t)b->intx_gsi(slot, pin));
			emit_pkg(&list, "\x12", 1, &e);
		}
	}
	emit_u8(a, 0x08);
	emit(a, "_PRT", 4);
	emit_pkg(a, "\x12", 1, &list);
}

/* Device (\_SB.PCI0) { _HID PNP0A03, _UID 0, _BBN 0, _CRS, _PRT } */
static void pci_root(struct aml *a, const struct acpi_board *b)
{
	uint8_t cb[256], bb[300], db[ACPI_MAX_PCI_SLOTS * 4 * 16 + 512];
	struct aml crs = { cb, 0 }, buf = { bb, 0 }, dev = { db, 0 };

	pci_crs(&crs, b);
	emit_u8(&buf, 0x0a);                   /* BufferSize: ByteConst */
	emit_u8(&buf, (uint8_t)crs.len);
	emit(&buf, crs.p, crs.len);
	emit(&dev, "PCI0", 4);
	name_int(&dev, "_HID", 0x030ad041);    /* EisaId ("PNP0A03") */
	name_int(&dev, "_UID", 0);
	name_int(&dev, "_BBN", 0);
	emit_u8(&dev, 0x08);
	emit(&dev, "_CRS", 4);
	emit_pkg(&dev, "\x11", 1, &buf);
	pci_routing(&dev, b);
	emit_pkg(a, "\x5b\x82", 2, &dev);
}

/* Device (\_SB.MRES) { _HID PNP0C02, _CRS { the ECAM window } }: a
 * motherboard resource, where Linux looks for the MCFG area once ACPI is
 * up (the E820 map reserves it for the early check). */
static void motherboard_resources(struct aml *a, const struct acpi_board *b)
{
	uint8_t cb[64], bb[80], db[160];
	struct aml crs = { cb, 0 }, buf = { bb, 0 }, dev = { db, 0 };

	dword_memory(&crs, (uint32_t)b->ecam_base, (uint32_t)(b->ecam_base + b->ecam_size - 1));
	crs.p[4] = 0x0d;                       /* a consumer, not a bridge's window */
	emit_u8(&crs, 0x79);
	emit_u8(&crs, 0);
	emit_u8(&buf, 0x0a);
	emit_u8(&buf, (uint8_t)crs.len);
	emit(&buf, crs.p, crs.len);
	emit(&dev, "MRES", 4);
	name_int(&dev, "_HID", 0x020cd041);    /* EisaId ("PNP0C02") */
	name_int(&dev, "_UID", 1);
	emit_u8(&dev, 0x08);
	emit(&dev, "_CRS", 4);
	emit_pkg(&dev, "\x11", 1, &buf);
	emit_pkg(a, "\x5b\x82", 2, &dev);
}

/* DSDT: Name (_S5, Package () { 0, 0 }) and Scope (\_SB) { PCI0, MRES }. */
static size_t build_dsdt(uint8_t *p, const struct acpi_board *b)
{
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00 };
	struct acpi_header *h = (struct acpi_header *)p;
	uint8_t sb[ACPI_MAX_PCI_SLOTS * 4 * 16 + 1024];
	struct aml body = { p + sizeof(*h), 0 }, scope = { sb, 0 };

	emit(&body, s5, sizeof(s5));
	emit(&scope, "\\_SB_", 5);
	pci_root(&scope, b);
	motherboard_resources(&scope, b);
	emit_pkg(&body, "\x10", 1, &scope);
	header(h, "DSDT", (uint32_t)(sizeof(*h) + body.len), 2);
	finish_table(h);
	return h->length;
}

static size_t build_fadt(uint8_t *p, uint64_t facs, uint64_t dsdt, const struct acpi_board *b)
{
	struct acpi_fadt *f = (struct acpi_fadt *)p;

	memset(f, 0, sizeof(*f));
	header(&f->h, "FACP", sizeof(*f), 3);     /* the ACPI 2.0 layout, 244 bytes */
	f->firmware_ctrl = (uint32_t)facs;
	f->dsdt = (uint32_t)dsdt;
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->sci_int = b->sci_irq;
	f->pm1a_evt_blk = b->pm_base;
	f->pm1a_cnt_blk = b->pm_base + 4u;
	f->pm_tmr_blk = b->pm_base + 8u;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = 101;                  /* > 100: no C2 */
	f->p_lvl3_lat = 1001;                 /* > 1000: no C3 */
	f->century = 0x32;
	f->iapc_boot_arch = BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA;
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_TMR_VAL_EXT |
		   FADT_RESET_REG_SUP;
	f->reset_reg = io_gas(0xcf9, 8);
	f->reset_value = 0x06;
	f->minor_version = 0;
	f->x_pm1a_evt_blk = io_gas(b->pm_base, 32);
	f->x_pm1a_cnt_blk = io_gas((uint16_t)(b->pm_base + 4), 16);
	f->x_pm_tmr_blk = io_gas((uint16_t)(b->pm_base + 8), 32);
	finish_table(&f->h);
	return sizeof(*f);
}

static size_t build_madt(uint8_t *p, unsigned ncpus, const struct acpi_board *b)
{
	struct acpi_header *h = (struct acpi_header *)p;
	uint8_t *q = p + sizeof(*h);
	uint32_t lapic_addr = 0xfee00000, flags = 1;   /* PCAT_COMPAT: 8259s present */
	struct madt_ioapic io = { 1, sizeof(io), (uint8_t)ncpus, 0, b->ioapic_base, 0 };
	struct madt_override irq0 = { 2, sizeof(irq0), 0, 0, 2, 0 };
	struct madt_override sci = { 2, sizeof(sci), 0, b->sci_irq, b->sci_irq, 0x000d };  /* level, active high */

	memcpy(q, &lapic_addr, 4);
	memcpy(q + 4, &flags, 4);
	q += 8;
	for (unsigned i = 0; i < ncpus; i++) {
		struct madt_lapic l = { 0, sizeof(l), (uint8_t)i, (uint8_t)i, 1 };

		memcpy(q, &l, sizeof(l));
		q += sizeof(l);
	}
	memcpy(q, &io, sizeof(io));
	q += sizeof(io);
	memcpy(q, &irq0, sizeof(irq0));
	q += sizeof(irq0);
	memcpy(q, &sci, sizeof(sci));
	q += sizeof(sci);
	header(h, "APIC", (uint32_t)(q - p), 4);
	finish_table(h);
	return h->length;
}

/* MCFG (PCI Firmware 3.2, 4.1.2): one ECAM range, segment 0, bus 0. */
static size_t build_mcfg(uint8_t *p, const struct acpi_board *b)
{
	struct acpi_header *h = (struct acpi_header *)p;
	uint8_t *e = p + sizeof(*h) + 8;       /* 8 reserved bytes */
	uint64_t base = b->ecam_base;

	memset(p + sizeof(*h), 0, 8 + 16);
	memcpy(e, &base, 8);                   /* segment 0 at e + 8, buses 0..0 */
	e[10] = 0;
	e[11] = (uint8_t)((b->ecam_size >> 20) - 1);
	header(h, "MCFG", (uint32_t)(sizeof(*h) + 8 + 16), 1);
	finish_table(h);
	return h->length;
}

static size_t align16(size_t v)
{
	return (v + 15) & ~(size_t)15;
}

size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, unsigned ncpus,
		  const struct acpi_board *b)
{
	size_t off_rsdp = 0, off_xsdt, off_fadt, off_facs, off_dsdt, off_madt, off_mcfg, end;
	struct acpi_rsdp *rsdp = (struct acpi_rsdp *)buf;
	struct acpi_header *xsdt;
	uint64_t entries[3];

	if (ncpus > ACPI_MAX_CPUS || cap < ACPI_TABLES_SIZE || b->pci_slots > ACPI_MAX_PCI_SLOTS ||
	    !b->pci_slots)
		return 0;
	memset(buf, 0, cap);
	off_xsdt = align16(off_rsdp + sizeof(*rsdp));
	off_fadt = align16(off_xsdt + sizeof(struct acpi_header) + sizeof(entries));
	off_facs = (off_fadt + sizeof(struct acpi_fadt) + 63) & ~(size_t)63;   /* 64-byte aligned */
	off_dsdt = align16(off_facs + sizeof(struct acpi_facs));
	off_madt = align16(off_dsdt + build_dsdt(buf + off_dsdt, b));
	off_mcfg = align16(off_madt + build_madt(buf + off_madt, ncpus, b));
	end = off_mcfg + build_mcfg(buf + off_mcfg, b);
	if (end > cap)
		return 0;
	{
		struct acpi_facs *facs = (struct acpi_facs *)(buf + off_facs);

		memcpy(facs->signature, "FACS", 4);
		facs->length = sizeof(*facs);
		facs->version = 2;
	}
	build_fadt(buf + off_fadt, base + off_facs, base + off_dsdt, b);
	xsdt = (struct acpi_header *)(buf + off_xsdt);
	entries[0] = base + off_fadt;
	entries[1] = base + off_madt;
	entries[2] = base + off_mcfg;
	header(xsdt, "XSDT", (uint32_t)(sizeof(*xsdt) + sizeof(entries)), 1);
	memcpy(buf + off_xsdt + sizeof(*xsdt), entries, sizeof(entries));
	finish_table(xsdt);
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = base + off_xsdt;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->extended_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	return end;
}
