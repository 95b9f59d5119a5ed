#include "x86/cpumodel.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

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

static int unknown_feature(const char *name, const char *item, bool qemu, char *err,
			   size_t errlen)
{
	if (qemu && strchr(item, '='))
		err_set(err, errlen, "can't apply global host-x86_64-cpu.%s: Property "
			"'host-x86_64-cpu.%s' not found", item, name);
	else if (qemu)
		err_set(err, errlen, "Property 'host-x86_64-cpu.%s' not found", name);
	else
		err_set(err, errlen, "--cpu: unknown CPU feature '%s'", name);
	return -1;
}

static int parse_vendor(const char *v, struct cpu_model *m, bool qemu, char *err, size_t errlen)
{
	if (strlen(v) != 12) {
		if (qemu)
			err_set(err, errlen, "Property 'host-x86_64-cpu.vendor' doesn't take value '%s'",
				v);
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
		return unknown_feature(start, item, qemu, err, errlen);
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
		return unknown_feature(name, item, qemu, err, errlen);
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
	if (!item || (strcmp(item, "host") && strcmp(item, "max"))) {
		if (qemu)
			err_set(err, errlen, "unable to find CPU model '%s'", item ? item : "");
		else
			err_set(err, errlen, "--cpu: unknown CPU model '%s' (shrike offers host, "
				"with +feature, -feature, feature=on|off, vendor=)", item ? item : "");
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

void cpu_model_apply(const struct cpu_model *m, struct kvm_cpuid2 *t)
{
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

unsigned cpu_model_check(const struct cpu_model *m, const struct kvm_cpuid2 *seen)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->nchange; i++) {
		const struct cpu_feature *f = m->change[i].f;
		bool has = cpuid_has(seen, f->leaf, f->sub, f->reg, f->bit);

		if (has == m->change[i].on)
			continue;
		log_warn("this host's KVM %s feature %s (CPUID.%02XH:%s [bit %u]) whatever -cpu says",
			 has ? "keeps" : "does not offer", f->name, (unsigned)f->leaf,
			 reg_names[f->reg], f->bit);
		n++;
	}
	if (m->vendor[0]) {
		char got[13] = "";
		uint32_t ebx = cpuid_reg(seen, 0, 0, CPUID_EBX), edx = cpuid_reg(seen, 0, 0, CPUID_EDX),
			 ecx = cpuid_reg(seen, 0, 0, CPUID_ECX);

		memcpy(got, &ebx, 4);
		memcpy(got + 4, &edx, 4);
		memcpy(got + 8, &ecx, 4);
		if (strcmp(got, m->vendor)) {
			log_warn("this host's KVM keeps the vendor '%s' whatever -cpu vendor= says", got);
			n++;
		}
	}
	return n;
}
