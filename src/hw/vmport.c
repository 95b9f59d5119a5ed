/*
 * The VMware backdoor at port 0x5658: the device from the seed backtraces
 * that needs the vCPU's registers during an I/O exit.
 *
 * The guest puts the magic in EAX, the command in the low 16 bits of ECX
 * and executes IN or OUT on 0x5658 with any size.  The reply goes into
 * EAX..EDI.  Every command here needs the general registers only, so the
 * device asks the state engine for REGS alone: with KVM_CAP_SYNC_REGS they
 * are already in the kvm_run page after the exit, a call costs no ioctl,
 * and the reply reaches KVM through the same page at the next entry.
 *
 * A narrow IN (AL or AX) makes KVM merge only 1 or 2 bytes of the returned
 * data into RAX when it completes the instruction; since the reply was
 * also written to RAX through the registers, the guest sees all 32 bits.
 * Replies are 32-bit register writes, so they clear the upper halves, as
 * a 32-bit MOV would.
 *
 * CPL 3: an IN or OUT from user mode without I/O permission raises #GP in
 * the guest before any exit, unless the host loaded KVM with
 * enable_vmware_backdoor=1; then KVM intercepts the #GP, emulates the
 * access and it arrives here like any other (guest/tests/vmport_cpl3.c).
 *
 * Commands (open-vm-tools numbering):
 *   1  GETMHZ        EAX = TSC MHz, EBX = magic (unknown: both all ones)
 *   10 GETVERSION    EAX = 6, EBX = magic, ECX = 2 (ESX server)
 *   19 GETBIOSUUID   EAX..EDX = the UUID's 16 bytes as little-endian words
 *   20 GETMEMSIZE    EAX = RAM in MiB (QEMU answers bytes, truncated), EBX = 0x1177
 *   23 GETTIME       EAX = host UTC seconds, EBX = microseconds,
 *                    ECX = maximum lag (us), EDX = host UTC offset (minutes east)
 *   45 GETHZ         EAX:EBX = TSC Hz (low:high), ECX = APIC bus Hz;
 *                    EBX = all ones when the TSC frequency is unknown
 *   46 GETTIMEFULL   EAX = magic, ESI:EDX = seconds (high:low), EBX = us,
 *                    ECX = maximum lag
 *   68 GET_VCPU_INFO EAX bit 3 = legacy x2APIC OK (the vCPU has x2APIC),
 *                    bit 31 (reserved) clear
 * Any other command: EAX = 0xFFFFFFFF.  A wrong magic: nothing changes and
 * the access reads all ones.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "x86/cpuid.h"

#define VMPORT_MAGIC    0x564d5868u
#define VMX_VERSION     6
#define VMX_TYPE_ESX    2
#define MEMSIZE_MARK    0x1177
#define MAX_LAG_US      1000000u
/* KVM's emulated APIC bus runs at 1 GHz (one cycle per ns) unless the VMM
 * changes it with KVM_CAP_X86_APIC_BUS_CYCLES_NS, which shrike does not. */
#define APIC_BUS_HZ     1000000000u

#define CMD_GETMHZ        1
#define CMD_GETVERSION    10
#define CMD_GETBIOSUUID   19
#define CMD_GETMEMSIZE    20
#define CMD_GETTIME       23
#define CMD_GETHZ         45
#define CMD_GETTIMEFULL   46
#define CMD_GET_VCPU_INFO 68
#define VCPU_INFO_LEGACY_X2APIC (1u << 3)

struct vmport {
	struct vm *vm;
	struct ratelimit rl;
	uint64_t calls, no_magic;
};

static void set32(__u64 *reg, uint32_t v)
{
	*reg = v;
}

static void host_time(uint64_t *sec, uint32_t *usec, int32_t *utc_offset_min)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = (uint64_t)ts.tv_sec;
	*usec = (uint32_t)(ts.tv_nsec / 1000);
	if (utc_offset_min)
		*utc_offset_min = localtime_r(&ts.tv_sec, &tm) ? (int32_t)(tm.tm_gmtoff / 60) : 0;
}

