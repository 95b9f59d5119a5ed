/*
 * vsockt: nc for AF_VSOCK, for the Linux guest's tests (busybox has none).
 * Built statically into the test initramfs (scripts/make-linux-image.sh).
 *
 *   vsockt connect CID PORT       stdin to the peer, the peer to stdout;
 *                                 stdin's end is a half-close; ends at the
 *                                 peer's end (status 0), or 1 with the error
 *   vsockt listen PORT PROG ARG...  for each connection, PROG with it as
 *                                 stdin and stdout (a process each)
 *   vsockt tcp ADDR PORT          as connect, over TCP/IPv4 (bench/net.sh:
 *                                 busybox's nc moved 0.6 MB/s there)
 *   vsockt seqecho PORT           a SOCK_SEQPACKET listener: each message
 *                                 sent back whole as one message (a
 *                                 truncated one as the 5 bytes "TRUNC")
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>

static int fail(const char *what)
{
	fprintf(stderr, "vsockt: %s: %s\n", what, strerror(errno));
	return 1;
}

static long write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return (long)done;
}

static int copy_both_ways(int s)
{
	static char buf[1 << 16];
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = s, .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return fail("poll");
		}
		if (p[0].revents) {
			ssize_t n = read(0, buf, sizeof(buf));

			if (n < 0)
				return fail("read stdin");
			if (n == 0) {
				shutdown(s, SHUT_WR);
				p[0].fd = -1;
			} else if (write_all(s, buf, (size_t)n) < 0) {
				return fail("write");
			}
		}
		if (p[1].revents) {
			ssize_t n = read(s, buf, sizeof(buf));

			if (n < 0)
				return fail("read");
			if (n == 0)
				return 0;
			if (write_all(1, buf, (size_t)n) < 0)
				return fail("write stdout");
		}
	}
}

static int do_connect(unsigned cid, unsigned port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	/* vsock gives up on a connect after 2 s of its own; a loaded host
	 * (nested, TCG) can answer later. */
	struct timeval patience = { .tv_sec = 60 };

	if (s < 0)
		return fail("socket");
	if (setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &patience, sizeof(patience)) < 0)
		return fail("SO_VM_SOCKETS_CONNECT_TIMEOUT");
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail("connect");
	return copy_both_ways(s);
}

static int do_tcp(const char *addr, unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return fail("socket");
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "vsockt: %s: not an IPv4 address\n", addr);
		return 1;
	}
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail("connect");
	return copy_both_ways(s);
}

/* One connection, in a child of its own: PROG with it as stdin and stdout. */
static int run_program(int c, char **argv)
{
	dup2(c, 0);
	dup2(c, 1);
	close(c);
	execvp(argv[0], argv);
	return fail("exec");
}

/* One seqpacket connection: messages back as they came, boundaries kept. */
static int seqpacket_echo(int c, char **argv)
{
	static char buf[1 << 18];

	(void)argv;
	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(c, &m, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? fail("recvmsg") : 0;
		if (m.msg_flags & MSG_TRUNC)
			n = send(c, "TRUNC", 5, 0);
		else
			n = send(c, buf, (size_t)n, 0);
		if (n < 0)
			return fail("send");
	}
}

/* A listener of this type on port: each connection served by serve(c,
 * argv) in a child process of its own. */
static int listen_and_fork(unsigned port, int type, int (*serve)(int, char **), char **argv)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int s = socket(AF_VSOCK, type, 0);

	signal(SIGCHLD, SIG_IGN);          /* children reaped by the kernel */
	if (s < 0)
		return fail("socket");
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 128) < 0)
		return fail("bind/listen");
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			return fail("accept");
		}
		if (fork() == 0) {
			close(s);
			_exit(serve(c, argv));
		}
		close(c);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "connect"))
		return do_connect((unsigned)strtoul(argv[2], NULL, 0),
				  (unsigned)strtoul(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "tcp"))
		return do_tcp(argv[2], (unsigned)strtoul(argv[3], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "seqecho"))
		return listen_and_fork((unsigned)strtoul(argv[2], NULL, 0), SOCK_SEQPACKET,
				       seqpacket_echo, NULL);
	if (argc >= 4 && !strcmp(argv[1], "listen"))
		return listen_and_fork((unsigned)strtoul(argv[2], NULL, 0), SOCK_STREAM,
				       run_program, argv + 3);
	fprintf(stderr, "usage: vsockt connect CID PORT | vsockt listen PORT PROG [ARG...] | "
		"vsockt tcp ADDR PORT | vsockt seqecho PORT\n");
	return 2;
}
