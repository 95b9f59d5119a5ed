/*
 * The vCPU state engine: shrike's one copy of each vCPU's architectural
 * state, by register class, and every transfer of it to and from KVM.
 *
 * Each class has a `valid` bit (shrike's copy matches KVM) and a `dirty` bit
 * (shrike's copy is newer than KVM's).  Callers name the classes they need:
 *
 *   cpu_state_get(&vcpu->state, mask, cause, origin)   fetch what is not yet valid
 *   cpu_state_dirty(&vcpu->state, mask, origin)         "I changed these"
 *   cpu_state_put(&vcpu->state, level, cause, origin)   write back at a level
 *
 * Before every KVM_RUN the vCPU thread writes dirty classes back at the
 * RUNTIME level; KVM_RUN then invalidates everything except what
 * KVM_CAP_SYNC_REGS refreshes for free (the general registers, and the
 * segment and control registers, taken from the page when asked).  RESET and
 * FULL puts write every class, in the order documented at cpu_state_put().
 *
 * Only the vCPU's own thread calls these, or any thread while the vCPU is
 * stopped; other threads go through vcpu_run_on() (core/vcpu.h).
 *
 * In SYNC_FULL mode the engine behaves as QEMU does: a get fetches every
 * class, dirtying marks every runtime class dirty, and SYNC_REGS is off.
 */
#ifndef SHRIKE_CPUSTATE_H
#define SHRIKE_CPUSTATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "base/memory.h"
#include "x86/kvm_caps.h"
#include "x86/msr.h"

struct trace;

enum cpu_class {
	CPU_REGS,
	CPU_SREGS,
	CPU_FPU,
	CPU_XCRS,
	CPU_MSRS,
	CPU_EVENTS,
	CPU_MP_STATE,
	CPU_LAPIC,
	CPU_DEBUGREGS,
	CPU_NCLASSES
};

#define CPU_MASK(c) (1u << (c))
#define CPU_ALL     ((1u << CPU_NCLASSES) - 1)
/* Classes a RUNTIME put may write: never MP state or the LAPIC, which other
 * vCPUs and KVM change behind shrike's back. */
#define CPU_RUNTIME_CLASSES (CPU_ALL & ~CPU_MASK(CPU_MP_STATE) & ~CPU_MASK(CPU_LAPIC))

extern const char *const cpu_class_name[CPU_NCLASSES];

enum put_level { PUT_RUNTIME = 1, PUT_RESET = 2, PUT_FULL = 3 };

enum sync_cause {
	CAUSE_POST_INIT,   /* full put after machine creation */
	CAUSE_POST_RESET,  /* reset put after a system reset */
	CAUSE_EXEC,        /* runtime write-back before KVM_RUN */
	CAUSE_SYNC_STATE,  /* someone needed the state */
	CAUSE_DEBUG,       /* diagnostics, the monitor, the debugger */
	CAUSE_SNAPSHOT,    /* a snapshot's save */
	CAUSE_RESTORE,     /* a snapshot's restore (full put) */
	CAUSE_EMULATE,     /* an instruction KVM could not run, completed by shrike */
	CAUSE_NCAUSES
};

extern const char *const sync_cause_name[CAUSE_NCAUSES];
extern const char *const put_level_name[4];

enum sync_mode { SYNC_LAZY, SYNC_FULL };

/* Transfers counted by cause and class, for --stats. */
struct cpu_sync_stats {
	uint64_t gets[CAUSE_NCAUSES];
	uint64_t get_class[CPU_NCLASSES];
	uint64_t puts[4][CAUSE_NCAUSES];       /* [level][cause] */
	uint64_t put_class[CPU_NCLASSES];
};

/*
 * What the x86 code needs of its vCPU and machine, and all it reaches
 * them through: core/vcpu.c fills it in when it makes the vCPU.  (The
 * engine stands below core/, which owns the vCPU's thread and file
 * descriptor; see DEVELOPERS.md, "Layers".)
 */
struct cpu_port {
	unsigned index;                     /* the vCPU's number, 0 = the boot CPU */
	const char *name;                   /* its thread's name, "CPU n/KVM" */
	struct kvm_run *run;
	const struct kvm_caps *caps;
	const struct msr_catalog *msrs;     /* the MSRs the state engine moves */
	const struct kvm_cpuid2 *cpuid;     /* what shrike set for this vCPU */
	enum sync_mode sync;
	struct trace *const *trace;         /* the VM's trace, NULL while there is none */
	struct cpu_sync_stats *stats;
	const struct guest_mem *mem;        /* for reports: the guest's code bytes */
	struct ratelimit *rl;               /* for guest-caused log lines */
	/* A vCPU ioctl, counted; -errno, and -EPERM from a thread that does
	 * not own the vCPU (vcpu_ioctl). */
	int (*ioctl)(void *owner, unsigned long req, void *arg);
	void *owner;
};

struct cpu_state {
	struct cpu_port port;
	unsigned valid;
	unsigned dirty;
	bool regs_in_run;          /* REGS valid from the kvm_run page, not yet reported */
	bool sregs_in_run;         /* SREGS in the kvm_run page (legacy form), not yet taken */
	const char *dirty_origin;  /* who dirtied the state last (trace) */

	struct kvm_regs *regs;     /* &run->s.regs.regs with SYNC_REGS, else &regs_copy */
	struct kvm_regs regs_copy;
	struct kvm_sregs2 sregs;   /* SREGS2 form, converted when KVM lacks it */
	struct kvm_xsave *xsave;   /* with KVM_CAP_XSAVE; sized by KVM_CAP_XSAVE2 */
	size_t xsave_size;
	struct kvm_fpu fpu;        /* without KVM_CAP_XSAVE */
	struct kvm_xcrs xcrs;
	uint64_t *msr_value;       /* indexed like the VM's msr_catalog */
	uint8_t *msr_dirty;        /* per-MSR dirty flags, same index */
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_lapic_state lapic;
	struct kvm_debugregs debugregs;

	struct kvm_msrs *msr_buf;  /* scratch for one KVM_GET/SET_MSRS call */
	struct kvm_msr_entry *msr_list;  /* the MSRs of the current transfer */
};

/* port: copied; its pointers must outlive the state. */
int cpu_state_init(struct cpu_state *s, const struct cpu_port *port);
void cpu_state_free(struct cpu_state *s);

/* Makes the classes in `mask` valid.  Returns 0 or -errno (logged). */
int cpu_state_get(struct cpu_state *s, unsigned mask, enum sync_cause cause, const char *origin);

/* Like cpu_state_get, but asks KVM again for the classes shrike has not
 * changed (a snapshot reads KVM's view, whatever shrike's copy says). */
int cpu_state_refresh(struct cpu_state *s, unsigned mask, enum sync_cause cause,
		      const char *origin);

/* Marks classes as changed by shrike.  Caller must have them valid. */
void cpu_state_dirty(struct cpu_state *s, unsigned mask, const char *origin);

/* Reads/changes one MSR of the catalog (index = MSR number).  The class
 * must be valid.  Return -ENOENT for an MSR not in the catalog. */
int cpu_state_msr_read(struct cpu_state *s, uint32_t msr, uint64_t *value);
int cpu_state_msr_write(struct cpu_state *s, uint32_t msr, uint64_t value, const char *origin);

int cpu_state_put(struct cpu_state *s, enum put_level level, enum sync_cause cause,
		  const char *origin);

/* Called by the run loop around KVM_RUN. */
void cpu_state_before_run(struct cpu_state *s);
void cpu_state_after_run(struct cpu_state *s);

#endif
