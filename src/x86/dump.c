/*
 * A vCPU's registers as text, in the layout of QEMU's `info registers`
 * (x86_cpu_dump_state), so that tools that parse QEMU's monitor output
 * read shrike's too.  The caller fetched the classes in X86_DUMP_CLASSES.
 */
#include "x86/dump.h"

#include <string.h>

#define EFER_LMA (1ull << 10)
#define CR0_PE   1ull

static bool long_mode(const struct kvm_sregs2 *s)
{
	return s->efer & EFER_LMA;
}

/* The descriptor flags word QEMU keeps for a segment. */
static uint32_t seg_flags(const struct kvm_segment *g)
{
	return (uint32_t)g->type << 8 | (uint32_t)g->s << 12 | (uint32_t)g->dpl << 13 |
	       (uint32_t)g->present << 15 | (uint32_t)g->avl << 20 | (uint32_t)g->l << 21 |
	       (uint32_t)g->db << 22 | (uint32_t)g->g << 23;
}

static const char *system_type(const struct kvm_segment *g, bool lm)
{
	static const char *const t32[16] = {
		"Reserved", "TSS16-avl", "LDT", "TSS16-busy", "CallGate16", "TaskGate",
		"IntGate16", "TrapGate16", "Reserved", "TSS32-avl", "Reserved", "TSS32-busy",
		"CallGate32", "Reserved", "IntGate32", "TrapGate32",
	};
	static const char *const t64[16] = {
		"<hiword>", "Reserved", "LDT", "Reserved", "Reserved", "Reserved", "Reserved",
		"Reserved", "Reserved", "TSS64-avl", "Reserved", "TSS64-busy", "CallGate64",
		"Reserved", "IntGate64", "TrapGate64",
	};

	return (lm ? t64 : t32)[g->type & 15];
}

static void dump_segment(struct strbuf *sb, const char *name, const struct kvm_segment *g,
			 const struct kvm_sregs2 *s)
{
	bool lm = long_mode(s);
	uint32_t flags = seg_flags(g);

	if (lm)
		sb_printf(sb, "%s=%04x %016llx %08x %08x", name, g->selector,
			  (unsigned long long)g->base, g->limit, flags);
	else
		sb_printf(sb, "%s=%04x %08x %08x %08x", name, g->selector, (unsigned)g->base, g->limit,
			  flags);
	if ((s->cr0 & CR0_PE) && g->present) {
		sb_printf(sb, " DPL=%u ", g->dpl);
		if (!g->s) {
			sb_printf(sb, "%s", system_type(g, lm));
		} else if (g->type & 8) {
			sb_printf(sb, "%s [%c%c%c]", g->l ? "CS64" : g->db ? "CS32" : "CS16",
				  (g->type & 4) ? 'C' : '-', (g->type & 2) ? 'R' : '-',
				  (g->type & 1) ? 'A' : '-');
		} else {
			sb_printf(sb, "%s [%c%c%c]", (g->db || lm) ? "DS  " : "DS16",
				  (g->type & 4) ? 'E' : '-', (g->type & 2) ? 'W' : '-',
				  (g->type & 1) ? 'A' : '-');
		}
	}
	sb_printf(sb, "\n");
}

static void dump_general(struct strbuf *sb, const struct kvm_regs *r, bool lm)
{
	if (lm) {
		sb_printf(sb, "RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n"
			  "RSI=%016llx RDI=%016llx RBP=%016llx RSP=%016llx\n"
			  "R8 =%016llx R9 =%016llx R10=%016llx R11=%016llx\n"
			  "R12=%016llx R13=%016llx R14=%016llx R15=%016llx\n"
			  "RIP=%016llx RFL=%08x",
			  r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8, r->r9,
			  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip, (unsigned)r->rflags);
	} else {
		sb_printf(sb, "EAX=%08x EBX=%08x ECX=%08x EDX=%08x\n"
			  "ESI=%08x EDI=%08x EBP=%08x ESP=%08x\n"
			  "EIP=%08x EFL=%08x",
			  (unsigned)r->rax, (unsigned)r->rbx, (unsigned)r->rcx, (unsigned)r->rdx,
			  (unsigned)r->rsi, (unsigned)r->rdi, (unsigned)r->rbp, (unsigned)r->rsp,
			  (unsigned)r->rip, (unsigned)r->rflags);
	}
	sb_printf(sb, " [%c%c%c%c%c%c%c]", (r->rflags & 0x400) ? 'D' : '-',
		  (r->rflags & 0x800) ? 'O' : '-', (r->rflags & 0x80) ? 'S' : '-',
		  (r->rflags & 0x40) ? 'Z' : '-', (r->rflags & 0x10) ? 'A' : '-',
		  (r->rflags & 0x4) ? 'P' : '-', (r->rflags & 0x1) ? 'C' : '-');
}

