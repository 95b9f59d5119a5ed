/*
 * The main thread's file-system confinement (Landlock): once the VM is set
 * up, the main thread and the snapshot writer it starts may create, remove
 * and rename files only beneath a few directories fixed at start, so a
 * compromised main thread cannot plant or delete files elsewhere (security
 * review 2, N9; seccomp sees no paths).  Reading and writing files already
 * open is untouched; vCPU and I/O threads open nothing at all (seccomp).
 *
 * The directories: each --snapshot-dir, or without one the working
 * directory and $TMPDIR (else /tmp).  Beneath those of the control and
 * debugger sockets and the pid file, which go at exit, it may only remove.
 */
#ifndef SHRIKE_LANDLOCK_H
#define SHRIKE_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>

#define CONFINE_MAX_DIRS 16

struct confine_dirs {
	const char *dir[CONFINE_MAX_DIRS];
	bool remove_only[CONFINE_MAX_DIRS];
	size_t n;
};

/* Adds a directory to make, remove and move files in, or only to remove
 * (ignored past the maximum, which the option parser keeps far from). */
void confine_add(struct confine_dirs *d, const char *dir);
void confine_add_removal(struct confine_dirs *d, const char *dir);

/* Confines the calling thread (and threads it starts later).  Returns 1
 * when confined, 0 when this kernel has no Landlock (nothing done), -1
 * with a message when a directory cannot be opened or Landlock refuses. */
int confine_files(const struct confine_dirs *d, char *err, size_t errlen);

#endif
