/*
 * virtio-vsock (virtio 1.2, 5.10) with its host side in shrike: Firecracker's
 * "hybrid" form, where the host end of every connection is a Unix socket.
 *
 * - A host program reaches a guest listener by connecting to the socket
 *   shrike listens on (--vsock cid=N,uds=PATH) and writing "CONNECT <port>\n";
 *   shrike answers "OK <host port>\n" once the guest accepted, and closes the
 *   socket if it refused (the guest answered RST).
 * - A guest connection to the host (CID 2) port P is a connection to the
 *   Unix socket "PATH_P"; none there is a refusal (RST).
 *
 * The stream is credit-based (5.10.6.3): the guest may send at most our
 * buf_alloc bytes beyond what we have forwarded to the host socket
 * (fwd_cnt), and we read from the host socket only what the guest has room
 * for.  What the host socket does not take at once waits in a buffer of
 * buf_alloc bytes, so a guest that honours the credit never loses data and
 * one that does not gets its connection reset.
 *
 * Everything runs on the device's I/O thread (under the device lock): the
 * transmit queue's notifications, the receive queue's (new buffers), and an
 * epoll set (the poll_fd) holding the listening socket and every
 * connection's socket, edge-triggered, so a connection the guest has no
 * credit or buffers for costs nothing until something changes.
 *
 * A host client gets CONNECT_TIMEOUT_S to send its line and the guest as
 * long again to answer it; then the client's socket closes (and the guest
 * is sent an RST), so neither a silent client nor a guest that never
 * answers holds a connection for good.  One timerfd in the epoll set fires
 * at the earliest such deadline.
 *
 * The guest sees connections reset when shrike is restored from a snapshot
 * (the event queue's TRANSPORT_RESET, as in Firecracker): the host sockets
 * of the saved VM are not in the snapshot.  A reset of the device (the guest
 * rebooting) closes every host socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/socket.h"
#include "base/stream.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "virtio/virtio.h"
#include "virtio/vsock.h"

#define RXQ VSOCK_RXQ
#define TXQ VSOCK_TXQ
#define HDR_LEN       44u
#define MAX_PAYLOAD   (64u << 10)          /* Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */
#define BUF_ALLOC     (256u << 10)         /* what a guest may send ahead, per connection */
#define MAX_CONNS     256                  /* the buffers' bound: 64 MiB for a hostile guest */
#define MAX_ORPHAN_RST 64
#define FIRST_HOST_PORT (1u << 30)         /* ports for connections the host starts */
/* A client's CONNECT line, and the guest's answer to it, each within this.
 * Firecracker allows 2 s; a guest on an emulating or nested KVM under
 * load has been seen to take longer (Linux's own AF_VSOCK default is 2 s,
 * too short there). */
#define CONNECT_TIMEOUT_S 10

enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE,
       OP_CREDIT_REQUEST };
#define TYPE_STREAM   1
#define SHUT_RCV_FLAG 1
#define SHUT_SEND_FLAG 2

struct vsock_hdr {             /* 5.10.6, little endian */
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == HDR_LEN, "the virtio-vsock header is 44 bytes");

/* Packets a connection owes the guest, most urgent first. */
enum {
	OWE_RST = 1, OWE_RESPONSE = 2, OWE_REQUEST = 4, OWE_SHUTDOWN = 8, OWE_CREDIT = 16,
	OWE_CREDIT_REQUEST = 32,
};

enum conn_state {
	AWAIT_LINE,                /* a host client: its "CONNECT <port>\n" has not come */
	REQUESTED,                 /* REQUEST sent to the guest, no answer yet */
	ESTABLISHED,
	CLOSING,                   /* an RST is owed; then the connection is gone */
};

struct conn {
	int fd;                    /* the host end: a Unix socket */
	enum conn_state state;
	uint32_t host_port, guest_port;
	unsigned owed;             /* OWE_* */
	bool readable, writable;   /* as epoll last said, until EAGAIN */
	bool host_eof;             /* the host socket ended: SHUTDOWN(SEND) owed/sent */
	bool guest_done_sending, guest_done_receiving;
	bool host_write_shut;      /* shutdown(SHUT_WR) done */
	/* host -> guest: what the guest has room for */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* guest -> host */
	uint32_t fwd_cnt, fwd_cnt_told;
	uint8_t *buf;              /* guest data the host socket did not take yet */
	size_t buf_off, buf_len;
	uint64_t deadline_ns;      /* AWAIT_LINE, REQUESTED: when the wait ends (now_ns) */
};

