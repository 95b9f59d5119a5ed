/*
 * The virtual machine: KVM handles, guest memory, address spaces, vCPUs,
 * devices, and the machine's lifecycle (run, stop, exit status).
 *
 * Everything lives in struct vm, so one process can hold several VMs (the
 * tests do).
 */
#ifndef SHRIKE_VM_H
#define SHRIKE_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/chardev.h"
#include "core/config.h"
#include "core/device.h"
#include "core/iobus.h"
#include "core/irq.h"
#include "base/mainloop.h"
#include "core/runstate.h"
#include "base/memory.h"
#include "core/vcpu.h"
#include "loader/loader.h"
#include "x86/msr.h"

struct trace;
struct emu_stats;

/* Why a vCPU's run was interrupted for the debugger (gdb/). */
enum debug_trap_kind {
	DEBUG_TRAP_STEP,           /* a single step completed */
	DEBUG_TRAP_INT3,           /* an int3 at linear address `addr` */
	DEBUG_TRAP_DB,             /* a #DB from the debug registers: `dr6` says which */
};

struct debug_trap {
	enum debug_trap_kind kind;
	uint64_t addr;
	uint64_t dr6;
};

/* What the debugger says of a trap. */
enum debug_verdict {
	DEBUG_STOP,                /* the vCPU stops for the debugger (it parks) */
	DEBUG_CONTINUE,            /* the debugger's own, consumed: run on */
	DEBUG_NOT_OURS,            /* the guest's: it gets the exception */
};

/* The debugger's hook; called on the trapping vCPU's thread. */
struct debug_hooks {
	enum debug_verdict (*trap)(void *opaque, struct vcpu *v, const struct debug_trap *t);
	void *opaque;
};


#define RESET_LATENCY_SAMPLES 1024

/* Start-up milestones, for --stats and the start-up benchmark. */
enum timeline_point {
	TL_MAIN,       /* the process reached main() */
	TL_CREATE,     /* vm_create() began (inputs read and planned) */
	TL_KVM_OPEN,   /* /dev/kvm open, capabilities probed */
	TL_MACHINE,    /* VM, irqchip, PIT created */
	TL_MEMORY,     /* guest RAM registered */
	TL_DEVICES,    /* devices created */
	TL_VCPUS,      /* vCPUs created, MSRs probed */
	TL_START,      /* images loaded or state restored; threads start */
	TL_FIRST_RUN,  /* the boot vCPU's first KVM_RUN */
	TL_N
};
#define VM_MAX_LISTENERS 4

/* Why a VM's run ended; the first stop request wins (--stats shows it). */
enum stop_reason { STOP_NONE, STOP_POWEROFF, STOP_DEBUG_EXIT, STOP_RESET, STOP_ERROR,
		   STOP_SIGNAL, STOP_QUIT };

struct vm {
	struct vm_config cfg;
	int kvm_fd;
	int vm_fd;
	struct kvm_caps caps;
	struct guest_mem mem;
	struct iobus pio;
	struct iobus mmio;
	struct kvm_cpuid2 *cpuid_supported;   /* what this host's KVM offers */
	struct kvm_cpuid2 *cpuid_base;        /* what the vCPUs get (before topology) */
	bool kernel_irqchip;                  /* PIC, IOAPIC, PIT in KVM */
	struct irq_lines irq;                 /* core/irq.h */
	struct msr_catalog msrs;
	unsigned ncpus;
	struct vcpu **vcpu;
	struct boot_plan boot;

	/* Devices in creation (= reset) order; destroyed in reverse. */
	struct device devices[VM_MAX_DEVICES];
	unsigned ndevices;
	struct chardev console;    /* COM1's backend */
	bool console_open;
	struct mainloop loop;      /* the main thread's (vm_wait) */
	uint8_t uuid[16];

	/* In-kernel irqchip and PIT as KVM created them, restored at reset. */
	struct kvm_irqchip irqchip_reset[3];
	struct kvm_pit_state2 pit_reset;

