#include "loader/kcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "loader/loader.h"
#include "loader/tmpfile.h"

#define MAGIC "SHRIKE-KCACHE-1\n"   /* 16 bytes */
#define STALE_TMP_SEC 3600

/* Header: magic, the bzImage's SHA-256, the payload size (le64). */
struct header {
	char magic[16];
	uint8_t key[DIGEST_SIZE];
	uint8_t size[8];
};

static void off(struct kcache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Turns the cache off, with the reason. */
static void off(struct kcache *c, const char *fmt, ...)
{
	va_list ap;

	if (c->dirfd >= 0)
		close(c->dirfd);
	c->dirfd = -1;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* mkdir -p, creating missing components with mode 0700. */
static int make_dirs(const char *dir)
{
	char p[4096];
	int n = snprintf(p, sizeof(p), "%s", dir);

	if (n < 0 || (size_t)n >= sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void kcache_open(struct kcache *c, const char *dir)
{
	struct stat st;
	int r;

	c->dirfd = -1;
	c->why[0] = 0;
	c->tmpname[0] = 0;
	if (!dir) {
		snprintf(c->why, sizeof(c->why), "no cache directory (neither XDG_CACHE_HOME nor HOME)");
		return;
	}
	r = make_dirs(dir);
	if (r)
		return off(c, "cannot create %s: %s", dir, strerror(-r));
	/* The last component must not be a link someone else planted. */
	c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->dirfd < 0)
		return off(c, "cannot open %s: %s", dir, strerror(errno));
	if (fstat(c->dirfd, &st) < 0)
		return off(c, "cannot stat %s: %s", dir, strerror(errno));
	if (st.st_uid != geteuid())
		return off(c, "%s is not owned by this user", dir);
	if (st.st_mode & 022)
		return off(c, "%s is writable by others", dir);
}

void kcache_close(struct kcache *c)
{
	if (c->dirfd >= 0 && c->tmpname[0])
		unlinkat(c->dirfd, c->tmpname, 0);      /* a named new entry never committed */
	c->tmpname[0] = 0;
	if (c->dirfd >= 0)
		close(c->dirfd);
	c->dirfd = -1;
}

void kcache_name(const uint8_t key[DIGEST_SIZE], char out[80])
{
	char hex[2 * DIGEST_SIZE + 1];

	digest_hex(key, hex);
	snprintf(out, 80, "vmlinux-%s", hex);
}

static bool entry_ok(int fd, const uint8_t key[DIGEST_SIZE], uint64_t size)
{
	struct header h;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || (uint64_t)st.st_size != KCACHE_HEADER + size)
		return false;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return false;
	return !memcmp(h.magic, MAGIC, 16) && !memcmp(h.key, key, DIGEST_SIZE) && le64(h.size) == size;
}

int kcache_lookup(struct kcache *c, const uint8_t key[DIGEST_SIZE], uint64_t size)
{
	char name[80];
	int fd;

	if (c->dirfd < 0)
		return -1;
	kcache_name(key, name);
	fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (!entry_ok(fd, key, size)) {
		close(fd);
		return -1;
	}
	/* Mark it recently used (eviction goes by modification time). */
	futimens(fd, NULL);
	return fd;
}

int kcache_tmpfile(struct kcache *c)
{
	if (c->dirfd < 0)
		return -1;
	return tmpfile_in(c->dirfd, c->tmpname, sizeof(c->tmpname));
}

struct entry {
	char name[80];
	time_t mtime;
	uint64_t size;
};

static int by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Removes the least recently used entries beyond the bounds, and
 * temporary names that a crashed start left behind. */
static void evict(struct kcache *c)
{
	struct entry list[64];
	unsigned n = 0;
	uint64_t total = 0;
	int dfd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *e;
	time_t now = time(NULL);

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (fstatat(c->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!strncmp(e->d_name, ".tmp-", 5) && now - st.st_mtime > STALE_TMP_SEC) {
			unlinkat(c->dirfd, e->d_name, 0);
			continue;
		}
		if (strncmp(e->d_name, "vmlinux-", 8) || strlen(e->d_name) >= sizeof(list[0].name) ||
		    n == sizeof(list) / sizeof(list[0]))
			continue;
		snprintf(list[n].name, sizeof(list[n].name), "%s", e->d_name);
		list[n].mtime = st.st_mtime;
		list[n].size = (uint64_t)st.st_size;
		total += list[n].size;
		n++;
	}
	closedir(d);
	qsort(list, n, sizeof(list[0]), by_age);
	for (unsigned i = 0; i < n && (total > KCACHE_MAX_BYTES || n - i > KCACHE_MAX_ENTRIES); i++) {
		unlinkat(c->dirfd, list[i].name, 0);
		total -= list[i].size;
	}
}

int kcache_commit(struct kcache *c, int fd, const uint8_t key[DIGEST_SIZE], uint64_t size)
{
	static unsigned seq;
	struct header h;
	char name[80], tmp[64], proc[64];

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MAGIC, 16);
	memcpy(h.key, key, DIGEST_SIZE);
	put_le64(h.size, size);
	if (pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || fsync(fd) < 0)
		return -1;
	kcache_name(key, name);
	if (c->tmpname[0]) {
		/* A named new file (no O_TMPFILE here): it is ours, created
		 * exclusively; rename() replaces a planted link itself. */
		if (renameat(c->dirfd, c->tmpname, c->dirfd, name) < 0)
			return -1;
		c->tmpname[0] = 0;
		evict(c);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), ".tmp-%d-%u", (int)getpid(), seq++);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	/* link() never follows or replaces what is at the new name, and
	 * rename() replaces a planted link itself, not its target. */
	if (linkat(AT_FDCWD, proc, c->dirfd, tmp, AT_SYMLINK_FOLLOW) < 0)
		return -1;
	if (renameat(c->dirfd, tmp, c->dirfd, name) < 0) {
		unlinkat(c->dirfd, tmp, 0);
		return -1;
	}
	evict(c);
	return 0;
}
