/* See landlock.h.  The ruleset handles only the rights that make, remove
 * or move directory entries; each directory gets all of them beneath it. */
#include "core/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"

#define ENTRY_RIGHTS (LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
		      LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
		      LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
		      LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
		      LANDLOCK_ACCESS_FS_MAKE_SYM)

static void add(struct confine_dirs *d, const char *dir, bool remove_only)
{
	if (d->n < CONFINE_MAX_DIRS && dir && *dir) {
		d->dir[d->n] = dir;
		d->remove_only[d->n++] = remove_only;
	}
}

void confine_add(struct confine_dirs *d, const char *dir)
{
	add(d, dir, false);
}

void confine_add_removal(struct confine_dirs *d, const char *dir)
{
	add(d, dir, true);
}

/* The rights this kernel knows of: REFER (moving an entry to another
 * directory) came with ABI 2; before it such moves are always refused. */
static uint64_t entry_rights(int abi)
{
	return ENTRY_RIGHTS | (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0);
}

static int add_dir(int ruleset, const char *dir, uint64_t rights, char *err, size_t errlen)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = rights };
	int r;

	rule.parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rule.parent_fd < 0) {
		err_set(err, errlen, "cannot open %s (a directory shrike may write in): %s", dir,
			strerror(errno));
		return -1;
	}
	r = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	if (r)
		err_set(err, errlen, "landlock: cannot add %s: %s", dir, strerror(errno));
	close(rule.parent_fd);
	return r;
}

int confine_files(const struct confine_dirs *d, char *err, size_t errlen)
{
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	struct landlock_ruleset_attr attr;
	int ruleset, r = 0;

	if (abi < 0)
		return 0;               /* ENOSYS, EOPNOTSUPP: not built in, or not enabled */
	/* Landlock's condition for an unprivileged thread (seccomp sets it
	 * too, later). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		err_set(err, errlen, "landlock: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	attr = (struct landlock_ruleset_attr){ .handled_access_fs = entry_rights(abi) };
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0) {
		err_set(err, errlen, "landlock: cannot create a ruleset: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < d->n && !r; i++)
		r = add_dir(ruleset, d->dir[i],
			    d->remove_only[i] ? LANDLOCK_ACCESS_FS_REMOVE_FILE : entry_rights(abi), err,
			    errlen);
	if (!r && syscall(SYS_landlock_restrict_self, ruleset, 0)) {
		err_set(err, errlen, "landlock: cannot confine the main thread: %s", strerror(errno));
		r = -1;
	}
	close(ruleset);
	return r ? -1 : 1;
}
