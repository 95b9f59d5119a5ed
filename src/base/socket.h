/* Listening sockets for the VMM's servers (the control socket, the
 * debugger): non-blocking, close-on-exec, with messages that name the
 * option they serve. */
#ifndef SHRIKE_SOCKET_H
#define SHRIKE_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A Unix socket at path, mode 0600 (the socket controls the VM); a stale
 * socket there is replaced, any other file is refused.  Returns the fd or
 * -1 with a message prefixed by `what` ("--qmp"). */
int unix_listen(const char *path, const char *what, char *err, size_t errlen);

/* A TCP socket on host:port (host: a name or address; "" means
 * 127.0.0.1); port 0 picks a free one, reported in *bound_port.  With
 * loopback_only, addresses outside 127/8 and ::1 are refused before
 * anything is bound, and the message names "WHAT-allow-remote". */
int tcp_listen(const char *host, uint16_t port, uint16_t *bound_port, const char *what,
	       bool loopback_only,
	       char *err, size_t errlen);

/* One client connection's output, without blocking: sends buf from *sent
 * to len, advancing *sent.  Returns 0 when all is sent or the socket is
 * full for now, -1 when the peer is gone (the caller drops it). */
int socket_send_pending(int fd, const void *buf, size_t len, size_t *sent);

/* Reads what is there without blocking: the byte count, 0 when nothing is
 * there now, -1 when the peer is gone (end of file or an error). */
long socket_read_available(int fd, void *buf, size_t len);

#endif
