#include "core/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/exits.h"
#include "base/log.h"
#include "base/thread.h"
#include "core/sandbox.h"
#include "core/vm.h"
#include "x86/cpuid.h"

#define SIG_KICK SIGUSR1

/* The vCPU whose thread this is (NULL on other threads). */
static __thread struct vcpu *current_vcpu;

static void kick_handler(int sig)
{
	/* Nothing to do: the signal only interrupts KVM_RUN; immediate_exit,
	 * set before the signal was sent, covers the window before it. */
	(void)sig;
}

void vcpu_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_KICK, &sa, NULL);
}

int vcpu_create(struct vm *vm, unsigned index, struct vcpu **out)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	int mmap_size, r;

	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->index = index;
	v->fd = -1;
	snprintf(v->name, sizeof(v->name), "CPU %u/KVM", index);
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	*out = v;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		r = -errno;
		log_error("KVM_CREATE_VCPU %u failed: %s", index, strerror(errno));
		return r;
	}
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		log_error("KVM_GET_VCPU_MMAP_SIZE failed");
		return -EIO;
	}
	v->run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		log_error("cannot map kvm_run of vCPU %u: %s", index, strerror(errno));
		return -errno;
	}
	v->run_size = (size_t)mmap_size;
	v->cpuid = cpuid_for_vcpu(vm->cpuid_base, index, vm->ncpus);
	if (!v->cpuid)
		return -ENOMEM;
	if (ioctl(v->fd, KVM_SET_CPUID2, v->cpuid) < 0) {
		r = -errno;
		log_error("KVM_SET_CPUID2 on vCPU %u failed: %s", index, strerror(errno));
		return r;
	}
	/* What the guest really gets: some back-ends force bits on. */
	v->cpuid_seen = cpuid_read_back(v->fd, v->cpuid);
	if (!v->cpuid_seen)
		return -ENOMEM;
	/* Configuration, not state: read once, used by devices (GETHZ). */
	r = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	v->tsc_khz = r > 0 ? (uint32_t)r : 0;
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	cpu_state_free(&v->state);
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v->cpuid);
	free(v->cpuid_seen);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->cond);
	free(v);
}

bool vcpu_owned(const struct vcpu *v)
{
	return current_vcpu == v || !__atomic_load_n(&v->in_loop, __ATOMIC_ACQUIRE);
}

int vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg)
{
	int r;

	if (!vcpu_owned(v)) {
		log_error("vCPU %u: ioctl 0x%lx from a foreign thread refused", v->index, req);
		return -EPERM;
	}
	v->stats.ioctls++;
	r = ioctl(v->fd, req, arg);
	return r < 0 ? -errno : r;
}

static int port_ioctl(void *owner, unsigned long req, void *arg)
{
	return vcpu_ioctl(owner, req, arg);
}

int vcpu_state_init(struct vcpu *v)
{
	const struct vm *vm = v->vm;
	struct cpu_port port = {
		.index = v->index, .name = v->name, .run = v->run, .caps = &vm->caps,
		.msrs = &vm->msrs, .cpuid = v->cpuid, .sync = vm->cfg.sync, .trace = &vm->trace,
		.stats = &v->stats.sync, .mem = &vm->mem, .rl = &v->vm->rl,
		.ioctl = port_ioctl, .owner = v,
	};

	return cpu_state_init(&v->state, &port);
}

void vcpu_kick(struct vcpu *v)
{
	/* immediate_exit first: if the thread is between its last check and
	 * KVM_RUN, KVM returns -EINTR at once instead of the signal being
	 * lost.  Then the signal, for a thread already inside KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&v->lock);
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	if (v->thread_started)
		pthread_kill(v->thread, SIG_KICK);
	/* A vCPU waiting for the serial reader must see queued work too. */
	chardev_interrupt(&v->vm->console);
}

bool vcpu_is_current(const struct vcpu *v)
{
	return current_vcpu == v;
}

bool vcpu_current_has_work(void)
{
	return current_vcpu && __atomic_load_n(&current_vcpu->work_head, __ATOMIC_ACQUIRE);
}

