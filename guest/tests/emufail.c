/* Executes an instruction that KVM's instruction emulator does not know
 * (popcnt).  Where KVM emulates every CPL 0 instruction (kvm_pvm) this
 * ends in KVM_EXIT_INTERNAL_ERROR; on hardware virtualization popcnt runs
 * natively and the kernel says so with exit value 0x20. */
#include "rt.h"

void test_main(void)
{
	uint64_t v = 0xf0f0;

	kprintf("emufail: executing popcnt\n");
	__asm__ volatile("popcnt %0, %0" : "+r"(v));
	kprintf("emufail: popcnt executed natively (result %llu)\n", (unsigned long long)v);
	guest_exit(0x20);
}
