/*
 * In-process guest tests (KVM selftests style): a test creates a VM with
 * libshrike, adds the "test channel" device (ports 0x1000-0x1017, see
 * guest/lib/rt.h), runs a test kernel and talks to it while it runs.
 */
#ifndef SHRIKE_TEST_HARNESS_H
#define SHRIKE_TEST_HARNESS_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board/board.h"
#include "check.h"
#include "core/config.h"
#include "base/log.h"
#include "core/vm.h"
#include "loader/loader.h"
#include "x86/trace.h"

#define TC_QUEUE 4096

struct harness {
	struct vm vm;
	struct loader_input in;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t stage;
	uint32_t reply;
	uint32_t to_guest[TC_QUEUE], to_guest_n, to_guest_pos;
	uint32_t from_guest[TC_QUEUE], from_guest_n;
	/* The slow exit: what it fetches, how long it stays, what it dirties. */
	unsigned slow_get_mask, slow_dirty_mask;
	unsigned slow_ms;
	void (*slow_hook)(struct harness *h, struct vcpu *v);
	int inside;
	char serial_path[64];
	bool created, started;
};

static uint64_t tc_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct harness *h = opaque;
	uint64_t v = 0;

	(void)vcpu, (void)size;
	off /= 4;
	pthread_mutex_lock(&h->lock);
	if (off == 1)
		v = h->reply;
	else if (off == 3)
		v = (uint64_t)h->inside;
	else if (off == 4 && h->to_guest_pos < h->to_guest_n)
		v = h->to_guest[h->to_guest_pos++];
	pthread_mutex_unlock(&h->lock);
	return v;
}

static void slow_exit(struct harness *h, struct vcpu *v)
{
	struct timespec ts = { (time_t)(h->slow_ms / 1000), (long)(h->slow_ms % 1000) * 1000000 };

	pthread_mutex_lock(&h->lock);
	h->inside++;
	pthread_mutex_unlock(&h->lock);
	if (h->slow_get_mask &&
	    cpu_state_get(&v->state, h->slow_get_mask, CAUSE_SYNC_STATE, "test:slow") == 0) {
		nanosleep(&ts, NULL);
		if (h->slow_hook)
			h->slow_hook(h, v);
		if (h->slow_dirty_mask)
			cpu_state_dirty(&v->state, h->slow_dirty_mask, "test:slow");
	} else {
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&h->lock);
	h->inside--;
	pthread_mutex_unlock(&h->lock);
}

static void tc_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value, unsigned size)
{
	struct harness *h = opaque;

	(void)size;
	off /= 4;
	if (off == 2) {
		slow_exit(h, vcpu);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (off == 0)
		h->stage = (uint32_t)value;
	else if (off == 5 && h->from_guest_n < TC_QUEUE)
		h->from_guest[h->from_guest_n++] = (uint32_t)value;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static const struct io_ops tc_ops = { tc_read, tc_write, 1, 4, 4, 4 };

static inline bool harness_have_kvm(void)
{
	return access("/dev/kvm", R_OK | W_OK) == 0;
}

/* Creates and boots (not starts) a VM for a test kernel. */
static inline int harness_create(struct harness *h, const char *kernel, unsigned cpus,
			  enum sync_mode sync, const char *cmdline, const char *trace_path)
{
	struct vm_config cfg;
	struct guest_mem mem;
	struct boot_plan plan;
	char err[256] = "";

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	config_defaults(&cfg);
	cfg.kernel_path = kernel;
	cfg.cpus = cpus;
	cfg.memory = 64ull << 20;
	cfg.sync = sync;
	cfg.seccomp = 0;           /* the test process is no VMM to sandbox */
	/* tests/run.sh runs the host tests again with KVM's irqchip. */
	if (getenv("SHRIKE_TEST_IRQCHIP") && !strcmp(getenv("SHRIKE_TEST_IRQCHIP"), "kernel"))
		cfg.irqchip = IRQCHIP_KERNEL;
	cfg.cmdline = cmdline;
	cfg.trace_path = trace_path;
	cfg.trace_msrs = trace_path != NULL;
	snprintf(h->serial_path, sizeof(h->serial_path), "/tmp/shrike-test-%d-%p.out", getpid(),
		 (void *)h);
	cfg.serial = SERIAL_FILE;
	cfg.serial_path = h->serial_path;
	if (blob_read(&h->in.kernel, kernel, err, sizeof(err)) ||
	    guest_mem_init(&mem, cfg.memory)) {
		printf("FAIL %s: cannot load %s: %s\n", check_current, kernel, err);
		return -1;
	}
	h->in.mem = &mem;
	h->in.cmdline = cmdline;
	h->in.board = board_pc_acpi();
	if (loader_plan(&h->in, &plan, err, sizeof(err))) {
		printf("FAIL %s: %s\n", check_current, err);
		return -1;
	}
	h->created = true;
	if (vm_create(&h->vm, &cfg, &mem, board_pc_create)) {
		printf("FAIL %s: cannot create the VM\n", check_current);
		return -1;
	}
	if (trace_path &&
	    !(h->vm.trace = trace_open(trace_path, true, h->vm.t0_ns, err, sizeof(err)))) {
		printf("FAIL %s: %s\n", check_current, err);
		return -1;
	}
	vm_boot(&h->vm, &plan);
	return iobus_register(&h->vm.pio, 0x1000, 0x18, &tc_ops, h, "test-channel");
}

static inline int harness_start(struct harness *h)
{
	h->started = true;
	return vm_start(&h->vm);
}

/* Waits for the guest to reach `stage`; false on timeout or stop. */
static inline bool harness_wait_stage(struct harness *h, uint32_t stage, unsigned seconds)
{
	struct timespec deadline;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&h->lock);
	while (h->stage != stage && !vm_stopping(&h->vm))
		if (pthread_cond_timedwait(&h->cond, &h->lock, &deadline) == ETIMEDOUT)
			break;
	ok = h->stage == stage;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static inline void harness_reply(struct harness *h, uint32_t v)
{
	pthread_mutex_lock(&h->lock);
	h->reply = v;
	pthread_mutex_unlock(&h->lock);
}

static inline void harness_queue(struct harness *h, uint32_t v)
{
	pthread_mutex_lock(&h->lock);
	if (h->to_guest_n < TC_QUEUE)
		h->to_guest[h->to_guest_n++] = v;
	pthread_mutex_unlock(&h->lock);
}

/* Prints the guest's serial output (a failure's context). */
static inline void harness_dump_serial(struct harness *h)
{
	char line[256];
	FILE *f = fopen(h->serial_path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("  guest: %s", line);
	fclose(f);
}

static inline bool harness_serial_contains(struct harness *h, const char *needle)
{
	static char buf[65536];
	FILE *f = fopen(h->serial_path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return strstr(buf, needle) != NULL;
}

/* Waits for the VM to stop (the guest ends it), frees it; returns the exit
 * status, or -1 if the VM was never created. */
static inline int harness_finish(struct harness *h)
{
	int status = -1;

	if (h->created) {
		status = h->started ? vm_wait(&h->vm) : 0;
		vm_destroy(&h->vm);
		trace_close(h->vm.trace);
	}
	blob_free(&h->in.kernel);
	unlink(h->serial_path);
	return status;
}

#endif
