#include "base/thread.h"

#include <signal.h>

/* What a started thread keeps unblocked: the signals a fault raises in
 * the thread itself (blocking those turns them into a plain kill, past
 * the sanitizers' and the sandbox's handlers). */
static const int synchronous_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS,
					   SIGABRT };

int thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r = pthread_attr_init(&attr);

	if (r)
		return r;
	/* The new thread inherits this mask: SIGTERM, SIGINT and SIGHUP go
	 * to the main thread's signalfd even when a device's thread starts
	 * before the main thread blocks them (a thread that took SIGTERM
	 * would end shrike at once, without its exit path). */
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(synchronous_signals) / sizeof(synchronous_signals[0]); i++)
		sigdelset(&all, synchronous_signals[i]);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
	if (!r)
		r = pthread_create(thread, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return r;
}
