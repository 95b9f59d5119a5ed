/* Listening sockets for the VMM's servers (the control socket, the
 * debugger): non-blocking, close-on-exec, with messages that name the
 * option they serve. */
#ifndef SHRIKE_SOCKET_H
#define SHRIKE_SOCKET_H

#include <stddef.h>
#include <stdint.h>

/* A Unix socket at path, mode 0600 (the socket controls the VM); a stale
 * socket there is replaced, any other file is refused.  Returns the fd or
 * -1 with a message prefixed by `what` ("--qmp"). */
int unix_listen(const char *path, const char *what, char *err, size_t errlen);

/* A TCP socket on host:port (host: a name or address; "" means
 * 127.0.0.1); port 0 picks a free one, reported in *bound_port. */
int tcp_listen(const char *host, uint16_t port, uint16_t *bound_port, const char *what,
	       char *err, size_t errlen);

#endif
