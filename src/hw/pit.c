/*
 * The 8254 programmable interval timer (split irqchip mode): channels 0-2
 * at 0x40-0x42, the control word at 0x43, and port 0x61 (channel 2's gate,
 * the speaker enable, the refresh toggle and channel 2's output, which
 * guests poll to calibrate their TSC).  Channel 0 drives ISA IRQ 0.
 *
 * Counters are computed from the host's monotonic clock at 1.193182 MHz
 * since the count was loaded, so a read is exact and nothing runs while
 * the guest only reads.  Channel 0's interrupts come from one timerfd on
 * the main loop, armed at absolute times computed from the load time, so
 * the rate does not drift; when the host falls behind, the periods it
 * missed are counted (--stats) and one interrupt stands for all of them
 * rather than a burst (lost ticks do not pile up).  The host timer fires
 * at most every MIN_PERIOD_NS.
 *
 * Modes 0-5 with binary counting (BCD is taken as binary), latch and
 * read-back commands, LSB/MSB access modes.  Gate: channel 2's from port
 * 0x61 (a rising edge restarts modes 1, 2, 3 and 5; low holds OUT high in
 * modes 2 and 3); channels 0 and 1 are always gated on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define PIT_HZ        1193182ull
#define NS            1000000000ull
#define MIN_PERIOD_NS 50000ull
#define REFRESH_NS    15085ull     /* port 0x61 bit 4 toggles at ~66 kHz */

enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3 };

struct channel {
	uint16_t reload;           /* 0 means 65536 */
	uint8_t mode;              /* 0-5 */
	uint8_t rw;                /* RW_* */
	bool bcd;
	bool gate;
	bool loaded;               /* a count was written since the mode */
	bool triggered;            /* modes 1 and 5: the gate rose */
	uint64_t start_ns;         /* counting (re)started */
	bool write_msb_next;       /* RW_WORD: the LSB came, the MSB is next */
	uint8_t write_lsb;
	bool read_msb_next;
	bool count_latched;
	uint16_t latch;
	bool latch_msb_next;
	bool status_latched;
	uint8_t status;
};

struct pit {
	struct vm *vm;
	pthread_mutex_t lock;
	struct channel ch[3];
	uint8_t port61;            /* bits 0-3 as written */
	int tfd;
	uint64_t periods_done;     /* channel 0: periods signalled since start */
	uint64_t irqs, missed;
};

static unsigned count_of(const struct channel *c)
{
	return c->reload ? c->reload : 65536u;
}

/* Input clock ticks since the channel started counting. */
static uint64_t ticks(const struct channel *c, uint64_t now)
{
	uint64_t ns = now > c->start_ns ? now - c->start_ns : 0;

	return (uint64_t)((unsigned __int128)ns * PIT_HZ / NS);
}

/* When input clock tick `t` happens. */
static uint64_t time_of_tick(const struct channel *c, uint64_t t)
{
	return c->start_ns + (uint64_t)(((unsigned __int128)t * NS + PIT_HZ - 1) / PIT_HZ);
}

static bool counting(const struct channel *c)
{
	if (!c->loaded)
		return false;
	if (c->mode == 1 || c->mode == 5)
		return c->triggered;
	return true;
}

static uint16_t counter_value(const struct channel *c, uint64_t now)
{
	unsigned n = count_of(c);
	uint64_t d;

	if (!counting(c))
		return c->reload;
	d = ticks(c, now);
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - d % n);
	case 3:
		return (uint16_t)((n - (2 * d) % n) & 0xfffe);
	default:                   /* 0, 1, 4, 5: down through zero, wrapping */
		return (uint16_t)(n - d);
	}
}

