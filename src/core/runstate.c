#include "core/runstate.h"

#include "core/chardev.h"
#include "core/vm.h"

static const char *const names[RS_NSTATES] = {
	[RS_PRELAUNCH] = "prelaunch",
	[RS_RUNNING] = "running",
	[RS_PAUSED] = "paused",
	[RS_DEBUG] = "debug",
	[RS_INMIGRATE] = "inmigrate",
	[RS_FINISH_MIGRATE] = "finish-migrate",
	[RS_POSTMIGRATE] = "postmigrate",
	[RS_SHUTDOWN] = "shutdown",
	[RS_GUEST_PANICKED] = "guest-panicked",
	[RS_INTERNAL_ERROR] = "internal-error",
};

const char *run_state_name(enum run_state s)
{
	return s < RS_NSTATES ? names[s] : "?";
}

bool run_state_is_running(enum run_state s)
{
	return s == RS_RUNNING;
}

enum run_state vm_run_state(const struct vm *vm)
{
	return __atomic_load_n(&vm->run_state, __ATOMIC_ACQUIRE);
}

void vm_set_run_state(struct vm *vm, enum run_state s)
{
	enum run_state old = vm_run_state(vm);

	if (old == s)
		return;
	__atomic_store_n(&vm->run_state, s, __ATOMIC_RELEASE);
	vm_notify(vm, &(struct vm_event){ .type = VM_EV_RUN_STATE, .old = old, .now = s });
}

int vm_add_listener(struct vm *vm, vm_listener fn, void *opaque)
{
	if (vm->nlisteners >= VM_MAX_LISTENERS)
		return -1;
	vm->listeners[vm->nlisteners].fn = fn;
	vm->listeners[vm->nlisteners++].opaque = opaque;
	return 0;
}

void vm_remove_listener(struct vm *vm, void *opaque)
{
	for (unsigned i = 0; i < vm->nlisteners;) {
		if (vm->listeners[i].opaque == opaque) {
			vm->listeners[i] = vm->listeners[--vm->nlisteners];
		} else {
			i++;
		}
	}
}

void vm_notify(struct vm *vm, const struct vm_event *ev)
{
	for (unsigned i = 0; i < vm->nlisteners; i++)
		vm->listeners[i].fn(vm->listeners[i].opaque, ev);
}

bool vm_pause_requested(const struct vm *vm)
{
	return __atomic_load_n(&vm->pause_mask, __ATOMIC_ACQUIRE) != 0;
}

unsigned vm_pause_reasons(const struct vm *vm)
{
	return __atomic_load_n(&vm->pause_mask, __ATOMIC_ACQUIRE);
}

void vm_pause_async(struct vm *vm, unsigned reason)
{
	unsigned before;

	pthread_mutex_lock(&vm->pause_lock);
	before = vm->pause_mask;
	__atomic_store_n(&vm->pause_mask, before | reason, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause_lock);
	if (before)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(vm->vcpu[i]);
	/* A vCPU waiting for the serial reader must come back to park. */
	chardev_interrupt(&vm->console);
}

/* Waits until *count (under pause_lock) covers every vCPU; false if the VM
 * stops first (vm_request_stop wakes pause_cond). */
static bool wait_every_vcpu(struct vm *vm, const unsigned *count)
{
	pthread_mutex_lock(&vm->pause_lock);
	while (*count < vm->ncpus && !vm_stopping(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	return !vm_stopping(vm);
}

bool vm_wait_paused(struct vm *vm)
{
	return wait_every_vcpu(vm, &vm->paused);
}

void vm_put_done(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->puts_done++;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

bool vm_wait_puts(struct vm *vm)
{
	return wait_every_vcpu(vm, &vm->puts_done);
}

bool vm_pause(struct vm *vm, unsigned reason)
{
	vm_pause_async(vm, reason);
	return vm_wait_paused(vm);
}

void vm_resume(struct vm *vm, unsigned reason)
{
	unsigned after;

	pthread_mutex_lock(&vm->pause_lock);
	after = vm->pause_mask & ~reason;
	__atomic_store_n(&vm->pause_mask, after, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause_lock);
	if (after)
		return;
	/* Parked vCPUs wait on their own condition variable: wake each. */
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(vm->vcpu[i]);
}
