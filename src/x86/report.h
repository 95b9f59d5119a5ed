/* The one report printed when KVM gives up on a guest. */
#ifndef SHRIKE_REPORT_H
#define SHRIKE_REPORT_H

#include <stdbool.h>

struct cpu_state;

/* Prints "vCPU n: <what>, RIP ..., CS mode ..., bytes at RIP: ..." on
 * stderr, fetching the registers through the state engine. */
void x86_report_failure(struct cpu_state *st, const char *what);

/* One line (rate-limited) for a triple fault: a reboot loop that says
 * nothing hides the bug that causes it. */
void x86_report_triple_fault(struct cpu_state *st, bool resets);

#endif
