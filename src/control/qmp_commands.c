/*
 * QMP messages and commands, worded as QEMU 7.2 words them (replies,
 * error classes and descriptions), so that QEMU clients work unchanged.
 */
#include "control/qmp_commands.h"

#include <stdio.h>
#include <string.h>

#include "control/hmp.h"
#include "base/log.h"
#include "base/version.h"
#include "core/vm.h"
#include "control/migration.h"

/* An argument's type; ANY accepts every JSON value. */
#define T_ANY ((enum json_type)100)

struct arg_spec {
	const char *name;
	enum json_type type;
	bool optional;
};

struct reply {
	struct strbuf ret;       /* the "return" value, when no error */
	const char *cls;           /* error class, NULL on success */
	char desc[512];
};

struct command {
	const char *name;
	void (*run)(struct qmp *q, const struct json *args, struct reply *r);
	struct arg_spec args[4];
};

static void fail(struct reply *r, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct reply *r, const char *cls, const char *fmt, ...)
{
	va_list ap;

	r->cls = cls;
	va_start(ap, fmt);
	vsnprintf(r->desc, sizeof(r->desc), fmt, ap);
	va_end(ap);
}

static void empty(struct reply *r)
{
	sb_add(&r->ret, "{}", 2);
}

void qmp_version(struct strbuf *o)
{
	sb_printf(o, "{\"qemu\": {\"micro\": %d, \"minor\": %d, \"major\": %d}, \"package\": ",
		 QEMU_COMPAT_MICRO, QEMU_COMPAT_MINOR, QEMU_COMPAT_MAJOR);
	jout_str(o, "shrike " SHRIKE_VERSION);
	sb_add(o, "}", 1);
}

/* ---- commands ---- */

static void cmd_capabilities(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)args;
	q->negotiated = true;
	empty(r);
}

static void cmd_version(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)q, (void)args;
	qmp_version(&r->ret);
}

static const struct command commands[];
static const size_t ncommands;

static void cmd_commands(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)q, (void)args;
	sb_add(&r->ret, "[", 1);
	for (size_t i = 0; i < ncommands; i++) {
		sb_printf(&r->ret, "%s{\"name\": ", i ? ", " : "");
		jout_str(&r->ret, commands[i].name);
		sb_add(&r->ret, "}", 1);
	}
	sb_add(&r->ret, "]", 1);
}

static void cmd_status(struct qmp *q, const struct json *args, struct reply *r)
{
	enum run_state s = vm_run_state(q->vm);

	(void)args;
	sb_add(&r->ret, "{\"status\": ", 11);
	jout_str(&r->ret, run_state_name(s));
	sb_printf(&r->ret, ", \"singlestep\": false, \"running\": %s}",
		 run_state_is_running(s) ? "true" : "false");
}

static void cmd_name(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)args;
	if (!q->vm->cfg.name) {
		empty(r);
		return;
	}
	sb_add(&r->ret, "{\"name\": ", 9);
	jout_str(&r->ret, q->vm->cfg.name);
	sb_add(&r->ret, "}", 1);
}

static void cmd_uuid(struct qmp *q, const struct json *args, struct reply *r)
{
	const uint8_t *u = q->vm->uuid;

	(void)args;
	sb_printf(&r->ret, "{\"UUID\": \"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x\"}", u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8],
		 u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static void cmd_cpus_fast(struct qmp *q, const struct json *args, struct reply *r)
{
	struct vm *vm = q->vm;

	(void)args;
	sb_add(&r->ret, "[", 1);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		/* One socket, one thread per core (x86/cpuid.c's topology). */
		sb_printf(&r->ret, "%s{\"thread-id\": %d, \"props\": {\"core-id\": %u, \"thread-id\": 0, "
			 "\"socket-id\": 0}, \"qom-path\": \"/machine/unattached/device[%u]\", "
			 "\"cpu-index\": %u, \"target\": \"x86_64\"}", i ? ", " : "",
			 __atomic_load_n(&vm->vcpu[i]->tid, __ATOMIC_ACQUIRE), i, i, i);
	}
	sb_add(&r->ret, "]", 1);
}

