/*
 * From a configuration to a running VM and back: read and validate the
 * inputs (or open the snapshot to restore), create the VM, attach the
 * control socket and the debugger, start, wait, tear down.  Both command
 * lines (shrike's own and QEMU's) end here.
 */
#ifndef SHRIKE_LAUNCH_H
#define SHRIKE_LAUNCH_H

#include "core/config.h"

#define EXIT_USAGE 2
#define EXIT_VMM   1

/* Runs the VM; returns the exit status of the architecture contract. */
int launch(const struct vm_config *cfg);

#endif
