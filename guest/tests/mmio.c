/* Hostile: touches unmapped MMIO (the 32-bit hole past PCI's ECAM window,
 * just past RAM, the HPET address) with every size, string instructions
 * and a page-crossing access.  Reads must return all ones; writes must
 * vanish. */
#include "rt.h"

static void probe(uint64_t a)
{
	volatile uint8_t *b = (volatile uint8_t *)a;
	volatile uint16_t *w = (volatile uint16_t *)a;
	volatile uint32_t *d = (volatile uint32_t *)a;
	volatile uint64_t *q = (volatile uint64_t *)a;

	GUEST_ASSERT_EQ(*b, 0xff);
	GUEST_ASSERT_EQ(*w, 0xffff);
	GUEST_ASSERT_EQ(*d, 0xffffffff);
	GUEST_ASSERT_EQ(*q, 0xffffffffffffffffull);
	*b = 0x12; *w = 0x1234; *d = 0x12345678; *q = 0x123456789abcdef0ull;
	GUEST_ASSERT_EQ(*d, 0xffffffff);
}

void test_main(void)
{
	static uint8_t buf[64];
	uint64_t ram = fw_cfg_read_int(0x03, 8);
	uint64_t addrs[] = { 0xc0100000, 0xd0000000, 0xfed00000, 0xfebff000, ram, ram + 0x1000 };

	for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		kprintf("mmio: probing 0x%llx\n", (unsigned long long)addrs[i]);
		probe(addrs[i]);
	}
	/* An 8-byte access across a page boundary (two MMIO exits). */
	GUEST_ASSERT_EQ(*(volatile uint64_t *)0xd0000ffcull, 0xffffffffffffffffull);
	/* String MMIO: rep movsb from and rep stosb to the hole. */
	{
		void *dst = buf;
		const void *src = (const void *)0xd0001000ull;
		uint64_t n = sizeof(buf);

		__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) :: "memory");
		for (unsigned i = 0; i < sizeof(buf); i++)
			GUEST_ASSERT_EQ(buf[i], 0xff);
		dst = (void *)0xd0002000ull;
		n = 64;
		__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0x5a) : "memory");
	}
	kprintf("mmio: survived\n");
}