/* Appends an item unless the vCPU's thread is not in its loop (then the
 * caller owns the vCPU and runs the item itself). */
static bool queue_work(struct vcpu *v, struct vcpu_work *w)
{
	pthread_mutex_lock(&v->lock);
	if (!v->in_loop) {
		pthread_mutex_unlock(&v->lock);
		return false;
	}
	w->next = NULL;
	if (v->work_tail)
		v->work_tail->next = w;
	else
		__atomic_store_n(&v->work_head, w, __ATOMIC_RELEASE);
	v->work_tail = w;
	pthread_mutex_unlock(&v->lock);
	vcpu_kick(v);
	return true;
}

void vcpu_run_on(struct vcpu *v, void (*fn)(struct vcpu *, void *), void *arg)
{
	struct vcpu_work w = { .fn = fn, .arg = arg };

	if (current_vcpu == v || !queue_work(v, &w)) {
		fn(v, arg);
		return;
	}
	pthread_mutex_lock(&v->lock);
	while (!w.done)
		pthread_cond_wait(&v->cond, &v->lock);
	pthread_mutex_unlock(&v->lock);
}

int vcpu_run_on_async(struct vcpu *v, void (*fn)(struct vcpu *, void *), void *arg)
{
	struct vcpu_work *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->arg = arg;
	w->heap = true;
	if (!queue_work(v, w)) {
		free(w);
		fn(v, arg);
	}
	return 0;
}

/* Runs every queued item; on the vCPU thread only. */
static void process_work(struct vcpu *v)
{
	/* The common case on the exit path: nothing queued, no lock taken.  A
	 * racing queue_work() is not missed: it kicks after appending, so the
	 * next KVM_RUN returns at once and this runs again. */
	if (!__atomic_load_n(&v->work_head, __ATOMIC_ACQUIRE))
		return;
	for (;;) {
		struct vcpu_work *w;

		pthread_mutex_lock(&v->lock);
		w = v->work_head;
		if (w) {
			__atomic_store_n(&v->work_head, w->next, __ATOMIC_RELEASE);
			if (!v->work_head)
				v->work_tail = NULL;
		}
		pthread_mutex_unlock(&v->lock);
		if (!w)
			return;
		w->fn(v, w->arg);
		if (w->heap) {
			free(w);
			continue;
		}
		pthread_mutex_lock(&v->lock);
		w->done = true;
		pthread_cond_broadcast(&v->cond);
		pthread_mutex_unlock(&v->lock);
	}
}

/* Parks the thread until it may run, has work, or the VM stops. */
static void wait_until_runnable(struct vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	while (!v->running && !v->work_head && !vm_stopping(v->vm))
		pthread_cond_wait(&v->cond, &v->lock);
	pthread_mutex_unlock(&v->lock);
}

/*
 * Completes the I/O the last exit left pending without running guest code:
 * KVM finishes an IN/OUT/MMIO only on the next KVM_RUN, and with
 * immediate_exit set that KVM_RUN returns -EINTR right after doing so.
 */
static void complete_pending_io(struct vcpu *v)
{
	if (cpu_state_put(&v->state, PUT_RUNTIME, CAUSE_EXEC, NULL))
		log_error("vCPU %u: writing back register state failed", v->index);
	cpu_state_before_run(&v->state);
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (ioctl(v->fd, KVM_RUN, 0) == 0)
		log_error("vCPU %u: KVM_RUN with immediate_exit ran the guest", v->index);
	v->stats.ioctls++;
	cpu_state_after_run(&v->state);
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
	v->io_pending = false;
}

static bool must_park(const struct vcpu *v)
{
	return vm_pause_requested(v->vm) || __atomic_load_n(&v->held, __ATOMIC_ACQUIRE);
}

void vcpu_hold(struct vcpu *v, bool hold)
{
	__atomic_store_n(&v->held, hold, __ATOMIC_RELEASE);
	vcpu_kick(v);
}

