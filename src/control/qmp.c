#include "control/qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control/hmp.h"
#include "control/json.h"
#include "control/migration.h"
#include "control/qmp_commands.h"
#include "base/log.h"
#include "base/socket.h"
#include "core/vm.h"

#define MSG_LIMIT (4u << 20)       /* one JSON value from a client */
#define OUT_LIMIT (16u << 20)      /* replies and events a client has not read */

static int parse_spec(const char *spec, char *path, size_t pathlen, bool *server, bool *wait,
		      char *err, size_t errlen)
{
	char buf[512], *opt, *save = NULL;
	int n;

	*server = false;
	*wait = true;
	if (strncmp(spec, "unix:", 5)) {
		err_set(err, errlen, "--qmp: expected unix:PATH[,server=on][,wait=off], got '%s'", spec);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%s", spec + 5);
	if (n <= 0 || (size_t)n >= sizeof(buf)) {
		err_set(err, errlen, "--qmp: argument too long");
		return -1;
	}
	opt = strtok_r(buf, ",", &save);
	if (!opt || strlen(opt) >= pathlen || strlen(opt) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		err_set(err, errlen, "--qmp: missing or too long socket path in '%s'", spec);
		return -1;
	}
	snprintf(path, pathlen, "%s", opt);
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strcmp(opt, "server") || !strcmp(opt, "server=on"))
			*server = true;
		else if (!strcmp(opt, "server=off"))
			*server = false;
		else if (!strcmp(opt, "wait=off") || !strcmp(opt, "nowait"))
			*wait = false;
		else if (!strcmp(opt, "wait=on"))
			*wait = true;
		else {
			err_set(err, errlen, "--qmp: unknown option '%s'", opt);
			return -1;
		}
	}
	return 0;
}

int qmp_check_spec(const char *spec, char *err, size_t errlen)
{
	char path[108];
	bool server, wait;

	return parse_spec(spec, path, sizeof(path), &server, &wait, err, errlen);
}

