/*
 * QEMU's generic CPU models (x86/cpumodel.c) applied to a made-up host
 * table, without KVM: identity, feature words (only what the host offers),
 * leaves dropped above the model's levels, the hypervisor's leaves kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "x86/cpumodel.h"

static const uint32_t host_leaves[] = {
	0, 1, 4, 7, 0xa, 0xd, 0x12, 0x14, 0x40000000, 0x40000001, 0x80000000, 0x80000001,
	0x80000002, 0x80000003, 0x80000004, 0x80000007, 0x80000008, 0x8000000a, 0x8000001f,
};

/* A host that offers everything (all ones), leaves as above. */
static struct kvm_cpuid2 *host_table(void)
{
	size_t n = sizeof(host_leaves) / sizeof(host_leaves[0]);
	struct kvm_cpuid2 *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));

	if (!t)
		return NULL;
	t->nent = (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		t->entries[i] = (struct kvm_cpuid_entry2){ .function = host_leaves[i],
							   .eax = ~0u, .ebx = ~0u, .ecx = ~0u,
							   .edx = ~0u };
	t->entries[0].eax = 0x14;
	t->entries[10].eax = 0x8000001f;
	return t;
}

static struct kvm_cpuid2 *modelled(const char *spec)
{
	struct kvm_cpuid2 *t = host_table();
	struct cpu_model m;
	char err[256];

	if (!t || cpu_model_parse(spec, &m, true, err, sizeof(err))) {
		free(t);
		return NULL;
	}
	cpu_model_apply(&m, t);
	return t;
}

static void qemu64_identity(void)
{
	struct kvm_cpuid2 *t = modelled("qemu64");
	char vendor[13] = { 0 }, brand[49] = { 0 };
	uint32_t r[3];

	CHECK(t != NULL);
	CHECK_EQ(cpuid_reg(t, 0, 0, CPUID_EAX), 0xd);
	r[0] = cpuid_reg(t, 0, 0, CPUID_EBX), r[1] = cpuid_reg(t, 0, 0, CPUID_EDX);
	r[2] = cpuid_reg(t, 0, 0, CPUID_ECX);
	memcpy(vendor, r, 12);
	CHECK(!strcmp(vendor, "AuthenticAMD"));
	/* family 15, model 107 (0x6b), stepping 1 */
	CHECK_EQ(cpuid_reg(t, 1, 0, CPUID_EAX), 0x00060fb1);
	CHECK_EQ(cpuid_reg(t, 0x80000000, 0, CPUID_EAX), 0x8000000a);
	for (uint32_t i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++) {
			uint32_t v = cpuid_reg(t, 0x80000002 + i, 0, (enum cpuid_reg)k);

			memcpy(brand + 16 * i + 4 * k, &v, 4);
		}
	CHECK(!strcmp(brand, "QEMU Virtual CPU version 2.5+"));
	free(t);
}

static void qemu64_features(void)
{
	struct kvm_cpuid2 *t = modelled("qemu64,+popcnt,-cx16");

	CHECK(t != NULL);
	/* PPRO_FEATURES | MTRR | CLFLUSH | MCA | PSE36 */
	CHECK_EQ(cpuid_reg(t, 1, 0, CPUID_EDX), 0x078bfbfd);
	/* SSE3, x2APIC, hypervisor (KVM's defaults), +popcnt; cx16 taken away */
	CHECK_EQ(cpuid_reg(t, 1, 0, CPUID_ECX), 0x80a00001);
	/* LM | SYSCALL | NX, and AMD's copies of CPUID 1 EDX */
	CHECK_EQ(cpuid_reg(t, 0x80000001, 0, CPUID_EDX), 0x2193fbfd);
	CHECK_EQ(cpuid_reg(t, 0x80000001, 0, CPUID_ECX), 1);    /* LAHF_LM; SVM off */
	CHECK_EQ(cpuid_reg(t, 7, 0, CPUID_EBX), 0);
	CHECK_EQ(cpuid_reg(t, 0xd, 0, CPUID_EAX), 0);
	free(t);
}

static void levels_cut(void)
{
	struct kvm_cpuid2 *t = modelled("qemu32");

	CHECK(t != NULL);
	CHECK(cpuid_find(t, 4, 0) != NULL);
	CHECK(cpuid_find(t, 7, 0) == NULL);                 /* level 4 */
	CHECK(cpuid_find(t, 0x12, 0) == NULL);
	CHECK(cpuid_find(t, 0x80000004, 0) != NULL);
	CHECK(cpuid_find(t, 0x80000008, 0) == NULL);        /* xlevel 0x80000004 */
	CHECK(cpuid_find(t, 0x40000001, 0) != NULL);        /* the hypervisor's leaves stay */
	CHECK_EQ(cpuid_reg(t, 0x80000001, 0, CPUID_EDX), 0);  /* no long mode */
	free(t);
}

static void host_lacks_features(void)
{
	struct kvm_cpuid2 *t = host_table();
	struct cpu_model m;
	char err[256];

	CHECK(t != NULL);
	t->entries[1].ecx = 0;                              /* a host without SSE3, CX16... */
	CHECK(!cpu_model_parse("kvm64", &m, false, err, sizeof(err)));
	cpu_model_apply(&m, t);
	/* ...is not given them; the hypervisor bit is the VMM's */
	CHECK_EQ(cpuid_reg(t, 1, 0, CPUID_ECX), 1u << 31);
	free(t);
}

/* KVM's supported table never has the hypervisor bit; every model gets it
 * (Linux finds kvm-clock through it), unless the user takes it away. */
static void hypervisor_bit_is_the_vmms(void)
{
	static const char *const specs[] = { "host", "max", "qemu64", "host,-hypervisor" };
	struct cpu_model m;
	char err[256];

	for (unsigned i = 0; i < 4; i++) {
		struct kvm_cpuid2 *t = host_table();

		CHECK(t != NULL);
		t->entries[1].ecx &= ~(1u << 31);
		CHECK(!cpu_model_parse(specs[i], &m, true, err, sizeof(err)));
		cpu_model_apply(&m, t);
		CHECK_EQ(cpuid_reg(t, 1, 0, CPUID_ECX) >> 31, i < 3 ? 1u : 0u);
		free(t);
	}
}

static void names(void)
{
	struct cpu_model m;
	char err[256];

	CHECK(!cpu_model_parse("kvm64-v1", &m, true, err, sizeof(err)));
	CHECK(m.def && !strcmp(m.def->name, "kvm64"));
	CHECK(!cpu_model_parse("max", &m, true, err, sizeof(err)));
	CHECK(m.def == NULL);
	CHECK(cpu_model_parse("qemu64-v2", &m, true, err, sizeof(err)));
	CHECK(!strcmp(err, "unable to find CPU model 'qemu64-v2'"));
	CHECK(cpu_model_parse("kvm32,+nope", &m, true, err, sizeof(err)));
	CHECK(!strcmp(err, "Property 'kvm32-x86_64-cpu.nope' not found"));
}

int main(void)
{
	RUN(qemu64_identity);
	RUN(qemu64_features);
	RUN(levels_cut);
	RUN(host_lacks_features);
	RUN(hypervisor_bit_is_the_vmms);
	RUN(names);
	return check_failures ? 1 : 0;
}
