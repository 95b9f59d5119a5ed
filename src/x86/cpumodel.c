#include "x86/cpumodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* CPUID 1 EDX: QEMU's PPRO_FEATURES and the bits the models add to it. */
#define EDX_FPU    (1u << 0)
#define EDX_VME    (1u << 1)
#define EDX_DE     (1u << 2)
#define EDX_PSE    (1u << 3)
#define EDX_TSC    (1u << 4)
#define EDX_MSR    (1u << 5)
#define EDX_PAE    (1u << 6)
#define EDX_MCE    (1u << 7)
#define EDX_CX8    (1u << 8)
#define EDX_APIC   (1u << 9)
#define EDX_SEP    (1u << 11)
#define EDX_MTRR   (1u << 12)
#define EDX_PGE    (1u << 13)
#define EDX_MCA    (1u << 14)
#define EDX_CMOV   (1u << 15)
#define EDX_PAT    (1u << 16)
#define EDX_PSE36  (1u << 17)
#define EDX_CLFSH  (1u << 19)
#define EDX_MMX    (1u << 23)
#define EDX_FXSR   (1u << 24)
#define EDX_SSE    (1u << 25)
#define EDX_SSE2   (1u << 26)
#define PPRO_FEATURES (EDX_FPU | EDX_DE | EDX_PSE | EDX_TSC | EDX_MSR | EDX_MCE | EDX_CX8 | \
		       EDX_PGE | EDX_CMOV | EDX_PAT | EDX_FXSR | EDX_MMX | EDX_SSE | EDX_SSE2 | \
		       EDX_PAE | EDX_SEP | EDX_APIC)
/* CPUID 1 ECX */
#define ECX_SSE3       (1u << 0)
#define ECX_CX16       (1u << 13)
#define ECX_X2APIC     (1u << 21)
#define ECX_HYPERVISOR (1u << 31)
/* CPUID 0x80000001 */
#define E1_EDX_SYSCALL (1u << 11)
#define E1_EDX_NX      (1u << 20)
#define E1_EDX_LM      (1u << 29)
#define E1_ECX_LAHF_LM (1u << 0)
/* On AMD, 0x80000001 EDX repeats these bits of CPUID 1 EDX. */
#define AMD_EDX_ALIASES 0x0183f3ffu

/* QEMU 7.2's definitions (target/i386/cpu.c), as QEMU gives them under
 * KVM: its KVM defaults turn SVM off (qemu64 lists it) and x2APIC on. */
static const struct cpu_def generic_models[] = {
	{ "kvm32", "Common 32-bit KVM processor", "GenuineIntel", 15, 6, 1, 5, 0x80000008,
	  PPRO_FEATURES | EDX_VME | EDX_MTRR | EDX_CLFSH | EDX_MCA | EDX_PSE36, ECX_SSE3, 0, 0,
	  "Common 32-bit KVM processor" },
	{ "kvm64", "Common KVM processor", "GenuineIntel", 15, 6, 1, 0xd, 0x80000008,
	  PPRO_FEATURES | EDX_VME | EDX_MTRR | EDX_CLFSH | EDX_MCA | EDX_PSE36, ECX_SSE3 | ECX_CX16,
	  E1_EDX_LM | E1_EDX_SYSCALL | E1_EDX_NX, 0, "Common KVM processor" },
	{ "qemu32", "QEMU Virtual CPU version 2.5+", "GenuineIntel", 6, 6, 3, 4, 0x80000004,
	  PPRO_FEATURES, ECX_SSE3, 0, 0, "QEMU Virtual CPU version 2.5+" },
	{ "qemu64", "QEMU Virtual CPU version 2.5+", "AuthenticAMD", 15, 107, 1, 0xd, 0x8000000a,
	  PPRO_FEATURES | EDX_MTRR | EDX_CLFSH | EDX_MCA | EDX_PSE36, ECX_SSE3 | ECX_CX16,
	  E1_EDX_LM | E1_EDX_SYSCALL | E1_EDX_NX, E1_ECX_LAHF_LM, "QEMU Virtual CPU version 2.5+" },
};

const struct cpu_def *cpu_def_at(unsigned i)
{
	return i < sizeof(generic_models) / sizeof(generic_models[0]) ? &generic_models[i] : NULL;
}

