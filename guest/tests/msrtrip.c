/*
 * MSR round trip with the host (tests/host/state_test.c): the host sends
 * the runtime MSR list; the guest writes a distinctive value to each MSR
 * it may write and finds a second accepted value; it reports (index, v1,
 * v2) and waits; the host fetches the MSRs through queued work, checks v1,
 * writes v2 through the state engine and replies; the guest reads v2.
 */
#include "rt.h"

static const uint64_t candidates[] = {
	0x0007060504010006ull,     /* a valid PAT */
	0x0000123456789000ull,     /* canonical, page aligned */
	0x0000000012345000ull,
	0x000000000000a5a0ull,
	0x0000000000000010ull,
	0x0000000000000001ull,
};
#define NCAND (sizeof(candidates) / sizeof(candidates[0]))

static bool cpu_is_intel(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	return b == 0x756e6547;                    /* "Genu"ineIntel */
}

static bool accepts(uint32_t msr, uint64_t v)
{
	uint64_t back;

	/* AMD CPUs keep only the low half of SYSENTER_ESP/EIP, and KVM keeps
	 * the high half only for guests that say Intel; an emulated CPU that
	 * keeps more (QEMU's TCG) must not make the host's put look wrong. */
	if ((msr == 0x175 || msr == 0x176) && (v >> 32) && !cpu_is_intel())
		return false;
	return wrmsr_safe(msr, v) && rdmsr_safe(msr, &back) && back == v;
}

static struct { uint32_t msr; uint64_t v1, v2; } done[64];

void test_main(void)
{
	unsigned n = tc_recv(), ok = 0;

	for (unsigned i = 0; i < n && ok < 64; i++) {
		uint32_t msr = tc_recv();
		uint64_t orig;
		int first = -1, second = -1;

		if (!rdmsr_safe(msr, &orig))
			continue;
		for (unsigned c = 0; c < NCAND && second < 0; c++) {
			if (candidates[c] == orig || !accepts(msr, candidates[c]))
				continue;
			if (first < 0)
				first = (int)c;
			else
				second = (int)c;
		}
		if (second < 0) {
			wrmsr_safe(msr, orig);
			kprintf("msr 0x%x: no two test values accepted, left alone\n", msr);
			continue;
		}
		wrmsr(msr, candidates[first]);
		done[ok].msr = msr;
		done[ok].v1 = candidates[first];
		done[ok].v2 = candidates[second];
		ok++;
	}
	tc_send(ok);
	for (unsigned i = 0; i < ok; i++) {
		tc_send(done[i].msr);
		tc_send((uint32_t)done[i].v1);
		tc_send((uint32_t)(done[i].v1 >> 32));
		tc_send((uint32_t)done[i].v2);
		tc_send((uint32_t)(done[i].v2 >> 32));
	}
	kprintf("msrtrip: wrote %u MSRs, waiting for the host\n", ok);
	tc_stage(1);
	tc_wait_reply(1);
	for (unsigned i = 0; i < ok; i++) {
		uint64_t v = rdmsr(done[i].msr);

		if (v != done[i].v2)
			test_fail("MSR 0x%x reads 0x%llx, the host wrote 0x%llx", done[i].msr,
				  (unsigned long long)v, (unsigned long long)done[i].v2);
	}
	kprintf("msrtrip: the guest sees the host's %u values\n", ok);
}
