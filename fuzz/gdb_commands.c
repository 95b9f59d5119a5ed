/*
 * libFuzzer target: the debugger's command table on a stopped fake VM (no
 * KVM): two vCPUs whose state the engine holds as fetched (long mode,
 * paging over 4 MiB of RAM), a session attached, replies going to a
 * socket pair.  The input is packets separated by NUL; each goes through
 * gdb_handle_packet() as the server would hand it: registers, memory by
 * virtual address (m, M, X), breakpoints and watchpoints, threads,
 * queries, monitor commands.  Run control (c, s, C, S, vCont;, D, k,
 * vKill) is left out: it resumes vCPU threads this harness does not have.
 * After each input the registers, page tables and breakpoints are put
 * back, so inputs do not depend on each other.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_vm.h"
#include "gdb/gdbstub.h"
#include "gdb/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_vm f;
static struct gdb_server *g;
static int peer = -1;

static void connect_session(void)
{
	if (g->conn >= 0)
		close(g->conn);
	fake_vm_socketpair(&g->conn, &peer);
	g->attached = true;
	g->running = false;
	snprintf(g->last_stop, sizeof(g->last_stop), "T05thread:01;");
}

static void setup(void)
{
	char err[300], spec[80];

	fake_vm_init(&f);
	snprintf(spec, sizeof(spec), "unix:/tmp/fuzz-gdb-%d.sock", (int)getpid());
	g = gdb_server_create(&f.vm, spec, false, err, sizeof(err));
	if (!g)
		abort();
	unlink(spec + 5);
	connect_session();
}

/* Puts back what a packet may have changed. */
static void restore(void)
{
	char drain[65536];

	while (read(peer, drain, sizeof(drain)) > 0)
		;
	bp_remove_all(&g->bp);
	fake_vm_reset(&f);
	for (unsigned i = 0; i < FAKE_NCPUS; i++)
		g->cpu[i].mmu_valid = false;
	g->g_cpu = 0;
	g->c_cpu = -1;
	g->noack = false;
	if (g->conn < 0 || !g->attached || g->running)
		connect_session();
	g->out.len = 0;
	g->out_sent = 0;
}

static bool runs_the_guest(const char *p)
{
	return strchr("csCSDk", p[0]) || !strncmp(p, "vCont;", 6) || !strncmp(p, "vKill", 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	size_t start = 0;

	if (!copy)
		return 0;
	if (!g)
		setup();
	memcpy(copy, data, size);
	copy[size] = 0;
	for (size_t i = 0; i <= size; i++) {
		char *pkt = copy + start;
		size_t len = i - start;

		if (i < size && copy[i])
			continue;
		start = i + 1;
		if (!len || runs_the_guest(pkt))
			continue;
		gdb_handle_packet(g, pkt, len);
	}
	restore();
	free(copy);
	return 0;
}