static void cmd_stop(struct qmp *q, const struct json *args, struct reply *r)
{
	enum run_state s = vm_run_state(q->vm);

	(void)args;
	empty(r);
	if (s != RS_RUNNING && s != RS_PRELAUNCH)
		return;
	if (!vm_pause(q->vm, PAUSE_USER))
		return;
	vm_set_run_state(q->vm, RS_PAUSED);
}

static void cmd_cont(struct qmp *q, const struct json *args, struct reply *r)
{
	struct vm *vm = q->vm;
	enum run_state s = vm_run_state(vm);

	(void)args;
	if (s == RS_SHUTDOWN || s == RS_GUEST_PANICKED || s == RS_INTERNAL_ERROR) {
		fail(r, "GenericError", "Resetting the Virtual Machine is required");
		return;
	}
	/* The run state alone is not enough: a debugger can set its own
	 * while the saver runs (security review 2, N10). */
	if (s == RS_INMIGRATE || s == RS_FINISH_MIGRATE ||
	    __atomic_load_n(&vm->save_in_progress, __ATOMIC_ACQUIRE)) {
		fail(r, "GenericError", "Guest can not be started while a snapshot is %s",
		     s == RS_INMIGRATE ? "restored" : "saved");
		return;
	}
	empty(r);
	if (s == RS_RUNNING)
		return;
	vm_set_run_state(vm, RS_RUNNING);
	vm_resume(vm, PAUSE_USER | PAUSE_PRELAUNCH | PAUSE_DEBUG | PAUSE_MIGRATE);
}

static void cmd_system_reset(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)args;
	/* A powered-off VM (-no-shutdown) comes back, stopped, as QEMU's. */
	if (vm_run_state(q->vm) == RS_SHUTDOWN) {
		vm_set_run_state(q->vm, RS_PRELAUNCH);
		vm_pause_async(q->vm, PAUSE_PRELAUNCH);
		vm_resume(q->vm, PAUSE_SHUTDOWN);
	}
	vm_request_reset(q->vm, "host:qmp");
	empty(r);
}

static void cmd_powerdown(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)args;
	if (vm_powerdown(q->vm)) {
		fail(r, "GenericError", "The machine has no power button");
		return;
	}
	qmp_event(q, "POWERDOWN", NULL);
	empty(r);
}

/* A network card's link, by the card's ID (--net's id=, QEMU's netdev
 * ID, or netN, the Nth card). */
static void cmd_set_link(struct qmp *q, const struct json *args, struct reply *r)
{
	const char *name = json_get(args, "name")->s;

	if (vm_set_link(q->vm, name, json_get(args, "up")->b)) {
		fail(r, "DeviceNotFound", "Device '%s' not found", name);
		return;
	}
	empty(r);
}

static void cmd_quit(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)args;
	empty(r);
	vm_request_stop(q->vm, STOP_QUIT, 0);
}

static void cmd_hmp(struct qmp *q, const struct json *args, struct reply *r)
{
	struct strbuf out = { 0 };

	hmp_run(q->vm, json_get(args, "command-line")->s, &out);
	jout_str(&r->ret, sb_str(&out));
	sb_free(&out);
}

static void cmd_migrate_caps(struct qmp *q, const struct json *args, struct reply *r)
{
	const struct json *caps = json_get(args, "capabilities");

	for (size_t i = 0; i < caps->len; i++) {
		const struct json *c = caps->items[i], *name = json_get(c, "capability"),
				  *state = json_get(c, "state");

		if (!name || name->type != JSON_STRING || !state || state->type != JSON_BOOL) {
			fail(r, "GenericError", "Invalid parameter type for 'capabilities[%zu]', "
			     "expected: {capability: string, state: bool}", i);
			return;
		}
		if (strcmp(name->s, "events")) {
			fail(r, "GenericError", "Capability '%s' is not supported by shrike", name->s);
			return;
		}
	}
	for (size_t i = 0; i < caps->len; i++)
		q->migration_events = json_get(caps->items[i], "state")->b;
	empty(r);
}

/* max-bandwidth (bytes per second) limits how fast a save writes; shrike's
 * default is no limit (QEMU's is 128 MiB/s, meant for networks). */