/* Fills the reply; false for an unknown command. */
static bool run_command(struct vmport *vp, struct vcpu *v, struct kvm_regs *r, uint32_t cmd)
{
	const uint8_t *u = vp->vm->uuid;
	uint64_t hz = (uint64_t)v->tsc_khz * 1000, sec;
	uint32_t usec;
	int32_t utc_min;

	switch (cmd) {
	case CMD_GETMHZ:
		set32(&r->rax, v->tsc_khz ? v->tsc_khz / 1000 : 0xffffffffu);
		set32(&r->rbx, v->tsc_khz ? VMPORT_MAGIC : 0xffffffffu);
		return true;
	case CMD_GETVERSION:
		set32(&r->rax, VMX_VERSION);
		set32(&r->rbx, VMPORT_MAGIC);
		set32(&r->rcx, VMX_TYPE_ESX);
		return true;
	case CMD_GETBIOSUUID:
		set32(&r->rax, (uint32_t)u[0] | u[1] << 8 | u[2] << 16 | (uint32_t)u[3] << 24);
		set32(&r->rbx, (uint32_t)u[4] | u[5] << 8 | u[6] << 16 | (uint32_t)u[7] << 24);
		set32(&r->rcx, (uint32_t)u[8] | u[9] << 8 | u[10] << 16 | (uint32_t)u[11] << 24);
		set32(&r->rdx, (uint32_t)u[12] | u[13] << 8 | u[14] << 16 | (uint32_t)u[15] << 24);
		return true;
	case CMD_GETMEMSIZE:
		set32(&r->rax, (uint32_t)(vp->vm->mem.total >> 20));
		set32(&r->rbx, MEMSIZE_MARK);
		return true;
	case CMD_GETTIME:
		host_time(&sec, &usec, &utc_min);
		set32(&r->rax, (uint32_t)sec);
		set32(&r->rbx, usec);
		set32(&r->rcx, MAX_LAG_US);
		set32(&r->rdx, (uint32_t)utc_min);
		return true;
	case CMD_GETHZ:
		if (!hz) {
			set32(&r->rbx, 0xffffffffu);
			return true;
		}
		set32(&r->rax, (uint32_t)hz);
		set32(&r->rbx, (uint32_t)(hz >> 32));
		set32(&r->rcx, APIC_BUS_HZ);
		return true;
	case CMD_GETTIMEFULL:
		host_time(&sec, &usec, NULL);
		set32(&r->rax, VMPORT_MAGIC);
		set32(&r->rsi, (uint32_t)(sec >> 32));
		set32(&r->rdx, (uint32_t)sec);
		set32(&r->rbx, usec);
		set32(&r->rcx, MAX_LAG_US);
		return true;
	case CMD_GET_VCPU_INFO:
		set32(&r->rax, cpuid_has(v->cpuid, 1, 0, CPUID_ECX, 21) ? VCPU_INFO_LEGACY_X2APIC : 0);
		return true;
	default:
		return false;
	}
}

/* Runs the command in the vCPU's registers; false if the call is not a
 * backdoor call (wrong magic), leaving the registers untouched. */
static bool vmport_command(struct vmport *vp, struct vcpu *v)
{
	struct kvm_regs *r;

	if (cpu_state_get(&v->state, CPU_MASK(CPU_REGS), CAUSE_SYNC_STATE, "vmport:0x5658"))
		return false;
	r = v->state.regs;
	if ((uint32_t)r->rax != VMPORT_MAGIC) {
		__atomic_fetch_add(&vp->no_magic, 1, __ATOMIC_RELAXED);
		log_guest(&vp->rl, "vCPU %u: backdoor access without the magic (EAX 0x%x)",
			  v->index, (uint32_t)r->rax);
		return false;
	}
	__atomic_fetch_add(&vp->calls, 1, __ATOMIC_RELAXED);
	if (!run_command(vp, v, r, (uint32_t)r->rcx & 0xffff))
		set32(&r->rax, 0xffffffffu);
	cpu_state_dirty(&v->state, CPU_MASK(CPU_REGS), "vmport:0x5658");
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

static int vmport_create(struct vm *vm, const struct device_params *p)
{
	struct vmport *vp = calloc(1, sizeof(*vp));

	if (!vp)
		return -1;
	vp->vm = vm;
	vp->rl = (struct ratelimit)RATELIMIT_INIT;
	if (vm_add_device(vm, &vmport_model, vp)) {
		free(vp);
		return -1;
	}
	return iobus_register(&vm->pio, p->base, 1, &vmport_ops, vp, "vmport");
}

static void vmport_stats(void *opaque, FILE *f)
{
	struct vmport *vp = opaque;

	fprintf(f, "  vmport: %llu backdoor calls, %llu without the magic\n",
		(unsigned long long)vp->calls, (unsigned long long)vp->no_magic);
}

const struct device_model vmport_model = {
	.name = "vmport",
	.create = vmport_create,
	.stats = vmport_stats,
	.destroy = free,
};
