/*
 * The cache of kernels decompressed on the host (loader/decompress.c).
 *
 * Keyed by the SHA-256 of the whole bzImage: no other image can claim an
 * entry (a fast hash such as FNV-1a can be forged in a fraction of a
 * second).  The directory is created 0700 and used only if it is owned by
 * the user and not writable by others; entries are opened with O_NOFOLLOW
 * relative to the directory and used only if they are regular files owned
 * by the user, not writable by others, of the right size, with a header
 * that repeats the image's hash and the decompressed size.  New entries
 * are written to an unnamed temporary file (a named one, created
 * exclusively, where the file system has no O_TMPFILE: overlayfs, NFS),
 * linked under a fresh name and renamed into place only after the payload
 * validated.  The cache is
 * bounded: the least recently used entries go first.
 *
 * Entry layout: one 4 KiB header page, then the payload (so that it can be
 * mapped at a page-aligned offset).
 */
#ifndef SHRIKE_KCACHE_H
#define SHRIKE_KCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"

#define KCACHE_HEADER        4096
#define KCACHE_MAX_BYTES     (1ull << 30)
#define KCACHE_MAX_ENTRIES   8

struct kcache {
	int dirfd;                 /* -1: no cache */
	char why[160];             /* why the cache is off (for --stats) */
	char tmpname[64];          /* the new entry's temporary name, where the
				    * file system has no O_TMPFILE ("" if unnamed) */
};

/* Opens (creating it 0700) and checks the directory.  Never fails: a
 * directory that cannot be used leaves the cache off, with the reason. */
void kcache_open(struct kcache *c, const char *dir);
void kcache_close(struct kcache *c);

/* The fd of a valid entry for (key, size), its use time updated, or -1. */
int kcache_lookup(struct kcache *c, const uint8_t key[DIGEST_SIZE], uint64_t size);

/* A new file in the cache directory, unnamed where it can be (or -1);
 * kcache_close removes it if it was named and never committed. */
int kcache_tmpfile(struct kcache *c);

/* Writes the header into the first page of fd (already sized
 * KCACHE_HEADER + size) and gives the file its name; then evicts.
 * Returns 0 or -1. */
int kcache_commit(struct kcache *c, int fd, const uint8_t key[DIGEST_SIZE], uint64_t size);

/* The entry's file name for a key: "vmlinux-<64 hex digits>". */
void kcache_name(const uint8_t key[DIGEST_SIZE], char out[80]);

#endif
