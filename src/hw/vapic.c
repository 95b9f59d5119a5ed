/*
 * The vapic hypercall port 0x7e (QEMU's kvmvapic): the option ROM that
 * patches 32-bit Windows' TPR accesses talks to the VMM through it.
 *
 *   16-bit write v: the ROM registers its state structure, found at
 *                   ((CS.base + EIP) & ~511) + v in guest-physical memory
 *                   (the ROM runs with paging off, so linear = physical)
 *                   and starting with the signature "kvm aPiC";
 *    8-bit write:   reactivation after the guest's copy of the ROM ran
 *                   again (resume from hibernation);
 *   32-bit write:   IRQ poll; nothing to do with the in-kernel irqchip.
 * Reads return all ones.
 *
 * A registration needs CS.base and EIP: REGS and SREGS, both free with
 * KVM_CAP_SYNC_REGS in lazy mode.  KVM's quirk KVM_X86_QUIRK_OUT_7E_INC_RIP
 * (on by default) advances RIP past the OUT before this exit, unlike any
 * other port: EIP already points after the instruction, which still lies
 * in the ROM's 512-byte block, and shrike must not advance it again (it
 * does not touch RIP at all), so the guest resumes after the OUT.
 *
 * shrike does not patch guest code as QEMU does: it records and validates
 * the registration (the state QEMU's patching starts from) and counts the
 * calls (--stats).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define ROM_BLOCK_MASK  (~511ull)
#define VAPIC_SIGNATURE "kvm aPiC"

struct vapic {
	struct vm *vm;
	pthread_mutex_t lock;
	struct ratelimit rl;
	bool registered;
	uint64_t rom_state_gpa;
	unsigned registrations, refused, reactivations, polls;
};

static bool signature_at(struct vm *vm, uint64_t gpa)
{
	const void *p = gpa_to_hva(&vm->mem, gpa, 8);

	return p && !memcmp(p, VAPIC_SIGNATURE, 8);
}

static void do_register(struct vapic *va, struct vcpu *v, uint16_t offset)
{
	uint64_t rom;

	if (cpu_state_get(&v->state, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_SYNC_STATE,
			  "vapic:0x7e"))
		return;
	rom = ((v->state.sregs.cs.base + v->state.regs->rip) & ROM_BLOCK_MASK) + offset;
	pthread_mutex_lock(&va->lock);
	if (signature_at(va->vm, rom)) {
		va->registered = true;
		va->rom_state_gpa = rom;
		va->registrations++;
	} else {
		va->refused++;
		log_guest(&va->rl, "vCPU %u: vapic registration refused: no '%s' signature at "
			  "guest-physical 0x%llx", v->index, VAPIC_SIGNATURE, (unsigned long long)rom);
	}
	pthread_mutex_unlock(&va->lock);
}

static void do_reactivate(struct vapic *va, struct vcpu *v)
{
	pthread_mutex_lock(&va->lock);
	if (va->registered && signature_at(va->vm, va->rom_state_gpa))
		va->reactivations++;
	else
		log_guest(&va->rl, "vCPU %u: vapic reactivation without a registered ROM", v->index);
	pthread_mutex_unlock(&va->lock);
}

static uint64_t vapic_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)size;
	return ~0ull;
}

static void vapic_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			unsigned size)
{
	struct vapic *va = opaque;

	if (!vcpu || off != 0)
		return;
	if (size == 2) {
		do_register(va, vcpu, (uint16_t)value);
	} else if (size == 1) {
		do_reactivate(va, vcpu);
	} else {
		pthread_mutex_lock(&va->lock);
		va->polls++;
		pthread_mutex_unlock(&va->lock);
	}
}

static const struct io_ops vapic_ops = {
	.read = vapic_read, .write = vapic_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 4,
};

/* A reset forgets the registration: the ROM registers again at boot.  The
 * counters are statistics and stay. */
static void vapic_reset(void *opaque)
{
	struct vapic *va = opaque;

	pthread_mutex_lock(&va->lock);
	va->registered = false;
	va->rom_state_gpa = 0;
	pthread_mutex_unlock(&va->lock);
}

static void vapic_destroy(void *opaque)
{
	struct vapic *va = opaque;

	pthread_mutex_destroy(&va->lock);
	free(va);
}

static int vapic_create(struct vm *vm, const struct device_params *p)
{
	struct vapic *va = calloc(1, sizeof(*va));

	if (!va)
		return -1;
	va->vm = vm;
	va->rl = (struct ratelimit)RATELIMIT_INIT;
	pthread_mutex_init(&va->lock, NULL);
	if (vm_add_device(vm, &vapic_model, va)) {
		vapic_destroy(va);
		return -1;
	}
	return iobus_register(&vm->pio, p->base, 2, &vapic_ops, va, "vapic");
}

static void vapic_stats(void *opaque, FILE *f)
{
	const struct vapic *va = opaque;

	if (va->registered)
		fprintf(f, "shrike: stats: vapic: ROM state at 0x%llx",
			(unsigned long long)va->rom_state_gpa);
	else
		fprintf(f, "shrike: stats: vapic: no ROM state registered");
	fprintf(f, " (%u registrations, %u refused, %u reactivations, %u polls)\n",
		va->registrations, va->refused, va->reactivations, va->polls);
}

static int vapic_save(void *opaque, struct snap_writer *w)
{
	struct vapic *va = opaque;

	pthread_mutex_lock(&va->lock);
	snap_put_u8(w, va->registered);
	snap_put_u64(w, va->rom_state_gpa);
	snap_put_u32(w, va->registrations);
	snap_put_u32(w, va->refused);
	snap_put_u32(w, va->reactivations);
	snap_put_u32(w, va->polls);
	pthread_mutex_unlock(&va->lock);
	return 0;
}

static int vapic_load(void *opaque, struct snap_reader *r)
{
	struct vapic *va = opaque;
	bool reg = snap_get_u8(r) != 0;
	uint64_t gpa = snap_get_u64(r);
	uint32_t c[4];

	for (int i = 0; i < 4; i++)
		c[i] = snap_get_u32(r);
	if (!snap_done(r))
		return -1;
	pthread_mutex_lock(&va->lock);
	va->registered = reg;
	va->rom_state_gpa = gpa;
	va->registrations = c[0];
	va->refused = c[1];
	va->reactivations = c[2];
	va->polls = c[3];
	pthread_mutex_unlock(&va->lock);
	return 0;
}

const struct device_model vapic_model = {
	.save = vapic_save,
	.load = vapic_load,
	.name = "vapic",
	.create = vapic_create,
	.reset = vapic_reset,
	.stats = vapic_stats,
	.destroy = vapic_destroy,
};
