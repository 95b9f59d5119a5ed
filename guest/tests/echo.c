/* Serial input with its interrupt: IRQ 4 through the IOAPIC to vector
 * 0x24; the handler echoes received bytes in upper case.  Ends at a
 * newline (or after "timeout" seconds without one). */
#include "rt.h"

#define COM1 0x3f8

static volatile bool done;
static volatile unsigned received;

static void com1_irq(struct frame *f)
{
	(void)f;
	(void)inb(COM1 + 2);                       /* IIR */
	while (inb(COM1 + 5) & 1) {
		char c = (char)inb(COM1);

		received++;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		kprintf("%c", c);
		if (c == '\n')
			done = true;
	}
}

void test_main(void)
{
	lapic_enable();
	set_handler(0x24, com1_irq);
	ioapic_route(4, 0x24, 0, 0);               /* fixed, physical, edge, APIC 0 */
	outb(COM1 + 1, 0x01);                      /* IER: received data */
	outb(COM1 + 4, 0x08);                      /* MCR: OUT2 */
	kprintf("echo: ready\n");
	while (!done)
		wait_for_irq();
	kprintf("echo: %u bytes by interrupt\n", received);
}
