/*
 * 8250/16550A UART.  Transmission is instant (each THR write goes to the
 * character backend's output ring, core/chardev.h, outside the UART's
 * lock), so THR is always empty; received bytes wait in a FIFO, and the
 * backend reads input only while the FIFO has room.
 * The interrupt line follows the 16550's priority order (line status,
 * received data, THR empty, modem status) and is not gated by MCR.OUT2,
 * as in QEMU.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core/chardev.h"
#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define RX_FIFO 256

#define IER_RDI   0x01
#define IER_THRI  0x02
#define IER_RLSI  0x04
#define IER_MSI   0x08

#define IIR_NONE  0x01
#define IIR_MSI   0x00
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_FIFO  0xc0

#define LCR_DLAB  0x80
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LSR_ERRS  0x1e
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

struct serial {
	struct vm *vm;
	pthread_mutex_t lock;
	unsigned irq;
	struct chardev *cd;        /* NULL: output discarded, no input */
	uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	bool thr_pending;          /* THR-empty interrupt not yet acknowledged */
	uint8_t rx[RX_FIFO];
	unsigned rx_head, rx_count;
	uint64_t rx_dropped;
	bool irq_level;
};

static void update_irq(struct serial *s)
{
	uint8_t iir = IIR_NONE;
	bool level;

	if ((s->ier & IER_RLSI) && (s->lsr & LSR_ERRS))
		iir = IIR_RLSI;
	else if ((s->ier & IER_RDI) && (s->lsr & LSR_DR))
		iir = IIR_RDI;
	else if ((s->ier & IER_THRI) && s->thr_pending)
		iir = IIR_THRI;
	else if ((s->ier & IER_MSI) && (s->msr & 0x0f))
		iir = IIR_MSI;
	s->iir = iir | ((s->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	level = !(iir & IIR_NONE);
	if (level != s->irq_level) {
		s->irq_level = level;
		vm_set_irq(s->vm, s->irq, level);
	}
}

static void push_rx(struct serial *s, uint8_t c)
{
	if (s->rx_count == RX_FIFO) {
		s->lsr |= LSR_OE;
		s->rx_dropped++;
		return;
	}
	s->rx[(s->rx_head + s->rx_count++) % RX_FIFO] = c;
	s->lsr |= LSR_DR;
}

/* Returns the byte; *room_again says the FIFO was full before. */
static uint8_t pop_rx(struct serial *s, bool *room_again)
{
	uint8_t c = 0;

	*room_again = s->rx_count == RX_FIFO;
	if (s->rx_count) {
		c = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % RX_FIFO;
		s->rx_count--;
	}
	if (!s->rx_count)
		s->lsr &= (uint8_t)~LSR_DR;
	return c;
}


static uint8_t modem_status(const struct serial *s)
{
	/* Loopback: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2.  Otherwise a
	 * connected, ready line (CTS, DSR, DCD). */
	if (s->mcr & MCR_LOOP)
		return (uint8_t)(((s->mcr & 0x02) << 3) | ((s->mcr & 0x01) << 5) |
				 ((s->mcr & 0x04) << 4) | ((s->mcr & 0x08) << 4));
	return 0xb0;
}

static uint64_t serial_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct serial *s = opaque;
	uint8_t v = 0xff;
	bool room_again = false;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case 0:
		v = (s->lcr & LCR_DLAB) ? s->dll : pop_rx(s, &room_again);
		break;
	case 1:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case 2:
		v = s->iir;
		if ((v & 0x0f) == IIR_THRI)
			s->thr_pending = false;
		break;
	case 3: v = s->lcr; break;
	case 4: v = s->mcr; break;
	case 5:
		v = s->lsr;
		s->lsr &= (uint8_t)~LSR_ERRS;
		break;
	case 6:
		v = (uint8_t)(modem_status(s) | (s->msr & 0x0f));
		s->msr &= 0xf0;
		break;
	case 7: v = s->scr; break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (room_again && s->cd)
		chardev_rx_ready(s->cd);
	return v;
}

static void serial_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	struct serial *s = opaque;
	uint8_t v = (uint8_t)value;
	bool out = false;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case 0:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else {
			if (s->mcr & MCR_LOOP)
				push_rx(s, v);
			else
				out = true;
			s->thr_pending = true;
		}
		break;
	case 1:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			/* Enabling THRI with THR empty raises the interrupt. */
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thr_pending = true;
			s->ier = v & 0x0f;
		}
		break;
	case 2:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX) {
			s->rx_count = 0;
			s->lsr &= (uint8_t)~LSR_DR;
		}
		break;
	case 3: s->lcr = v; break;
	case 4: s->mcr = v & 0x1f; break;
	case 5: break;          /* LSR is read-only */
	case 6: break;
	case 7: s->scr = v; break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	/* Outside the lock: the write may wait for a slow reader, and the
	 * main loop takes the lock to deliver input meanwhile. */
	if (out && s->cd)
		chardev_write(s->cd, &v, 1);
}

