/*
 * libFuzzer target: the gdb remote protocol's framing (packets, checksums,
 * acks, Ctrl-C, oversized packets), the escapes of binary data and the hex
 * numbers every command argument goes through.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdb/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rsp_reader r;
	struct strbuf sb = { 0 };
	uint8_t bytes[64];
	uint64_t v;
	const char *end;

	rsp_reader_init(&r);
	for (size_t i = 0; i < size; i++) {
		if (rsp_feed(&r, data[i]) != RSP_PACKET)
			continue;
		r.buf[r.len] = 0;
		hex_u64(r.buf, &end, &v);
		hex_decode(r.buf, r.len, bytes, sizeof(bytes));
		rsp_frame(&sb, r.buf, r.len);
		sb.len = 0;
		{
			char *copy = malloc(r.len + 1);

			if (copy) {
				memcpy(copy, r.buf, r.len + 1);
				rsp_unescape(copy, r.len);
				free(copy);
			}
		}
	}
	sb_free(&sb);
	return 0;
}
