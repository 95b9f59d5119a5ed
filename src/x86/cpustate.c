/*
 * The vCPU state engine (see cpustate.h for the model).
 *
 * Get order: MP_STATE first (KVM_GET_MP_STATE runs kvm_apic_accept_events,
 * which can apply a latched INIT/SIPI to the registers, so it must precede
 * REGS/SREGS), then REGS, SREGS, FPU, XCRS, DEBUGREGS, LAPIC, MSRS, and
 * EVENTS last (other gets may change the event state).
 *
 * Put order at RESET/FULL level (see put_all()):
 *   FEATURE_CONTROL   alone, first: leaves VMX operation before SREGS
 *   SREGS             sets EFER and the APIC base before the LAPIC
 *   REGS              KVM_SET_REGS clears pending exceptions: before EVENTS
 *   FPU, XCRS, DEBUGREGS
 *   LAPIC             after SREGS (APIC base), before the MSRs
 *   MSRS              including the TSC
 *   EVENTS            with NMI-pending and SIPI vector
 *   MP_STATE
 *   TSC_DEADLINE      alone, last: after the LAPIC and the TSC
 *
 * A RUNTIME put writes only dirty classes and never MP state, the LAPIC,
 * the TSC, kvmclock or other paravirtual MSRs, the NMI-pending flag, the
 * SIPI vector or the SMM state: other vCPUs and KVM change those while
 * shrike looks elsewhere, and writing a stale copy back loses an INIT, a
 * SIPI, an NMI or time.
 */
#include "x86/cpustate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "x86/trace.h"

const char *const cpu_class_name[CPU_NCLASSES] = {
	"regs", "sregs", "fpu", "xcrs", "msrs", "events", "mp_state", "lapic", "debugregs",
};
const char *const sync_cause_name[CAUSE_NCAUSES] = {
	"post_init", "post_reset", "exec", "sync_state", "debug", "snapshot", "restore", "emulate",
};
const char *const put_level_name[4] = { "none", "runtime", "reset", "full" };

#define MSR_CHUNK 255   /* KVM refuses batches of 256 and more */

/* One get or put being carried out: what it moved, for trace and stats. */
struct xfer {
	unsigned classes;
	unsigned ioctls;
	uint64_t start_ns;
	struct kvm_msr_entry *msrs;
	unsigned nmsrs;
};

static struct trace *trace_of(const struct cpu_state *s)
{
	return s->port.trace ? *s->port.trace : NULL;
}

static bool full_mode(const struct cpu_state *s)
{
	return s->port.sync == SYNC_FULL;
}

static bool uses_sync_regs(const struct cpu_state *s)
{
	return s->regs != &s->regs_copy;
}

/* Segment and control registers from the kvm_run page too (the legacy
 * struct kvm_sregs, converted when asked for): the emulator and the vapic
 * port read them on every exit they handle. */
static bool uses_sync_sregs(const struct cpu_state *s)
{
	return uses_sync_regs(s) && (s->port.caps->sync_regs & KVM_SYNC_X86_SREGS);
}

/* Classes this host's KVM can move; the others are ignored. */
static unsigned supported_classes(const struct cpu_state *s)
{
	const struct kvm_caps *c = s->port.caps;
	unsigned m = CPU_ALL;

	if (!c->xcrs)
		m &= ~CPU_MASK(CPU_XCRS);
	if (!c->vcpu_events)
		m &= ~CPU_MASK(CPU_EVENTS);
	if (!c->debugregs)
		m &= ~CPU_MASK(CPU_DEBUGREGS);
	return m;
}

int cpu_state_init(struct cpu_state *s, const struct cpu_port *port)
{
	unsigned n = port->msrs->n;

	memset(s, 0, sizeof(*s));
	s->port = *port;
	s->regs = &s->regs_copy;
	if (s->port.sync == SYNC_LAZY && (s->port.caps->sync_regs & KVM_SYNC_X86_REGS))
		s->regs = &s->port.run->s.regs.regs;
	if (s->port.caps->xsave) {
		s->xsave_size = s->port.caps->xsave_size;
		s->xsave = calloc(1, s->xsave_size);
	}
	s->msr_value = calloc(n + 1, sizeof(*s->msr_value));
	s->msr_dirty = calloc(n + 1, 1);
	s->msr_buf = calloc(1, sizeof(*s->msr_buf) + (MSR_CHUNK + 1) * sizeof(s->msr_buf->entries[0]));
	s->msr_list = calloc(n + 1, sizeof(*s->msr_list));
	if ((s->port.caps->xsave && !s->xsave) || !s->msr_value || !s->msr_dirty || !s->msr_buf ||
	    !s->msr_list)
		return -ENOMEM;
	return 0;
}

