/* "calls=N" VMware backdoor GETVERSION calls, then debug-exit value 0x10
 * (status 33): the same kernel under shrike and QEMU for bench/. */
#include "rt.h"

#define MAGIC 0x564d5868u

void test_main(void)
{
	unsigned n = cmdline_uint("calls=");

	for (unsigned i = 0; i < n; i++) {
		uint32_t eax = MAGIC, ebx = 0, ecx = 10, edx = 0x5658;

		__asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
		if (ebx != MAGIC)
			guest_exit(0x11);
	}
	guest_exit(0x10);
}