static bool output(const struct channel *c, uint64_t now)
{
	unsigned n = count_of(c);
	uint64_t d;

	if (!c->gate && (c->mode == 2 || c->mode == 3))
		return true;
	if (!counting(c))
		return c->mode != 0;   /* mode 0 starts low, the others high */
	d = ticks(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return d >= n;
	case 2:
		return d % n != n - 1;
	case 3:
		return d % n < (n + 1) / 2;
	default:                   /* 4, 5: low for the one tick at zero */
		return d != n;
	}
}

/* ---- channel 0's interrupts ---- */

static bool periodic(const struct channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

/* Arms the host timer for channel 0's next rising edge (or disarms it). */
static void arm(struct pit *p, uint64_t now)
{
	const struct channel *c = &p->ch[0];
	struct itimerspec its = { 0 };
	uint64_t n = count_of(c), next, at;

	if (c->loaded && (periodic(c) || (c->mode == 0 || c->mode == 4))) {
		if (periodic(c)) {
			next = time_of_tick(c, (p->periods_done + 1) * n);
			/* Never faster than the host timer's floor. */
			if (next < now + MIN_PERIOD_NS && next > now)
				next = now + MIN_PERIOD_NS;
		} else {
			next = p->periods_done ? 0 : time_of_tick(c, n + (c->mode == 4));
		}
		if (next) {
			at = next > now ? next : now + 1;
			its.it_value.tv_sec = (time_t)(at / NS);
			its.it_value.tv_nsec = (long)(at % NS);
		}
	}
	if (p->tfd >= 0 && timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_error("pit: timerfd_settime: %s", strerror(errno));
}

static void pulse_irq0(struct pit *p)
{
	p->irqs++;
	vm_set_irq(p->vm, 0, true);
	vm_set_irq(p->vm, 0, false);
}

static void on_timer(void *opaque, short revents)
{
	struct pit *p = opaque;
	const struct channel *c = &p->ch[0];
	uint64_t expirations, now, periods;

	(void)revents;
	if (read(p->tfd, &expirations, sizeof(expirations)) < 0)
		return;
	pthread_mutex_lock(&p->lock);
	now = now_ns();
	if (c->loaded && periodic(c)) {
		periods = ticks(c, now) / count_of(c);
		if (periods > p->periods_done) {
			p->missed += periods - p->periods_done - 1;
			p->periods_done = periods;
			pulse_irq0(p);
		}
	} else if (c->loaded && !p->periods_done &&
		   ticks(c, now) >= count_of(c) + (c->mode == 4)) {
		p->periods_done = 1;
		pulse_irq0(p);
	}
	arm(p, now);
	pthread_mutex_unlock(&p->lock);
}

/* ---- registers ---- */

static void start(struct pit *p, unsigned i, uint64_t now)
{
	struct channel *c = &p->ch[i];

	c->loaded = true;
	c->start_ns = now;
	if (i == 0) {
		p->periods_done = 0;
		arm(p, now);
	}
}

static void write_count(struct pit *p, unsigned i, uint8_t v)
{
	struct channel *c = &p->ch[i];

	switch (c->rw) {
	case RW_LSB:
		c->reload = v;
		break;
	case RW_MSB:
		c->reload = (uint16_t)(v << 8);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			return;
		}
		c->write_msb_next = false;
		c->reload = (uint16_t)(c->write_lsb | v << 8);
		break;
	}
	/* Modes 1 and 5 wait for the gate; the others count from now. */
	start(p, i, now_ns());
}

static uint8_t status_of(const struct channel *c, uint64_t now)
{
	return (uint8_t)((output(c, now) ? 0x80 : 0) | (c->loaded ? 0 : 0x40) | c->rw << 4 |
			 c->mode << 1 | c->bcd);
}

static void latch_count(struct channel *c, uint64_t now)
{
	if (c->count_latched)
		return;            /* the first latch holds until read */
	c->latch = counter_value(c, now);
	c->count_latched = true;
	c->latch_msb_next = false;
}

static void control_word(struct pit *p, uint8_t v)
{
	unsigned sel = v >> 6;
	uint64_t now = now_ns();
	struct channel *c;

	if (sel == 3) {                    /* read-back */
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			c = &p->ch[i];
			if (!(v & 0x20))
				latch_count(c, now);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = status_of(c, now);
				c->status_latched = true;
			}
		}
		return;
	}
	c = &p->ch[sel];
	if (((v >> 4) & 3) == RW_LATCH) {
		latch_count(c, now);
		return;
	}
	c->rw = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;              /* 6 and 7 are 2 and 3 */
	c->bcd = v & 1;
	c->loaded = false;
	c->triggered = false;
	c->write_msb_next = c->read_msb_next = false;
	c->count_latched = c->status_latched = false;
	if (sel == 0)
		arm(p, now);
}