static int connect_to(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(a.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err_set(err, errlen, "--qmp: cannot connect to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

struct qmp *qmp_create(struct vm *vm, const char *spec, char *err, size_t errlen)
{
	struct qmp *q = calloc(1, sizeof(*q));

	if (!q) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	q->vm = vm;
	q->listen_fd = q->client_fd = -1;
	if (parse_spec(spec, q->path, sizeof(q->path), &q->server, &q->wait, err, errlen)) {
		free(q);
		return NULL;
	}
	if (q->server)
		q->listen_fd = unix_listen(q->path, "--qmp", err, errlen);
	else
		q->client_fd = connect_to(q->path, err, errlen);
	if (q->listen_fd < 0 && q->client_fd < 0) {
		free(q);
		return NULL;
	}
	json_splitter_init(&q->in, MSG_LIMIT);
	if (q->client_fd >= 0)
		qmp_greet(q);
	return q;
}

/* ---- output ---- */

static void drop_client(struct qmp *q)
{
	if (q->client_fd < 0)
		return;
	mainloop_remove(&q->vm->loop, q->client_fd);
	close(q->client_fd);
	q->client_fd = -1;
	q->negotiated = false;
	sb_free(&q->out);
	q->out_sent = 0;
	json_splitter_free(&q->in);
	json_splitter_init(&q->in, MSG_LIMIT);
	/* A client that connected to us (not server=on) is gone for good. */
}

/* Sends what it can without blocking; a vanished client is dropped. */
static void flush_out(struct qmp *q)
{
	if (q->client_fd >= 0 &&
	    socket_send_pending(q->client_fd, q->out.buf, q->out.len, &q->out_sent)) {
		drop_client(q);
		return;
	}
	if (q->out_sent == q->out.len) {
		q->out.len = 0;
		q->out_sent = 0;
	}
}

void qmp_send(struct qmp *q, struct strbuf *msg)
{
	if (q->client_fd < 0 || msg->failed)
		return;
	if (q->out.len - q->out_sent + msg->len > OUT_LIMIT) {
		/* A client that reads nothing does not get to grow us. */
		drop_client(q);
		return;
	}
	sb_add(&q->out, msg->buf, msg->len);
	sb_add(&q->out, "\r\n", 2);
	flush_out(q);
}

void qmp_greet(struct qmp *q)
{
	struct strbuf m = { 0 };

	sb_add(&m, "{\"QMP\": {\"version\": ", 20);
	qmp_version(&m);
	sb_add(&m, ", \"capabilities\": []}}", 22);
	qmp_send(q, &m);
	sb_free(&m);
}

void qmp_event(struct qmp *q, const char *name, const char *data_json)
{
	struct strbuf m = { 0 };
	struct timespec ts;

	if (q->client_fd < 0 || !q->negotiated)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	sb_printf(&m, "{\"timestamp\": {\"seconds\": %lld, \"microseconds\": %ld}, \"event\": ",
		 (long long)ts.tv_sec, ts.tv_nsec / 1000);
	jout_str(&m, name);
	if (data_json) {
		sb_add(&m, ", \"data\": ", 10);
		sb_add(&m, data_json, strlen(data_json));
	}
	sb_add(&m, "}", 1);
	qmp_send(q, &m);
	sb_free(&m);
}

/* Blocks up to `ms` until the client has everything (before an exit). */
static void flush_blocking(struct qmp *q, int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;

	while (q->client_fd >= 0 && q->out_sent < q->out.len && now_ns() < end) {
		struct pollfd p = { .fd = q->client_fd, .events = POLLOUT };

		if (poll(&p, 1, (int)((end - now_ns()) / 1000000) + 1) <= 0)
			return;
		flush_out(q);
	}
}

/* ---- input ---- */

static void process(struct qmp *q)
{
	const char *v;
	size_t len;

	while (q->client_fd >= 0 && json_splitter_next(&q->in, &v, &len))
		qmp_dispatch(q, v, len);
}

static short client_events(void *opaque)
{
	struct qmp *q = opaque;

	return (short)(POLLIN | (q->out_sent < q->out.len ? POLLOUT : 0));
}

static void client_ready(void *opaque, short revents)
{
	struct qmp *q = opaque;
	char buf[65536];
	long n;

	if (revents & POLLOUT)
		flush_out(q);
	if (q->client_fd < 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = socket_read_available(q->client_fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0)
			drop_client(q);
		return;
	}
	if (json_splitter_feed(&q->in, buf, (size_t)n) < 0)
		qmp_error_reply(q, NULL, "GenericError", "JSON input too large (limit 4 MiB)");
	process(q);
}

static void take_client(struct qmp *q, int fd)
{
	q->client_fd = fd;
	q->negotiated = false;
	mainloop_add(&q->vm->loop, fd, client_events, client_ready, q);
	qmp_greet(q);
}

static short listen_events(void *opaque)
{
	struct qmp *q = opaque;

	/* One client at a time: the next waits in the backlog. */
	return q->client_fd < 0 ? POLLIN : 0;
}

static void listen_ready(void *opaque, short revents)
{
	struct qmp *q = opaque;
	int fd;

	(void)revents;
	fd = accept4(q->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		take_client(q, fd);
}

int qmp_wait_client(struct qmp *q)
{
	struct pollfd p = { .fd = q->listen_fd, .events = POLLIN };
	int fd;

	if (q->listen_fd < 0 || !q->wait || q->client_fd >= 0)
		return 0;
	log_info("QEMU waiting for connection on: disconnected:unix:%s,server=on", q->path);
	for (;;) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -1;
		fd = accept4(q->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			break;
	}
	q->client_fd = fd;
	q->pending_greeting = true;
	return 0;
}

/* ---- the VM's events ---- */

static void on_vm_event(void *opaque, const struct vm_event *ev)
{
	struct qmp *q = opaque;
	char data[160];

	switch (ev->type) {
	case VM_EV_RUN_STATE:
		if (run_state_is_running(ev->old) && !run_state_is_running(ev->now))
			qmp_event(q, "STOP", NULL);
		else if (!run_state_is_running(ev->old) && run_state_is_running(ev->now))
			qmp_event(q, "RESUME", NULL);
		break;
	case VM_EV_RESET:
		snprintf(data, sizeof(data), "{\"guest\": %s, \"reason\": \"%s\"}",
			 ev->guest ? "true" : "false",
			 ev->guest ? "guest-reset" :
			 !strcmp(ev->source, "host:qmp") ? "host-qmp-system-reset" : "host-signal");
		qmp_event(q, "RESET", data);
		break;
	case VM_EV_SHUTDOWN:
		snprintf(data, sizeof(data), "{\"guest\": %s, \"reason\": \"%s\"}",
			 ev->guest ? "true" : "false", ev->reason);
		qmp_event(q, "SHUTDOWN", data);
		if (vm_stopping(q->vm))
			flush_blocking(q, 1000);
		break;
	}
}

int qmp_attach(struct qmp *q)
{
	if (q->listen_fd >= 0 &&
	    mainloop_add(&q->vm->loop, q->listen_fd, listen_events, listen_ready, q))
		return -1;
	if (q->client_fd >= 0) {
		mainloop_add(&q->vm->loop, q->client_fd, client_events, client_ready, q);
		if (q->pending_greeting)
			qmp_greet(q);
		q->pending_greeting = false;
	}
	return vm_add_listener(q->vm, on_vm_event, q);
}

void qmp_destroy(struct qmp *q)
{
	if (!q)
		return;
	migration_free(q);
	flush_blocking(q, 1000);
	vm_remove_listener(q->vm, q);
	if (q->client_fd >= 0)
		close(q->client_fd);
	if (q->listen_fd >= 0) {
		close(q->listen_fd);
		unlink(q->path);
	}
	json_splitter_free(&q->in);
	sb_free(&q->out);
	free(q);
}
