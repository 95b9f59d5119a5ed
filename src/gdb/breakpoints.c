#include "gdb/breakpoints.h"

#include <errno.h>
#include <string.h>

#define INT3 0xcc

void bp_init(struct breakpoints *b, const struct guest_mem *mem, bool hw_data)
{
	memset(b, 0, sizeof(*b));
	b->mem = mem;
	b->hw_data = hw_data;
	pthread_mutex_init(&b->lock, NULL);
}

void bp_fini(struct breakpoints *b)
{
	pthread_mutex_destroy(&b->lock);
}

/* ---- software breakpoints ---- */

static uint8_t *byte_at(const struct breakpoints *b, gpa_t gpa)
{
	return gpa_to_hva(b->mem, gpa, 1);
}

static int find_linear(const struct breakpoints *b, uint64_t linear)
{
	for (unsigned i = 0; i < b->nsw; i++)
		if (b->sw[i].linear == linear)
			return (int)i;
	return -1;
}

int bp_sw_insert(struct breakpoints *b, uint64_t linear, gpa_t gpa)
{
	uint8_t *p = byte_at(b, gpa);
	struct sw_bp *bp;

	if (find_linear(b, linear) >= 0)
		return -EEXIST;
	if (!p)
		return -EFAULT;
	if (b->nsw == BP_MAX_SW)
		return -ENOSPC;
	bp = &b->sw[b->nsw++];
	bp->linear = linear;
	bp->gpa = gpa;
	/* Two linear addresses can name one byte: the original is the byte
	 * under the first breakpoint. */
	bp->orig = *p;
	for (unsigned i = 0; i + 1 < b->nsw; i++)
		if (b->sw[i].gpa == gpa)
			bp->orig = b->sw[i].orig;
	*p = INT3;
	return 0;
}

static bool gpa_shared(const struct breakpoints *b, gpa_t gpa)
{
	for (unsigned i = 0; i < b->nsw; i++)
		if (b->sw[i].gpa == gpa)
			return true;
	return false;
}

int bp_sw_remove(struct breakpoints *b, uint64_t linear)
{
	int i = find_linear(b, linear);
	struct sw_bp bp;
	uint8_t *p;

	if (i < 0)
		return -ENOENT;
	bp = b->sw[i];
	b->sw[i] = b->sw[--b->nsw];
	p = byte_at(b, bp.gpa);
	/* The guest may have rewritten the byte since (new code): leave it. */
	if (p && *p == INT3 && !gpa_shared(b, bp.gpa))
		*p = bp.orig;
	return 0;
}

bool bp_sw_at(const struct breakpoints *b, gpa_t gpa)
{
	return gpa_shared(b, gpa);
}

bool bp_sw_linear(const struct breakpoints *b, uint64_t linear)
{
	return find_linear(b, linear) >= 0;
}

void bp_hide(const struct breakpoints *b, gpa_t gpa, uint8_t *buf, uint64_t len)
{
	for (unsigned i = 0; i < b->nsw; i++)
		if (b->sw[i].gpa >= gpa && b->sw[i].gpa - gpa < len)
			buf[b->sw[i].gpa - gpa] = b->sw[i].orig;
}

void bp_write(struct breakpoints *b, gpa_t gpa, const uint8_t *buf, uint64_t len)
{
	for (unsigned i = 0; i < b->nsw; i++) {
		struct sw_bp *bp = &b->sw[i];
		uint8_t *p;

		if (bp->gpa < gpa || bp->gpa - gpa >= len)
			continue;
		bp->orig = buf[bp->gpa - gpa];
		p = byte_at(b, bp->gpa);
		if (p)
			*p = INT3;
	}
}

void bp_replant(struct breakpoints *b)
{
	for (unsigned i = 0; i < b->nsw; i++) {
		uint8_t *p = byte_at(b, b->sw[i].gpa);

		if (p && *p != INT3) {
			/* What the reload put there is the original now. */
			for (unsigned j = i; j < b->nsw; j++)
				if (b->sw[j].gpa == b->sw[i].gpa)
					b->sw[j].orig = *p;
			*p = INT3;
		}
	}
}

void bp_sw_remove_all(struct breakpoints *b)
{
	while (b->nsw)
		bp_sw_remove(b, b->sw[b->nsw - 1].linear);
}

/* ---- debug registers ---- */

static bool hw_shape_ok(uint64_t addr, unsigned len)
{
	return (len == 1 || len == 2 || len == 4 || len == 8) && !(addr & (len - 1));
}