void cpu_state_free(struct cpu_state *s)
{
	free(s->xsave);
	free(s->msr_value);
	free(s->msr_dirty);
	free(s->msr_buf);
	free(s->msr_list);
	memset(s, 0, sizeof(*s));
}

static int xioctl(struct cpu_state *s, struct xfer *x, unsigned long req, void *arg,
		  const char *name)
{
	int r = s->port.ioctl(s->port.owner, req, arg);

	x->ioctls++;
	if (r < 0) {
		log_error("vCPU %u: %s failed: %s", s->port.index, name, strerror(-r));
		return r;
	}
	return 0;
}

static const char *msr_label(uint32_t index)
{
	const char *n = msr_name(index);

	return n ? n : "unnamed";
}

/*
 * KVM_GET/SET_MSRS return the number of entries processed and stop at the
 * first one that fails: a short count is an error naming that MSR.
 */
static int msr_io(struct cpu_state *s, struct xfer *x, bool set, struct kvm_msr_entry *e,
		  unsigned n)
{
	struct kvm_msrs *buf = s->msr_buf;

	for (unsigned done = 0; done < n;) {
		unsigned chunk = n - done < MSR_CHUNK ? n - done : MSR_CHUNK;
		int r;

		buf->nmsrs = chunk;
		memcpy(buf->entries, e + done, chunk * sizeof(*e));
		r = s->port.ioctl(s->port.owner, set ? KVM_SET_MSRS : KVM_GET_MSRS, buf);
		x->ioctls++;
		if (r < 0) {
			log_error("vCPU %u: %s failed: %s", s->port.index,
				  set ? "KVM_SET_MSRS" : "KVM_GET_MSRS", strerror(-r));
			return r;
		}
		if ((unsigned)r < chunk) {
			const struct kvm_msr_entry *bad = &buf->entries[r];

			if (set)
				log_error("vCPU %u: KVM_SET_MSRS stopped at MSR 0x%x (%s) = 0x%llx "
					  "(%u of %u written)", s->port.index, bad->index,
					  msr_label(bad->index), (unsigned long long)bad->data,
					  done + (unsigned)r, n);
			else
				log_error("vCPU %u: KVM_GET_MSRS stopped at MSR 0x%x (%s) "
					  "(%u of %u read)", s->port.index, bad->index,
					  msr_label(bad->index), done + (unsigned)r, n);
			return -EIO;
		}
		if (!set)
			memcpy(e + done, buf->entries, chunk * sizeof(*e));
		done += chunk;
	}
	return 0;
}

/* Records the MSRs of a transfer for the trace (appended to x). */
static void note_msrs(struct cpu_state *s, struct xfer *x, const struct kvm_msr_entry *e,
		      unsigned n)
{
	struct kvm_msr_entry *list = s->msr_list;

	if (!x->msrs)
		x->msrs = list;
	for (unsigned i = 0; i < n && x->nmsrs <= s->port.msrs->n; i++)
		list[x->nmsrs++] = e[i];
}

/* ---- per-class get ---- */

static void sregs_from_legacy(struct kvm_sregs2 *d, const struct kvm_sregs *s)
{
	memset(d, 0, sizeof(*d));
	d->cs = s->cs; d->ds = s->ds; d->es = s->es; d->fs = s->fs; d->gs = s->gs; d->ss = s->ss;
	d->tr = s->tr; d->ldt = s->ldt; d->gdt = s->gdt; d->idt = s->idt;
	d->cr0 = s->cr0; d->cr2 = s->cr2; d->cr3 = s->cr3; d->cr4 = s->cr4; d->cr8 = s->cr8;
	d->efer = s->efer; d->apic_base = s->apic_base;
}

static void sregs_to_legacy(struct kvm_sregs *d, const struct kvm_sregs2 *s)
{
	/* The interrupt bitmap stays zero: pending interrupts travel in EVENTS. */
	memset(d, 0, sizeof(*d));
	d->cs = s->cs; d->ds = s->ds; d->es = s->es; d->fs = s->fs; d->gs = s->gs; d->ss = s->ss;
	d->tr = s->tr; d->ldt = s->ldt; d->gdt = s->gdt; d->idt = s->idt;
	d->cr0 = s->cr0; d->cr2 = s->cr2; d->cr3 = s->cr3; d->cr4 = s->cr4; d->cr8 = s->cr8;
	d->efer = s->efer; d->apic_base = s->apic_base;
}

