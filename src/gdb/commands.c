/*
 * The packets of gdb's remote protocol that gdb 13 sends to an x86-64
 * target, and their replies.  Every number a packet carries is checked;
 * anything malformed gets an `E` reply (E01 syntax, E14 bad address,
 * E22 bad value), an unknown packet the empty reply.
 */
#include "gdb/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/hmp.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "gdb/regs.h"

/* The most memory one m packet returns: hex doubles it, and the reply
 * must fit PacketSize. */
#define MAX_MEM_REPLY ((RSP_MAX_PACKET - 32) / 2)

/* ---- helpers ---- */

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* A thread id: "-1" (all), "0" (any) or a hex vCPU number + 1.  Returns
 * the vCPU index, -1 for all, -2 for any, -3 if malformed or unknown. */
static int parse_thread(struct gdb_server *g, const char *s, const char **end)
{
	uint64_t t;

	if (s[0] == '-' && s[1] == '1') {
		if (end)
			*end = s + 2;
		return -1;
	}
	if (s[0] == 'p')           /* multiprocess form pPID.TID: use TID */
		s = strchr(s, '.') ? strchr(s, '.') + 1 : s + 1;
	if (!hex_u64(s, end, &t))
		return -3;
	if (t == 0)
		return -2;
	return t <= g->vm->ncpus ? (int)t - 1 : -3;
}

/* "ADDR,LEN" */
static bool parse_addr_len(const char *s, uint64_t *addr, uint64_t *len, const char **end)
{
	const char *p;

	if (!hex_u64(s, &p, addr) || *p != ',' || !hex_u64(p + 1, &p, len))
		return false;
	if (end)
		*end = p;
	return true;
}

/* ---- registers, on the vCPU's thread ---- */

struct reg_work {
	unsigned first, count;     /* registers [first, first + count) */
	uint8_t *buf;
	size_t len;
	bool write;
	bool ok;
};

static unsigned classes_of(unsigned first, unsigned count)
{
	unsigned m = 0;

	for (unsigned i = first; i < first + count; i++)
		m |= gdb_reg_classes(i);
	return m;
}

static void regs_on_vcpu(struct vcpu *v, void *arg)
{
	struct reg_work *w = arg;
	unsigned dirty = 0;
	size_t off = 0;

	w->ok = !cpu_state_get(&v->state, classes_of(w->first, w->count), CAUSE_DEBUG, "gdb");
	if (!w->ok)
		return;
	for (unsigned i = w->first; i < w->first + w->count; i++) {
		unsigned size = gdb_reg_size(i);

		if (off + size > w->len) {
			w->ok = !w->write;  /* a short G writes what it has */
			break;
		}
		if (w->write) {
			unsigned changed = gdb_reg_write(v, i, w->buf + off);

			if (!changed) {
				w->ok = false;
				break;
			}
			dirty |= changed;
		} else {
			gdb_reg_read(v, i, w->buf + off);
		}
		off += size;
	}
	w->len = off;
	if (dirty)
		cpu_state_dirty(&v->state, dirty, "gdb");
}

static bool run_regs(struct gdb_server *g, struct reg_work *w)
{
	vcpu_run_on(g->vm->vcpu[g->g_cpu], regs_on_vcpu, w);
	/* New control registers change what addresses mean. */
	if (w->write)
		g->cpu[g->g_cpu].mmu_valid = false;
	return w->ok;
}

/* Reads the registers w names and replies with them in hex (E14: the
 * state could not be had). */
static void reply_regs(struct gdb_server *g, struct reg_work *w)
{
	struct strbuf hex = { 0 };

	if (!run_regs(g, w)) {
		gdb_reply(g, "E14");
		return;
	}
	hex_encode(&hex, w->buf, w->len);
	gdb_reply_bin(g, hex.buf, hex.len);
	sb_free(&hex);
}