/* The legacy region of the XSAVE area (or the FPU state without XSAVE). */
static void dump_fpu(struct strbuf *sb, const struct cpu_state *st, bool lm)
{
	uint8_t area[512];
	uint16_t fcw, fsw;
	uint32_t mxcsr;

	memset(area, 0, sizeof(area));
	if (st->xsave) {
		memcpy(area, st->xsave->region, sizeof(area));
	} else {
		memcpy(area, &st->fpu.fcw, 2);
		memcpy(area + 2, &st->fpu.fsw, 2);
		area[4] = st->fpu.ftwx;
		memcpy(area + 24, &st->fpu.mxcsr, 4);
		for (int i = 0; i < 8; i++)
			memcpy(area + 32 + 16 * i, st->fpu.fpr[i], 16);
		for (int i = 0; i < 16; i++)
			memcpy(area + 160 + 16 * i, st->fpu.xmm[i], 16);
	}
	memcpy(&fcw, area, 2);
	memcpy(&fsw, area + 2, 2);
	memcpy(&mxcsr, area + 24, 4);
	sb_printf(sb, "FCW=%04x FSW=%04x [ST=%u] FTW=%02x MXCSR=%08x\n", fcw, fsw, (fsw >> 11) & 7,
		  area[4], mxcsr);
	for (int i = 0; i < 8; i++) {
		uint64_t mant;
		uint16_t exp;

		memcpy(&mant, area + 32 + 16 * i, 8);
		memcpy(&exp, area + 40 + 16 * i, 2);
		sb_printf(sb, "FPR%d=%016llx %04x%s", i, (unsigned long long)mant, exp,
			  (i & 1) ? "\n" : " ");
	}
	for (int i = 0; i < (lm ? 16 : 8); i++) {
		uint64_t lo, hi;

		memcpy(&lo, area + 160 + 16 * i, 8);
		memcpy(&hi, area + 168 + 16 * i, 8);
		sb_printf(sb, "XMM%02d=%016llx %016llx%s", i, (unsigned long long)hi,
			  (unsigned long long)lo, (i & 1) ? "\n" : " ");
	}
}

void x86_dump_registers(const struct cpu_state *st, struct strbuf *sb)
{
	const struct kvm_sregs2 *s = &st->sregs;
	const struct kvm_debugregs *d = &st->debugregs;
	bool lm = long_mode(s);

	dump_general(sb, st->regs, lm);
	sb_printf(sb, " CPL=%u II=%u A20=1 SMM=%u HLT=%u\n", s->cs.dpl & 3,
		  st->events.interrupt.shadow ? 1 : 0, st->events.smi.smm ? 1 : 0,
		  st->mp.mp_state == KVM_MP_STATE_HALTED ? 1 : 0);
	dump_segment(sb, "ES ", &s->es, s);
	dump_segment(sb, "CS ", &s->cs, s);
	dump_segment(sb, "SS ", &s->ss, s);
	dump_segment(sb, "DS ", &s->ds, s);
	dump_segment(sb, "FS ", &s->fs, s);
	dump_segment(sb, "GS ", &s->gs, s);
	dump_segment(sb, "LDT", &s->ldt, s);
	dump_segment(sb, "TR ", &s->tr, s);
	if (lm) {
		sb_printf(sb, "GDT=     %016llx %08x\nIDT=     %016llx %08x\n",
			  (unsigned long long)s->gdt.base, s->gdt.limit,
			  (unsigned long long)s->idt.base, s->idt.limit);
		sb_printf(sb, "CR0=%08x CR2=%016llx CR3=%016llx CR4=%08x\n", (unsigned)s->cr0,
			  (unsigned long long)s->cr2, (unsigned long long)s->cr3, (unsigned)s->cr4);
	} else {
		sb_printf(sb, "GDT=     %08x %08x\nIDT=     %08x %08x\n", (unsigned)s->gdt.base,
			  s->gdt.limit, (unsigned)s->idt.base, s->idt.limit);
		sb_printf(sb, "CR0=%08x CR2=%08x CR3=%08x CR4=%08x\n", (unsigned)s->cr0,
			  (unsigned)s->cr2, (unsigned)s->cr3, (unsigned)s->cr4);
	}
	for (int i = 0; i < 4; i++)
		sb_printf(sb, "DR%d=%016llx ", i, (unsigned long long)d->db[i]);
	sb_printf(sb, "\nDR6=%016llx DR7=%016llx\n", (unsigned long long)d->dr6,
		  (unsigned long long)d->dr7);
	sb_printf(sb, "EFER=%016llx\n", (unsigned long long)s->efer);
	dump_fpu(sb, st, lm);
}
