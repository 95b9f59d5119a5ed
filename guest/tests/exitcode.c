/* Writes a value to the debug-exit port with a given access size, both
 * from the command line: "value=V size=S". */
#include "rt.h"

void test_main(void)
{
	unsigned value = cmdline_uint("value="), size = cmdline_uint("size=");

	kprintf("exitcode: writing %u with size %u\n", value, size);
	if (size == 1)
		outb(0xf4, (uint8_t)value);
	else if (size == 2)
		outw(0xf4, (uint16_t)value);
	else
		outl(0xf4, value);
	test_fail("still running after the debug-exit write");
}
