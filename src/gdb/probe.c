/*
 * What guest debugging does on this host, found out with a throwaway VM
 * (no irqchip, one vCPU, 64 KiB, flat 32-bit protected mode at CPL 0) when
 * the debugger's server starts, instead of assumed:
 *
 *   - do data breakpoints (DR7 R/W = 01) raise KVM_EXIT_DEBUG?  Not where
 *     KVM emulates kernel code: its emulator checks code breakpoints only;
 *   - does KVM_GUESTDBG_USE_SW_BP turn an int3 into KVM_EXIT_DEBUG?  Where
 *     KVM emulates kernel code the int3 comes back as an emulation failure
 *     instead (handled by core/guestdbg.c either way);
 *   - which KVM_GUESTDBG_* flags KVM takes (KVM_CAP_SET_GUEST_DEBUG2);
 *   - do code breakpoints stop the guest at all?
 *
 * Costs about a millisecond; the VM has no in-kernel irqchip, whose
 * teardown would cost 20 ms here.
 */
#include "gdb/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef KVM_CAP_SET_GUEST_DEBUG2
#define KVM_CAP_SET_GUEST_DEBUG2 195
#endif

#define PROBE_MEM 0x10000
#define CODE 0x1000
#define DATA 0x2000

struct probe_vm {
	int vm, cpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static void probe_vm_close(struct probe_vm *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->cpu >= 0)
		close(p->cpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->mem)
		munmap(p->mem, PROBE_MEM);
}

static int probe_vm_open(int kvm_fd, struct probe_vm *p)
{
	struct kvm_userspace_memory_region slot = { .memory_size = PROBE_MEM };
	int size;

	*p = (struct probe_vm){ .vm = -1, .cpu = -1 };
	p->vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	p->mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->vm < 0 || p->mem == MAP_FAILED) {
		p->mem = NULL;
		return -1;
	}
	slot.userspace_addr = (uintptr_t)p->mem;
	if (ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return -1;
	p->cpu = ioctl(p->vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (p->cpu < 0 || size <= 0)
		return -1;
	p->run_size = (size_t)size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->cpu, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return -1;
	}
	return 0;
}

/* Flat 32-bit protected mode, CPL 0, no IDT (an exception that reaches
 * the guest ends in a triple fault: KVM_EXIT_SHUTDOWN, never a hang). */
static int enter_at(struct probe_vm *p, uint64_t rip)
{
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
				    .present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1 };
	struct kvm_segment data = code;
	struct kvm_regs regs = { .rip = rip, .rflags = 2 };
	struct kvm_sregs s;

	if (ioctl(p->cpu, KVM_GET_SREGS, &s))
		return -1;
	data.type = 3;
	data.selector = 16;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 |= 1;
	s.idt.limit = 0;
	if (ioctl(p->cpu, KVM_SET_SREGS, &s) || ioctl(p->cpu, KVM_SET_REGS, &regs))
		return -1;
	return 0;
}

/* Runs until an exit that is not port I/O; returns the exit reason or -1. */
static int run_once(struct probe_vm *p, const struct kvm_guest_debug *dbg)
{
	if (ioctl(p->cpu, KVM_SET_GUEST_DEBUG, dbg) || ioctl(p->cpu, KVM_RUN, 0))
		return -1;
	return (int)p->run->exit_reason;
}

static bool data_breakpoints_fire(struct probe_vm *p)
{
	/* mov byte [DATA], 1 ; hlt */
	static const uint8_t code[] = { 0xc6, 0x05, DATA & 0xff, DATA >> 8, 0, 0, 0x01, 0xf4 };
	struct kvm_guest_debug d = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP };

	memcpy(p->mem + CODE, code, sizeof(code));
	d.arch.debugreg[0] = DATA;
	d.arch.debugreg[7] = 1 | (1u << 16) | (1u << 10);   /* L0, write, 1 byte */
	if (enter_at(p, CODE))
		return false;
	return run_once(p, &d) == KVM_EXIT_DEBUG && (p->run->debug.arch.dr6 & 1);
}

static bool sw_breakpoints_exit(struct probe_vm *p)
{
	static const uint8_t code[] = { 0xcc, 0xf4 };   /* int3 ; hlt */
	struct kvm_guest_debug d = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP };

	memcpy(p->mem + CODE + 0x100, code, sizeof(code));
	if (enter_at(p, CODE + 0x100))
		return false;
	return run_once(p, &d) == KVM_EXIT_DEBUG && p->run->debug.arch.exception == 3;
}

/* Does an execution breakpoint (DR7 R/W = 00) stop the guest with
 * KVM_EXIT_DEBUG?  Not on every KVM: QEMU's TCG emulating AMD-V delivers
 * none to the KVM inside it (single steps there stop 32-bit code but not
 * a long-mode guest's, and int3 breakpoints do not stop it either). */
static bool code_breakpoints_fire(struct probe_vm *p)
{
	static const uint8_t code[] = { 0x90, 0x90, 0xf4 };   /* nop ; nop ; hlt */
	struct kvm_guest_debug hw = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP };

	memcpy(p->mem + CODE + 0x200, code, sizeof(code));
	hw.arch.debugreg[0] = CODE + 0x201;
	hw.arch.debugreg[7] = 1 | (1u << 10);                 /* L0, execute */
	return enter_at(p, CODE + 0x200) == 0 && run_once(p, &hw) == KVM_EXIT_DEBUG &&
	       (p->run->debug.arch.dr6 & 1);
}

int gdb_probe_host(int kvm_fd, struct gdb_host_caps *caps)
{
	struct probe_vm p;
	int flags, r = -1;

	memset(caps, 0, sizeof(*caps));
	if (probe_vm_open(kvm_fd, &p) == 0) {
		flags = ioctl(p.vm, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
		caps->guest_debug_flags = flags > 0 ? (unsigned)flags : 0;
		caps->debug_exits = code_breakpoints_fire(&p);
		caps->hw_data_breakpoints = data_breakpoints_fire(&p);
		caps->sw_bp_exit = sw_breakpoints_exit(&p);
		r = 0;
	}
	probe_vm_close(&p);
	return r;
}