/* "qemu64" or its only version, "qemu64-v1". */
static const struct cpu_def *find_def(const char *name)
{
	const struct cpu_def *d;

	for (unsigned i = 0; (d = cpu_def_at(i)); i++) {
		size_t n = strlen(d->name);

		if (!strcmp(name, d->name) || (!strncmp(name, d->name, n) && !strcmp(name + n, "-v1")))
			return d;
	}
	return NULL;
}

static void print_flags(FILE *f)
{
	const char *names[256];
	unsigned n = 0, col = 0;
	const struct cpu_feature *c;

	/* One name per bit (QEMU's; the aliases after it are not listed), and
	 * not the bits the guest's OS sets, which no model can ask for. */
	for (unsigned i = 0; (c = cpu_feature_at(i)) && n < 256; i++)
		if (cpu_feature_find_bit(c->leaf, c->sub, c->reg, c->bit) == c &&
		    strcmp(c->name, "osxsave") && strcmp(c->name, "ospke"))
			names[n++] = c->name;
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];

			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	fprintf(f, "Recognized CPUID flags:\n");
	for (unsigned i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (col && col + 1 + len > 75) {
			fputc('\n', f);
			col = 0;
		}
		col += (unsigned)fprintf(f, col ? " %s" : "  %s", names[i]);
	}
	fputc('\n', f);
}

void cpu_model_print_help(FILE *f)
{
	const struct cpu_def *d;
	char v1[32];

	fprintf(f, "Available CPUs:\n");
	for (unsigned i = 0; (d = cpu_def_at(i)); i++) {
		snprintf(v1, sizeof(v1), "%s-v1", d->name);
		fprintf(f, "x86 %-20s  %s\n", d->name, "(alias configured by machine type)");
		fprintf(f, "x86 %-20s  %s\n", v1, d->desc);
	}
	fprintf(f, "x86 %-20s  %s\n", "host", "processor with all supported host features ");
	fprintf(f, "x86 %-20s  %s\n", "max",
		"Enables all features supported by the accelerator in the current host");
	fputc('\n', f);
	print_flags(f);
}

/* Properties of QEMU's host CPU that only tune QEMU itself: accepted, and
 * said to be ignored. */
static const char *const ignored_props[] = {
	"migratable", "check", "enforce", "pmu", "kvm", "l3-cache", "host-phys-bits",
	"host-cache-info", "phys-bits", "kvm-pv-unhalt", "kvm_pv_unhalt", "tsc-frequency",
	"invtsc", "x-force-features",
};

static bool is_ignored_prop(const char *name)
{
	for (size_t i = 0; i < sizeof(ignored_props) / sizeof(ignored_props[0]); i++)
		if (!strcmp(name, ignored_props[i]))
			return true;
	return false;
}

static int add_change(struct cpu_model *m, const struct cpu_feature *f, bool on, char *err,
		      size_t errlen)
{
	/* The last word on a feature wins, as with QEMU. */
	for (unsigned i = 0; i < m->nchange; i++) {
		if (m->change[i].f->leaf == f->leaf && m->change[i].f->sub == f->sub &&
		    m->change[i].f->reg == f->reg && m->change[i].f->bit == f->bit) {
			m->change[i].on = on;
			return 0;
		}
	}
	if (m->nchange == CPU_MODEL_MAX_CHANGES) {
		err_set(err, errlen, "-cpu: more than %d feature changes", CPU_MODEL_MAX_CHANGES);
		return -1;
	}
	m->change[m->nchange].f = f;
	m->change[m->nchange++].on = on;
	return 0;
}

static const char *qom_name(const struct cpu_model *m)
{
	return m->def ? m->def->name : "host";
}

static int unknown_feature(const struct cpu_model *m, const char *name, const char *item, bool qemu,
			   char *err, size_t errlen)
{
	if (qemu && strchr(item, '='))
		err_set(err, errlen, "can't apply global %s-x86_64-cpu.%s: Property "
			"'%s-x86_64-cpu.%s' not found", qom_name(m), item, qom_name(m), name);
	else if (qemu)
		err_set(err, errlen, "Property '%s-x86_64-cpu.%s' not found", qom_name(m), name);
	else
		err_set(err, errlen, "--cpu: unknown CPU feature '%s'", name);
	return -1;
}

static int parse_vendor(const char *v, struct cpu_model *m, bool qemu, char *err, size_t errlen)
{
	if (strlen(v) != 12) {
		if (qemu)
			err_set(err, errlen, "Property '%s-x86_64-cpu.vendor' doesn't take value '%s'",
				qom_name(m), v);
		else
			err_set(err, errlen, "--cpu: vendor= takes 12 characters, got '%s'", v);
		return -1;
	}
	memcpy(m->vendor, v, 13);
	return 0;
}

