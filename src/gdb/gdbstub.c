/*
 * The debugger's server: sockets, the session, and the all-stop machine.
 *
 * Stopping: a vCPU traps (core/guestdbg.c calls on_trap on its thread),
 * records its event, pauses the VM for the debugger (PAUSE_DEBUG, the
 * pause every other stop uses) and wakes the main thread through an
 * eventfd; the main thread waits until every vCPU is parked, and only then
 * sends the stop reply.  Resuming sets each vCPU's guest-debug mode (step
 * or run, debug registers) on its own thread while it is parked, holds the
 * vCPUs gdb left stopped, and lifts the pause.
 */
#include "gdb/gdbstub.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/guestdbg.h"
#include "base/log.h"
#include "base/socket.h"
#include "core/vm.h"
#include "gdb/internal.h"
#include "gdb/regs.h"

#ifndef KVM_GUESTDBG_BLOCKIRQ
#define KVM_GUESTDBG_BLOCKIRQ 0x00100000
#endif

/* ---- the --gdb argument ---- */

struct gdb_spec {
	bool unix_socket;
	char host[256];
	uint16_t port;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int parse_spec(const char *spec, struct gdb_spec *out, char *err, size_t errlen)
{
	const char *colon;

	memset(out, 0, sizeof(*out));
	if (!strncmp(spec, "unix:", 5)) {
		if (!spec[5] || strlen(spec + 5) >= sizeof(out->path)) {
			err_set(err, errlen, "--gdb: missing or too long socket path in '%s'", spec);
			return -1;
		}
		out->unix_socket = true;
		snprintf(out->path, sizeof(out->path), "%s", spec + 5);
		return 0;
	}
	if (strncmp(spec, "tcp:", 4) || !(colon = strrchr(spec + 4, ':'))) {
		err_set(err, errlen, "--gdb: expected tcp:HOST:PORT or unix:PATH, got '%s'", spec);
		return -1;
	}
	if ((size_t)(colon - (spec + 4)) >= sizeof(out->host)) {
		err_set(err, errlen, "--gdb: host name too long");
		return -1;
	}
	memcpy(out->host, spec + 4, (size_t)(colon - (spec + 4)));
	/* [::1]:1234 */
	if (out->host[0] == '[') {
		size_t n = strlen(out->host);

		if (n < 2 || out->host[n - 1] != ']') {
			err_set(err, errlen, "--gdb: bad address in '%s'", spec);
			return -1;
		}
		memmove(out->host, out->host + 1, n - 2);
		out->host[n - 2] = 0;
	}
	if (parse_port(colon + 1, &out->port)) {
		err_set(err, errlen, "--gdb: bad port '%s' (expected 0 to 65535)", colon + 1);
		return -1;
	}
	return 0;
}

int gdb_check_spec(const char *spec, char *err, size_t errlen)
{
	struct gdb_spec s;

	return parse_spec(spec, &s, err, errlen);
}

/* ---- output ---- */

static void flush_out(struct gdb_server *g)
{
	if (g->conn >= 0 && socket_send_pending(g->conn, g->out.buf, g->out.len, &g->out_sent)) {
		gdb_drop_client(g);
		return;
	}
	if (g->out_sent == g->out.len) {
		g->out.len = 0;
		g->out_sent = 0;
	}
}

/* False (and the client dropped) when it has left too much unread: every
 * byte shrike sends, acknowledgements included, goes through here
 * (security review 2, N2: a stream of bad checksums, each answered '-',
 * grew the output without bound). */
static bool room_to_send(struct gdb_server *g)
{
	if (g->conn < 0)
		return false;
	if (g->out.len - g->out_sent > GDB_OUT_LIMIT || g->out.failed) {
		log_error("gdb: the debugger does not read its replies; dropping it");
		gdb_drop_client(g);
		return false;
	}
	return true;
}

void gdb_reply_bin(struct gdb_server *g, const void *payload, size_t len)
{
	if (!room_to_send(g))
		return;
	rsp_frame(&g->out, payload, len);
	flush_out(g);
}

static void send_ack(struct gdb_server *g, char c)
{
	if (!room_to_send(g))
		return;
	sb_add(&g->out, &c, 1);
	flush_out(g);
}

void gdb_reply(struct gdb_server *g, const char *payload)
{
	gdb_reply_bin(g, payload, strlen(payload));
}

/* ---- traps, on the vCPU threads ---- */

static bool step_requested(struct gdb_server *g, struct vcpu *v)
{
	return __atomic_load_n(&g->cpu[v->index].action, __ATOMIC_ACQUIRE) == ACT_STEP;
}

/* Is the int3 at this linear address one shrike placed?  Compared by
 * physical address: the same linear address may be another page in
 * another address space. */
static bool our_int3(struct gdb_server *g, struct vcpu *v, uint64_t linear)
{
	struct mmu_ctx c = { .mem = &v->vm->mem };
	uint32_t pfec;
	gpa_t gpa;

	if (cpu_state_get(&v->state, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_DEBUG, "gdb"))
		return bp_sw_linear(&g->bp, linear);
	c.cr0 = v->state.sregs.cr0;
	c.cr3 = v->state.sregs.cr3;
	c.cr4 = v->state.sregs.cr4;
	c.efer = v->state.sregs.efer;
	if (mmu_translate(&c, linear, MMU_DEBUG, &gpa, &pfec) != MMU_OK)
		return false;
	return bp_sw_at(&g->bp, gpa);
}

/* What the trap means to gdb; WHY_NONE if nothing. */
static enum stop_why classify(struct gdb_server *g, struct vcpu *v, const struct debug_trap *t,
			      uint64_t *addr, enum debug_verdict *verdict)
{
	const struct hw_slot *slot;

	*verdict = DEBUG_STOP;
	switch (t->kind) {
	case DEBUG_TRAP_INT3:
		if (our_int3(g, v, t->addr))
			return WHY_SWBREAK;
		*verdict = DEBUG_NOT_OURS;
		return WHY_NONE;
	case DEBUG_TRAP_STEP:
		if (g->bp.nstepped && bp_stepped_changed(&g->bp, addr))
			return WHY_WATCH;
		if (step_requested(g, v))
			return WHY_STEP;
		/* A step only the stepped watchpoints asked for. */
		*verdict = DEBUG_CONTINUE;
		return WHY_NONE;
	case DEBUG_TRAP_DB:
		slot = bp_hw_hit(&g->bp, t->dr6);
		if (!slot) {
			*verdict = DEBUG_NOT_OURS;
			return WHY_NONE;
		}
		*addr = slot->addr;
		return slot->type == BP_HW ? WHY_HWBREAK : WHY_WATCH;
	}
	*verdict = DEBUG_NOT_OURS;
	return WHY_NONE;
}

/* Records the event and stops the VM; the first event of a stop wakes
 * the main thread. */
static void record_stop(struct gdb_server *g, struct vcpu *v, const struct stop_event *ev)
{
	bool first;

	pthread_mutex_lock(&g->lock);
	g->cpu[v->index].pending = *ev;
	first = !g->stop_requested;
	if (first) {
		g->stop_requested = true;
		g->first_stop = (int)v->index;
	}
	pthread_mutex_unlock(&g->lock);
	if (first) {
		uint64_t one = 1;

		vm_pause_async(v->vm, PAUSE_DEBUG);
		if (write(g->event_fd, &one, sizeof(one)) < 0)
			log_error("gdb: eventfd write failed: %s", strerror(errno));
	}
}

static enum debug_verdict on_trap(void *opaque, struct vcpu *v, const struct debug_trap *t)
{
	struct gdb_server *g = opaque;
	struct stop_event ev = { 0 };
	enum debug_verdict verdict;

