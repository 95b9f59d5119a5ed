/*
 * Character backends for guest serial ports: stdio, a file, a Unix socket,
 * or nothing.
 *
 * Output never blocks a vCPU on the backend.  Devices append to a bounded
 * ring; the main loop drains it through a non-blocking descriptor.  While
 * the ring is full, the writing vCPU waits for space, so a slow reader
 * loses no byte; the wait ends at once when the VM stops or pauses (the
 * owner's interrupted() says so), and the bytes of that one exit then go
 * into a reserve above the ring's size.  Output to a backend that is gone
 * (EPIPE, closed socket) is dropped and counted.
 *
 * Input is read only while the receiving device has room (can_receive), so
 * nothing typed or piped in is lost to a full FIFO.  On a terminal, stdin
 * is switched to raw mode (restored on every exit path, fatal signals
 * included) and Ctrl-A x asks to quit.
 */
#ifndef SHRIKE_CHARDEV_H
#define SHRIKE_CHARDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/mainloop.h"

#define CHARDEV_RING     65536
#define CHARDEV_RESERVE  8192      /* one exit's worth of string I/O, and more */

enum chardev_kind { CHARDEV_NULL, CHARDEV_STDIO, CHARDEV_FILE, CHARDEV_SOCKET };

struct chardev_stats {
	uint64_t out_bytes;        /* delivered to the backend */
	uint64_t dropped_gone;     /* backend gone (EPIPE, closed) */
	uint64_t dropped_full;     /* ring and reserve full while interrupted */
	uint64_t writer_waits;     /* a vCPU waited for the reader */
	uint64_t in_bytes;
};

struct chardev {
	enum chardev_kind kind;
	int out_fd;                /* -1: output discarded */
	int in_fd;                 /* -1: no input */
	bool out_socket;           /* send(MSG_DONTWAIT | MSG_NOSIGNAL) */
	bool gone;                 /* output backend closed */
	bool in_eof;
	bool mux;                  /* stdin on a terminal: Ctrl-A commands */
	bool escape;

	pthread_mutex_t lock;
	pthread_cond_t space;
	uint8_t ring[CHARDEV_RING + CHARDEV_RESERVE];
	size_t head, len;
	struct chardev_stats stats;

	/* Set by the owner (the VM). */
	bool (*interrupted)(void *opaque);  /* stop or pause pending */
	void (*wake)(void *opaque);         /* wakes the main loop */
	void (*quit)(void *opaque);         /* Ctrl-A x */
	void *owner;

	/* Set by the device that receives input. */
	size_t (*can_receive)(void *opaque);
	void (*receive)(void *opaque, const uint8_t *buf, size_t n);
	void *rx_opaque;
};

/* Opens a backend ("stdio", "none", "file:PATH", "unix:PATH" client).
 * Returns 0, or -1 with a one-line message in err. */
int chardev_open(struct chardev *cd, enum chardev_kind kind, const char *path, char *err,
		 size_t errlen);
void chardev_close(struct chardev *cd);

/* Adds the backend's descriptors to the main loop. */
int chardev_attach(struct chardev *cd, struct mainloop *loop);

/* Appends output (any thread); waits while the ring is full unless the
 * owner is stopping or pausing.  Never called with a device lock that the
 * main loop takes. */
void chardev_write(struct chardev *cd, const uint8_t *buf, size_t n);

/* The receiving device has room again: read input. */
void chardev_rx_ready(struct chardev *cd);

/* Ends waits for ring space (the owner is stopping or pausing). */
void chardev_interrupt(struct chardev *cd);

/* Writes what is still buffered.  `wait_ms` bounds the time spent waiting
 * for a slow reader (-1: until done or interrupted by the owner). */
void chardev_flush(struct chardev *cd, int wait_ms);
bool chardev_pending(struct chardev *cd);

/* Terminal handling (stdio on a tty): raw mode on, and restored at exit,
 * from fatal signals and from chardev_close. */
void terminal_restore(void);

#endif