/* Parks the vCPU while the VM is paused (core/runstate.h) or the vCPU is
 * held, running the work queued to it meanwhile (a reset put, a state get
 * for the control socket or the debugger). */
static void pause_point(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (v->io_pending)
		complete_pending_io(v);
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused++;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	pthread_mutex_lock(&v->lock);
	while (must_park(v) && !vm_stopping(vm)) {
		if (v->work_head) {
			pthread_mutex_unlock(&v->lock);
			process_work(v);
			pthread_mutex_lock(&v->lock);
			continue;
		}
		pthread_cond_wait(&v->cond, &v->lock);
	}
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused--;
	pthread_mutex_unlock(&vm->pause_lock);
	/* A kick that woke us is spent. */
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
}

static void fail(struct vcpu *v, const char *what)
{
	log_error("vCPU %u: %s", v->index, what);
	vm_request_stop(v->vm, STOP_ERROR, 1);
}

static void run_loop(struct vcpu *v)
{
	for (;;) {
		int r;

		process_work(v);
		if (vm_stopping(v->vm))
			return;
		if (!__atomic_load_n(&v->running, __ATOMIC_ACQUIRE)) {
			wait_until_runnable(v);
			continue;
		}
		if (must_park(v)) {
			pause_point(v);
			continue;
		}
		if (cpu_state_put(&v->state, PUT_RUNTIME, CAUSE_EXEC, NULL)) {
			fail(v, "writing back register state failed");
			return;
		}
		cpu_state_before_run(&v->state);
		if (v->index == 0 && v->vm->irq.split)
			irq_before_run(v);
		if (v->index == 0 && !v->vm->timeline[TL_FIRST_RUN])
			v->vm->timeline[TL_FIRST_RUN] = now_ns();
		r = ioctl(v->fd, KVM_RUN, 0);
		v->stats.ioctls++;
		cpu_state_after_run(&v->state);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* A kick: clear it before looking at the work queue,
				 * so a kick that arrives after the check still stops
				 * the next KVM_RUN. */
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
				v->io_pending = false;
				continue;
			}
			log_error("vCPU %u: KVM_RUN failed: %s", v->index, strerror(errno));
			vm_request_stop(v->vm, STOP_ERROR, 1);
			return;
		}
		if (v->run->exit_reason < EXIT_REASON_MAX)
			v->stats.exits[v->run->exit_reason]++;
		v->io_pending = v->run->exit_reason == KVM_EXIT_IO ||
				v->run->exit_reason == KVM_EXIT_MMIO;
		if (vcpu_handle_exit(v) < 0)
			return;
	}
}

/* Before the first guest instruction: the vCPU thread's allow-list. */
static bool install_sandbox(struct vcpu *v)
{
	char err[200];

	if (!sandbox_install(ROLE_VCPU, (enum sandbox_mode)v->vm->cfg.seccomp, err, sizeof(err)))
		return true;
	log_error("vCPU %u: %s", v->index, err);
	vm_request_stop(v->vm, STOP_ERROR, 1);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;

	current_vcpu = v;
	pthread_setname_np(pthread_self(), v->name);
	__atomic_store_n(&v->tid, (int)gettid(), __ATOMIC_RELEASE);
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (install_sandbox(v))
		run_loop(v);
	/* Leave the loop, then drain: nothing can be queued after in_loop is
	 * cleared, so no waiter is left behind. */
	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->in_loop, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&v->lock);
	process_work(v);
	return NULL;
}

int vcpu_start_thread(struct vcpu *v)
{
	int r;

	__atomic_store_n(&v->in_loop, true, __ATOMIC_RELEASE);
	r = thread_start(&v->thread, vcpu_thread, v);
	if (r) {
		__atomic_store_n(&v->in_loop, false, __ATOMIC_RELEASE);
		log_error("cannot start the thread of vCPU %u: %s", v->index, strerror(r));
		return -r;
	}
	v->thread_started = true;
	return 0;
}

void vcpu_resume(struct vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->running, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->thread_started)
		return;
	pthread_join(v->thread, NULL);
	v->thread_started = false;
}
