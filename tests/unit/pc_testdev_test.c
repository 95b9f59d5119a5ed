/*
 * QEMU's pc-testdev (hw/pc_testdev.c) without KVM: the scratch register's
 * byte lanes through both windows, the MMIO window's edges and what lies
 * past them, IRQ line numbers as the irqchip sees them (ISA 0 is IOAPIC
 * pin 2; 16..23 reach the IOAPIC's upper pins; past 23 nothing; a wide
 * write is split into bytes), and
 * flushes of RAM and of addresses that are not RAM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/vm.h"
#include "hw/devices.h"

static struct vm *vm;
static int last_pin = -1, last_level = -1, pin_calls;

static void record_pin(void *chip, unsigned pin, bool level)
{
	(void)chip;
	last_pin = (int)pin;
	last_level = level;
	pin_calls++;
}

static uint64_t pio_in(uint16_t port, unsigned size)
{
	uint64_t v = 0;

	iobus_read(&vm->pio, NULL, port, &v, size);
	return v;
}

static void pio_out(uint16_t port, uint64_t v, unsigned size)
{
	iobus_write(&vm->pio, NULL, port, &v, size);
}

static uint64_t mmio_in(uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	iobus_read(&vm->mmio, NULL, addr, &v, size);
	return v;
}

static void mmio_out(uint64_t addr, uint64_t v, unsigned size)
{
	iobus_write(&vm->mmio, NULL, addr, &v, size);
}

static void scratch_lanes(void)
{
	pio_out(0xe0, 0x12345678, 4);
	CHECK_EQ(pio_in(0xe1, 1), 0x56);
	CHECK_EQ(pio_in(0xe2, 2), 0x1234);
	pio_out(0xe3, 0xaa, 1);
	CHECK_EQ(pio_in(0xe0, 4), 0xaa345678);
	CHECK_EQ(pio_in(0xe8, 4), 0xaa345678);      /* the byte window: the same register */
	pio_out(0xea, 0xbeef, 2);
	CHECK_EQ(pio_in(0xe0, 4), 0xbeef5678);
	CHECK_EQ(pio_in(0xeb, 1), 0xbe);
}

static void mmio_edges(void)
{
	mmio_out(0xff000000, 0x1122334455667788ull, 8);
	CHECK_EQ(mmio_in(0xff000000, 8), 0x1122334455667788ull);
	CHECK_EQ(mmio_in(0xff000003, 1), 0x55);
	mmio_out(0xff00fffc, 0xcafef00d, 4);
	CHECK_EQ(mmio_in(0xff00fffc, 4), 0xcafef00d);
	CHECK_EQ(mmio_in(0xff00ffff, 1), 0xca);
	/* Past the window: unassigned (all ones), and nothing written. */
	mmio_out(0xff010000, 0x5a, 1);
	CHECK_EQ(mmio_in(0xff010000, 1), 0xff);
}

static void irq_lines(void)
{
	pio_out(0x2005, 1, 1);
	CHECK_EQ(last_pin, 5);
	CHECK_EQ(last_level, 1);
	pio_out(0x2005, 0, 1);
	CHECK_EQ(last_level, 0);
	pio_out(0x2000, 7, 1);                      /* any non-zero value raises */
	CHECK_EQ(last_pin, 2);
	CHECK_EQ(last_level, 1);
	pio_out(0x2017, 1, 1);
	CHECK_EQ(last_pin, 23);
	pin_calls = 0;
	pio_out(0x2018, 1, 1);                      /* past the 24 lines */
	CHECK_EQ(pin_calls, 0);
	/* The lines are bytes: a wider write is split (as QEMU's memory core
	 * splits a KVM exit), each byte setting its own line. */
	pio_out(0x2003, 0x0100, 2);
	CHECK_EQ(pin_calls, 2);
	CHECK_EQ(last_pin, 4);
	CHECK_EQ(last_level, 1);
}

static void flushes(void)
{
	uint8_t *page = gpa_to_hva(&vm->mem, 0x3000, 4096);

	CHECK(page != NULL);
	memset(page, 0x6b, 4096);
	pio_out(0xe4, 0x3123, 4);                   /* any address within the page */
	CHECK_EQ(page[0], 0x6b);
	CHECK_EQ(page[4095], 0x6b);
	page[17] = 1;                               /* still writable */
	CHECK_EQ(page[17], 1);
	pio_out(0xe4, 0xfffff000u, 4);              /* not RAM: ignored */
	pio_out(0xe4, 0x3000, 2);                   /* not a 32-bit write: invalid */
	CHECK_EQ(page[0], 0x6b);
}

static void reset_clears(void)
{
	pio_out(0xe0, 0xffffffff, 4);
	mmio_out(0xff000010, 0xff, 1);
	pc_testdev_model.reset(vm->devices[0].opaque);
	CHECK_EQ(pio_in(0xe0, 4), 0);
	CHECK_EQ(mmio_in(0xff000010, 1), 0);
}

int main(void)
{
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return 1;
	iobus_init(&vm->pio, "pio", 0x10000);
	iobus_init(&vm->mmio, "mmio", 0);
	vm->irq.split = true;
	vm->irq.ioapic.set_irq = record_pin;
	if (guest_mem_init(&vm->mem, 1u << 20) ||
	    pc_testdev_model.create(vm, &(struct device_params){ .base = 0xe0 })) {
		printf("FAIL pc_testdev_test: create\n");
		return 1;
	}
	RUN(scratch_lanes);
	RUN(mmio_edges);
	RUN(irq_lines);
	RUN(flushes);
	RUN(reset_clears);
	vm->devices[0].model->destroy(vm->devices[0].opaque);
	guest_mem_free(&vm->mem);
	iobus_free(&vm->mmio);
	iobus_free(&vm->pio);
	free(vm);
	return check_failures ? 1 : 0;
}