static int get_sregs(struct cpu_state *s, struct xfer *x)
{
	struct kvm_sregs legacy;
	int r;

	if (s->port.caps->sregs2)
		return xioctl(s, x, KVM_GET_SREGS2, &s->sregs, "KVM_GET_SREGS2");
	r = xioctl(s, x, KVM_GET_SREGS, &legacy, "KVM_GET_SREGS");
	if (!r)
		sregs_from_legacy(&s->sregs, &legacy);
	return r;
}

static int get_fpu(struct cpu_state *s, struct xfer *x)
{

	if (!s->xsave)
		return xioctl(s, x, KVM_GET_FPU, &s->fpu, "KVM_GET_FPU");
	if (s->xsave_size > sizeof(struct kvm_xsave))
		return xioctl(s, x, KVM_GET_XSAVE2, s->xsave, "KVM_GET_XSAVE2");
	return xioctl(s, x, KVM_GET_XSAVE, s->xsave, "KVM_GET_XSAVE");
}

static int get_msrs(struct cpu_state *s, struct xfer *x)
{
	const struct msr_catalog *cat = s->port.msrs;
	struct kvm_msr_entry *e = s->msr_list + 0;
	int r;

	/* The list buffer doubles as the trace record of this get. */
	for (unsigned i = 0; i < cat->n; i++)
		e[i] = (struct kvm_msr_entry){ .index = cat->msr[i].index };
	r = msr_io(s, x, false, e, cat->n);
	if (r)
		return r;
	for (unsigned i = 0; i < cat->n; i++) {
		s->msr_value[i] = e[i].data;
		s->msr_dirty[i] = 0;
	}
	x->msrs = e;
	x->nmsrs = cat->n;
	return 0;
}

static int get_class(struct cpu_state *s, struct xfer *x, enum cpu_class c)
{

	switch (c) {
	case CPU_REGS:      return xioctl(s, x, KVM_GET_REGS, s->regs, "KVM_GET_REGS");
	case CPU_SREGS:     return get_sregs(s, x);
	case CPU_FPU:       return get_fpu(s, x);
	case CPU_XCRS:      return xioctl(s, x, KVM_GET_XCRS, &s->xcrs, "KVM_GET_XCRS");
	case CPU_MSRS:      return get_msrs(s, x);
	case CPU_EVENTS:    return xioctl(s, x, KVM_GET_VCPU_EVENTS, &s->events, "KVM_GET_VCPU_EVENTS");
	case CPU_MP_STATE:  return xioctl(s, x, KVM_GET_MP_STATE, &s->mp, "KVM_GET_MP_STATE");
	case CPU_LAPIC:     return xioctl(s, x, KVM_GET_LAPIC, &s->lapic, "KVM_GET_LAPIC");
	case CPU_DEBUGREGS: return xioctl(s, x, KVM_GET_DEBUGREGS, &s->debugregs, "KVM_GET_DEBUGREGS");
	default:            return -EINVAL;
	}
}

static const enum cpu_class get_order[] = {
	CPU_MP_STATE, CPU_REGS, CPU_SREGS, CPU_FPU, CPU_XCRS, CPU_DEBUGREGS, CPU_LAPIC, CPU_MSRS,
	CPU_EVENTS,
};

static void finish(struct cpu_state *s, struct xfer *x, bool put, enum put_level level,
		   enum sync_cause cause, const char *origin)
{
	struct cpu_sync_stats *st = s->port.stats;

	for (unsigned c = 0; c < CPU_NCLASSES; c++) {
		if (!(x->classes & CPU_MASK(c)))
			continue;
		if (put)
			st->put_class[c]++;
		else
			st->get_class[c]++;
	}
	if (put)
		st->puts[level][cause]++;
	else
		st->gets[cause]++;
	if (trace_of(s)) {
		struct trace_event ev = {
			.vcpu = s->port.index, .thread = s->port.name, .put = put, .level = level,
			.cause = cause, .origin = origin, .classes = x->classes,
			.ioctls = x->ioctls, .start_ns = x->start_ns,
			.dur_ns = now_ns() - x->start_ns, .msrs = x->msrs, .nmsrs = x->nmsrs,
		};
		trace_emit(trace_of(s), &ev);
	}
}

