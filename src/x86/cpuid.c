#include "x86/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd)
{
	/* KVM's own limit (KVM_MAX_CPUID_ENTRIES) first: a call that is too
	 * small still costs as much as one that fits (0.7 ms on some hosts). */
	for (unsigned n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));

		if (!t)
			return NULL;
		t->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, t) == 0)
			return t;
		free(t);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

struct kvm_cpuid2 *cpuid_read_back(int vcpu_fd, const struct kvm_cpuid2 *set)
{
	struct kvm_cpuid2 *t = calloc(1, sizeof(*t) + (set->nent + 8) * sizeof(t->entries[0]));

	if (!t)
		return NULL;
	t->nent = set->nent + 8;
	if (ioctl(vcpu_fd, KVM_GET_CPUID2, t) == 0)
		return t;
	free(t);
	return cpuid_copy(set);
}

struct kvm_cpuid2 *cpuid_copy(const struct kvm_cpuid2 *t)
{
	size_t bytes = sizeof(*t) + t->nent * sizeof(t->entries[0]);
	struct kvm_cpuid2 *c = malloc(bytes);

	if (c)
		memcpy(c, t, bytes);
	return c;
}

const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < t->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &t->entries[i];
		bool indexed = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

		if (e->function == fn && (!indexed || e->index == idx))
			return e;
	}
	return NULL;
}

uint32_t cpuid_reg(const struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx, enum cpuid_reg r)
{
	const struct kvm_cpuid_entry2 *e = cpuid_find(t, fn, idx);

	if (!e)
		return 0;
	switch (r) {
	case CPUID_EAX: return e->eax;
	case CPUID_EBX: return e->ebx;
	case CPUID_ECX: return e->ecx;
	default:        return e->edx;
	}
}

bool cpuid_has(const struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx, enum cpuid_reg r,
	       unsigned bit)
{
	return (cpuid_reg(t, fn, idx, r) >> bit) & 1;
}

/* Bits needed to number `n` items (n >= 1). */
static unsigned id_bits(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

static void set_topology_leaf(struct kvm_cpuid_entry2 *e, unsigned index, unsigned ncpus)
{
	/* Sub-leaf 0: SMT level (1 thread per core); 1: core level. */
	if (e->index == 0) {
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1u << 8) | 0;
	} else if (e->index == 1) {
		e->eax = id_bits(ncpus);
		e->ebx = ncpus;
		e->ecx = (2u << 8) | 1;
	} else {
		e->eax = e->ebx = 0;
		e->ecx = e->index;
	}
	e->edx = index;
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned index,
				  unsigned ncpus)
{
	size_t bytes = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *t = malloc(bytes);
	bool amd;

	if (!t)
		return NULL;
	memcpy(t, supported, bytes);
	/* "AuthenticAMD": EBX = "Auth" */
	amd = cpuid_reg(t, 0, 0, CPUID_EBX) == 0x68747541;
	for (uint32_t i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *e = &t->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffff) | (index << 24) |
				 ((ncpus > 255 ? 255 : ncpus) << 16);
			if (ncpus > 1)
				e->edx |= 1u << 28;    /* HTT: EBX[23:16] is valid */
			break;
		case 4:
			/* Intel: cores per package - 1 in EAX[31:26]. */
			if (!amd && (e->eax & 0x1f))
				e->eax = (e->eax & 0x03ffffff) | ((uint32_t)(ncpus - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			set_topology_leaf(e, index, ncpus);
			break;
		case 0x80000008:
			if (amd)
				e->ecx = (e->ecx & ~0xf0ffu) | (id_bits(ncpus) << 12) |
					 ((ncpus - 1) & 0xff);
			break;
		default:
			break;
		}
	}
	return t;
}