static void cmd_read_all(struct gdb_server *g, char *pkt, size_t pktlen)
{
	uint8_t buf[GDB_G_REGS * GDB_REG_MAX_SIZE];
	struct reg_work w = { 0, GDB_G_REGS, buf, sizeof(buf), false, false };

	(void)pkt, (void)pktlen;
	reply_regs(g, &w);
}

static void cmd_write_all(struct gdb_server *g, char *pkt, size_t pktlen)
{
	const char *hex = pkt + 1;
	uint8_t buf[GDB_G_REGS * GDB_REG_MAX_SIZE];
	long n = hex_decode(hex, strlen(hex), buf, sizeof(buf));
	struct reg_work w = { 0, GDB_G_REGS, buf, 0, true, false };

	(void)pktlen;
	if (n < 0) {
		gdb_reply(g, "E01");
		return;
	}
	w.len = (size_t)n;
	gdb_reply(g, run_regs(g, &w) ? "OK" : "E22");
}

static void cmd_read_reg(struct gdb_server *g, char *pkt, size_t pktlen)
{
	const char *arg = pkt + 1;
	uint8_t buf[GDB_REG_MAX_SIZE];
	struct reg_work w = { 0, 1, buf, sizeof(buf), false, false };
	uint64_t n;
	const char *end;

	(void)pktlen;
	if (!hex_u64(arg, &end, &n) || *end || n >= gdb_reg_count()) {
		gdb_reply(g, "E01");
		return;
	}
	w.first = (unsigned)n;
	reply_regs(g, &w);
}

static void cmd_write_reg(struct gdb_server *g, char *pkt, size_t pktlen)
{
	const char *arg = pkt + 1;
	uint8_t buf[GDB_REG_MAX_SIZE];
	struct reg_work w = { 0, 1, buf, 0, true, false };
	const char *eq;
	uint64_t n;
	long got;

	(void)pktlen;
	if (!hex_u64(arg, &eq, &n) || *eq != '=' || n >= gdb_reg_count()) {
		gdb_reply(g, "E01");
		return;
	}
	got = hex_decode(eq + 1, strlen(eq + 1), buf, sizeof(buf));
	if (got != (long)gdb_reg_size((unsigned)n)) {
		gdb_reply(g, "E01");
		return;
	}
	w.first = (unsigned)n;
	w.len = (size_t)got;
	gdb_reply(g, run_regs(g, &w) ? "OK" : "E22");
}

/* ---- memory ---- */

static void cmd_read_mem(struct gdb_server *g, char *pkt, size_t pktlen)
{
	const char *arg = pkt + 1;
	uint8_t buf[MAX_MEM_REPLY];
	struct strbuf hex = { 0 };
	uint64_t addr, len;
	const char *end;
	size_t got;

	(void)pktlen;
	if (!parse_addr_len(arg, &addr, &len, &end) || *end) {
		gdb_reply(g, "E01");
		return;
	}
	if (len > MAX_MEM_REPLY)
		len = MAX_MEM_REPLY;   /* gdb takes a short read and asks again */
	if (!len) {
		gdb_reply(g, "");
		return;
	}
	got = gdb_read_memory(g, g->g_cpu, addr, buf, len);
	if (!got) {
		gdb_reply(g, "E14");
		return;
	}
	hex_encode(&hex, buf, got);
	gdb_reply_bin(g, hex.buf, hex.len);
	sb_free(&hex);
}

static void write_mem(struct gdb_server *g, uint64_t addr, const uint8_t *data, size_t len)
{
	if (!len) {
		gdb_reply(g, "OK");
		return;
	}
	gdb_reply(g, gdb_write_memory(g, g->g_cpu, addr, data, len) == len ? "OK" : "E14");
}