int cpu_state_get(struct cpu_state *s, unsigned mask, enum sync_cause cause, const char *origin)
{
	struct xfer x = { .start_ns = now_ns() };
	unsigned want;

	if (full_mode(s))
		mask = CPU_ALL;
	mask &= supported_classes(s);
	want = mask & ~s->valid;
	/* General registers that KVM_RUN left in the kvm_run page: a transfer
	 * that cost no ioctl, reported once per exit. */
	if ((mask & CPU_MASK(CPU_REGS)) && s->regs_in_run) {
		x.classes |= CPU_MASK(CPU_REGS);
		s->regs_in_run = false;
	}
	if ((want & CPU_MASK(CPU_SREGS)) && s->sregs_in_run) {
		sregs_from_legacy(&s->sregs, &s->port.run->s.regs.sregs);
		s->valid |= CPU_MASK(CPU_SREGS);
		want &= ~CPU_MASK(CPU_SREGS);
		x.classes |= CPU_MASK(CPU_SREGS);
		s->sregs_in_run = false;
	}
	for (size_t i = 0; i < sizeof(get_order) / sizeof(get_order[0]); i++) {
		enum cpu_class c = get_order[i];
		int r;

		if (!(want & CPU_MASK(c)))
			continue;
		r = get_class(s, &x, c);
		if (r)
			return r;
		s->valid |= CPU_MASK(c);
		x.classes |= CPU_MASK(c);
	}
	if (x.classes)
		finish(s, &x, false, PUT_RUNTIME, cause, origin);
	return 0;
}

int cpu_state_refresh(struct cpu_state *s, unsigned mask, enum sync_cause cause,
		      const char *origin)
{

	/* Dirty classes are newer in shrike's copy: those stay. */
	s->valid &= ~(mask & ~s->dirty);
	if (mask & CPU_MASK(CPU_REGS) & ~s->dirty)
		s->regs_in_run = false;
	if (mask & CPU_MASK(CPU_SREGS) & ~s->dirty)
		s->sregs_in_run = false;
	return cpu_state_get(s, mask, cause, origin);
}

void cpu_state_dirty(struct cpu_state *s, unsigned mask, const char *origin)
{

	if (full_mode(s))
		mask |= CPU_RUNTIME_CLASSES;
	mask &= supported_classes(s);
	if (mask & ~s->valid) {
		/* A programming error: dirtying a copy that was never fetched
		 * would write garbage into KVM.  Drop those classes. */
		log_error("vCPU %u: %s dirtied classes 0x%x that are not valid", s->port.index,
			  origin ? origin : "?", mask & ~s->valid);
		mask &= s->valid;
	}
	s->dirty |= mask;
	s->dirty_origin = origin;
}

int cpu_state_msr_read(struct cpu_state *s, uint32_t msr, uint64_t *value)
{
	int i = msr_catalog_find(s->port.msrs, msr);

	if (i < 0)
		return -ENOENT;
	*value = s->msr_value[i];
	return 0;
}

int cpu_state_msr_write(struct cpu_state *s, uint32_t msr, uint64_t value, const char *origin)
{
	int i = msr_catalog_find(s->port.msrs, msr);

	if (i < 0)
		return -ENOENT;
	if (!(s->valid & CPU_MASK(CPU_MSRS)))
		return -EINVAL;
	s->msr_value[i] = value;
	s->msr_dirty[i] = 1;
	cpu_state_dirty(s, CPU_MASK(CPU_MSRS), origin);
	return 0;
}

/* ---- put ---- */

static int put_sregs(struct cpu_state *s, struct xfer *x)
{
	struct kvm_sregs legacy;

	if (s->port.caps->sregs2)
		return xioctl(s, x, KVM_SET_SREGS2, &s->sregs, "KVM_SET_SREGS2");
	sregs_to_legacy(&legacy, &s->sregs);
	return xioctl(s, x, KVM_SET_SREGS, &legacy, "KVM_SET_SREGS");
}

static int put_fpu(struct cpu_state *s, struct xfer *x)
{

	if (!s->xsave)
		return xioctl(s, x, KVM_SET_FPU, &s->fpu, "KVM_SET_FPU");
	/* There is no KVM_SET_XSAVE2: KVM_SET_XSAVE takes the larger buffer. */
	return xioctl(s, x, KVM_SET_XSAVE, s->xsave, "KVM_SET_XSAVE");
}

