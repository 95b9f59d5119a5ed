/*
 * The sync trace (--trace-sync): one JSON line per transfer of vCPU state
 * between shrike and KVM, in the format of the architecture contract,
 * section 3.  Lines are written whole under a lock, so lines from several
 * vCPU threads never interleave.
 */
#ifndef SHRIKE_TRACE_H
#define SHRIKE_TRACE_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "x86/cpustate.h"

struct trace {
	FILE *f;
	pthread_mutex_t lock;
	bool msrs;
	uint64_t t0_ns;
};

struct trace_event {
	unsigned vcpu;
	const char *thread;
	bool put;
	enum put_level level;      /* puts only */
	enum sync_cause cause;
	const char *origin;        /* may be NULL */
	unsigned classes;          /* CPU_MASK bits */
	unsigned ioctls;
	uint64_t start_ns, dur_ns;
	const struct kvm_msr_entry *msrs;
	unsigned nmsrs;
};

struct trace *trace_open(const char *path, bool msrs, uint64_t t0_ns, char *err, size_t errlen);
void trace_close(struct trace *t);
void trace_emit(struct trace *t, const struct trace_event *ev);

#endif
