#include "virtio/queue.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/memory.h"

/* The indexes are free-running 16-bit counters shared with the guest: read
 * them once, with acquire semantics, and never trust one. */
static uint16_t load16(const volatile uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store16(volatile uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

int virtq_map(struct virtqueue *q, const struct guest_mem *mem)
{
	uint64_t n = q->size;

	if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)) || (q->desc_gpa & 15) || (q->avail_gpa & 1) ||
	    (q->used_gpa & 3))
		return -1;
	q->desc = gpa_to_hva(mem, q->desc_gpa, 16 * n);
	q->avail = gpa_to_hva(mem, q->avail_gpa, 6 + 2 * n);
	q->used = gpa_to_hva(mem, q->used_gpa, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used)
		return -1;
	q->last_avail = load16(q->avail + 1);   /* 0 after a reset; kept from the ring otherwise */
	q->used_idx = load16(q->used + 1);
	return 0;
}

static int broken(struct virtqueue *q, char *err, size_t errlen, const char *why, ...)
	__attribute__((format(printf, 4, 5)));
static int broken(struct virtqueue *q, char *err, size_t errlen, const char *why, ...)
{
	va_list ap;

	q->broken = true;
	va_start(ap, why);
	vsnprintf(err, errlen, why, ap);
	va_end(ap);
	return -1;
}

/* Adds descriptor d's buffer to the chain. */
static int add_segment(struct virtq_chain *c, const struct guest_mem *mem,
		       const struct virtq_desc *d, char *err, size_t errlen)
{
	void *p;

	if (c->nread + c->nwrite >= VIRTQ_MAX_SEGS) {
		snprintf(err, errlen, "chain of more than %d buffers", VIRTQ_MAX_SEGS);
		return -1;
	}
	if (!(d->flags & VIRTQ_DESC_F_WRITE) && c->nwrite) {
		snprintf(err, errlen, "a readable buffer after a writable one");
		return -1;
	}
	p = d->len ? gpa_to_hva(mem, d->addr, d->len) : NULL;
	if (d->len && !p) {
		snprintf(err, errlen, "buffer 0x%llx+%u is not RAM", (unsigned long long)d->addr,
			 d->len);
		return -1;
	}
	c->iov[c->nread + c->nwrite] = (struct iovec){ p, d->len };
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		c->nwrite++;
		c->write_len += d->len;
	} else {
		c->nread++;
		c->read_len += d->len;
	}
	return 0;
}

/* An indirect table: its descriptors, none of them indirect again. */
static int walk_indirect(const struct virtqueue *q, const struct guest_mem *mem,
			 const struct virtq_desc *d, struct virtq_chain *c, char *err, size_t errlen)
{
	const struct virtq_desc *table;
	unsigned n = d->len / 16, i = 0;

	if (!q->indirect || (d->len % 16) || !n || n > VIRTQ_MAX_SIZE) {
		snprintf(err, errlen, "bad indirect table (length %u)", d->len);
		return -1;
	}
	table = gpa_to_hva(mem, d->addr, d->len);
	if (!table || (d->addr & 7)) {
		snprintf(err, errlen, "indirect table at 0x%llx is not RAM", (unsigned long long)d->addr);
		return -1;
	}
	for (unsigned count = 0;; count++) {
		struct virtq_desc e;

		if (count >= n) {
			snprintf(err, errlen, "indirect chain loops");
			return -1;
		}
		memcpy(&e, (const void *)&table[i], sizeof(e));
		if (e.flags & VIRTQ_DESC_F_INDIRECT) {
			snprintf(err, errlen, "nested indirect table");
			return -1;
		}
		if (add_segment(c, mem, &e, err, errlen))
			return -1;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (e.next >= n) {
			snprintf(err, errlen, "indirect next %u past the table", e.next);
			return -1;
		}
		i = e.next;
	}
}

static int walk(struct virtqueue *q, const struct guest_mem *mem, uint16_t head,
		struct virtq_chain *c, char *err, size_t errlen)
{
	unsigned i = head;