static bool parse_bool(const char *v, bool *on)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*on = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
		*on = false;
	else
		return false;
	return true;
}

/* One comma-separated item after the model name: +f, -f, f=on|off, a bare
 * f (on, QEMU's legacy form), vendor=S, or a property that only tunes
 * QEMU. */
static int parse_item(const char *item, struct cpu_model *m, bool qemu, char *err, size_t errlen)
{
	const char *start = item, *val = NULL, *eq;
	const struct cpu_feature *f;
	char name[64];
	bool on = true;
	size_t len;

	if (item[0] == '+' || item[0] == '-') {
		on = item[0] == '+';
		start = item + 1;
	}
	eq = start == item ? strchr(item, '=') : NULL;
	len = eq ? (size_t)(eq - start) : strlen(start);
	if (len >= sizeof(name))
		return unknown_feature(m, start, item, qemu, err, errlen);
	memcpy(name, start, len);
	name[len] = 0;
	if (eq)
		val = eq + 1;
	if (val && !strcmp(name, "vendor"))
		return parse_vendor(val, m, qemu, err, errlen);
	if (is_ignored_prop(name)) {
		log_warn("-cpu %s: only tunes QEMU, ignored", item);
		return 0;
	}
	if (val && !parse_bool(val, &on)) {
		err_set(err, errlen, qemu ? "Parameter '%s' expects 'on' or 'off'"
					  : "--cpu: %s expects on or off", name);
		return -1;
	}
	f = cpu_feature_find(name);
	if (!f)
		return unknown_feature(m, name, item, qemu, err, errlen);
	return add_change(m, f, on, err, errlen);
}

int cpu_model_parse(const char *spec, struct cpu_model *m, bool qemu, char *err, size_t errlen)
{
	char buf[1024], *item, *save = NULL;
	int n;

	memset(m, 0, sizeof(*m));
	if (!spec)
		return 0;
	n = snprintf(buf, sizeof(buf), "%s", spec);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		err_set(err, errlen, "-cpu: argument too long");
		return -1;
	}
	item = strtok_r(buf, ",", &save);
	if (item)
		m->def = find_def(item);
	if (!item || (strcmp(item, "host") && strcmp(item, "max") && !m->def)) {
		if (qemu)
			err_set(err, errlen, "unable to find CPU model '%s'", item ? item : "");
		else
			err_set(err, errlen, "--cpu: unknown CPU model '%s' (shrike offers host, max, "
				"qemu64, kvm64, qemu32, kvm32, with +feature, -feature, "
				"feature=on|off, vendor=)", item ? item : "");
		return -1;
	}
	while ((item = strtok_r(NULL, ",", &save)))
		if (parse_item(item, m, qemu, err, errlen))
			return -1;
	return 0;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default:        return &e->edx;
	}
}

static struct kvm_cpuid_entry2 *entry(struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < t->nent; i++)
		if (t->entries[i].function == fn &&
		    (!(t->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || t->entries[i].index == idx))
			return &t->entries[i];
	return NULL;
}

/* Leaves above the model's highest basic or extended leaf are dropped
 * (the hypervisor's 0x4000xxxx leaves stay). */
static void drop_leaves_above(struct kvm_cpuid2 *t, uint32_t level, uint32_t xlevel)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->nent; i++) {
		uint32_t fn = t->entries[i].function;

		if (fn < 0x40000000u ? fn > level : fn >= 0x80000000u && fn > xlevel)
			continue;
		t->entries[n++] = t->entries[i];
	}
	t->nent = n;
}

static void set_vendor(struct kvm_cpuid2 *t, uint32_t fn, const char *vendor)
{
	struct kvm_cpuid_entry2 *e = entry(t, fn, 0);

	if (e) {
		memcpy(&e->ebx, vendor, 4);
		memcpy(&e->edx, vendor + 4, 4);
		memcpy(&e->ecx, vendor + 8, 4);
	}
}

static uint32_t signature(const struct cpu_def *d)
{
	uint32_t fam = d->family > 0xf ? 0xf : d->family;

	return d->stepping | (d->model & 0xf) << 4 | fam << 8 | (d->model >> 4) << 16 |
	       (d->family > 0xf ? d->family - 0xf : 0) << 20;
}

