#include "cli/signals.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mainloop.h"
#include "core/vm.h"

/* The signals that stop or reset the VM: one list for the mask and the
 * signalfd. */
static void vm_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

void signals_block(void)
{
	sigset_t set;

	vm_signals(&set);
	sigaddset(&set, SIGUSR1);      /* the kick, taken only where unblocked */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The command name of a process ("<unknown>" if it is gone). */
static const char *process_name(uint32_t pid, char *name, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(name, (int)len, f))
		snprintf(name, len, "<unknown>");
	if (f)
		fclose(f);
	name[strcspn(name, "\n")] = 0;
	return name;
}

struct signal_watch {
	struct vm *vm;
	int fd;
};

static void on_signal(void *opaque, short revents)
{
	struct signal_watch *w = opaque;
	struct signalfd_siginfo si;
	char name[64];

	(void)revents;
	if (read(w->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (w->vm->cfg.qemu_personality) {
		/* QEMU ends on all three, with status 0 and this line. */
		log_error("terminating on signal %u from pid %u (%s)", si.ssi_signo, si.ssi_pid,
			  process_name(si.ssi_pid, name, sizeof(name)));
		vm_abandon_output(w->vm);
		vm_request_stop(w->vm, STOP_SIGNAL, 0);
	} else if (si.ssi_signo == SIGHUP) {
		/* The guest goes on: what it prints must still be written. */
		vm_request_reset(w->vm, "host:SIGHUP");
	} else {
		vm_abandon_output(w->vm);
		vm_request_stop(w->vm, STOP_SIGNAL, 128 + (int)si.ssi_signo);
	}
}

struct signal_watch *signals_watch(struct vm *vm)
{
	struct signal_watch *w = calloc(1, sizeof(*w));
	sigset_t set;

	vm_signals(&set);
	if (w)
		w->fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!w || w->fd < 0 || mainloop_add(&vm->loop, w->fd, watch_pollin, on_signal, w)) {
		log_error("cannot serve SIGINT, SIGTERM and SIGHUP: %s", strerror(errno));
		if (w && w->fd >= 0)
			close(w->fd);
		free(w);
		return NULL;
	}
	w->vm = vm;
	return w;
}

void signals_close(struct signal_watch *w)
{
	if (!w)
		return;
	mainloop_remove(&w->vm->loop, w->fd);
	close(w->fd);
	free(w);
}
