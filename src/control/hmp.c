/*
 * The human monitor commands QMP clients send through human-monitor-command:
 * info registers [-a], info cpus, info status.  Output as QEMU words it,
 * with "\r\n" line ends.  Registers are read through the state engine, on
 * each vCPU's own thread, with cause "debug" (the trace shows it).
 */
#include "control/hmp.h"

#include <string.h>

#include "core/vcpu.h"
#include "core/vm.h"
#include "x86/dump.h"

struct dump_work {
	struct strbuf *text;
	bool ok;
};

static void dump_on_vcpu(struct vcpu *v, void *arg)
{
	struct dump_work *w = arg;

	w->ok = cpu_state_get(&v->state, X86_DUMP_CLASSES, CAUSE_DEBUG, "qmp:info registers") == 0;
	if (w->ok)
		x86_dump_registers(&v->state, w->text);
}

static void info_registers(struct vm *vm, bool all, struct strbuf *out)
{
	for (unsigned i = 0; i < (all ? vm->ncpus : 1); i++) {
		struct dump_work w = { out, false };

		sb_printf(out, "\nCPU#%u\n", i);
		vcpu_run_on(vm->vcpu[i], dump_on_vcpu, &w);
		if (!w.ok)
			sb_printf(out, "(registers unavailable)\n");
	}
}

static void info_cpus(struct vm *vm, struct strbuf *out)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		sb_printf(out, "%c CPU #%u: thread_id=%d\n", i == 0 ? '*' : ' ', i,
			  __atomic_load_n(&vm->vcpu[i]->tid, __ATOMIC_ACQUIRE));
}

static void info_status(struct vm *vm, struct strbuf *out)
{
	enum run_state s = vm_run_state(vm);

	sb_printf(out, "VM status: %s", s == RS_RUNNING ? "running" : "paused");
	if (s != RS_RUNNING && s != RS_PAUSED)
		sb_printf(out, " (%s)", run_state_name(s));
	sb_printf(out, "\n");
}

/* "\n" -> "\r\n", as QEMU's monitor writes to a QMP client. */
static void crlf(const struct strbuf *in, struct strbuf *out)
{
	const char *s = sb_str(in);

	for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
		sb_add(out, s, (size_t)(nl - s));
		sb_add(out, "\r\n", 2);
	}
	sb_add(out, s, strlen(s));
}

void hmp_run(struct vm *vm, const char *line, struct strbuf *out)
{
	struct strbuf text = { 0 };
	char words[4][64];
	int n = 0;

	memset(words, 0, sizeof(words));
	for (const char *p = line; *p && n < 4;) {
		size_t len = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		while (p[len] && p[len] != ' ' && p[len] != '\t')
			len++;
		snprintf(words[n++], sizeof(words[0]), "%.*s", (int)len, p);
		p += len;
	}
	if (n == 0) {
		/* QEMU answers an empty line with nothing. */
	} else if (!strcmp(words[0], "info") && !strcmp(words[1], "registers")) {
		info_registers(vm, !strcmp(words[2], "-a"), &text);
	} else if (!strcmp(words[0], "info") && !strcmp(words[1], "cpus")) {
		info_cpus(vm, &text);
	} else if (!strcmp(words[0], "info") && !strcmp(words[1], "status")) {
		info_status(vm, &text);
	} else if (!strcmp(words[0], "info")) {
		sb_printf(&text, "unknown info command: '%s' (shrike has: registers, cpus, status)\n",
			  words[1]);
	} else {
		sb_printf(&text, "unknown command: '%s'\n", words[0]);
	}
	crlf(&text, out);
	sb_free(&text);
}
