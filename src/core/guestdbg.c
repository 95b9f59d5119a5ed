/*
 * The vCPU side of guest debugging: KVM_SET_GUEST_DEBUG, and turning what
 * KVM reports (KVM_EXIT_DEBUG, or an emulation failure on an int3) into a
 * trap for the debugger's hook (struct debug_hooks, core/vm.h).  What the
 * debugger does with it lives in gdb/.
 *
 * A trap that is not the debugger's goes back to the guest: a #BP or #DB
 * KVM intercepted only because guest debugging is on is re-injected, as
 * the guest would have seen it without a debugger.
 */
#include "core/guestdbg.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "core/vcpu.h"
#include "core/vm.h"

#define DR6_BS (1ull << 14)
#define EFER_LMA (1ull << 10)

int vcpu_set_guest_debug(struct vcpu *v, const struct kvm_guest_debug *dbg)
{
	struct kvm_guest_debug d = *dbg;
	int r;

	if (!(d.control & KVM_GUESTDBG_ENABLE))
		d.control = 0;
	r = vcpu_ioctl(v, KVM_SET_GUEST_DEBUG, &d);
	if (r < 0)
		return r;
	/* The inject bits act once, when set; they are not a standing mode. */
	v->guest_debug = d;
	v->guest_debug.control &= ~(unsigned)(KVM_GUESTDBG_INJECT_BP | KVM_GUESTDBG_INJECT_DB);
	return 0;
}

static enum debug_verdict ask(struct vcpu *v, const struct debug_trap *t)
{
	struct vm *vm = v->vm;

	if (!vm->debug.trap)
		return DEBUG_NOT_OURS;
	return vm->debug.trap(vm->debug.opaque, v, t);
}

/* Gives the guest the exception KVM intercepted for the debugger. */
static void reinject(struct vcpu *v, unsigned flag, uint64_t dr6)
{
	struct kvm_guest_debug d = v->guest_debug;

	if (flag == KVM_GUESTDBG_INJECT_DB &&
	    !cpu_state_get(&v->state, CPU_MASK(CPU_DEBUGREGS), CAUSE_DEBUG, "guestdbg")) {
		/* The guest's handler reads DR6 to learn why. */
		v->state.debugregs.dr6 = dr6;
		cpu_state_dirty(&v->state, CPU_MASK(CPU_DEBUGREGS), "guestdbg");
	}
	d.control |= flag;
	if (vcpu_set_guest_debug(v, &d) < 0)
		log_limited(&v->vm->rl, "vCPU %u: re-injecting a %s failed", v->index,
				flag == KVM_GUESTDBG_INJECT_BP ? "#BP" : "#DB");
}

int vcpu_handle_debug_exit(struct vcpu *v)
{
	const struct kvm_debug_exit_arch *a = &v->run->debug.arch;
	struct debug_trap t = { .addr = a->pc, .dr6 = a->dr6 };
	enum debug_verdict verdict;

	if (a->exception == 3) {
		t.kind = DEBUG_TRAP_INT3;
	} else if ((a->dr6 & DR6_BS) && vcpu_single_stepping(v)) {
		t.kind = DEBUG_TRAP_STEP;
	} else {
		t.kind = DEBUG_TRAP_DB;
	}
	verdict = ask(v, &t);
	if (verdict == DEBUG_NOT_OURS)
		reinject(v, a->exception == 3 ? KVM_GUESTDBG_INJECT_BP : KVM_GUESTDBG_INJECT_DB,
			 a->dr6);
	return 0;
}

/* The linear address of the instruction at CS:RIP. */
static uint64_t linear_rip(const struct vcpu *v)
{
	const struct kvm_sregs2 *s = &v->state.sregs;
	uint64_t rip = v->state.regs->rip;

	if ((s->efer & EFER_LMA) && s->cs.l)
		return rip;
	if (!(s->cr0 & 1) || !s->cs.db)
		rip &= 0xffff;
	return (s->cs.base + rip) & 0xffffffffull;
}

bool vcpu_debug_int3(struct vcpu *v, const uint8_t *bytes, unsigned n, int *result)
{
	struct debug_trap t = { .kind = DEBUG_TRAP_INT3 };

	if (!v->vm->debug.trap || n < 1 || bytes[0] != 0xcc)
		return false;
	if (cpu_state_get(&v->state, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_DEBUG, "guestdbg"))
		return false;
	t.addr = linear_rip(v);
	if (ask(v, &t) == DEBUG_NOT_OURS)
		return false;
	*result = 0;
	return true;
}

int vcpu_debug_step_done(struct vcpu *v)
{
	struct debug_trap t = { .kind = DEBUG_TRAP_STEP, .dr6 = DR6_BS };

	(void)ask(v, &t);
	return 0;
}
