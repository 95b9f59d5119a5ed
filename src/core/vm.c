#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"
#include "x86/cpuid.h"
#include "x86/cpumodel.h"
#include "x86/emulate/emulate.h"
#include "x86/reset.h"

#define KVM_TSS_ADDR          0xfffbd000ul
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ul

static int check_ext(int fd, int cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static void probe_caps(struct vm *vm)
{
	struct kvm_caps *c = &vm->caps;
	int xsave2;

	c->sync_regs = (unsigned)check_ext(vm->kvm_fd, KVM_CAP_SYNC_REGS);
	c->immediate_exit = check_ext(vm->kvm_fd, KVM_CAP_IMMEDIATE_EXIT);
	c->sregs2 = check_ext(vm->kvm_fd, KVM_CAP_SREGS2);
	c->xsave = check_ext(vm->kvm_fd, KVM_CAP_XSAVE);
	xsave2 = check_ext(vm->kvm_fd, KVM_CAP_XSAVE2);
	c->xsave_size = xsave2 > (int)sizeof(struct kvm_xsave) ? (size_t)xsave2
							       : sizeof(struct kvm_xsave);
	c->xcrs = check_ext(vm->kvm_fd, KVM_CAP_XCRS);
	c->debugregs = check_ext(vm->kvm_fd, KVM_CAP_DEBUGREGS);
	c->vcpu_events = check_ext(vm->kvm_fd, KVM_CAP_VCPU_EVENTS);
	c->max_vcpus = (unsigned)check_ext(vm->kvm_fd, KVM_CAP_MAX_VCPUS);
	c->recommended_vcpus = (unsigned)check_ext(vm->kvm_fd, KVM_CAP_NR_VCPUS);
	if (!c->max_vcpus)
		c->max_vcpus = c->recommended_vcpus ? c->recommended_vcpus : 4;
}

static int open_kvm(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		log_error("cannot open /dev/kvm: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_error("/dev/kvm speaks an unsupported KVM API version");
		return -EINVAL;
	}
	probe_caps(vm);
	if (!vm->caps.immediate_exit) {
		log_error("KVM lacks KVM_CAP_IMMEDIATE_EXIT (Linux 4.11 or later needed)");
		return -ENOTSUP;
	}
	return 0;
}

static int create_machine(struct vm *vm)
{
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		log_error("KVM_CREATE_VM failed: %s", strerror(errno));
		return -errno;
	}
	/* Intel needs a TSS and an identity-map page for real mode; harmless
	 * elsewhere.  Both sit in the 32-bit hole, away from RAM. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0) {
		log_error("KVM_SET_TSS_ADDR failed: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){ KVM_IDENTITY_MAP_ADDR }) < 0 &&
	    errno != EINVAL && errno != ENOTTY) {
		log_error("KVM_SET_IDENTITY_MAP_ADDR failed: %s", strerror(errno));
		return -errno;
	}
	/* Emulation failures come to shrike with the instruction's bytes
	 * (KVM would otherwise inject #UD in some of its paths). */
	if (check_ext(vm->kvm_fd, KVM_CAP_EXIT_ON_EMULATION_FAILURE)) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE, .args = { 1 } };

		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			log_error("KVM_CAP_EXIT_ON_EMULATION_FAILURE: %s", strerror(errno));
	}
	return irq_create(vm);
}

