/*
 * The debugger's breakpoints and watchpoints.
 *
 *   software breakpoints   an int3 byte at a guest-physical address (the
 *                          linear address gdb named, translated when it
 *                          was inserted); the original byte is kept and
 *                          shown to every read, so gdb never sees 0xcc
 *   hardware breakpoints   DR0-DR3 through KVM_SET_GUEST_DEBUG, shared with
 *   and watchpoints        data watchpoints where the host's KVM raises
 *                          them
 *   stepped watchpoints    where it does not (a KVM back-end that emulates
 *                          kernel code sees no data breakpoint): the vCPUs
 *                          single-step and the watched bytes are compared
 *                          after every instruction (write watchpoints only)
 *
 * The table changes only while every vCPU is parked; vCPU threads read it
 * when they trap.
 */
#ifndef SHRIKE_GDB_BREAKPOINTS_H
#define SHRIKE_GDB_BREAKPOINTS_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/memory.h"

#define BP_MAX_SW 512
#define BP_HW_SLOTS 4
#define BP_MAX_STEPPED 4
#define BP_WATCH_MAX_LEN 8

enum bp_type { BP_SW = 0, BP_HW = 1, BP_WRITE = 2, BP_READ = 3, BP_ACCESS = 4 };

struct sw_bp {
	uint64_t linear;
	gpa_t gpa;
	uint8_t orig;
};

struct hw_slot {
	bool used;
	enum bp_type type;         /* BP_HW, BP_WRITE, BP_ACCESS */
	uint64_t addr;
	unsigned len;
};

struct stepped_watch {
	bool used;
	uint64_t addr;
	unsigned len;
	gpa_t gpa[BP_WATCH_MAX_LEN];
	uint8_t last[BP_WATCH_MAX_LEN];
};

struct breakpoints {
	const struct guest_mem *mem;
	struct sw_bp sw[BP_MAX_SW];
	unsigned nsw;
	struct hw_slot hw[BP_HW_SLOTS];
	struct stepped_watch stepped[BP_MAX_STEPPED];
	unsigned nstepped;
	bool hw_data;              /* data breakpoints fire on this host */
	pthread_mutex_t lock;      /* stepped watches' last values (vCPUs compare) */
};

void bp_init(struct breakpoints *b, const struct guest_mem *mem, bool hw_data);
void bp_fini(struct breakpoints *b);

/* Software breakpoints.  insert: 0, -EEXIST (already there: fine),
 * -ENOSPC, -EFAULT (gpa not RAM). */
int bp_sw_insert(struct breakpoints *b, uint64_t linear, gpa_t gpa);
int bp_sw_remove(struct breakpoints *b, uint64_t linear);
bool bp_sw_at(const struct breakpoints *b, gpa_t gpa);
bool bp_sw_linear(const struct breakpoints *b, uint64_t linear);
/* Reads and writes of guest RAM through the debugger: bytes under a
 * breakpoint read as the original; a write there changes the original and
 * keeps the int3. */
void bp_hide(const struct breakpoints *b, gpa_t gpa, uint8_t *buf, uint64_t len);
void bp_write(struct breakpoints *b, gpa_t gpa, const uint8_t *buf, uint64_t len);
/* After a reset reloaded the boot images: plants the int3s again. */
void bp_replant(struct breakpoints *b);
void bp_sw_remove_all(struct breakpoints *b);

/* Hardware breakpoints and watchpoints: 0, -ENOSPC (no free debug
 * register), -EINVAL (length or alignment the hardware cannot watch),
 * -ENOTSUP (not on this host: the caller says so to gdb). */
int bp_hw_insert(struct breakpoints *b, enum bp_type type, uint64_t addr, unsigned len);
int bp_hw_remove(struct breakpoints *b, enum bp_type type, uint64_t addr, unsigned len);
/* The slot DR6 names, or NULL. */
const struct hw_slot *bp_hw_hit(const struct breakpoints *b, uint64_t dr6);

/* Stepped write watchpoints (gpa per watched byte). */
int bp_stepped_insert(struct breakpoints *b, uint64_t addr, unsigned len, const gpa_t *gpa);
int bp_stepped_remove(struct breakpoints *b, uint64_t addr, unsigned len);
/* Re-reads the watched values (gdb may have written them). */
void bp_stepped_refresh(struct breakpoints *b);
/* After an instruction: a watched value changed?  *addr: which watch. */
bool bp_stepped_changed(struct breakpoints *b, uint64_t *addr);

void bp_remove_all(struct breakpoints *b);

/* Fills the debug registers and control bits (USE_HW_BP) for the vCPUs. */
void bp_guest_debug(const struct breakpoints *b, struct kvm_guest_debug *d);

#endif
