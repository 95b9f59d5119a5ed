/* The vCPU side of guest debugging (see guestdbg.c); all on the vCPU's
 * thread. */
#ifndef SHRIKE_GUESTDBG_H
#define SHRIKE_GUESTDBG_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

struct vcpu;

/* KVM_SET_GUEST_DEBUG (vcpu->guest_debug keeps what was set); 0 or
 * -errno. */
int vcpu_set_guest_debug(struct vcpu *v, const struct kvm_guest_debug *dbg);

/* KVM_EXIT_DEBUG.  Returns what vcpu_handle_exit returns. */
int vcpu_handle_debug_exit(struct vcpu *v);

/* An emulation failure on these instruction bytes: if they are an int3
 * the debugger claims, true with *result for vcpu_handle_exit; false: the
 * guest's own (let the emulator raise its #BP). */
bool vcpu_debug_int3(struct vcpu *v, const uint8_t *bytes, unsigned n, int *result);

/* shrike completed an instruction (x86/emulate) while the debugger steps
 * this vCPU: the step ends here, as KVM's would. */
int vcpu_debug_step_done(struct vcpu *v);

#endif