static int map_memory(struct vm *vm)
{
	for (unsigned i = 0; i < vm->mem.nbanks; i++) {
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = vm->mem.bank[i].gpa,
			.memory_size = vm->mem.bank[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->mem.bank[i].host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
			log_error("KVM_SET_USER_MEMORY_REGION failed: %s", strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int vm_add_device(struct vm *vm, const struct device_model *model, void *opaque)
{
	if (vm->ndevices >= VM_MAX_DEVICES)
		return -ENOSPC;
	vm->devices[vm->ndevices++] = (struct device){ model, opaque };
	return 0;
}

void *vm_find_device(const struct vm *vm, const char *name)
{
	for (unsigned i = 0; i < vm->ndevices; i++)
		if (!strcmp(vm->devices[i].model->name, name))
			return vm->devices[i].opaque;
	return NULL;
}

int vm_powerdown(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevices; i++) {
		if (vm->devices[i].model->powerdown) {
			vm->devices[i].model->powerdown(vm->devices[i].opaque);
			return 0;
		}
	}
	return -ENODEV;
}

int vm_set_link(struct vm *vm, const char *name, bool up)
{
	for (unsigned i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].model->set_link &&
		    !vm->devices[i].model->set_link(vm->devices[i].opaque, name, up))
			return 0;
	return -ENODEV;
}

static bool console_interrupted(void *opaque)
{
	struct vm *vm = opaque;

	return vm_stopping(vm) || vm_pause_requested(vm) || vcpu_current_has_work();
}


static void console_wake(void *opaque)
{
	vm_wake_main(opaque);
}

/* Ctrl-A x on the terminal: the user ends the VM, as SIGINT would. */
static void console_quit(void *opaque)
{
	vm_request_stop(opaque, STOP_SIGNAL, 128 + SIGINT);
}

static int open_console(struct vm *vm)
{
	static const enum chardev_kind kinds[] = {
		[SERIAL_STDIO] = CHARDEV_STDIO, [SERIAL_NONE] = CHARDEV_NULL,
		[SERIAL_FILE] = CHARDEV_FILE, [SERIAL_SOCKET] = CHARDEV_SOCKET,
	};
	char err[256];

	if (chardev_open(&vm->console, kinds[vm->cfg.serial], vm->cfg.serial_path, err,
			 sizeof(err))) {
		log_error("%s", err);
		return -EDOM;
	}
	vm->console.interrupted = console_interrupted;
	vm->console.wake = console_wake;
	vm->console.quit = console_quit;
	vm->console.owner = vm;
	vm->console_open = true;
	return 0;
}

/* The in-kernel PIC, IOAPIC and PIT as KVM created them: a system reset
 * puts them back (KVM has no reset ioctl for them). */
static int save_irqchip_reset_state(struct vm *vm)
{
	if (!vm->kernel_irqchip)
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		vm->irqchip_reset[i].chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &vm->irqchip_reset[i]) < 0) {
			log_error("KVM_GET_IRQCHIP %u failed: %s", i, strerror(errno));
			return -errno;
		}
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &vm->pit_reset) < 0) {
		log_error("KVM_GET_PIT2 failed: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void make_uuid(uint8_t uuid[16])
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, uuid, 16) != 16) {
		uint64_t t = now_ns();

		memcpy(uuid, &t, 8);
		memcpy(uuid + 8, &t, 8);
	}
	if (fd >= 0)
		close(fd);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);   /* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
}

static int create_vcpus(struct vm *vm)
{
	int r;

	vm->vcpu = calloc(vm->ncpus, sizeof(*vm->vcpu));
	if (!vm->vcpu)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		r = vcpu_create(vm, i, &vm->vcpu[i]);
		if (r)
			return r;
	}
	/* The MSR catalog is probed on vCPU 0 before anything runs. */
	r = msr_catalog_build(&vm->msrs, vm->kvm_fd, vm->vcpu[0]->fd, vm->vcpu[0]->cpuid);
	if (r) {
		log_error("cannot build the MSR list: %s", strerror(-r));
		return r;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		r = vcpu_state_init(vm->vcpu[i]);
		if (r)
			return r;
		cpu_reset_state(&vm->vcpu[i]->state, false);
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct guest_mem *mem,
	      int (*add_devices)(struct vm *vm))
{
	struct cpu_model model;
	char err[300];
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->mem = *mem;
	memset(mem, 0, sizeof(*mem));
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = -1;
	vm->t0_ns = now_ns();
	vm->timeline[TL_MAIN] = cfg->start_ns ? cfg->start_ns : vm->t0_ns;
	vm->timeline[TL_CREATE] = vm->t0_ns;
	vm->ncpus = cfg->cpus;
	vm->rl = (struct ratelimit)RATELIMIT_INIT;
	vm->start_cause = CAUSE_POST_INIT;
	vm->run_state = RS_PRELAUNCH;
	mainloop_init(&vm->loop);
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	iobus_init(&vm->pio, "pio", 0x10000);
	iobus_init(&vm->mmio, "mmio", 0);
	if (cfg->uuid_set)
		memcpy(vm->uuid, cfg->uuid, sizeof(vm->uuid));
	else
		make_uuid(vm->uuid);
	r = open_kvm(vm);
	if (r)
		return r;
	if (vm->ncpus > vm->caps.max_vcpus) {
		log_error("--cpus %u exceeds KVM's limit of %u", vm->ncpus, vm->caps.max_vcpus);
		return -EDOM;
	}
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->cpuid_supported = cpuid_get_supported(vm->kvm_fd);
	vm->cpuid_base = cpuid_copy(cfg->cpuid ? cfg->cpuid : vm->cpuid_supported);
	/* A restore's table already holds the model it was made with. */
	if (!cfg->cpuid && vm->cpuid_base && cpu_model_parse(cfg->cpu_model, &model,
							     cfg->qemu_personality, err, sizeof(err))) {
		log_error("%s", err);
		return -EDOM;
	}
	if (!cfg->cpuid && vm->cpuid_base)
		cpu_model_apply(&model, vm->cpuid_base);
	if (cfg->emulate)
		vm->emu_stats = emu_stats_create();
	if (vm->stop_efd < 0 || !vm->cpuid_supported || !vm->cpuid_base ||
	    (cfg->emulate && !vm->emu_stats)) {
		log_error("cannot set up the VM: %s", strerror(errno));
		return -EIO;
	}
	vm->timeline[TL_KVM_OPEN] = now_ns();
	r = create_machine(vm);
	if (!r)
		r = save_irqchip_reset_state(vm);
	vm->timeline[TL_MACHINE] = now_ns();
	if (!r)
		r = map_memory(vm);
	vm->timeline[TL_MEMORY] = now_ns();
	if (!r)
		r = open_console(vm);
	if (!r && add_devices(vm))
		r = -EINVAL;
	vm->timeline[TL_DEVICES] = now_ns();
	if (!r)
		r = create_vcpus(vm);
	/* What the guest really gets: some KVM back-ends override bits. */
	if (!r && !cfg->cpuid && vm->irq.split)
		cpu_model_check(&model, vm->vcpu[0]->cpuid_seen);
	vm->timeline[TL_VCPUS] = now_ns();
	return r;
}

