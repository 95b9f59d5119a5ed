#include "core/iobus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void iobus_init(struct iobus *bus, const char *name, uint64_t limit)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	bus->limit = limit;
	bus->rl = (struct ratelimit)RATELIMIT_INIT;
}

void iobus_free(struct iobus *bus)
{
	free(bus->regions);
	bus->regions = NULL;
	bus->nregions = bus->cap = 0;
}

static bool is_pow2_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static bool ops_contract_ok(const struct io_ops *ops)
{
	return ops && is_pow2_size(ops->valid_min) && is_pow2_size(ops->valid_max) &&
	       is_pow2_size(ops->impl_min) && is_pow2_size(ops->impl_max) &&
	       ops->valid_min <= ops->valid_max && ops->impl_min <= ops->impl_max;
}

int iobus_register(struct iobus *bus, uint64_t base, uint64_t len,
		   const struct io_ops *ops, void *opaque, const char *name)
{
	uint64_t last;
	size_t pos;

	if (len == 0 || __builtin_add_overflow(base, len - 1, &last) || !ops_contract_ok(ops))
		return -EINVAL;
	if (bus->limit && last >= bus->limit)
		return -EINVAL;
	for (pos = 0; pos < bus->nregions; pos++) {
		const struct io_region *r = &bus->regions[pos];

		if (base <= r->base + (r->len - 1) && r->base <= last)
			return -EEXIST;
		if (r->base > base)
			break;
	}
	if (bus->nregions == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		struct io_region *n = realloc(bus->regions, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		bus->regions = n;
		bus->cap = cap;
	}
	memmove(&bus->regions[pos + 1], &bus->regions[pos],
		(bus->nregions - pos) * sizeof(*bus->regions));
	bus->regions[pos] = (struct io_region){ base, len, ops, opaque, name };
	bus->nregions++;
	return 0;
}

const struct io_region *iobus_find(const struct iobus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct io_region *r = &bus->regions[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Largest power of two <= n (n >= 1). */
static unsigned pow2_floor(unsigned n)
{
	unsigned p = 1;

	while (p * 2 <= n)
		p *= 2;
	return p;
}

/* The piece of an access at `addr` that one dispatch step may cover: at
 * most valid_max, and no wider than the alignment of its offset in the
 * region (QEMU's memory_access_size(); offset 0 is aligned to anything). */
static unsigned piece_size(const struct io_region *r, uint64_t addr, unsigned remaining)
{
	unsigned max = r ? r->ops->valid_max : 1;
	uint64_t off = r ? addr - r->base : 0;
	uint64_t align = off & -off;

	if (align && align < max)
		max = (unsigned)align;
	return pow2_floor(remaining < max ? remaining : max);
}

/* Calls the device with sizes it implements: widen or split (little endian). */
static uint64_t adjusted_read(const struct io_region *r, struct vcpu *vcpu, uint64_t off,
			      unsigned size)
{
	const struct io_ops *ops = r->ops;
	unsigned asz = size < ops->impl_min ? ops->impl_min :
		       size > ops->impl_max ? ops->impl_max : size;
	uint64_t v = 0;

	if (!ops->read)
		return size_mask(size);
	if (asz >= size)
		return ops->read(r->opaque, vcpu, off, asz) & size_mask(size);
	for (unsigned i = 0; i < size; i += asz)
		v |= (ops->read(r->opaque, vcpu, off + i, asz) & size_mask(asz)) << (i * 8);
	return v;
}

static void adjusted_write(const struct io_region *r, struct vcpu *vcpu, uint64_t off,
			   uint64_t value, unsigned size)
{
	const struct io_ops *ops = r->ops;
	unsigned asz = size < ops->impl_min ? ops->impl_min :
		       size > ops->impl_max ? ops->impl_max : size;

	if (!ops->write)
		return;
	value &= size_mask(size);
	if (asz >= size) {
		ops->write(r->opaque, vcpu, off, value, asz);
		return;
	}
	for (unsigned i = 0; i < size; i += asz)
		ops->write(r->opaque, vcpu, off + i, (value >> (i * 8)) & size_mask(asz), asz);
}

static void count_unassigned(struct iobus *bus, bool write, uint64_t addr, unsigned size)
{
	uint64_t *c = write ? &bus->count.unassigned_writes : &bus->count.unassigned_reads;

	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
	log_guest(&bus->rl, "%s %s of %u byte(s) at unassigned address 0x%llx", bus->name,
		  write ? "write" : "read", size, (unsigned long long)addr);
}

static void count_invalid(struct iobus *bus, const struct io_region *r, bool write,
			  uint64_t addr, unsigned size)
{
	__atomic_fetch_add(&bus->count.invalid, 1, __ATOMIC_RELAXED);
	log_guest(&bus->rl, "%s %s of %u byte(s) at 0x%llx refused by %s (valid sizes %u..%u)",
		  bus->name, write ? "write" : "read", size, (unsigned long long)addr, r->name,
		  r->ops->valid_min, r->ops->valid_max);
}

/*
 * One access, cut into pieces.  The unassigned space is counted once per
 * access, not once per byte, so that the counters mean "guest accesses".
 */
static void dispatch(struct iobus *bus, struct vcpu *vcpu, uint64_t addr, uint8_t *buf,
		     unsigned size, bool write)
{
	bool counted_unassigned = false;
	unsigned done = 0;

	while (done < size) {
		uint64_t a = addr + done;
		const struct io_region *r = iobus_find(bus, a);
		unsigned l = piece_size(r, a, size - done);
		uint64_t v = 0;

		if (!r || l < r->ops->valid_min) {
			if (!r && !counted_unassigned) {
				count_unassigned(bus, write, addr, size);
				counted_unassigned = true;
			} else if (r) {
				count_invalid(bus, r, write, a, l);
			}
			if (!write)
				memset(buf + done, 0xff, l);
		} else if (write) {
			memcpy(&v, buf + done, l);
			adjusted_write(r, vcpu, a - r->base, v, l);
		} else {
			v = adjusted_read(r, vcpu, a - r->base, l);
			memcpy(buf + done, &v, l);
		}
		done += l;
	}
}

void iobus_read(struct iobus *bus, struct vcpu *vcpu, uint64_t addr, void *data, unsigned size)
{
	dispatch(bus, vcpu, addr, data, size, false);
}

void iobus_write(struct iobus *bus, struct vcpu *vcpu, uint64_t addr, const void *data,
		 unsigned size)
{
	uint8_t tmp[8];

	if (size > sizeof(tmp))
		size = sizeof(tmp);
	memcpy(tmp, data, size);
	dispatch(bus, vcpu, addr, tmp, size, true);
}
