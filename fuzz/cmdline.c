/*
 * libFuzzer target: both command lines (shrike's options and QEMU's), the
 * CPU-model syntax and the --qmp and --gdb argument forms.  The input is
 * split into arguments at NUL bytes; the first byte picks the parser.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/qemu.h"
#include "control/qmp.h"
#include "base/log.h"
#include "core/config.h"
#include "gdb/gdbstub.h"
#include "x86/cpumodel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Warnings and the help listings (-cpu help, -device help) would fill the
 * log with gigabytes in a long run; sanitizer reports still reach stderr. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	log_set_sink(fopen("/dev/null", "w"));
	if (!freopen("/dev/null", "w", stdout))
		return 0;
	return 0;
}

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS], err[1024];
	struct vm_config cfg;
	struct cpu_model m;
	int argc = 0, status;

	if (size < 1)
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = 0;
	for (char *p = buf; p < buf + size - 1 && argc < MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	config_defaults(&cfg);
	switch (data[0] % 5) {
	case 0:
		config_parse(&cfg, argc, argv, err, sizeof(err));
		break;
	case 1:
		qemu_parse(&cfg, argc, argv, err, sizeof(err), &status);
		break;
	case 2:
		cpu_model_parse(argc ? argv[0] : NULL, &m, data[0] & 8, err, sizeof(err));
		break;
	case 3:
		if (argc)
			qmp_check_spec(argv[0], err, sizeof(err));
		break;
	default:
		if (argc)
			gdb_check_spec(argv[0], err, sizeof(err));
		break;
	}
	free(buf);
	return 0;
}
