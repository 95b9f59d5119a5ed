/* Handling of one KVM exit: every exit reason gets a deliberate answer. */
#ifndef SHRIKE_EXITS_H
#define SHRIKE_EXITS_H

struct vcpu;

/* Returns 0 to re-enter the guest, -1 to leave the run loop. */
int vcpu_handle_exit(struct vcpu *vcpu);

/* Name of a KVM exit reason ("io", "mmio", ...). */
const char *exit_reason_name(unsigned reason);

#endif
