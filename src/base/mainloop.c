#include "base/mainloop.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

void mainloop_init(struct mainloop *l)
{
	memset(l, 0, sizeof(*l));
}

int mainloop_add(struct mainloop *l, int fd, short (*events)(void *), void (*ready)(void *, short),
		 void *opaque)
{
	if (l->n >= MAINLOOP_MAX_WATCHES || fd < 0)
		return -ENOSPC;
	l->w[l->n++] = (struct watch){ fd, events, ready, opaque };
	return 0;
}

void mainloop_remove(struct mainloop *l, int fd)
{
	for (unsigned i = 0; i < l->n;) {
		if (l->w[i].fd == fd) {
			memmove(&l->w[i], &l->w[i + 1], (l->n - i - 1) * sizeof(l->w[0]));
			l->n--;
		} else {
			i++;
		}
	}
}

short watch_pollin(void *opaque)
{
	(void)opaque;
	return POLLIN;
}

int mainloop_run_once(struct mainloop *l, int timeout_ms)
{
	struct pollfd p[MAINLOOP_MAX_WATCHES];
	struct watch copy[MAINLOOP_MAX_WATCHES];
	unsigned n = l->n;
	int r, ready = 0;

	/* A callback may add or remove watches: dispatch from a copy, and
	 * skip watches that are gone by then. */
	memcpy(copy, l->w, n * sizeof(copy[0]));
	for (unsigned i = 0; i < n; i++) {
		short ev = copy[i].events ? copy[i].events(copy[i].opaque) : POLLIN;

		p[i] = (struct pollfd){ .fd = ev ? copy[i].fd : -1, .events = ev };
	}
	r = poll(p, n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned i = 0; i < n; i++) {
		bool still = false;

		if (!p[i].revents)
			continue;
		for (unsigned j = 0; j < l->n; j++)
			still |= l->w[j].fd == copy[i].fd && l->w[j].opaque == copy[i].opaque;
		if (!still)
			continue;
		copy[i].ready(copy[i].opaque, p[i].revents);
		ready++;
	}
	return ready;
}
