/*
 * The debugger's target (tests/tools/gdb_test.py drives gdb against it).
 * Functions are kept out of line so that breakpoints, `bt` and `finish`
 * have real frames to show.  Every case ends with guest_exit(verdict) if
 * gdb set `verdict`, else passes.
 *
 *   case=basic  calls outer() -> middle() -> leaf(); bump() writes
 *               `watched` (watchpoints)
 *   case=smp    two vCPUs: the AP spins in ap_inner() (called by ap_outer)
 *               until the BSP, stopped at smp_ready(), lets it go
 *   case=timer  a LAPIC timer firing every few microseconds while the
 *               code at step_here runs: a step must not land in the
 *               handler
 *   case=spin   spins for ms= milliseconds (default 3000) or until a
 *               debugger sets `release`, then passes
 *   case=steps  runs ~20000 instructions at step_loop (the step benchmark)
 *   case=hits   calls bp_target() until `release` (the breakpoint benchmark)
 */
#include "rt.h"

#define TIMER_VECTOR 0x40

volatile int verdict;              /* gdb writes it: the exit status follows */
volatile int watched;              /* gdb watches it */
volatile uint64_t answer = 42;     /* gdb prints it */
volatile unsigned ticks;
static volatile bool ap_release;
volatile int release;              /* a debugger ends case=spin early */

__attribute__((noinline)) int leaf(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + (int)answer;
}

__attribute__((noinline)) int middle(int x)
{
	int r = leaf(x + 1);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

__attribute__((noinline)) int outer(int x)
{
	int r = middle(x * 2);

	__asm__ volatile("" ::: "memory");
	return r + 2;
}

__attribute__((noinline)) void bump(void)
{
	watched = watched + 1;
	__asm__ volatile("" ::: "memory");
}

static void case_basic(void)
{
	int r = outer(1);

	kprintf("gdbtarget: outer(1) = %d\n", r);
	bump();
	kprintf("gdbtarget: watched = %d\n", watched);
}

/* ---- case=smp ---- */

__attribute__((noinline)) void ap_inner(void)
{
	while (!ap_release)
		cpu_relax();
}

__attribute__((noinline)) void ap_outer(unsigned cpu)
{
	(void)cpu;
	ap_inner();
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void smp_ready(void)
{
	__asm__ volatile("" ::: "memory");
}

static void case_smp(void)
{
	if (smp_start_aps(2, ap_outer) != 1)
		test_fail("the AP did not start");
	delay_us(20000);           /* the AP is inside ap_inner now */
	smp_ready();
	ap_release = true;
}

/* ---- case=timer ---- */

static void on_timer(struct frame *f)
{
	(void)f;
	ticks++;
}

/* Five one-byte instructions at a known place. */
__attribute__((noinline)) void step_here(void)
{
	__asm__ volatile(".globl step_nops\nstep_nops:\n"
			 "nop\nnop\nnop\nnop\nnop\n" ::: "memory");
}

static void case_timer(void)
{
	set_handler(TIMER_VECTOR, on_timer);
	lapic_enable();
	lapic_write(0x3e0, 0xb);                       /* divide by 1 */
	lapic_write(0x320, TIMER_VECTOR | (1u << 17)); /* periodic */
	lapic_write(0x380, 2000);                      /* a few microseconds */
	irq_enable();
	while (ticks < 10)
		cpu_relax();
	step_here();
	irq_disable();
	lapic_write(0x320, 1u << 16);                  /* masked */
	kprintf("gdbtarget: %u timer interrupts\n", ticks);
}

/* ---- case=spin, case=steps ---- */

__attribute__((noinline)) void spin_loop(unsigned ms)
{
	for (unsigned i = 0; i < ms && !release; i++)
		delay_us(1000);
}

__attribute__((noinline)) unsigned step_loop(unsigned n)
{
	unsigned acc = 0;

	for (unsigned i = 0; i < n; i++) {
		acc += i;
		__asm__ volatile("" : "+r"(acc));
	}
	return acc;
}

__attribute__((noinline)) void bp_target(unsigned i)
{
	__asm__ volatile("" :: "r"(i) : "memory");
}

static void case_hits(void)
{
	for (unsigned i = 0; !release; i++)
		bp_target(i);
}

void test_main(void)
{
	if (cmdline_has("case=smp"))
		case_smp();
	else if (cmdline_has("case=timer"))
		case_timer();
	else if (cmdline_has("case=spin"))
		spin_loop(cmdline_uint("ms=") ? cmdline_uint("ms=") : 3000);
	else if (cmdline_has("case=hits"))
		case_hits();
	else if (cmdline_has("case=steps"))
		kprintf("gdbtarget: %u\n", step_loop(5000));
	else
		case_basic();
	if (verdict)
		guest_exit((unsigned)verdict);
}
