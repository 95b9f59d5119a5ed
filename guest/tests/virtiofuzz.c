/*
 * A hostile virtio driver: for every virtio-pci function on bus 0, rounds
 * of random driving, like the port fuzzer drives ports: resets at random
 * moments, random features, queue sizes (powers of two or not), ring
 * addresses inside a scratch area, at its edge or outside RAM, random
 * descriptors (loops, huge lengths, indirect tables, chains longer than the
 * queue), random avail indexes, notifications on every queue, random
 * common-configuration and device-configuration accesses of every size.
 * The VMM must stay up and answer: after the rounds every device still
 * resets and reports its queue count.
 *   virtiofuzz rounds=N seed=S
 */
#include "rt.h"

#define CONF_ADDR 0xcf8
#define CONF_DATA 0xcfc
#define SCRATCH_SIZE (64u << 10)

/* Rings and buffers live at 64 MiB, far from this kernel: what a device
 * writes through a wild descriptor (up to its length past the area) lands
 * in RAM nobody uses.  Needs 128 MiB of RAM. */
static uint8_t *const scratch = (uint8_t *)0x4000000;
static uint64_t rng_state;
static bool hostile_setup;         /* this round's rings may be invalid */

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t conf_read(unsigned slot, unsigned reg)
{
	outl(CONF_ADDR, 0x80000000u | slot << 11 | (reg & 0xfc));
	return inl(CONF_DATA) >> (8 * (reg & 3));
}

struct ring {
	uint64_t desc, avail;      /* 0: not in the scratch area */
	uint16_t size, idx;
};

struct vdev {
	unsigned slot;
	struct ring ring[20];
	uint64_t common, notify, device;
	uint32_t notify_mult;
};

static uint64_t bar_address(unsigned slot, unsigned bar)
{
	uint32_t lo = conf_read(slot, 0x10 + 4 * bar);
	uint64_t a = lo & ~0xfull;

	if ((lo & 6) == 4)
		a |= (uint64_t)conf_read(slot, 0x14 + 4 * bar) << 32;
	return a;
}

/* The virtio capabilities (vendor 0x09): where common, notify and device
 * configuration live. */
static bool find_caps(struct vdev *d)
{
	unsigned p = conf_read(d->slot, 0x34) & 0xff;

	for (int n = 0; p && n < 48; n++, p = conf_read(d->slot, p + 1) & 0xff) {
		uint8_t type = (uint8_t)conf_read(d->slot, p + 3);
		uint64_t at;

		if ((conf_read(d->slot, p) & 0xff) != 0x09)
			continue;
		at = bar_address(d->slot, conf_read(d->slot, p + 4) & 0xff) + conf_read(d->slot, p + 8);
		if (type == 1)
			d->common = at;
		else if (type == 2) {
			d->notify = at;
			d->notify_mult = conf_read(d->slot, p + 16);
		} else if (type == 4)
			d->device = at;
	}
	return d->common && d->notify;
}

