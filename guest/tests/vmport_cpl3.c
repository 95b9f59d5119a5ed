/*
 * The backdoor from CPL 3 without I/O permission (IOPL 0, no I/O bitmap).
 * KVM raises #GP in the guest unless the host loaded it with
 * enable_vmware_backdoor=1; then the call is emulated and answered.  The
 * host test passes "expect=gp" or "expect=reply".
 */
#include "rt.h"

#define MAGIC 0x564d5868u

static volatile uint32_t reply_ebx;

static void user_backdoor(void)
{
	uint32_t eax = MAGIC, ebx = 0, ecx = 10, edx = 0x5658;

	__asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
	reply_ebx = ebx;
	__asm__ volatile("ud2");
}

void test_main(void)
{
	struct frame f;
	unsigned v = run_in_user_mode(user_backdoor, &f);

	kprintf("cpl3: user-mode backdoor call ended with vector %u at RIP 0x%llx, CS 0x%llx\n", v,
		(unsigned long long)f.rip, (unsigned long long)f.cs);
	GUEST_ASSERT_EQ(f.cs & 3, 3);
	if (cmdline_has("expect=gp")) {
		GUEST_ASSERT_EQ(v, 13);
		GUEST_ASSERT_EQ(reply_ebx, 0);
		kprintf("cpl3: #GP, as KVM does without enable_vmware_backdoor\n");
	} else {
		GUEST_ASSERT_EQ(v, 6);
		GUEST_ASSERT_EQ(reply_ebx, MAGIC);
		kprintf("cpl3: answered, as KVM does with enable_vmware_backdoor=1\n");
	}
}
