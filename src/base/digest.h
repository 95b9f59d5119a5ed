/* SHA-256 (Debian's libnettle): image identities, the kernel cache key,
 * snapshot checksums. */
#ifndef SHRIKE_DIGEST_H
#define SHRIKE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#define DIGEST_SIZE SHA256_DIGEST_SIZE

struct digest_ctx {
	struct sha256_ctx sha;
};

void digest_init(struct digest_ctx *c);
void digest_update(struct digest_ctx *c, const void *data, size_t n);
void digest_final(struct digest_ctx *c, uint8_t out[DIGEST_SIZE]);
void digest(const void *data, size_t n, uint8_t out[DIGEST_SIZE]);
/* Lower-case hex of a digest into out (2 * DIGEST_SIZE + 1 bytes). */
void digest_hex(const uint8_t d[DIGEST_SIZE], char *out);

#endif