	ev.why = classify(g, v, t, &ev.addr, &verdict);
	if (ev.why == WHY_NONE)
		return verdict;
	if (!cpu_state_get(&v->state, CPU_MASK(CPU_REGS) | CPU_MASK(CPU_SREGS), CAUSE_DEBUG, "gdb")) {
		struct gdb_cpu *c = &g->cpu[v->index];

		ev.rip = v->state.regs->rip;
		ev.rsp = v->state.regs->rsp;
		ev.rbp = v->state.regs->rbp;
		ev.have_regs = true;
		/* The page tables gdb's reads will walk, without a round trip to
		 * this thread (the main thread reads them once all are parked). */
		c->mmu = (struct mmu_ctx){ .mem = &v->vm->mem, .cr0 = v->state.sregs.cr0,
					   .cr3 = v->state.sregs.cr3, .cr4 = v->state.sregs.cr4,
					   .efer = v->state.sregs.efer,
					   .ac = (v->state.regs->rflags >> 18) & 1 };
		c->mmu_valid = true;
	}
	record_stop(g, v, &ev);
	return DEBUG_STOP;
}

/* ---- stop replies ---- */

static void expedite(char **p, char *end, unsigned regno, uint64_t v)
{
	int n = snprintf(*p, (size_t)(end - *p), "%02x:", regno);

	if (n < 0 || n >= end - *p)
		return;
	*p += n;
	for (unsigned i = 0; i < 8 && end - *p > 3; i++, v >>= 8)
		*p += snprintf(*p, (size_t)(end - *p), "%02x", (unsigned)(v & 0xff));
	if (end - *p > 1)
		*p += snprintf(*p, (size_t)(end - *p), ";");
}

void gdb_format_stop(struct gdb_server *g, unsigned cpu, const struct stop_event *ev, char *buf,
		     size_t len)
{
	char *p = buf, *end = buf + len;

	p += snprintf(p, len, "T%02xthread:%02x;", ev->why == WHY_INTERRUPT ? 2 : 5, cpu + 1);
	if (ev->why == WHY_SWBREAK && g->gdb_swbreak)
		p += snprintf(p, (size_t)(end - p), "swbreak:;");
	else if (ev->why == WHY_HWBREAK && g->gdb_hwbreak)
		p += snprintf(p, (size_t)(end - p), "hwbreak:;");
	else if (ev->why == WHY_WATCH)
		p += snprintf(p, (size_t)(end - p), "watch:%llx;", (unsigned long long)ev->addr);
	if (ev->why != WHY_INTERRUPT && ev->have_regs) {
		expedite(&p, end, GDB_REG_RBP, ev->rbp);
		expedite(&p, end, GDB_REG_RSP, ev->rsp);
		expedite(&p, end, GDB_REG_RIP, ev->rip);
	}
}

static void report(struct gdb_server *g, unsigned cpu, const struct stop_event *ev)
{
	gdb_format_stop(g, cpu, ev, g->last_stop, sizeof(g->last_stop));
	g->g_cpu = cpu;
	g->running = false;
	gdb_reply(g, g->last_stop);
}

/* The reported event is spent; an unreported one stays for the next
 * resume, unless it was a step (gdb will step again if it still wants). */
static void consume_events(struct gdb_server *g, int reported)
{
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		if ((int)i == reported || g->cpu[i].pending.why == WHY_STEP)
			g->cpu[i].pending.why = WHY_NONE;
	pthread_mutex_unlock(&g->lock);
}

/* The main thread hears that a vCPU stopped. */
static void on_stop_event(void *opaque, short revents)
{
	struct gdb_server *g = opaque;
	struct stop_event ev;
	uint64_t n;
	int cpu;

	(void)revents;
	if (read(g->event_fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&g->lock);
	cpu = g->stop_requested ? g->first_stop : -1;
	pthread_mutex_unlock(&g->lock);
	if (cpu < 0 || !vm_wait_paused(g->vm))
		return;
	vm_set_run_state(g->vm, RS_DEBUG);
	pthread_mutex_lock(&g->lock);
	ev = g->cpu[cpu].pending;
	pthread_mutex_unlock(&g->lock);
	if (!g->attached) {
		/* The debugger left while the stop was on its way. */
		g->attached = true;
		gdb_detach(g, false);
		return;
	}
	if (!g->running)
		return;
	consume_events(g, cpu);
	report(g, (unsigned)cpu, &ev);
}

/* Stops the VM for the debugger (attach, Ctrl-C, detach while running). */
static bool stop_all(struct gdb_server *g)
{
	/* Never under a snapshot being written: the debugger's resume would
	 * run the vCPUs under the saver (security review 2, N10). */
	if (__atomic_load_n(&g->vm->save_in_progress, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&g->lock);
	g->stop_requested = true;
	if (g->first_stop < 0)
		g->first_stop = (int)g->g_cpu;
	pthread_mutex_unlock(&g->lock);
	if (!vm_pause(g->vm, PAUSE_DEBUG))
		return false;
	vm_set_run_state(g->vm, RS_DEBUG);
	return true;
}

void gdb_interrupt(struct gdb_server *g)
{
	struct stop_event ev = { .why = WHY_INTERRUPT };
	int cpu;

	if (!g->running || !stop_all(g))
		return;
	/* A vCPU that trapped meanwhile has the better reason. */
	pthread_mutex_lock(&g->lock);
	cpu = g->first_stop;
	if (cpu >= 0 && g->cpu[cpu].pending.why != WHY_NONE)
		ev = g->cpu[cpu].pending;
	else
		cpu = (int)g->g_cpu;
	pthread_mutex_unlock(&g->lock);
	consume_events(g, cpu);
	report(g, (unsigned)cpu, &ev);
}

/* ---- resuming ---- */

static void set_debug(struct vcpu *v, void *arg)
{
	struct kvm_guest_debug *d = arg;

	if (vcpu_set_guest_debug(v, d) < 0)
		log_error("gdb: KVM_SET_GUEST_DEBUG on vCPU %u failed", v->index);
}

/* What vCPU i's guest-debug mode must be now. */
static void debug_mode(struct gdb_server *g, unsigned i, struct kvm_guest_debug *d)
{
	memset(d, 0, sizeof(*d));
	if (!g->attached)
		return;            /* detached: guest debugging off */
	d->control = KVM_GUESTDBG_ENABLE;
	bp_guest_debug(&g->bp, d);
	if (g->bp.nsw && g->caps.sw_bp_exit)
		d->control |= KVM_GUESTDBG_USE_SW_BP;
	/* Stepped watchpoints step every instruction of a running vCPU.
	 * Interrupts are held off during every step (KVM_GUESTDBG_BLOCKIRQ):
	 * an interrupt taken during a step lands the step in the handler and
	 * leaves TF in the flags the handler's IRET restores, a #DB the guest
	 * never asked for.  So while a stepped watchpoint is set, the guest
	 * takes no interrupts (as under gdb's own software watchpoints). */
	if (g->cpu[i].action == ACT_STEP || (g->cpu[i].action == ACT_CONT && g->bp.nstepped)) {
		d->control |= KVM_GUESTDBG_SINGLESTEP;
		if (g->caps.guest_debug_flags & KVM_GUESTDBG_BLOCKIRQ)
			d->control |= KVM_GUESTDBG_BLOCKIRQ;
	}
	if (d->control == KVM_GUESTDBG_ENABLE)
		d->control = 0;
}

void gdb_apply_debug(struct gdb_server *g)
{
	for (unsigned i = 0; i < g->vm->ncpus; i++) {
		struct gdb_cpu *c = &g->cpu[i];
		struct kvm_guest_debug d;

		debug_mode(g, i, &d);
		if (c->applied_valid && !memcmp(&d, &c->applied, sizeof(d)))
			continue;
		vcpu_run_on(g->vm->vcpu[i], set_debug, &d);
		c->applied = d;
		c->applied_valid = true;
	}
}

/* An event that happened in the last run but was not reported (another
 * vCPU's came first), still meaningful, on a vCPU that would run now. */
static int leftover_event(struct gdb_server *g)
{
	int found = -1;

	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->vm->ncpus && found < 0; i++) {
		struct stop_event *ev = &g->cpu[i].pending;

		if (ev->why == WHY_NONE || g->cpu[i].action == ACT_STAY)
			continue;
		if (ev->why == WHY_SWBREAK && !bp_sw_linear(&g->bp, ev->rip)) {
			ev->why = WHY_NONE;   /* gdb removed that breakpoint since */
			continue;
		}
		found = (int)i;
	}
	pthread_mutex_unlock(&g->lock);
	return found;
}

/* Forgets the last stop's events: the vCPUs are about to run. */
static void clear_stop(struct gdb_server *g)
{
	pthread_mutex_lock(&g->lock);
	for (unsigned i = 0; i < g->vm->ncpus; i++)
		g->cpu[i].pending.why = WHY_NONE;
	g->stop_requested = false;
	g->first_stop = -1;
	pthread_mutex_unlock(&g->lock);
}

/* Lets the vCPUs go; with `start` also out of prelaunch (--gdb-wait). */
static void lift_pause(struct gdb_server *g, bool start)
{
	struct vm *vm = g->vm;
	unsigned lift = PAUSE_DEBUG | (start ? PAUSE_PRELAUNCH : 0);

	if (!(vm_pause_reasons(vm) & ~lift))
		vm_set_run_state(vm, RS_RUNNING);
	else if (vm_pause_reasons(vm) & PAUSE_PRELAUNCH & ~lift)
		vm_set_run_state(vm, RS_PRELAUNCH);
	vm_resume(vm, lift);
}

void gdb_resume(struct gdb_server *g)
{
	struct vm *vm = g->vm;
	int left = leftover_event(g);

	g->running = true;
	if (left >= 0) {
		struct stop_event ev = g->cpu[left].pending;

		consume_events(g, left);
		report(g, (unsigned)left, &ev);
		return;
	}
	gdb_apply_debug(g);
	bp_stepped_refresh(&g->bp);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_hold(vm->vcpu[i], g->cpu[i].action == ACT_STAY);
	gdb_forget_translations(g);
	clear_stop(g);
	lift_pause(g, true);
}

void gdb_detach(struct gdb_server *g, bool start)
{
	struct vm *vm = g->vm;

	if (!g->attached)
		return;
	if (g->running && !stop_all(g))
		return;
	bp_remove_all(&g->bp);
	for (unsigned i = 0; i < vm->ncpus; i++)
		g->cpu[i].action = ACT_CONT;
	g->attached = false;
	gdb_apply_debug(g);        /* guest debugging off */
	gdb_forget_translations(g);
	g->running = false;
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_hold(vm->vcpu[i], false);
	clear_stop(g);
	lift_pause(g, start);
}

/* ---- the connection ---- */

void gdb_drop_client(struct gdb_server *g)
{
	int fd = g->conn;

	if (fd < 0)
		return;
	mainloop_remove(&g->vm->loop, fd);
	/* A debugger that goes away lets the guest run on, but a guest that
	 * waits for its first instruction (--gdb-wait) waits for the next. */
	gdb_detach(g, false);
	close(fd);
	g->conn = -1;
	sb_free(&g->out);
	g->out_sent = 0;
}

static void feed(struct gdb_server *g, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n && g->conn >= 0; i++) {
		switch (rsp_feed(&g->in, buf[i])) {
		case RSP_PACKET:
			if (!g->noack)
				send_ack(g, '+');
			gdb_handle_packet(g, g->in.buf, g->in.len);
			break;
		case RSP_BAD_CHECKSUM:
			if (!g->noack)
				send_ack(g, '-');
			break;
		case RSP_TOO_LONG:
			if (!g->noack)
				send_ack(g, '+');
			gdb_reply(g, "E01");
			break;
		case RSP_INTERRUPT:
			gdb_interrupt(g);
			break;
		case RSP_NACK:
			/* gdb asks again: the last reply is not kept, and gdb's
			 * own retry of its request will come. */
		case RSP_ACK:
		case RSP_NONE:
			break;
		}
	}
}

static short client_events(void *opaque)
{
	struct gdb_server *g = opaque;

	return (short)(POLLIN | (g->out_sent < g->out.len ? POLLOUT : 0));
}

static void client_ready(void *opaque, short revents)
{
	struct gdb_server *g = opaque;
	uint8_t buf[8192];
	long n;

	if (revents & POLLOUT)
		flush_out(g);
	if (g->conn < 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = socket_read_available(g->conn, buf, sizeof(buf));
	if (n < 0)
		gdb_drop_client(g);
	else if (n > 0)
		feed(g, buf, (size_t)n);
}

static void take_client(struct gdb_server *g, int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->conn = fd;
	g->noack = false;
	g->gdb_swbreak = g->gdb_hwbreak = false;
	g->g_cpu = 0;
	g->c_cpu = -1;
	rsp_reader_init(&g->in);
	if (mainloop_add(&g->vm->loop, fd, client_events, client_ready, g)) {
		close(fd);
		g->conn = -1;
		return;
	}
	gdb_attach_session(g);
}

void gdb_attach_session(struct gdb_server *g)
{
	/* As QEMU: a debugger that attaches stops the VM. */
	if (!stop_all(g))
		return;
	g->attached = true;
	g->running = false;
	consume_events(g, -1);
	snprintf(g->last_stop, sizeof(g->last_stop), "T05thread:01;");
}

static short listen_events(void *opaque)
{
	struct gdb_server *g = opaque;

	/* One debugger at a time: the next waits in the backlog; so does one
	 * that comes while a snapshot is written (attaching stops the VM). */
	return g->conn < 0 && !__atomic_load_n(&g->vm->save_in_progress, __ATOMIC_ACQUIRE) ? POLLIN : 0;
}

static void listen_ready(void *opaque, short revents)
{
	struct gdb_server *g = opaque;
	int fd;

	(void)revents;
	fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		take_client(g, fd);
}

/* ---- the VM's events ---- */

static void on_vm_event(void *opaque, const struct vm_event *ev)
{
	struct gdb_server *g = opaque;

	/* A reset reloaded the boot images over the int3 bytes. */
	if (ev->type == VM_EV_RESET)
		bp_replant(&g->bp);
	/* The vCPUs' page tables may have changed behind the debugger's back
	 * (a reset, or QMP cont while gdb had the VM stopped). */
	if (ev->type == VM_EV_RESET || (ev->type == VM_EV_RUN_STATE && ev->now == RS_RUNNING))
		gdb_forget_translations(g);
}

/* ---- life cycle ---- */

/* The last words to a debugger, at most a second's wait. */
static void send_final(int fd, const char *buf, size_t len)
{
	for (int tries = 0; tries < 100 && len; tries++) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

struct gdb_server *gdb_server_create(struct vm *vm, const char *spec, bool allow_remote, char *err,
				     size_t errlen)
{
	struct gdb_server *g = calloc(1, sizeof(*g));
	struct gdb_spec s;
	uint16_t port = 0;

	if (!g) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	g->vm = vm;
	g->conn = g->listen_fd = g->event_fd = -1;
	g->first_stop = -1;
	pthread_mutex_init(&g->lock, NULL);
	bp_init(&g->bp, &vm->mem, false);
	if (parse_spec(spec, &s, err, errlen))
		goto fail;
	g->cpu = calloc(vm->ncpus, sizeof(*g->cpu));
	g->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!g->cpu || g->event_fd < 0) {
		err_set(err, errlen, "--gdb: out of resources");
		goto fail;
	}
	if (s.unix_socket) {
		g->listen_fd = unix_listen(s.path, "--gdb", err, errlen);
		snprintf(g->unix_path, sizeof(g->unix_path), "%s", s.path);
	} else {
		g->listen_fd = tcp_listen(s.host, s.port, &port, "--gdb", !allow_remote, err, errlen);
	}
	if (g->listen_fd < 0)
		goto fail;
	/* Whoever reaches the port controls the VM (its memory, registers,
	 * kill): never an outside address by accident (security review 2, N6;
	 * tcp_listen refuses one unless allowed). */
	if (gdb_probe_host(vm->kvm_fd, &g->caps))
		log_error("gdb: could not probe the host's guest debugging; data watchpoints "
			  "are stepped");
	else if (!g->caps.debug_exits)
		log_error("gdb: warning: this host's KVM reports no debug exits: breakpoints and "
			  "watchpoints will not stop the guest, nor may single steps (interrupting it "
			  "does)");
	g->bp.hw_data = g->caps.hw_data_breakpoints;
	if (!s.unix_socket)
		log_info("gdb: listening on %s:%u", *s.host ? s.host : "127.0.0.1", port);
	return g;
fail:
	gdb_server_destroy(g, 0);
	return NULL;
}

int gdb_server_attach(struct gdb_server *g)
{
	if (mainloop_add(&g->vm->loop, g->listen_fd, listen_events, listen_ready, g) ||
	    mainloop_add(&g->vm->loop, g->event_fd, watch_pollin, on_stop_event, g) ||
	    vm_add_listener(g->vm, on_vm_event, g))
		return -1;
	g->vm->debug.trap = on_trap;
	g->vm->debug.opaque = g;
	return 0;
}

void gdb_server_destroy(struct gdb_server *g, int exit_status)
{
	char w[8];

	if (!g)
		return;
	if (g->vm->debug.opaque == g) {
		g->vm->debug.trap = NULL;
		g->vm->debug.opaque = NULL;
	}
	vm_remove_listener(g->vm, g);
	if (g->conn >= 0) {
		/* The process is gone, as gdb knows it: W with the status. */
		snprintf(w, sizeof(w), "W%02x", exit_status & 0xff);
		rsp_frame(&g->out, w, strlen(w));
		send_final(g->conn, g->out.buf + g->out_sent, g->out.len - g->out_sent);
		close(g->conn);
	}
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->unix_path[0])
		unlink(g->unix_path);
	if (g->event_fd >= 0)
		close(g->event_fd);
	bp_fini(&g->bp);
	sb_free(&g->out);
	free(g->cpu);
	pthread_mutex_destroy(&g->lock);
	free(g);
}
