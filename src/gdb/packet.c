#include "gdb/packet.h"

#include <string.h>

#include "base/hex.h"

void rsp_reader_init(struct rsp_reader *r)
{
	memset(r, 0, sizeof(*r));
}

static enum rsp_event idle_byte(struct rsp_reader *r, uint8_t c)
{
	switch (c) {
	case '$':
		r->state = RSP_BODY;
		r->len = 0;
		r->sum = 0;
		r->overflow = false;
		return RSP_NONE;
	case 0x03:
		return RSP_INTERRUPT;
	case '+':
		return RSP_ACK;
	case '-':
		return RSP_NACK;
	default:
		/* Noise between packets is ignored, as gdb's own stubs do. */
		return RSP_NONE;
	}
}

enum rsp_event rsp_feed(struct rsp_reader *r, uint8_t c)
{
	int d;

	switch (r->state) {
	case RSP_IDLE:
		return idle_byte(r, c);
	case RSP_BODY:
		if (c == '#') {
			r->state = RSP_SUM1;
			return RSP_NONE;
		}
		if (c == '$') {
			/* A new packet inside one: the first was cut off. */
			r->len = 0;
			r->sum = 0;
			r->overflow = false;
			return RSP_NONE;
		}
		r->sum = (uint8_t)(r->sum + c);
		if (r->len < RSP_MAX_PACKET)
			r->buf[r->len++] = (char)c;
		else
			r->overflow = true;
		return RSP_NONE;
	case RSP_SUM1:
		d = hex_digit(c);
		r->given = (uint8_t)((d < 0 ? 0 : d) << 4);
		r->state = d < 0 ? RSP_IDLE : RSP_SUM2;
		return d < 0 ? RSP_BAD_CHECKSUM : RSP_NONE;
	case RSP_SUM2:
		d = hex_digit(c);
		r->state = RSP_IDLE;
		r->buf[r->len] = 0;
		if (d < 0 || (uint8_t)(r->given | d) != r->sum)
			return RSP_BAD_CHECKSUM;
		return r->overflow ? RSP_TOO_LONG : RSP_PACKET;
	}
	r->state = RSP_IDLE;
	return RSP_NONE;
}

void rsp_frame(struct strbuf *out, const void *payload, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = payload;
	uint8_t sum = 0;
	char tail[3];

	sb_add(out, "$", 1);
	for (size_t i = 0; i < len; i++) {
		char c = (char)p[i], esc[2] = { '}', (char)(p[i] ^ 0x20) };

		if (c == '#' || c == '$' || c == '}' || c == '*') {
			sb_add(out, esc, 2);
			sum = (uint8_t)(sum + (uint8_t)esc[0] + (uint8_t)esc[1]);
		} else {
			sb_add(out, &c, 1);
			sum = (uint8_t)(sum + p[i]);
		}
	}
	tail[0] = '#';
	tail[1] = hex[sum >> 4];
	tail[2] = hex[sum & 15];
	sb_add(out, tail, 3);
}

size_t rsp_unescape(char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '}' && i + 1 < len)
			buf[o++] = (char)(buf[++i] ^ 0x20);
		else
			buf[o++] = buf[i];
	}
	return o;
}

long hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen)
{
	if (hexlen % 2 || hexlen / 2 > outlen)
		return -1;
	for (size_t i = 0; i < hexlen / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(hexlen / 2);
}

void hex_encode(struct strbuf *sb, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	char chunk[256];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		chunk[n++] = hex[p[i] >> 4];
		chunk[n++] = hex[p[i] & 15];
		if (n == sizeof(chunk)) {
			sb_add(sb, chunk, n);
			n = 0;
		}
	}
	if (n)
		sb_add(sb, chunk, n);
}

bool hex_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;
	int d;

	while ((d = hex_digit((unsigned char)s[n])) >= 0) {
		if (v >> 60)
			return false;
		v = v << 4 | (unsigned)d;
		n++;
	}
	if (!n)
		return false;
	*out = v;
	if (end)
		*end = s + n;
	return true;
}
