/*
 * A guest-side fuzzer: both vCPUs write random values of random sizes to
 * every device port shrike has (and to random ports), read them back, and
 * run string I/O with random counts, while the boot CPU requests a reset
 * now and then (and random writes to 0xCF9 or the i8042 request more).
 * Each boot prints "portfuzz: boot" first; the host counts boots and ends
 * the run.  Only the power-off and debug-exit bits are kept out: those end
 * the VM, which is defined behaviour but ends the fuzzing too.
 *   seed=N   the random sequence (default: the TSC)
 */
#include "rt.h"

/* Every port a device of shrike's answers on (both irqchip modes). */
static const uint16_t device_ports[] = {
	0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1,            /* 8259 pair, ELCR */
	0x40, 0x41, 0x42, 0x43, 0x61,                    /* PIT, port B */
	0x60, 0x64,                                      /* i8042 */
	0x70, 0x71,                                      /* RTC/CMOS */
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,   /* COM1 */
	0x510, 0x511, 0x514,                             /* fw_cfg */
	0x600, 0x601, 0x602, 0x603, 0x608, 0x609,        /* ACPI PM (not PM1 control) */
	0xcf8, 0xcf9, 0xcfc,                             /* PCI address, reset control */
	0x5658, 0x7e,                                    /* VMware backdoor, vapic */
};

static volatile bool ap_go;

static uint64_t next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint16_t pick_port(uint64_t r)
{
	if (r & 3)
		return device_ports[(r >> 2) % (sizeof(device_ports) / sizeof(device_ports[0]))];
	return (uint16_t)(r >> 8);
}

/* Ports whose writes end the VM: the debug-exit port, PM1 control. */
static bool ends_vm(uint16_t port, unsigned size)
{
	return (port <= 0xf7 && port + size > 0xf4) || (port <= 0x605 && port + size > 0x604);
}

static void string_io(uint64_t r, uint16_t port)
{
	static uint8_t buf[2][256];
	uint8_t *b = buf[lapic_id() & 1];
	uint64_t n = (r >> 32) % 64 + 1;
	void *p = b;

	switch ((r >> 16) % 6) {
	case 0: __asm__ volatile("rep insb" : "+D"(p), "+c"(n) : "d"(port) : "memory"); break;
	case 1: __asm__ volatile("rep insw" : "+D"(p), "+c"(n) : "d"(port) : "memory"); break;
	case 2: __asm__ volatile("rep insl" : "+D"(p), "+c"(n) : "d"(port) : "memory"); break;
	case 3: __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(port) : "memory"); break;
	case 4: __asm__ volatile("rep outsw" : "+S"(p), "+c"(n) : "d"(port) : "memory"); break;
	default: __asm__ volatile("rep outsl" : "+S"(p), "+c"(n) : "d"(port) : "memory"); break;
	}
}

static void fuzz(uint64_t seed, unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++) {
		uint64_t r = next(&seed), v = next(&seed);
		uint16_t port = pick_port(r);
		unsigned size = 1u << ((r >> 40) % 3);

		if (ends_vm(port, size) || (port == 0x604 || port == 0xf4))
			continue;
		switch ((r >> 44) % 4) {
		case 0:
			if (size == 1)
				outb(port, (uint8_t)v);
			else if (size == 2)
				outw(port, (uint16_t)v);
			else
				outl(port, (uint32_t)v);
			break;
		case 1:
			(void)(size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port));
			break;
		case 2:
			if (!ends_vm(port, 4))
				string_io(v, port);
			break;
		default:
			/* The backdoor's magic with random registers. */
			__asm__ volatile("inl %%dx, %%eax"
					 : "+a"((uint32_t){ 0x564d5868 }), "+b"((uint32_t){ (uint32_t)v }),
					   "+c"((uint32_t){ (uint32_t)(v >> 32) }), "+d"((uint32_t){ 0x5658 })
					 :: "memory");
			break;
		}
	}
}

static void ap_fuzz(unsigned cpu)
{
	while (!ap_go)
		cpu_relax();
	for (uint64_t s = rdtsc() | 1 | (uint64_t)cpu << 40;; s += 0x9e3779b97f4a7c15ull)
		fuzz(s, 1000);
}

void test_main(void)
{
	uint64_t seed = cmdline_uint("seed=") ? cmdline_uint("seed=") : rdtsc() | 1;

	kprintf("portfuzz: boot, seed %llu\n", (unsigned long long)seed);
	if (smp_start_aps(2, ap_fuzz) == 1)
		ap_go = true;
	fuzz(seed, 3000);
	/* Ask for the next boot: 0xCF9, or the i8042. */
	if (seed & 1)
		outb(0xcf9, 0x06);
	outb(0x64, 0xfe);
	for (;;)
		cpu_relax();
}
