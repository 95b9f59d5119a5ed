/* The I/O dispatch, without KVM: registration rules, splitting, widening,
 * unassigned and invalid accesses. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "core/iobus.h"

struct recorder {
	unsigned calls;
	uint64_t last_off, last_value;
	unsigned last_size;
	uint8_t regs[16];
};

static uint64_t rec_read(void *opaque, struct vcpu *v, uint64_t off, unsigned size)
{
	struct recorder *r = opaque;
	uint64_t val = 0;

	(void)v;
	r->calls++;
	r->last_off = off;
	r->last_size = size;
	for (unsigned i = 0; i < size && off + i < sizeof(r->regs); i++)
		val |= (uint64_t)r->regs[off + i] << (8 * i);
	return val;
}

static void rec_write(void *opaque, struct vcpu *v, uint64_t off, uint64_t value, unsigned size)
{
	struct recorder *r = opaque;

	(void)v;
	r->calls++;
	r->last_off = off;
	r->last_size = size;
	r->last_value = value;
	for (unsigned i = 0; i < size && off + i < sizeof(r->regs); i++)
		r->regs[off + i] = (uint8_t)(value >> (8 * i));
}

static const struct io_ops bytewise = { rec_read, rec_write, 1, 4, 1, 1 };
static const struct io_ops dword_only = { rec_read, rec_write, 1, 4, 4, 4 };
static const struct io_ops word_valid = { rec_read, rec_write, 2, 2, 2, 2 };
static const struct io_ops word_max = { rec_read, rec_write, 1, 2, 1, 1 };

static void registration_rules(void)
{
	struct iobus bus;
	struct recorder r = { 0 };

	iobus_init(&bus, "pio", 0x10000);
	CHECK_EQ(iobus_register(&bus, 0x100, 8, &bytewise, &r, "a"), 0);
	CHECK_EQ(iobus_register(&bus, 0x104, 8, &bytewise, &r, "overlap"), (uint64_t)-EEXIST);
	CHECK_EQ(iobus_register(&bus, 0xfc, 8, &bytewise, &r, "overlap-below"), (uint64_t)-EEXIST);
	CHECK_EQ(iobus_register(&bus, 0x0f0, 0x100, &bytewise, &r, "covering"), (uint64_t)-EEXIST);
	CHECK_EQ(iobus_register(&bus, 0x200, 0, &bytewise, &r, "empty"), (uint64_t)-EINVAL);
	CHECK_EQ(iobus_register(&bus, 0xfffe, 4, &bytewise, &r, "beyond"), (uint64_t)-EINVAL);
	CHECK_EQ(iobus_register(&bus, 0x108, 8, &bytewise, &r, "adjacent"), 0);
	CHECK_EQ(iobus_register(&bus, 0xf8, 8, &bytewise, &r, "adjacent-below"), 0);
	CHECK(iobus_find(&bus, 0xf8) && iobus_find(&bus, 0x10f));
	CHECK(!iobus_find(&bus, 0x110) && !iobus_find(&bus, 0xf7));
	iobus_free(&bus);
	iobus_init(&bus, "mmio", 0);
	CHECK_EQ(iobus_register(&bus, ~0ull - 3, 8, &bytewise, &r, "wraps"), (uint64_t)-EINVAL);
	CHECK_EQ(iobus_register(&bus, ~0ull - 3, 4, &bytewise, &r, "top"), 0);
	{
		static const struct io_ops bad = { rec_read, rec_write, 4, 2, 1, 1 };
		static const struct io_ops odd = { rec_read, rec_write, 3, 3, 1, 1 };

		CHECK_EQ(iobus_register(&bus, 0x1000, 4, &bad, &r, "bad"), (uint64_t)-EINVAL);
		CHECK_EQ(iobus_register(&bus, 0x1000, 4, &odd, &r, "odd"), (uint64_t)-EINVAL);
	}
	iobus_free(&bus);
}

static void split_wide_access(void)
{
	struct iobus bus;
	struct recorder r = { .regs = { 0x11, 0x22, 0x33, 0x44 } };
	uint32_t v = 0;

	iobus_init(&bus, "pio", 0x10000);
	CHECK_EQ(iobus_register(&bus, 0x3f8, 8, &bytewise, &r, "uart"), 0);
	iobus_read(&bus, NULL, 0x3f8, &v, 4);
	CHECK_EQ(r.calls, 4);
	CHECK_EQ(r.last_size, 1);
	CHECK_EQ(v, 0x44332211);
	r.calls = 0;
	v = 0xaabbccdd;
	iobus_write(&bus, NULL, 0x3f8, &v, 4);
	CHECK_EQ(r.calls, 4);
	CHECK_EQ(r.regs[0], 0xdd);
	CHECK_EQ(r.regs[3], 0xaa);
	iobus_free(&bus);
}

static void widen_narrow_access(void)
{
	struct iobus bus;
	struct recorder r = { .regs = { 0x78, 0x56, 0x34, 0x12 } };
	uint8_t b = 0;
	uint16_t w = 0;

	iobus_init(&bus, "pio", 0x10000);
	CHECK_EQ(iobus_register(&bus, 0x5658, 1, &dword_only, &r, "vmport-like"), 0);
	iobus_read(&bus, NULL, 0x5658, &b, 1);
	CHECK_EQ(r.calls, 1);
	CHECK_EQ(r.last_size, 4);
	CHECK_EQ(b, 0x78);
	iobus_read(&bus, NULL, 0x5658, &w, 2);
	CHECK_EQ(r.last_size, 4);
	CHECK_EQ(w, 0x5678);
	/* A narrow write is zero-extended, not merged: the other bytes become 0. */
	b = 0xab;
	iobus_write(&bus, NULL, 0x5658, &b, 1);
	CHECK_EQ(r.last_size, 4);
	CHECK_EQ(r.last_value, 0xab);
	/* A 4-byte access at a 1-byte region reaches it whole (not clamped). */
	r.calls = 0;
	{
		uint32_t d;

		iobus_read(&bus, NULL, 0x5658, &d, 4);
		CHECK_EQ(r.calls, 1);
		CHECK_EQ(r.last_size, 4);
	}
	iobus_free(&bus);
}

