#include "core/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/log.h"

#define RING_TOTAL (CHARDEV_RING + CHARDEV_RESERVE)
#define CTRL_A 0x01

/* ---- the terminal: one per process, restored from any exit path ---- */

static struct termios term_saved;
static volatile sig_atomic_t term_raw;
static struct sigaction term_old[32];
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };

void terminal_restore(void)
{
	/* tcsetattr is async-signal-safe. */
	if (term_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &term_saved);
		term_raw = 0;
	}
}

static void fatal_handler(int sig)
{
	terminal_restore();
	/* Hand the signal to whoever had it before (a sanitizer's reporter,
	 * or the default action), then let it happen again. */
	sigaction(sig, &term_old[sig], NULL);
	raise(sig);
}

static void terminal_raw(void)
{
	static bool hooks;
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &term_saved) < 0)
		return;
	if (!hooks) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fatal_handler;
		sa.sa_flags = SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
			sigaction(fatal_signals[i], &sa, &term_old[fatal_signals[i]]);
		atexit(terminal_restore);
		hooks = true;
	}
	t = term_saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		term_raw = 1;
}

/* ---- opening ---- */

/*
 * A descriptor for fd's file that never blocks, without changing the flags
 * of fd's own open file description (which the shell and other processes
 * share): pipes, FIFOs and terminals are opened again through /proc.
 */
