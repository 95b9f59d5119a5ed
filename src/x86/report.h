/* The one report printed when KVM gives up on a guest. */
#ifndef SHRIKE_REPORT_H
#define SHRIKE_REPORT_H

struct vcpu;

/* Prints "vCPU n: <what>, RIP ..., CS mode ..., bytes at RIP: ..." on
 * stderr, fetching the registers through the state engine. */
void x86_report_failure(struct vcpu *vcpu, const char *what);

#endif
