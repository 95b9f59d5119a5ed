/*
 * The VM's run state (QEMU's names, so that QMP clients understand it) and
 * the one mechanism that stops vCPUs: pausing.
 *
 * A pause has reasons, a bit each.  While any bit is set, every vCPU
 * completes its pending I/O (one KVM_RUN with immediate_exit, which runs no
 * guest instruction) and parks, where it still runs work queued to it (a
 * state get for `info registers`, a snapshot, a reset put).  A vCPU can
 * also be held on its own (the debugger steps one vCPU, others stay).
 * vm_pause() sets a bit and waits until every vCPU is parked, so that the
 * caller may then read or write any vCPU's state through its work queue,
 * and devices see no guest access; vm_resume() clears it.
 *
 *   prelaunch     vCPUs created, not started (QEMU's -S, --gdb-wait)
 *   running
 *   paused        QMP stop
 *   debug         stopped by the debugger
 *   inmigrate     a snapshot is being restored
 *   finish-migrate / postmigrate   a snapshot is being / was saved
 *   shutdown      the guest powered off (kept with -no-shutdown)
 *   guest-panicked, internal-error
 *
 * State changes go through vm_set_run_state(), on the main thread, which
 * tells the listeners (the control socket sends STOP and RESUME events);
 * they also hear of resets and shutdowns (vm_notify).
 */
#ifndef SHRIKE_RUNSTATE_H
#define SHRIKE_RUNSTATE_H

#include <stdbool.h>

struct vm;

enum run_state {
	RS_PRELAUNCH,
	RS_RUNNING,
	RS_PAUSED,
	RS_DEBUG,
	RS_INMIGRATE,
	RS_FINISH_MIGRATE,
	RS_POSTMIGRATE,
	RS_SHUTDOWN,
	RS_GUEST_PANICKED,
	RS_INTERNAL_ERROR,
	RS_NSTATES
};

enum pause_reason {
	PAUSE_RESET = 1u << 0,     /* a system reset in progress */
	PAUSE_PRELAUNCH = 1u << 1,
	PAUSE_USER = 1u << 2,      /* QMP stop */
	PAUSE_DEBUG = 1u << 3,     /* the debugger */
	PAUSE_MIGRATE = 1u << 4,   /* saving or restoring a snapshot */
	PAUSE_SHUTDOWN = 1u << 5,  /* powered off, -no-shutdown */
};

const char *run_state_name(enum run_state s);

/* Sets the state; listeners hear of it if it changed. */
void vm_set_run_state(struct vm *vm, enum run_state s);
enum run_state vm_run_state(const struct vm *vm);
/* Guest code can run in this state (running, or debug while resumed). */
bool run_state_is_running(enum run_state s);

/* Sets a pause reason and waits until every vCPU is parked (or the VM
 * stops).  Not on a vCPU thread.  Returns false if the VM is stopping. */
bool vm_pause(struct vm *vm, unsigned reason);
/* Sets a pause reason without waiting (any thread, vCPUs included). */
void vm_pause_async(struct vm *vm, unsigned reason);
/* Waits until every vCPU is parked; false if the VM is stopping. */
bool vm_wait_paused(struct vm *vm);
/* Clears a pause reason; vCPUs run again once none is left. */
void vm_resume(struct vm *vm, unsigned reason);
unsigned vm_pause_reasons(const struct vm *vm);
bool vm_pause_requested(const struct vm *vm);

/* What listeners hear (on the main thread). */
enum vm_event_type { VM_EV_RUN_STATE, VM_EV_RESET, VM_EV_SHUTDOWN };

struct vm_event {
	enum vm_event_type type;
	enum run_state old, now;   /* VM_EV_RUN_STATE */
	const char *source;        /* VM_EV_RESET: the requester */
	bool guest;                /* VM_EV_RESET, VM_EV_SHUTDOWN: the guest asked */
	const char *reason;        /* VM_EV_SHUTDOWN: QEMU's ShutdownCause name */
};

typedef void (*vm_listener)(void *opaque, const struct vm_event *ev);
int vm_add_listener(struct vm *vm, vm_listener fn, void *opaque);
void vm_remove_listener(struct vm *vm, void *opaque);
void vm_notify(struct vm *vm, const struct vm_event *ev);

#endif