static uint8_t read_channel(struct channel *c)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		v = c->latch;
		if (c->rw == RW_WORD && !c->latch_msb_next) {
			c->latch_msb_next = true;
			return (uint8_t)v;
		}
		c->count_latched = false;
		return (uint8_t)(c->rw == RW_LSB ? v : v >> 8);
	}
	v = counter_value(c, now_ns());
	switch (c->rw) {
	case RW_LSB:
		return (uint8_t)v;
	case RW_MSB:
		return (uint8_t)(v >> 8);
	default:
		c->read_msb_next = !c->read_msb_next;
		return (uint8_t)(c->read_msb_next ? v : v >> 8);
	}
}

static uint64_t pit_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct pit *p = opaque;
	uint8_t v = 0xff;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&p->lock);
	if (off < 3)
		v = read_channel(&p->ch[off]);
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void pit_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t val, unsigned size)
{
	struct pit *p = opaque;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&p->lock);
	if (off < 3)
		write_count(p, (unsigned)off, (uint8_t)val);
	else if (off == 3)
		control_word(p, (uint8_t)val);
	pthread_mutex_unlock(&p->lock);
}

/* Port 0x61: bit 0 gate 2, bit 1 speaker on, bit 4 refresh, bit 5 OUT2. */
static uint64_t port61_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct pit *p = opaque;
	uint64_t now = now_ns();
	uint8_t v;

	(void)vcpu, (void)size, (void)off;
	pthread_mutex_lock(&p->lock);
	v = (uint8_t)((p->port61 & 0x0f) | ((now / REFRESH_NS) & 1) << 4 |
		      (output(&p->ch[2], now) ? 0x20 : 0));
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void set_gate(struct pit *p, unsigned i, bool gate, uint64_t now)
{
	struct channel *c = &p->ch[i];
	bool rising = gate && !c->gate;

	c->gate = gate;
	if (!rising || !c->loaded)
		return;
	switch (c->mode) {
	case 1:
	case 5:
		c->triggered = true;
		/* fall through */
	case 2:
	case 3:
		c->start_ns = now;     /* a rising gate restarts the count */
		break;
	default:
		break;
	}
}

static void port61_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t val,
			 unsigned size)
{
	struct pit *p = opaque;

	(void)vcpu, (void)size, (void)off;
	pthread_mutex_lock(&p->lock);
	p->port61 = (uint8_t)val & 0x0f;
	set_gate(p, 2, val & 1, now_ns());
	pthread_mutex_unlock(&p->lock);
}

static const struct io_ops pit_ops = {
	.read = pit_read, .write = pit_write,
	.valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};
static const struct io_ops port61_ops = {
	.read = port61_read, .write = port61_write,
	.valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};

/* ---- the device ---- */

static void reset_locked(struct pit *p)
{
	memset(p->ch, 0, sizeof(p->ch));
	for (unsigned i = 0; i < 3; i++) {
		p->ch[i].gate = i != 2;
		p->ch[i].rw = RW_WORD;
	}
	p->port61 = 0;
	p->periods_done = 0;
	arm(p, now_ns());
}