static void cmd_write_mem_hex(struct gdb_server *g, char *pkt, size_t pktlen)
{
	const char *arg = pkt + 1;
	uint8_t buf[RSP_MAX_PACKET / 2];
	uint64_t addr, len;
	const char *colon;

	(void)pktlen;
	/* len is checked against the buffer before any arithmetic: 2 * len
	 * wraps for len >= 2^63 (security review 2, N1). */
	if (!parse_addr_len(arg, &addr, &len, &colon) || *colon != ':' || len > sizeof(buf) ||
	    strlen(colon + 1) != 2 * len || hex_decode(colon + 1, 2 * len, buf, sizeof(buf)) != (long)len) {
		gdb_reply(g, "E01");
		return;
	}
	write_mem(g, addr, buf, len);
}

static void cmd_write_mem_bin(struct gdb_server *g, char *pkt, size_t pktlen)
{
	char *arg = pkt + 1;
	size_t arglen = pktlen - 1;
	uint64_t addr, len;
	const char *colon;
	char *data;
	size_t n;

	if (!parse_addr_len(arg, &addr, &len, &colon) || *colon != ':') {
		gdb_reply(g, "E01");
		return;
	}
	data = arg + (colon + 1 - arg);
	n = rsp_unescape(data, arglen - (size_t)(data - arg));
	if (n != len) {
		gdb_reply(g, "E01");
		return;
	}
	write_mem(g, addr, (const uint8_t *)data, n);
}

/* ---- breakpoints ---- */

static int insert_sw(struct gdb_server *g, uint64_t addr)
{
	gpa_t gpa;
	int r;

	if (!gdb_translate(g, g->g_cpu, addr, &gpa))
		return -EFAULT;
	r = bp_sw_insert(&g->bp, addr, gpa);
	return r == -EEXIST ? 0 : r;
}

/* A write watchpoint where data breakpoints do not fire: stepped. */
static int insert_stepped(struct gdb_server *g, uint64_t addr, uint64_t len)
{
	gpa_t gpa[BP_WATCH_MAX_LEN];

	if (!len || len > BP_WATCH_MAX_LEN)
		return -EINVAL;
	for (unsigned i = 0; i < len; i++)
		if (!gdb_translate(g, g->g_cpu, addr + i, &gpa[i]))
			return -EFAULT;
	return bp_stepped_insert(&g->bp, addr, (unsigned)len, gpa);
}

static int breakpoint(struct gdb_server *g, bool insert, enum bp_type type, uint64_t addr,
		      uint64_t len)
{
	switch (type) {
	case BP_SW:
		return insert ? insert_sw(g, addr) : bp_sw_remove(&g->bp, addr);
	case BP_HW:
		return insert ? bp_hw_insert(&g->bp, type, addr, 1) : bp_hw_remove(&g->bp, type, addr, 1);
	case BP_WRITE:
		if (!g->bp.hw_data)
			return insert ? insert_stepped(g, addr, len)
				      : bp_stepped_remove(&g->bp, addr, (unsigned)len);
		/* fall through */
	case BP_READ:
	case BP_ACCESS:
		if (len > 8)
			return -EINVAL;
		return insert ? bp_hw_insert(&g->bp, type, addr, (unsigned)len)
			      : bp_hw_remove(&g->bp, type, addr, (unsigned)len);
	}
	return -ENOTSUP;
}

static void cmd_breakpoint(struct gdb_server *g, char *pkt, size_t pktlen)
{
	uint64_t type, addr, kind;
	const char *p;
	int r;

	(void)pktlen;
	if (!hex_u64(pkt + 1, &p, &type) || *p != ',' || !parse_addr_len(p + 1, &addr, &kind, &p) ||
	    (*p && *p != ';')) {
		gdb_reply(g, "E01");
		return;
	}
	if (type > BP_ACCESS) {
		gdb_reply(g, "");
		return;
	}
	r = breakpoint(g, pkt[0] == 'Z', (enum bp_type)type, addr, kind);
	if (r == -ENOTSUP) {
		gdb_reply(g, "");      /* gdb: this kind is not supported */
		return;
	}
	/* The new debug registers reach the vCPUs when they resume. */
	gdb_reply(g, r == 0 || (r == -ENOENT && pkt[0] == 'z') ? "OK"
		     : r == -EFAULT ? "E14" : r == -ENOSPC ? "E28" : "E22");
}

