/*
 * QMP's migrate to a file (QEMU 8.2's file: URI): the VM pauses, the
 * snapshot is written by a worker thread while the main loop keeps
 * answering (query-migrate says "active"), then the VM stays paused in
 * postmigrate until cont.  MIGRATION events when the client enabled them.
 */
#ifndef SHRIKE_MIGRATION_H
#define SHRIKE_MIGRATION_H

#include <stddef.h>

struct qmp;
struct strbuf;

int migration_start(struct qmp *q, const char *uri, char *err, size_t errlen);
/* query-migrate's return value. */
void migration_query(struct qmp *q, struct strbuf *o);
/* Waits for a save in progress and frees the state (QMP's teardown). */
void migration_free(struct qmp *q);

#endif
