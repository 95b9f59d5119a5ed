/* --stats: per-vCPU counters printed at exit. */
#ifndef SHRIKE_STATS_H
#define SHRIKE_STATS_H

#include <stdio.h>

struct vm;

void stats_print(const struct vm *vm, FILE *f);

#endif
