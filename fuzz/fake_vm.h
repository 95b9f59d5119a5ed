/*
 * A stopped VM without KVM, for the fuzz targets that drive the control
 * surfaces (the debugger's commands, QMP's): vCPUs whose state the engine
 * holds as if fetched (long mode, paging over identity-mapped RAM), no
 * threads (work "queued" to a vCPU runs at once), no devices; KVM calls
 * fail (descriptors are -1) and are logged to /dev/null.  fake_vm_reset()
 * puts registers and page tables back between inputs.
 */
#ifndef SHRIKE_FUZZ_FAKE_VM_H
#define SHRIKE_FUZZ_FAKE_VM_H

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "core/vcpu.h"
#include "core/vm.h"

#define FAKE_RAM      (4u << 20)
#define FAKE_PT_BYTES 0x4000        /* the page tables, 0x1000-0x3fff */
#define FAKE_NCPUS    2

struct fake_vm {
	struct vm vm;
	uint8_t page_tables[FAKE_PT_BYTES];
	struct kvm_regs regs[FAKE_NCPUS];
	struct kvm_sregs2 sregs[FAKE_NCPUS];
};

/* Identity-mapped 4 MiB in two large pages. */
static inline void fake_vm_paging(struct fake_vm *f)
{
	uint64_t *pml4 = (uint64_t *)(f->vm.mem.host + 0x1000);
	uint64_t *pdpt = (uint64_t *)(f->vm.mem.host + 0x2000);
	uint64_t *pd = (uint64_t *)(f->vm.mem.host + 0x3000);

	pml4[0] = 0x2000 | 3;
	pdpt[0] = 0x3000 | 3;
	pd[0] = 0x000000 | 0x83;
	pd[1] = 0x200000 | 0x83;
	memcpy(f->page_tables, f->vm.mem.host, FAKE_PT_BYTES);
}

static inline void fake_vm_vcpu(struct fake_vm *f, unsigned i)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	struct cpu_state *s;

	if (!v)
		abort();
	v->vm = &f->vm;
	v->index = i;
	v->fd = -1;
	v->run = calloc(1, 4096);
	snprintf(v->name, sizeof(v->name), "CPU %u/KVM", i);
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	if (!v->run || vcpu_state_init(v))
		abort();
	s = &v->state;
	s->sregs.cr0 = 0x80050033;
	s->sregs.cr3 = 0x1000;
	s->sregs.cr4 = 0x20;
	s->sregs.efer = 0x500;
	s->sregs.cs = (struct kvm_segment){ .selector = 0x10, .type = 11, .present = 1, .s = 1,
					    .l = 1, .limit = 0xffffffff, .g = 1 };
	s->regs->rip = 0x100000 + i * 0x1000;
	s->regs->rsp = 0x300000;
	s->valid = CPU_ALL;
	f->regs[i] = *s->regs;
	f->sregs[i] = s->sregs;
	f->vm.vcpu[i] = v;
}

/* A connected pair, both ends non-blocking: *mine for the server under
 * test, *peer drained by the harness (an old *peer is closed). */
static inline void fake_vm_socketpair(int *mine, int *peer)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (*peer >= 0)
		close(*peer);
	*mine = sv[0];
	*peer = sv[1];
}

static inline void fake_vm_init(struct fake_vm *f)
{
	FILE *null = fopen("/dev/null", "w");

	if (null)
		log_set_sink(null);
	f->vm.ncpus = FAKE_NCPUS;
	f->vm.kvm_fd = f->vm.vm_fd = -1;
	f->vm.vcpu = calloc(FAKE_NCPUS, sizeof(*f->vm.vcpu));
	if (!f->vm.vcpu || guest_mem_init(&f->vm.mem, FAKE_RAM))
		abort();
	fake_vm_paging(f);
	for (unsigned i = 0; i < FAKE_NCPUS; i++)
		fake_vm_vcpu(f, i);
}

static inline void fake_vm_reset(struct fake_vm *f)
{
	memcpy(f->vm.mem.host, f->page_tables, FAKE_PT_BYTES);
	for (unsigned i = 0; i < FAKE_NCPUS; i++) {
		struct cpu_state *s = &f->vm.vcpu[i]->state;

		*s->regs = f->regs[i];
		s->sregs = f->sregs[i];
		s->valid = CPU_ALL;
		s->dirty = 0;
	}
}

#endif
