/* Host-side decompression of bzImage payloads, without KVM: a synthetic
 * bzImage per format (compressed here with the same libraries), decoded
 * back byte for byte; the cache; corrupt and truncated payloads refused. */
#include <bzlib.h>
#include <lz4.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "check.h"
#include "loader/loader.h"

#define PLAIN_SIZE (300 * 1024)
#define SETUP_SECTS 4

static uint8_t plain[PLAIN_SIZE];
static uint8_t *image;
static size_t image_size;
static char err[256], note[256];

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Setup sectors, then the payload (with the uncompressed size appended,
 * as the kernel build does). */
static void make_bzimage(const uint8_t *payload, size_t n)
{
	size_t start = (SETUP_SECTS + 1) * 512;

	free(image);
	image_size = start + n + 4;
	image = calloc(1, image_size);
	image[0x1f1] = SETUP_SECTS;
	image[0x1fe] = 0x55;
	image[0x1ff] = 0xaa;
	memcpy(image + 0x202, "HdrS", 4);
	image[0x206] = 0x0f;                 /* boot protocol 2.15 */
	image[0x207] = 0x02;
	put32(image + 0x248, 0);
	put32(image + 0x24c, (uint32_t)n + 4);
	memcpy(image + start, payload, n);
	put32(image + start + n, PLAIN_SIZE);
}

static size_t compress_lz4(uint8_t *out, size_t cap)
{
	/* Legacy frame: magic, then blocks of [size][data]. */
	size_t o = 4;

	put32(out, 0x184c2102u);
	for (size_t i = 0; i < PLAIN_SIZE; i += 128 * 1024) {
		int n = PLAIN_SIZE - i < 128 * 1024 ? (int)(PLAIN_SIZE - i) : 128 * 1024;
		int c = LZ4_compress_default((const char *)plain + i, (char *)out + o + 4, n,
					     (int)(cap - o - 4));

		put32(out + o, (uint32_t)c);
		o += 4 + (size_t)c;
	}
	return o;
}

static size_t compress_gzip(uint8_t *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	z.next_in = plain;
	z.avail_in = PLAIN_SIZE;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return z.total_out;
}

static size_t compress_xz(uint8_t *out, size_t cap, bool alone)
{
	size_t pos = 0;
	lzma_options_lzma opt;

	if (!alone) {
		lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, plain, PLAIN_SIZE, out, &pos, cap);
		return pos;
	}
	{
		lzma_stream s = LZMA_STREAM_INIT;

		lzma_lzma_preset(&opt, 6);
		if (lzma_alone_encoder(&s, &opt) != LZMA_OK)
			return 0;
		s.next_in = plain;
		s.avail_in = PLAIN_SIZE;
		s.next_out = out;
		s.avail_out = cap;
		pos = lzma_code(&s, LZMA_FINISH) == LZMA_STREAM_END ? s.total_out : 0;
		lzma_end(&s);
	}
	return pos;
}

static size_t compress_format(const char *fmt, uint8_t *out, size_t cap)
{
	unsigned int len = (unsigned int)cap;

	if (!strcmp(fmt, "lz4"))
		return compress_lz4(out, cap);
	if (!strcmp(fmt, "gzip"))
		return compress_gzip(out, cap);
	if (!strcmp(fmt, "xz"))
		return compress_xz(out, cap, false);
	if (!strcmp(fmt, "lzma"))
		return compress_xz(out, cap, true);
	if (!strcmp(fmt, "zstd"))
		return ZSTD_compress(out, cap, plain, PLAIN_SIZE, 19);
	BZ2_bzBuffToBuffCompress((char *)out, &len, (char *)plain, PLAIN_SIZE, 9, 0, 0);
	return len;
}