static void cmd_migrate_params(struct qmp *q, const struct json *args, struct reply *r)
{
	const struct json *bw = json_get(args, "max-bandwidth");

	if (bw && bw->i < 0) {
		fail(r, "GenericError", "Parameter 'max_bandwidth' expects an integer in the range "
		     "of 0 to %lld bytes/second", (long long)INT64_MAX);
		return;
	}
	if (bw)
		q->migrate_max_bandwidth = (uint64_t)bw->i;
	empty(r);
}

static void cmd_query_migrate_params(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)args;
	sb_printf(&r->ret, "{\"max-bandwidth\": %llu}", (unsigned long long)q->migrate_max_bandwidth);
}

static void cmd_migrate(struct qmp *q, const struct json *args, struct reply *r)
{
	char err[512];

	if (migration_start(q, json_get(args, "uri")->s, err, sizeof(err))) {
		fail(r, "GenericError", "%s", err);
		return;
	}
	empty(r);
}

static void cmd_query_migrate(struct qmp *q, const struct json *args, struct reply *r)
{
	(void)args;
	migration_query(q, &r->ret);
}

static const struct command commands[] = {
	{ "qmp_capabilities", cmd_capabilities, { { "enable", JSON_ARRAY, true } } },
	{ "query-version", cmd_version, { { 0 } } },
	{ "query-commands", cmd_commands, { { 0 } } },
	{ "query-status", cmd_status, { { 0 } } },
	{ "query-name", cmd_name, { { 0 } } },
	{ "query-uuid", cmd_uuid, { { 0 } } },
	{ "query-cpus-fast", cmd_cpus_fast, { { 0 } } },
	{ "stop", cmd_stop, { { 0 } } },
	{ "cont", cmd_cont, { { 0 } } },
	{ "system_reset", cmd_system_reset, { { 0 } } },
	{ "system_powerdown", cmd_powerdown, { { 0 } } },
	{ "quit", cmd_quit, { { 0 } } },
	{ "set_link", cmd_set_link, { { "name", JSON_STRING, false }, { "up", JSON_BOOL, false } } },
	{ "human-monitor-command", cmd_hmp,
	  { { "command-line", JSON_STRING, false }, { "cpu-index", JSON_INT, true } } },
	{ "migrate", cmd_migrate, { { "uri", JSON_STRING, false }, { "detach", JSON_BOOL, true },
				    { "resume", JSON_BOOL, true } } },
	{ "migrate-set-capabilities", cmd_migrate_caps, { { "capabilities", JSON_ARRAY, false } } },
	{ "query-migrate", cmd_query_migrate, { { 0 } } },
	{ "migrate-set-parameters", cmd_migrate_params, { { "max-bandwidth", JSON_INT, true } } },
	{ "query-migrate-parameters", cmd_query_migrate_params, { { 0 } } },
};
static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

/* ---- dispatch ---- */

static const char *expected_name(enum json_type t)
{
	switch (t) {
	case JSON_STRING: return "string";
	case JSON_INT: return "integer";
	case JSON_BOOL: return "bool";
	case JSON_ARRAY: return "array";
	case JSON_OBJECT: return "object";
	default: return "value";
	}
}

static bool check_args(const struct command *c, const struct json *args, struct reply *r)
{
	for (size_t i = 0; args && i < args->len; i++) {
		const struct arg_spec *a = NULL;

		for (size_t j = 0; j < 4 && c->args[j].name; j++)
			if (!strcmp(c->args[j].name, args->keys[i]))
				a = &c->args[j];
		if (!a) {
			fail(r, "GenericError", "Parameter '%.100s' is unexpected", args->keys[i]);
			return false;
		}
		if (a->type != T_ANY && args->items[i]->type != a->type) {
			fail(r, "GenericError", "Invalid parameter type for '%s', expected: %s", a->name,
			     expected_name(a->type));
			return false;
		}
	}
	for (size_t j = 0; j < 4 && c->args[j].name; j++) {
		if (!c->args[j].optional && !json_get(args, c->args[j].name)) {
			fail(r, "GenericError", "Parameter '%s' is missing", c->args[j].name);
			return false;
		}
	}
	return true;
}

