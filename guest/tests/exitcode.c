/* Writes a value to the debug-exit port with a given access size, both
 * from the command line: "value=V size=S". */
#include "rt.h"

static unsigned arg(const char *s, const char *key)
{
	unsigned v = 0;

	for (; *s; s++) {
		const char *k = key, *p = s;

		while (*k && *p == *k) {
			k++;
			p++;
		}
		if (!*k) {
			for (; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (unsigned)(*p - '0');
			return v;
		}
	}
	return 0;
}

void test_main(void)
{
	const char *cmd = mb_cmdline();
	unsigned value = arg(cmd, "value="), size = arg(cmd, "size=");

	kprintf("exitcode: writing %u with size %u\n", value, size);
	if (size == 1)
		outb(0xf4, (uint8_t)value);
	else if (size == 2)
		outw(0xf4, (uint16_t)value);
	else
		outl(0xf4, value);
	test_fail("still running after the debug-exit write");
}
