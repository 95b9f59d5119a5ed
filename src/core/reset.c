/*
 * System reset in place.
 *
 * A reset request (i8042 0xFE, port 0xCF9, triple fault, KVM system event,
 * SIGHUP) sets reset_pending and pause_requested at once, kicks every vCPU
 * and wakes the main thread.  Setting pause_requested in the requesting
 * thread matters: the vCPU that asked must not run guest code again before
 * the reset (Cloud Hypervisor #5645).  Each vCPU then completes its pending
 * I/O (one KVM_RUN with immediate_exit, which runs no guest instruction)
 * and parks (vcpu.c).  Requests that arrive while one is pending are part
 * of it: several vCPUs asking at once give one reset.
 *
 * The main thread, once every vCPU is parked:
 *   1. resets every device (the RTC keeps its NVRAM, as on hardware) and
 *      puts the in-kernel PIC, IOAPIC and PIT back to their creation state;
 *   2. reloads the boot images (the rest of guest RAM is kept);
 *   3. queues to every vCPU thread, all at once, a work item that builds
 *      the architectural reset state (plus the direct-boot entry state on
 *      the boot CPU) without fetching anything from KVM, and writes it with
 *      one RESET-level put: FEATURE_CONTROL first, TSC = 1, kvmclock and
 *      the other PV MSRs 0, LAPIC reset, APs back to wait-for-SIPI
 *      (x86/cpustate.c, x86/reset.c);
 *   4. waits for all of them, then lets every vCPU run again.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/log.h"
#include "core/vm.h"
#include "x86/reset.h"

void vm_request_reset(struct vm *vm, const char *source)
{
	bool first;

	if (vm->cfg.on_reboot == REBOOT_EXIT) {
		vm_request_stop(vm, STOP_RESET, 0);
		return;
	}
	pthread_mutex_lock(&vm->pause_lock);
	first = !vm->reset_pending && !vm_stopping(vm);
	if (first) {
		vm->reset_pending = true;
		vm->reset_request_ns = now_ns();
		vm->reset_source = source;
	}
	pthread_mutex_unlock(&vm->pause_lock);
	if (!first)
		return;
	/* At once, in the requesting thread: the vCPU that asked must not
	 * run guest code again before the reset. */
	vm_pause_async(vm, PAUSE_RESET);
	vm_wake_main(vm);
}

static int reset_irqchip(struct vm *vm)
{
	if (!vm->kernel_irqchip)
		return 0;             /* split: the chips are devices, reset as such */
	for (unsigned i = 0; i < 3; i++) {
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &vm->irqchip_reset[i]) < 0) {
			log_error("reset: KVM_SET_IRQCHIP %u failed: %s", i, strerror(errno));
			return -errno;
		}
	}
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &vm->pit_reset) < 0) {
		log_error("reset: KVM_SET_PIT2 failed: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Work item, on each vCPU's own thread. */
static void reset_vcpu(struct vcpu *v, void *arg)
{
	struct vm *vm = v->vm;

	(void)arg;
	cpu_reset_state(&v->state, true);
	if (v->index == 0)
		cpu_boot_entry(&v->state, &vm->boot.entry);
	if (cpu_state_put(&v->state, PUT_RESET, CAUSE_POST_RESET, vm->reset_source)) {
		log_error("vCPU %u: the reset state was rejected by KVM", v->index);
		vm_request_stop(vm, STOP_ERROR, 1);
	}
	vm_put_done(vm);
}

static void resume_all(struct vm *vm)
{
	uint64_t latency = now_ns() - vm->reset_request_ns;

	pthread_mutex_lock(&vm->pause_lock);
	vm->reset_latency_ns[vm->resets % RESET_LATENCY_SAMPLES] = latency;
	vm->resets++;
	vm->reset_pending = false;
	pthread_mutex_unlock(&vm->pause_lock);
	vm_notify(vm, &(struct vm_event){ .type = VM_EV_RESET, .source = vm->reset_source,
					  .guest = strncmp(vm->reset_source, "host:", 5) != 0 });
	/* Other pauses (QMP stop, the debugger) outlive the reset. */
	vm_resume(vm, PAUSE_RESET);
}

void vm_reset_if_requested(struct vm *vm)
{
	char err[512];
	bool pending;

	/* Not while a snapshot is being written: it comes after. */
	if (__atomic_load_n(&vm->save_in_progress, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->pause_lock);
	pending = vm->reset_pending;
	vm->puts_done = 0;
	pthread_mutex_unlock(&vm->pause_lock);
	if (!pending || !vm_wait_paused(vm))
		return;
	for (unsigned i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].model->reset)
			vm->devices[i].model->reset(vm->devices[i].opaque);
	if (reset_irqchip(vm)) {
		vm_request_stop(vm, STOP_ERROR, 1);
		return;
	}
	if (boot_plan_commit(&vm->boot, &vm->mem, err, sizeof(err))) {
		log_error("reset: %s", err);
		vm_request_stop(vm, STOP_ERROR, 1);
		return;
	}
	/* Queue to all first, then wait: the puts run in parallel. */
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu_run_on_async(vm->vcpu[i], reset_vcpu, NULL)) {
			vm_request_stop(vm, STOP_ERROR, 1);
			return;
		}
	if (!vm_wait_puts(vm))
		return;
	resume_all(vm);
}
