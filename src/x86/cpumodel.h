/*
 * CPU models in QEMU's -cpu syntax:
 *
 *   host[,+FEATURE][,-FEATURE][,FEATURE=on|off][,vendor=STRING]
 *
 *   qemu64|kvm64|qemu32|kvm32[-v1][,...]: QEMU's generic models
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
#include <stdint.h>
#include <stdio.h>

#include "x86/cpufeatures.h"

#define CPU_MODEL_MAX_CHANGES 64

/* One of QEMU's generic CPU models, as QEMU 7.2 defines it for KVM: its
 * feature words replace the host's (features KVM cannot give are dropped
 * and warned about), its identity (vendor, family/model/stepping, brand
 * string) and highest leaves are the model's. */
struct cpu_def {
	const char *name;
	const char *desc;          /* QEMU's -cpu help text */
	const char *vendor;
	unsigned family, model, stepping;
	uint32_t level, xlevel;
	uint32_t f1_edx, f1_ecx;   /* CPUID 1 */
	uint32_t e1_edx, e1_ecx;   /* CPUID 0x80000001 */
	const char *model_id;
};

struct cpu_model {
	const struct cpu_def *def;   /* NULL: host (or its alias max) */
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

/* The generic models, in QEMU's -cpu help order; NULL past the end. */
const struct cpu_def *cpu_def_at(unsigned i);

/* QEMU's -cpu help: the models shrike accepts and the feature names. */
void cpu_model_print_help(FILE *f);

/* Applies the model to a CPUID table. */
void cpu_model_apply(const struct cpu_model *m, struct kvm_cpuid2 *t);

/* Warns about every change the host did not let through, given the table
 * the guest really gets.  Returns how many. */
unsigned cpu_model_check(const struct cpu_model *m, const struct kvm_cpuid2 *seen);

#endif
