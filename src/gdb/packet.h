/*
 * The GDB remote serial protocol's framing: `$payload#cs` packets with a
 * modulo-256 checksum, `+`/`-` acknowledgements (until no-ack mode), the
 * 0x03 interrupt byte, and the `}` escape of binary data.  No I/O here: the
 * reader is fed bytes, the writer fills a buffer, so that the fuzzer and
 * the unit tests drive them directly.
 */
#ifndef SHRIKE_GDB_PACKET_H
#define SHRIKE_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* The largest payload accepted (and announced as PacketSize). */
#define RSP_MAX_PACKET 16384

enum rsp_event {
	RSP_NONE,                  /* need more bytes */
	RSP_PACKET,                /* a whole packet with a good checksum */
	RSP_BAD_CHECKSUM,          /* a whole packet, checksum wrong: NAK it */
	RSP_TOO_LONG,              /* a whole packet longer than RSP_MAX_PACKET */
	RSP_INTERRUPT,             /* 0x03 outside a packet */
	RSP_ACK,
	RSP_NACK,
};

struct rsp_reader {
	enum { RSP_IDLE, RSP_BODY, RSP_SUM1, RSP_SUM2 } state;
	char buf[RSP_MAX_PACKET + 1];  /* the payload, NUL-terminated, escapes kept */
	size_t len;
	bool overflow;
	uint8_t sum;
	uint8_t given;
};

void rsp_reader_init(struct rsp_reader *r);
/* Feeds one byte; on RSP_PACKET the payload is r->buf (r->len bytes). */
enum rsp_event rsp_feed(struct rsp_reader *r, uint8_t c);

/* Appends `$payload#cs` to out, escaping `#`, `$`, `}` and `*`. */
void rsp_frame(struct strbuf *out, const void *payload, size_t len);

/* Undoes `}` escapes in place; returns the new length. */
size_t rsp_unescape(char *buf, size_t len);

/* Hex helpers.  hex_decode returns the bytes decoded, or -1 on a bad digit
 * or an odd length. */
long hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen);
void hex_encode(struct strbuf *sb, const void *data, size_t len);
/* A hexadecimal number (no prefix), at most 16 digits; *end is set past it.
 * false if there is no digit or it overflows. */
bool hex_u64(const char *s, const char **end, uint64_t *out);

#endif