static int put_events(struct cpu_state *s, struct xfer *x, enum put_level level)
{
	struct kvm_vcpu_events ev = s->events;

	/* At runtime only what this vCPU alone changes: the exception and
	 * interrupt being injected, NMI injected/masked, the interrupt shadow.
	 * NMI-pending, the SIPI vector and SMM state are written only at reset
	 * and full level. */
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	if (level >= PUT_RESET)
		ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			    KVM_VCPUEVENT_VALID_SMM;
	return xioctl(s, x, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS");
}

/* Writes the catalog MSRs that the level allows (or, at runtime in lazy
 * mode, those that changed), except FEATURE_CONTROL and TSC_DEADLINE. */
static int put_msrs(struct cpu_state *s, struct xfer *x, enum put_level level)
{
	const struct msr_catalog *cat = s->port.msrs;
	struct kvm_msr_entry *e = s->msr_list + x->nmsrs;
	unsigned n = 0;
	int r;

	for (unsigned i = 0; i < cat->n; i++) {
		enum msr_kind kind = cat->msr[i].kind;

		if (kind == MSR_KIND_FEATURE_CONTROL || kind == MSR_KIND_TSC_DEADLINE)
			continue;
		if (level == PUT_RUNTIME) {
			if (kind != MSR_KIND_RUNTIME) {
				if (s->msr_dirty[i]) {
					log_error("vCPU %u: MSR 0x%x (%s) changed at runtime; only a "
						  "reset or full put may write it", s->port.index,
						  cat->msr[i].index, msr_label(cat->msr[i].index));
					return -EINVAL;
				}
				continue;
			}
			if (!full_mode(s) && !s->msr_dirty[i])
				continue;
		}
		e[n++] = (struct kvm_msr_entry){ .index = cat->msr[i].index, .data = s->msr_value[i] };
	}
	if (!n)
		return 0;
	r = msr_io(s, x, true, e, n);
	if (!r)
		note_msrs(s, x, e, n);
	return r;
}

/* FEATURE_CONTROL or TSC_DEADLINE, alone.  `force`: write even if clean. */
static int put_one_msr(struct cpu_state *s, struct xfer *x, enum msr_kind kind, bool force)
{
	const struct msr_catalog *cat = s->port.msrs;

	for (unsigned i = 0; i < cat->n; i++) {
		struct kvm_msr_entry e;
		int r;

		if (cat->msr[i].kind != kind || (!force && !s->msr_dirty[i]))
			continue;
		e = (struct kvm_msr_entry){ .index = cat->msr[i].index, .data = s->msr_value[i] };
		r = msr_io(s, x, true, &e, 1);
		if (r)
			return r;
		note_msrs(s, x, &e, 1);
	}
	return 0;
}

static int put_regs_ioctl(struct cpu_state *s, struct xfer *x)
{
	/* One owner for the register set: the ioctl writes what shrike holds,
	 * so a pending kvm_run copy must not be applied on top of it. */
	s->port.run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_REGS;
	return xioctl(s, x, KVM_SET_REGS, s->regs, "KVM_SET_REGS");
}

static int put_simple(struct cpu_state *s, struct xfer *x, enum cpu_class c)
{

	switch (c) {
	case CPU_SREGS:     return put_sregs(s, x);
	case CPU_REGS:      return put_regs_ioctl(s, x);
	case CPU_FPU:       return put_fpu(s, x);
	case CPU_XCRS:      return xioctl(s, x, KVM_SET_XCRS, &s->xcrs, "KVM_SET_XCRS");
	case CPU_DEBUGREGS: return xioctl(s, x, KVM_SET_DEBUGREGS, &s->debugregs, "KVM_SET_DEBUGREGS");
	case CPU_LAPIC:     return xioctl(s, x, KVM_SET_LAPIC, &s->lapic, "KVM_SET_LAPIC");
	case CPU_MP_STATE:  return xioctl(s, x, KVM_SET_MP_STATE, &s->mp, "KVM_SET_MP_STATE");
	default:            return -EINVAL;
	}
}

/* RESET and FULL: every class, in the documented order. */
static int put_all(struct cpu_state *s, struct xfer *x, enum put_level level)
{
	static const enum cpu_class early[] = { CPU_SREGS, CPU_REGS, CPU_FPU, CPU_XCRS,
						CPU_DEBUGREGS, CPU_LAPIC };
	unsigned sup = supported_classes(s);
	int r;

	r = put_one_msr(s, x, MSR_KIND_FEATURE_CONTROL, true);
	for (size_t i = 0; !r && i < sizeof(early) / sizeof(early[0]); i++)
		if (sup & CPU_MASK(early[i]))
			r = put_simple(s, x, early[i]);
	if (!r)
		r = put_msrs(s, x, level);
	if (!r && (sup & CPU_MASK(CPU_EVENTS)))
		r = put_events(s, x, level);
	if (!r)
		r = put_simple(s, x, CPU_MP_STATE);
	if (!r)
		r = put_one_msr(s, x, MSR_KIND_TSC_DEADLINE, true);
	if (!r)
		x->classes = sup;
	return r;
}

/* RUNTIME: dirty classes only. */
static int put_runtime(struct cpu_state *s, struct xfer *x)
{
	unsigned dirty = s->dirty;
	int r = 0;

	if (dirty & ~CPU_RUNTIME_CLASSES) {
		log_error("vCPU %u: %s changed mp_state or lapic; only a reset or full put may "
			  "write them", s->port.index, s->dirty_origin ? s->dirty_origin : "?");
		return -EINVAL;
	}
	if (dirty & CPU_MASK(CPU_SREGS))
		r = put_sregs(s, x);
	if (!r && (dirty & CPU_MASK(CPU_REGS))) {
		/* Through the kvm_run page (no ioctl) unless EVENTS follow: KVM
		 * applies the page at entry, after the EVENTS ioctl, and setting
		 * registers clears a pending exception. */
		if (uses_sync_regs(s) && !(dirty & CPU_MASK(CPU_EVENTS)))
			s->port.run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		else
			r = put_regs_ioctl(s, x);
	}
	if (!r && (dirty & CPU_MASK(CPU_FPU)))
		r = put_fpu(s, x);
	if (!r && (dirty & CPU_MASK(CPU_XCRS)))
		r = xioctl(s, x, KVM_SET_XCRS, &s->xcrs, "KVM_SET_XCRS");
	if (!r && (dirty & CPU_MASK(CPU_DEBUGREGS)))
		r = xioctl(s, x, KVM_SET_DEBUGREGS, &s->debugregs, "KVM_SET_DEBUGREGS");
	if (!r && (dirty & CPU_MASK(CPU_MSRS)))
		r = put_msrs(s, x, PUT_RUNTIME);
	if (!r && (dirty & CPU_MASK(CPU_EVENTS)))
		r = put_events(s, x, PUT_RUNTIME);
	/* The deadline only if it was changed: rewriting a value read before
	 * the timer fired would arm it a second time. */
	if (!r && (dirty & CPU_MASK(CPU_MSRS)))
		r = put_one_msr(s, x, MSR_KIND_TSC_DEADLINE, false);
	if (!r)
		x->classes = dirty;
	return r;
}

int cpu_state_put(struct cpu_state *s, enum put_level level, enum sync_cause cause,
		  const char *origin)
{
	struct xfer x = { .start_ns = now_ns() };
	int r;

	if (level == PUT_RUNTIME && !s->dirty)
		return 0;
	if (!origin)
		origin = s->dirty_origin;
	r = level == PUT_RUNTIME ? put_runtime(s, &x) : put_all(s, &x, level);
	if (r)
		return r;
	memset(s->msr_dirty, 0, s->port.msrs->n);
	s->valid |= x.classes;
	s->dirty = 0;
	s->dirty_origin = NULL;
	finish(s, &x, true, level, cause, origin);
	return 0;
}

void cpu_state_before_run(struct cpu_state *s)
{
	s->port.run->kvm_valid_regs = (uses_sync_regs(s) ? KVM_SYNC_X86_REGS : 0) |
				 (uses_sync_sregs(s) ? KVM_SYNC_X86_SREGS : 0);
}

void cpu_state_after_run(struct cpu_state *s)
{

	/* The guest ran: only what KVM copied into kvm_run is still valid. */
	s->valid = uses_sync_regs(s) ? CPU_MASK(CPU_REGS) : 0;
	s->regs_in_run = uses_sync_regs(s);
	s->sregs_in_run = uses_sync_sregs(s);
}
