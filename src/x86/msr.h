/*
 * The MSR catalog: which MSRs shrike moves between its copy of a vCPU's
 * state and KVM, and at which put level.
 *
 * Built once per VM from KVM_GET_MSR_INDEX_LIST (what KVM says userspace
 * must save), plus the MTRRs (which the index list omits), intersected with
 * what the guest's CPUID exposes, and finally probed on vCPU 0: an MSR that
 * KVM refuses to read back, or to write back unchanged, is left out, so a
 * later KVM_GET/SET_MSRS never stops short on it.  Feature MSRs
 * (KVM_GET_MSR_FEATURE_INDEX_LIST) are configuration, not state: they are
 * never in the catalog.
 */
#ifndef SHRIKE_MSR_H
#define SHRIKE_MSR_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_TSC              0x10
#define MSR_IA32_FEATURE_CONTROL  0x3a
#define MSR_IA32_TSC_ADJUST       0x3b
#define MSR_IA32_APICBASE         0x1b
#define MSR_IA32_MTRRCAP          0xfe
#define MSR_IA32_SYSENTER_CS      0x174
#define MSR_IA32_MISC_ENABLE      0x1a0
#define MSR_IA32_PAT              0x277
#define MSR_MTRR_DEF_TYPE         0x2ff
#define MSR_IA32_TSC_DEADLINE     0x6e0
#define MSR_EFER                  0xc0000080
#define MSR_KVM_WALL_CLOCK        0x11
#define MSR_KVM_SYSTEM_TIME       0x12

enum msr_kind {
	/* Written at every put level (QEMU's list A). */
	MSR_KIND_RUNTIME,
	/* Written only by reset and full puts: writing them has side effects
	 * (TSC, kvmclock and the other paravirtual areas) or cost (MTRRs), or
	 * shrike does not know them well enough to rewrite them at runtime. */
	MSR_KIND_RESET,
	/* IA32_FEATURE_CONTROL: alone and first at reset/full level, so that a
	 * reset takes the vCPU out of VMX operation before SREGS are written. */
	MSR_KIND_FEATURE_CONTROL,
	/* IA32_TSC_DEADLINE: alone and last, after the LAPIC (KVM drops the
	 * deadline unless the LVT timer is in TSC-deadline mode) and after the
	 * TSC (KVM compares the deadline with it). */
	MSR_KIND_TSC_DEADLINE,
};

struct msr_info {
	uint32_t index;
	enum msr_kind kind;
	/* KVM's value on a freshly created vCPU (read by the probe): the reset
	 * value for MSRs the architecture leaves undefined. */
	uint64_t init_value;
};

struct msr_catalog {
	struct msr_info *msr;
	unsigned n;
};

/* Name of a well-known MSR, or NULL. */
const char *msr_name(uint32_t index);

/*
 * Builds the catalog.  `vcpu_fd` must be a configured vCPU (CPUID set) that
 * has not run yet; its MSRs are read and written back unchanged to probe
 * them.  Returns 0 or -errno.
 */
int msr_catalog_build(struct msr_catalog *cat, int kvm_fd, int vcpu_fd,
		      const struct kvm_cpuid2 *cpuid);
void msr_catalog_free(struct msr_catalog *cat);

/* Position of `index` in the catalog, or -1. */
int msr_catalog_find(const struct msr_catalog *cat, uint32_t index);

#endif
