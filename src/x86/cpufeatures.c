/*
 * CPUID feature bits by name: the names of /proc/cpuinfo and QEMU's -cpu
 * (QEMU's first, then aliases), for CPU models and for messages that name
 * what a host lacks.
 */
#include "x86/cpufeatures.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#define F(n, l, s, r, b) { n, l, s, r, b }

static const struct cpu_feature features[] = {
	/* CPUID 1, EDX */
	F("fpu", 1, 0, CPUID_EDX, 0), F("vme", 1, 0, CPUID_EDX, 1), F("de", 1, 0, CPUID_EDX, 2),
	F("pse", 1, 0, CPUID_EDX, 3), F("tsc", 1, 0, CPUID_EDX, 4), F("msr", 1, 0, CPUID_EDX, 5),
	F("pae", 1, 0, CPUID_EDX, 6), F("mce", 1, 0, CPUID_EDX, 7), F("cx8", 1, 0, CPUID_EDX, 8),
	F("apic", 1, 0, CPUID_EDX, 9), F("sep", 1, 0, CPUID_EDX, 11), F("mtrr", 1, 0, CPUID_EDX, 12),
	F("pge", 1, 0, CPUID_EDX, 13), F("mca", 1, 0, CPUID_EDX, 14), F("cmov", 1, 0, CPUID_EDX, 15),
	F("pat", 1, 0, CPUID_EDX, 16), F("pse36", 1, 0, CPUID_EDX, 17), F("pn", 1, 0, CPUID_EDX, 18),
	F("clflush", 1, 0, CPUID_EDX, 19), F("ds", 1, 0, CPUID_EDX, 21),
	F("acpi", 1, 0, CPUID_EDX, 22), F("mmx", 1, 0, CPUID_EDX, 23), F("fxsr", 1, 0, CPUID_EDX, 24),
	F("sse", 1, 0, CPUID_EDX, 25), F("sse2", 1, 0, CPUID_EDX, 26), F("ss", 1, 0, CPUID_EDX, 27),
	F("ht", 1, 0, CPUID_EDX, 28), F("tm", 1, 0, CPUID_EDX, 29), F("ia64", 1, 0, CPUID_EDX, 30),
	F("pbe", 1, 0, CPUID_EDX, 31),
	/* CPUID 1, ECX */
	F("pni", 1, 0, CPUID_ECX, 0), F("sse3", 1, 0, CPUID_ECX, 0),
	F("pclmulqdq", 1, 0, CPUID_ECX, 1), F("pclmuldq", 1, 0, CPUID_ECX, 1),
	F("dtes64", 1, 0, CPUID_ECX, 2), F("monitor", 1, 0, CPUID_ECX, 3),
	F("ds-cpl", 1, 0, CPUID_ECX, 4), F("vmx", 1, 0, CPUID_ECX, 5), F("smx", 1, 0, CPUID_ECX, 6),
	F("est", 1, 0, CPUID_ECX, 7), F("tm2", 1, 0, CPUID_ECX, 8), F("ssse3", 1, 0, CPUID_ECX, 9),
	F("cid", 1, 0, CPUID_ECX, 10), F("fma", 1, 0, CPUID_ECX, 12), F("cx16", 1, 0, CPUID_ECX, 13),
	F("xtpr", 1, 0, CPUID_ECX, 14), F("pdcm", 1, 0, CPUID_ECX, 15), F("pcid", 1, 0, CPUID_ECX, 17),
	F("dca", 1, 0, CPUID_ECX, 18), F("sse4.1", 1, 0, CPUID_ECX, 19),
	F("sse4.2", 1, 0, CPUID_ECX, 20), F("x2apic", 1, 0, CPUID_ECX, 21),
	F("movbe", 1, 0, CPUID_ECX, 22), F("popcnt", 1, 0, CPUID_ECX, 23),
	F("tsc-deadline", 1, 0, CPUID_ECX, 24), F("aes", 1, 0, CPUID_ECX, 25),
	F("xsave", 1, 0, CPUID_ECX, 26), F("osxsave", 1, 0, CPUID_ECX, 27),
	F("avx", 1, 0, CPUID_ECX, 28), F("f16c", 1, 0, CPUID_ECX, 29),
	F("rdrand", 1, 0, CPUID_ECX, 30), F("hypervisor", 1, 0, CPUID_ECX, 31),
	/* CPUID 7.0, EBX */
	F("fsgsbase", 7, 0, CPUID_EBX, 0), F("tsc-adjust", 7, 0, CPUID_EBX, 1),
	F("sgx", 7, 0, CPUID_EBX, 2), F("bmi1", 7, 0, CPUID_EBX, 3), F("hle", 7, 0, CPUID_EBX, 4),
	F("avx2", 7, 0, CPUID_EBX, 5), F("smep", 7, 0, CPUID_EBX, 7), F("bmi2", 7, 0, CPUID_EBX, 8),
	F("erms", 7, 0, CPUID_EBX, 9), F("invpcid", 7, 0, CPUID_EBX, 10), F("rtm", 7, 0, CPUID_EBX, 11),
	F("mpx", 7, 0, CPUID_EBX, 14), F("avx512f", 7, 0, CPUID_EBX, 16),
	F("avx512dq", 7, 0, CPUID_EBX, 17), F("rdseed", 7, 0, CPUID_EBX, 18),
	F("adx", 7, 0, CPUID_EBX, 19), F("smap", 7, 0, CPUID_EBX, 20),
	F("avx512ifma", 7, 0, CPUID_EBX, 21), F("clflushopt", 7, 0, CPUID_EBX, 23),
	F("clwb", 7, 0, CPUID_EBX, 24), F("intel-pt", 7, 0, CPUID_EBX, 25),
	F("avx512pf", 7, 0, CPUID_EBX, 26), F("avx512er", 7, 0, CPUID_EBX, 27),
	F("avx512cd", 7, 0, CPUID_EBX, 28), F("sha-ni", 7, 0, CPUID_EBX, 29),
	F("avx512bw", 7, 0, CPUID_EBX, 30), F("avx512vl", 7, 0, CPUID_EBX, 31),
	/* CPUID 7.0, ECX */
	F("avx512vbmi", 7, 0, CPUID_ECX, 1), F("umip", 7, 0, CPUID_ECX, 2),
	F("pku", 7, 0, CPUID_ECX, 3), F("ospke", 7, 0, CPUID_ECX, 4),
	F("waitpkg", 7, 0, CPUID_ECX, 5), F("avx512vbmi2", 7, 0, CPUID_ECX, 6),
	F("gfni", 7, 0, CPUID_ECX, 8), F("vaes", 7, 0, CPUID_ECX, 9),
	F("vpclmulqdq", 7, 0, CPUID_ECX, 10), F("avx512vnni", 7, 0, CPUID_ECX, 11),
	F("avx512bitalg", 7, 0, CPUID_ECX, 12), F("avx512-vpopcntdq", 7, 0, CPUID_ECX, 14),
	F("la57", 7, 0, CPUID_ECX, 16), F("rdpid", 7, 0, CPUID_ECX, 22),
	F("cldemote", 7, 0, CPUID_ECX, 25), F("movdiri", 7, 0, CPUID_ECX, 27),
	F("movdir64b", 7, 0, CPUID_ECX, 28),
	/* CPUID 7.0, EDX */
	F("avx512-4vnniw", 7, 0, CPUID_EDX, 2), F("avx512-4fmaps", 7, 0, CPUID_EDX, 3),
	F("fsrm", 7, 0, CPUID_EDX, 4), F("md-clear", 7, 0, CPUID_EDX, 10),
	F("serialize", 7, 0, CPUID_EDX, 14), F("spec-ctrl", 7, 0, CPUID_EDX, 26),
	F("stibp", 7, 0, CPUID_EDX, 27), F("arch-capabilities", 7, 0, CPUID_EDX, 29),
	F("core-capability", 7, 0, CPUID_EDX, 30), F("ssbd", 7, 0, CPUID_EDX, 31),
	/* CPUID 0xD.1, EAX */
	F("xsaveopt", 0xd, 1, CPUID_EAX, 0), F("xsavec", 0xd, 1, CPUID_EAX, 1),
	F("xgetbv1", 0xd, 1, CPUID_EAX, 2), F("xsaves", 0xd, 1, CPUID_EAX, 3),
	/* CPUID 0x80000001, ECX */
	F("lahf-lm", 0x80000001, 0, CPUID_ECX, 0), F("cmp-legacy", 0x80000001, 0, CPUID_ECX, 1),
	F("svm", 0x80000001, 0, CPUID_ECX, 2), F("extapic", 0x80000001, 0, CPUID_ECX, 3),
	F("cr8legacy", 0x80000001, 0, CPUID_ECX, 4), F("abm", 0x80000001, 0, CPUID_ECX, 5),
	F("lzcnt", 0x80000001, 0, CPUID_ECX, 5), F("sse4a", 0x80000001, 0, CPUID_ECX, 6),
	F("misalignsse", 0x80000001, 0, CPUID_ECX, 7), F("3dnowprefetch", 0x80000001, 0, CPUID_ECX, 8),
	F("osvw", 0x80000001, 0, CPUID_ECX, 9), F("ibs", 0x80000001, 0, CPUID_ECX, 10),
	F("xop", 0x80000001, 0, CPUID_ECX, 11), F("skinit", 0x80000001, 0, CPUID_ECX, 12),
	F("wdt", 0x80000001, 0, CPUID_ECX, 13), F("lwp", 0x80000001, 0, CPUID_ECX, 15),
	F("fma4", 0x80000001, 0, CPUID_ECX, 16), F("tce", 0x80000001, 0, CPUID_ECX, 17),
	F("nodeid-msr", 0x80000001, 0, CPUID_ECX, 19), F("tbm", 0x80000001, 0, CPUID_ECX, 21),
	F("topoext", 0x80000001, 0, CPUID_ECX, 22), F("perfctr-core", 0x80000001, 0, CPUID_ECX, 23),
	F("perfctr-nb", 0x80000001, 0, CPUID_ECX, 24),
	/* CPUID 0x80000001, EDX */
	F("syscall", 0x80000001, 0, CPUID_EDX, 11), F("nx", 0x80000001, 0, CPUID_EDX, 20),
	F("xd", 0x80000001, 0, CPUID_EDX, 20), F("mmxext", 0x80000001, 0, CPUID_EDX, 22),
	F("fxsr-opt", 0x80000001, 0, CPUID_EDX, 25), F("ffxsr", 0x80000001, 0, CPUID_EDX, 25),
	F("pdpe1gb", 0x80000001, 0, CPUID_EDX, 26), F("rdtscp", 0x80000001, 0, CPUID_EDX, 27),
	F("lm", 0x80000001, 0, CPUID_EDX, 29), F("i64", 0x80000001, 0, CPUID_EDX, 29),
	F("3dnowext", 0x80000001, 0, CPUID_EDX, 30), F("3dnow", 0x80000001, 0, CPUID_EDX, 31),
};

