/*
 * The VMware backdoor at port 0x5658: the device from the seed backtraces
 * that needs the vCPU's registers during an I/O exit.
 *
 * The guest puts the magic in EAX, the command in the low 16 bits of ECX
 * and executes IN or OUT on 0x5658 with any size.  The reply goes into
 * EAX..EDI.  The device asks the state engine for the general registers
 * only; with KVM_CAP_SYNC_REGS they are already in the kvm_run page, so a
 * call costs no ioctl at all, and the reply reaches KVM through the same
 * page at the next entry.
 *
 * A narrow IN (AL or AX) makes KVM merge only 1 or 2 bytes of the returned
 * data into RAX when it completes the instruction; since the reply was
 * also written to RAX through the registers, the guest sees all 32 bits.
 */
#include <stdlib.h>

#include "core/log.h"
#include "core/vm.h"
#include "hw/devices.h"

#define VMPORT_PORT     0x5658
#define VMPORT_MAGIC    0x564d5868u
#define CMD_GETVERSION  10
#define VMX_VERSION     6
#define VMX_TYPE_ESX    2

struct vmport {
	struct vm *vm;
	struct ratelimit rl;
};

/* Runs the command in the vCPU's registers; false if the call is not a
 * backdoor call (wrong magic), leaving the registers untouched. */
static bool vmport_command(struct vmport *vp, struct vcpu *v)
{
	struct kvm_regs *r;
	uint32_t cmd;

	if (cpu_state_get(v, CPU_MASK(CPU_REGS), CAUSE_SYNC_STATE, "vmport:0x5658"))
		return false;
	r = v->state.regs;
	if ((uint32_t)r->rax != VMPORT_MAGIC) {
		log_guest(&vp->rl, "vCPU %u: backdoor access without the magic (EAX 0x%x)",
			  v->index, (uint32_t)r->rax);
		return false;
	}
	cmd = (uint32_t)r->rcx & 0xffff;
	switch (cmd) {
	case CMD_GETVERSION:
		r->rax = VMX_VERSION;
		r->rbx = VMPORT_MAGIC;
		r->rcx = VMX_TYPE_ESX;
		break;
	default:
		r->rax = 0xffffffffu;
		break;
	}
	cpu_state_dirty(v, CPU_MASK(CPU_REGS), "vmport:0x5658");
	return true;
}

static uint64_t vmport_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	(void)off, (void)size;
	if (!vcpu || !vmport_command(opaque, vcpu))
		return 0xffffffffu;
	return (uint32_t)vcpu->state.regs->rax;
}

static void vmport_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	(void)off, (void)value, (void)size;
	if (vcpu)
		vmport_command(opaque, vcpu);
}

static const struct io_ops vmport_ops = {
	.read = vmport_read, .write = vmport_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 4, .impl_max = 4,
};

int vmport_create(struct vm *vm)
{
	struct vmport *vp = calloc(1, sizeof(*vp));

	if (!vp)
		return -1;
	vp->vm = vm;
	vp->rl = (struct ratelimit)RATELIMIT_INIT;
	vm->vmport = vp;
	return iobus_register(&vm->pio, VMPORT_PORT, 1, &vmport_ops, vp, "vmport");
}

void vmport_destroy(struct vm *vm)
{
	free(vm->vmport);
	vm->vmport = NULL;
}