void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpu && i < vm->ncpus; i++)
		vcpu_destroy(vm->vcpu[i]);
	free(vm->vcpu);
	while (vm->ndevices) {
		struct device *d = &vm->devices[--vm->ndevices];

		if (d->model->destroy)
			d->model->destroy(d->opaque);
	}
	if (vm->console_open)
		chardev_close(&vm->console);
	msr_catalog_free(&vm->msrs);
	free(vm->cpuid_supported);
	free(vm->cpuid_base);
	emu_stats_free(vm->emu_stats);
	iobus_free(&vm->pio);
	iobus_free(&vm->mmio);
	boot_plan_free(&vm->boot);
	guest_mem_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
}

int vm_boot(struct vm *vm, const struct boot_plan *plan)
{
	char err[512];

	vm->boot = *plan;
	if (boot_plan_commit(&vm->boot, &vm->mem, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	cpu_boot_entry(&vm->vcpu[0]->state, &vm->boot.entry);
	return 0;
}

/* Work item: the FULL put after machine creation (seed backtrace 1), or
 * of a restored snapshot's state. */
static void post_init_put(struct vcpu *v, void *arg)
{
	(void)arg;
	if (cpu_state_put(&v->state, PUT_FULL, v->vm->start_cause, NULL)) {
		log_error("vCPU %u: initial state rejected by KVM", v->index);
		vm_request_stop(v->vm, STOP_ERROR, 1);
	}
	vm_put_done(v->vm);
}

/* A restored device holds back what would interrupt the guest (its
 * queues' work) until the vCPUs' state, local APICs included, is written. */
static void resume_restored_devices(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].model->resume)
			vm->devices[i].model->resume(vm->devices[i].opaque);
}

int vm_start(struct vm *vm)
{
	vm->timeline[TL_START] = now_ns();
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu_start_thread(vm->vcpu[i]))
			return -1;
	/* Queue to all first, then wait for all, then let them run: the puts
	 * happen on every vCPU thread in parallel, and none runs before every
	 * one is written (a restored boot CPU may be one instruction from
	 * sending an AP its INIT and SIPI).  A failed put has asked the VM to
	 * stop; vm_wait ends it with that status. */
	vm->puts_done = 0;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vcpu_run_on_async(vm->vcpu[i], post_init_put, NULL))
			return -1;
	if (!vm_wait_puts(vm))
		return 0;
	if (vm->start_cause == CAUSE_RESTORE)
		resume_restored_devices(vm);
	vm_set_run_state(vm, (vm_pause_reasons(vm) & PAUSE_PRELAUNCH) ? RS_PRELAUNCH : RS_RUNNING);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_resume(vm->vcpu[i]);
	return 0;
}