/* ---- threads ---- */

static void cmd_set_thread(struct gdb_server *g, char *pkt, size_t pktlen)
{
	const char *end;
	int t;

	if (pktlen < 2) {                  /* a bare "H": no operation, no thread */
		gdb_reply(g, "E22");
		return;
	}
	t = parse_thread(g, pkt + 2, &end);
	if (t == -3 || *end) {
		gdb_reply(g, "E22");
		return;
	}
	if (pkt[1] == 'g')
		g->g_cpu = t >= 0 ? (unsigned)t : 0;
	else if (pkt[1] == 'c')
		g->c_cpu = t >= 0 ? t : -1;
	else {
		gdb_reply(g, "");
		return;
	}
	gdb_reply(g, "OK");
}

static void cmd_thread_alive(struct gdb_server *g, char *pkt, size_t pktlen)
{
	const char *arg = pkt + 1;
	const char *end;
	int t = parse_thread(g, arg, &end);

	(void)pktlen;
	gdb_reply(g, t >= 0 && !*end ? "OK" : "E22");
}

static void thread_list(struct gdb_server *g)
{
	struct strbuf sb = { 0 };

	sb_add(&sb, "m", 1);
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		sb_printf(&sb, "%s%x", i ? "," : "", i + 1);
	gdb_reply_bin(g, sb.buf, sb.len);
	sb_free(&sb);
}

static void thread_extra_info(struct gdb_server *g, const char *arg)
{
	struct strbuf sb = { 0 };
	const char *end;
	int t = parse_thread(g, arg, &end);

	if (t < 0 || *end) {
		gdb_reply(g, "E22");
		return;
	}
	/* The vCPU thread's name, as in the seed's backtraces. */
	hex_encode(&sb, g->vm->vcpu[t]->name, strlen(g->vm->vcpu[t]->name));
	gdb_reply_bin(g, sb.buf, sb.len);
	sb_free(&sb);
}

/* ---- queries ---- */

static void cmd_supported(struct gdb_server *g, const char *features)
{
	char reply[160];

	/* gdb lists what it understands: stop reasons only if it does. */
	g->gdb_swbreak = strstr(features, "swbreak+") != NULL;
	g->gdb_hwbreak = strstr(features, "hwbreak+") != NULL;
	snprintf(reply, sizeof(reply),
		 "PacketSize=%x;qXfer:features:read+;vContSupported+;QStartNoAckMode+;"
		 "swbreak+;hwbreak+", RSP_MAX_PACKET);
	gdb_reply(g, reply);
}

static void cmd_xfer_features(struct gdb_server *g, const char *arg)
{
	size_t xml_len;
	const char *xml = gdb_target_xml(&xml_len);
	uint64_t off, len;
	const char *end;
	char *reply;

	if (!starts(arg, "target.xml:")) {
		gdb_reply(g, "E00");
		return;
	}
	if (!parse_addr_len(arg + 11, &off, &len, &end) || *end) {
		gdb_reply(g, "E01");
		return;
	}
	if (off >= xml_len) {
		gdb_reply(g, "l");
		return;
	}
	if (len > RSP_MAX_PACKET / 2)
		len = RSP_MAX_PACKET / 2;  /* escapes may double it */
	if (len > xml_len - off)
		len = xml_len - off;
	reply = malloc(len + 1);
	if (!reply) {
		gdb_reply(g, "E12");
		return;
	}
	reply[0] = off + len < xml_len ? 'm' : 'l';
	memcpy(reply + 1, xml + off, len);
	gdb_reply_bin(g, reply, len + 1);
	free(reply);
}

/* `monitor CMD`: the human monitor (info registers, info cpus, ...), its
 * output as console text. */