static void pit_reset(void *opaque)
{
	struct pit *p = opaque;

	pthread_mutex_lock(&p->lock);
	reset_locked(p);
	pthread_mutex_unlock(&p->lock);
}

/* Times are saved relative to now, so a restore continues each count
 * where it was. */
static int pit_save(void *opaque, struct snap_writer *w)
{
	struct pit *p = opaque;
	uint64_t now = now_ns();

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < 3; i++) {
		const struct channel *c = &p->ch[i];

		snap_put_u16(w, c->reload);
		snap_put(w, (uint8_t[]){ c->mode, c->rw, c->bcd, c->gate, c->loaded, c->triggered,
					 c->write_msb_next, c->write_lsb, c->read_msb_next,
					 c->count_latched, c->latch_msb_next, c->status_latched,
					 c->status }, 13);
		snap_put_u16(w, c->latch);
		snap_put_u64(w, now - c->start_ns);
	}
	snap_put_u8(w, p->port61);
	snap_put_u64(w, p->periods_done);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static bool load_channel(struct snap_reader *r, struct channel *c, uint64_t now)
{
	uint8_t b[13];
	uint64_t age;

	c->reload = snap_get_u16(r);
	snap_get(r, b, sizeof(b));
	c->latch = snap_get_u16(r);
	age = snap_get_u64(r);
	if (b[0] > 5 || b[1] > 3 || age > now)
		return false;
	c->mode = b[0];
	c->rw = b[1];
	c->bcd = b[2];
	c->gate = b[3];
	c->loaded = b[4];
	c->triggered = b[5];
	c->write_msb_next = b[6];
	c->write_lsb = b[7];
	c->read_msb_next = b[8];
	c->count_latched = b[9];
	c->latch_msb_next = b[10];
	c->status_latched = b[11];
	c->status = b[12];
	c->start_ns = now - age;
	return true;
}

static int pit_load(void *opaque, struct snap_reader *r)
{
	struct pit *p = opaque;
	uint64_t now = now_ns();
	bool ok = true;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < 3 && ok; i++)
		ok = load_channel(r, &p->ch[i], now);
	p->port61 = snap_get_u8(r) & 0x0f;
	p->periods_done = snap_get_u64(r);
	ok = ok && snap_done(r);
	if (!ok)
		reset_locked(p);
	arm(p, now);
	pthread_mutex_unlock(&p->lock);
	return ok ? 0 : -1;
}

static void pit_stats(void *opaque, FILE *f)
{
	struct pit *p = opaque;

	fprintf(f, "  pit: %llu interrupts, %llu periods missed by the host\n",
		(unsigned long long)p->irqs, (unsigned long long)p->missed);
}

static void pit_destroy(void *opaque)
{
	struct pit *p = opaque;

	if (p->tfd >= 0) {
		mainloop_remove(&p->vm->loop, p->tfd);
		close(p->tfd);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int pit_create(struct vm *vm, const struct device_params *params)
{
	struct pit *p = calloc(1, sizeof(*p));

	(void)params;
	if (!p)
		return -ENOMEM;
	p->vm = vm;
	pthread_mutex_init(&p->lock, NULL);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->tfd < 0 || mainloop_add(&vm->loop, p->tfd, watch_pollin, on_timer, p)) {
		log_error("pit: cannot create its timer: %s", strerror(errno));
		pit_destroy(p);
		return -1;
	}
	reset_locked(p);
	if (vm_add_device(vm, &pit_model, p)) {
		pit_destroy(p);
		return -ENOSPC;
	}
	if (iobus_register(&vm->pio, 0x40, 4, &pit_ops, p, "pit") ||
	    iobus_register(&vm->pio, 0x61, 1, &port61_ops, p, "port61"))
		return -1;
	return 0;
}

const struct device_model pit_model = {
	.name = "pit",
	.create = pit_create,
	.reset = pit_reset,
	.save = pit_save,
	.load = pit_load,
	.stats = pit_stats,
	.destroy = pit_destroy,
};
