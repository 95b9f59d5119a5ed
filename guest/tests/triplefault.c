/* Hostile: an empty IDT, then an invalid opcode: #UD cannot be delivered,
 * nor #DF, so the CPU shuts down (a triple fault). */
#include "rt.h"

void test_main(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	kprintf("triplefault: loading an empty IDT and executing ud2\n");
	__asm__ volatile("lidt %0\n\tud2" :: "m"(empty));
	test_fail("still running after a triple fault");
}