static void cmd_monitor(struct gdb_server *g, const char *hex)
{
	char line[256];
	long n = hex_decode(hex, strlen(hex), (uint8_t *)line, sizeof(line) - 1);
	struct strbuf out = { 0 }, pkt = { 0 };

	if (n < 0) {
		gdb_reply(g, "E01");
		return;
	}
	line[n] = 0;
	hmp_run(g->vm, line, &out);
	for (size_t off = 0; off < out.len; off += 2048) {
		size_t chunk = out.len - off < 2048 ? out.len - off : 2048;

		pkt.len = 0;
		sb_add(&pkt, "O", 1);
		hex_encode(&pkt, out.buf + off, chunk);
		gdb_reply_bin(g, pkt.buf, pkt.len);
	}
	sb_free(&pkt);
	sb_free(&out);
	gdb_reply(g, "OK");
}

static void cmd_query(struct gdb_server *g, char *pkt, size_t pktlen)
{
	char buf[32];

	(void)pktlen;
	if (starts(pkt, "qSupported"))
		cmd_supported(g, pkt);
	else if (starts(pkt, "qXfer:features:read:"))
		cmd_xfer_features(g, pkt + 20);
	else if (!strcmp(pkt, "qfThreadInfo"))
		thread_list(g);
	else if (!strcmp(pkt, "qsThreadInfo"))
		gdb_reply(g, "l");
	else if (!strcmp(pkt, "qC")) {
		snprintf(buf, sizeof(buf), "QC%x", g->g_cpu + 1);
		gdb_reply(g, buf);
	} else if (starts(pkt, "qAttached"))
		gdb_reply(g, "1");     /* quitting gdb detaches, never kills */
	else if (!strcmp(pkt, "qOffsets"))
		gdb_reply(g, "Text=0;Data=0;Bss=0");
	else if (starts(pkt, "qSymbol"))
		gdb_reply(g, "OK");
	else if (starts(pkt, "qThreadExtraInfo,"))
		thread_extra_info(g, pkt + 17);
	else if (starts(pkt, "qRcmd,"))
		cmd_monitor(g, pkt + 6);
	else
		gdb_reply(g, "");
}

/* ---- running ---- */

/* vCont;ACTION[:TID];...: the leftmost action that names a thread wins;
 * a thread no action names stays stopped. */
static bool parse_vcont(struct gdb_server *g, const char *p)
{
	unsigned n = g->vm->ncpus;

	for (unsigned i = 0; i < n; i++)
		g->cpu[i].action = ACT_UNSET;
	while (*p == ';') {
		enum action a;
		int t = -1;
		uint64_t sig;

		p++;
		if (*p == 'c' || *p == 's') {
			a = *p == 's' ? ACT_STEP : ACT_CONT;
			p++;
		} else if ((*p == 'C' || *p == 'S') && hex_u64(p + 1, NULL, &sig)) {
			/* Signals mean nothing to a machine: resume as c / s. */
			a = *p == 'S' ? ACT_STEP : ACT_CONT;
			hex_u64(p + 1, &p, &sig);
		} else {
			return false;
		}
		if (*p == ':') {
			t = parse_thread(g, p + 1, &p);
			if (t == -3)
				return false;
		}
		for (unsigned i = 0; i < n; i++) {
			if (g->cpu[i].action == ACT_UNSET && (t < 0 || (unsigned)t == i))
				g->cpu[i].action = a;
		}
		if (*p && *p != ';')
			return false;
	}
	for (unsigned i = 0; i < n; i++)
		if (g->cpu[i].action == ACT_UNSET)
			g->cpu[i].action = ACT_STAY;
	return *p == 0;
}

/* c [ADDR] / s [ADDR]: every vCPU runs; s steps the Hc thread (or the
 * current one).  ADDR moves RIP first. */
