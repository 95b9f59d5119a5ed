#include "base/digest.h"

void digest_init(struct digest_ctx *c)
{
	sha256_init(&c->sha);
}

void digest_update(struct digest_ctx *c, const void *data, size_t n)
{
	sha256_update(&c->sha, n, data);
}

void digest_final(struct digest_ctx *c, uint8_t out[DIGEST_SIZE])
{
	sha256_digest(&c->sha, DIGEST_SIZE, out);
}

void digest(const void *data, size_t n, uint8_t out[DIGEST_SIZE])
{
	struct digest_ctx c;

	digest_init(&c);
	digest_update(&c, data, n);
	digest_final(&c, out);
}

void digest_hex(const uint8_t d[DIGEST_SIZE], char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < DIGEST_SIZE; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * DIGEST_SIZE] = 0;
}
