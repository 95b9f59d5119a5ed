/*
 * Instructions that KVM's emulator cannot run where it emulates kernel
 * code (issue 13), executed at CPL 0 with their operand forms; results,
 * flags and faults are checked against the architecture, so the same
 * kernel passes on hardware KVM (which runs them itself) and where shrike
 * completes them.  "case=NAME" runs one group; by default all of them.
 * "cmpxchg16b-rounds=N": the two-vCPU atomicity test's rounds.
 *
 * Each instruction runs in a snippet called through run_snippet(): the
 * registers come from and go back to a struct; an exception lands in
 * catcher(), which records it and returns from the snippet.
 */
#include "rt.h"

struct ctx {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rflags;
	void (*fn)(void);
};

#define NO_FAULT 0xffu

static volatile unsigned got_vec = NO_FAULT;
static volatile uint64_t got_err, got_rip, got_cr2;
static unsigned checks;

void run_snippet(struct ctx *c);
__asm__(".text\n"
	".globl run_snippet\n"
	"run_snippet:\n"
	"	push %rbx; push %rbp; push %r12\n"
	"	mov %rdi, %r12\n"
	"	mov 0(%r12), %rax; mov 8(%r12), %rbx; mov 16(%r12), %rcx\n"
	"	mov 24(%r12), %rdx; mov 32(%r12), %rsi; mov 40(%r12), %rdi\n"
	"	pushq 48(%r12); popfq\n"
	"	call *56(%r12)\n"
	"	pushfq; popq 48(%r12)\n"
	"	mov %rax, 0(%r12); mov %rbx, 8(%r12); mov %rcx, 16(%r12)\n"
	"	mov %rdx, 24(%r12); mov %rsi, 32(%r12); mov %rdi, 40(%r12)\n"
	"	pop %r12; pop %rbp; pop %rbx\n"
	"	ret\n");

#define SNIPPET(name, body) \
	void name(void); \
	__asm__(".text\n.globl " #name "\n" #name ":\n" body "\nret\n")

SNIPPET(s_int3, "int3");
SNIPPET(s_int80, "int $0x80");
SNIPPET(s_ud1, "ud1 %eax, %eax");
SNIPPET(s_fwait, "fwait");
SNIPPET(s_fnstsw_ax, "fnstsw %ax");
SNIPPET(s_fnstsw_mem, "fnstsw (%rdi)");
SNIPPET(s_fnstcw_mem, "fnstcw (%rdi)");
SNIPPET(s_fld1, "fld1");
SNIPPET(s_fldz, "fldz");
SNIPPET(s_fninit, "fninit");
SNIPPET(s_fxsave, "fxsave64 (%rdi)");
SNIPPET(s_fxrstor, "fxrstor64 (%rdi)");
SNIPPET(s_popcnt64, "popcnt %rbx, %rax");
SNIPPET(s_popcnt32, "popcnt %ebx, %eax");
SNIPPET(s_popcnt16, "popcnt %bx, %ax");
SNIPPET(s_popcnt_mem, "popcnt (%rdi), %rax");
SNIPPET(s_popcnt_rip, "popcnt popcnt_data(%rip), %rax");
SNIPPET(s_popcnt_sib, "popcnt 8(%rdi,%rsi,4), %rax");
SNIPPET(s_popcnt_fs, "popcnt %fs:(%rdi), %rax");
SNIPPET(s_crc32b, "crc32b (%rdi), %eax");
SNIPPET(s_crc32w, "crc32w %bx, %eax");
SNIPPET(s_crc32l, "crc32l %ebx, %eax");
SNIPPET(s_crc32q, "crc32q %rbx, %rax");
SNIPPET(s_adcx, "adcx %rbx, %rax");
SNIPPET(s_adox, "adox %rbx, %rax");
SNIPPET(s_adcx32, "adcx %ebx, %eax");
SNIPPET(s_cx16, "lock cmpxchg16b (%rdi)");
SNIPPET(s_xgetbv, "xgetbv");
SNIPPET(s_clac, "clac");
SNIPPET(s_stac, "stac");
SNIPPET(s_clwb, "clwb (%rdi)");
SNIPPET(s_clflushopt, "clflushopt (%rdi)");
SNIPPET(s_rdtscp, "rdtscp");
SNIPPET(s_rdpid, "rdpid %rax");
SNIPPET(s_lar, "lar %bx, %rax");
SNIPPET(s_lsl, "lsl %bx, %rax");
SNIPPET(s_verw, "verw %bx");
SNIPPET(s_verr, "verr %bx");
/* TF set by the snippet itself: the trap comes after the popcnt. */
SNIPPET(s_tf_popcnt, "pushfq; orq $0x100, (%rsp); popfq\n.globl s_tf_insn\ns_tf_insn: popcnt %rbx, %rax\nnop");
SNIPPET(s_into, ".byte 0xce");             /* into: no mnemonic in 64-bit mode */

extern const uint8_t s_tf_insn[];
static uint64_t popcnt_data __attribute__((used)) = 0xff00ff00ff00ff00ull;
static uint8_t page_buf[3 * 4096] __attribute__((aligned(4096)));
static uint8_t fx[512] __attribute__((aligned(16)));

static void catcher(struct frame *f)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	got_vec = (unsigned)f->vector;
	got_err = f->error;
	got_rip = f->rip;
	got_cr2 = cr2;
	/* Return from the snippet: its return address is on the stack. */
	f->rip = *(uint64_t *)f->rsp;
	f->rsp += 8;
	f->rflags &= ~(uint64_t)0x100;                /* no more single steps */
}

