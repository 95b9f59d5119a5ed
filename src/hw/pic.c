/*
 * The PC's two 8259A interrupt controllers (split irqchip mode): master at
 * 0x20/0x21 with the slave cascaded on its IRQ 2, slave at 0xa0/0xa1, and
 * the edge/level control registers (ELCR) at 0x4d0/0x4d1.
 *
 * What PC guests use of the 8259A: the ICW1-ICW4 initialization sequence
 * (vector base, auto-EOI, special fully nested mode), OCW1 masks, OCW2
 * EOIs (non-specific, specific, rotating, set priority), OCW3 (read IRR or
 * ISR, poll, special mask mode), edge- and level-triggered inputs, and the
 * spurious IRQ 7 / 15 an acknowledge cycle returns when the request went
 * away.  The master's output is the line to vCPU 0's LINT0 (ExtINT,
 * core/irq.c), acknowledged when KVM can inject the vector.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/irq.h"
#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

struct i8259 {
	uint8_t irr;               /* requests */
	uint8_t isr;               /* in service */
	uint8_t imr;               /* masked */
	uint8_t last_level;        /* input levels, for edge detection */
	uint8_t elcr;              /* level-triggered inputs */
	uint8_t elcr_mask;         /* inputs that may be level-triggered */
	uint8_t vector_base;       /* ICW2 */
	uint8_t lowest;            /* the input with the lowest priority (rotation) */
	uint8_t init_step;         /* 0 ready, 1 ICW2, 2 ICW3, 3 ICW4 next */
	bool icw4_needed;
	bool single;
	bool auto_eoi;
	bool rotate_on_auto_eoi;
	bool fully_nested;         /* special fully nested mode (master) */
	bool special_mask;
	bool read_isr;             /* OCW3: reads at the command port give ISR */
	bool poll;                 /* OCW3: the next read is a poll */
};

struct pic {
	struct vm *vm;
	pthread_mutex_t lock;
	struct i8259 chip[2];      /* master, slave */
	bool output;
	uint64_t spurious;
	uint64_t acks;
};

/* ---- one chip ---- */

/* Priority order starts after the lowest-priority input: returns the rank
 * (0 highest) of the best input in `bits`, 8 if none. */
static unsigned best_rank(const struct i8259 *c, uint8_t bits)
{
	for (unsigned rank = 0; rank < 8; rank++)
		if (bits & (1u << ((c->lowest + 1 + rank) & 7)))
			return rank;
	return 8;
}

static unsigned input_of(const struct i8259 *c, unsigned rank)
{
	return (c->lowest + 1 + rank) & 7;
}

/* The input the chip would present now, or -1.  `is_master`: the slave's
 * in-service request does not block the cascade input in special fully
 * nested mode. */
static int pending_input(const struct i8259 *c, bool is_master)
{
	uint8_t want = c->irr & ~c->imr, serving = c->isr;
	unsigned rank = best_rank(c, want);

	if (rank == 8)
		return -1;
	if (c->special_mask)
		serving &= ~c->imr;
	if (is_master && c->fully_nested)
		serving &= ~(1u << 2);
	/* Only a request of higher priority than everything in service. */
	return rank < best_rank(c, serving) ? (int)input_of(c, rank) : -1;
}

static void chip_input(struct i8259 *c, unsigned irq, bool level)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (c->elcr & bit) {
		c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
	} else if (level && !(c->last_level & bit)) {
		c->irr |= bit;     /* a rising edge */
	}
	c->last_level = level ? (c->last_level | bit) : (c->last_level & ~bit);
}

/* The acknowledge cycle on one chip for input irq. */
static void chip_ack(struct i8259 *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->lowest = (uint8_t)irq;
	} else {
		c->isr |= bit;
	}
	/* An edge request is consumed; a level request stays while the line
	 * is high. */
	if (!(c->elcr & bit))
		c->irr &= ~bit;
}

