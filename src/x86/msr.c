#include "x86/msr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "x86/cpuid.h"

/* KVM paravirtual MSRs, gated by CPUID 0x40000001 EAX feature bits. */
#define KVM_FEATURE_CLOCKSOURCE     0
#define KVM_FEATURE_CLOCKSOURCE2    3
#define KVM_FEATURE_ASYNC_PF        4
#define KVM_FEATURE_STEAL_TIME      5
#define KVM_FEATURE_ASYNC_PF_INT    14
#define KVM_FEATURE_POLL_CONTROL    12

struct msr_rule {
	uint32_t index;
	const char *name;
	enum msr_kind kind;
	/* CPUID gate: leaf/reg/bit that must be set; leaf 0 = no gate. */
	uint32_t leaf;
	enum cpuid_reg reg;
	int bit;
	int bit2;   /* alternative bit in the same register, or -1 */
};

static const struct msr_rule rules[] = {
	{ 0x10, "TSC", MSR_KIND_RESET, 0, 0, 0, -1 },
	{ 0x3a, "FEATURE_CONTROL", MSR_KIND_FEATURE_CONTROL, 0, 0, 0, -1 },
	{ 0x3b, "TSC_ADJUST", MSR_KIND_RUNTIME, 7, CPUID_EBX, 1, -1 },
	{ 0x34, "SMI_COUNT", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x48, "SPEC_CTRL", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x9e, "SMBASE", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x122, "TSX_CTRL", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x174, "SYSENTER_CS", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x175, "SYSENTER_ESP", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x176, "SYSENTER_EIP", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x17a, "MCG_STATUS", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x17b, "MCG_CTL", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x1a0, "MISC_ENABLE", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x277, "PAT", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x6e0, "TSC_DEADLINE", MSR_KIND_TSC_DEADLINE, 1, CPUID_ECX, 24, -1 },
	{ 0xc0000081, "STAR", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xc0000082, "LSTAR", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xc0000083, "CSTAR", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xc0000084, "SYSCALL_MASK", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xc0000102, "KERNEL_GS_BASE", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xc0000103, "TSC_AUX", MSR_KIND_RUNTIME, 0x80000001, CPUID_EDX, 27, -1 },
	{ 0xc0010015, "HWCR", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xc0010117, "VM_HSAVE_PA", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xc001011f, "VIRT_SPEC_CTRL", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xda0, "XSS", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xe1, "UMWAIT_CONTROL", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x6e1, "PKRS", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0xd90, "BNDCFGS", MSR_KIND_RUNTIME, 0, 0, 0, -1 },
	{ 0x11, "KVM_WALL_CLOCK", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_CLOCKSOURCE, -1 },
	{ 0x12, "KVM_SYSTEM_TIME", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_CLOCKSOURCE, -1 },
	{ 0x4b564d00, "KVM_WALL_CLOCK_NEW", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_CLOCKSOURCE2, -1 },
	{ 0x4b564d01, "KVM_SYSTEM_TIME_NEW", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_CLOCKSOURCE2, -1 },
	{ 0x4b564d02, "KVM_ASYNC_PF_EN", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_ASYNC_PF, -1 },
	{ 0x4b564d03, "KVM_STEAL_TIME", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_STEAL_TIME, -1 },
	/* Not gated: shrike does not offer PV EOI (hide_pv_eoi, x86/cpumodel.c), yet
	 * KVM takes a guest's write to it all the same (unless PV CPUID is
	 * enforced), so a reset must clear it like the others. */
	{ 0x4b564d04, "KVM_PV_EOI_EN", MSR_KIND_RESET, 0, 0, 0, -1 },
	{ 0x4b564d05, "KVM_POLL_CONTROL", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_POLL_CONTROL, -1 },
	{ 0x4b564d06, "KVM_ASYNC_PF_INT", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_ASYNC_PF_INT, -1 },
	{ 0x4b564d07, "KVM_ASYNC_PF_ACK", MSR_KIND_RESET, 0x40000001, CPUID_EAX, KVM_FEATURE_ASYNC_PF_INT, -1 },
	{ 0x1d9, "DEBUGCTL", MSR_KIND_RESET, 0, 0, 0, -1 },
	{ 0x2ff, "MTRR_DEF_TYPE", MSR_KIND_RESET, 1, CPUID_EDX, 12, -1 },
};

