#include "cli/stats.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/exits.h"
#include "core/vm.h"
#include "x86/emulate/emulate.h"

static void print_exits(const struct vcpu_stats *s, FILE *f)
{
	fprintf(f, "  exits:");
	for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
		if (s->exits[r])
			fprintf(f, " %s=%llu", exit_reason_name(r), (unsigned long long)s->exits[r]);
	fprintf(f, "\n");
}

static void print_classes(const char *label, const uint64_t *count, FILE *f)
{
	fprintf(f, "  %s classes:", label);
	for (unsigned c = 0; c < CPU_NCLASSES; c++)
		if (count[c])
			fprintf(f, " %s=%llu", cpu_class_name[c], (unsigned long long)count[c]);
	fprintf(f, "\n");
}

static void print_vcpu(const struct vcpu *v, FILE *f)
{
	const struct cpu_sync_stats *s = &v->stats.sync;

	fprintf(f, "shrike: stats: vCPU %u (%s): %llu ioctls\n", v->index, v->name,
		(unsigned long long)v->stats.ioctls);
	print_exits(&v->stats, f);
	fprintf(f, "  gets:");
	for (unsigned c = 0; c < CAUSE_NCAUSES; c++)
		if (s->gets[c])
			fprintf(f, " %s=%llu", sync_cause_name[c], (unsigned long long)s->gets[c]);
	fprintf(f, "\n");
	print_classes("get", s->get_class, f);
	fprintf(f, "  puts:");
	for (unsigned l = PUT_RUNTIME; l <= PUT_FULL; l++)
		for (unsigned c = 0; c < CAUSE_NCAUSES; c++)
			if (s->puts[l][c])
				fprintf(f, " %s/%s=%llu", put_level_name[l], sync_cause_name[c],
					(unsigned long long)s->puts[l][c]);
	fprintf(f, "\n");
	print_classes("put", s->put_class, f);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Resets and the time from request to resume (median, min, max). */
static void print_resets(const struct vm *vm, FILE *f)
{
	unsigned n = vm->resets < RESET_LATENCY_SAMPLES ? vm->resets : RESET_LATENCY_SAMPLES;
	uint64_t sorted[RESET_LATENCY_SAMPLES];

	if (!n) {
		fprintf(f, "shrike: stats: resets: 0\n");
		return;
	}
	memcpy(sorted, vm->reset_latency_ns, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), cmp_u64);
	fprintf(f, "shrike: stats: resets: %u, request to resume: median %llu us (min %llu, max %llu)\n",
		vm->resets, (unsigned long long)sorted[n / 2] / 1000,
		(unsigned long long)sorted[0] / 1000, (unsigned long long)sorted[n - 1] / 1000);
}

/* A "Key:  N kB" line of /proc/self/status, in KiB (0 if absent). */
static unsigned long status_kib(const char *key)
{
	char line[256];
	unsigned long v = 0;
	size_t klen = strlen(key);
	FILE *s = fopen("/proc/self/status", "re");

	if (!s)
		return 0;
	while (fgets(line, sizeof(line), s))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoul(line + klen + 1, NULL, 10);
	fclose(s);
	return v;
}

/* Resident KiB of the guest RAM mapping (from /proc/self/smaps). */
static unsigned long guest_rss_kib(const struct vm *vm)
{
	char line[256];
	unsigned long start, end, rss = 0;
	bool in_guest = false;
	uintptr_t g = (uintptr_t)vm->mem.host;
	FILE *s = fopen("/proc/self/smaps", "re");

	if (!s)
		return 0;
	while (fgets(line, sizeof(line), s)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' '))
			in_guest = start >= g && end <= g + vm->mem.total;
		else if (in_guest && !strncmp(line, "Rss:", 4))
			rss += strtoul(line + 4, NULL, 10);
	}
	fclose(s);
	return rss;
}

static void print_console(const struct chardev *cd, FILE *f)
{
	const struct chardev_stats *s = &cd->stats;

	fprintf(f, "shrike: stats: serial: %llu bytes out, %llu in; dropped: %llu (backend gone), "
		"%llu (buffer full while stopping); %llu waits for the reader\n",
		(unsigned long long)s->out_bytes, (unsigned long long)s->in_bytes,
		(unsigned long long)s->dropped_gone, (unsigned long long)s->dropped_full,
		(unsigned long long)s->writer_waits);
}

static void print_timeline(const struct vm *vm, FILE *f)
{
	static const char *const names[TL_N] = {
		"main", "inputs ready", "kvm open", "vm+irqchip", "ram", "devices", "vcpus",
		"loaded", "first KVM_RUN",
	};
	const uint64_t *t = vm->timeline;

	fprintf(f, "shrike: stats: start-up (ms from main):");
	for (unsigned i = TL_CREATE; i < TL_N; i++)
		if (t[i])
			fprintf(f, " %s %.3f", names[i], (double)(t[i] - t[TL_MAIN]) / 1e6);
	fprintf(f, "\n");
}

/* shrike's own memory: the peak RSS less the guest pages it holds. */
static void print_memory(const struct vm *vm, FILE *f)
{
	unsigned long hwm = status_kib("VmHWM"), rss = status_kib("VmRSS"), guest = guest_rss_kib(vm);

	fprintf(f, "shrike: stats: memory: peak RSS %lu KiB, RSS %lu KiB, guest RAM resident %lu KiB; "
		"shrike's own (RSS less guest pages) %lu KiB, peak RSS less guest pages %lu KiB\n", hwm, rss, guest,
		rss > guest ? rss - guest : 0, hwm > guest ? hwm - guest : 0);
}

void stats_print(const struct vm *vm, FILE *f)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		print_vcpu(vm->vcpu[i], f);
	fprintf(f, "shrike: stats: pio unassigned reads=%llu writes=%llu invalid=%llu; "
		"mmio unassigned reads=%llu writes=%llu\n",
		(unsigned long long)vm->pio.count.unassigned_reads,
		(unsigned long long)vm->pio.count.unassigned_writes,
		(unsigned long long)vm->pio.count.invalid,
		(unsigned long long)vm->mmio.count.unassigned_reads,
		(unsigned long long)vm->mmio.count.unassigned_writes);
	for (unsigned i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].model->stats)
			vm->devices[i].model->stats(vm->devices[i].opaque, f);
	print_console(&vm->console, f);
	emu_stats_print(vm->emu_stats, f);
	print_resets(vm, f);
	{
		static const char *const why[] = { "running", "power-off", "debug-exit", "reset",
						   "error", "signal", "quit" };

		fprintf(f, "shrike: stats: stopped by: %s, exit status %d\n", why[vm->stop_reason],
			vm->exit_status);
	}
	fprintf(f, "shrike: stats: boot: %s%s%s\n", vm->boot.format ? vm->boot.format : "?",
		vm->boot.note[0] ? "; " : "", vm->boot.note);
	print_timeline(vm, f);
	print_memory(vm, f);
}