static void chip_reset(struct i8259 *c)
{
	uint8_t elcr_mask = c->elcr_mask;

	memset(c, 0, sizeof(*c));
	c->elcr_mask = elcr_mask;
	c->lowest = 7;
}

/* ---- the pair ---- */

/* Recomputes the cascade and the output; with the lock held. */
static void update(struct pic *p)
{
	bool out;

	/* The cascade: every update with a slave request pending is a new
	 * edge on the master's IRQ 2, so a second slave request is presented
	 * once the first was acknowledged. */
	if (pending_input(&p->chip[1], false) >= 0) {
		chip_input(&p->chip[0], 2, true);
		chip_input(&p->chip[0], 2, false);
	}
	out = pending_input(&p->chip[0], true) >= 0;
	if (out != p->output) {
		p->output = out;
		irq_pic_output(p->vm, out);
	}
}

static void pic_set_irq(void *opaque, unsigned irq, bool level)
{
	struct pic *p = opaque;

	if (irq >= 16 || irq == 2)
		return;
	pthread_mutex_lock(&p->lock);
	chip_input(&p->chip[irq >> 3], irq & 7, level);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

/* INTA: the vector of the highest request, or the spurious vector of the
 * chip whose request went away (IRQ 7 or 15, not set in service). */
static unsigned pic_intack(void *opaque)
{
	struct pic *p = opaque;
	struct i8259 *m = &p->chip[0], *s = &p->chip[1];
	unsigned vector;
	int irq;

	pthread_mutex_lock(&p->lock);
	irq = pending_input(m, true);
	if (irq < 0) {
		vector = m->vector_base + 7u;
		p->spurious++;
	} else if (irq != 2) {
		chip_ack(m, (unsigned)irq);
		vector = m->vector_base + (unsigned)irq;
	} else {
		int sirq = pending_input(s, false);

		chip_ack(m, 2);
		if (sirq < 0) {
			vector = s->vector_base + 7u;
			p->spurious++;
		} else {
			chip_ack(s, (unsigned)sirq);
			vector = s->vector_base + (unsigned)sirq;
		}
	}
	p->acks++;
	update(p);
	pthread_mutex_unlock(&p->lock);
	return vector;
}

/* OCW3 poll: acknowledges the highest request as INTA would, and reads
 * 0x80 | input, or 0 with nothing pending. */
static uint8_t poll_read(struct pic *p, unsigned which)
{
	struct i8259 *c = &p->chip[which];
	int irq = pending_input(c, which == 0);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, (unsigned)irq);
	if (which == 1) {
		/* The slave's request also clears the master's cascade. */
		p->chip[0].isr &= (uint8_t)~4u;
		p->chip[0].irr &= (uint8_t)~4u;
	}
	update(p);
	return (uint8_t)(0x80 | irq);
}

static void eoi(struct i8259 *c, uint8_t ocw2)
{
	unsigned cmd = ocw2 >> 5, rank, irq;

	switch (cmd) {
	case 0:            /* clear rotate in auto-EOI mode */
	case 4:            /* set it */
		c->rotate_on_auto_eoi = cmd == 4;
		break;
	case 1:            /* non-specific EOI */
	case 5:            /* rotate on non-specific EOI */
		rank = best_rank(c, c->isr);
		if (rank == 8)
			break;
		irq = input_of(c, rank);
		c->isr &= (uint8_t)~(1u << irq);
		if (cmd == 5)
			c->lowest = (uint8_t)irq;
		break;
	case 3:            /* specific EOI */
	case 7:            /* rotate on specific EOI */
		c->isr &= (uint8_t)~(1u << (ocw2 & 7));
		if (cmd == 7)
			c->lowest = ocw2 & 7;
		break;
	case 6:            /* set priority: the named input becomes lowest */
		c->lowest = ocw2 & 7;
		break;
	default:           /* 2: no operation */
		break;
	}
}

