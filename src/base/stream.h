/*
 * The snapshot byte codec: a section's contents, written and read field by
 * field, little endian.  Devices use
 * these in their save and load (core/device.h).  A read past the end of
 * the section sets `failed` and returns zeros: a device's load checks
 * snap_ok() and validates every value it takes, because a snapshot file
 * comes from outside.
 */
#ifndef SHRIKE_STREAM_H
#define SHRIKE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* The bytes go into a strbuf (its `failed`: out of memory). */
struct snap_writer {
	struct strbuf sb;
};

struct snap_reader {
	const uint8_t *p;
	size_t len, pos;
	bool failed;               /* read past the end */
};

void snap_put(struct snap_writer *w, const void *data, size_t n);
void snap_put_u8(struct snap_writer *w, uint8_t v);
void snap_put_u16(struct snap_writer *w, uint16_t v);
void snap_put_u32(struct snap_writer *w, uint32_t v);
void snap_put_u64(struct snap_writer *w, uint64_t v);
void snap_writer_free(struct snap_writer *w);

bool snap_get(struct snap_reader *r, void *data, size_t n);
uint8_t snap_get_u8(struct snap_reader *r);
uint16_t snap_get_u16(struct snap_reader *r);
uint32_t snap_get_u32(struct snap_reader *r);
uint64_t snap_get_u64(struct snap_reader *r);
/* Nothing was read past the end, and everything was read. */
bool snap_done(const struct snap_reader *r);

#endif