void qmp_error_reply(struct qmp *q, const struct json *id, const char *cls, const char *desc)
{
	struct strbuf m = { 0 };

	sb_add(&m, "{", 1);
	if (id) {
		sb_add(&m, "\"id\": ", 6);
		jout_value(&m, id);
		sb_add(&m, ", ", 2);
	}
	sb_add(&m, "\"error\": {\"class\": ", 19);
	jout_str(&m, cls);
	sb_add(&m, ", \"desc\": ", 10);
	jout_str(&m, desc);
	sb_add(&m, "}}", 2);
	qmp_send(q, &m);
	sb_free(&m);
}

static void send_return(struct qmp *q, const struct json *id, struct reply *r)
{
	struct strbuf m = { 0 };

	sb_add(&m, "{\"return\": ", 11);
	sb_add(&m, r->ret.buf ? r->ret.buf : "{}", r->ret.buf ? r->ret.len : 2);
	if (id) {
		sb_add(&m, ", \"id\": ", 8);
		jout_value(&m, id);
	}
	sb_add(&m, "}", 1);
	qmp_send(q, &m);
	sb_free(&m);
}

/* The envelope: execute, arguments, id, nothing else.  Returns the
 * command's name or NULL (an error was sent). */
static const char *envelope(struct qmp *q, const struct json *m, const struct json **args)
{
	const struct json *id = json_get(m, "id"), *ex = json_get(m, "execute");
	char desc[160];

	for (size_t i = 0; i < m->len; i++) {
		if (strcmp(m->keys[i], "execute") && strcmp(m->keys[i], "arguments") &&
		    strcmp(m->keys[i], "id")) {
			snprintf(desc, sizeof(desc), "QMP input member '%.100s' is unexpected", m->keys[i]);
			qmp_error_reply(q, id, "GenericError", desc);
			return NULL;
		}
	}
	if (!ex) {
		qmp_error_reply(q, id, "GenericError", "QMP input lacks member 'execute'");
		return NULL;
	}
	if (ex->type != JSON_STRING) {
		qmp_error_reply(q, id, "GenericError", "QMP input member 'execute' must be a string");
		return NULL;
	}
	*args = json_get(m, "arguments");
	if (*args && (*args)->type != JSON_OBJECT) {
		qmp_error_reply(q, id, "GenericError", "QMP input member 'arguments' must be an object");
		return NULL;
	}
	return ex->s;
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < ncommands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void execute(struct qmp *q, const struct json *m)
{
	const struct json *args = NULL, *id = json_get(m, "id");
	const char *name = envelope(q, m, &args);
	const struct command *c;
	struct reply r = { 0 };
	char desc[200];

	if (!name)
		return;
	if (!q->negotiated && strcmp(name, "qmp_capabilities")) {
		qmp_error_reply(q, id, "CommandNotFound",
				"Expecting capabilities negotiation with 'qmp_capabilities'");
		return;
	}
	if (q->negotiated && !strcmp(name, "qmp_capabilities")) {
		qmp_error_reply(q, id, "CommandNotFound",
				"Capabilities negotiation is already complete, command ignored");
		return;
	}
	c = find(name);
	if (!c) {
		snprintf(desc, sizeof(desc), "The command %.100s has not been found", name);
		qmp_error_reply(q, id, "CommandNotFound", desc);
		return;
	}
	if (check_args(c, args, &r))
		c->run(q, args, &r);
	if (r.cls)
		qmp_error_reply(q, id, r.cls, r.desc);
	else
		send_return(q, id, &r);
	sb_free(&r.ret);
}

void qmp_dispatch(struct qmp *q, const char *text, size_t len)
{
	struct json_doc doc;
	char err[200];

	if (json_parse(&doc, text, len, err, sizeof(err))) {
		qmp_error_reply(q, NULL, "GenericError", err);
		return;
	}
	if (doc.root->type != JSON_OBJECT)
		qmp_error_reply(q, NULL, "GenericError", "QMP input must be a JSON object");
	else
		execute(q, doc.root);
	json_doc_free(&doc);
}
