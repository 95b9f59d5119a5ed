#include "x86/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct trace *trace_open(const char *path, bool msrs, uint64_t t0_ns, char *err, size_t errlen)
{
	struct trace *t = calloc(1, sizeof(*t));

	if (!t) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	t->f = fopen(path, "we");
	if (!t->f) {
		err_set(err, errlen, "cannot open trace file %s: %s", path, strerror(errno));
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->msrs = msrs;
	t->t0_ns = t0_ns;
	return t;
}

void trace_close(struct trace *t)
{
	if (!t)
		return;
	fclose(t->f);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Appends a JSON string; names come from shrike itself, but escape anyway. */
static size_t put_json_string(char *buf, size_t pos, size_t cap, const char *s)
{
	if (pos < cap)
		buf[pos] = '"';
	pos++;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			pos += (size_t)snprintf(buf + (pos < cap ? pos : cap), pos < cap ? cap - pos : 0,
						"\\%c", c);
		} else if (c < 0x20) {
			pos += (size_t)snprintf(buf + (pos < cap ? pos : cap), pos < cap ? cap - pos : 0,
						"\\u%04x", c);
		} else {
			if (pos < cap)
				buf[pos] = (char)c;
			pos++;
		}
	}
	if (pos < cap)
		buf[pos] = '"';
	return pos + 1;
}

#define APPEND(...) \
	(pos += (size_t)snprintf(buf + (pos < cap ? pos : cap), pos < cap ? cap - pos : 0, __VA_ARGS__))

void trace_emit(struct trace *t, const struct trace_event *ev)
{
	size_t cap = 256 + (t->msrs ? (size_t)ev->nmsrs * 48 : 0) + 16 * CPU_NCLASSES;
	char *buf = malloc(cap);
	size_t pos = 0;
	bool first = true;

	if (!buf)
		return;
	APPEND("{\"t_ns\":%llu,\"vcpu\":%u,\"thread\":",
	       (unsigned long long)(ev->start_ns - t->t0_ns), ev->vcpu);
	pos = put_json_string(buf, pos, cap, ev->thread);
	APPEND(",\"op\":\"%s\",\"level\":", ev->put ? "put" : "get");
	if (ev->put)
		APPEND("\"%s\"", put_level_name[ev->level]);
	else
		APPEND("null");
	APPEND(",\"cause\":\"%s\",\"origin\":", sync_cause_name[ev->cause]);
	if (ev->origin)
		pos = put_json_string(buf, pos, cap, ev->origin);
	else
		APPEND("null");
	APPEND(",\"classes\":[");
	for (unsigned c = 0; c < CPU_NCLASSES; c++) {
		if (!(ev->classes & CPU_MASK(c)))
			continue;
		APPEND("%s\"%s\"", first ? "" : ",", cpu_class_name[c]);
		first = false;
	}
	APPEND("],\"ioctls\":%u,\"dur_ns\":%llu", ev->ioctls, (unsigned long long)ev->dur_ns);
	if (t->msrs) {
		APPEND(",\"msrs\":{");
		for (unsigned i = 0; i < ev->nmsrs; i++)
			APPEND("%s\"0x%x\":\"0x%llx\"", i ? "," : "", ev->msrs[i].index,
			       (unsigned long long)ev->msrs[i].data);
		APPEND("}");
	}
	APPEND("}\n");
	if (pos < cap) {
		pthread_mutex_lock(&t->lock);
		fwrite(buf, 1, pos, t->f);
		fflush(t->f);
		pthread_mutex_unlock(&t->lock);
	}
	free(buf);
}
