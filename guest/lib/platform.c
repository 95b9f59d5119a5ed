/* fw_cfg, the ACPI PM timer, the LAPIC and starting APs. */
#include "rt.h"

#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define PM_TMR 0x608

bool fw_cfg_present(void)
{
	char sig[4];

	outw(FW_CFG_SEL, 0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_DATA);
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}

uint64_t fw_cfg_read_int(uint16_t key, unsigned bytes)
{
	uint64_t v = 0;

	outw(FW_CFG_SEL, key);
	for (unsigned i = 0; i < bytes && i < 8; i++)
		v |= (uint64_t)inb(FW_CFG_DATA) << (8 * i);
	return v;
}

unsigned fw_cfg_cpu_count(void)
{
	return fw_cfg_present() ? (unsigned)fw_cfg_read_int(0x05, 2) : 1;
}

uint32_t pm_timer(void)
{
	return inl(PM_TMR);
}

void delay_us(uint64_t us)
{
	uint64_t ticks = us * PM_TIMER_HZ / 1000000 + 1, waited = 0;
	uint32_t last = pm_timer();

	while (waited < ticks) {
		uint32_t now = pm_timer();

		/* QEMU's PIIX4 timer has 24 bits, shrike's 32: count in 24. */
		waited += (now - last) & 0xffffff;
		last = now;
	}
}

uint32_t ioapic_read(unsigned reg)
{
	mmio_write32(IOAPIC_BASE, reg);
	return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(unsigned reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE, reg);
	mmio_write32(IOAPIC_BASE + 0x10, v);
}

void ioapic_route(unsigned pin, unsigned vector, uint32_t flags, unsigned dest)
{
	ioapic_write(0x10 + 2 * pin + 1, dest << 24);
	ioapic_write(0x10 + 2 * pin, vector | flags);
}

uint32_t lapic_read(unsigned reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

void lapic_write(unsigned reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

void lapic_enable(void)
{
	lapic_write(0xf0, 0x1ff);   /* software enable, spurious vector 0xff */
}

unsigned lapic_id(void)
{
	return lapic_read(0x20) >> 24;
}

void lapic_send_ipi(unsigned apic_id, uint32_t icr_low)
{
	lapic_write(0x310, apic_id << 24);
	lapic_write(0x300, icr_low);
	for (int i = 0; i < 100000 && (lapic_read(0x300) & (1u << 12)); i++)
		cpu_relax();
}

extern const uint8_t ap_tramp_start[], ap_tramp_end[];
void ap_entry(unsigned cpu);

static void (*volatile ap_fn)(unsigned cpu);
static volatile unsigned ap_online;

void ap_entry(unsigned cpu)
{
	idt_load();
	lapic_enable();
	__atomic_fetch_add(&ap_online, 1, __ATOMIC_SEQ_CST);
	if (ap_fn)
		ap_fn(cpu);
	for (;;) {
		irq_disable();
		__asm__ volatile("hlt");
	}
}

unsigned smp_start_aps(unsigned n, void (*fn)(unsigned cpu))
{
	volatile uint8_t *dst = (volatile uint8_t *)0x8000;

	if (n > MAX_CPUS)
		n = MAX_CPUS;
	for (const uint8_t *p = ap_tramp_start; p < ap_tramp_end; p++)
		*dst++ = *p;
	ap_fn = fn;
	lapic_enable();
	for (unsigned id = 1; id < n; id++)
		lapic_send_ipi(id, 0x4500);              /* INIT */
	delay_us(10000);
	for (int round = 0; round < 2; round++) {
		for (unsigned id = 1; id < n; id++)
			lapic_send_ipi(id, 0x4600 | 0x08);   /* SIPI, vector 0x8000 */
		delay_us(200);
	}
	for (int i = 0; i < 5000 && ap_online < n - 1; i++)
		delay_us(1000);
	return ap_online;
}

/* TSC ticks over PIT channel 2's 50 ms one-shot. */
static uint64_t tsc_hz_once(void)
{
	const uint32_t count = 59659;   /* 50 ms at 1.193182 MHz */
	uint64_t t0, t1;

	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));   /* gate on, speaker off */
	outb(0x43, 0xb0);                                    /* ch 2, lo/hi, mode 0 */
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	t0 = rdtsc();
	for (long i = 0; i < 10000000 && !(inb(0x61) & 0x20); i++)
		cpu_relax();
	t1 = rdtsc();
	return (t1 - t0) * 1193182ull / count;
}

/* TSC ticks per second against the PIT: the median of five measurements,
 * because a vCPU kept off the CPU on a busy host between the PIT's start
 * and the first TSC read, or after OUT rose, skews one of them. */
uint64_t tsc_hz_from_pit(void)
{
	uint64_t m[5];

	for (int i = 0; i < 5; i++) {
		uint64_t v = tsc_hz_once();
		int j = i;

		for (; j > 0 && m[j - 1] > v; j--)
			m[j] = m[j - 1];
		m[j] = v;
	}
	return m[2];
}

uint8_t cmos_read(uint8_t index)
{
	outb(0x70, index);
	return inb(0x71);
}

void cmos_write(uint8_t index, uint8_t v)
{
	outb(0x70, index);
	outb(0x71, v);
}

/* The ways a PC guest asks for a reset. */
void reset_by(enum reset_source how)
{
	static const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) no_idt = { 0, 0 };

	switch (how) {
	case RESET_KBD:
		for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
			cpu_relax();
		outb(0x64, 0xfe);
		break;
	case RESET_CF9:
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
		break;
	case RESET_TRIPLE:
		__asm__ volatile("lidt %0\n\tud2" :: "m"(no_idt));
		break;
	}
	for (;;)
		cpu_relax();
}
