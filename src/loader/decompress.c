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
 * Decompression is bounded: the output by the size the image claims, which
 * must be below MAX_KERNEL and the guest's RAM, and the decoders' memory
 * (liblzma's memlimit; zstd's default window limit).  The output goes into
 * a file, never shrike's heap: a new entry of the cache (loader/kcache.h),
 * keyed by the SHA-256 of the whole bzImage, or a sealed memfd without a
 * cache; either is mapped read-only, and the pages leave shrike's memory
 * once the guest has its copy.  Only a payload that validated (a PVH
 * kernel) is cached.
 */
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "base/log.h"
#include "loader/kcache.h"
#include "loader/loader.h"

#define MAX_KERNEL (512ull << 20)
#define LZMA_MEMLIMIT (256ull << 20)
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
		if (csize > n - pos - 4 || csize > INT32_MAX)  /* the trailing size: done */
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
	/* A header can ask for a 4 GiB dictionary: bound what liblzma may
	 * allocate (a kernel's xz stream needs a few MiB). */
	lzma_ret r = alone ? lzma_alone_decoder(&s, LZMA_MEMLIMIT)
			   : lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0);

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
	/* r != 0: the frame goes on beyond the size the image claims. */
	return ZSTD_isError(r) || r != 0 ? -1 : 0;
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


/* Maps the payload of a cache entry or memfd (read-only, page-aligned
 * after the header page) as the output blob, which takes the fd. */
static int map_payload(int fd, uint64_t size, const char *path, struct blob *out)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, KCACHE_HEADER);

	if (p == MAP_FAILED)
		return -1;
	memset(out, 0, sizeof(*out));
	out->path = path;
	out->data = p;
	out->size = size;
	out->mapped = true;
	out->fd = fd;
	out->file_off = KCACHE_HEADER;
	/* As good as a pin: a sealed memfd, or an entry of the cache, a file
	 * shrike wrote in a directory only its user may write (kcache.c
	 * checks it), and whoever can rewrite it can ptrace shrike anyway.
	 * So a load does not hash the kernel's tens of MiB again. */
	out->pinned = true;
	return 0;
}

/* A file for the output: a new cache entry, or a memfd. */
static int output_file(struct kcache *c, uint64_t size, bool *cached)
{
	int fd = kcache_tmpfile(c);

	*cached = fd >= 0;
	if (fd < 0)
		fd = memfd_create("shrike-vmlinux", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && ftruncate(fd, (off_t)(KCACHE_HEADER + size)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Decompresses into fd; then, if the payload is valid and fd is a cache
 * entry, names it.  Returns 0, or -1 with a message. */
static int decompress_into(const struct blob *bz, const char *fmt, const uint8_t *in, size_t n,
			   uint64_t size, int fd, bool (*valid)(const uint8_t *, size_t),
			   bool *valid_out, char *err, size_t errlen)
{
	uint8_t *map = mmap(NULL, KCACHE_HEADER + size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	size_t done = 0;
	int r;

	if (map == MAP_FAILED) {
		err_set(err, errlen, "%s: cannot map %llu bytes for the decompressed kernel: %s",
			bz->path, (unsigned long long)size, strerror(errno));
		return -1;
	}
	r = decode(fmt, in, n, map + KCACHE_HEADER, size, &done);
	if (r || done != size) {
		err_set(err, errlen, "%s: corrupt %s payload (%zu of %llu bytes decompressed)",
			bz->path, fmt, done, (unsigned long long)size);
		munmap(map, KCACHE_HEADER + size);
		return -1;
	}
	*valid_out = !valid || valid(map + KCACHE_HEADER, size);
	munmap(map, KCACHE_HEADER + size);
	return 0;
}

int bzimage_decompress(const struct blob *bz, const char *cache_dir, uint64_t max_size,
		       bool (*valid)(const uint8_t *, size_t), struct blob *out, char *note,
		       size_t notelen, char *err, size_t errlen)
{
	const uint8_t *d = bz->data;
	unsigned setup_sects = d[0x1f1] ? d[0x1f1] : 4;
	uint64_t start = (uint64_t)(setup_sects + 1) * 512 + le32(d + 0x248), out_len;
	uint32_t plen = le32(d + 0x24c);
	uint8_t key[DIGEST_SIZE];
	struct kcache cache;
	const char *fmt;
	uint64_t t0 = now_ns();
	bool cached, ok = false;
	int fd;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if ((d[0x206] | d[0x207] << 8) < 0x0208 || plen < 8 || start > bz->size ||
	    plen > bz->size - start) {
		err_set(err, errlen, "%s: bzImage payload missing or truncated (offset %llu, %u bytes)",
			bz->path, (unsigned long long)start, plen);
		return -2;
	}
	fmt = format_of(d + start, plen);
	if (!fmt) {
		err_set(err, errlen, "%s: unknown compression of the bzImage payload", bz->path);
		return -2;
	}
	out_len = le32(d + start + plen - 4);
	if (max_size > MAX_KERNEL)
		max_size = MAX_KERNEL;
	if (out_len == 0 || out_len > max_size) {
		err_set(err, errlen, "%s: implausible decompressed size %llu (limit %llu MiB)", bz->path,
			(unsigned long long)out_len, (unsigned long long)(max_size >> 20));
		return -1;
	}
	kcache_open(&cache, cache_dir);
	if (cache.dirfd >= 0) {
		digest(d, bz->size, key);
		blob_drop_pages(bz);   /* hashing touched all of it */
		fd = kcache_lookup(&cache, key, out_len);
		if (fd >= 0 && map_payload(fd, out_len, bz->path, out) == 0) {
			snprintf(note, notelen, "bzImage payload (%s) taken from the cache", fmt);
			kcache_close(&cache);
			return 0;
		}
		if (fd >= 0)
			close(fd);
	}
	fd = output_file(&cache, out_len, &cached);
	if (fd < 0) {
		err_set(err, errlen, "%s: no file for the decompressed kernel: %s", bz->path,
			strerror(errno));
		kcache_close(&cache);
		return -1;
	}
	if (decompress_into(bz, fmt, d + start, plen, out_len, fd, valid, &ok, err, errlen)) {
		close(fd);
		kcache_close(&cache);
		return -1;
	}
	blob_drop_pages(bz);
	cached = cached && ok && kcache_commit(&cache, fd, key, out_len) == 0;
	if (!cached && cache.dirfd < 0 && cache.why[0])
		snprintf(note, notelen, "bzImage payload (%s) decompressed on the host in %llu ms, not "
			 "cached: %s", fmt, (unsigned long long)((now_ns() - t0) / 1000000), cache.why);
	else
		snprintf(note, notelen, "bzImage payload (%s) decompressed on the host in %llu ms, %s",
			 fmt, (unsigned long long)((now_ns() - t0) / 1000000),
			 cached ? "cached" : "not cached");
	kcache_close(&cache);
	if (!cached)
		fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	if (map_payload(fd, out_len, bz->path, out)) {
		err_set(err, errlen, "%s: cannot map the decompressed kernel: %s", bz->path,
			strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}
