/*
 * Host-side decompression of a bzImage's payload, so that the kernel boots
 * through PVH without running its own decompressor (which KVM back-ends
 * that emulate every CPL 0 instruction take a minute over).
 *
 * The payload starts at (setup_sects + 1) * 512 + payload_offset and is
 * payload_length bytes long (setup header 0x248/0x24c, boot protocol
 * 2.08+); its last four bytes are the uncompressed size (the kernel build's
 * size_append, which its own decompressor relies on too).  Formats, by
 * magic: LZ4 legacy frames, gzip, xz, zstd, bzip2, lzma; Debian's liblz4,
 * zlib, liblzma, libzstd and libbz2 do the work.
 *
 * The result is cached under the cache directory by a hash of the whole
 * bzImage (FNV-1a 64 and the size): a second start reads it back.
 */
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/log.h"
#include "loader/loader.h"

#define MAX_KERNEL (1ull << 30)
#define LZ4_LEGACY_MAGIC 0x184c2102u
#define LZ4_LEGACY_BLOCK (8u << 20)


static const char *format_of(const uint8_t *p, size_t n)
{
	if (n >= 4 && le32(p) == LZ4_LEGACY_MAGIC) return "lz4";
	if (n >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e)) return "gzip";
	if (n >= 6 && !memcmp(p, "\xfd" "7zXZ\0", 6)) return "xz";
	if (n >= 4 && le32(p) == 0xfd2fb528u) return "zstd";
	if (n >= 3 && !memcmp(p, "BZh", 3)) return "bzip2";
	if (n >= 3 && p[0] == 0x5d && p[1] == 0 && p[2] == 0) return "lzma";
	return NULL;
}

static int unlz4(const uint8_t *in, size_t n, uint8_t *out, size_t out_len, size_t *done)
{
	size_t pos = 4, o = 0;

	while (pos + 4 <= n) {
		uint32_t csize = le32(in + pos);
		int r;

		if (csize == LZ4_LEGACY_MAGIC) {      /* concatenated frames */
			pos += 4;
			continue;
		}
		if (csize > n - pos - 4)             /* the trailing size: done */
			break;
		pos += 4;
		r = LZ4_decompress_safe((const char *)in + pos, (char *)out + o, (int)csize,
					(int)(out_len - o < LZ4_LEGACY_BLOCK ? out_len - o : LZ4_LEGACY_BLOCK));
		if (r < 0)
			return -1;
		o += (size_t)r;
		pos += csize;
	}
	*done = o;
	return 0;
}

static int ungzip(const uint8_t *in, size_t n, uint8_t *out, size_t out_len, size_t *done)
{
	z_stream zs;
	int r;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)out_len;
	r = inflate(&zs, Z_FINISH);
	*done = zs.total_out;
	inflateEnd(&zs);
	return r == Z_STREAM_END ? 0 : -1;
}

static int unxz(const uint8_t *in, size_t n, uint8_t *out, size_t out_len, size_t *done,
		bool alone)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = alone ? lzma_alone_decoder(&s, UINT64_MAX)
			   : lzma_stream_decoder(&s, UINT64_MAX, 0);

	if (r != LZMA_OK)
		return -1;
	s.next_in = in;
	s.avail_in = n;
	s.next_out = out;
	s.avail_out = out_len;
	r = lzma_code(&s, LZMA_FINISH);
	*done = s.total_out;
	lzma_end(&s);
	/* Single stream: the size word the kernel build appends follows it. */
	return r == LZMA_STREAM_END || (alone && *done == out_len) ? 0 : -1;
}

static int unzstd(const uint8_t *in, size_t n, uint8_t *out, size_t out_len, size_t *done)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, n, 0 };
	ZSTD_outBuffer ob = { out, out_len, 0 };
	size_t r = 1;

	if (!dc)
		return -1;
	while (r != 0 && ib.pos < ib.size && ob.pos < ob.size) {
		r = ZSTD_decompressStream(dc, &ob, &ib);
		if (ZSTD_isError(r))
			break;
	}
	ZSTD_freeDCtx(dc);
	*done = ob.pos;
	return ZSTD_isError(r) ? -1 : 0;
}

static int unbzip2(const uint8_t *in, size_t n, uint8_t *out, size_t out_len, size_t *done)
{
	unsigned int len = (unsigned int)out_len;
	int r = BZ2_bzBuffToBuffDecompress((char *)out, &len, (char *)(uintptr_t)in, (unsigned)n, 0, 0);

	*done = len;
	return r == BZ_OK ? 0 : -1;
}

