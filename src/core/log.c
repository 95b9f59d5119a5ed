#include "core/log.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "shrike: %s%s\n", prefix, line);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void log_guest(struct ratelimit *rl, const char *fmt, ...)
{
	uint64_t now = now_ns();
	unsigned suppressed = 0;
	bool print;
	va_list ap;

	pthread_mutex_lock(&ratelimit_lock);
	if (now - rl->window_start_ns >= 1000000000ull) {
		rl->window_start_ns = now;
		rl->printed = 0;
	}
	print = rl->printed < rl->burst;
	if (print) {
		rl->printed++;
		suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&ratelimit_lock);
	if (!print)
		return;
	va_start(ap, fmt);
	vlog("guest: ", fmt, ap);
	va_end(ap);
	if (suppressed)
		fprintf(stderr, "shrike: guest: (%u similar lines suppressed)\n", suppressed);
}