static void set_brand(struct kvm_cpuid2 *t, const char *id)
{
	char brand[48] = { 0 };

	strncpy(brand, id, sizeof(brand) - 1);
	for (uint32_t i = 0; i < 3; i++) {
		struct kvm_cpuid_entry2 *e = entry(t, 0x80000002u + i, 0);

		if (e)
			memcpy(&e->eax, brand + 16 * i, 4), memcpy(&e->ebx, brand + 16 * i + 4, 4),
			memcpy(&e->ecx, brand + 16 * i + 8, 4), memcpy(&e->edx, brand + 16 * i + 12, 4);
	}
}

/* Each feature word becomes the model's; with `offered`, only what the
 * table already had (KVM's supported bits) is kept. */
static void set_word(struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx, enum cpuid_reg r,
		     uint32_t bits, bool offered)
{
	struct kvm_cpuid_entry2 *e = entry(t, fn, idx);

	if (e)
		*reg_of(e, r) = offered ? bits & *reg_of(e, r) : bits;
}

/*
 * The hypervisor bit is the VMM's to give, not the host's: KVM's supported
 * table describes the host CPU and leaves it clear.  Without it Linux looks
 * at no hypervisor leaf, so it gets no kvm-clock and no PV EOI, cannot
 * calibrate the TSC, and reads the time from the ACPI PM timer at one exit
 * per read.  QEMU sets it for every model under KVM; -cpu ...,-hypervisor
 * takes it away.
 */
static void set_hypervisor_bit(struct kvm_cpuid2 *t)
{
	struct kvm_cpuid_entry2 *e = entry(t, 1, 0);

	if (e)
		e->ecx |= ECX_HYPERVISOR;
}

/*
 * KVM's PV EOI (CPUID 0x40000001 EAX bit 6) is not offered.  Measured in
 * the nested test VM (kvm-amd under QEMU's TCG): Debian's kernel on 2 vCPUs
 * hung early in its boot with it, every time with shrike's IOAPIC and 3
 * times in 4 with KVM's, and booted in 4-12 s in every run without it;
 * taking away any other PV feature alone (send IPI, unhalt, TLB flush)
 * changed nothing.  Whether shrike or that back-end is at fault is not
 * known yet; the absence costs the guest one EOI write per interrupt.
 * QEMU offers it.  (Its MSR stays in the reset catalog: x86/msr.c.)
 */
#define KVM_FEATURE_PV_EOI 6

static void hide_pv_eoi(struct kvm_cpuid2 *t)
{
	struct kvm_cpuid_entry2 *e = entry(t, 0x40000001u, 0);

	if (e)
		e->eax &= ~(1u << KVM_FEATURE_PV_EOI);
}

static void apply_def(const struct cpu_def *d, struct kvm_cpuid2 *t, bool offered)
{
	uint32_t e1_edx = d->e1_edx;
	struct kvm_cpuid_entry2 *e;

	drop_leaves_above(t, d->level, d->xlevel);
	if ((e = entry(t, 0, 0)))
		e->eax = d->level;
	if ((e = entry(t, 0x80000000u, 0)))
		e->eax = d->xlevel;
	set_vendor(t, 0, d->vendor);
	set_vendor(t, 0x80000000u, d->vendor);
	if ((e = entry(t, 1, 0)))
		e->eax = signature(d);
	set_word(t, 1, 0, CPUID_EDX, d->f1_edx, offered);
	set_word(t, 1, 0, CPUID_ECX, d->f1_ecx | ECX_X2APIC, offered);
	set_hypervisor_bit(t);
	if (!strcmp(d->vendor, "AuthenticAMD"))
		e1_edx |= d->f1_edx & AMD_EDX_ALIASES;
	set_word(t, 0x80000001u, 0, CPUID_EDX, e1_edx, offered);
	set_word(t, 0x80000001u, 0, CPUID_ECX, d->e1_ecx, offered);
	/* No structured extended features, XSAVE, PMU, SVM, invariant TSC or
	 * AMD speculation controls in these models. */
	for (uint32_t i = 0; i < t->nent; i++) {
		struct kvm_cpuid_entry2 *x = &t->entries[i];

		if (x->function == 7 || x->function == 0xd || x->function == 0xa ||
		    x->function == 0x8000000au)
			x->eax = x->ebx = x->ecx = x->edx = 0;
		else if (x->function == 0x80000007u)
			x->edx = 0;
		else if (x->function == 0x80000008u)
			x->ebx = 0;
	}
	set_brand(t, d->model_id);
}

