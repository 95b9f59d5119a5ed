/*
 * What a timer interrupt costs the guest (bench/startup.py): a counting
 * loop runs for WINDOW ms of PM-timer time without interrupts, then with
 * PIT channel 0 at 1 kHz; the iterations lost, at the quiet rate, divided
 * by the interrupts taken, is the time each interrupt took from the
 * guest (delivery, the handler, the EOI, and the exits around them).
 *
 *   path=ioapic   IRQ 0 through IOAPIC pin 2 (default)
 *   path=pic      IRQ 0 through the 8259
 *   rounds=N      alternate quiet and ticking windows N times (default 3)
 */
#include "rt.h"

#define WINDOW_MS 300
#define PM_HZ 3579545ull

static volatile unsigned ticks;
static bool via_pic;

static void on_tick(struct frame *f)
{
	(void)f;
	ticks++;
	if (via_pic)
		outb(0x20, 0x20);
}

/* Loop iterations in one window of PM-timer time. */
static uint64_t spin_window(void)
{
	uint64_t want = WINDOW_MS * PM_HZ / 1000, waited = 0, n = 0;
	uint32_t last = pm_timer();

	while (waited < want) {
		uint32_t now = pm_timer();

		waited += (now - last) & 0xffffff;
		last = now;
		n++;
	}
	return n;
}

static void pit_1khz(bool on)
{
	unsigned count = 1193182u / 1000;

	outb(0x43, on ? 0x34 : 0x30);
	outb(0x40, on ? (uint8_t)count : 1);
	outb(0x40, on ? (uint8_t)(count >> 8) : 0);
}

void test_main(void)
{
	unsigned rounds = cmdline_uint("rounds=") ? cmdline_uint("rounds=") : 3;
	uint64_t quiet = 0, busy = 0, irqs = 0;

	via_pic = cmdline_has("path=pic");
	lapic_enable();
	if (via_pic) {
		set_handler(0x20, on_tick);
		outb(0x21, 0xfe);
	} else {
		set_handler(0x42, on_tick);
		ioapic_route(2, 0x42, 0, lapic_id());
	}
	irq_enable();
	for (unsigned r = 0; r < rounds; r++) {
		unsigned before;

		pit_1khz(false);
		delay_us(2000);
		quiet += spin_window();
		before = ticks;
		pit_1khz(true);
		busy += spin_window();
		irqs += ticks - before;
	}
	pit_1khz(false);
	irq_disable();
	if (!irqs || busy >= quiet) {
		kprintf("timerbench: %llu interrupts, no measurable cost\n", (unsigned long long)irqs);
		return;
	}
	/* ns per interrupt = lost iterations * (window ns / quiet iterations) / irqs */
	kprintf("timerbench: %s %llu interrupts, %llu ns each\n", via_pic ? "pic" : "ioapic",
		(unsigned long long)irqs,
		(unsigned long long)((quiet - busy) * (WINDOW_MS * 1000000ull * rounds) / quiet / irqs));
}
