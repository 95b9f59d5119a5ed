/* Opening a directory named by a client (QMP's `migrate file:PATH`)
 * without being led elsewhere by a link someone else planted on the way. */
#ifndef SHRIKE_SAFEDIR_H
#define SHRIKE_SAFEDIR_H

#include <stddef.h>

/* Opens dir (O_PATH), one component at a time, never following a symbolic
 * link unless root or the calling user owns it: a link another user made
 * (in /tmp, say) is refused, one's own links and the system's are
 * followed as usual.  Returns the descriptor, or -1 with a message naming
 * the component. */
int safedir_open(const char *dir, char *err, size_t errlen);

/* The directory part of path's first len bytes into buf: "." when there is
 * none, "/" for a name in the root.  NULL if it does not fit. */
const char *path_dir(const char *path, size_t len, char *buf, size_t buflen);

#endif
