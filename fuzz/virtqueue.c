/*
 * libFuzzer target: a split virtqueue laid out by the input (the
 * descriptor table, the avail ring with its index, indirect tables and
 * buffers in a 64 KiB RAM), walked as virtio-blk walks it: pop until the
 * queue is empty or broken, read and write each chain, push, decide on
 * notifications.  Nothing may touch memory outside the RAM or loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "virtio/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem mem;
	static struct virtq_chain chain;
	struct virtqueue q;
	uint8_t scratch[64];
	char err[160];
	int r, rounds = 0;

	if (!mem.host && guest_mem_init(&mem, RAM))
		abort();
	if (size < 4)
		return 0;
	memset(mem.host, 0, RAM);
	memcpy(mem.host, data + 4, size - 4 < RAM ? size - 4 : RAM);
	memset(&q, 0, sizeof(q));
	q.size = (uint16_t)(1u << (data[0] % 11));          /* 1 .. 1024 */
	q.desc_gpa = (uint64_t)(data[1] & 0x3f) << 10;
	q.avail_gpa = (uint64_t)(data[2] & 0x3f) << 10;
	q.used_gpa = 0x8000 + ((uint64_t)(data[3] & 0x1f) << 10);
	q.indirect = data[3] & 0x40;
	q.event_idx = data[3] & 0x80;
	q.enabled = true;
	if (virtq_map(&q, &mem))
		return 0;
	q.last_avail = 0;
	while ((r = virtq_pop(&q, &mem, &chain, err, sizeof(err))) > 0 && rounds++ < 4096) {
		virtq_read(&chain, 0, scratch, sizeof(scratch));
		virtq_write(&chain, chain.write_len ? chain.write_len - 1 : 0, scratch, 1);
		virtq_push(&q, &mem, chain.head, 1);
		virtq_should_notify(&q, &mem);
	}
	virtq_more_after_enabling_notify(&q, &mem);
	return 0;
}
