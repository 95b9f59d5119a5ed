/*
 * The 8259 pair (hw/pic.c) without KVM: what a guest cannot show
 * deterministically because KVM picks the moment of the acknowledge cycle
 * (spurious IRQ 7 and 15, poll mode), plus the basics.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/vm.h"
#include "hw/devices.h"

static struct vm *vm;

static void outb(uint16_t port, uint8_t v)
{
	iobus_write(&vm->pio, NULL, port, &v, 1);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0;

	iobus_read(&vm->pio, NULL, port, &v, 1);
	return v;
}

static void set_irq(unsigned irq, bool level)
{
	vm->irq.pic.set_irq(vm->irq.pic.opaque, irq, level);
}

static unsigned intack(void)
{
	return vm->irq.pic.intack(vm->irq.pic.opaque);
}

static bool output(void)
{
	return __atomic_load_n(&vm->irq.extint, __ATOMIC_ACQUIRE);
}

/* The PC BIOS / Linux initialization: master at 0x20, slave at 0x28. */
static void init_pics(uint8_t icw4)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, 0x20); outb(0xa1, 0x28);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, icw4); outb(0xa1, icw4);
	outb(0x21, 0x00); outb(0xa1, 0x00);
}

static void fresh(void)
{
	vm->devices[0].model->reset(vm->devices[0].opaque);
	init_pics(0x01);
}

static void basics(void)
{
	fresh();
	CHECK(!output());
	set_irq(3, true);
	CHECK(output());
	CHECK_EQ(inb(0x20), 0x08);                 /* IRR */
	CHECK_EQ(intack(), 0x23);
	outb(0x20, 0x0b);
	CHECK_EQ(inb(0x20), 0x08);                 /* ISR after the ack */
	CHECK(!output());
	set_irq(3, false);
	outb(0x20, 0x20);                          /* EOI */
	CHECK_EQ(inb(0x20), 0x00);
	outb(0x20, 0x0a);
}

static void priority_and_nesting(void)
{
	fresh();
	set_irq(5, true);
	CHECK_EQ(intack(), 0x25);                  /* 5 in service */
	set_irq(6, true);
	CHECK(!output());                          /* lower than 5: waits */
	set_irq(1, true);
	CHECK(output());                           /* higher: nests */
	CHECK_EQ(intack(), 0x21);
	outb(0x20, 0x20);                          /* non-specific: ends 1 */
	outb(0x20, 0x20);                          /* ends 5 */
	CHECK_EQ(intack(), 0x26);
	outb(0x20, 0x66);                          /* specific EOI for 6 */
	outb(0x20, 0x0b);
	CHECK_EQ(inb(0x20), 0);
	outb(0x20, 0x0a);
}

static void slave_cascade(void)
{
	fresh();
	set_irq(12, true);
	CHECK(output());
	CHECK_EQ(intack(), 0x2c);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	set_irq(12, false);
	/* Two slave requests: the second is presented after the first's ack. */
	set_irq(9, true);
	set_irq(11, true);
	CHECK_EQ(intack(), 0x29);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(output());
	CHECK_EQ(intack(), 0x2b);
}

/* A level request that goes away before the acknowledge: IRQ 7. */
static void spurious_master(void)
{
	fresh();
	outb(0x4d0, 0x08);                         /* IRQ 3 level-triggered */
	set_irq(3, true);
	CHECK(output());
	set_irq(3, false);                         /* withdrawn */
	CHECK(!output());
	CHECK_EQ(intack(), 0x27);                  /* the CPU still acknowledges */
	outb(0x20, 0x0b);
	CHECK_EQ(inb(0x20), 0x00);                 /* ISR bit 7 not set */
	outb(0x20, 0x0a);
	outb(0x4d0, 0x00);
}

/* The slave's request goes away, the master's cascade edge stays: 15. */
static void spurious_slave(void)
{
	fresh();
	outb(0x4d1, 0x02);                         /* IRQ 9 level-triggered */
	set_irq(9, true);
	set_irq(9, false);
	CHECK(output());                           /* master IRQ 2 latched */
	CHECK_EQ(intack(), 0x2f);
	outb(0xa0, 0x0b);
	CHECK_EQ(inb(0xa0), 0x00);                 /* nothing in service on the slave */
	outb(0xa0, 0x0a);
	outb(0x20, 0x20);                          /* the master's cascade EOI */
	outb(0x4d1, 0x00);
}

static void poll_mode(void)
{
	fresh();
	outb(0x20, 0x0c);                          /* OCW3 poll */
	CHECK_EQ(inb(0x20), 0x00);                 /* nothing */
	set_irq(4, true);
	outb(0x20, 0x0c);
	CHECK_EQ(inb(0x20), 0x84);
	outb(0x20, 0x20);
	set_irq(4, false);
}

static void auto_eoi_and_rotation(void)
{
	fresh();
	init_pics(0x03);                           /* auto-EOI */
	set_irq(0, true);
	CHECK_EQ(intack(), 0x20);
	outb(0x20, 0x0b);
	CHECK_EQ(inb(0x20), 0x00);                 /* nothing in service */
	outb(0x20, 0x0a);
	set_irq(0, false);
	init_pics(0x01);
	outb(0x20, 0xc4);                          /* set priority: 4 lowest, 5 highest */
	set_irq(3, true);
	set_irq(6, true);
	CHECK_EQ(intack(), 0x26);
	outb(0x20, 0x20);
	CHECK_EQ(intack(), 0x23);
	outb(0x20, 0x20);
}

static void elcr_masks(void)
{
	fresh();
	outb(0x4d0, 0xff);
	outb(0x4d1, 0xff);
	CHECK_EQ(inb(0x4d0), 0xf8);                /* IRQ 0-2 are edge-only */
	CHECK_EQ(inb(0x4d1), 0xde);                /* and 8, 13 */
	outb(0x4d0, 0);
	outb(0x4d1, 0);
}

int main(void)
{
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return 1;
	iobus_init(&vm->pio, "pio", 0x10000);
	vm->irq.split = true;
	if (pic_model.create(vm, &(struct device_params){ .base = 0x20 })) {
		printf("FAIL pic_test: create\n");
		return 1;
	}
	run_test("pic_ack_isr_eoi", basics);
	run_test("pic_priority_and_nesting", priority_and_nesting);
	run_test("pic_slave_cascade", slave_cascade);
	run_test("pic_spurious_irq7", spurious_master);
	run_test("pic_spurious_irq15", spurious_slave);
	run_test("pic_poll_mode", poll_mode);
	run_test("pic_auto_eoi_and_rotation", auto_eoi_and_rotation);
	run_test("pic_elcr_masks", elcr_masks);
	vm->devices[0].model->destroy(vm->devices[0].opaque);
	iobus_free(&vm->pio);
	free(vm);
	return check_failures ? 1 : 0;
}