int bp_hw_insert(struct breakpoints *b, enum bp_type type, uint64_t addr, unsigned len)
{
	if (type == BP_READ || (type != BP_HW && !b->hw_data))
		return -ENOTSUP;   /* x86 has no read-only watch: gdb falls back */
	if (type == BP_HW)
		len = 1;
	if (!hw_shape_ok(addr, len))
		return -EINVAL;
	for (unsigned i = 0; i < BP_HW_SLOTS; i++) {
		if (b->hw[i].used)
			continue;
		b->hw[i] = (struct hw_slot){ .used = true, .type = type, .addr = addr, .len = len };
		return 0;
	}
	return -ENOSPC;
}

int bp_hw_remove(struct breakpoints *b, enum bp_type type, uint64_t addr, unsigned len)
{
	for (unsigned i = 0; i < BP_HW_SLOTS; i++) {
		struct hw_slot *s = &b->hw[i];

		if (s->used && s->type == type && s->addr == addr &&
		    (type == BP_HW || s->len == len)) {
			s->used = false;
			return 0;
		}
	}
	return -ENOENT;
}

const struct hw_slot *bp_hw_hit(const struct breakpoints *b, uint64_t dr6)
{
	for (unsigned i = 0; i < BP_HW_SLOTS; i++)
		if ((dr6 & (1u << i)) && b->hw[i].used)
			return &b->hw[i];
	return NULL;
}

/* DR7: L<i> enables slot i; R/W<i> 00 execute, 01 write, 11 read/write;
 * LEN<i> 00 1 byte, 01 2, 11 4, 10 8. */
void bp_guest_debug(const struct breakpoints *b, struct kvm_guest_debug *d)
{
	static const unsigned len_bits[9] = { [1] = 0, [2] = 1, [4] = 3, [8] = 2 };
	uint64_t dr7 = 0;

	memset(d->arch.debugreg, 0, sizeof(d->arch.debugreg));
	for (unsigned i = 0; i < BP_HW_SLOTS; i++) {
		const struct hw_slot *s = &b->hw[i];
		unsigned rw;

		if (!s->used)
			continue;
		rw = s->type == BP_HW ? 0 : s->type == BP_WRITE ? 1 : 3;
		d->arch.debugreg[i] = s->addr;
		dr7 |= 1ull << (2 * i);
		dr7 |= (uint64_t)(rw | (s->type == BP_HW ? 0 : len_bits[s->len]) << 2) << (16 + 4 * i);
	}
	if (dr7) {
		d->arch.debugreg[7] = dr7 | (1ull << 10);  /* bit 10 reads as 1 */
		d->control |= KVM_GUESTDBG_USE_HW_BP;
	}
}

/* ---- stepped write watchpoints ---- */

static void read_watch(const struct breakpoints *b, const struct stepped_watch *w, uint8_t *out)
{
	for (unsigned i = 0; i < w->len; i++) {
		const uint8_t *p = byte_at(b, w->gpa[i]);

		out[i] = p ? __atomic_load_n(p, __ATOMIC_RELAXED) : 0;
	}
}

int bp_stepped_insert(struct breakpoints *b, uint64_t addr, unsigned len, const gpa_t *gpa)
{
	if (!len || len > BP_WATCH_MAX_LEN)
		return -EINVAL;
	for (unsigned i = 0; i < BP_MAX_STEPPED; i++) {
		struct stepped_watch *w = &b->stepped[i];

		if (w->used)
			continue;
		w->used = true;
		w->addr = addr;
		w->len = len;
		memcpy(w->gpa, gpa, len * sizeof(*gpa));
		read_watch(b, w, w->last);
		b->nstepped++;
		return 0;
	}
	return -ENOSPC;
}

int bp_stepped_remove(struct breakpoints *b, uint64_t addr, unsigned len)
{
	for (unsigned i = 0; i < BP_MAX_STEPPED; i++) {
		struct stepped_watch *w = &b->stepped[i];

		if (w->used && w->addr == addr && w->len == len) {
			w->used = false;
			b->nstepped--;
			return 0;
		}
	}
	return -ENOENT;
}

void bp_stepped_refresh(struct breakpoints *b)
{
	for (unsigned i = 0; i < BP_MAX_STEPPED; i++)
		if (b->stepped[i].used)
			read_watch(b, &b->stepped[i], b->stepped[i].last);
}

bool bp_stepped_changed(struct breakpoints *b, uint64_t *addr)
{
	bool hit = false;

	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < BP_MAX_STEPPED && !hit; i++) {
		struct stepped_watch *w = &b->stepped[i];
		uint8_t now[BP_WATCH_MAX_LEN];

		if (!w->used)
			continue;
		read_watch(b, w, now);
		if (memcmp(now, w->last, w->len)) {
			memcpy(w->last, now, w->len);
			*addr = w->addr;
			hit = true;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return hit;
}

void bp_remove_all(struct breakpoints *b)
{
	bp_sw_remove_all(b);
	memset(b->hw, 0, sizeof(b->hw));
	memset(b->stepped, 0, sizeof(b->stepped));
	b->nstepped = 0;
}
