/*
 * A vCPU: its KVM file descriptor, its thread ("CPU n/KVM"), its run loop,
 * its work queue and its state (x86/cpustate.h).
 *
 * Threading rule: only the vCPU's own thread issues its vCPU ioctls, except
 * while the vCPU is stopped (before its thread is started, or after it has
 * left its run loop).  Other threads queue work with vcpu_run_on(): the
 * item is appended, the vCPU is kicked out of KVM_RUN (immediate_exit, then
 * a signal, so the kick cannot be lost in the window before KVM_RUN), and
 * the vCPU thread runs the item before it re-enters the guest.  A pending
 * I/O completes first: KVM finishes it on the re-entry that the kick turns
 * into an immediate exit.
 */
#ifndef SHRIKE_VCPU_H
#define SHRIKE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "x86/cpustate.h"

struct vm;
struct vcpu;

#define EXIT_REASON_MAX 64

struct vcpu_stats {
	uint64_t exits[EXIT_REASON_MAX];
	uint64_t ioctls;
	struct cpu_sync_stats sync;            /* the state engine's transfers */
};

struct vcpu_work {
	void (*fn)(struct vcpu *vcpu, void *arg);
	void *arg;
	bool done;
	bool heap;                 /* asynchronous item: freed after it ran */
	struct vcpu_work *next;
};

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;        /* what shrike set */
	struct kvm_cpuid2 *cpuid_seen;   /* what the guest gets (KVM may force bits) */
	uint32_t tsc_khz;          /* KVM_GET_TSC_KHZ at creation; 0 = unknown */
	char name[16];             /* "CPU n/KVM" */

	pthread_t thread;
	bool thread_started;
	bool running;              /* allowed to enter the guest */
	bool in_loop;              /* the thread owns the vCPU's ioctls */
	bool io_pending;           /* the last exit left an I/O to complete */
	bool held;                 /* parked on its own (the debugger) */
	int tid;                   /* the thread's id, once it runs */
	struct kvm_guest_debug guest_debug;  /* as last set (vcpu_set_guest_debug) */
	char emu_origin[48];       /* "emulate:<mnemonic>", for the trace */

	pthread_mutex_t lock;      /* protects the work queue and the flags above */
	pthread_cond_t cond;
	struct vcpu_work *work_head, *work_tail;

	struct cpu_state state;
	struct vcpu_stats stats;
};

int vcpu_create(struct vm *vm, unsigned index, struct vcpu **out);
/* Sets up the vCPU's state engine (x86/cpustate.h), once the VM's MSR
 * catalog is built; the engine reaches the vCPU through its cpu_port. */
int vcpu_state_init(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

int vcpu_start_thread(struct vcpu *vcpu);
/* Lets the vCPU enter the guest. */
void vcpu_resume(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/* Kicks the vCPU out of KVM_RUN (or out of its idle wait). */
void vcpu_kick(struct vcpu *vcpu);
/* On a vCPU thread: work is queued to it (a wait should end). */
bool vcpu_current_has_work(void);
/* Holds the vCPU parked (or lets it go), whatever the VM's pause. */
void vcpu_hold(struct vcpu *vcpu, bool hold);

/* True on the vCPU's own thread. */
bool vcpu_is_current(const struct vcpu *vcpu);
/* True on the vCPU's own thread, or while it is stopped. */
bool vcpu_owned(const struct vcpu *vcpu);

/* Runs fn on the vCPU's thread and waits; inline when called from it. */
void vcpu_run_on(struct vcpu *vcpu, void (*fn)(struct vcpu *, void *), void *arg);
/* Queues fn without waiting; returns -ENOMEM on allocation failure. */
int vcpu_run_on_async(struct vcpu *vcpu, void (*fn)(struct vcpu *, void *), void *arg);

/* A vCPU ioctl, counted: the ioctl's result or -errno; refuses (-EPERM)
 * when the caller does not own the vCPU. */
int vcpu_ioctl(struct vcpu *vcpu, unsigned long req, void *arg);

/* The debugger single-steps this vCPU. */
static inline bool vcpu_single_stepping(const struct vcpu *vcpu)
{
	return (vcpu->guest_debug.control & KVM_GUESTDBG_SINGLESTEP) != 0;
}

/* Signal used for kicks; the process installs its handler once. */
void vcpu_signals_init(void);

#endif
