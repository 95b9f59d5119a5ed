/*
 * libFuzzer target: the host-side decompressors (LZ4 legacy, gzip, xz,
 * zstd, bzip2, lzma) behind a bzImage header, with the output bounded as
 * the loader bounds it.  The first byte picks the format's magic, the next
 * three the size the image claims (at most 1 MiB).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool any(const uint8_t *p, size_t n)
{
	(void)p, (void)n;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		const char *magic;
		size_t len;
	} formats[] = {
		{ "\x02\x21\x4c\x18", 4 }, { "\x1f\x8b", 2 }, { "\xfd" "7zXZ\0", 6 },
		{ "\x28\xb5\x2f\xfd", 4 }, { "BZh", 3 }, { "\x5d\x00\x00", 3 },
	};
	struct blob bz = { .path = "fuzz", .fd = -1, .user_fd = -1 }, out;
	char note[256], err[512];
	size_t mlen, plen, at = 1024;
	uint32_t claimed;
	uint8_t *d;

	if (size < 4)
		return 0;
	mlen = formats[data[0] % 6].len;
	claimed = (uint32_t)(data[1] | data[2] << 8 | (data[3] & 0x0f) << 16);
	plen = mlen + (size - 4) + 4;
	bz.size = at + plen;
	d = bz.data = calloc(1, bz.size);
	if (!d)
		return 0;
	d[0x1f1] = 1;                       /* setup_sects: the payload at 1024 */
	memcpy(d + 0x202, "HdrS", 4);
	d[0x206] = 0x0f;
	d[0x207] = 0x02;                    /* boot protocol 2.15 */
	put_le32(d + 0x248, 0);
	put_le32(d + 0x24c, (uint32_t)plen);
	memcpy(d + at, formats[data[0] % 6].magic, mlen);
	memcpy(d + at + mlen, data + 4, size - 4);
	put_le32(d + at + plen - 4, claimed);
	if (bzimage_decompress(&bz, NULL, 1u << 20, any, &out, note, sizeof(note), err,
			       sizeof(err)) == 0)
		blob_free(&out);
	blob_free(&bz);
	return 0;
}
