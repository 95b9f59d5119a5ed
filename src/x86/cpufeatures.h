/* CPUID feature bits by name (/proc/cpuinfo's and QEMU's names). */
#ifndef SHRIKE_CPUFEATURES_H
#define SHRIKE_CPUFEATURES_H

#include <stdbool.h>
#include <stdint.h>

#include "x86/cpuid.h"

struct cpu_feature {
	const char *name;
	uint32_t leaf, sub;
	enum cpuid_reg reg;
	unsigned bit;
};

/* By name; '-', '_' and '.' are equivalent, case does not matter. */
const struct cpu_feature *cpu_feature_find(const char *name);
/* The first (QEMU's) entry for a bit, or NULL. */
const struct cpu_feature *cpu_feature_find_bit(uint32_t leaf, uint32_t sub, enum cpuid_reg reg,
					       unsigned bit);
/* Every entry, aliases included, in table order; NULL past the end. */
const struct cpu_feature *cpu_feature_at(unsigned i);
/* The name of a bit, or NULL. */
const char *cpu_feature_name(uint32_t leaf, uint32_t sub, enum cpuid_reg reg, unsigned bit);
/* Named feature bits set in `want` and clear in `have`; fills out (at most
 * max), returns how many. */
unsigned cpu_features_missing(const struct kvm_cpuid2 *want, const struct kvm_cpuid2 *have,
			      const struct cpu_feature **out, unsigned max);

#endif
