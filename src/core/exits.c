#include "core/exits.h"

#include <stdio.h>
#include <string.h>

#include "core/guestdbg.h"
#include "base/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "x86/emulate/emulate.h"
#include "x86/report.h"

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "unknown", [KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io", [KVM_EXIT_HYPERCALL] = "hypercall", [KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt", [KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open", [KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry", [KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr", [KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_NMI] = "nmi", [KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event", [KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
	[KVM_EXIT_X86_RDMSR] = "x86_rdmsr", [KVM_EXIT_X86_WRMSR] = "x86_wrmsr",
	[KVM_EXIT_DIRTY_RING_FULL] = "dirty_ring_full", [KVM_EXIT_X86_BUS_LOCK] = "x86_bus_lock",
	[KVM_EXIT_NOTIFY] = "notify",
};

const char *exit_reason_name(unsigned reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "other";
}

static int handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;
	uint8_t *data;

	/* KVM fills these, but a bad offset would make us scribble outside
	 * the kvm_run mapping: check rather than trust. */
	if (run->io.data_offset >= v->run_size || bytes > v->run_size - run->io.data_offset ||
	    (run->io.size != 1 && run->io.size != 2 && run->io.size != 4)) {
		log_error("vCPU %u: malformed I/O exit (size %u, count %u, offset %llu)", v->index,
			  run->io.size, run->io.count, (unsigned long long)run->io.data_offset);
		return -1;
	}
	data = (uint8_t *)run + run->io.data_offset;
	/* String I/O (rep ins/outs) arrives as one exit with count > 1. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			iobus_write(&v->vm->pio, v, run->io.port, data, run->io.size);
		else
			iobus_read(&v->vm->pio, v, run->io.port, data, run->io.size);
	}
	return 0;
}

static int handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data)) {
		__atomic_fetch_add(&v->vm->mmio.count.invalid, 1, __ATOMIC_RELAXED);
		log_guest(&v->vm->rl, "vCPU %u: MMIO access of %u bytes ignored", v->index, len);
		return 0;
	}
	if (run->mmio.is_write)
		iobus_write(&v->vm->mmio, v, run->mmio.phys_addr, run->mmio.data, len);
	else
		iobus_read(&v->vm->mmio, v, run->mmio.phys_addr, run->mmio.data, len);
	return 0;
}

static int handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(v->vm, STOP_POWEROFF, 0);
		return -1;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_reset(v->vm, "system_event");
		return 0;
	case KVM_SYSTEM_EVENT_CRASH:
		x86_report_failure(&v->state, "guest crashed (KVM system event)");
		vm_request_stop(v->vm, STOP_ERROR, 1);
		return -1;
	default:
		log_error("vCPU %u: unknown system event %u", v->index, v->run->system_event.type);
		vm_request_stop(v->vm, STOP_ERROR, 1);
		return -1;
	}
}

static const char *suberror_name(uint32_t sub)
{
	switch (sub) {
	case KVM_INTERNAL_ERROR_EMULATION:         return "emulation failure";
	case KVM_INTERNAL_ERROR_SIMUL_EX:          return "exception during event delivery";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:       return "event delivery failed";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: return "unexpected exit reason";
	default:                                   return "unknown";
	}
}

static int handle_fatal(struct vcpu *v, const char *what)
{
	x86_report_failure(&v->state, what);
	vm_request_stop(v->vm, STOP_ERROR, 1);
	return -1;
}

/*
 * KVM's emulator gave up on an instruction: shrike completes it if it can
 * (x86/emulate/), else reports, naming the instruction.
 */

/* ---- the instruction completer's view of this vCPU (x86/emulate) ---- */

static int emu_get(void *opaque, unsigned classes, enum sync_cause cause, const char *origin)
{
	return cpu_state_get(&((struct vcpu *)opaque)->state, classes, cause, origin);
}

static void emu_dirty(void *opaque, unsigned classes, const char *origin)
{
	cpu_state_dirty(&((struct vcpu *)opaque)->state, classes, origin);
}

static int emu_msr_read(void *opaque, uint32_t index, uint64_t *value)
{
	return cpu_state_msr_read(&((struct vcpu *)opaque)->state, index, value);
}

static void emu_mmio(void *opaque, uint64_t gpa, void *buf, unsigned n, bool write)
{
	struct vcpu *v = opaque;

	if (write)
		iobus_write(&v->vm->mmio, v, gpa, buf, n);
	else
		iobus_read(&v->vm->mmio, v, gpa, buf, n);
}

static bool emu_single_stepping(void *opaque)
{
	return vcpu_single_stepping(opaque);
}

static struct emu_platform emu_platform_of(struct vcpu *v)
{
	return (struct emu_platform){
		.opaque = v, .state = &v->state, .cpuid = v->cpuid_seen, .mem = &v->vm->mem,
		.origin = v->emu_origin, .origin_len = sizeof(v->emu_origin),
		.get = emu_get, .dirty = emu_dirty, .msr_read = emu_msr_read, .mmio = emu_mmio,
		.single_stepping = emu_single_stepping, .stats = v->vm->emu_stats,
	};
}

static int handle_internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct emu_platform p = emu_platform_of(v);
	char what[200];
	const char *m = NULL;

	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size <= sizeof(run->emulation_failure.insn_bytes)) {
		const uint8_t *b = run->emulation_failure.insn_bytes;
		unsigned n = run->emulation_failure.insn_size;
		int r;

		/* The debugger's breakpoints come first: an int3 shrike placed
		 * is never the guest's. */
		if (vcpu_debug_int3(v, b, n, &r))
			return r;
		if (v->vm->cfg.emulate) {
			switch (x86_emulate(&p, b, n)) {
			case EMU_DONE:
				return 0;
			case EMU_DEBUG_STEP:
				return vcpu_debug_step_done(v);
			default:
				break;
			}
		}
		m = x86_mnemonic(&p, b, n);
	}
	snprintf(what, sizeof(what), "KVM internal error, suberror %u (%s)%s%s%s",
		 run->internal.suberror, suberror_name(run->internal.suberror),
		 m ? ", instruction " : "", m ? m : "",
		 m && v->vm->cfg.emulate ? " (shrike does not complete it)" : "");
	return handle_fatal(v, what);
}

int vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char what[160];

	if (vm_stopping(v->vm))
		return -1;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v);
	case KVM_EXIT_MMIO:
		return handle_mmio(v);
	case KVM_EXIT_HLT:
		/* With the in-kernel LAPIC, HLT sleeps inside KVM_RUN; an HLT
		 * exit can only mean a spurious wakeup: run again. */
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		/* A triple fault: the CPU shut down, the chipset resets. */
		x86_report_triple_fault(&v->state, v->vm->cfg.on_reboot == REBOOT_RESET);
		vm_request_reset(v->vm, "triple_fault");
		return 0;
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(v);
	case KVM_EXIT_DEBUG:
		return vcpu_handle_debug_exit(v);
	case KVM_EXIT_IOAPIC_EOI:
		irq_eoi(v, v->run->eoi.vector);
		return 0;
	case KVM_EXIT_INTERNAL_ERROR:
		return handle_internal_error(v);
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "KVM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return handle_fatal(v, what);
	default:
		snprintf(what, sizeof(what), "unhandled KVM exit %u (%s)", run->exit_reason,
			 exit_reason_name(run->exit_reason));
		return handle_fatal(v, what);
	}
}
