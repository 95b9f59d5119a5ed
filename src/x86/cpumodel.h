/*
 * CPU models in QEMU's -cpu syntax:
 *
 *   host[,+FEATURE][,-FEATURE][,FEATURE=on|off][,vendor=STRING]
 *
 * `host` (and its QEMU alias `max`) is what this host's KVM offers
 * (KVM_GET_SUPPORTED_CPUID); features are named as in /proc/cpuinfo and
 * QEMU (x86/cpufeatures.c).  The changes apply to the CPUID every vCPU
 * gets, so the MSR catalog, gated on CPUID, follows.  Some KVM back-ends
 * override what the VMM sets: after the first vCPU is created, what the
 * guest really gets (KVM_GET_CPUID2) is compared with what was asked, and
 * each feature the host overrode is named once in a warning.
 */
#ifndef SHRIKE_CPUMODEL_H
#define SHRIKE_CPUMODEL_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>

#include "x86/cpufeatures.h"

#define CPU_MODEL_MAX_CHANGES 64

struct cpu_model {
	struct {
		const struct cpu_feature *f;
		bool on;
	} change[CPU_MODEL_MAX_CHANGES];
	unsigned nchange;
	char vendor[13];           /* "": the host's */
};

/* Parses the spec (NULL: plain host).  -1 with a one-line message; with
 * `qemu`, QEMU 7.2's wording. */
int cpu_model_parse(const char *spec, struct cpu_model *m, bool qemu, char *err, size_t errlen);

/* Applies the model to a CPUID table. */
void cpu_model_apply(const struct cpu_model *m, struct kvm_cpuid2 *t);

/* Warns about every change the host did not let through, given the table
 * the guest really gets.  Returns how many. */
unsigned cpu_model_check(const struct cpu_model *m, const struct kvm_cpuid2 *seen);

#endif
