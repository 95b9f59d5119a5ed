/*
 * The control socket: a subset of QEMU's QMP that QEMU clients can drive
 * (capabilities negotiation, queries, stop/cont, reset, power button, quit,
 * human-monitor-command, migrate to a file), with QEMU's replies, errors
 * and events.
 *
 *   --qmp unix:PATH,server=on[,wait=off]   listen (mode 0600); with wait
 *                                          the VM starts once a client is in
 *   --qmp unix:PATH                        connect to PATH as a client
 *
 * One client at a time: a second connection waits until the first is gone.
 * Everything runs on the main thread, in the main loop.  Bad input (broken
 * JSON, a non-object, unknown commands, wrong arguments, huge lines, a
 * client that vanishes) gets QEMU's error replies and never ends the VM.
 */
#ifndef SHRIKE_QMP_H
#define SHRIKE_QMP_H

#include <stddef.h>

struct vm;
struct qmp;

/* Parses the --qmp argument and creates the socket.  Returns NULL with a
 * one-line message (a path that exists and is not a socket is refused). */
struct qmp *qmp_create(struct vm *vm, const char *spec, char *err, size_t errlen);
/* With server=on and no wait=off: blocks until the first client is in. */
int qmp_wait_client(struct qmp *q);
/* Adds the socket to the VM's main loop and listens to the VM. */
int qmp_attach(struct qmp *q);
void qmp_destroy(struct qmp *q);

/* Checks a --qmp argument without creating anything (for the command
 * line); 0 or -1 with a message. */
int qmp_check_spec(const char *spec, char *err, size_t errlen);

#endif