struct orphan_rst {
	uint32_t host_port, guest_port;
};

struct vsock {
	struct vsock_base b;       /* first: the model glue's vd */
	int epoll, listener;
	int wake;                  /* eventfd in the epoll set: a reset to finish */
	int timer;                 /* timerfd in the epoll set: the earliest deadline */
	uint64_t armed_ns;         /* what it is set to; 0: disarmed */
	bool close_pending;        /* a reset: the I/O thread closes the host ends */
	struct conn *conns[MAX_CONNS];
	unsigned next_rx;          /* round robin over conns for receive buffers */
	uint32_t next_host_port;
	struct orphan_rst orphans[MAX_ORPHAN_RST];
	unsigned norphans;
	uint64_t opened, refused, resets, timeouts, to_guest, to_host;
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

static bool running(const struct virtio_dev *vd, unsigned q)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       vd->vq[q].enabled && !vd->vq[q].broken;
}

/* ---- connections ---- */

static struct conn *find(struct vsock *v, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = v->conns[i];

		/* A host client still writing its CONNECT line has no ports yet:
		 * no guest packet may reach it. */
		if (c && c->state != AWAIT_LINE && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static bool host_port_used(struct vsock *v, uint32_t port)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (v->conns[i] && v->conns[i]->host_port == port)
			return true;
	return false;
}

/* A new connection on fd (already non-blocking), or NULL when the table is
 * full (the caller closes fd). */
static struct conn *conn_new(struct vsock *v, int fd, enum conn_state state)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
	struct conn *c;
	unsigned i;

	for (i = 0; i < MAX_CONNS && v->conns[i]; i++)
		;
	if (i == MAX_CONNS || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->fd = fd;
	c->state = state;
	c->writable = true;
	ev.data.ptr = c;
	if (epoll_ctl(v->epoll, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	v->conns[i] = c;
	v->opened++;
	return c;
}

static void conn_free(struct vsock *v, struct conn *c)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (v->conns[i] == c)
			v->conns[i] = NULL;
	close(c->fd);              /* leaves the epoll set with it */
	free(c->buf);
	free(c);
}

static void close_all(struct vsock *v)
{
	for (unsigned i = 0; i < MAX_CONNS; i++)
		if (v->conns[i])
			conn_free(v, v->conns[i]);
	v->norphans = 0;
}

/* The connection ends: the guest is told by an RST, the host by the
 * socket's close once the RST is out. */
static void conn_reset(struct vsock *v, struct conn *c)
{
	(void)v;
	c->state = CLOSING;
	c->owed = OWE_RST;
}

/* An RST for a packet that has no connection (a refused REQUEST). */
static void orphan_rst(struct vsock *v, uint32_t host_port, uint32_t guest_port)
{
	if (v->norphans < MAX_ORPHAN_RST)
		v->orphans[v->norphans++] = (struct orphan_rst){ host_port, guest_port };
	else
		log_guest(&v->b.vd->rl, "virtio-vsock: too many refusals at once; one is not sent");
}

static uint32_t guest_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* ---- the host side ---- */

/* Guest data waiting in c->buf into the host socket; 0, or -1 if the host
 * end is gone. */
static int flush_to_host(struct conn *c)
{
	while (c->buf_len && c->writable) {
		ssize_t n = write(c->fd, c->buf + c->buf_off, c->buf_len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			c->writable = errno == EINTR;
			continue;
		}
		if (n <= 0)
			return -1;
		c->buf_off += (size_t)n;
		c->buf_len -= (size_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (!c->buf_len)
		c->buf_off = 0;
	return 0;
}

/* Owes the guest a credit update once it has used a quarter of its room:
 * a sender out of credit waits for one (Linux sends no CREDIT_REQUEST). */
static void maybe_credit(struct conn *c)
{
	if (c->fwd_cnt - c->fwd_cnt_told >= BUF_ALLOC / 4)
		c->owed |= OWE_CREDIT;
}

/* After the guest said it sends no more: the host reads end of file once
 * what came before is written; both directions done ends the connection. */
static void follow_guest_shutdown(struct vsock *v, struct conn *c)
{
	if (c->state != ESTABLISHED || c->buf_len)
		return;
	if (c->guest_done_sending && !c->host_write_shut) {
		shutdown(c->fd, SHUT_WR);
		c->host_write_shut = true;
	}
	if (c->guest_done_sending && c->guest_done_receiving)
		conn_reset(v, c);
}

/* A host client's "CONNECT <port>\n", read without taking any byte after it
 * (they are the stream's). */
static void read_connect_line(struct vsock *v, struct conn *c)
{
	char line[32], taken[32];
	ssize_t n = recv(c->fd, line, sizeof(line) - 1, MSG_PEEK);
	char *nl, *end;
	unsigned long port;
	uint32_t host_port;

	if (n < 0 && errno == EAGAIN) {
		c->readable = false;
		return;
	}
	line[n > 0 ? n : 0] = 0;
	nl = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
	if (!nl) {
		if (n <= 0 || n == (ssize_t)sizeof(line) - 1)
			conn_free(v, c);   /* gone, or a line too long to be one */
		else
			c->readable = false;   /* the rest of the line is on its way */
		return;
	}
	*nl = 0;
	if (recv(c->fd, taken, (size_t)(nl - line + 1), 0) != nl - line + 1 ||
	    strncmp(line, "CONNECT ", 8) || !(port = strtoul(line + 8, &end, 10), *end == 0) ||
	    port > UINT32_MAX) {
		conn_free(v, c);
		return;
	}
	do
		host_port = v->next_host_port++ | FIRST_HOST_PORT;
	while (host_port_used(v, host_port));
	c->host_port = host_port;
	c->guest_port = (uint32_t)port;
	c->state = REQUESTED;
	c->owed = OWE_REQUEST;
	c->deadline_ns = now_ns() + CONNECT_TIMEOUT_S * 1000000000ull;
}

static void accept_clients(struct vsock *v)
{
	for (;;) {
		int fd = accept4(v->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		struct conn *c = conn_new(v, fd, AWAIT_LINE);

		if (!c) {
			log_limited(&v->b.vd->rl, "virtio-vsock: %d connections already; one refused",
				    MAX_CONNS);
			close(fd);
			continue;
		}
		c->deadline_ns = now_ns() + CONNECT_TIMEOUT_S * 1000000000ull;
	}
}

/* A guest's REQUEST to the host's port: connects to PATH_<port>. */
static void connect_for_guest(struct vsock *v, uint32_t host_port, uint32_t guest_port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct conn *c;

	if (fd < 0 || snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", v->b.cfg->uds, host_port) >=
	    (int)sizeof(a.sun_path) || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    !(c = conn_new(v, fd, ESTABLISHED))) {
		if (fd >= 0)
			close(fd);
		v->refused++;
		orphan_rst(v, host_port, guest_port);
		return;
	}
	c->host_port = host_port;
	c->guest_port = guest_port;
	c->owed = OWE_RESPONSE;
}

/* ---- packets to the guest (the receive queue) ---- */

static void fill_hdr(struct vsock *v, struct vsock_hdr *h, uint32_t host_port,
		     uint32_t guest_port, uint16_t op)
{
	*h = (struct vsock_hdr){
		.src_cid = 2, .dst_cid = v->b.config.guest_cid, .src_port = host_port,
		.dst_port = guest_port, .type = TYPE_STREAM, .op = op, .buf_alloc = BUF_ALLOC,
	};
}

/* The chain's writable segments after the header, into v->iov. */
static int payload_iov(struct vsock *v, const struct virtq_chain *ch)
{
	size_t skip = HDR_LEN;
	int n = 0;

	for (unsigned i = ch->nread; i < ch->nread + ch->nwrite; i++) {
		const struct iovec *s = &ch->iov[i];

		if (skip >= s->iov_len) {
			skip -= s->iov_len;
			continue;
		}
		v->iov[n++] = (struct iovec){ (uint8_t *)s->iov_base + skip, s->iov_len - skip };
		skip = 0;
	}
	return n;
}

/* Data from the host socket into the chain: the payload length, 0 when
 * there is nothing now (or the host ended: c->host_eof), -1 if the socket
 * broke. */
static ssize_t read_from_host(struct vsock *v, struct conn *c, const struct virtq_chain *ch)
{
	size_t want = ch->write_len - HDR_LEN, got = 0;
	int niov = payload_iov(v, ch);
	uint32_t credit = guest_credit(c);
	ssize_t n;

	if (want > MAX_PAYLOAD)
		want = MAX_PAYLOAD;
	if (want > credit)
		want = credit;
	for (int i = 0; i < niov; i++) {          /* cut the iovec to want bytes */
		if (got + v->iov[i].iov_len >= want) {
			v->iov[i].iov_len = want - got;
			niov = i + 1;
			break;
		}
		got += v->iov[i].iov_len;
	}
	n = readv(c->fd, v->iov, niov);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = errno == EINTR;
		return 0;
	}
	if (n == 0)
		c->host_eof = true;
	return n;
}

static bool wants_data(const struct conn *c)
{
	return c->state == ESTABLISHED && c->readable && !c->host_eof &&
	       !c->guest_done_receiving && guest_credit(c);
}

/* The next packet of c into the chain (header at 0, payload after):
 * returns the bytes written, 0 if c has nothing to send now. */
static uint32_t next_packet(struct vsock *v, struct conn *c, struct virtq_chain *ch)
{
	struct vsock_hdr h;
	ssize_t n = 0;
	uint16_t op;

	if (c->owed & OWE_RST)
		op = OP_RST;
	else if (c->owed & OWE_RESPONSE)
		op = OP_RESPONSE;
	else if (c->owed & OWE_REQUEST)
		op = OP_REQUEST;
	else if (c->owed & OWE_SHUTDOWN)
		op = OP_SHUTDOWN;
	else if (wants_data(c)) {
		n = read_from_host(v, c, ch);
		if (n < 0) {
			conn_reset(v, c);
			op = OP_RST;
			n = 0;
		} else if (n > 0) {
			op = OP_RW;
		} else if (c->host_eof) {
			op = OP_SHUTDOWN;
		} else {
			return 0;
		}
	} else if (c->owed & OWE_CREDIT)
		op = OP_CREDIT_UPDATE;
	else if (c->owed & OWE_CREDIT_REQUEST)
		op = OP_CREDIT_REQUEST;
	else
		return 0;
	fill_hdr(v, &h, c->host_port, c->guest_port, op);
	h.len = (uint32_t)n;
	h.fwd_cnt = c->fwd_cnt;
	if (op == OP_SHUTDOWN)
		h.flags = SHUT_SEND_FLAG;          /* the host sends no more */
	c->fwd_cnt_told = c->fwd_cnt;
	c->tx_cnt += (uint32_t)n;
	v->to_guest += (uint64_t)n;
	c->owed &= ~(unsigned)(op == OP_RST ? OWE_RST : op == OP_RESPONSE ? OWE_RESPONSE :
			       op == OP_REQUEST ? OWE_REQUEST : op == OP_SHUTDOWN ? OWE_SHUTDOWN :
			       op == OP_CREDIT_REQUEST ? OWE_CREDIT_REQUEST : 0);
	c->owed &= ~(unsigned)OWE_CREDIT;          /* every header carries the credit */
	virtq_write(ch, 0, &h, sizeof(h));
	return HDR_LEN + (uint32_t)n;
}

static bool conn_has_packet(const struct conn *c)
{
	return c->owed || wants_data(c);
}

/* Fills receive buffers while connections have something for the guest,
 * one packet per connection in turn.  True if buffers were used. */
static bool fill_rx(struct vsock *v, struct virtio_dev *vd)
{
	struct virtqueue *q = &vd->vq[RXQ];
	struct virtq_chain *ch = &v->chain;
	bool used = false;
	char err[160];

	if (!running(vd, RXQ))
		return false;
	for (;;) {
		struct conn *c = NULL;
		unsigned i;
		uint32_t len = 0;
		int r;

		if (!v->norphans) {
			for (i = 0; i < MAX_CONNS; i++) {
				c = v->conns[(v->next_rx + i) % MAX_CONNS];
				if (c && conn_has_packet(c))
					break;
			}
			if (i == MAX_CONNS)
				return used;
			v->next_rx = (v->next_rx + i + 1) % MAX_CONNS;
		}
		r = virtq_pop(q, &vd->vm->mem, ch, err, sizeof(err));
		if (r < 0) {
			virtio_needs_reset(vd, err);
			return used;
		}
		if (r == 0) {
			if (virtq_more_after_enabling_notify(q, &vd->vm->mem))
				continue;
			return used;               /* a notification of new buffers resumes */
		}
		if (ch->write_len <= HDR_LEN) {
			/* Data could never go into it (Linux posts 4 KiB). */
			virtio_needs_reset(vd, "a receive buffer with no room past the vsock header");
			return used;
		}
		if (v->norphans) {
			struct orphan_rst *o = &v->orphans[--v->norphans];
			struct vsock_hdr h;

			fill_hdr(v, &h, o->host_port, o->guest_port, OP_RST);
			len = (uint32_t)virtq_write(ch, 0, &h, sizeof(h));
		} else {
			len = next_packet(v, c, ch);
			if (c->state == CLOSING && !c->owed) {
				v->resets++;
				conn_free(v, c);
			}
		}
		if (!len) {
			virtq_unpop(q, 1);
			continue;
		}
		virtq_push(q, &vd->vm->mem, ch->head, len);
		used = true;
	}
}

/* ---- packets from the guest (the transmit queue) ---- */

/* A RW packet's payload to the host: straight from guest memory, the rest
 * into the connection's buffer. */
static void to_host(struct vsock *v, struct conn *c, const struct virtq_chain *ch, uint32_t len)
{
	size_t off = HDR_LEN, left = len;

	v->to_host += len;
	if (c->buf_len + left > BUF_ALLOC) {
		log_guest(&v->b.vd->rl, "virtio-vsock: the guest sent past its credit; connection reset");
		conn_reset(v, c);
		return;
	}
	if (!c->buf_len && c->writable) {
		/* The payload's readable segments after the header. */
		struct iovec iov[VIRTQ_MAX_SEGS];
		size_t skip = off;
		int n = 0;
		ssize_t w;

		for (unsigned i = 0; i < ch->nread && left; i++) {
			const struct iovec *s = &ch->iov[i];
			size_t l;

			if (skip >= s->iov_len) {
				skip -= s->iov_len;
				continue;
			}
			l = s->iov_len - skip < left ? s->iov_len - skip : left;
			iov[n++] = (struct iovec){ (uint8_t *)s->iov_base + skip, l };
			left -= l;
			skip = 0;
		}
		left = len;
		w = writev(c->fd, iov, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			conn_reset(v, c);
			return;
		}
		if (w < (ssize_t)len)
			c->writable = false;
		if (w > 0) {
			off += (size_t)w;
			left -= (size_t)w;
			c->fwd_cnt += (uint32_t)w;
		}
	}
	if (left) {
		if (!c->buf && !(c->buf = malloc(BUF_ALLOC))) {
			conn_reset(v, c);
			return;
		}
		if (c->buf_off + c->buf_len + left > BUF_ALLOC) {
			memmove(c->buf, c->buf + c->buf_off, c->buf_len);
			c->buf_off = 0;
		}
		virtq_read(ch, off, c->buf + c->buf_off + c->buf_len, left);
		c->buf_len += left;
	}
	maybe_credit(c);
}

static void guest_packet(struct vsock *v, const struct vsock_hdr *h, const struct virtq_chain *ch)
{
	struct conn *c = find(v, h->dst_port, h->src_port);

	if (h->type != TYPE_STREAM || h->dst_cid != 2) {
		if (h->op != OP_RST)
			orphan_rst(v, h->dst_port, h->src_port);
		return;
	}
	if (!c) {
		if (h->op == OP_REQUEST)
			connect_for_guest(v, h->dst_port, h->src_port);
		else if (h->op != OP_RST)
			orphan_rst(v, h->dst_port, h->src_port);
		if ((c = find(v, h->dst_port, h->src_port))) {
			c->peer_buf_alloc = h->buf_alloc;
			c->peer_fwd_cnt = h->fwd_cnt;
		}
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case OP_RESPONSE:
		if (c->state == REQUESTED) {
			char ok[32];
			int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);

			c->state = write(c->fd, ok, (size_t)n) == n ? ESTABLISHED : CLOSING;
			c->readable = true;   /* bytes may have followed the CONNECT line */
			if (c->state == CLOSING)
				c->owed = OWE_RST;
		} else {
			conn_reset(v, c);
		}
		break;
	case OP_RST:
		if (c->state == REQUESTED)
			v->refused++;
		conn_free(v, c);
		break;
	case OP_SHUTDOWN:
		c->guest_done_sending |= !!(h->flags & SHUT_SEND_FLAG);
		c->guest_done_receiving |= !!(h->flags & SHUT_RCV_FLAG);
		follow_guest_shutdown(v, c);
		break;
	case OP_RW:
		if (c->state == ESTABLISHED && !c->guest_done_sending)
			to_host(v, c, ch, h->len);
		else
			conn_reset(v, c);
		break;
	case OP_CREDIT_REQUEST:
		c->owed |= OWE_CREDIT;
		break;
	case OP_CREDIT_UPDATE:
		break;                     /* the header's credit was taken above */
	default:                           /* a second REQUEST, an unknown op */
		conn_reset(v, c);
	}
}

static void transmit(struct vsock *v, struct virtio_dev *vd)
{
	struct virtqueue *q = &vd->vq[TXQ];
	struct virtq_chain *ch = &v->chain;
	char err[160];
	int r;

	if (!running(vd, TXQ))
		return;
	do {
		while ((r = virtq_pop(q, &vd->vm->mem, ch, err, sizeof(err))) > 0) {
			struct vsock_hdr h;

			if (virtq_read(ch, 0, &h, sizeof(h)) < sizeof(h) || h.len > MAX_PAYLOAD ||
			    h.len > ch->read_len - HDR_LEN)
				log_guest(&vd->rl, "virtio-vsock: a malformed packet, dropped");
			else if (h.src_cid != v->b.config.guest_cid)
				log_guest(&vd->rl, "virtio-vsock: a packet from CID %llu, not the "
					  "guest's; dropped", (unsigned long long)h.src_cid);
			else
				guest_packet(v, &h, ch);
			virtq_push(q, &vd->vm->mem, ch->head, 0);
		}
		if (r < 0) {
			virtio_needs_reset(vd, err);
			return;
		}
		virtio_queue_done(vd, q);
	} while (virtq_more_after_enabling_notify(q, &vd->vm->mem));
}

/* ---- the CONNECT time limit ---- */

static bool waits(const struct conn *c)
{
	return c->state == AWAIT_LINE || c->state == REQUESTED;
}

/* The timer at the earliest deadline of a waiting connection, or off. */
static void arm_timer(struct vsock *v)
{
	uint64_t first = 0;
	struct itimerspec its = { 0 };

	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *c = v->conns[i];

		if (c && waits(c) && (!first || c->deadline_ns < first))
			first = c->deadline_ns;
	}
	if (first == v->armed_ns)
		return;
	its.it_value = (struct timespec){ .tv_sec = (time_t)(first / 1000000000u),
					  .tv_nsec = (long)(first % 1000000000u) };
	if (timerfd_settime(v->timer, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		v->armed_ns = first;
}

/* Waits past their deadline end: the client's socket closes (it reads
 * that as a refusal) and a guest that was asked gets an RST. */
static void expire_waits(struct vsock *v)
{
	uint64_t now = now_ns(), n;

	if (read(v->timer, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	v->armed_ns = 0;                   /* it fired (or was re-armed past now) */
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = v->conns[i];

		if (!c || !waits(c) || c->deadline_ns > now)
			continue;
		log_limited(&v->b.vd->rl, "virtio-vsock: %s in %d s; the client's socket closes",
			    c->state == AWAIT_LINE ? "no CONNECT line" : "the guest did not answer",
			    CONNECT_TIMEOUT_S);
		if (c->state == REQUESTED && !(c->owed & OWE_REQUEST))
			orphan_rst(v, c->host_port, c->guest_port);   /* it was asked */
		v->timeouts++;
		conn_free(v, c);
	}
}

/* ---- the I/O thread's hooks ---- */

/* Whatever changed, the host sockets get what is owed to them and the
 * guest what there is for it. */
static void pump(struct vsock *v, struct virtio_dev *vd)
{
	for (unsigned i = 0; i < MAX_CONNS; i++) {
		struct conn *c = v->conns[i];

		if (!c)
			continue;
		if (c->state == AWAIT_LINE && c->readable) {
			read_connect_line(v, c);
			continue;
		}
		if (c->state == ESTABLISHED && c->buf_len && flush_to_host(c) < 0) {
			conn_reset(v, c);
			continue;
		}
		maybe_credit(c);
		follow_guest_shutdown(v, c);
		if (c->state == REQUESTED && c->readable) {
			/* A client that hangs up before the guest answers. */
			char b;

			if (recv(c->fd, &b, 1, MSG_PEEK) == 0)
				conn_reset(v, c);
			else
				c->readable = false;
		}
	}
	if (fill_rx(v, vd))
		virtio_queue_done(vd, &vd->vq[RXQ]);
}

/* A reset's closing of the host sockets, done here: the reset runs on a
 * vCPU thread (the driver writes status 0), whose filter has no close. */
static void finish_reset(struct vsock *v)
{
	eventfd_t n;

	if (!v->close_pending)
		return;
	eventfd_read(v->wake, &n);
	close_all(v);
	v->close_pending = false;
}

static void handle_queue(void *dev, struct virtio_dev *vd, unsigned q)
{
	struct vsock *v = dev;

	finish_reset(v);
	if (q == TXQ)
		transmit(v, vd);
	vsock_send_owed_event(&v->b, &v->chain);
	pump(v, vd);
	arm_timer(v);
}

static int epoll_fd(void *dev)
{
	return ((struct vsock *)dev)->epoll;
}

static void sockets_ready(void *dev, struct virtio_dev *vd)
{
	struct vsock *v = dev;
	struct epoll_event ev[64];
	int n = epoll_wait(v->epoll, ev, 64, 0);

	finish_reset(v);
	for (int i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;

		if (!c) {
			accept_clients(v);
			continue;
		}
		if (ev[i].data.ptr == &v->wake)
			continue;              /* finish_reset did it */
		if (ev[i].data.ptr == &v->timer) {
			expire_waits(v);
			continue;
		}
		if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			c->readable = true;
		if (ev[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			c->writable = true;
	}
	/* Not while a save or a restore holds the device (vd->paused). */
	if (running(vd, RXQ) && running(vd, TXQ) && !vd->paused)
		pump(v, vd);
	arm_timer(v);
}

static void vsock_dev_reset(void *dev)
{
	struct vsock *v = dev;

	/* Their host ends close on the I/O thread; until then nothing moves
	 * (the queues are reset). */
	v->close_pending = true;
	eventfd_write(v->wake, 1);
	v->b.reset_event_owed = false;
}

static const struct virtio_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VSOCK_DEVICE_ID,
	.pci_class = VSOCK_PCI_CLASS,
	.queue_max = VSOCK_QUEUE_MAX,
	.config_read = vsock_config_read,
	.config_size = sizeof(uint64_t),
	.handle_queue = handle_queue,
	.reset = vsock_dev_reset,
	.poll_fd = epoll_fd,
	.poll_ready = sockets_ready,
};

/* ---- the device model ---- */

/* The listener (and its path), the epoll set, the eventfd, the timer. */
static void close_own_fds(struct vsock *v)
{
	if (v->listener >= 0) {
		close(v->listener);
		unlink(v->b.cfg->uds);
	}
	if (v->epoll >= 0)
		close(v->epoll);
	if (v->wake >= 0)
		close(v->wake);
	if (v->timer >= 0)
		close(v->timer);
}

static void vsock_destroy(void *opaque)
{
	struct vsock *v = opaque;

	virtio_pci_destroy(v->b.vd);
	close_all(v);
	close_own_fds(v);
	free(v);
}

static int vsock_create(struct vm *vm, const struct device_params *p)
{
	struct vsock *v = calloc(1, sizeof(*v));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	char err[300];

	if (!v)
		return -1;
	vsock_base_init(&v->b, p->config);
	v->listener = -1;
	v->epoll = epoll_create1(EPOLL_CLOEXEC);
	v->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	v->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (vm_add_device(vm, &virtio_vsock_model, v)) {
		close_own_fds(v);
		free(v);
		return -1;
	}
	if (v->epoll < 0 || v->wake < 0 || v->timer < 0) {
		log_error("--vsock: epoll_create1/eventfd/timerfd_create: %s", strerror(errno));
		return -1;
	}
	v->listener = unix_listen(v->b.cfg->uds, "--vsock", err, sizeof(err));
	if (v->listener < 0) {
		log_error("%s", err);
		return -1;
	}
	if (epoll_ctl(v->epoll, EPOLL_CTL_ADD, v->listener, &ev) < 0 ||
	    epoll_ctl(v->epoll, EPOLL_CTL_ADD, v->wake,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &v->wake }) < 0 ||
	    epoll_ctl(v->epoll, EPOLL_CTL_ADD, v->timer,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &v->timer }) < 0) {
		log_error("--vsock: epoll_ctl: %s", strerror(errno));
		return -1;
	}
	v->b.vd = virtio_pci_create(vm, &vsock_ops, v, 3);
	return v->b.vd ? 0 : -1;
}

static int hybrid_save(void *opaque, struct snap_writer *w)
{
	struct vsock *v = opaque;

	return vsock_save(&v->b, w);
}

static int hybrid_load(void *opaque, struct snap_reader *r)
{
	struct vsock *v = opaque;

	if (vsock_load(&v->b, r))
		return -1;
	pthread_mutex_lock(&v->b.vd->lock);
	close_all(v);                  /* host clients that came before the load */
	pthread_mutex_unlock(&v->b.vd->lock);
	return 0;
}

/* The connections still open, a few: where a transfer that stalled stands. */
static void stats_open_conns(const struct vsock *v, FILE *f)
{
	static const char *const state[] = { "awaiting CONNECT", "requested", "established",
					     "closing" };
	unsigned shown = 0, open = 0;

	for (unsigned i = 0; i < MAX_CONNS; i++) {
		const struct conn *c = v->conns[i];

		if (!c)
			continue;
		if (open++ >= 4)
			continue;
		shown++;
		fprintf(f, "      host port %u <-> guest port %u: %s, owed 0x%x, %s%s%s%s"
			"guest credit %u, %zu bytes for the host waiting\n",
			c->host_port, c->guest_port, state[c->state], c->owed,
			c->readable ? "readable, " : "", c->writable ? "writable, " : "",
			c->host_eof ? "host ended, " : "",
			c->guest_done_sending ? "guest ended, " : "", guest_credit(c), c->buf_len);
	}
	if (open > shown)
		fprintf(f, "      and %u more connections\n", open - shown);
}

static void vsock_stats(void *opaque, FILE *f)
{
	struct vsock *v = opaque;

	if (!v->b.vd)
		return;
	virtio_pci_stats(v->b.vd, f);
	pthread_mutex_lock(&v->b.vd->lock);
	fprintf(f, "    vsock cid %llu (%s): %llu connections (%llu refused, %llu reset, %llu timed "
		"out), %llu bytes to the guest, %llu to the host\n",
		(unsigned long long)v->b.config.guest_cid, v->b.cfg->uds, (unsigned long long)v->opened,
		(unsigned long long)v->refused, (unsigned long long)v->resets,
		(unsigned long long)v->timeouts,
		(unsigned long long)v->to_guest, (unsigned long long)v->to_host);
	stats_open_conns(v, f);
	pthread_mutex_unlock(&v->b.vd->lock);
}

const struct device_model virtio_vsock_model = {
	.name = "virtio-vsock",
	.create = vsock_create,
	.reset = virtio_model_reset,
	.quiesce = virtio_model_quiesce,
	.resume = virtio_model_resume,
	.save = hybrid_save,
	.load = hybrid_load,
	.stats = vsock_stats,
	.destroy = vsock_destroy,
};