static const struct msr_rule *rule_for(uint32_t index)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].index == index)
			return &rules[i];
	return NULL;
}

const char *msr_name(uint32_t index)
{
	const struct msr_rule *r = rule_for(index);

	if (r)
		return r->name;
	if (index >= 0x200 && index < 0x220)
		return (index & 1) ? "MTRR_PHYSMASK" : "MTRR_PHYSBASE";
	if (index == 0x250 || index == 0x258 || index == 0x259 ||
	    (index >= 0x268 && index <= 0x26f))
		return "MTRR_FIX";
	return NULL;
}

/* Hyper-V's synthetic MSRs (0x40000000-0x400000ff) exist for a guest only
 * where its CPUID says Hyper-V ("Microsoft Hv" at 0x40000000); KVM lists
 * them anyway where it can emulate them (hardware KVMs do), and some are
 * clocks (TIME_REF_COUNT, VP_RUNTIME) that no save/restore can keep. */
static bool hyperv_msr_exposed(uint32_t index, const struct kvm_cpuid2 *cpuid)
{
	if (index < 0x40000000 || index > 0x400000ff)
		return true;
	return cpuid_reg(cpuid, 0x40000000, 0, CPUID_EBX) == 0x7263694d &&   /* "Micr" */
	       cpuid_reg(cpuid, 0x40000000, 0, CPUID_ECX) == 0x666f736f &&   /* "osof" */
	       cpuid_reg(cpuid, 0x40000000, 0, CPUID_EDX) == 0x76482074;     /* "t Hv" */
}

static bool exposed(uint32_t index, const struct msr_rule *r, const struct kvm_cpuid2 *cpuid)
{
	if (!hyperv_msr_exposed(index, cpuid))
		return false;
	if (!r || r->leaf == 0)
		return true;
	if (cpuid_has(cpuid, r->leaf, 0, r->reg, (unsigned)r->bit))
		return true;
	/* TSC_AUX is also exposed by RDPID (CPUID 7.ECX[22]). */
	if (r->index == 0xc0000103)
		return cpuid_has(cpuid, 7, 0, CPUID_ECX, 22);
	return false;
}

/* One call in the usual case: a buffer larger than any KVM's list so far;
 * on E2BIG KVM has written the size it needs. */
static struct kvm_msr_list *get_list(int kvm_fd, unsigned long req)
{
	uint32_t n = 512;

	for (int tries = 0; tries < 2; tries++) {
		struct kvm_msr_list *l = calloc(1, sizeof(*l) + n * sizeof(l->indices[0]));

		if (!l)
			return NULL;
		l->nmsrs = n;
		if (ioctl(kvm_fd, req, l) == 0)
			return l;
		n = l->nmsrs + 16;
		free(l);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

static bool in_list(const struct kvm_msr_list *l, uint32_t index)
{
	for (uint32_t i = 0; l && i < l->nmsrs; i++)
		if (l->indices[i] == index)
			return true;
	return false;
}

/* Candidates for the catalog, before probing. */
struct candidates {
	struct kvm_msr_entry *e;
	unsigned n, cap;
};

static void propose(struct candidates *c, uint32_t index)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].index == index)
			return;
	if (c->n < c->cap)
		c->e[c->n++] = (struct kvm_msr_entry){ .index = index };
}

static unsigned variable_mtrrs(int vcpu_fd)
{
	/* struct kvm_msrs and one entry, suitably aligned. */
	uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8 + 1] = { 0 };
	struct kvm_msrs *m = (struct kvm_msrs *)buf;

	m->nmsrs = 1;
	m->entries[0].index = MSR_IA32_MTRRCAP;
	if (ioctl(vcpu_fd, KVM_GET_MSRS, m) != 1)
		return 0;
	return (unsigned)(m->entries[0].data & 0xff);
}

static void propose_mtrrs(struct candidates *c, int vcpu_fd)
{
	static const uint32_t fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
					  0x26c, 0x26d, 0x26e, 0x26f };
	unsigned vcnt = variable_mtrrs(vcpu_fd);

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		propose(c, fixed[i]);
	for (unsigned i = 0; i < vcnt && i < 16; i++) {
		propose(c, 0x200 + 2 * i);
		propose(c, 0x201 + 2 * i);
	}
	propose(c, MSR_MTRR_DEF_TYPE);
}

