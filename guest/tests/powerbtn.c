/* The ACPI power button (QMP system_powerdown), as a guest with ACPI sees
 * it: PWRBTN_EN set in PM1_EN, the SCI (ISA IRQ 9, level, active high, as
 * the MADT says) routed through the IOAPIC; the handler finds PWRBTN_STS,
 * clears it and powers off (S5). */
#include "rt.h"

#define PM1_STS 0x600
#define PM1_EN  0x602
#define PWRBTN  (1u << 8)
#define SCI_VECTOR 0x50

static void sci(struct frame *f)
{
	uint16_t sts = inw(PM1_STS);

	(void)f;
	if (!(sts & PWRBTN))
		test_fail("SCI without PWRBTN_STS (0x%x)", sts);
	outw(PM1_STS, PWRBTN);                    /* write 1 to clear: the line drops */
	if (inw(PM1_STS) & PWRBTN)
		test_fail("PWRBTN_STS did not clear");
	kprintf("powerbtn: power button pressed, powering off\n");
	test_pass();
}

void test_main(void)
{
	set_handler(SCI_VECTOR, sci);
	lapic_enable();
	outw(PM1_STS, 0xffff);
	outw(PM1_EN, PWRBTN);
	ioapic_route(9, SCI_VECTOR, IOAPIC_LEVEL, lapic_id());
	irq_enable();
	kprintf("powerbtn: waiting for the power button\n");
	for (;;)
		__asm__ volatile("hlt");
}
