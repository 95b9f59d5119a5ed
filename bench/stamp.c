/* Prefixes every line of stdin with CLOCK_MONOTONIC nanoseconds. */
#include <stdio.h>
#include <time.h>

int main(void)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%lld %s", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, line);
		fflush(stdout);
	}
	return 0;
}