static void round_trip(const char *fmt)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	struct blob bz, out;
	size_t n = compress_format(fmt, buf, sizeof(buf));
	char want[64];

	CHECK(n > 0 && n < PLAIN_SIZE);
	make_bzimage(buf, n);
	bz = (struct blob){ "test.bzImage", image, image_size, false, -1 };
	CHECK_EQ(bzimage_decompress(&bz, NULL, &out, note, sizeof(note), err, sizeof(err)), 0);
	CHECK_EQ(out.size, PLAIN_SIZE);
	CHECK(!memcmp(out.data, plain, PLAIN_SIZE));
	snprintf(want, sizeof(want), "payload (%s) decompressed", fmt);
	CHECK_CONTAINS(note, want);
	blob_free(&out);
	/* Corrupt the middle of the stream: refused, nothing returned. */
	image[(SETUP_SECTS + 1) * 512 + n / 2] ^= 0x5a;
	image[(SETUP_SECTS + 1) * 512 + n / 2 + 1] ^= 0xa5;
	if (bzimage_decompress(&bz, NULL, &out, note, sizeof(note), err, sizeof(err)) == 0) {
		/* A flipped byte in a literal run can decode "fine": then the
		 * output must at least differ from the original. */
		CHECK(memcmp(out.data, plain, PLAIN_SIZE) != 0);
		blob_free(&out);
	} else {
		CHECK(!out.data);
	}
}

static void lz4_legacy(void) { round_trip("lz4"); }
static void gzip_payload(void) { round_trip("gzip"); }
static void xz_payload(void) { round_trip("xz"); }
static void lzma_payload(void) { round_trip("lzma"); }
static void zstd_payload(void) { round_trip("zstd"); }
static void bzip2_payload(void) { round_trip("bzip2"); }

static void cache_reused(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	char dir[64];
	struct blob bz, out;

	snprintf(dir, sizeof(dir), "/tmp/shrike-cache-test-%d/a", getpid());
	make_bzimage(buf, compress_format("gzip", buf, sizeof(buf)));
	bz = (struct blob){ "test.bzImage", image, image_size, false, -1 };
	CHECK_EQ(bzimage_decompress(&bz, dir, &out, note, sizeof(note), err, sizeof(err)), 0);
	CHECK_CONTAINS(note, "cached at");
	CHECK(out.mapped);
	blob_free(&out);
	CHECK_EQ(bzimage_decompress(&bz, dir, &out, note, sizeof(note), err, sizeof(err)), 0);
	CHECK_CONTAINS(note, "taken from the cache");
	CHECK(out.size == PLAIN_SIZE && !memcmp(out.data, plain, PLAIN_SIZE));
	blob_free(&out);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf /tmp/shrike-cache-test-%d", getpid());
		CHECK_EQ(system(cmd), 0);
	}
}

static void malformed_refused(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	struct blob bz, out;
	size_t n = compress_format("xz", buf, sizeof(buf));

	make_bzimage(buf, n);
	bz = (struct blob){ "test.bzImage", image, image_size - 100, false, -1 };   /* truncated */
	CHECK(bzimage_decompress(&bz, NULL, &out, note, sizeof(note), err, sizeof(err)) != 0);
	CHECK_CONTAINS(err, "payload missing or truncated");
	make_bzimage((const uint8_t *)"not compressed at all", 21);
	bz = (struct blob){ "test.bzImage", image, image_size, false, -1 };
	CHECK(bzimage_decompress(&bz, NULL, &out, note, sizeof(note), err, sizeof(err)) != 0);
	CHECK_CONTAINS(err, "unknown compression");
	make_bzimage(buf, n / 2);                                                  /* cut stream */
	bz = (struct blob){ "test.bzImage", image, image_size, false, -1 };
	CHECK(bzimage_decompress(&bz, NULL, &out, note, sizeof(note), err, sizeof(err)) != 0);
	CHECK_CONTAINS(err, "corrupt xz payload");
}

int main(void)
{
	uint64_t x = 12345;

	/* Compressible but not trivial: text-like runs with noise. */
	for (size_t i = 0; i < PLAIN_SIZE; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		plain[i] = (x >> 60) < 12 ? (uint8_t)('a' + (i / 7) % 26) : (uint8_t)(x >> 33);
	}
	RUN(lz4_legacy);
	RUN(gzip_payload);
	RUN(xz_payload);
	RUN(lzma_payload);
	RUN(zstd_payload);
	RUN(bzip2_payload);
	RUN(cache_reused);
	RUN(malformed_refused);
	free(image);
	return check_failures ? 1 : 0;
}
