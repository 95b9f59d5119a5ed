/* The gdb remote protocol's framing (gdb/packet.c). */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gdb/packet.h"

static enum rsp_event feed_str(struct rsp_reader *r, const char *s, size_t n)
{
	enum rsp_event e = RSP_NONE;

	for (size_t i = 0; i < n; i++) {
		e = rsp_feed(r, (uint8_t)s[i]);
		if (e != RSP_NONE && i + 1 < n)
			return (enum rsp_event)-1;   /* an event before the end */
	}
	return e;
}

static void packets(void)
{
	struct rsp_reader r;

	rsp_reader_init(&r);
	CHECK_EQ(feed_str(&r, "$g#67", 5), RSP_PACKET);
	CHECK_EQ(r.len, 1);
	CHECK(!strcmp(r.buf, "g"));
	CHECK_EQ(feed_str(&r, "$g#68", 5), RSP_BAD_CHECKSUM);
	CHECK_EQ(feed_str(&r, "$g#6z", 5), RSP_BAD_CHECKSUM);
	CHECK_EQ(feed_str(&r, "\x03", 1), RSP_INTERRUPT);
	CHECK_EQ(feed_str(&r, "+", 1), RSP_ACK);
	CHECK_EQ(feed_str(&r, "-", 1), RSP_NACK);
	/* Noise, then a packet cut off by a new one. */
	CHECK_EQ(feed_str(&r, "xyz$abc$g#67", 12), RSP_PACKET);
	CHECK(!strcmp(r.buf, "g"));
}

static void oversized(void)
{
	static char big[RSP_MAX_PACKET + 100];
	struct rsp_reader r;
	unsigned sum = 0;
	char tail[4];

	rsp_reader_init(&r);
	memset(big, 'a', sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		sum += 'a';
	CHECK_EQ(feed_str(&r, "$", 1), RSP_NONE);
	CHECK_EQ(feed_str(&r, big, sizeof(big)), RSP_NONE);
	snprintf(tail, sizeof(tail), "#%02x", sum & 0xff);
	CHECK_EQ(feed_str(&r, tail, 3), RSP_TOO_LONG);
	CHECK(r.len <= RSP_MAX_PACKET);
}

static void framing_escapes(void)
{
	struct strbuf sb = { 0 };
	char raw[] = "a}\x03#b";
	const char in[] = { 'a', '#', '$', '}', '*', 'b' };
	size_t n;

	rsp_frame(&sb, in, sizeof(in));
	/* Every special byte is escaped: no raw '#', '$', '*' in the body. */
	CHECK(!memchr(sb.buf + 1, '$', sb.len - 1));
	CHECK(!memchr(sb.buf + 1, '*', sb.len - 1));
	CHECK_EQ((const char *)memchr(sb.buf, '#', sb.len) - sb.buf, sb.len - 3);
	CHECK_EQ(sb.len, 1 + 2 + 4 * 2 + 3);
	sb_free(&sb);
	n = rsp_unescape(raw, strlen(raw));
	CHECK_EQ(n, 4);
	CHECK_EQ((uint8_t)raw[1], 0x23);
}

static void hex(void)
{
	uint8_t out[4];
	uint64_t v;
	const char *end;

	CHECK_EQ(hex_decode("00ff7A", 6, out, sizeof(out)), 3);
	CHECK_EQ(out[2], 0x7a);
	CHECK_EQ(hex_decode("0g", 2, out, sizeof(out)), -1);
	CHECK_EQ(hex_decode("000", 3, out, sizeof(out)), -1);
	CHECK_EQ(hex_decode("0000000000", 10, out, sizeof(out)), -1);
	CHECK(hex_u64("ffffffffffffffff,", &end, &v));
	CHECK_EQ(v, ~0ull);
	CHECK_EQ(*end, ',');
	CHECK(!hex_u64("1ffffffffffffffff", &end, &v));
	CHECK(hex_u64("00000000000000000001", &end, &v));
	CHECK_EQ(v, 1);
	CHECK(!hex_u64(",", &end, &v));
}

int main(void)
{
	run_test("gdb_packet_framing", packets);
	run_test("gdb_packet_oversized", oversized);
	run_test("gdb_packet_escapes", framing_escapes);
	run_test("gdb_packet_hex", hex);
	return check_failures ? 1 : 0;
}
