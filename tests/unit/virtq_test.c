/*
 * The split virtqueue (virtio/queue.c) against hostile rings, without KVM:
 * every malformed chain is refused with the queue marked broken (never a
 * crash, a hang or an access outside RAM), good chains resolve to the
 * right host memory, and the notification decisions follow the driver's
 * flags and used_event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/memory.h"
#include "virtio/queue.h"

#define QSIZE 8
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define DATA  0x10000

static struct guest_mem mem;
static struct virtqueue q;
static struct virtq_chain chain;
static char err[160];

static void *ram(uint64_t gpa) { return gpa_to_hva(&mem, gpa, 1); }

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	memcpy((uint8_t *)ram(DESC) + 16 * i, &d, sizeof(d));
}

static void offer(uint16_t head)
{
	uint16_t *avail = ram(AVAIL);

	avail[2 + avail[1] % QSIZE] = head;
	avail[1]++;
}

static void fresh_queue(bool indirect, bool event_idx)
{
	memset(ram(0), 0, 0x10000);
	memset(&q, 0, sizeof(q));
	q.size = QSIZE;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	q.indirect = indirect;
	q.event_idx = event_idx;
	q.enabled = true;
	if (virtq_map(&q, &mem))
		abort();
}

static void good_chain(void)
{
	fresh_queue(false, false);
	memcpy(ram(DATA), "header", 6);
	set_desc(0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA + 0x100, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA + 0x300, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain, err, sizeof(err)), 1);
	CHECK_EQ(chain.nread, 1);
	CHECK_EQ(chain.nwrite, 2);
	CHECK_EQ(chain.read_len, 16);
	CHECK_EQ(chain.write_len, 513);
	CHECK(chain.iov[0].iov_base == ram(DATA));
	CHECK(!memcmp(chain.iov[0].iov_base, "header", 6));
	CHECK_EQ(virtq_write(&chain, 512, "S", 1), 1);
	CHECK_EQ(*(uint8_t *)ram(DATA + 0x300), 'S');
	virtq_push(&q, &mem, chain.head, 513);
	CHECK_EQ(((uint16_t *)ram(USED))[1], 1);
	CHECK_EQ(((uint32_t *)ram(USED + 4))[1], 513);
	CHECK_EQ(virtq_pop(&q, &mem, &chain, err, sizeof(err)), 0);   /* nothing more */
}

/* Each case: a malformed chain at head 0; the queue must refuse it. */
static int refused(void)
{
	offer(0);
	return virtq_pop(&q, &mem, &chain, err, sizeof(err)) == -1 && q.broken;
}

static void loops(void)
{
	fresh_queue(false, false);
	set_desc(0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	CHECK(refused());
	CHECK_CONTAINS(err, "loops");
	/* Broken stays broken: no more work until a reset. */
	offer(0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain, err, sizeof(err)), 0);
}

static void next_past_table(void)
{
	fresh_queue(false, false);
	set_desc(0, DATA, 8, VIRTQ_DESC_F_NEXT, QSIZE);
	CHECK(refused());
}

static void head_past_table(void)
{
	uint16_t *avail;

	fresh_queue(false, false);
	avail = ram(AVAIL);
	avail[2] = 500;
	avail[1] = 1;
	CHECK_EQ(virtq_pop(&q, &mem, &chain, err, sizeof(err)), -1);
}

static void buffer_outside_ram(void)
{
	fresh_queue(false, false);
	set_desc(0, (1ull << 20) - 4, 8, 0, 0);              /* runs past the end of RAM */
	CHECK(refused());
	fresh_queue(false, false);
	set_desc(0, 0xfffffffffffff000ull, 0x2000, 0, 0);   /* wraps */
	CHECK(refused());
}

static void readable_after_writable(void)
{
	fresh_queue(false, false);
	set_desc(0, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA, 8, 0, 0);
	CHECK(refused());
}

