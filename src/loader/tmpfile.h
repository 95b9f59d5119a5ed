/*
 * Temporary files that work on every file system a user keeps kernels on.
 *
 * O_TMPFILE is missing on overlayfs before Linux 6.6, on NFS and 9p;
 * copy_file_range gives EXDEV between two file systems (and between two
 * of one type on kernels before 5.19).  Containers (overlay roots) and
 * network home directories are ordinary places for kernels and caches, so
 * each of these has a fallback here.
 */
#ifndef SHRIKE_TMPFILE_H
#define SHRIKE_TMPFILE_H

#include <stddef.h>
#include <stdint.h>

/* A new file in the directory dirfd, mode 0600: unnamed (O_TMPFILE) where
 * the file system allows it, name[0] = 0; else a fresh name ".tmp-PID-N"
 * created exclusively (no link followed), written to name (the caller
 * renames or unlinks it).  Returns the fd, or -1 with errno. */
int tmpfile_in(int dirfd, char *name, size_t namelen);

/* Copies size bytes from the start of in to the start of out: by
 * copy_file_range where the kernel can, else by read and write.  Returns 0,
 * or -1 with errno (EIO when in is shorter than size). */
int copy_whole_file(int in, int out, uint64_t size);

#endif
