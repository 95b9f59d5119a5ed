/* base/safedir: a client-named directory is opened through one's own and
 * the system's links, never through another user's (a link planted in a
 * shared directory), and the walk's other edges: files, loops, "..". */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "base/safedir.h"

static char root[64];
static char err[300];

static const char *at(const char *rel)
{
	static char buf[4][200];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
	return buf[i];
}

/* The directory the fd is, by its inode: the walk reached `want`. */
static bool same_dir(int fd, const char *want)
{
	struct stat a, b;

	return fd >= 0 && fstat(fd, &a) == 0 && stat(want, &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

static void safedir_own_links_followed(void)
{
	int fd = safedir_open(at("real/sub"), err, sizeof(err));

	CHECK(same_dir(fd, at("real/sub")));
	close(fd);
	fd = safedir_open(at("mine/sub"), err, sizeof(err));          /* mine -> real */
	CHECK(same_dir(fd, at("real/sub")));
	close(fd);
	fd = safedir_open(at("real/sub/../sub/./"), err, sizeof(err));
	CHECK(same_dir(fd, at("real/sub")));
	close(fd);
	fd = safedir_open(at("relative"), err, sizeof(err));          /* relative -> real/sub */
	CHECK(same_dir(fd, at("real/sub")));
	close(fd);
}

static void safedir_another_users_link_refused(void)
{
	int fd;

	if (geteuid() != 0)
		CHECK_SKIP("making a link of another user's needs root");
	fd = safedir_open(at("theirs/sub"), err, sizeof(err));
	CHECK_EQ(fd, -1);
	CHECK_CONTAINS(err, "theirs is a link made by another user (uid 65534): not followed");
	/* ... also as the last component, and behind one of one's own. */
	CHECK_EQ(safedir_open(at("theirs"), err, sizeof(err)), -1);
	CHECK_EQ(safedir_open(at("via-mine/sub"), err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "another user");
}

static void safedir_files_and_loops(void)
{
	CHECK_EQ(safedir_open(at("real/file"), err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "file is not a directory");
	CHECK_EQ(safedir_open(at("loop/x"), err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "too many links");
	CHECK_EQ(safedir_open(at("missing/x"), err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "cannot open missing");
}

static void safedir_path_dir(void)
{
	char buf[16];
	const char *qmp = "/run/q.sock,server=on";

	CHECK(!strcmp(path_dir("a/b/c.snap", 10, buf, sizeof(buf)), "a/b"));
	CHECK(!strcmp(path_dir("/c.snap", 7, buf, sizeof(buf)), "/"));
	CHECK(!strcmp(path_dir("c.snap", 6, buf, sizeof(buf)), "."));
	CHECK(!strcmp(path_dir(qmp, strcspn(qmp, ","), buf, sizeof(buf)), "/run"));
	CHECK(path_dir("a-long-directory/x", 18, buf, sizeof(buf)) == NULL);
}

static int setup(void)
{
	snprintf(root, sizeof(root), "/tmp/safedir-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	if (mkdir(at("real"), 0700) || mkdir(at("real/sub"), 0700) ||
	    close(open(at("real/file"), O_CREAT | O_WRONLY, 0600)) ||
	    symlink("real", at("mine")) || symlink("real/sub", at("relative")) ||
	    symlink("loop", at("loop")) || symlink(at("real"), at("theirs")) ||
	    symlink("theirs", at("via-mine")))
		return -1;
	if (geteuid() == 0 && lchown(at("theirs"), 65534, 65534))
		return -1;
	return 0;
}

int main(void)
{
	char cmd[100];
	int rc;

	if (setup()) {
		printf("FAIL safedir_setup: cannot build the tree under %s\n", root);
		return 1;
	}
	RUN(safedir_own_links_followed);
	RUN(safedir_another_users_link_refused);
	RUN(safedir_files_and_loops);
	RUN(safedir_path_dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	rc = system(cmd);
	return check_failures || rc ? 1 : 0;
}
