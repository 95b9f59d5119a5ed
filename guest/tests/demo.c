/* The demo (make demo): what shrike does, in one run.  Every CPU comes up
 * through INIT/SIPI, asks the VMware backdoor for its version (a device
 * that reads and writes the vCPU's registers during an I/O exit: with
 * KVM_CAP_SYNC_REGS that costs shrike no ioctl), reads fw_cfg, and the
 * machine powers off.  Run with --stats (make demo does) to see the exits,
 * the state transfers and the ioctls per vCPU. */
#include "rt.h"

#define VMPORT_MAGIC 0x564d5868u

static volatile unsigned finished;

static uint32_t backdoor_version(uint32_t *ebx_out, uint32_t *ecx_out)
{
	uint32_t eax = VMPORT_MAGIC, ebx = ~VMPORT_MAGIC, ecx = 10, edx = 0x5658;

	__asm__ volatile("inl %%dx, %%eax" : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx));
	*ebx_out = ebx;
	*ecx_out = ecx;
	return eax;
}

static void cpu_work(unsigned cpu)
{
	uint32_t ebx = 0, ecx = 0, version = 0;

	for (int i = 0; i < 1000; i++)
		version = backdoor_version(&ebx, &ecx);
	kprintf("CPU %u (APIC ID %u): 1000 backdoor calls, version %u, magic %s, type %u\n", cpu,
		lapic_id(), version, ebx == VMPORT_MAGIC ? "ok" : "WRONG", ecx);
	__atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST);
}

void test_main(void)
{
	unsigned n = fw_cfg_cpu_count();

	kprintf("shrike demo: %u CPU(s), %llu MiB of RAM (from fw_cfg)\n", n,
		(unsigned long long)(fw_cfg_read_int(0x03, 8) >> 20));
	if (n > 1 && smp_start_aps(n, cpu_work) != n - 1)
		test_fail("application processors did not start");
	cpu_work(0);
	/* Generous: where each exit costs ~100 us (nested KVM under TCG) an
	 * AP can lag seconds behind; powering off under it would cut its line. */
	for (int i = 0; i < 60000 && finished < n; i++)
		delay_us(1000);
	if (finished < n)
		test_fail("%u of %u CPUs finished within 60 s", finished, n);
	kprintf("shrike demo: done; powering off\n");
}
