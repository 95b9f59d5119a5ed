/* Threads shrike starts (vCPUs, device I/O, the snapshot writer). */
#ifndef SHRIKE_BASE_THREAD_H
#define SHRIKE_BASE_THREAD_H

#include <pthread.h>

/*
 * The stack every such thread gets.  glibc's default is 8 MiB, and with
 * transparent huge pages "always" (Debian's default) the first touch of a
 * stack that spans an aligned 2 MiB range can fault in a whole huge page:
 * 2 MiB of RSS for a few KiB of frames, per thread, at random.  A stack
 * smaller than 2 MiB never holds such a range.  The deepest frame shrike
 * has (the snapshot writer's, ~80 KiB) fits many times over, sanitizers'
 * red zones included.
 */
#define THREAD_STACK_BYTES (1u << 20)

/* pthread_create with that stack and the asynchronous signals blocked (the
 * main thread takes them); returns 0 or an errno value. */
int thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