/*
 * Keeps the candidates KVM reads, then those it accepts back unchanged (the
 * TSC is not written back: that would move it; its writability is
 * architectural).  Batched: KVM_GET/SET_MSRS stop at the first entry they
 * refuse, which is dropped, and the batch goes on from there; usually one
 * ioctl each way.
 */
static int probe_all(struct candidates *c, int vcpu_fd, bool set)
{
	struct kvm_msrs *buf = calloc(1, sizeof(*buf) + c->n * sizeof(buf->entries[0]));
	unsigned done = 0;

	if (!buf)
		return -ENOMEM;
	while (done < c->n) {
		unsigned batch = 0;
		int r;

		for (unsigned i = done; i < c->n; i++)
			if (!set || c->e[i].index != MSR_IA32_TSC)
				buf->entries[batch++] = c->e[i];
		if (!batch)
			break;
		buf->nmsrs = batch;
		r = ioctl(vcpu_fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, buf);
		if (r < 0) {
			free(buf);
			return -errno;
		}
		/* Map the batch back onto the candidates (the TSC skipped). */
		for (unsigned b = 0, i = done; b < (unsigned)r; i++) {
			if (set && c->e[i].index == MSR_IA32_TSC)
				continue;
			c->e[i] = buf->entries[b++];
			done = i + 1;
		}
		if ((unsigned)r == batch)
			break;
		/* The refused entry: the next one of the batch. */
		for (unsigned i = done; i < c->n; i++) {
			if (set && c->e[i].index == MSR_IA32_TSC)
				continue;
			memmove(&c->e[i], &c->e[i + 1], (c->n - i - 1) * sizeof(c->e[0]));
			c->n--;
			done = i;
			break;
		}
	}
	free(buf);
	return 0;
}

int msr_catalog_build(struct msr_catalog *cat, int kvm_fd, int vcpu_fd,
		      const struct kvm_cpuid2 *cpuid)
{
	struct kvm_msr_list *list = get_list(kvm_fd, KVM_GET_MSR_INDEX_LIST);
	struct kvm_msr_list *features = get_list(kvm_fd, KVM_GET_MSR_FEATURE_INDEX_LIST);
	struct candidates c = { 0 };
	int deadline, r;

	memset(cat, 0, sizeof(*cat));
	if (!list) {
		free(features);
		return -errno ? -errno : -EIO;
	}
	c.cap = list->nmsrs + 64;
	c.e = calloc(c.cap, sizeof(*c.e));
	cat->msr = calloc(c.cap, sizeof(*cat->msr));
	if (!c.e || !cat->msr) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < list->nmsrs; i++) {
		uint32_t index = list->indices[i];

		if (!in_list(features, index) && exposed(index, rule_for(index), cpuid))
			propose(&c, index);
	}
	if (cpuid_has(cpuid, 1, 0, CPUID_EDX, 12))
		propose_mtrrs(&c, vcpu_fd);
	r = probe_all(&c, vcpu_fd, false);
	if (!r)
		r = probe_all(&c, vcpu_fd, true);
	for (unsigned i = 0; !r && i < c.n; i++) {
		const struct msr_rule *rule = rule_for(c.e[i].index);

		cat->msr[cat->n++] = (struct msr_info){ c.e[i].index,
							rule ? rule->kind : MSR_KIND_RESET, c.e[i].data };
	}
	/* Keep TSC_DEADLINE at the very end of the list, after the TSC. */
	deadline = msr_catalog_find(cat, MSR_IA32_TSC_DEADLINE);
	if (deadline >= 0) {
		struct msr_info d = cat->msr[deadline];

		memmove(&cat->msr[deadline], &cat->msr[deadline + 1],
			(cat->n - (unsigned)deadline - 1) * sizeof(d));
		cat->msr[cat->n - 1] = d;
	}
out:
	free(c.e);
	free(list);
	free(features);
	return r;
}

void msr_catalog_free(struct msr_catalog *cat)
{
	free(cat->msr);
	memset(cat, 0, sizeof(*cat));
}

int msr_catalog_find(const struct msr_catalog *cat, uint32_t index)
{
	for (unsigned i = 0; i < cat->n; i++)
		if (cat->msr[i].index == index)
			return (int)i;
	return -1;
}
