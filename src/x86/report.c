#include "x86/report.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/log.h"
#include "base/memory.h"
#include "x86/cpustate.h"

#define INSN_MAX 15

static const char *cs_mode(const struct kvm_sregs2 *s, uint64_t rflags)
{
	if (!(s->cr0 & 1))
		return "real mode";
	if (rflags & (1u << 17))
		return "virtual-8086";
	if ((s->efer & (1u << 10)) && s->cs.l)
		return "64-bit";
	return s->cs.db ? "32-bit protected" : "16-bit protected";
}

/* Guest-physical address of a linear address, through KVM_TRANSLATE. */
static int translate(struct cpu_state *st, uint64_t linear, uint64_t *gpa)
{
	struct kvm_translation t = { .linear_address = linear };

	if (st->port.ioctl(st->port.owner, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return -1;
	*gpa = t.physical_address;
	return 0;
}

/* Reads up to INSN_MAX instruction bytes at the linear address; returns
 * how many could be read (stops at an unmapped page or non-RAM). */
static unsigned read_insn(struct cpu_state *st, uint64_t linear, uint8_t *out)
{
	unsigned n = 0;

	while (n < INSN_MAX) {
		uint64_t gpa;
		const uint8_t *p;
		unsigned chunk = 4096 - (unsigned)((linear + n) & 4095);

		if (chunk > INSN_MAX - n)
			chunk = INSN_MAX - n;
		if (translate(st, linear + n, &gpa))
			break;
		p = gpa_to_hva(st->port.mem, gpa, chunk);
		if (!p)
			break;
		memcpy(out + n, p, chunk);
		n += chunk;
	}
	return n;
}

void x86_report_failure(struct cpu_state *st, const char *what)
{
	char bytes[INSN_MAX * 3 + 1] = "";
	uint8_t insn[INSN_MAX];
	const struct kvm_sregs2 *s = &st->sregs;
	uint64_t rip, linear;
	unsigned n;

	if (cpu_state_get(st, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_DEBUG, "report")) {
		log_error("vCPU %u: %s (registers unavailable)", st->port.index, what);
		return;
	}
	rip = st->regs->rip;
	linear = s->cs.base + rip;
	n = read_insn(st, linear, insn);
	for (unsigned i = 0, pos = 0; i < n; i++)
		pos += (unsigned)snprintf(bytes + pos, sizeof(bytes) - pos, "%s%02x", i ? " " : "",
					  insn[i]);
	log_error("vCPU %u: %s, RIP 0x%llx (CS 0x%x base 0x%llx), CS mode %s, bytes at RIP: %s",
		  st->port.index, what, (unsigned long long)rip, s->cs.selector,
		  (unsigned long long)s->cs.base, cs_mode(s, st->regs->rflags),
		  n ? bytes : "(unreadable)");
}

void x86_report_triple_fault(struct cpu_state *st, bool resets)
{
	const struct kvm_sregs2 *s = &st->sregs;
	const char *then = resets ? "the machine resets" : "the VM ends instead of rebooting";

	if (cpu_state_get(st, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_DEBUG, "report")) {
		log_limited(st->port.rl, "vCPU %u: triple fault; %s", st->port.index, then);
		return;
	}
	log_limited(st->port.rl, "vCPU %u: triple fault at RIP 0x%llx (CS 0x%x, %s); %s", st->port.index,
		    (unsigned long long)st->regs->rip, s->cs.selector,
		    cs_mode(s, st->regs->rflags), then);
}
