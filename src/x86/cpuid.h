/* CPUID for the guest: KVM's supported table, with topology per vCPU. */
#ifndef SHRIKE_CPUID_H
#define SHRIKE_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* KVM_GET_SUPPORTED_CPUID, grown until it fits.  NULL on failure. */
struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd);

/*
 * The table for vCPU `index` of `ncpus`: one package, one thread per core,
 * APIC ID = index.  Leaves 1, 0xB/0x1F and 0x80000008 carry consistent
 * topology so that guests can enumerate the CPUs they were given.
 */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned index,
				  unsigned ncpus);

/* KVM_GET_CPUID2 after KVM_SET_CPUID2: the table the guest really sees
 * (a copy of `set` if KVM cannot say).  NULL if out of memory. */
struct kvm_cpuid2 *cpuid_read_back(int vcpu_fd, const struct kvm_cpuid2 *set);

/* A copy of a table (NULL if out of memory). */
struct kvm_cpuid2 *cpuid_copy(const struct kvm_cpuid2 *t);

const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx);
bool cpuid_has(const struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx, enum cpuid_reg r,
	       unsigned bit);
uint32_t cpuid_reg(const struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx, enum cpuid_reg r);

#endif