static unsigned run(struct ctx *c, void (*fn)(void))
{
	got_vec = NO_FAULT;
	c->fn = fn;
	run_snippet(c);
	return got_vec;
}

static struct ctx regs(uint64_t rax, uint64_t rbx, uint64_t rcx, uint64_t rdx, uint64_t rdi)
{
	return (struct ctx){ rax, rbx, rcx, rdx, 0, rdi, 0x2, 0 };
}

#define CHECK(cond) do { GUEST_ASSERT(cond); checks++; } while (0)
#define CHECK_EQ(a, b) do { GUEST_ASSERT_EQ(a, b); checks++; } while (0)

static bool cpuid_bit(uint32_t leaf, uint32_t sub, int reg, unsigned bit)
{
	uint32_t r[4];

	cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
	return (r[reg] >> bit) & 1;
}

static uint64_t read_cr(int n)
{
	uint64_t v = 0;

	if (n == 0) __asm__ volatile("mov %%cr0, %0" : "=r"(v));
	if (n == 4) __asm__ volatile("mov %%cr4, %0" : "=r"(v));
	if (n == 3) __asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static void write_cr(int n, uint64_t v)
{
	if (n == 0) __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory");
	if (n == 4) __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory");
	if (n == 3) __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory");
}

/* The 2 MiB page directory entry mapping `addr` (the runtime maps 4 GiB
 * with 2 MiB pages). */
static volatile uint64_t *pde_of(uint64_t addr)
{
	uint64_t *pml4 = (uint64_t *)(read_cr(3) & ~0xfffull);
	uint64_t *pdpt = (uint64_t *)(pml4[0] & 0x000ffffffffff000ull);
	uint64_t *pd = (uint64_t *)(pdpt[addr >> 30] & 0x000ffffffffff000ull);

	return &pd[(addr >> 21) & 511];
}

static void flush_tlb(void)
{
	write_cr(3, read_cr(3));
}

/* ---- software interrupts ---- */

static volatile uint64_t int80_rip;

static void int80_handler(struct frame *f)
{
	int80_rip = f->rip;
}

static void case_int(void)
{
	struct ctx c = regs(0, 0, 0, 0, 0);

	CHECK_EQ(run(&c, s_int3), 3);
	CHECK_EQ(got_rip, (uint64_t)s_int3 + 1);          /* a trap: after the int3 */
	set_handler(0x80, int80_handler);
	int80_rip = 0;
	CHECK_EQ(run(&c, s_int80), NO_FAULT);
	CHECK_EQ(int80_rip, (uint64_t)s_int80 + 2);
	CHECK_EQ(run(&c, s_into), 6);                     /* #UD in 64-bit mode */
	CHECK_EQ(run(&c, s_ud1), 6);
	kprintf("emulate: int3, int n, into, ud1 ok\n");
}

/* ---- x87 ---- */

static void case_x87(void)
{
	struct ctx c = regs(0, 0, 0, 0, (uint64_t)page_buf);
	uint64_t cr0 = read_cr(0);
	uint16_t fsw;

	CHECK_EQ(run(&c, s_fninit), NO_FAULT);
	CHECK_EQ(run(&c, s_fnstcw_mem), NO_FAULT);
	CHECK_EQ(*(uint16_t *)page_buf, 0x37f);
	c.rax = 0xffffdead;
	CHECK_EQ(run(&c, s_fnstsw_ax), NO_FAULT);
	CHECK_EQ(c.rax, 0xffff0000);                          /* AX = FSW = 0, upper bits kept */
	CHECK_EQ(run(&c, s_fld1), NO_FAULT);
	CHECK_EQ(run(&c, s_fldz), NO_FAULT);
	CHECK_EQ(run(&c, s_fnstsw_mem), NO_FAULT);
	fsw = *(uint16_t *)page_buf;
	CHECK_EQ((fsw >> 11) & 7, 6);                         /* TOP after two pushes */
	c.rdi = (uint64_t)fx;
	CHECK_EQ(run(&c, s_fxsave), NO_FAULT);
	CHECK_EQ(fx[4], 0xc0);                                /* registers 6 and 7 in use */
	CHECK_EQ(*(uint64_t *)(fx + 32), 0);                  /* ST0 = +0 */
	CHECK_EQ(*(uint64_t *)(fx + 48), 0x8000000000000000ull);   /* ST1 = 1.0 */
	CHECK_EQ(*(uint16_t *)(fx + 56), 0x3fff);
	CHECK_EQ(run(&c, s_fwait), NO_FAULT);
	/* An unmasked exception pending (IE, ES) with CR0.NE: #MF. */
	fx[0] = 0x7e;                                         /* FCW: IM unmasked */
	*(uint16_t *)(fx + 2) = 0x0081;                       /* FSW: ES | IE */
	CHECK_EQ(run(&c, s_fxrstor), NO_FAULT);
	write_cr(0, cr0 | (1u << 5));
	CHECK_EQ(run(&c, s_fwait), 16);
	/* A waiting x87 instruction with an exception pending: #MF where
	 * shrike completes it; where the CPU runs it (hardware-style KVM; the
	 * suite says "by-cpu") the result is the CPU's business, and QEMU's
	 * TCG, for one, raises nothing. */
	if (cmdline_has("by-cpu"))
		run(&c, s_fld1);
	else
		CHECK_EQ(run(&c, s_fld1), 16);
	c.rdi = (uint64_t)page_buf;
	CHECK_EQ(run(&c, s_fnstsw_mem), NO_FAULT);           /* non-waiting */
	CHECK_EQ(*(uint16_t *)page_buf & 0x81, 0x81);
	CHECK_EQ(run(&c, s_fninit), NO_FAULT);
	/* CR0.TS with MP: #NM for fwait; TS alone: #NM for x87 instructions. */
	write_cr(0, cr0 | (1u << 3) | (1u << 1));
	CHECK_EQ(run(&c, s_fwait), 7);
	CHECK_EQ(run(&c, s_fnstcw_mem), 7);
	write_cr(0, (cr0 | (1u << 3)) & ~2ull);
	CHECK_EQ(run(&c, s_fwait), NO_FAULT);
	CHECK_EQ(run(&c, s_fld1), 7);
	write_cr(0, cr0);
	kprintf("emulate: fwait, fnstsw, fnstcw, fld1, fldz ok\n");
}

/* ---- popcnt, crc32, adcx, adox ---- */

static void case_bits(void)
{
	struct ctx c = regs(0, 0xf0f0f0f0f0f0f0f0ull, 0, 0, (uint64_t)page_buf);
	uint64_t *q = (uint64_t *)page_buf;
	const uint64_t arith = 0x8d5;                         /* CF PF AF ZF SF OF */

	if (!cpuid_bit(1, 0, 2, 23)) {
		CHECK_EQ(run(&c, s_popcnt64), 6);
		kprintf("emulate: popcnt: not in CPUID, #UD ok\n");
	} else {
		c.rflags = 0x2 | arith;
		CHECK_EQ(run(&c, s_popcnt64), NO_FAULT);
		CHECK_EQ(c.rax, 32);
		CHECK_EQ(c.rflags & arith, 0);
		c.rax = 0xffffffffffffffffull;
		CHECK_EQ(run(&c, s_popcnt32), NO_FAULT);
		CHECK_EQ(c.rax, 16);                          /* zero-extended */
		c.rax = 0xffffffffffffffffull;
		c.rbx = 0x8001;
		CHECK_EQ(run(&c, s_popcnt16), NO_FAULT);
		CHECK_EQ(c.rax, 0xffffffffffff0002ull);       /* 16-bit: upper bits kept */
		c.rbx = 0;
		CHECK_EQ(run(&c, s_popcnt64), NO_FAULT);
		CHECK_EQ(c.rax, 0);
		CHECK_EQ(c.rflags & arith, 0x40);             /* ZF only */
		q[0] = 0x7;
		CHECK_EQ(run(&c, s_popcnt_mem), NO_FAULT);
		CHECK_EQ(c.rax, 3);
		CHECK_EQ(run(&c, s_popcnt_rip), NO_FAULT);
		CHECK_EQ(c.rax, 32);
		q[3] = 0xffff;                                /* 8 + 1 * 4 = byte 12 .. no: rsi=4 -> 24 */
		c.rsi = 4;
		CHECK_EQ(run(&c, s_popcnt_sib), NO_FAULT);
		CHECK_EQ(c.rax, 16);
		c.rsi = 0;
		kprintf("emulate: popcnt (reg 16/32/64, mem, RIP-relative, SIB) ok\n");
	}
	if (!cpuid_bit(1, 0, 2, 20)) {
		CHECK_EQ(run(&c, s_crc32l), 6);
	} else {
		/* CRC-32C of "123456789" is 0xe3069283 (init and final ~0). */
		uint32_t crc = 0xffffffffu;

		memcpy(page_buf, "123456789", 9);
		for (int i = 0; i < 9; i++) {
			c.rax = crc;
			c.rdi = (uint64_t)page_buf + i;
			CHECK_EQ(run(&c, s_crc32b), NO_FAULT);
			crc = (uint32_t)c.rax;
		}
		CHECK_EQ(crc ^ 0xffffffffu, 0xe3069283u);
		c.rax = 0; c.rbx = 0x1234;
		CHECK_EQ(run(&c, s_crc32w), NO_FAULT);
		c.rdx = c.rax;
		c.rax = 0; c.rbx = 0x12345678;
		CHECK_EQ(run(&c, s_crc32l), NO_FAULT);
		CHECK(c.rax != 0 && c.rax <= 0xffffffffu);
		c.rax = 0xffffffffffffffffull; c.rbx = 0;
		CHECK_EQ(run(&c, s_crc32q), NO_FAULT);
		CHECK(c.rax <= 0xffffffffull);                /* r64 result zero-extended */
		c.rdi = (uint64_t)page_buf;
		kprintf("emulate: crc32 (8/16/32/64) ok\n");
	}
	if (!cpuid_bit(7, 0, 1, 19)) {
		CHECK_EQ(run(&c, s_adcx), 6);
	} else {
		c.rax = ~0ull; c.rbx = 1; c.rflags = 0x2 | 0x1 | 0x800;  /* CF and OF set */
		CHECK_EQ(run(&c, s_adcx), NO_FAULT);
		CHECK_EQ(c.rax, 1);                           /* ~0 + 1 + 1 */
		CHECK_EQ(c.rflags & 0x801, 0x801);            /* carry out; OF untouched */
		c.rax = 5; c.rbx = 6; c.rflags = 0x2 | 0x800;
		CHECK_EQ(run(&c, s_adox), NO_FAULT);
		CHECK_EQ(c.rax, 12);
		CHECK_EQ(c.rflags & 0x801, 0);                /* OF cleared, CF untouched */
		c.rax = 0xffffffffu; c.rbx = 1; c.rflags = 0x2;
		CHECK_EQ(run(&c, s_adcx32), NO_FAULT);
		CHECK_EQ(c.rax, 0);
		CHECK_EQ(c.rflags & 1, 1);
		kprintf("emulate: adcx, adox ok\n");
	}
}

/* ---- cmpxchg16b ---- */

static void case_cx16(void)
{
	uint64_t *m = (uint64_t *)(page_buf + 64);
	struct ctx c = regs(1, 3, 4, 2, (uint64_t)m);

	if (!cpuid_bit(1, 0, 2, 13)) {
		CHECK_EQ(run(&c, s_cx16), 6);
		kprintf("emulate: cmpxchg16b not in CPUID: #UD ok\n");
		return;
	}
	m[0] = 1; m[1] = 2;
	CHECK_EQ(run(&c, s_cx16), NO_FAULT);
	CHECK(c.rflags & 0x40);
	CHECK(m[0] == 3 && m[1] == 4);
	c = regs(1, 5, 6, 2, (uint64_t)m);
	CHECK_EQ(run(&c, s_cx16), NO_FAULT);
	CHECK(!(c.rflags & 0x40));
	CHECK(c.rax == 3 && c.rdx == 4 && m[0] == 3 && m[1] == 4);
	c.rdi = (uint64_t)m + 8;
	CHECK_EQ(run(&c, s_cx16), 13);                        /* misaligned: #GP(0) */
	CHECK_EQ(got_err, 0);
	kprintf("emulate: cmpxchg16b ok\n");
}

/* Two vCPUs add 1 to one 128-bit counter: the BSP with lock cmpxchg16b
 * (completed by shrike where KVM cannot), the AP with lock xadd on its low
 * half (which KVM's emulator runs), ROUNDS times each; nothing is lost. */
static volatile unsigned __int128 counter __attribute__((aligned(16)));
static volatile unsigned ap_finished;
static unsigned rounds;

static void ap_xadd(unsigned cpu)
{
	(void)cpu;
	for (unsigned i = 0; i < rounds; i++) {
		uint64_t one = 1;

		__asm__ volatile("lock xaddq %0, %1" : "+r"(one), "+m"(counter) :: "memory");
	}
	__atomic_store_n(&ap_finished, 1, __ATOMIC_RELEASE);
}

static void case_cx16_atomic(void)
{
	uint64_t lo, hi;

	rounds = cmdline_uint("cmpxchg16b-rounds=");
	if (!rounds)
		rounds = 100000;
	if (!cpuid_bit(1, 0, 2, 13) || fw_cfg_cpu_count() < 2) {
		kprintf("emulate: cmpxchg16b atomicity needs CX16 and 2 CPUs: skipped\n");
		return;
	}
	counter = 0;
	if (smp_start_aps(2, ap_xadd) != 1)
		test_fail("the AP did not start");
	for (unsigned i = 0; i < rounds; i++) {
		uint64_t olo, ohi;
		bool ok;

		do {
			olo = (uint64_t)counter;
			ohi = (uint64_t)(counter >> 64);
			lo = olo + 1;
			hi = ohi + (lo == 0);
			__asm__ volatile("lock cmpxchg16b %1\n\tsetz %0"
					 : "=q"(ok), "+m"(counter), "+a"(olo), "+d"(ohi)
					 : "b"(lo), "c"(hi) : "memory");
		} while (!ok);
	}
	while (!__atomic_load_n(&ap_finished, __ATOMIC_ACQUIRE))
		cpu_relax();
	CHECK_EQ((uint64_t)counter, 2ull * rounds);
	kprintf("emulate: cmpxchg16b against lock xadd on 2 CPUs: %u + %u increments, none lost\n",
		rounds, rounds);
}

/* ---- system instructions ---- */

static void case_system(void)
{
	struct ctx c = regs(0, 0, 0, 0, (uint64_t)page_buf);
	uint64_t cr4 = read_cr(4);

	/* XGETBV: #UD without CR4.OSXSAVE. */
	write_cr(4, cr4 & ~(1ull << 18));
	CHECK_EQ(run(&c, s_xgetbv), 6);
	if (cpuid_bit(1, 0, 2, 26)) {
		write_cr(4, cr4 | (1ull << 18));
		c.rcx = 0;
		CHECK_EQ(run(&c, s_xgetbv), NO_FAULT);
		CHECK(c.rax & 1);                             /* x87 always enabled */
		c.rcx = 2;
		CHECK_EQ(run(&c, s_xgetbv), 13);
		write_cr(4, cr4);
	}
	if (cpuid_bit(7, 0, 1, 20)) {
		c.rflags = 0x2;
		CHECK_EQ(run(&c, s_stac), NO_FAULT);
		CHECK(c.rflags & (1u << 18));
		CHECK_EQ(run(&c, s_clac), NO_FAULT);
		CHECK(!(c.rflags & (1u << 18)));
	} else {
		CHECK_EQ(run(&c, s_stac), 6);
	}
	CHECK_EQ(run(&c, s_clwb), cpuid_bit(7, 0, 1, 24) ? NO_FAULT : 6);
	CHECK_EQ(run(&c, s_clflushopt), cpuid_bit(7, 0, 1, 23) ? NO_FAULT : 6);
	if (cpuid_bit(0x80000001, 0, 3, 27)) {
		wrmsr(0xc0000103, 0x1234);
		CHECK_EQ(run(&c, s_rdtscp), NO_FAULT);
		CHECK_EQ(c.rcx, 0x1234);
		CHECK(c.rax || c.rdx);
	} else {
		CHECK_EQ(run(&c, s_rdtscp), 6);
	}
	if (cpuid_bit(7, 0, 2, 22)) {
		wrmsr(0xc0000103, 0x42);
		CHECK_EQ(run(&c, s_rdpid), NO_FAULT);
		CHECK_EQ(c.rax, 0x42);
	} else {
		CHECK_EQ(run(&c, s_rdpid), 6);
	}
	/* LAR, LSL, VERR, VERW on the runtime's GDT. */
	c.rbx = 0x08;
	c.rax = 0;
	CHECK_EQ(run(&c, s_lar), NO_FAULT);
	CHECK(c.rflags & 0x40);
	/* 64-bit code, accessed: the CPU that loaded CS set the bit in the
	 * GDT; where the CPU runs LAR (not shrike), whether an emulated CPU
	 * did is its business (QEMU's TCG does not). */
	if (cmdline_has("by-cpu"))
		CHECK_EQ(c.rax | 0x100, 0x00a09b00);
	else
		CHECK_EQ(c.rax, 0x00a09b00);
	CHECK_EQ(run(&c, s_lsl), NO_FAULT);
	CHECK_EQ(c.rax, 0xffffffff);
	c.rbx = 0;                                            /* null selector */
	c.rax = 77;
	CHECK_EQ(run(&c, s_lar), NO_FAULT);
	CHECK(!(c.rflags & 0x40) && c.rax == 77);
	c.rbx = 0x1000;                                       /* beyond the GDT */
	CHECK_EQ(run(&c, s_lsl), NO_FAULT);
	CHECK(!(c.rflags & 0x40));
	c.rbx = 0x10;
	CHECK_EQ(run(&c, s_verw), NO_FAULT);
	CHECK(c.rflags & 0x40);                               /* writable data */
	c.rbx = 0x08;
	CHECK_EQ(run(&c, s_verw), NO_FAULT);
	CHECK(!(c.rflags & 0x40));                            /* code */
	CHECK_EQ(run(&c, s_verr), NO_FAULT);
	CHECK(c.rflags & 0x40);                               /* readable code */
	kprintf("emulate: xgetbv, clac/stac, clwb, clflushopt, rdtscp, rdpid, lar, lsl, verr, verw ok\n");
}

/* ---- faults through the guest's page tables ---- */

static void case_paging(void)
{
	/* A 2 MiB page of its own, in RAM (32 MiB at least). */
	uint64_t base = 0x1000000ull, cr0 = read_cr(0), cr4 = read_cr(4);
	volatile uint64_t *pde = pde_of(base), saved = *pde;
	struct ctx c = regs(0, 0, 0, 0, base + 0x10);

	/* Not present: #PF, CR2 = the operand, error code 0 (read, supervisor). */
	*pde = saved & ~1ull;
	flush_tlb();
	CHECK_EQ(run(&c, s_popcnt_mem), 14);
	CHECK_EQ(got_cr2, base + 0x10);
	CHECK_EQ(got_err, 0);
	/* Read-only with CR0.WP: a write faults (P | W); without WP it does not. */
	*pde = saved & ~2ull;
	flush_tlb();
	write_cr(0, cr0 | (1ull << 16));
	c = regs(0, 0, 0, 0, base + 0x20);
	CHECK_EQ(run(&c, s_fnstcw_mem), 14);
	CHECK_EQ(got_err, 3);
	CHECK_EQ(got_cr2, base + 0x20);
	write_cr(0, cr0 & ~(1ull << 16));
	CHECK_EQ(run(&c, s_fnstcw_mem), NO_FAULT);
	write_cr(0, cr0);
	/* SMAP: every page but this one is a supervisor page for a moment;
	 * a supervisor read of this user page faults unless RFLAGS.AC. */
	*pde = saved;
	if (cpuid_bit(7, 0, 1, 20)) {
		volatile uint64_t *low = pde_of(0), *stack = pde_of((uint64_t)&c);
		uint64_t low_saved = *low, stack_saved = *stack;

		*low = low_saved & ~4ull;
		*stack = stack_saved & ~4ull;
		flush_tlb();
		write_cr(4, cr4 | (1ull << 21));
		c = regs(0, 0, 0, 0, base + 0x30);
		CHECK_EQ(run(&c, s_popcnt_mem), 14);
		CHECK_EQ(got_err, 1);                         /* present, read, supervisor */
		c = regs(0, 0, 0, 0, base + 0x30);
		c.rflags = 0x2 | (1u << 18);                  /* AC: allowed */
		CHECK_EQ(run(&c, s_popcnt_mem), NO_FAULT);
		write_cr(4, cr4);
		*low = low_saved;
		*stack = stack_saved;
		flush_tlb();
		kprintf("emulate: SMAP ok\n");
	}
	/* An instruction fetch from an NX page: #PF with I. */
	if (cpuid_bit(0x80000001, 0, 3, 20)) {
		uint64_t efer = rdmsr(0xc0000080);
		uint8_t *code = (uint8_t *)(base + 0x2000);
		static const uint8_t popcnt_ret[] = { 0xf3, 0x48, 0x0f, 0xb8, 0xc3, 0xc3 };

		memcpy(code, popcnt_ret, sizeof(popcnt_ret));
		wrmsr(0xc0000080, efer | (1u << 11));
		*pde = saved | (1ull << 63);
		flush_tlb();
		c = regs(0, 0, 0, 0, 0);
		CHECK_EQ(run(&c, (void (*)(void))code), 14);
		CHECK_EQ(got_err & 0x11, 0x11);               /* present, instruction fetch */
		CHECK_EQ(got_cr2, (uint64_t)code);
		*pde = saved;
		flush_tlb();
		wrmsr(0xc0000080, efer);
	}
	*pde = saved;
	flush_tlb();
	kprintf("emulate: #PF not present, read-only with WP, NX fetch ok\n");
}

/* ---- single step and breakpoints ---- */

static void case_debug(void)
{
	struct ctx c = regs(0, 0xff, 0, 0, 0);
	uint64_t dr6;

	if (!cpuid_bit(1, 0, 2, 23))
		return;
	/* TF: the #DB comes after the instruction, with DR6.BS. */
	__asm__ volatile("mov %0, %%dr6" :: "r"(0xffff0ff0ull));
	CHECK_EQ(run(&c, s_tf_popcnt), 1);
	CHECK_EQ(got_rip, (uint64_t)s_tf_insn + 5);
	CHECK_EQ(c.rax, 8);
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	CHECK(dr6 & (1u << 14));
	/* A code breakpoint on the instruction: #DB before it runs. */
	__asm__ volatile("mov %0, %%dr6" :: "r"(0xffff0ff0ull));
	__asm__ volatile("mov %0, %%dr0" :: "r"((uint64_t)s_popcnt64));
	__asm__ volatile("mov %0, %%dr7" :: "r"(0x401ull));
	c = regs(0, 0xff, 0, 0, 0);
	CHECK_EQ(run(&c, s_popcnt64), 1);
	CHECK_EQ(got_rip, (uint64_t)s_popcnt64);
	CHECK_EQ(c.rax, 0);
	__asm__ volatile("mov %0, %%dr7" :: "r"(0x400ull));
	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	CHECK(dr6 & 1);
	kprintf("emulate: single-step and code breakpoint #DB ok\n");
}

void test_main(void)
{
	static const unsigned vectors[] = { 1, 3, 4, 6, 7, 12, 13, 14, 16 };

	for (unsigned i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		set_handler(vectors[i], catcher);
	if (!cmdline_has("case=") || cmdline_has("case=int"))
		case_int();
	if (!cmdline_has("case=") || cmdline_has("case=x87"))
		case_x87();
	if (!cmdline_has("case=") || cmdline_has("case=bits"))
		case_bits();
	if (!cmdline_has("case=") || cmdline_has("case=cx16"))
		case_cx16();
	if (!cmdline_has("case=") || cmdline_has("case=system"))
		case_system();
	if (!cmdline_has("case=") || cmdline_has("case=paging"))
		case_paging();
	if (!cmdline_has("case=") || cmdline_has("case=debug"))
		case_debug();
	if (!cmdline_has("case=") || cmdline_has("case=atomic"))
		case_cx16_atomic();
	kprintf("emulate: %u checks passed\n", checks);
}