static void unassigned_reads_ones(void)
{
	struct iobus bus;
	struct recorder r = { .regs = { 0x01, 0x02 } };
	uint32_t v = 0;

	iobus_init(&bus, "pio", 0x10000);
	iobus_read(&bus, NULL, 0x1234, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	CHECK_EQ(bus.count.unassigned_reads, 1);
	iobus_write(&bus, NULL, 0x1234, &v, 2);
	CHECK_EQ(bus.count.unassigned_writes, 1);
	/* An access wider than the device allows, running past its end: the
	 * first piece reaches the device, the rest is unassigned. */
	CHECK_EQ(iobus_register(&bus, 0x100, 2, &word_max, &r, "two"), 0);
	iobus_read(&bus, NULL, 0x100, &v, 4);
	CHECK_EQ(v, 0xffff0201);
	CHECK_EQ(r.calls, 2);
	/* Within valid_max the access is not clamped to the region (as on a
	 * PC: a 4-byte IN at a 1-byte port reaches it whole). */
	r.calls = 0;
	CHECK_EQ(iobus_register(&bus, 0x200, 2, &bytewise, &r, "two-wide"), 0);
	iobus_read(&bus, NULL, 0x200, &v, 4);
	CHECK_EQ(r.calls, 4);
	CHECK_EQ(r.last_off, 3);
	/* Past the top of the port space. */
	v = 0;
	iobus_read(&bus, NULL, 0xfffe, &v, 4);
	CHECK_EQ(v, 0xffffffff);
	iobus_free(&bus);
}

static void invalid_size_refused(void)
{
	struct iobus bus;
	struct recorder r = { 0 };
	uint8_t b = 0;
	uint32_t d = 0;

	iobus_init(&bus, "pio", 0x10000);
	CHECK_EQ(iobus_register(&bus, 0x510, 2, &word_valid, &r, "word"), 0);
	iobus_read(&bus, NULL, 0x510, &b, 1);
	CHECK_EQ(b, 0xff);
	CHECK_EQ(r.calls, 0);
	CHECK_EQ(bus.count.invalid, 1);
	iobus_write(&bus, NULL, 0x510, &b, 1);
	CHECK_EQ(r.calls, 0);
	/* An unaligned word access is cut by alignment into bytes: invalid. */
	iobus_read(&bus, NULL, 0x511, &d, 2);
	CHECK_EQ(r.calls, 0);
	/* A 4-byte access: one valid word piece, then unassigned. */
	iobus_read(&bus, NULL, 0x510, &d, 4);
	CHECK_EQ(r.calls, 1);
	CHECK_EQ(r.last_size, 2);
	CHECK_EQ(d >> 16, 0xffff);
	iobus_free(&bus);
}

int main(void)
{
	RUN(registration_rules);
	RUN(split_wide_access);
	RUN(widen_narrow_access);
	RUN(unassigned_reads_ones);
	RUN(invalid_size_refused);
	return check_failures ? 1 : 0;
}
