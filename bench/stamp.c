/* Prefixes every line of stdin with CLOCK_REALTIME nanoseconds (the same
 * clock as date +%s%N). */
#include <stdio.h>
#include <time.h>

int main(void)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		printf("%lld %s", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, line);
		fflush(stdout);
	}
	return 0;
}
