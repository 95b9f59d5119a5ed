/*
 * The test kernels' freestanding runtime: port and MSR access, CPUID,
 * serial printing, exceptions, assertions, exits, SMP start-up.
 *
 * Conventions (the same under shrike and qemu-system-x86_64 -M pc):
 *   test_pass()   ACPI power-off (S5 at 0x604): exit status 0
 *   test_fail()   debug-exit write of 1: exit status 3
 *   guest_exit(v) debug-exit write of v: exit status (v << 1) | 1
 * Only instructions the KVM emulator handles are used: on hosts where KVM
 * emulates every CPL 0 instruction (kvm_pvm), anything else ends the VM.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_CPUS 64

/* ---- ports, MSRs, CPUID ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* #GP-safe variants: return false if the instruction faulted. */
static inline bool rdmsr_safe(uint32_t msr, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;
	uint64_t fault = 0;
	__asm__ volatile("1: rdmsr\n2:\n"
			 ".pushsection .extable, \"a\"\n.quad 1b, 2b\n.popsection"
			 : "=a"(lo), "=d"(hi), "+D"(fault) : "c"(msr));
	*v = ((uint64_t)hi << 32) | lo;
	return !fault;
}

static inline bool wrmsr_safe(uint32_t msr, uint64_t v)
{
	uint64_t fault = 0;
	__asm__ volatile("1: wrmsr\n2:\n"
			 ".pushsection .extable, \"a\"\n.quad 1b, 2b\n.popsection"
			 : "+D"(fault) : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
	return !fault;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* Called with interrupts off, after checking the condition to wait for:
 * STI's one-instruction shadow holds a pending interrupt until HLT has
 * begun, so one that arrives after the check still wakes the HLT (a plain
 * "while (!cond) hlt" with interrupts on can sleep forever). */
static inline void wait_for_irq(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }

static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }

/* ---- memory (freestanding: the compiler may call these too) ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* ---- output and ending ---- */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void serial_init(void);

__attribute__((noreturn)) void guest_exit(unsigned code);
__attribute__((noreturn)) void test_pass(void);
__attribute__((noreturn, format(printf, 1, 2))) void test_fail(const char *fmt, ...);

#define GUEST_ASSERT(cond) \
	do { if (!(cond)) test_fail("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); } while (0)
#define GUEST_ASSERT_EQ(a, b) \
	do { uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
	     if (a_ != b_) test_fail("assertion failed: %s == %s (0x%llx != 0x%llx) at %s:%d", \
				     #a, #b, (unsigned long long)a_, (unsigned long long)b_, __FILE__, __LINE__); } while (0)

/* ---- interrupts and exceptions ---- */
struct frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};
typedef void (*irq_handler_t)(struct frame *f);
/* Handlers for vectors >= 32 (the runtime sends the LAPIC EOI), or for an
 * exception vector a test expects (then no EOI). */
void set_handler(unsigned vector, irq_handler_t h);
void idt_load(void);

/* ---- user mode ---- */
/* Runs fn at CPL 3 (IOPL 0, interrupts off) until it raises an exception;
 * returns the vector and fills *f with the faulting frame. */
unsigned run_in_user_mode(void (*fn)(void), struct frame *f);

/* ---- boot information ---- */
extern uint32_t mb_magic, mb_info;
const char *mb_cmdline(void);
/* The command line holds `word` (e.g. "case=nmi"). */
bool cmdline_has(const char *word);
/* The number after `key` (e.g. "calls=") on the command line, or 0. */
unsigned cmdline_uint(const char *key);

/* ---- fw_cfg, PM timer ---- */
bool fw_cfg_present(void);
uint64_t fw_cfg_read_int(uint16_t key, unsigned bytes);
unsigned fw_cfg_cpu_count(void);
#define PM_TIMER_HZ 3579545ull
uint32_t pm_timer(void);
uint8_t cmos_read(uint8_t index);
void cmos_write(uint8_t index, uint8_t v);
enum reset_source { RESET_KBD, RESET_CF9, RESET_TRIPLE };
__attribute__((noreturn)) void reset_by(enum reset_source how);
uint64_t tsc_hz_from_pit(void);
void delay_us(uint64_t us);

/* ---- IOAPIC (0xFEC00000) ---- */
#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_LEVEL      (1u << 15)
#define IOAPIC_LOW_ACTIVE (1u << 13)
#define IOAPIC_LOGICAL    (1u << 11)
#define IOAPIC_MASKED     (1u << 16)
uint32_t ioapic_read(unsigned reg);
void ioapic_write(unsigned reg, uint32_t v);
/* Routes pin to vector on the CPU(s) `dest` (APIC ID, or logical mask with
 * IOAPIC_LOGICAL in flags); flags add trigger, polarity, mask. */
void ioapic_route(unsigned pin, unsigned vector, uint32_t flags, unsigned dest);

/* ---- LAPIC and SMP ---- */
#define LAPIC_BASE 0xfee00000ull
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
void lapic_enable(void);
unsigned lapic_id(void);
void lapic_send_ipi(unsigned apic_id, uint32_t icr_low);
/* Starts CPUs 1..n-1 (APIC IDs 1..n-1) with INIT/SIPI/SIPI; each runs
 * fn(cpu) with cpu = its arrival order.  Returns how many came online
 * within a few seconds. */
unsigned smp_start_aps(unsigned n, void (*fn)(unsigned cpu));

typedef volatile int spinlock_t;
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

/* Provided by each test kernel. */
void test_main(void);

#endif

/* ---- the test channel of tests/host (harness.h) ---- */
#define TC_STAGE 0x1000   /* write: reached stage v */
#define TC_REPLY 0x1004   /* read: the host's reply word */
#define TC_SLOW  0x1008   /* write: a slow, state-consuming exit */
#define TC_INSIDE 0x100c  /* read: vCPUs inside the slow exit now */
#define TC_RECV  0x1010   /* read: next word the host queued for the guest */
#define TC_SEND  0x1014   /* write: a word for the host */
static inline void tc_stage(uint32_t v) { outl(TC_STAGE, v); }
static inline void tc_send(uint32_t v) { outl(TC_SEND, v); }
static inline uint32_t tc_recv(void) { return inl(TC_RECV); }
static inline void tc_wait_reply(uint32_t v) { while (inl(TC_REPLY) != v) cpu_relax(); }
static inline void tc_slow_exit(void) { outb(TC_SLOW, 0); }