static void avail_index_jump(void)
{
	uint16_t *avail;

	fresh_queue(false, false);
	avail = ram(AVAIL);
	avail[1] = 1000;                                     /* more than a ring's worth */
	CHECK_EQ(virtq_pop(&q, &mem, &chain, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "jumped");
}

static void indirect_tables(void)
{
	struct virtq_desc table[2] = {
		{ DATA, 16, VIRTQ_DESC_F_NEXT, 1 },
		{ DATA + 0x100, 64, VIRTQ_DESC_F_WRITE, 0 },
	};

	fresh_queue(true, false);
	memcpy(ram(DATA + 0x1000), table, sizeof(table));
	set_desc(0, DATA + 0x1000, sizeof(table), VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ(virtq_pop(&q, &mem, &chain, err, sizeof(err)), 1);
	CHECK_EQ(chain.read_len, 16);
	CHECK_EQ(chain.write_len, 64);
	/* Not negotiated: refused. */
	fresh_queue(false, false);
	memcpy(ram(DATA + 0x1000), table, sizeof(table));
	set_desc(0, DATA + 0x1000, sizeof(table), VIRTQ_DESC_F_INDIRECT, 0);
	CHECK(refused());
	/* Nested, looping, ragged: refused. */
	fresh_queue(true, false);
	table[1].flags = VIRTQ_DESC_F_INDIRECT;
	memcpy(ram(DATA + 0x1000), table, sizeof(table));
	set_desc(0, DATA + 0x1000, sizeof(table), VIRTQ_DESC_F_INDIRECT, 0);
	CHECK(refused());
	fresh_queue(true, false);
	table[1] = (struct virtq_desc){ DATA, 8, VIRTQ_DESC_F_NEXT, 0 };
	memcpy(ram(DATA + 0x1000), table, sizeof(table));
	set_desc(0, DATA + 0x1000, sizeof(table), VIRTQ_DESC_F_INDIRECT, 0);
	CHECK(refused());
	fresh_queue(true, false);
	set_desc(0, DATA + 0x1000, 24, VIRTQ_DESC_F_INDIRECT, 0);
	CHECK(refused());
}

static void notifications(void)
{
	uint16_t *avail;

	fresh_queue(false, false);
	avail = ram(AVAIL);
	virtq_push(&q, &mem, 0, 0);
	CHECK(virtq_should_notify(&q, &mem));
	avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push(&q, &mem, 0, 0);
	CHECK(!virtq_should_notify(&q, &mem));
	/* EVENT_IDX: only when used_idx passes used_event. */
	fresh_queue(false, true);
	avail = ram(AVAIL);
	avail[2 + QSIZE] = 2;                                /* used_event: notify after entry 2 */
	virtq_push(&q, &mem, 0, 0);
	CHECK(virtq_should_notify(&q, &mem));                /* the first always goes */
	virtq_push(&q, &mem, 0, 0);
	CHECK(!virtq_should_notify(&q, &mem));               /* used_idx 2: not past 2 yet */
	virtq_push(&q, &mem, 0, 0);
	CHECK(virtq_should_notify(&q, &mem));                /* 3 passed used_event 2 */
	/* The device publishes avail_event and sees late arrivals. */
	CHECK(!virtq_more_after_enabling_notify(&q, &mem));
	CHECK_EQ(((uint16_t *)ram(USED))[2 + 4 * QSIZE], q.last_avail);
	offer(0);
	CHECK(virtq_more_after_enabling_notify(&q, &mem));
}

/* A device that put back chains too few for its need (virtio-net's frame)
 * asks to hear of the next addition, not of what is already there. */
static void notify_on_next_addition(void)
{
	uint16_t *avail_event;

	fresh_queue(false, true);
	avail_event = (uint16_t *)ram(USED) + 2 + 4 * QSIZE;
	offer(0);                                            /* avail idx 1, not taken */
	CHECK(!virtq_more_after_next_notify(&q));
	CHECK_EQ(*avail_event, 1);                           /* the next index, not last_avail 0 */
	CHECK(virtq_more_after_enabling_notify(&q, &mem));   /* the old call would loop on it */
}

static void bad_rings_refused_at_enable(void)
{
	struct virtqueue r = { .size = 6, .desc_gpa = DESC, .avail_gpa = AVAIL, .used_gpa = USED };

	CHECK(virtq_map(&r, &mem) < 0);                     /* not a power of two */
	r.size = 8;
	r.desc_gpa = DESC + 8;                               /* misaligned */
	CHECK(virtq_map(&r, &mem) < 0);
	r.desc_gpa = (1ull << 20) - 64;                      /* runs out of RAM */
	CHECK(virtq_map(&r, &mem) < 0);
	r.desc_gpa = DESC;
	CHECK(virtq_map(&r, &mem) == 0);
}

int main(void)
{
	if (guest_mem_init(&mem, 1u << 20))
		return 1;
	RUN(good_chain);
	RUN(loops);
	RUN(next_past_table);
	RUN(head_past_table);
	RUN(buffer_outside_ram);
	RUN(readable_after_writable);
	RUN(avail_index_jump);
	RUN(indirect_tables);
	RUN(notifications);
	RUN(notify_on_next_addition);
	RUN(bad_rings_refused_at_enable);
	guest_mem_free(&mem);
	return check_failures ? 1 : 0;
}
