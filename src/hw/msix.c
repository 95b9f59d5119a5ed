#include "hw/msix.h"

#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/irq.h"
#include "core/vm.h"
#include "hw/pci.h"
#include "base/stream.h"

#define CTRL_ENABLE  0x8000
#define CTRL_MASKALL 0x4000
#define ENTRY_MASKED 1u

static bool vector_ready(const struct msix *m, unsigned v)
{
	return m->enabled && !m->masked && !(m->entry[v].ctrl & ENTRY_MASKED);
}

static uint64_t entry_addr(const struct msix *m, unsigned v)
{
	return (uint64_t)m->entry[v].addr_hi << 32 | m->entry[v].addr_lo;
}

/* Under m->lock: vector v's route follows its table entry. */
static void sync_route(struct msix *m, unsigned v)
{
	if (m->irqfd)
		irq_msi_route_set(m->vm, m->gsi[v], entry_addr(m, v), m->entry[v].data);
}

/* Under m->lock: deliver every pending vector that may go now. */
static void flush_pending(struct msix *m)
{
	for (unsigned v = 0; v < m->nvec; v++) {
		if (!(m->pending >> v & 1) || !vector_ready(m, v))
			continue;
		m->pending &= ~(1ull << v);
		m->delivered++;
		if (m->irqfd) {
			__atomic_fetch_add(&m->vm->irq.count.msi_fired, 1, __ATOMIC_RELAXED);
			eventfd_write(m->efd[v], 1);
		} else {
			vm_signal_msi(m->vm, entry_addr(m, v), m->entry[v].data);
		}
	}
}

int msix_direct_fd(struct msix *m, unsigned v)
{
	int fd = -1;

	if (v >= m->nvec)
		return -1;
	pthread_mutex_lock(&m->lock);
	if (m->irqfd && vector_ready(m, v))
		fd = m->efd[v];
	pthread_mutex_unlock(&m->lock);
	return fd;
}

static void tell_readiness(struct msix *m)
{
	if (m->readiness_changed)
		m->readiness_changed(m->readiness_opaque);
}

bool msix_enabled(struct msix *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}

void msix_notify(struct msix *m, unsigned v)
{
	if (v >= m->nvec)
		return;
	pthread_mutex_lock(&m->lock);
	m->pending |= 1ull << v;
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_config_written(struct msix *m)
{
	uint16_t ctrl = pci_get16(m->fn->config + m->cap + 2);

	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & CTRL_ENABLE;
	m->masked = ctrl & CTRL_MASKALL;
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
	tell_readiness(m);
}

void msix_save(struct msix *m, struct snap_writer *w)
{
	pthread_mutex_lock(&m->lock);
	snap_put_u32(w, m->nvec);
	for (unsigned v = 0; v < m->nvec; v++) {
		snap_put_u32(w, m->entry[v].addr_lo);
		snap_put_u32(w, m->entry[v].addr_hi);
		snap_put_u32(w, m->entry[v].data);
		snap_put_u32(w, m->entry[v].ctrl);
	}
	snap_put_u64(w, m->pending);
	pthread_mutex_unlock(&m->lock);
}

int msix_load(struct msix *m, struct snap_reader *r)
{
	uint32_t n = snap_get_u32(r);

	if (n != m->nvec)
		return -1;
	pthread_mutex_lock(&m->lock);
	for (unsigned v = 0; v < m->nvec; v++) {
		m->entry[v].addr_lo = snap_get_u32(r) & ~3u;
		m->entry[v].addr_hi = snap_get_u32(r);
		m->entry[v].data = snap_get_u32(r);
		m->entry[v].ctrl = snap_get_u32(r) & ENTRY_MASKED;
	}
	m->pending = snap_get_u64(r) & (m->nvec < 64 ? (1ull << m->nvec) - 1 : ~0ull);
	for (unsigned v = 0; v < m->nvec; v++)
		sync_route(m, v);
	pthread_mutex_unlock(&m->lock);
	return r->failed ? -1 : 0;
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	memset(m->entry, 0, sizeof(m->entry));
	for (unsigned v = 0; v < m->nvec; v++)
		m->entry[v].ctrl = ENTRY_MASKED;
	m->pending = 0;
	m->enabled = m->masked = false;
	for (unsigned v = 0; v < m->nvec; v++)
		sync_route(m, v);
	pthread_mutex_unlock(&m->lock);
}

/* ---- the table and the PBA (dword accesses; a qword is split) ---- */

static uint64_t table_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct msix *m = opaque;
	unsigned v = (unsigned)(off / 16), word = (unsigned)(off % 16) / 4;
	uint32_t r = 0;

	(void)vcpu, (void)size;
	if (v >= m->nvec)
		return 0;
	pthread_mutex_lock(&m->lock);
	switch (word) {
	case 0: r = m->entry[v].addr_lo; break;
	case 1: r = m->entry[v].addr_hi; break;
	case 2: r = m->entry[v].data; break;
	default: r = m->entry[v].ctrl; break;
	}
	pthread_mutex_unlock(&m->lock);
	return r;
}