static void cmd_continue(struct gdb_server *g, char *pkt, size_t pktlen)
{
	unsigned step_cpu = g->c_cpu >= 0 ? (unsigned)g->c_cpu : g->g_cpu;
	const char *arg = pkt + 1;
	uint64_t addr;

	(void)pktlen;
	if ((pkt[0] == 'C' || pkt[0] == 'S')) {
		const char *semi = strchr(arg, ';');

		arg = semi ? semi + 1 : "";
	}
	if (*arg) {
		uint8_t le[8];
		struct reg_work w = { GDB_REG_RIP, 1, le, 8, true, false };
		const char *end;

		if (!hex_u64(arg, &end, &addr) || *end) {
			gdb_reply(g, "E01");
			return;
		}
		for (unsigned i = 0; i < 8; i++)
			le[i] = (uint8_t)(addr >> (8 * i));
		if (!run_regs(g, &w)) {
			gdb_reply(g, "E22");
			return;
		}
	}
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		g->cpu[i].action = ACT_CONT;
	if (pkt[0] == 's' || pkt[0] == 'S')
		g->cpu[step_cpu].action = ACT_STEP;
	gdb_resume(g);
}

static void cmd_v(struct gdb_server *g, char *pkt, size_t pktlen)
{
	(void)pktlen;
	if (!strcmp(pkt, "vCont?")) {
		gdb_reply(g, "vCont;c;C;s;S");
	} else if (starts(pkt, "vCont;")) {
		if (!parse_vcont(g, pkt + 5)) {
			gdb_reply(g, "E01");
			return;
		}
		gdb_resume(g);
	} else if (starts(pkt, "vKill")) {
		gdb_reply(g, "OK");
		vm_request_stop(g->vm, STOP_QUIT, 0);
	} else {
		gdb_reply(g, "");      /* vMustReplyEmpty, vFile, ... */
	}
}

/* ---- dispatch ---- */

static void cmd_stop_reason(struct gdb_server *g, char *pkt, size_t pktlen)
{
	(void)pkt, (void)pktlen;
	gdb_reply(g, g->last_stop);
}

static void cmd_set(struct gdb_server *g, char *pkt, size_t pktlen)
{
	(void)pktlen;
	if (!strcmp(pkt, "QStartNoAckMode")) {
		gdb_reply(g, "OK");
		g->noack = true;
	} else {
		gdb_reply(g, "");
	}
}

static void cmd_detach(struct gdb_server *g, char *pkt, size_t pktlen)
{
	(void)pkt, (void)pktlen;
	gdb_reply(g, "OK");
	gdb_detach(g, true);
}

static void cmd_kill(struct gdb_server *g, char *pkt, size_t pktlen)
{
	(void)pkt, (void)pktlen;
	/* As QEMU: kill ends the VM. */
	vm_request_stop(g->vm, STOP_QUIT, 0);
	gdb_drop_client(g);
}

static const struct {
	char letter;
	void (*fn)(struct gdb_server *g, char *pkt, size_t len);
} packets[] = {
	{ '?', cmd_stop_reason }, { 'q', cmd_query }, { 'Q', cmd_set }, { 'H', cmd_set_thread },
	{ 'T', cmd_thread_alive }, { 'g', cmd_read_all }, { 'G', cmd_write_all },
	{ 'p', cmd_read_reg }, { 'P', cmd_write_reg }, { 'm', cmd_read_mem },
	{ 'M', cmd_write_mem_hex }, { 'X', cmd_write_mem_bin }, { 'Z', cmd_breakpoint },
	{ 'z', cmd_breakpoint }, { 'c', cmd_continue }, { 's', cmd_continue },
	{ 'C', cmd_continue }, { 'S', cmd_continue }, { 'v', cmd_v }, { 'D', cmd_detach },
	{ 'k', cmd_kill },
};

void gdb_handle_packet(struct gdb_server *g, char *pkt, size_t len)
{
	if (g->running) {
		/* All-stop: while the guest runs, only Ctrl-C is expected. */
		gdb_reply(g, "E16");
		return;
	}
	if (!g->attached)
		gdb_attach_session(g);     /* talking again after D */
	if (!g->attached)
		return;
	for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
		if (pkt[0] == packets[i].letter) {
			packets[i].fn(g, pkt, len);
			return;
		}
	}
	gdb_reply(g, "");
}
