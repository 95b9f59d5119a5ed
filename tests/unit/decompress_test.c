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
#include <sys/stat.h>

#include "base/log.h"
#include "loader/kcache.h"
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

static struct blob image_blob(size_t size)
{
	return (struct blob){ .path = "test.bzImage", .data = image, .size = size, .fd = -1 };
}

/* Decompresses `image` (its first `size` bytes), 1 GiB of guest RAM. */
static int dec(size_t size, const char *cache_dir, struct blob *out)
{
	struct blob bz = image_blob(size);

	return bzimage_decompress(&bz, cache_dir, 1ull << 30, NULL, out, note, sizeof(note), err,
				  sizeof(err));
}

static void round_trip(const char *fmt)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	struct blob out;
	size_t n = compress_format(fmt, buf, sizeof(buf));
	char want[64];

	CHECK(n > 0 && n < PLAIN_SIZE);
	make_bzimage(buf, n);
	CHECK_EQ(dec(image_size, NULL, &out), 0);
	CHECK_EQ(out.size, PLAIN_SIZE);
	CHECK(!memcmp(out.data, plain, PLAIN_SIZE));
	snprintf(want, sizeof(want), "payload (%s) decompressed", fmt);
	CHECK_CONTAINS(note, want);
	blob_free(&out);
	/* Corrupt the middle of the stream: refused, nothing returned. */
	image[(SETUP_SECTS + 1) * 512 + n / 2] ^= 0x5a;
	image[(SETUP_SECTS + 1) * 512 + n / 2 + 1] ^= 0xa5;
	if (dec(image_size, NULL, &out) == 0) {
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

static char cache_dir[128];

static void cache_setup(void)
{
	char cmd[192];

	snprintf(cache_dir, sizeof(cache_dir), "/tmp/shrike-cache-test-%d/c", getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/shrike-cache-test-%d", getpid());
	if (system(cmd)) {}
}

static void cache_reused(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	struct blob out;
	struct stat st;

	cache_setup();
	make_bzimage(buf, compress_format("gzip", buf, sizeof(buf)));
	CHECK_EQ(dec(image_size, cache_dir, &out), 0);
	CHECK_CONTAINS(note, "cached");
	CHECK(out.mapped && out.fd >= 0);
	blob_free(&out);
	CHECK_EQ(dec(image_size, cache_dir, &out), 0);
	CHECK_CONTAINS(note, "taken from the cache");
	CHECK(out.size == PLAIN_SIZE && !memcmp(out.data, plain, PLAIN_SIZE));
	blob_free(&out);
	/* The directory was made private. */
	CHECK_EQ(stat(cache_dir, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0700);
}

/* FNV-1a 64, the old cache key. */
static uint64_t fnv1a(const uint8_t *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/*
 * Two 16-byte blocks that take FNV-1a 64 from `state` to the same state:
 * short vectors d of the lattice {d : sum d_i P^(16-i) = 0 mod 2^64} (LLL-
 * reduced, from the security review) turned into bytes.
 */
static bool fnv_collision(uint64_t state, uint8_t a[16], uint8_t b[16])
{
	static const int8_t vec[][16] = {
		{ 2, -2, -5, 8, 7, 7, -3, -6, 0, -2, -9, -1, 4, -8, -1, 3 },
		{ 2, -5, -3, -5, 5, 1, -3, -6, 0, 6, 2, 6, -11, -4, 10, 1 },
		{ -2, 5, -6, -8, -2, -5, 5, -1, -1, 14, -4, -6, 1, -3, -2, -3 },
		{ 9, -6, -1, -4, -7, 0, -7, -2, 9, 11, -4, 9, 0, 7, 4, 0 },
		{ 2, -2, -2, -3, 7, 12, -1, -4, -7, -3, 3, -14, -3, -3, -12, 0 },
		{ 1, -6, 6, 0, 5, 4, -6, -3, -1, -6, 5, 4, 6, -9, -4, -4 },
	};
	for (size_t v = 0; v < sizeof(vec) / sizeof(vec[0]); v++) {
		for (int sign = 1; sign >= -1; sign -= 2) {
			uint64_t sa = state, sb = state;
			bool ok = true;

			for (int i = 0; i < 16 && ok; i++) {
				int t = sign * vec[v][i] + (int)(sa & 0xff) - (int)(sb & 0xff);
				int x = t >= 0 ? t : 0, xp = t >= 0 ? 0 : -t;

				ok = t >= -255 && t <= 255;
				a[i] = (uint8_t)((sa & 0xff) ^ (unsigned)x);
				b[i] = (uint8_t)((sb & 0xff) ^ (unsigned)xp);
				sa = (sa ^ a[i]) * 0x100000001b3ull;
				sb = (sb ^ b[i]) * 0x100000001b3ull;
			}
			if (ok && sa == sb && memcmp(a, b, 16))
				return true;
		}
	}
	return false;
}

/* An LZ4 legacy frame holding `n` bytes as one literal-only block. */
static size_t lz4_literals(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 8, rest = n - 15;

	put32(out, 0x184c2102u);
	out[o++] = 0xf0;
	for (; rest >= 255; rest -= 255)
		out[o++] = 255;
	out[o++] = (uint8_t)rest;
	memcpy(out + o, in, n);
	o += n;
	put32(out + 4, (uint32_t)(o - 8));
	return o;
}

/* Finding 1 of the security review: two images of the same size and the
 * same FNV-1a 64 hash (the old key) must each get their own payload. */
static void cache_key_not_forgeable(void)
{
	static uint8_t buf[PLAIN_SIZE + 4096];
	size_t start = (SETUP_SECTS + 1) * 512, n, at = 4000;
	uint8_t a[16], b[16], *first;
	struct blob out;

	cache_setup();
	memcpy(plain + at, "................", 16);
	n = lz4_literals(plain, PLAIN_SIZE, buf);
	make_bzimage(buf, n);
	/* The block sits in the literals: plain byte `at` is image byte
	 * start + literal offset + at. */
	{
		size_t lit = start + 8 + 1 + (PLAIN_SIZE - 15) / 255 + 1 + at;
		uint64_t state = fnv1a(image, lit, 0xcbf29ce484222325ull);

		CHECK(fnv_collision(state, a, b));
		memcpy(image + lit, a, 16);
		first = malloc(image_size);
		CHECK(first);
		memcpy(first, image, image_size);
		memcpy(image + lit, b, 16);
		CHECK_EQ(fnv1a(first, image_size, 0xcbf29ce484222325ull),
			 fnv1a(image, image_size, 0xcbf29ce484222325ull));
		CHECK(memcmp(first, image, image_size) != 0);
	}
	/* Image B first, into the cache; then image A must not get B's. */
	CHECK_EQ(dec(image_size, cache_dir, &out), 0);
	CHECK(!memcmp(out.data + at, b, 16));
	blob_free(&out);
	memcpy(image, first, image_size);
	free(first);
	CHECK_EQ(dec(image_size, cache_dir, &out), 0);
	CHECK(strstr(note, "taken from the cache") == NULL);
	CHECK(!memcmp(out.data + at, a, 16));
	blob_free(&out);
}

/* Finding 2: a link planted where the entry will go is replaced, never
 * followed; the image still decompresses. */
static void cache_planted_link_not_followed(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	char victim[256], link_path[320], name[80], cmd[400];
	uint8_t key[DIGEST_SIZE];
	struct blob out;
	FILE *f;
	struct stat st;

	cache_setup();
	make_bzimage(buf, compress_format("gzip", buf, sizeof(buf)));
	digest(image, image_size, key);
	kcache_name(key, name);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && chmod 700 %s", cache_dir, cache_dir);
	CHECK_EQ(system(cmd), 0);
	snprintf(victim, sizeof(victim), "%s/../victim", cache_dir);
	f = fopen(victim, "w");
	CHECK(f);
	fputs("precious\n", f);
	fclose(f);
	snprintf(link_path, sizeof(link_path), "%s/%s", cache_dir, name);
	CHECK_EQ(symlink(victim, link_path), 0);
	CHECK_EQ(dec(image_size, cache_dir, &out), 0);
	CHECK(!memcmp(out.data, plain, PLAIN_SIZE));
	blob_free(&out);
	CHECK_EQ(stat(victim, &st), 0);
	CHECK_EQ(st.st_size, 9);
	CHECK_EQ(lstat(link_path, &st), 0);
	CHECK(S_ISREG(st.st_mode));
}

/* A directory others can write to, or an entry that is not exactly what
 * shrike wrote, is not used. */
static void cache_refuses_untrusted(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	char cmd[400], name[80], path[320];
	uint8_t key[DIGEST_SIZE];
	struct blob out;
	FILE *f;

	cache_setup();
	make_bzimage(buf, compress_format("gzip", buf, sizeof(buf)));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && chmod 777 %s", cache_dir, cache_dir);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(dec(image_size, cache_dir, &out), 0);
	CHECK_CONTAINS(note, "writable by others");
	blob_free(&out);
	/* A private directory with a forged entry of the right name. */
	snprintf(cmd, sizeof(cmd), "chmod 700 %s", cache_dir);
	CHECK_EQ(system(cmd), 0);
	digest(image, image_size, key);
	kcache_name(key, name);
	snprintf(path, sizeof(path), "%s/%s", cache_dir, name);
	f = fopen(path, "w");
	CHECK(f);
	for (int i = 0; i < KCACHE_HEADER + PLAIN_SIZE; i++)
		fputc('X', f);
	fclose(f);
	chmod(path, 0600);
	CHECK_EQ(dec(image_size, cache_dir, &out), 0);
	CHECK(strstr(note, "taken from the cache") == NULL);
	CHECK(!memcmp(out.data, plain, PLAIN_SIZE));
	blob_free(&out);
}

/* Finding 7: the cache keeps at most KCACHE_MAX_ENTRIES entries, dropping
 * the least recently used. */
static void cache_bounded(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	struct blob out;
	char cmd[256];
	FILE *p;
	int count = -1;

	cache_setup();
	for (int i = 0; i < KCACHE_MAX_ENTRIES + 3; i++) {
		plain[0] = (uint8_t)i;
		make_bzimage(buf, compress_format("gzip", buf, sizeof(buf)));
		CHECK_EQ(dec(image_size, cache_dir, &out), 0);
		blob_free(&out);
	}
	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^vmlinux-'", cache_dir);
	p = popen(cmd, "r");
	CHECK(p);
	if (fscanf(p, "%d", &count) != 1)
		count = -1;
	pclose(p);
	plain[0] = 0;
	CHECK_EQ(count, KCACHE_MAX_ENTRIES);
}

/* Finding 7: a payload that claims more than the limit is refused before
 * anything is allocated; one that decodes beyond its claim is corrupt; an
 * LZMA header asking for a 4 GiB dictionary hits liblzma's memory limit. */
static void bombs_refused(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	static const uint8_t lzma_huge[] = { 0x5d, 0x00, 0x00, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00 };
	uint64_t t0 = now_ns();
	struct blob out;
	size_t n = compress_format("zstd", buf, sizeof(buf));

	make_bzimage(buf, n);
	put32(image + image_size - 4, 0x7fffffffu);        /* claims 2 GiB */
	CHECK(dec(image_size, NULL, &out) != 0);
	CHECK_CONTAINS(err, "implausible decompressed size");
	put32(image + image_size - 4, PLAIN_SIZE / 2);     /* claims half */
	CHECK(dec(image_size, NULL, &out) != 0);
	CHECK_CONTAINS(err, "corrupt zstd payload");
	make_bzimage(lzma_huge, sizeof(lzma_huge));
	put32(image + image_size - 4, 64u << 20);
	CHECK(dec(image_size, NULL, &out) != 0);
	CHECK_CONTAINS(err, "corrupt lzma payload");
	CHECK((now_ns() - t0) < 2000000000ull);
}

static void malformed_refused(void)
{
	static uint8_t buf[2 * PLAIN_SIZE];
	struct blob out;
	size_t n = compress_format("xz", buf, sizeof(buf));

	make_bzimage(buf, n);
	CHECK(dec(image_size - 100, NULL, &out) != 0);                              /* truncated */
	CHECK_CONTAINS(err, "payload missing or truncated");
	make_bzimage((const uint8_t *)"not compressed at all", 21);
	CHECK(dec(image_size, NULL, &out) != 0);
	CHECK_CONTAINS(err, "unknown compression");
	make_bzimage(buf, n / 2);                                                  /* cut stream */
	CHECK(dec(image_size, NULL, &out) != 0);
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
	RUN(cache_key_not_forgeable);
	RUN(cache_planted_link_not_followed);
	RUN(cache_refuses_untrusted);
	RUN(cache_bounded);
	RUN(bombs_refused);
	RUN(malformed_refused);
	cache_setup();
	rmdir(cache_dir);
	free(image);
	return check_failures ? 1 : 0;
}
