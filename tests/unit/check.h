/*
 * A tiny test framework shared by the C tests: each test prints one line,
 * "PASS name", "FAIL name: why" or "SKIP name: why", which tests/run.sh
 * counts.
 */
#ifndef SHRIKE_TEST_CHECK_H
#define SHRIKE_TEST_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_skipped;
static const char *check_current;

/* Ends the current test as skipped, with the reason. */
#define CHECK_SKIP(...) \
	do { \
		printf("SKIP %s: ", check_current); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		check_skipped = 1; \
		return; \
	} while (0)

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			printf("FAIL %s: %s (%s:%d)\n", check_current, #cond, __FILE__, __LINE__); \
			check_failures++; \
			return; \
		} \
	} while (0)

#define CHECK_EQ(a, b) \
	do { \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
		if (a_ != b_) { \
			printf("FAIL %s: %s == %s (0x%llx != 0x%llx) (%s:%d)\n", check_current, #a, #b, \
			       a_, b_, __FILE__, __LINE__); \
			check_failures++; \
			return; \
		} \
	} while (0)

#define CHECK_CONTAINS(hay, needle) \
	do { \
		if (!strstr((hay), (needle))) { \
			printf("FAIL %s: \"%s\" does not contain \"%s\" (%s:%d)\n", check_current, (hay), \
			       (needle), __FILE__, __LINE__); \
			check_failures++; \
			return; \
		} \
	} while (0)

static inline void run_test(const char *name, void (*fn)(void))
{
	int before = check_failures;

	check_current = name;
	check_skipped = 0;
	fn();
	if (check_failures == before && !check_skipped)
		printf("PASS %s\n", name);
	fflush(stdout);
}

#define RUN(fn) run_test(#fn, fn)

#endif