static void w8(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static void w16(uint64_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static void w32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static uint8_t r8(uint64_t a) { return *(volatile uint8_t *)a; }
static uint16_t r16(uint64_t a) { return *(volatile uint16_t *)a; }
static uint32_t r32(uint64_t a) { return *(volatile uint32_t *)a; }

/* A guest-physical address for a ring: mostly in the scratch area, now and
 * then at its end, in the MMIO hole, or past RAM. */
static uint64_t ring_address(void)
{
	if (!hostile_setup)
		return (uintptr_t)scratch + (rnd() % (SCRATCH_SIZE - 32768) & ~0xfull);
	switch (rnd() % 8) {
	case 0: return 0xfec00000ull + (rnd() & 0xfff);
	case 1: return (uint64_t)rnd();
	case 2: return (uintptr_t)scratch + SCRATCH_SIZE - (rnd() & 0xff);
	default: return (uintptr_t)scratch + (rnd() % SCRATCH_SIZE & ~0xfull);
	}
}

static void scribble(void)
{
	for (unsigned i = 0; i < 64; i++) {
		unsigned off = (unsigned)(rnd() % (SCRATCH_SIZE - 16)) & ~7u;
		uint64_t v = rnd();

		/* Descriptors pointing into the scratch area, sometimes past it. */
		if (rnd() % 2)
			v = (uintptr_t)scratch + (v % (SCRATCH_SIZE + 4096));
		memcpy(scratch + off, &v, 8);
		if (rnd() % 4 == 0)
			memcpy(scratch + off + 8, &(uint32_t){ (uint32_t)(rnd() % 0x20000) }, 4);
	}
}

static void random_common_access(const struct vdev *d)
{
	uint64_t a = d->common + rnd() % 0x40;

	switch (rnd() % 6) {
	case 0: w8(a, (uint8_t)rnd()); break;
	case 1: w16(a & ~1ull, (uint16_t)rnd()); break;
	case 2: w32(a & ~3ull, (uint32_t)rnd()); break;
	case 3: (void)r8(a); break;
	case 4: (void)r16(a & ~1ull); break;
	default: (void)r32(a & ~3ull); break;
	}
	if (d->device && rnd() % 2) {
		uint64_t b = d->device + rnd() % 0x80;

		if (rnd() % 2)
			(void)r32(b & ~3ull);
		else
			w8(b, (uint8_t)rnd());
	}
}

static bool in_scratch(uint64_t a, uint64_t len)
{
	return a >= (uintptr_t)scratch && a + len <= (uintptr_t)scratch + SCRATCH_SIZE;
}

/* Plausible-looking work in a queue that sits in the scratch area: chains
 * of random descriptors (buffers in the area, lengths small or huge,
 * random flags and links, indirect tables) and an avail index moved on
 * by a few. */
static void offer_work(struct ring *r)
{
	volatile uint16_t *avail = (volatile uint16_t *)(uintptr_t)r->avail;
	unsigned n = 1 + (unsigned)(rnd() % 4);

	for (unsigned i = 0; i < r->size; i++) {
		uint64_t *desc = (uint64_t *)(uintptr_t)(r->desc + 16 * i);
		uint32_t len = rnd() % 8 ? (uint32_t)(rnd() % 4097) : (uint32_t)rnd();
		uint16_t flags = (uint16_t)(rnd() % 8), next = (uint16_t)(rnd() % (r->size + 1u));

		desc[0] = (uintptr_t)scratch + rnd() % (SCRATCH_SIZE - 8192);
		desc[1] = len | (uint64_t)flags << 32 | (uint64_t)next << 48;
	}
	for (unsigned i = 0; i < n; i++)
		avail[2 + (r->idx + i) % r->size] = (uint16_t)(rnd() % (r->size + 1u));
	avail[0] = (uint16_t)(rnd() % 2);
	avail[2 + r->size] = (uint16_t)rnd();           /* used_event */
	r->idx = (uint16_t)(r->idx + (rnd() % 16 ? n : (unsigned)rnd()));
	avail[1] = r->idx;
}

static void round_on(struct vdev *d)
{
	uint64_t c = d->common;
	unsigned nq = r16(c + 0x12);

	hostile_setup = rnd() % 4 == 0;
	w8(c + 0x14, 0);                            /* reset */
	w8(c + 0x14, 1 | 2);                        /* ACKNOWLEDGE | DRIVER */
	w32(c + 0x08, 0);
	w32(c + 0x0c, (uint32_t)rnd());
	w32(c + 0x08, 1);
	w32(c + 0x0c, (uint32_t)rnd() | (rnd() % 4 ? 1 : 0));   /* VERSION_1, usually */
	w8(c + 0x14, 1 | 2 | 8);                    /* FEATURES_OK (or refused) */
	for (unsigned q = 0; q < nq + 2 && q < 20; q++) {
		uint64_t desc = ring_address(), avail = ring_address(), used = ring_address();

		struct ring *r = &d->ring[q];

		w16(c + 0x16, (uint16_t)q);             /* past the last too */
		w16(c + 0x18, (uint16_t)(!hostile_setup ? 1u << (rnd() % 9) :
					 rnd() % 2 ? 1u << (rnd() % 10) : rnd()));
		r->size = r16(c + 0x18);                /* what the device took */
		r->idx = 0;
		desc &= ~0xfull;
		avail &= ~1ull;
		r->desc = r->size && !(r->size & (r->size - 1)) && in_scratch(desc, 16u * r->size) ? desc : 0;
		r->avail = r->desc && in_scratch(avail, 6u + 2u * r->size) ? avail : 0;
		if (r->avail && !hostile_setup) {
			/* As a driver does: the indexes start at 0. */
			((volatile uint16_t *)(uintptr_t)avail)[1] = 0;
			if (in_scratch(used, 4))
				((volatile uint16_t *)(uintptr_t)used)[1] = 0;
		}
		w16(c + 0x1a, (uint16_t)(rnd() % 4));
		w32(c + 0x20, (uint32_t)desc);
		w32(c + 0x24, (uint32_t)(desc >> 32));
		w32(c + 0x28, (uint32_t)avail);
		w32(c + 0x2c, (uint32_t)(avail >> 32));
		w32(c + 0x30, (uint32_t)used);
		w32(c + 0x34, (uint32_t)(used >> 32));
		w16(c + 0x1c, 1);                       /* enable */
	}
	w8(c + 0x14, 1 | 2 | 4 | 8);                /* DRIVER_OK */
	for (unsigned k = 0; k < 32; k++) {
		unsigned q = (unsigned)(rnd() % (nq + 1));

		if (rnd() % 4 == 0)
			scribble();
		else if (q < nq && q < 20 && d->ring[q].avail)
			offer_work(&d->ring[q]);
		w16(d->notify + q * d->notify_mult, (uint16_t)rnd());
		if (rnd() % 4 == 0)
			random_common_access(d);
		if (rnd() % 16 == 0)
			w8(c + 0x14, 0);                    /* a reset in the middle */
	}
}

void test_main(void)
{
	struct vdev devs[8];
	unsigned n = 0, rounds = cmdline_uint("rounds=");

	rng_state = cmdline_uint("seed=") | 1;
	if (!rounds)
		rounds = 200;
	for (unsigned slot = 1; slot < 32 && n < 8; slot++) {
		uint32_t id = conf_read(slot, 0);

		if ((id & 0xffff) != 0x1af4 || (id >> 16) < 0x1040)
			continue;
		memset(&devs[n], 0, sizeof(devs[n]));
		devs[n].slot = slot;
		outl(CONF_ADDR, 0x80000000u | slot << 11 | 4);
		outl(CONF_DATA, inl(CONF_DATA) | 6);   /* memory decoding, bus master */
		if (find_caps(&devs[n]))
			n++;
	}
	if (!n)
		test_fail("no virtio-pci function on bus 0");
	for (unsigned r = 0; r < rounds; r++)
		round_on(&devs[r % n]);
	for (unsigned i = 0; i < n; i++) {
		w8(devs[i].common + 0x14, 0);
		if (r8(devs[i].common + 0x14) != 0 || r16(devs[i].common + 0x12) == 0)
			test_fail("device in slot %u no longer answers", devs[i].slot);
	}
	kprintf("virtiofuzz: %u rounds on %u devices; every device resets and answers\n", rounds, n);
}
