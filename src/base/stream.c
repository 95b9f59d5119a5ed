#include "base/stream.h"

#include <stdlib.h>
#include <string.h>

void snap_put(struct snap_writer *w, const void *data, size_t n)
{
	sb_add(&w->sb, data, n);
}

void snap_put_u8(struct snap_writer *w, uint8_t v) { snap_put(w, &v, 1); }
void snap_put_u16(struct snap_writer *w, uint16_t v) { snap_put(w, &v, 2); }
void snap_put_u32(struct snap_writer *w, uint32_t v) { snap_put(w, &v, 4); }
void snap_put_u64(struct snap_writer *w, uint64_t v) { snap_put(w, &v, 8); }

void snap_writer_free(struct snap_writer *w)
{
	sb_free(&w->sb);
}

bool snap_get(struct snap_reader *r, void *data, size_t n)
{
	if (r->failed || n > r->len - r->pos) {
		r->failed = true;
		memset(data, 0, n);
		return false;
	}
	memcpy(data, r->p + r->pos, n);
	r->pos += n;
	return true;
}

uint8_t snap_get_u8(struct snap_reader *r) { uint8_t v; snap_get(r, &v, 1); return v; }
uint16_t snap_get_u16(struct snap_reader *r) { uint16_t v; snap_get(r, &v, 2); return v; }
uint32_t snap_get_u32(struct snap_reader *r) { uint32_t v; snap_get(r, &v, 4); return v; }
uint64_t snap_get_u64(struct snap_reader *r) { uint64_t v; snap_get(r, &v, 8); return v; }

bool snap_done(const struct snap_reader *r)
{
	return !r->failed && r->pos == r->len;
}
