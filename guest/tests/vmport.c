/* The VMware backdoor from the guest: GETVERSION through IN and OUT of
 * every size, the full 32-bit reply in every register; a wrong magic
 * changes nothing; an unknown command answers EAX = 0xFFFFFFFF.  With
 * "calls=N" it also makes N calls (for traces). */
#include "rt.h"

#define MAGIC 0x564d5868u
#define PORT 0x5658

struct regs { uint32_t eax, ebx, ecx, edx; };

static struct regs call_in(unsigned size, uint32_t eax, uint32_t ecx)
{
	struct regs r = { eax, ~MAGIC, ecx, PORT };

	if (size == 1)
		__asm__ volatile("inb %%dx, %%al" : "+a"(r.eax), "+b"(r.ebx), "+c"(r.ecx), "+d"(r.edx));
	else if (size == 2)
		__asm__ volatile("inw %%dx, %%ax" : "+a"(r.eax), "+b"(r.ebx), "+c"(r.ecx), "+d"(r.edx));
	else
		__asm__ volatile("inl %%dx, %%eax" : "+a"(r.eax), "+b"(r.ebx), "+c"(r.ecx), "+d"(r.edx));
	return r;
}

static struct regs call_out(unsigned size, uint32_t eax, uint32_t ecx)
{
	struct regs r = { eax, ~MAGIC, ecx, PORT };

	if (size == 1)
		__asm__ volatile("outb %%al, %%dx" : "+a"(r.eax), "+b"(r.ebx), "+c"(r.ecx), "+d"(r.edx));
	else if (size == 2)
		__asm__ volatile("outw %%ax, %%dx" : "+a"(r.eax), "+b"(r.ebx), "+c"(r.ecx), "+d"(r.edx));
	else
		__asm__ volatile("outl %%eax, %%dx" : "+a"(r.eax), "+b"(r.ebx), "+c"(r.ecx), "+d"(r.edx));
	return r;
}

void test_main(void)
{
	unsigned calls = cmdline_uint("calls=");

	for (unsigned size = 1; size <= 4; size *= 2) {
		struct regs r = call_in(size, MAGIC, 10);

		if (r.eax != 6 || r.ebx != MAGIC || r.ecx != 2)
			test_fail("IN size %u: eax 0x%x ebx 0x%x ecx 0x%x", size, r.eax, r.ebx, r.ecx);
		r = call_out(size, MAGIC, 10);
		if (r.eax != 6 || r.ebx != MAGIC || r.ecx != 2)
			test_fail("OUT size %u: eax 0x%x ebx 0x%x ecx 0x%x", size, r.eax, r.ebx, r.ecx);
		/* Wrong magic: no register changes; IN reads all ones. */
		r = call_in(size, 0x12345678, 10);
		GUEST_ASSERT_EQ(r.ebx, ~MAGIC);
		GUEST_ASSERT_EQ(r.ecx, 10);
		GUEST_ASSERT_EQ(r.eax, size == 4 ? 0xffffffffu : size == 2 ? 0x1234ffffu : 0x123456ffu);
		/* Unknown command. */
		r = call_in(size, MAGIC, 0xfff0);
		GUEST_ASSERT_EQ(r.eax, 0xffffffffu);
		kprintf("vmport: IN and OUT of size %u deliver the full reply\n", size);
	}
	for (unsigned i = 0; i < calls; i++) {
		struct regs r = call_in(4, MAGIC, 10);

		GUEST_ASSERT_EQ(r.ebx, MAGIC);
	}
	if (calls)
		kprintf("vmport: %u more calls done\n", calls);
}
