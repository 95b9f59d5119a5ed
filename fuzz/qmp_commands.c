/*
 * libFuzzer target: QMP's command table on a stopped fake VM (no KVM):
 * the input is a session's bytes, split into messages as the socket's
 * reader splits them, each dispatched as the server does (envelope, the
 * negotiation rule, argument types, every command's own checks, the
 * replies, human-monitor-command's "info" commands on the vCPUs' state).
 * Left out, by name: the commands that start or end something this
 * harness lacks (stop, cont, system_reset, system_powerdown, quit: vCPU
 * threads and the main loop; migrate: a snapshot written to a file).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/json.h"
#include "control/qmp_commands.h"
#include "fake_vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSG_LIMIT (64u << 10)

static struct fake_vm f;
static struct qmp q;
static int peer = -1;

static void connect_client(void)
{
	if (q.client_fd >= 0)
		close(q.client_fd);
	fake_vm_socketpair(&q.client_fd, &peer);
}

static void setup(void)
{
	fake_vm_init(&f);
	f.vm.run_state = RS_PAUSED;
	q.vm = &f.vm;
	q.listen_fd = q.client_fd = -1;
	connect_client();
}

/* The name a message executes, if it is one of those left out. */
static bool left_out(const char *text, size_t len)
{
	static const char *const names[] = { "stop", "cont", "system_reset", "system_powerdown",
					      "quit", "migrate" };
	struct json_doc doc;
	const struct json *name;
	char err[100];
	bool out = false;

	if (json_parse(&doc, text, len, err, sizeof(err)))
		return false;
	name = doc.root->type == JSON_OBJECT ? json_get(doc.root, "execute") : NULL;
	for (size_t i = 0; name && name->type == JSON_STRING && i < sizeof(names) / sizeof(names[0]);
	     i++)
		out |= !strcmp(name->s, names[i]);
	json_doc_free(&doc);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_splitter in;
	const char *msg;
	size_t len;
	char drain[65536];

	if (!q.vm)
		setup();
	json_splitter_init(&in, MSG_LIMIT);
	q.negotiated = false;
	if (json_splitter_feed(&in, (const char *)data, size) >= 0)
		while (json_splitter_next(&in, &msg, &len))
			if (!left_out(msg, len))
				qmp_dispatch(&q, msg, len);
	json_splitter_free(&in);
	while (read(peer, drain, sizeof(drain)) > 0)
		;
	if (q.client_fd < 0)
		connect_client();
	q.out.len = q.out_sent = 0;
	q.migration_events = false;
	q.migrate_max_bandwidth = 0;
	fake_vm_reset(&f);
	return 0;
}