static void command_write(struct i8259 *c, uint8_t v)
{
	if (v & 0x10) {                    /* ICW1 */
		uint8_t elcr = c->elcr;

		chip_reset(c);
		c->elcr = elcr;
		c->icw4_needed = v & 1;
		c->single = v & 2;
		c->init_step = 1;
	} else if (v & 0x08) {             /* OCW3 */
		if (v & 0x04)
			c->poll = true;
		if (v & 0x02)
			c->read_isr = v & 1;
		if (v & 0x40)
			c->special_mask = (v >> 5) & 1;
	} else {                           /* OCW2 */
		eoi(c, v);
	}
}

static void data_write(struct i8259 *c, uint8_t v)
{
	switch (c->init_step) {
	case 1:                            /* ICW2: the vector base */
		c->vector_base = v & 0xf8;
		c->init_step = !c->single ? 2 : c->icw4_needed ? 3 : 0;
		break;
	case 2:                            /* ICW3: cascade wiring (fixed on a PC) */
		c->init_step = c->icw4_needed ? 3 : 0;
		break;
	case 3:                            /* ICW4 */
		c->auto_eoi = (v >> 1) & 1;
		c->fully_nested = (v >> 4) & 1;
		c->init_step = 0;
		break;
	default:                           /* OCW1: the mask */
		c->imr = v;
		break;
	}
}

/* ---- ports ---- */

/* Ports 0x20-0x21 (chip 0) and 0xa0-0xa1 (chip 1): opaque is the pic,
 * the chip is told apart by a second ops table. */
static uint64_t port_read(struct pic *p, unsigned which, uint64_t off)
{
	struct i8259 *c = &p->chip[which];
	uint8_t v;

	pthread_mutex_lock(&p->lock);
	if (c->poll)
		v = poll_read(p, which);
	else if (off & 1)
		v = c->imr;
	else
		v = c->read_isr ? c->isr : c->irr;
	pthread_mutex_unlock(&p->lock);
	return v;
}

static void port_write(struct pic *p, unsigned which, uint64_t off, uint8_t v)
{
	struct i8259 *c = &p->chip[which];

	pthread_mutex_lock(&p->lock);
	if (off & 1)
		data_write(c, v);
	else
		command_write(c, v);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

static uint64_t master_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	(void)v, (void)size;
	return port_read(o, 0, off);
}

static void master_write(void *o, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	(void)v, (void)size;
	port_write(o, 0, off, (uint8_t)val);
}

static uint64_t slave_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	(void)v, (void)size;
	return port_read(o, 1, off);
}

static void slave_write(void *o, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	(void)v, (void)size;
	port_write(o, 1, off, (uint8_t)val);
}

static uint64_t elcr_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	struct pic *p = o;
	uint8_t val;

	(void)v, (void)size;
	pthread_mutex_lock(&p->lock);
	val = off < 2 ? p->chip[off].elcr : 0xff;
	pthread_mutex_unlock(&p->lock);
	return val;
}

static void elcr_write(void *o, struct vcpu *v, uint64_t off, uint64_t val, unsigned size)
{
	struct pic *p = o;

	(void)v, (void)size;
	if (off >= 2)
		return;
	pthread_mutex_lock(&p->lock);
	p->chip[off].elcr = (uint8_t)val & p->chip[off].elcr_mask;
	update(p);
	pthread_mutex_unlock(&p->lock);
}

static const struct io_ops master_ops = {
	.read = master_read, .write = master_write,
	.valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};
static const struct io_ops slave_ops = {
	.read = slave_read, .write = slave_write,
	.valid_min = 1, .valid_max = 1, .impl_min = 1, .impl_max = 1,
};
static const struct io_ops elcr_ops = {
	.read = elcr_read, .write = elcr_write,
	.valid_min = 1, .valid_max = 2, .impl_min = 1, .impl_max = 1,
};

/* ---- the device ---- */

