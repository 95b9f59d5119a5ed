/*
 * Every VMware backdoor command, through IN and OUT of 1, 2 and 4 bytes,
 * on two vCPUs at once, checking every register of each reply.  The
 * command line carries what the host set: "uuid=<32 hex digits>".
 * GETTIME is printed for the host test to compare with its clock; GETHZ is
 * compared here with the TSC frequency measured against the PIT.
 */
#include "rt.h"

#define MAGIC 0x564d5868u
#define PORT 0x5658

struct regs { uint32_t eax, ebx, ecx, edx, esi, edi; };

static struct regs call(bool out, unsigned size, uint32_t cmd)
{
	struct regs r = { MAGIC, 0x11111111, cmd, PORT, 0x22222222, 0x33333333 };

#define CALL(insn) __asm__ volatile(insn : "+a"(r.eax), "+b"(r.ebx), "+c"(r.ecx), "+d"(r.edx), \
					   "+S"(r.esi), "+D"(r.edi))
	if (!out && size == 1) CALL("inb %%dx, %%al");
	else if (!out && size == 2) CALL("inw %%dx, %%ax");
	else if (!out) CALL("inl %%dx, %%eax");
	else if (size == 1) CALL("outb %%al, %%dx");
	else if (size == 2) CALL("outw %%ax, %%dx");
	else CALL("outl %%eax, %%dx");
#undef CALL
	return r;
}

static uint8_t uuid[16];
static uint64_t ram_mib, tsc_hz;
static bool x2apic;
static volatile unsigned done_count;

static unsigned hexval(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

static void parse_uuid(const char *s)
{
	for (; *s; s++)
		if (s[0] == 'u' && s[1] == 'u' && s[2] == 'i' && s[3] == 'd' && s[4] == '=') {
			s += 5;
			for (unsigned i = 0; i < 16; i++)
				uuid[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
			return;
		}
	test_fail("no uuid= on the command line");
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

#define EXPECT(cond, ...) do { if (!(cond)) test_fail(__VA_ARGS__); } while (0)

static void check_all(unsigned cpu, bool out, unsigned size)
{
	const char *how = out ? "OUT" : "IN";
	struct regs r;
	uint64_t hz;

	r = call(out, size, 10);
	EXPECT(r.eax == 6 && r.ebx == MAGIC && r.ecx == 2 && r.edx == PORT,
	       "CPU %u %s%u GETVERSION: %x %x %x %x", cpu, how, size, r.eax, r.ebx, r.ecx, r.edx);
	r = call(out, size, 19);
	EXPECT(r.eax == le32(uuid) && r.ebx == le32(uuid + 4) && r.ecx == le32(uuid + 8) &&
	       r.edx == le32(uuid + 12), "CPU %u %s%u GETBIOSUUID: %x %x %x %x", cpu, how, size,
	       r.eax, r.ebx, r.ecx, r.edx);
	r = call(out, size, 20);
	EXPECT(r.eax == ram_mib && r.ebx == 0x1177 && r.ecx == 20,
	       "CPU %u %s%u GETMEMSIZE: %x %x", cpu, how, size, r.eax, r.ebx);
	r = call(out, size, 45);
	hz = r.eax | (uint64_t)r.ebx << 32;
	EXPECT(r.ebx != 0xffffffffu && r.ecx == 1000000000u, "CPU %u %s%u GETHZ: %x %x %x", cpu,
	       how, size, r.eax, r.ebx, r.ecx);
	EXPECT(hz > tsc_hz - tsc_hz / 100 && hz < tsc_hz + tsc_hz / 100,
	       "CPU %u GETHZ %llu Hz, PIT says %llu Hz", cpu, (unsigned long long)hz,
	       (unsigned long long)tsc_hz);
	r = call(out, size, 1);
	EXPECT(r.ebx == MAGIC && r.eax == (uint32_t)(hz / 1000000),
	       "CPU %u %s%u GETMHZ: %u (GETHZ %llu)", cpu, how, size, r.eax, (unsigned long long)hz);
	r = call(out, size, 23);
	EXPECT(r.eax > 1700000000u && r.ebx < 1000000 && r.ecx == 1000000,
	       "CPU %u %s%u GETTIME: %u %u %u", cpu, how, size, r.eax, r.ebx, r.ecx);
	{
		struct regs full = call(out, size, 46);
		uint64_t secs = full.edx | (uint64_t)full.esi << 32;

		EXPECT(full.eax == MAGIC && full.ebx < 1000000 && full.ecx == 1000000 &&
		       secs >= r.eax && secs <= (uint64_t)r.eax + 1,
		       "CPU %u %s%u GETTIMEFULL: %x %x %x %x %x", cpu, how, size, full.eax,
		       full.ebx, full.ecx, full.edx, full.esi);
	}
	r = call(out, size, 68);
	EXPECT(r.eax == (x2apic ? 8u : 0u) && !(r.eax & 0x80000000u),
	       "CPU %u %s%u GET_VCPU_INFO: %x", cpu, how, size, r.eax);
	r = call(out, size, 0x1234);
	EXPECT(r.eax == 0xffffffffu && r.ebx == 0x11111111 && r.esi == 0x22222222,
	       "CPU %u %s%u unknown command: %x %x", cpu, how, size, r.eax, r.ebx);
}

static void run_all(unsigned cpu)
{
	for (int round = 0; round < 5; round++)
		for (unsigned size = 1; size <= 4; size *= 2) {
			check_all(cpu, false, size);
			check_all(cpu, true, size);
		}
	__atomic_fetch_add(&done_count, 1, __ATOMIC_SEQ_CST);
}

void test_main(void)
{
	unsigned n = fw_cfg_cpu_count();
	uint32_t a, b, c, d;
	struct regs t;

	parse_uuid(mb_cmdline());
	ram_mib = fw_cfg_read_int(0x03, 8) >> 20;
	cpuid(1, 0, &a, &b, &c, &d);
	x2apic = c & (1u << 21);
	tsc_hz = tsc_hz_from_pit();
	kprintf("vmport: TSC measured against the PIT: %llu Hz\n", (unsigned long long)tsc_hz);
	if (n > 1 && smp_start_aps(n, run_all) != n - 1)
		test_fail("APs did not start");
	run_all(0);
	for (int i = 0; i < 10000 && done_count < n; i++)
		delay_us(1000);
	GUEST_ASSERT_EQ(done_count, n);
	t = call(false, 4, 23);
	kprintf("vmport: GETTIME %u.%06u\n", t.eax, t.ebx);
	kprintf("vmport: every command on %u CPUs, IN and OUT, sizes 1, 2, 4\n", n);
}