void cpu_model_apply(const struct cpu_model *m, struct kvm_cpuid2 *t)
{
	if (m->def)
		apply_def(m->def, t, true);
	else
		set_hypervisor_bit(t);
	hide_pv_eoi(t);
	for (unsigned i = 0; i < m->nchange; i++) {
		const struct cpu_feature *f = m->change[i].f;
		struct kvm_cpuid_entry2 *e = entry(t, f->leaf, f->sub);
		uint32_t *r;

		if (!e)
			continue;      /* the leaf does not exist here: check() says so */
		r = reg_of(e, f->reg);
		if (m->change[i].on)
			*r |= 1u << f->bit;
		else
			*r &= ~(1u << f->bit);
	}
	if (m->vendor[0]) {
		struct kvm_cpuid_entry2 *e = entry(t, 0, 0);

		if (e) {
			memcpy(&e->ebx, m->vendor, 4);
			memcpy(&e->edx, m->vendor + 4, 4);
			memcpy(&e->ecx, m->vendor + 8, 4);
		}
	}
}

static const char *const reg_names[] = { "EAX", "EBX", "ECX", "EDX" };

static void warn_feature(const struct cpu_feature *f, bool has)
{
	log_warn("this host's KVM %s feature %s (CPUID.%02XH:%s [bit %u]) whatever -cpu says",
		 has ? "keeps" : "does not offer", f->name, (unsigned)f->leaf, reg_names[f->reg],
		 f->bit);
}

/* A generic model: every feature bit it names that the guest lacks, and
 * every one the guest has that it does not name. */
static unsigned check_def(const struct cpu_model *m, const struct kvm_cpuid2 *seen)
{
	const struct cpu_feature *diff[64];
	struct kvm_cpuid2 *want = cpuid_copy(seen);
	unsigned n, total = 0;

	if (!want)
		return 0;
	apply_def(m->def, want, false);
	for (unsigned i = 0; i < m->nchange; i++) {
		struct kvm_cpuid_entry2 *e = entry(want, m->change[i].f->leaf, m->change[i].f->sub);

		if (e && m->change[i].on)
			*reg_of(e, m->change[i].f->reg) |= 1u << m->change[i].f->bit;
		else if (e)
			*reg_of(e, m->change[i].f->reg) &= ~(1u << m->change[i].f->bit);
	}
	if (cpuid_reg(want, 1, 0, CPUID_EAX) != (cpuid_reg(seen, 1, 0, CPUID_EAX) & 0x0fff3fffu) ||
	    cpuid_reg(want, 0, 0, CPUID_EAX) != cpuid_reg(seen, 0, 0, CPUID_EAX) ||
	    cpuid_reg(want, 0x80000002u, 0, CPUID_EAX) !=
		    cpuid_reg(seen, 0x80000002u, 0, CPUID_EAX)) {
		log_warn("this host's KVM keeps its own CPU identity (signature, highest leaf or "
			 "brand) whatever -cpu %s says", m->def->name);
		total++;
	}
	n = cpu_features_missing(want, seen, diff, 64);
	for (unsigned i = 0; i < n; i++)
		warn_feature(diff[i], false);
	total += n;
	n = cpu_features_missing(seen, want, diff, 64);
	for (unsigned i = 0; i < n; i++)
		warn_feature(diff[i], true);
	free(want);
	return total + n;
}

unsigned cpu_model_check(const struct cpu_model *m, const struct kvm_cpuid2 *seen)
{
	unsigned n = m->def ? check_def(m, seen) : 0;

	for (unsigned i = 0; i < m->nchange; i++) {
		const struct cpu_feature *f = m->change[i].f;
		bool has = cpuid_has(seen, f->leaf, f->sub, f->reg, f->bit);

		if (m->def || has == m->change[i].on)
			continue;          /* a model's changes were checked with it */
		warn_feature(f, has);
		n++;
	}
	if (m->vendor[0] || m->def) {
		const char *vendor = m->vendor[0] ? m->vendor : m->def->vendor;
		char got[13] = "";
		uint32_t ebx = cpuid_reg(seen, 0, 0, CPUID_EBX), edx = cpuid_reg(seen, 0, 0, CPUID_EDX),
			 ecx = cpuid_reg(seen, 0, 0, CPUID_ECX);

		memcpy(got, &ebx, 4);
		memcpy(got + 4, &edx, 4);
		memcpy(got + 8, &ecx, 4);
		if (strcmp(got, vendor)) {
			log_warn("this host's KVM keeps the vendor '%s' whatever -cpu vendor= says", got);
			n++;
		}
	}
	return n;
}