	/* Run state and pauses (core/runstate.h); reset (core/reset.c). */
	enum run_state run_state;
	struct {
		vm_listener fn;
		void *opaque;
	} listeners[VM_MAX_LISTENERS];
	unsigned nlisteners;
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	unsigned pause_mask;       /* enum pause_reason bits; read without the lock */
	unsigned paused;           /* vCPUs parked */
	bool reset_pending;
	bool shutdown_pending;     /* a power-off with -no-shutdown, for the main thread */
	bool save_in_progress;     /* a snapshot is being written: resets wait */
	unsigned puts_done;        /* vCPUs that finished the start or reset put
				    * queued to all (vm_put_done) */
	uint64_t reset_request_ns;
	const char *reset_source;  /* the request that started it (trace origin) */
	unsigned resets;
	uint64_t reset_latency_ns[RESET_LATENCY_SAMPLES];

	struct trace *trace;
	struct emu_stats *emu_stats;   /* instructions completed by shrike (--stats) */
	struct debug_hooks debug;
	uint64_t t0_ns;
	uint64_t timeline[TL_N];   /* start-up milestones (now_ns), --stats */
	enum sync_cause start_cause;   /* of the first FULL put: post_init or restore */

	pthread_mutex_t stop_lock;
	bool stopping;             /* read by vCPU threads without the lock */
	enum stop_reason stop_reason;
	int exit_status;
	int stop_efd;              /* eventfd: wakes the main thread */
	bool output_abandoned;     /* main thread: stop writing the console out */
	struct ratelimit rl;
};

/* Creates the VM and its vCPUs (threads parked) around guest memory that
 * the caller allocated (guest_mem_init) and hands over; add_devices (the
 * board, board/board.h) creates the devices in between.  Returns 0, or a
 * negative errno with a message already logged (-EDOM: the request itself
 * is out of range, a usage error).  The caller may set vm->trace (the
 * sync trace, x86/trace.h) before the VM boots, and closes it. */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct guest_mem *mem,
	      int (*add_devices)(struct vm *vm));
void vm_destroy(struct vm *vm);

/* Installs the boot plan: copies the images into RAM, gives vCPU 0 its
 * entry state and queues the post-init FULL put on every vCPU. */
int vm_boot(struct vm *vm, const struct boot_plan *plan);

/* Starts the vCPU threads; returns at once. */
int vm_start(struct vm *vm);
/* Waits until the VM stopped, joins the vCPU threads, returns the exit
 * status of section 2 of the architecture contract.  Serves the serial
 * console's input in the meantime, and writes out what the guest printed
 * before it ended unless the host gave up on it (vm_abandon_output: a
 * signal, cli/signals.c). */
int vm_wait(struct vm *vm);
void vm_abandon_output(struct vm *vm);

/* The guest powers off: the VM ends with status 0, or with -no-shutdown
 * stays, stopped, in the shutdown state. */
void vm_request_poweroff(struct vm *vm);
/* Requests the VM to stop; the first request decides the exit status. */
void vm_request_stop(struct vm *vm, enum stop_reason why, int status);
/* A guest or host reset request (source names it); see core/reset.c. */
void vm_request_reset(struct vm *vm, const char *source);
bool vm_stopping(const struct vm *vm);

/* Wakes the main thread (vm_wait) to look at stop and reset requests. */
void vm_wake_main(struct vm *vm);
/* On the main thread: carries out a pending reset (core/reset.c). */
void vm_reset_if_requested(struct vm *vm);

/*
 * The start and the reset write every vCPU's state with one put each, on
 * the vCPUs' own threads, in parallel; no vCPU may run before all are
 * written, or the boot CPU's INIT and SIPI to an AP are overwritten by the
 * AP's own put (its MP state and LAPIC).  A vCPU thread calls vm_put_done
 * after its put; the main thread waits with vm_wait_puts (false if the VM
 * is stopping instead).
 */
void vm_put_done(struct vm *vm);
bool vm_wait_puts(struct vm *vm);


#endif
