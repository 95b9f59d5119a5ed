/*
 * QEMU's command line: `shrike qemu ARGS...`, or shrike started under the
 * name qemu-system-x86_64 (a symlink), takes the options that scripts and
 * test harnesses give qemu-system-x86_64 for a direct kernel boot, with
 * QEMU's meaning, QEMU 7.2's error messages and QEMU's exit statuses:
 * (v << 1) | 1 for an isa-debug-exit write of v, 0 on power-off (and on a
 * reset with -no-reboot), 0 on SIGTERM, SIGINT or SIGHUP ("terminating on
 * signal"), 1 on any error.
 *
 * Devices shrike lacks are refused as QEMU refuses unknown ones; a harness
 * that adds test-only devices can name them to be ignored instead
 * (-ignore-device NAME, or SHRIKE_IGNORE_DEVICES=NAME,NAME).
 */
#ifndef SHRIKE_QEMU_H
#define SHRIKE_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* argv[0] is the program as invoked; returns the exit status. */
int qemu_main(int argc, char **argv, uint64_t start_ns);

/* Parses QEMU's options (argv[0] is the first option) into cfg.  Returns
 * 0 to run, 1 with the message in err (without the program prefix), or
 * -1 if the command is done (-version, -help): *status says how it ends. */
int qemu_parse(struct vm_config *cfg, int argc, char **argv, char *err, size_t errlen,
	       int *status);

/* The name shrike answers to as QEMU. */
#define QEMU_PROGRAM "qemu-system-x86_64"

#endif
