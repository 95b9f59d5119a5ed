/* Inside the debugger's server (gdb/): the session shared by the
 * connection code (gdbstub.c), the packet handlers (commands.c) and the
 * vCPUs' trap hook. */
#ifndef SHRIKE_GDB_INTERNAL_H
#define SHRIKE_GDB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "base/strbuf.h"
#include "gdb/breakpoints.h"
#include "gdb/packet.h"
#include "gdb/probe.h"
#include "x86/mmu.h"

struct vm;
struct vcpu;

#define GDB_OUT_LIMIT (4u << 20)   /* replies a client has not read */

/* Why a vCPU stopped, as gdb's stop reply says it. */
enum stop_why { WHY_NONE, WHY_STEP, WHY_SWBREAK, WHY_HWBREAK, WHY_WATCH, WHY_INTERRUPT };

struct stop_event {
	enum stop_why why;
	uint64_t addr;             /* the watched address */
	bool have_regs;
	uint64_t rip, rsp, rbp;    /* expedited in the stop reply */
};

/* What the last resume asked of a vCPU. */
enum action { ACT_STAY, ACT_CONT, ACT_STEP, ACT_UNSET };

struct gdb_cpu {
	enum action action;
	struct stop_event pending;   /* under gdb_server.lock */
	struct kvm_guest_debug applied;
	bool applied_valid;
	struct mmu_ctx mmu;          /* for memory access, valid while stopped */
	bool mmu_valid;
};

struct gdb_server {
	struct vm *vm;
	int listen_fd;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int conn;                    /* -1: no debugger */
	int event_fd;                /* a vCPU stopped: wakes the main thread */
	struct gdb_host_caps caps;
	struct breakpoints bp;
	struct gdb_cpu *cpu;         /* per vCPU */

	struct rsp_reader in;
	struct strbuf out;
	size_t out_sent;
	bool noack;
	bool gdb_swbreak, gdb_hwbreak;   /* gdb understands these stop reasons */
	unsigned g_cpu;              /* Hg: registers and memory */
	int c_cpu;                   /* Hc: -1 all */
	bool attached;               /* a session: the VM is the debugger's */
	bool running;                /* resumed: gdb waits for a stop reply */
	char last_stop[128];         /* for `?` */

	pthread_mutex_t lock;        /* pending events, stop_requested */
	bool stop_requested;         /* a stop is on its way to the main thread */
	int first_stop;              /* the vCPU whose event came first, -1 none */
};

/* commands.c */
/* Handles one packet's payload (NUL-terminated, escapes kept). */
void gdb_handle_packet(struct gdb_server *g, char *pkt, size_t len);

/* gdbstub.c */
void gdb_reply(struct gdb_server *g, const char *payload);
void gdb_reply_bin(struct gdb_server *g, const void *payload, size_t len);
/* Lets the vCPUs run as their actions say (or reports a pending event at
 * once). */
void gdb_resume(struct gdb_server *g);
/* Stops every vCPU (Ctrl-C) and reports. */
void gdb_interrupt(struct gdb_server *g);
/* Removes breakpoints and lets the guest run (start: out of prelaunch
 * too, as D does); the connection stays. */
void gdb_detach(struct gdb_server *g, bool start);
/* Stops the VM for a (new) session. */
void gdb_attach_session(struct gdb_server *g);
/* Ends the connection (after D, k, EOF). */
void gdb_drop_client(struct gdb_server *g);
/* Writes the new debug-register and single-step settings to the vCPUs. */
void gdb_apply_debug(struct gdb_server *g);
/* The stop reply for vCPU `cpu`'s event (into buf). */
void gdb_format_stop(struct gdb_server *g, unsigned cpu, const struct stop_event *ev, char *buf,
		     size_t len);

/* memory.c: guest-virtual memory as the vCPU `cpu` sees it. */
/* Reads up to len bytes; returns how many (stops at the first unmapped
 * byte or non-RAM). */
size_t gdb_read_memory(struct gdb_server *g, unsigned cpu, uint64_t addr, uint8_t *buf,
		       size_t len);
size_t gdb_write_memory(struct gdb_server *g, unsigned cpu, uint64_t addr, const uint8_t *buf,
			size_t len);
/* The guest-physical address of a linear one; false if unmapped. */
bool gdb_translate(struct gdb_server *g, unsigned cpu, uint64_t addr, gpa_t *gpa);
void gdb_forget_translations(struct gdb_server *g);

#endif
