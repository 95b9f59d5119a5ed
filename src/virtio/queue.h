/*
 * A split virtqueue (virtio 1.2, 2.7) as the device side walks it, with
 * every guest-supplied index, address and length checked: a chain that
 * loops, runs past the ring, points outside RAM, nests indirect tables or
 * is longer than the queue is an error (the queue stops and the device
 * asks for a reset), never a crash or a hang.
 *
 * Used by one thread at a time (the device's I/O thread, under the
 * device's lock).
 */
#ifndef SHRIKE_VIRTQUEUE_H
#define SHRIKE_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;

#define VIRTQ_MAX_SIZE   1024
#define VIRTQ_MAX_SEGS   (VIRTQ_MAX_SIZE + 2)

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtqueue {
	uint16_t size;             /* the driver's choice, a power of two <= max */
	bool enabled;
	bool event_idx;            /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool indirect;             /* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	bool broken;               /* a malformed ring was seen: nothing more until reset */
	uint16_t msix_vector;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;   /* host addresses, set by virtq_map */
	volatile uint16_t *avail;  /* flags, idx, ring[size], used_event */
	volatile uint16_t *used;   /* flags, idx, then {u32 id, u32 len}[size], avail_event */
	uint16_t last_avail;       /* next avail entry to take */
	uint16_t used_idx;         /* next used entry to fill */
	uint16_t signalled_used;   /* used_idx when the driver was last notified */
	bool signalled_valid;
	uint64_t requests;         /* counted for --stats */
};

/* One descriptor chain, resolved to host memory: the driver-readable
 * segments first, then the device-writable ones (the spec's order). */
struct virtq_chain {
	uint16_t head;
	unsigned nread, nwrite;
	struct iovec iov[VIRTQ_MAX_SEGS];   /* read segments, then write segments */
	size_t read_len, write_len;
};

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* At enable: checks the size and that the rings lie in RAM, and maps
 * them.  0 or -1. */
int virtq_map(struct virtqueue *q, const struct guest_mem *mem);

/* The next available chain: 1 and *c filled, 0 if none, -1 if the ring is
 * malformed (q->broken is set; why in err). */
int virtq_pop(struct virtqueue *q, const struct guest_mem *mem, struct virtq_chain *c,
	      char *err, size_t errlen);

/* Gives back the last n chains taken and not yet returned: the next pops
 * take them again (a device that holds input it could not use yet). */
void virtq_unpop(struct virtqueue *q, unsigned n);

/* Returns a chain to the driver with `written` bytes written into it. */
void virtq_push(struct virtqueue *q, const struct guest_mem *mem, uint16_t head,
		uint32_t written);

/* After pushes: must the driver be notified (its flags or used_event)? */
bool virtq_should_notify(struct virtqueue *q, const struct guest_mem *mem);

/* With EVENT_IDX: tells the driver which avail index will be looked at
 * next, then says whether more arrived meanwhile (look again if so). */
bool virtq_more_after_enabling_notify(struct virtqueue *q, const struct guest_mem *mem);
/* Like it, for a device that left chains in the ring because they are not
 * enough (a frame needs more receive buffers): asks to be notified at the
 * driver's next addition, not at what is there already; true if one came
 * meanwhile. */
bool virtq_more_after_next_notify(struct virtqueue *q);

/* Copies up to n bytes of the chain's readable part, from byte `off`. */
size_t virtq_read(const struct virtq_chain *c, size_t off, void *buf, size_t n);
/* Copies into the chain's writable part at byte `off`; returns bytes copied. */
size_t virtq_write(struct virtq_chain *c, size_t off, const void *buf, size_t n);

void virtq_reset(struct virtqueue *q);

/* Where a mapped ring stands, for --stats. */
struct virtqueue_position {
	uint16_t taken, posted;    /* our avail index, the driver's */
	uint16_t used, used_event; /* the ring's, and where the driver wants an interrupt */
	bool interrupts_off;       /* without EVENT_IDX: the driver's NO_INTERRUPT flag */
};

/* False if the queue is not enabled (nothing mapped). */
bool virtq_position(const struct virtqueue *q, struct virtqueue_position *p);

#endif
