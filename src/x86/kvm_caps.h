/* What this host's KVM offers, probed once when the VM is made
 * (core/vm.c) and read by the state engine and the run loop. */
#ifndef SHRIKE_X86_KVM_CAPS_H
#define SHRIKE_X86_KVM_CAPS_H

#include <stdbool.h>
#include <stddef.h>

struct kvm_caps {
	unsigned sync_regs;        /* KVM_SYNC_X86_* bits offered */
	bool immediate_exit;
	bool sregs2;
	bool xsave;
	size_t xsave_size;         /* bytes for KVM_GET_XSAVE(2) */
	bool xcrs;
	bool debugregs;
	bool vcpu_events;
	unsigned max_vcpus;
	unsigned recommended_vcpus;
};

#endif