static const struct io_ops serial_ops = {
	.read = serial_read, .write = serial_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 1,
};

static size_t serial_can_receive(void *opaque)
{
	struct serial *s = opaque;
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = RX_FIFO - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return room;
}

static void serial_receive(void *opaque, const uint8_t *buf, size_t n)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++)
		push_rx(s, buf[i]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* Registers as after power-on; queued input is dropped, output kept. */
static void serial_reset(void *opaque)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	s->ier = s->fcr = s->lcr = s->mcr = s->msr = s->scr = s->dlm = 0;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->dll = 0x0c;          /* 9600 baud, as after a BIOS */
	s->thr_pending = false;
	s->rx_count = s->rx_head = 0;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (s->cd)
		chardev_rx_ready(s->cd);
}

static void serial_destroy(void *opaque)
{
	struct serial *s = opaque;

	if (s->cd)
		s->cd->receive = NULL;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int serial_create(struct vm *vm, const struct device_params *p)
{
	struct serial *s = calloc(1, sizeof(*s));
	struct chardev *cd = p->chardev;

	if (!s)
		return -ENOMEM;
	s->vm = vm;
	s->irq = p->irq;
	s->cd = cd;
	s->iir = IIR_NONE;
	pthread_mutex_init(&s->lock, NULL);
	serial_reset(s);
	if (cd) {
		cd->can_receive = serial_can_receive;
		cd->receive = serial_receive;
		cd->rx_opaque = s;
	}
	if (vm_add_device(vm, &serial_model, s)) {
		serial_destroy(s);
		return -ENOMEM;
	}
	return iobus_register(&vm->pio, p->base, 8, &serial_ops, s, "serial");
}

static int serial_save(void *opaque, struct snap_writer *w)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	snap_put(w, (uint8_t[]){ s->ier, s->iir, s->fcr, s->lcr, s->mcr, s->lsr, s->msr, s->scr,
				 s->dll, s->dlm, s->thr_pending }, 11);
	snap_put_u16(w, (uint16_t)s->rx_count);
	for (unsigned i = 0; i < s->rx_count; i++)
		snap_put_u8(w, s->rx[(s->rx_head + i) % RX_FIFO]);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int serial_load(void *opaque, struct snap_reader *r)
{
	struct serial *s = opaque;
	uint8_t regs[11];
	unsigned n;

	snap_get(r, regs, sizeof(regs));
	n = snap_get_u16(r);
	if (n > RX_FIFO)
		return -1;
	pthread_mutex_lock(&s->lock);
	s->ier = regs[0] & 0x0f;
	s->fcr = regs[2] & 0xc9;
	s->lcr = regs[3];
	s->mcr = regs[4] & 0x1f;
	s->lsr = regs[5];
	s->msr = regs[6];
	s->scr = regs[7];
	s->dll = regs[8];
	s->dlm = regs[9];
	s->thr_pending = regs[10] != 0;
	s->rx_head = 0;
	s->rx_count = 0;
	for (unsigned i = 0; i < n; i++)
		s->rx[s->rx_count++] = snap_get_u8(r);
	s->lsr = (uint8_t)((s->lsr & ~LSR_DR) | (s->rx_count ? LSR_DR : 0));
	/* The line follows the registers (the in-kernel irqchip was restored
	 * with it high or low as the guest last saw it). */
	s->irq_level = false;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return snap_done(r) ? 0 : -1;
}

const struct device_model serial_model = {
	.name = "serial",
	.create = serial_create,
	.reset = serial_reset,
	.save = serial_save,
	.load = serial_load,
	.destroy = serial_destroy,
};
