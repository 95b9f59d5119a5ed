/* Diagnostics: one-line errors on stderr and rate-limited guest-error logs. */
#ifndef SHRIKE_LOG_H
#define SHRIKE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prints "shrike: <message>" on stderr. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes a formatted message into an error buffer (used by loaders and the
 * command line so that unit tests can check messages without stderr). */
void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Guest-triggered log lines go through a rate limiter: a hostile guest can
 * hit the same path millions of times per second and must not be able to
 * flood the host's logs.  At most `burst` lines per second; the number of
 * suppressed lines is reported with the next line that gets through.
 */
struct ratelimit {
	uint64_t window_start_ns;
	unsigned printed;
	unsigned suppressed;
	unsigned burst;
};

#define RATELIMIT_INIT { 0, 0, 0, 10 }

void log_guest(struct ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

uint64_t now_ns(void);

#endif
