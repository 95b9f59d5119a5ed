#include "base/log.h"

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

static const char *program = "shrike";
static bool guest_errors;
static FILE *sink;             /* NULL: stderr */

void log_set_sink(FILE *f)
{
	sink = f;
}

void log_set_program(const char *name)
{
	program = name;
}

const char *log_program(void)
{
	return program;
}

void log_set_guest_errors(bool on)
{
	guest_errors = on;
}

__attribute__((format(printf, 2, 0)))
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(sink ? sink : stderr, "%s: %s%s\n", program, prefix, line);
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

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
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

/* True if a line may go out now; *suppressed: lines held back before it. */
static bool ratelimit_pass(struct ratelimit *rl, unsigned *suppressed)
{
	uint64_t now = now_ns();
	bool print;

	pthread_mutex_lock(&ratelimit_lock);
	if (now - rl->window_start_ns >= 1000000000ull) {
		rl->window_start_ns = now;
		rl->printed = 0;
	}
	print = rl->printed < rl->burst;
	*suppressed = 0;
	if (print) {
		rl->printed++;
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&ratelimit_lock);
	return print;
}

__attribute__((format(printf, 3, 0)))
static void vlog_limited(struct ratelimit *rl, const char *prefix, const char *fmt, va_list ap)
{
	unsigned suppressed;

	if (!ratelimit_pass(rl, &suppressed))
		return;
	vlog(prefix, fmt, ap);
	if (suppressed)
		fprintf(sink ? sink : stderr, "%s: %s(%u similar lines suppressed)\n", program, prefix,
			suppressed);
}

void log_guest(struct ratelimit *rl, const char *fmt, ...)
{
	va_list ap;

	if (!guest_errors)
		return;
	va_start(ap, fmt);
	vlog_limited(rl, "guest: ", fmt, ap);
	va_end(ap);
}

void log_limited(struct ratelimit *rl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_limited(rl, "", fmt, ap);
	va_end(ap);
}
