#include "base/socket.h"

#include <errno.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"

int unix_listen(const char *path, const char *what, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(a.sun_path)) {
		err_set(err, errlen, "%s: socket path too long: %s", what, path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			err_set(err, errlen, "%s: %s exists and is not a socket", what, path);
			return -1;
		}
		unlink(path);
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err_set(err, errlen, "%s: socket: %s", what, strerror(errno));
		return -1;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || listen(fd, 4) < 0) {
		err_set(err, errlen, "%s: cannot listen on %s: %s", what, path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int bound_port_of(int fd, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET)
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static bool addr_is_loopback(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
	if (a->sa_family == AF_INET6) {
		const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(x) || (IN6_IS_ADDR_V4MAPPED(x) && x->s6_addr[12] == 127);
	}
	return false;
}

int tcp_listen(const char *host, uint16_t port, uint16_t *bound_port, const char *what,
	       bool loopback_only, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char service[8];
	int fd = -1, one = 1, r, saved = 0;

	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(*host ? host : "127.0.0.1", service, &hints, &res);
	if (r) {
		err_set(err, errlen, "%s: cannot resolve '%s': %s", what, host, gai_strerror(r));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (loopback_only && !addr_is_loopback(ai->ai_addr)) {
			saved = -1;
			continue;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && saved == -1) {
		err_set(err, errlen, "%s: %s is not a loopback address: anyone who can reach it "
			"controls the VM; add %s-allow-remote to listen there", what, host, what);
		return -1;
	}
	if (fd < 0) {
		err_set(err, errlen, "%s: cannot listen on %s:%u: %s", what, *host ? host : "127.0.0.1",
			port, strerror(saved));
		return -1;
	}
	if (bound_port && bound_port_of(fd, bound_port)) {
		close(fd);
		err_set(err, errlen, "%s: getsockname: %s", what, strerror(errno));
		return -1;
	}
	return fd;
}

int socket_send_pending(int fd, const void *buf, size_t len, size_t *sent)
{
	while (*sent < len) {
		ssize_t n = send(fd, (const char *)buf + *sent, len - *sent, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		*sent += (size_t)n;
	}
	return 0;
}

long socket_read_available(int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return n > 0 ? (long)n : -1;
}
