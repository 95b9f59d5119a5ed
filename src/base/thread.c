#include "base/thread.h"

int thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int r = pthread_attr_init(&attr);

	if (r)
		return r;
	r = pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
	if (!r)
		r = pthread_create(thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return r;
}
