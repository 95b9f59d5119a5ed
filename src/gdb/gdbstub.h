/*
 * The debugger's server: gdb's remote serial protocol over TCP or a Unix
 * socket, one debugger at a time, on the main thread's loop.
 *
 *   --gdb tcp:HOST:PORT   listen (an empty HOST means 127.0.0.1, never
 *                         every address; PORT 0 picks a free port, logged)
 *   --gdb unix:PATH       listen on a Unix socket (mode 0600)
 *   --gdb-wait            the vCPUs stay before their first instruction
 *                         until gdb (or QMP cont) lets them go
 *
 * All-stop: a debugger that attaches stops the VM; when one vCPU stops
 * (breakpoint, step, watchpoint, Ctrl-C) every vCPU is parked before gdb
 * hears of it.  Threads are vCPUs (thread id = index + 1).  Registers go
 * through the state engine (cause debug); memory is read through the
 * selected vCPU's page tables.  `D` and a dropped connection remove every
 * breakpoint and let the guest run on (after a dropped connection, a guest
 * still waiting for its first instruction under --gdb-wait waits for the
 * next debugger); `k` ends the VM.
 */
#ifndef SHRIKE_GDBSTUB_H
#define SHRIKE_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>

struct vm;
struct gdb_server;

/* Checks a --gdb argument without creating anything; 0 or -1 with a
 * one-line message. */
int gdb_check_spec(const char *spec, char *err, size_t errlen);

/* Creates the listening socket and probes the host's guest debugging.
 * NULL with a one-line message. */
/* allow_remote: a TCP listener may be on an address other hosts reach
 * (--gdb-allow-remote); otherwise only loopback is accepted. */
struct gdb_server *gdb_server_create(struct vm *vm, const char *spec, bool allow_remote, char *err,
				     size_t errlen);
/* Joins the VM's main loop and hooks the vCPUs' debug traps. */
int gdb_server_attach(struct gdb_server *g);
/* Tells a connected gdb that the VM ended (W packet), closes everything. */
void gdb_server_destroy(struct gdb_server *g, int exit_status);

#endif