static int decode(const char *fmt, const uint8_t *in, size_t n, uint8_t *out, size_t out_len,
		  size_t *done)
{
	if (!strcmp(fmt, "lz4")) return unlz4(in, n, out, out_len, done);
	if (!strcmp(fmt, "gzip")) return ungzip(in, n, out, out_len, done);
	if (!strcmp(fmt, "xz")) return unxz(in, n, out, out_len, done, false);
	if (!strcmp(fmt, "lzma")) return unxz(in, n, out, out_len, done, true);
	if (!strcmp(fmt, "zstd")) return unzstd(in, n, out, out_len, done);
	return unbzip2(in, n, out, out_len, done);
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static bool cache_read(const char *path, struct blob *out)
{
	char err[64];

	if (access(path, R_OK))
		return false;
	return blob_read(out, path, err, sizeof(err)) == 0;
}

/* mkdir -p */
static void make_dirs(const char *dir)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

/* Best effort: a cache that cannot be written costs the next start time,
 * nothing else. */
static bool cache_write(const char *dir, const char *path, const struct blob *b)
{
	char tmp[4200];
	FILE *f;
	bool ok;

	make_dirs(dir);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, getpid());
	f = fopen(tmp, "we");
	if (!f)
		return false;
	ok = fwrite(b->data, 1, b->size, f) == b->size;
	ok = fclose(f) == 0 && ok;
	if (ok && rename(tmp, path) == 0)
		return true;
	unlink(tmp);
	return false;
}

int bzimage_decompress(const struct blob *bz, const char *cache_dir, struct blob *out, char *note,
		       size_t notelen, char *err, size_t errlen)
{
	const uint8_t *d = bz->data;
	unsigned setup_sects = d[0x1f1] ? d[0x1f1] : 4;
	uint64_t start = (uint64_t)(setup_sects + 1) * 512 + le32(d + 0x248);
	uint32_t plen = le32(d + 0x24c), out_len;
	char path[4096] = "";
	const char *fmt;
	uint64_t t0 = now_ns();
	size_t done = 0;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if ((d[0x206] | d[0x207] << 8) < 0x0208 || plen < 8 || start > bz->size ||
	    plen > bz->size - start) {
		err_set(err, errlen, "%s: bzImage payload missing or truncated (offset %llu, %u bytes)",
			bz->path, (unsigned long long)start, plen);
		return -1;
	}
	fmt = format_of(d + start, plen);
	if (!fmt) {
		err_set(err, errlen, "%s: unknown compression of the bzImage payload", bz->path);
		return -1;
	}
	if (cache_dir) {
		snprintf(path, sizeof(path), "%s/vmlinux-%016llx-%zu", cache_dir,
			 (unsigned long long)fnv1a64(d, bz->size), bz->size);
		blob_drop_pages(bz);   /* hashing touched all of it */
		if (cache_read(path, out)) {
			out->path = bz->path;
			snprintf(note, notelen, "bzImage payload (%s) taken from the cache %s", fmt, path);
			return 0;
		}
	}
	out_len = le32(d + start + plen - 4);
	if (out_len == 0 || out_len > MAX_KERNEL || !(out->data = malloc(out_len))) {
		err_set(err, errlen, "%s: implausible decompressed size %u", bz->path, out_len);
		return -1;
	}
	if (decode(fmt, d + start, plen, out->data, out_len, &done) || done != out_len) {
		err_set(err, errlen, "%s: corrupt %s payload (%zu of %u bytes decompressed)", bz->path,
			fmt, done, out_len);
		blob_free(out);
		return -1;
	}
	out->size = out_len;
	out->path = bz->path;
	blob_drop_pages(bz);
	{
		unsigned long long ms = (now_ns() - t0) / 1000000;
		bool cached = cache_dir && cache_write(cache_dir, path, out);
		struct blob mapped;

		/* Swap the heap copy for a mapping of the cache file: its pages
		 * can then leave shrike's memory once the guest has its copy. */
		if (cached && cache_read(path, &mapped)) {
			blob_free(out);
			*out = mapped;
			out->path = bz->path;
		}

		snprintf(note, notelen, "bzImage payload (%s) decompressed on the host in %llu ms, %s%s",
			 fmt, ms, cached ? "cached at " : "not cached", cached ? path : "");
	}
	return 0;
}
