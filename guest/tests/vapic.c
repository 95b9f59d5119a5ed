/*
 * The vapic port 0x7e: an "option ROM" block (512-byte aligned) with the
 * "kvm aPiC" signature at offset 0x40 registers itself with a 16-bit OUT
 * from code inside the block; a block without the signature is refused;
 * then an 8-bit reactivation and a 32-bit poll.  The code after each OUT
 * must run exactly once (KVM advances RIP before this exit).
 */
#include "rt.h"

static uint8_t rom[2][1024] __attribute__((aligned(512)));

/* mov ax, 0x40; out 0x7e, ax; add ecx, 1; ret */
static const uint8_t stub[] = { 0x66, 0xb8, 0x40, 0x00, 0x66, 0xe7, 0x7e, 0x83, 0xc1, 0x01, 0xc3 };

static uint32_t run_stub(uint8_t *block)
{
	uint32_t ecx = 0;
	void *code = block + 0x100;

	for (unsigned i = 0; i < sizeof(stub); i++)
		block[0x100 + i] = stub[i];
	__asm__ volatile("call *%1" : "+c"(ecx) : "r"(code) : "rax", "memory");
	return ecx;
}

void test_main(void)
{
	const char sig[] = "kvm aPiC";

	for (unsigned i = 0; i < 8; i++)
		rom[0][0x40 + i] = (uint8_t)sig[i];
	kprintf("vapic: expecting the ROM state at 0x%llx\n", (unsigned long long)(uint64_t)&rom[0][0x40]);
	GUEST_ASSERT_EQ(run_stub(rom[0]), 1);
	GUEST_ASSERT_EQ(run_stub(rom[1]), 1);        /* no signature: refused */
	outb(0x7e, 0);                               /* reactivation */
	outl(0x7e, 0);                               /* IRQ poll */
	GUEST_ASSERT_EQ(inw(0x7e), 0xffff);
	kprintf("vapic: the guest resumed after each OUT\n");
}
