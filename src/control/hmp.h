/* Human monitor commands, for QMP's human-monitor-command. */
#ifndef SHRIKE_HMP_H
#define SHRIKE_HMP_H

#include "base/strbuf.h"

struct vm;

/* Runs one command line (main thread); appends its output to out. */
void hmp_run(struct vm *vm, const char *line, struct strbuf *out);

#endif
