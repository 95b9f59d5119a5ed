/*
 * Flat binaries: loaded at 0x1000:0000 (linear 0x10000) and entered in real
 * mode with CS = DS = ES = SS = 0x1000, IP = 0, SP = 0x8000: kvmtool's
 * convention, so the same images run under both.
 */
#include "base/log.h"
#include "loader/loader.h"

#define FLAT_SEGMENT 0x1000u
#define FLAT_ADDR    0x10000u
#define FLAT_LIMIT   0xa0000u

int flat_plan(const struct loader_input *in, struct boot_plan *plan, char *err, size_t errlen)
{
	const struct blob *k = &in->kernel;

	if (k->size == 0) {
		err_set(err, errlen, "%s: empty image", k->path);
		return -1;
	}
	if (k->size > FLAT_LIMIT - FLAT_ADDR) {
		err_set(err, errlen, "%s: flat image of %zu bytes exceeds the %u bytes below 640 KiB",
			k->path, k->size, FLAT_LIMIT - FLAT_ADDR);
		return -1;
	}
	if (in->nmodules) {
		err_set(err, errlen, "%s: a flat image cannot take modules or an initrd", k->path);
		return -1;
	}
	if (plan_add(plan, in->mem, FLAT_ADDR, k->data, k->size, k->size, "flat image", err, errlen))
		return -1;
	plan->entry.mode = ENTRY_REAL16;
	plan->entry.real_segment = FLAT_SEGMENT;
	plan->entry.rip = 0;
	plan->entry.rsp = 0x8000;
	plan->format = "flat";
	return 0;
}
