/*
 * Diagnostics on stderr, one line each, prefixed with the program's name
 * ("shrike", or "qemu-system-x86_64" when shrike runs under QEMU's name).
 *
 * What the guest does wrong (unassigned ports, refused registrations, ...)
 * is counted by the device concerned (--stats) and printed only with
 * --log guest-errors (QEMU's -d guest_errors): quiet by default.
 *
 * The settings are the process's (stderr is); everything else about a VM
 * lives in struct vm.
 */
#ifndef SHRIKE_LOG_H
#define SHRIKE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

void log_set_program(const char *name);
const char *log_program(void);
void log_set_guest_errors(bool on);
/* Where log lines go (NULL: stderr); fuzz targets silence them. */
void log_set_sink(FILE *f);

/* "<program>: <message>" */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "<program>: warning: <message>" */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes a formatted message into an error buffer (used by loaders and the
 * command line so that unit tests can check messages without stderr). */
void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Lines a guest can cause go through a rate limiter: a hostile guest can
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

/* A guest error: printed (rate-limited) only with --log guest-errors. */
void log_guest(struct ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A problem worth seeing that a guest can repeat (a KVM call failing on
 * its behalf, a triple fault): always printed, rate-limited. */
void log_limited(struct ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

uint64_t now_ns(void);

#endif