	c->head = head;
	c->nread = c->nwrite = 0;
	c->read_len = c->write_len = 0;
	for (unsigned count = 0;; count++) {
		struct virtq_desc d;

		if (count >= q->size)
			return broken(q, err, errlen, "descriptor chain from %u loops", (unsigned)head);
		memcpy(&d, (const void *)&q->desc[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if ((d.flags & VIRTQ_DESC_F_NEXT) || count ||
			    walk_indirect(q, mem, &d, c, err, errlen)) {
				if (!err[0])
					snprintf(err, errlen, "indirect descriptor inside a chain");
				q->broken = true;
				return -1;
			}
			return 1;
		}
		if (add_segment(c, mem, &d, err, errlen)) {
			q->broken = true;
			return -1;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 1;
		if (d.next >= q->size)
			return broken(q, err, errlen, "next %u past the table", (unsigned)d.next);
		i = d.next;
	}
}

int virtq_pop(struct virtqueue *q, const struct guest_mem *mem, struct virtq_chain *c,
	      char *err, size_t errlen)
{
	uint16_t avail_idx, head;

	err[0] = 0;
	if (q->broken || !q->enabled || !q->avail)
		return 0;
	avail_idx = load16(q->avail + 1);
	if (avail_idx == q->last_avail)
		return 0;
	/* More than a ring's worth outstanding: the index is garbage. */
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return broken(q, err, errlen, "avail index jumped by %u",
			      (unsigned)(uint16_t)(avail_idx - q->last_avail));
	head = q->avail[2 + q->last_avail % q->size];
	if (head >= q->size)
		return broken(q, err, errlen, "head %u past the table", (unsigned)head);
	q->last_avail++;
	q->requests++;
	return walk(q, mem, head, c, err, errlen);
}

void virtq_unpop(struct virtqueue *q, unsigned n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
	q->requests -= n;
}

void virtq_push(struct virtqueue *q, const struct guest_mem *mem, uint16_t head, uint32_t written)
{
	volatile uint32_t *elem;

	(void)mem;
	if (!q->used)
		return;
	elem = (volatile uint32_t *)(q->used + 2) + 2 * (q->used_idx % q->size);
	elem[0] = head;
	elem[1] = written;
	q->used_idx++;
	store16(q->used + 1, q->used_idx);
}

bool virtq_should_notify(struct virtqueue *q, const struct guest_mem *mem)
{
	uint16_t old = q->signalled_used, now = q->used_idx, event;
	bool valid = q->signalled_valid;

	(void)mem;
	if (!q->used)
		return false;
	/* The used index must be visible before the driver's event is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!q->event_idx)
		return !(load16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	event = load16(q->avail + 2 + q->size);
	/* vring_need_event: did [old, now) pass the driver's used_event? */
	return !valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool virtq_more_after_enabling_notify(struct virtqueue *q, const struct guest_mem *mem)
{
	(void)mem;
	if (!q->used || q->broken)
		return false;
	if (q->event_idx)
		store16(q->used + 2 + 4 * q->size, q->last_avail);   /* avail_event */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(q->avail + 1) != q->last_avail;
}

bool virtq_more_after_next_notify(struct virtqueue *q)
{
	uint16_t idx;

	if (!q->used || q->broken)
		return false;
	idx = load16(q->avail + 1);
	if (q->event_idx)
		store16(q->used + 2 + 4 * q->size, idx);             /* avail_event */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(q->avail + 1) != idx;
}

/* Copies between buf and the segments iov[0..count), starting `off` bytes
 * into them: into the segments if `into`, else out of them. */
static size_t copy_segments(const struct iovec *iov, unsigned count, size_t off, uint8_t *buf,
			    size_t n, bool into)
{
	size_t done = 0;

	for (unsigned i = 0; i < count && done < n; i++) {
		size_t len = iov[i].iov_len;
		uint8_t *seg = iov[i].iov_base;

		if (off >= len) {
			off -= len;
			continue;
		}
		len -= off;
		if (len > n - done)
			len = n - done;
		if (into)
			memcpy(seg + off, buf + done, len);
		else
			memcpy(buf + done, seg + off, len);
		done += len;
		off = 0;
	}
	return done;
}

size_t virtq_read(const struct virtq_chain *c, size_t off, void *buf, size_t n)
{
	return copy_segments(c->iov, c->nread, off, buf, n, false);
}

size_t virtq_write(struct virtq_chain *c, size_t off, const void *buf, size_t n)
{
	/* The segments are the guest's; buf is only read. */
	return copy_segments(c->iov + c->nread, c->nwrite, off, (uint8_t *)(uintptr_t)buf, n, true);
}

void virtq_reset(struct virtqueue *q)
{
	uint64_t requests = q->requests;

	memset(q, 0, sizeof(*q));
	q->msix_vector = 0xffff;
	q->requests = requests;
}

bool virtq_position(const struct virtqueue *q, struct virtqueue_position *p)
{
	if (!q->enabled || !q->avail || !q->used)
		return false;
	*p = (struct virtqueue_position){
		.taken = q->last_avail, .posted = load16(q->avail + 1),
		.used = load16(q->used + 1),   /* the ring's: vhost's too, for its queues */
		.used_event = q->event_idx ? load16(q->avail + 2 + q->size) : 0,
		.interrupts_off = !q->event_idx && (load16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT),
	};
	return true;
}