static void table_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			unsigned size)
{
	struct msix *m = opaque;
	unsigned v = (unsigned)(off / 16), word = (unsigned)(off % 16) / 4;

	(void)vcpu, (void)size;
	if (v >= m->nvec)
		return;
	pthread_mutex_lock(&m->lock);
	switch (word) {
	case 0: m->entry[v].addr_lo = (uint32_t)value & ~3u; sync_route(m, v); break;
	case 1: m->entry[v].addr_hi = (uint32_t)value; sync_route(m, v); break;
	case 2: m->entry[v].data = (uint32_t)value; sync_route(m, v); break;
	default:
		m->entry[v].ctrl = (uint32_t)value & ENTRY_MASKED;
		flush_pending(m);          /* unmasking delivers what waited */
		break;
	}
	pthread_mutex_unlock(&m->lock);
	if (word == 3)
		tell_readiness(m);
}

static uint64_t pba_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct msix *m = opaque;
	uint64_t v;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&m->lock);
	v = off < 8 ? m->pending >> (off * 8) : 0;
	pthread_mutex_unlock(&m->lock);
	return (uint32_t)v;
}

static void pba_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
		      unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)value, (void)size;   /* read-only */
}

static const struct io_ops table_ops = {
	.read = table_read, .write = table_write,
	.valid_min = 4, .valid_max = 8, .impl_min = 4, .impl_max = 4,
};

static const struct io_ops pba_ops = {
	.read = pba_read, .write = pba_write,
	.valid_min = 4, .valid_max = 8, .impl_min = 4, .impl_max = 4,
};

/* A route and an irqfd per vector; any failure (a KVM without irqfd, or
 * the routes ran out) and every vector goes by KVM_SIGNAL_MSI instead. */
static void setup_irqfds(struct msix *m)
{
	for (unsigned v = 0; v < m->nvec; v++) {
		int gsi = irq_msi_route_add(m->vm);

		m->efd[v] = gsi < 0 ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->efd[v] < 0 || irq_irqfd(m->vm, m->efd[v], (unsigned)gsi)) {
			for (unsigned i = 0; i <= v; i++)
				if (m->efd[i] >= 0)
					close(m->efd[i]);
			memset(m->efd, 0, sizeof(m->efd));
			return;
		}
		m->gsi[v] = (unsigned)gsi;
	}
	m->irqfd = true;
}

int msix_init(struct msix *m, struct vm *vm, struct pci_function *f, unsigned nvec,
	      unsigned bar, uint64_t table_off, uint64_t pba_off)
{
	unsigned cap;

	if (!nvec || nvec > MSIX_MAX_VECTORS || bar > 5 || !f->bar[bar].size)
		return -1;
	memset(m, 0, sizeof(*m));
	m->vm = vm;
	m->fn = f;
	m->nvec = nvec;
	pthread_mutex_init(&m->lock, NULL);
	msix_reset(m);
	cap = pci_add_capability(f, PCI_CAP_ID_MSIX, 12);
	if (!cap)
		return -1;
	m->cap = cap;
	pci_put16(f->config + cap + 2, (uint16_t)(nvec - 1));
	pci_put16(f->wmask + cap + 2, CTRL_ENABLE | CTRL_MASKALL);
	pci_put32(f->config + cap + 4, (uint32_t)table_off | bar);
	pci_put32(f->config + cap + 8, (uint32_t)pba_off | bar);
	if (iobus_register(&f->bar[bar].regions, table_off, nvec * 16ull, &table_ops, m,
			   "msix-table") ||
	    iobus_register(&f->bar[bar].regions, pba_off, 8, &pba_ops, m, "msix-pba"))
		return -1;
	setup_irqfds(m);
	return 0;
}

void msix_destroy(struct msix *m)
{
	/* The irqfds go with the VM's file descriptor. */
	for (unsigned v = 0; v < m->nvec; v++)
		if (m->efd[v] > 0)
			close(m->efd[v]);
	pthread_mutex_destroy(&m->lock);
}
