/*
 * libFuzzer target: the image loaders (multiboot ELF and a.out kludge, PVH
 * ELF, bzImage through either way, flat) on any bytes, into 64 MiB of guest
 * RAM, then the load itself.  The first byte picks the options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "board/board.h"
#include "loader/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem mem;
	struct loader_input in;
	struct boot_plan plan;
	char err[512];

	if (!mem.host && guest_mem_init(&mem, 64u << 20))
		abort();
	if (size < 1)
		return 0;
	memset(&in, 0, sizeof(in));
	in.kernel = (struct blob){ .path = "fuzz", .fd = -1, .user_fd = -1 };
	in.kernel.size = size - 1;
	in.kernel.data = malloc(size);
	if (!in.kernel.data)
		return 0;
	memcpy(in.kernel.data, data + 1, size - 1);
	in.force_flat = data[0] & 1;
	in.linux_boot = (enum kernel_boot)((data[0] >> 1) % 3);
	in.ncpus = 1 + ((data[0] >> 3) & 7);
	in.board = board_pc_acpi();
	in.cmdline = (data[0] & 0x40) ? "console=ttyS0" : NULL;
	in.mem = &mem;
	if (loader_plan(&in, &plan, err, sizeof(err)) == 0)
		boot_plan_commit(&plan, &mem, err, sizeof(err));
	boot_plan_free(&plan);
	blob_free(&in.kernel);
	return 0;
}