static void pic_reset(void *opaque)
{
	struct pic *p = opaque;

	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < 2; i++) {
		chip_reset(&p->chip[i]);
		p->chip[i].elcr = 0;
	}
	update(p);
	pthread_mutex_unlock(&p->lock);
}

static void put_chip(struct snap_writer *w, const struct i8259 *c)
{
	snap_put(w, (uint8_t[]){ c->irr, c->isr, c->imr, c->last_level, c->elcr, c->vector_base,
				 c->lowest, c->init_step, c->icw4_needed, c->single, c->auto_eoi,
				 c->rotate_on_auto_eoi, c->fully_nested, c->special_mask,
				 c->read_isr, c->poll }, 16);
}

static bool get_chip(struct snap_reader *r, struct i8259 *c)
{
	uint8_t b[16];

	if (!snap_get(r, b, sizeof(b)) || b[7] > 3 || b[6] > 7)
		return false;
	c->irr = b[0];
	c->isr = b[1];
	c->imr = b[2];
	c->last_level = b[3];
	c->elcr = b[4] & c->elcr_mask;
	c->vector_base = b[5] & 0xf8;
	c->lowest = b[6];
	c->init_step = b[7];
	c->icw4_needed = b[8];
	c->single = b[9];
	c->auto_eoi = b[10];
	c->rotate_on_auto_eoi = b[11];
	c->fully_nested = b[12];
	c->special_mask = b[13];
	c->read_isr = b[14];
	c->poll = b[15];
	return true;
}

static int pic_save(void *opaque, struct snap_writer *w)
{
	struct pic *p = opaque;

	pthread_mutex_lock(&p->lock);
	put_chip(w, &p->chip[0]);
	put_chip(w, &p->chip[1]);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int pic_load(void *opaque, struct snap_reader *r)
{
	struct pic *p = opaque;
	bool ok;

	pthread_mutex_lock(&p->lock);
	ok = get_chip(r, &p->chip[0]) && get_chip(r, &p->chip[1]) && snap_done(r);
	p->output = false;
	update(p);
	pthread_mutex_unlock(&p->lock);
	return ok ? 0 : -1;
}

static void pic_stats(void *opaque, FILE *f)
{
	struct pic *p = opaque;

	fprintf(f, "  pic: %llu acknowledged, %llu spurious\n", (unsigned long long)p->acks,
		(unsigned long long)p->spurious);
}

static void pic_destroy(void *opaque)
{
	struct pic *p = opaque;

	p->vm->irq.pic = (struct irq_chip){ 0 };
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int pic_create(struct vm *vm, const struct device_params *params)
{
	struct pic *p = calloc(1, sizeof(*p));

	(void)params;
	if (!p)
		return -ENOMEM;
	p->vm = vm;
	pthread_mutex_init(&p->lock, NULL);
	/* IRQ 0, 1, 2 (master) and 8, 13 (slave) are edge-only on a PC. */
	p->chip[0].elcr_mask = 0xf8;
	p->chip[1].elcr_mask = 0xde;
	chip_reset(&p->chip[0]);
	chip_reset(&p->chip[1]);
	if (vm_add_device(vm, &pic_model, p)) {
		pic_destroy(p);
		return -ENOSPC;
	}
	vm->irq.pic = (struct irq_chip){ .set_irq = pic_set_irq, .intack = pic_intack, .opaque = p };
	if (iobus_register(&vm->pio, 0x20, 2, &master_ops, p, "pic-master") ||
	    iobus_register(&vm->pio, 0xa0, 2, &slave_ops, p, "pic-slave") ||
	    iobus_register(&vm->pio, 0x4d0, 2, &elcr_ops, p, "elcr"))
		return -1;
	return 0;
}

const struct device_model pic_model = {
	.name = "pic",
	.create = pic_create,
	.reset = pic_reset,
	.save = pic_save,
	.load = pic_load,
	.stats = pic_stats,
	.destroy = pic_destroy,
};
