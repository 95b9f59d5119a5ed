/* See safedir.h.  The walk opens each component with O_NOFOLLOW relative
 * to the one before, so what is checked is what is used: a component
 * swapped for a link after the check is not followed either. */
#include "base/safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

#define MAX_LINKS 40           /* the kernel's own limit on a path's links */

struct walk {
	unsigned links;
	char *err;
	size_t errlen;
};

static int walk_from(struct walk *w, int at, const char *path);

/* A link: followed if root or this user owns it, from the directory it is
 * in (`at`). */
static int follow(struct walk *w, int at, int linkfd, const struct stat *st, const char *name)
{
	char target[4096];
	ssize_t n;

	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		err_set(w->err, w->errlen, "%s is a link made by another user (uid %u): not "
			"followed", name, (unsigned)st->st_uid);
		return -1;
	}
	if (++w->links > MAX_LINKS) {
		err_set(w->err, w->errlen, "%s: too many links", name);
		return -1;
	}
	n = readlinkat(linkfd, "", target, sizeof(target) - 1);
	if (n < 0) {
		err_set(w->err, w->errlen, "cannot read the link %s: %s", name, strerror(errno));
		return -1;
	}
	target[n] = 0;
	return walk_from(w, at, target);
}

/* One component from `at` (which it does not close). */
static int step(struct walk *w, int at, const char *name)
{
	int fd = openat(at, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int next;

	if (fd < 0 || fstat(fd, &st) < 0) {
		err_set(w->err, w->errlen, "cannot open %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return fd;
	if (!S_ISLNK(st.st_mode)) {
		err_set(w->err, w->errlen, "%s is not a directory", name);
		close(fd);
		return -1;
	}
	next = follow(w, at, fd, &st, name);
	close(fd);
	return next;
}

/* Walks path from the directory `at` (not closed); returns a new fd. */
static int walk_from(struct walk *w, int at, const char *path)
{
	char *copy = strdup(path), *save = NULL;
	int fd = -1;

	if (!copy) {
		err_set(w->err, w->errlen, "out of memory");
		return -1;
	}
	fd = openat(at, path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err_set(w->err, w->errlen, "cannot open %s: %s", path, strerror(errno));
	for (char *c = strtok_r(copy, "/", &save); c && fd >= 0; c = strtok_r(NULL, "/", &save)) {
		int next = step(w, fd, c);

		close(fd);
		fd = next;
	}
	free(copy);
	return fd;
}

int safedir_open(const char *dir, char *err, size_t errlen)
{
	struct walk w = { 0, err, errlen };

	return walk_from(&w, AT_FDCWD, dir);
}

const char *path_dir(const char *path, size_t len, char *buf, size_t buflen)
{
	const char *slash = memrchr(path, '/', len);
	size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
	int w = slash ? snprintf(buf, buflen, "%.*s", (int)n, path) : snprintf(buf, buflen, ".");

	return w < 0 || (size_t)w >= buflen ? NULL : buf;
}