bool vm_stopping(const struct vm *vm)
{
	return __atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE);
}

void vm_request_stop(struct vm *vm, enum stop_reason why, int status)
{
	bool first;

	pthread_mutex_lock(&vm->stop_lock);
	first = !vm->stopping;
	if (first) {
		vm->stop_reason = why;
		vm->exit_status = status;
		__atomic_store_n(&vm->stopping, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	if (!first)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpu[i])
			vcpu_kick(vm->vcpu[i]);
	vm_wake_main(vm);
	chardev_interrupt(&vm->console);
	/* A vCPU parked for a reset must see the stop too. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_wake_main(struct vm *vm)
{
	if (eventfd_write(vm->stop_efd, 1) < 0)
		log_error("cannot wake the main thread: %s", strerror(errno));
}


/* ---- the main thread's wait: console, signals, stop and reset requests ---- */

static void on_wake(void *opaque, short revents)
{
	struct vm *vm = opaque;
	eventfd_t ignored;

	(void)revents;
	eventfd_read(vm->stop_efd, &ignored);
	if (__atomic_exchange_n(&vm->shutdown_pending, false, __ATOMIC_ACQ_REL)) {
		vm_notify(vm, &(struct vm_event){ .type = VM_EV_SHUTDOWN, .guest = true,
						  .reason = "guest-shutdown" });
		vm_set_run_state(vm, RS_SHUTDOWN);
	}
	vm_reset_if_requested(vm);
}

void vm_request_poweroff(struct vm *vm)
{
	if (!vm->cfg.no_shutdown) {
		vm_request_stop(vm, STOP_POWEROFF, 0);
		return;
	}
	/* -no-shutdown: the machine stays, stopped, until a reset or quit. */
	vm_pause_async(vm, PAUSE_SHUTDOWN);
	__atomic_store_n(&vm->shutdown_pending, true, __ATOMIC_RELEASE);
	vm_wake_main(vm);
}

/* The SHUTDOWN event of a VM that ends (QEMU's ShutdownCause names). */
static void notify_exit(struct vm *vm)
{
	static const char *const reason[] = {
		[STOP_POWEROFF] = "guest-shutdown", [STOP_RESET] = "guest-reset",
		[STOP_SIGNAL] = "host-signal", [STOP_QUIT] = "host-qmp-quit",
	};

	if (vm->stop_reason >= sizeof(reason) / sizeof(reason[0]) || !reason[vm->stop_reason])
		return;
	vm_notify(vm, &(struct vm_event){ .type = VM_EV_SHUTDOWN, .reason = reason[vm->stop_reason],
					  .guest = vm->stop_reason == STOP_POWEROFF ||
						   vm->stop_reason == STOP_RESET });
}

void vm_abandon_output(struct vm *vm)
{
	vm->output_abandoned = true;
}

/*
 * After the guest ended the VM, what it printed still reaches the reader,
 * however slow, unless the host said to give up (vm_abandon_output); a VM
 * ended by a signal writes only what goes out at once.
 */
static void flush_console(struct vm *vm)
{
	if (vm->stop_reason == STOP_SIGNAL) {
		chardev_flush(&vm->console, 0);
		return;
	}
	while (!vm->output_abandoned && chardev_pending(&vm->console))
		if (mainloop_run_once(&vm->loop, -1) < 0)
			break;
}

int vm_wait(struct vm *vm)
{
	mainloop_add(&vm->loop, vm->stop_efd, watch_pollin, on_wake, vm);
	chardev_attach(&vm->console, &vm->loop);
	while (!vm_stopping(vm))
		if (mainloop_run_once(&vm->loop, -1) < 0)
			break;
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_join(vm->vcpu[i]);
	flush_console(vm);
	notify_exit(vm);
	terminal_restore();
	return vm->exit_status;
}
