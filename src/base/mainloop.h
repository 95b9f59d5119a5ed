/*
 * The main thread's event loop: one poll() over every file descriptor the
 * VMM serves outside the vCPU threads (stop requests, signals, the serial
 * backend in both directions, the control socket, the debugger).
 *
 * A watch names an fd and two callbacks: events() says what to wait for
 * now (0: skip this fd this round), ready() handles what poll() reported.
 * Watches are added and removed only on the main thread.
 */
#ifndef SHRIKE_MAINLOOP_H
#define SHRIKE_MAINLOOP_H

#include <stdbool.h>

#define MAINLOOP_MAX_WATCHES 16

struct watch {
	int fd;
	short (*events)(void *opaque);
	void (*ready)(void *opaque, short revents);
	void *opaque;
};

struct mainloop {
	struct watch w[MAINLOOP_MAX_WATCHES];
	unsigned n;
};

void mainloop_init(struct mainloop *l);
/* Returns 0 or -ENOSPC. */
int mainloop_add(struct mainloop *l, int fd, short (*events)(void *), void (*ready)(void *, short),
		 void *opaque);
/* Removes every watch on fd. */
void mainloop_remove(struct mainloop *l, int fd);
/* One round: waits up to timeout_ms (-1: no limit) and dispatches.
 * Returns the number of watches that were ready, or -errno. */
int mainloop_run_once(struct mainloop *l, int timeout_ms);

/* events() helpers */
short watch_pollin(void *opaque);

#endif
