/* Inside the control socket: the connection (qmp.c) and the commands
 * (qmp_commands.c). */
#ifndef SHRIKE_QMP_COMMANDS_H
#define SHRIKE_QMP_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "control/json.h"

struct vm;
struct migration;

struct qmp {
	struct vm *vm;
	char path[108];
	bool server, wait;
	int listen_fd;
	int client_fd;
	bool pending_greeting;
	bool negotiated;           /* qmp_capabilities done */
	bool migration_events;     /* migrate-set-capabilities events */
	uint64_t migrate_max_bandwidth;  /* migrate-set-parameters, bytes/s (0: none) */
	struct json_splitter in;
	struct strbuf out;       /* not yet sent */
	size_t out_sent;
	struct migration *mig;     /* the last save (snapshot/) */
};

/* Appends one message (and "\r\n") to the client's output. */
void qmp_send(struct qmp *q, struct strbuf *msg);
/* An asynchronous event; data_json is an object or NULL. */
void qmp_event(struct qmp *q, const char *name, const char *data_json);
void qmp_greet(struct qmp *q);
/* {"qemu": {...}, "package": ...} */
void qmp_version(struct strbuf *o);
/* Handles one complete JSON value from the client. */
void qmp_dispatch(struct qmp *q, const char *text, size_t len);
void qmp_error_reply(struct qmp *q, const struct json *id, const char *cls, const char *desc);

#endif