/* '-', '_' and '.' are the same to QEMU and to /proc/cpuinfo's users. */
static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);

		if (x == '_' || x == '.')
			x = '-';
		if (y == '_' || y == '.')
			y = '-';
		if (x != y)
			return false;
	}
	return !*a && !*b;
}

const struct cpu_feature *cpu_feature_find(const char *name)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		if (same_name(features[i].name, name))
			return &features[i];
	return NULL;
}

const struct cpu_feature *cpu_feature_find_bit(uint32_t leaf, uint32_t sub, enum cpuid_reg reg,
					       unsigned bit)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct cpu_feature *f = &features[i];

		if (f->leaf == leaf && f->sub == sub && f->reg == reg && f->bit == bit)
			return f;
	}
	return NULL;
}

const char *cpu_feature_name(uint32_t leaf, uint32_t sub, enum cpuid_reg reg, unsigned bit)
{
	const struct cpu_feature *f = cpu_feature_find_bit(leaf, sub, reg, bit);

	return f ? f->name : NULL;
}

const struct cpu_feature *cpu_feature_at(unsigned i)
{
	return i < sizeof(features) / sizeof(features[0]) ? &features[i] : NULL;
}

/* The registers that hold feature bits. */
static const struct {
	uint32_t leaf, sub;
	enum cpuid_reg reg;
} feature_regs[] = {
	{ 1, 0, CPUID_ECX }, { 1, 0, CPUID_EDX }, { 7, 0, CPUID_EBX }, { 7, 0, CPUID_ECX },
	{ 7, 0, CPUID_EDX }, { 0xd, 1, CPUID_EAX }, { 0x80000001, 0, CPUID_ECX },
	{ 0x80000001, 0, CPUID_EDX },
};

unsigned cpu_features_missing(const struct kvm_cpuid2 *want, const struct kvm_cpuid2 *have,
			      const struct cpu_feature **out, unsigned max)
{
	unsigned n = 0;

	for (size_t r = 0; r < sizeof(feature_regs) / sizeof(feature_regs[0]); r++) {
		uint32_t w = cpuid_reg(want, feature_regs[r].leaf, feature_regs[r].sub, feature_regs[r].reg);
		uint32_t h = cpuid_reg(have, feature_regs[r].leaf, feature_regs[r].sub, feature_regs[r].reg);

		for (unsigned b = 0; b < 32; b++) {
			const struct cpu_feature *f;

			if (!((w & ~h) >> b & 1))
				continue;
			/* OSXSAVE and the hypervisor bit follow the guest and the VMM. */
			if (feature_regs[r].leaf == 1 && feature_regs[r].reg == CPUID_ECX &&
			    (b == 27 || b == 31))
				continue;
			f = cpu_feature_find_bit(feature_regs[r].leaf, feature_regs[r].sub,
						 feature_regs[r].reg, b);
			if (f && n < max)
				out[n++] = f;
		}
	}
	return n;
}
