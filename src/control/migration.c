#include "control/migration.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/json.h"
#include "control/qmp_commands.h"
#include "base/log.h"
#include "base/thread.h"
#include "core/vm.h"
#include "snapshot/snapshot.h"

enum mig_status { MIG_SETUP, MIG_ACTIVE, MIG_COMPLETED, MIG_FAILED };

static const char *const status_name[] = { "setup", "active", "completed", "failed" };

struct migration {
	struct qmp *q;
	pthread_t thread;
	bool thread_live;
	int efd;                   /* the worker is done */
	char path[4096];
	enum mig_status status;    /* written by the main thread only */
	enum run_state before;     /* the run state to go back to on failure */
	uint64_t start_ns, end_ns;
	struct snapshot_stats st;
	int result;
	char error[512];
};

static void event(struct migration *m)
{
	char data[64];

	if (!m->q->migration_events)
		return;
	snprintf(data, sizeof(data), "{\"status\": \"%s\"}", status_name[m->status]);
	qmp_event(m->q, "MIGRATION", data);
}

static void *worker(void *arg)
{
	struct migration *m = arg;

	m->result = snapshot_save(m->q->vm, m->path, m->q->migrate_max_bandwidth, &m->st, m->error,
				  sizeof(m->error));
	m->end_ns = now_ns();
	if (eventfd_write(m->efd, 1) < 0)
		log_error("migrate: cannot wake the main thread");
	return NULL;
}

/* On the main thread, when the worker is done. */
static void done(void *opaque, short revents)
{
	struct migration *m = opaque;
	struct vm *vm = m->q->vm;
	eventfd_t ignored;

	(void)revents;
	eventfd_read(m->efd, &ignored);
	pthread_join(m->thread, NULL);
	m->thread_live = false;
	mainloop_remove(&vm->loop, m->efd);
	close(m->efd);             /* the next migrate makes its own */
	m->efd = -1;
	__atomic_store_n(&vm->save_in_progress, false, __ATOMIC_RELEASE);
	m->status = m->result ? MIG_FAILED : MIG_COMPLETED;
	if (m->result) {
		log_error("migrate: %s", m->error);
		vm_set_run_state(vm, m->before);
		if (m->before == RS_RUNNING)
			vm_resume(vm, PAUSE_MIGRATE);
	} else {
		vm_set_run_state(vm, RS_POSTMIGRATE);
	}
	event(m);
	/* A reset that arrived during the save can happen now. */
	vm_reset_if_requested(vm);
}

static bool same_file(const char *path, const struct vm *vm)
{
	struct stat st;

	return vm->cfg.mapped_ino && stat(path, &st) == 0 && (uint64_t)st.st_dev == vm->cfg.mapped_dev &&
	       (uint64_t)st.st_ino == vm->cfg.mapped_ino;
}

int migration_start(struct qmp *q, const char *uri, char *err, size_t errlen)
{
	struct vm *vm = q->vm;
	struct migration *m = q->mig;
	enum run_state before = vm_run_state(vm);

	if (m && m->thread_live) {
		err_set(err, errlen, "There's a migration process in progress");
		return -1;
	}
	if (strncmp(uri, "file:", 5) || !uri[5] || strlen(uri + 5) >= sizeof(m->path) - 64) {
		err_set(err, errlen, "Migration URI '%s' is not supported (shrike saves to file:PATH)",
			uri);
		return -1;
	}
	if (same_file(uri + 5, vm)) {
		err_set(err, errlen, "%s is the snapshot this VM's RAM is mapped from; save elsewhere",
			uri + 5);
		return -1;
	}
	if (before == RS_INMIGRATE || before == RS_SHUTDOWN) {
		err_set(err, errlen, "cannot save a VM in state %s", run_state_name(before));
		return -1;
	}
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m) {
			err_set(err, errlen, "out of memory");
			return -1;
		}
		m->q = q;
		q->mig = m;
	}
	m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	snprintf(m->path, sizeof(m->path), "%s", uri + 5);
	m->before = before;
	m->start_ns = now_ns();
	m->end_ns = 0;
	m->error[0] = 0;
	m->status = MIG_SETUP;
	event(m);
	if (m->efd < 0 || !vm_pause(vm, PAUSE_MIGRATE)) {
		err_set(err, errlen, "the VM is stopping");
		m->status = MIG_FAILED;
		return -1;
	}
	__atomic_store_n(&vm->save_in_progress, true, __ATOMIC_RELEASE);
	vm_set_run_state(vm, RS_FINISH_MIGRATE);
	m->status = MIG_ACTIVE;
	event(m);
	mainloop_add(&vm->loop, m->efd, watch_pollin, done, m);
	if (thread_start(&m->thread, worker, m)) {
		m->result = -1;
		snprintf(m->error, sizeof(m->error), "cannot start the save");
		eventfd_write(m->efd, 1);
		return 0;
	}
	m->thread_live = true;
	return 0;
}

void migration_query(struct qmp *q, struct strbuf *o)
{
	const struct migration *m = q->mig;
	uint64_t end, ms;

	if (!m) {
		sb_add(o, "{}", 2);
		return;
	}
	end = m->status >= MIG_COMPLETED ? m->end_ns : now_ns();
	ms = (end - m->start_ns) / 1000000;
	sb_printf(o, "{\"status\": \"%s\", \"total-time\": %llu", status_name[m->status],
		 (unsigned long long)ms);
	if (m->status == MIG_COMPLETED) {
		uint64_t normal = m->st.ram_pages, total = m->st.total_ram / 4096;

		sb_printf(o, ", \"setup-time\": 0, \"downtime\": %llu, \"ram\": {\"total\": %llu, "
			 "\"transferred\": %llu, \"remaining\": 0, \"duplicate\": %llu, \"normal\": %llu, "
			 "\"normal-bytes\": %llu, \"page-size\": 4096, \"mbps\": %.3f}",
			 (unsigned long long)ms, (unsigned long long)m->st.total_ram,
			 (unsigned long long)m->st.file_bytes,
			 (unsigned long long)(total > normal ? total - normal : 0),
			 (unsigned long long)normal, (unsigned long long)(normal * 4096),
			 ms ? (double)m->st.file_bytes * 8 / 1000.0 / (double)ms : 0.0);
	}
	if (m->status == MIG_FAILED) {
		sb_add(o, ", \"error-desc\": ", 16);
		jout_str(o, m->error);
	}
	sb_add(o, "}", 1);
}

void migration_free(struct qmp *q)
{
	struct migration *m = q->mig;

	if (!m)
		return;
	if (m->thread_live) {
		pthread_join(m->thread, NULL);
		mainloop_remove(&q->vm->loop, m->efd);
	}
	if (m->efd >= 0)
		close(m->efd);
	free(m);
	q->mig = NULL;
}
