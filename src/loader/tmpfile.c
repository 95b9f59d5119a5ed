#include "loader/tmpfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

/* Errors that mean "this file system has no O_TMPFILE", not "you may not". */
static bool no_tmpfile_support(int e)
{
	return e == EOPNOTSUPP || e == EISDIR || e == EINVAL;
}

int tmpfile_in(int dirfd, char *name, size_t namelen)
{
	static unsigned seq;
	int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	name[0] = 0;
	if (fd >= 0 || !no_tmpfile_support(errno))
		return fd;
	for (int tries = 0; tries < 100; tries++) {
		snprintf(name, namelen, ".tmp-%d-f%u", (int)getpid(),
			 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
		fd = openat(dirfd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		name[0] = 0;
	return fd;
}

/* Errors that mean "copy_file_range cannot do this pair", not a failed read. */
static bool no_copy_support(int e)
{
	return e == EXDEV || e == EINVAL || e == EOPNOTSUPP || e == ENOSYS || e == EBADF;
}

static int copy_by_reading(int in, int out, uint64_t from, uint64_t size)
{
	char buf[1 << 16];

	while (from < size) {
		size_t want = size - from < sizeof(buf) ? (size_t)(size - from) : sizeof(buf);
		ssize_t n = pread(in, buf, want, (off_t)from);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;        /* the file shrank meanwhile */
			return -1;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = pwrite(out, buf + done, (size_t)(n - done), (off_t)from + done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			done += w;
		}
		from += (uint64_t)n;
	}
	return 0;
}

int copy_whole_file(int in, int out, uint64_t size)
{
	off_t src = 0, dst = 0;

	while ((uint64_t)src < size) {
		ssize_t n = copy_file_range(in, &src, out, &dst, (size_t)(size - (uint64_t)src), 0);

		if (n < 0 && no_copy_support(errno))
			return copy_by_reading(in, out, (uint64_t)src, size);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;        /* the file shrank meanwhile */
			return -1;
		}
	}
	return 0;
}
