/* "calls=N" VMware backdoor GETVERSION calls, then debug-exit value 0x10
 * (status 33): the same kernel under shrike and QEMU for bench/. */
#include "rt.h"

#define MAGIC 0x564d5868u

void test_main(void)
{
	const char *s = mb_cmdline();
	unsigned n = 0;

	for (; *s; s++)
		if (s[0] == 'c' && s[1] == 'a' && s[2] == 'l' && s[3] == 'l' && s[4] == 's' && s[5] == '=') {
			for (s += 6; *s >= '0' && *s <= '9'; s++)
				n = n * 10 + (unsigned)(*s - '0');
			break;
		}
	for (unsigned i = 0; i < n; i++) {
		uint32_t eax = MAGIC, ebx = 0, ecx = 10, edx = 0x5658;

		__asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
		if (ebx != MAGIC)
			guest_exit(0x11);
	}
	guest_exit(0x10);
}
