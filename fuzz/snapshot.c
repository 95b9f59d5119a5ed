/*
 * libFuzzer target: snapshot files (snapshot/restore.c): open, validate
 * and read the configuration of any bytes, as --incoming does before KVM
 * is touched.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct snapshot *s;
	struct vm_config cfg;
	int fd = memfd_create("snapshot", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		s = snapshot_open(path, err, sizeof(err));
		if (s) {
			config_defaults(&cfg);
			snapshot_config(s, &cfg, err, sizeof(err));
			snapshot_close(s);
		}
	}
	close(fd);
	return 0;
}