static int open_nonblocking(int fd, bool *socket_out)
{
	struct stat st;
	char path[64];
	int nfd;

	*socket_out = false;
	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (S_ISSOCK(st.st_mode)) {
		*socket_out = true;
		return fcntl(fd, F_DUPFD_CLOEXEC, 3);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (nfd >= 0)
		return nfd;
	/* No reader on a FIFO (ENXIO), or no /proc: writes would fail or
	 * block; a duplicate that we make non-blocking ourselves. */
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (nfd >= 0)
		fcntl(nfd, F_SETFL, fcntl(nfd, F_GETFL) | O_NONBLOCK);
	return nfd;
}

int chardev_open(struct chardev *cd, enum chardev_kind kind, const char *path, char *err,
		 size_t errlen)
{
	memset(cd, 0, sizeof(*cd));
	cd->kind = kind;
	cd->out_fd = cd->in_fd = -1;
	pthread_mutex_init(&cd->lock, NULL);
	pthread_cond_init(&cd->space, NULL);
	switch (kind) {
	case CHARDEV_NULL:
		return 0;
	case CHARDEV_STDIO:
		cd->out_fd = open_nonblocking(STDOUT_FILENO, &cd->out_socket);
		if (cd->out_fd < 0) {
			err_set(err, errlen, "serial: cannot use stdout: %s", strerror(errno));
			return -1;
		}
		cd->in_fd = STDIN_FILENO;
		if (isatty(STDIN_FILENO)) {
			cd->mux = true;
			terminal_raw();
		}
		return 0;
	case CHARDEV_FILE:
		cd->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
		if (cd->out_fd < 0) {
			err_set(err, errlen, "serial: cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	case CHARDEV_SOCKET: {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd;

		if (strlen(path) >= sizeof(a.sun_path)) {
			err_set(err, errlen, "serial: socket path too long: %s", path);
			return -1;
		}
		memcpy(a.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			err_set(err, errlen, "serial: cannot connect to %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		cd->out_fd = cd->in_fd = fd;
		cd->out_socket = true;
		return 0;
	}
	}
	return -1;
}

void chardev_close(struct chardev *cd)
{
	if (cd->out_fd >= 0)
		close(cd->out_fd);
	if (cd->kind == CHARDEV_STDIO)
		terminal_restore();
	cd->out_fd = cd->in_fd = -1;
	pthread_mutex_destroy(&cd->lock);
	pthread_cond_destroy(&cd->space);
}

/* ---- output ---- */

static bool interrupted(struct chardev *cd)
{
	return cd->interrupted && cd->interrupted(cd->owner);
}

/* Copies up to `room` bytes into the ring; returns how many.  Lock held. */
static size_t ring_put(struct chardev *cd, const uint8_t *buf, size_t n, size_t room)
{
	size_t k = n < room ? n : room;

	for (size_t i = 0; i < k; i++)
		cd->ring[(cd->head + cd->len + i) % RING_TOTAL] = buf[i];
	cd->len += k;
	return k;
}

void chardev_write(struct chardev *cd, const uint8_t *buf, size_t n)
{
	bool wake = false, waited = false;

	if (cd->out_fd < 0 || !n)
		return;
	pthread_mutex_lock(&cd->lock);
	while (n && !cd->gone) {
		size_t room;

		if (cd->len < CHARDEV_RING) {
			room = CHARDEV_RING - cd->len;
		} else if (interrupted(cd)) {
			/* Stopping or pausing: this exit's bytes go into the
			 * reserve; what does not fit is dropped, counted. */
			room = RING_TOTAL - cd->len;
			if (!room) {
				cd->stats.dropped_full += n;
				break;
			}
		} else {
			if (!waited)
				cd->stats.writer_waits++;
			waited = true;
			wake = true;
			pthread_cond_wait(&cd->space, &cd->lock);
			continue;
		}
		wake |= cd->len == 0;
		room = ring_put(cd, buf, n, room);
		buf += room;
		n -= room;
	}
	if (cd->gone)
		cd->stats.dropped_gone += n;
	pthread_mutex_unlock(&cd->lock);
	if (wake && cd->wake)
		cd->wake(cd->owner);
}

void chardev_interrupt(struct chardev *cd)
{
	pthread_mutex_lock(&cd->lock);
	pthread_cond_broadcast(&cd->space);
	pthread_mutex_unlock(&cd->lock);
}

bool chardev_pending(struct chardev *cd)
{
	bool p;

	pthread_mutex_lock(&cd->lock);
	p = cd->len > 0 && !cd->gone;
	pthread_mutex_unlock(&cd->lock);
	return p;
}

/* Writes from the ring without blocking; main thread only (the single
 * consumer, so the bytes copied out stay valid without the lock). */
static void drain(struct chardev *cd)
{
	for (;;) {
		size_t head, chunk;
		ssize_t w;

		pthread_mutex_lock(&cd->lock);
		head = cd->head;
		chunk = cd->len;
		pthread_mutex_unlock(&cd->lock);
		if (!chunk || cd->gone)
			return;
		if (chunk > RING_TOTAL - head)
			chunk = RING_TOTAL - head;
		if (cd->out_socket)
			w = send(cd->out_fd, cd->ring + head, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(cd->out_fd, cd->ring + head, chunk);
		if (w < 0 && (errno == EINTR))
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		pthread_mutex_lock(&cd->lock);
		if (w <= 0) {
			/* EPIPE, a closed socket, a full disk: the backend is
			 * gone; what it would have got is counted as dropped. */
			cd->gone = true;
			cd->stats.dropped_gone += cd->len;
			cd->len = 0;
		} else {
			cd->head = (cd->head + (size_t)w) % RING_TOTAL;
			cd->len -= (size_t)w;
			cd->stats.out_bytes += (uint64_t)w;
		}
		pthread_cond_broadcast(&cd->space);
		pthread_mutex_unlock(&cd->lock);
		if (w <= 0)
			return;
	}
}

static short out_events(void *opaque)
{
	struct chardev *cd = opaque;

	return chardev_pending(cd) ? POLLOUT : 0;
}

static void out_ready(void *opaque, short revents)
{
	struct chardev *cd = opaque;

	if (revents & (POLLERR | POLLHUP | POLLNVAL) && !(revents & POLLOUT)) {
		pthread_mutex_lock(&cd->lock);
		cd->gone = true;
		cd->stats.dropped_gone += cd->len;
		cd->len = 0;
		pthread_cond_broadcast(&cd->space);
		pthread_mutex_unlock(&cd->lock);
		return;
	}
	drain(cd);
}

void chardev_flush(struct chardev *cd, int wait_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)(wait_ms < 0 ? 0 : wait_ms) * 1000000ull;

	while (cd->out_fd >= 0 && chardev_pending(cd)) {
		struct pollfd p = { .fd = cd->out_fd, .events = POLLOUT };
		uint64_t now = now_ns();
		int left = wait_ms < 0 ? -1 : now >= deadline ? 0 : (int)((deadline - now) / 1000000);

		if (poll(&p, 1, left) <= 0)
			return;
		out_ready(cd, p.revents);
		if (interrupted(cd) && wait_ms < 0)
			return;
	}
}

/* ---- input ---- */

static size_t rx_room(struct chardev *cd)
{
	return cd->can_receive ? cd->can_receive(cd->rx_opaque) : 0;
}

static short in_events(void *opaque)
{
	struct chardev *cd = opaque;

	/* A terminal is always read, so that Ctrl-A x works whatever the
	 * guest does; bytes beyond the FIFO are then an overrun, as on a
	 * real UART.  Pipes and files wait for room, so nothing is lost. */
	if (cd->in_eof || !cd->receive)
		return 0;
	return cd->mux || rx_room(cd) ? POLLIN : 0;
}

/* In raw mode: Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A and any
 * other key is swallowed.  Returns how many bytes remain for the guest. */
static size_t escapes(struct chardev *cd, uint8_t *buf, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (cd->escape) {
			cd->escape = false;
			if (buf[i] == 'x') {
				if (cd->quit)
					cd->quit(cd->owner);
				cd->in_eof = true;
				return m;
			}
			if (buf[i] == CTRL_A)
				buf[m++] = CTRL_A;
			continue;
		}
		if (buf[i] == CTRL_A) {
			cd->escape = true;
			continue;
		}
		buf[m++] = buf[i];
	}
	return m;
}

static void in_ready(void *opaque, short revents)
{
	struct chardev *cd = opaque;
	uint8_t buf[256];
	size_t room = rx_room(cd);
	ssize_t n;

	(void)revents;
	if (room > sizeof(buf) || cd->mux)
		room = sizeof(buf);
	if (!room)
		return;
	n = read(cd->in_fd, buf, room);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		cd->in_eof = true;
		return;
	}
	cd->stats.in_bytes += (uint64_t)n;
	n = (ssize_t)(cd->mux ? escapes(cd, buf, (size_t)n) : (size_t)n);
	if (n > 0)
		cd->receive(cd->rx_opaque, buf, (size_t)n);
}

void chardev_rx_ready(struct chardev *cd)
{
	if (cd->wake)
		cd->wake(cd->owner);
}

int chardev_attach(struct chardev *cd, struct mainloop *loop)
{
	int r = 0;

	if (cd->out_fd >= 0 && cd->out_fd != cd->in_fd)
		r = mainloop_add(loop, cd->out_fd, out_events, out_ready, cd);
	if (!r && cd->in_fd >= 0 && cd->out_fd == cd->in_fd) {
		/* A socket: one watch for both directions. */
		r = mainloop_add(loop, cd->out_fd, out_events, out_ready, cd);
		if (!r)
			r = mainloop_add(loop, cd->in_fd, in_events, in_ready, cd);
	} else if (!r && cd->in_fd >= 0) {
		r = mainloop_add(loop, cd->in_fd, in_events, in_ready, cd);
	}
	return r;
}
