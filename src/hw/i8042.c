/*
 * i8042 keyboard controller at 0x60 (data) and 0x64 (status/command),
 * with nothing plugged into its ports: enough for Linux's probe (self
 * test, command byte, interface tests, aux loopback) to finish without
 * timeouts, and the reset line.  Commands 0xF0-0xFF pulse the output lines
 * whose bit is 0; bit 0 is the CPU reset line, so 0xFE resets the machine,
 * as does writing the output port (0xD1) with bit 0 clear.  Bytes written
 * to the keyboard get no answer (there is no keyboard); the output buffer
 * raises IRQ 1 (or 12 for aux data) when the command byte enables it.
 */
#include <pthread.h>
#include <stdlib.h>

#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define ST_OBF     0x01
#define ST_SYS     0x04
#define ST_CMD     0x08
#define ST_UNLOCK  0x10
#define ST_AUX_OBF 0x20
#define CTR_KBD_INT 0x01
#define CTR_AUX_INT 0x02
#define CTR_SYS     0x04
#define CTR_KBD_DIS 0x10
#define CTR_AUX_DIS 0x20
#define CTR_XLATE   0x40

struct i8042 {
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t status, ctr, outport;
	uint8_t pending_cmd;        /* command waiting for its data byte */
	uint8_t out[16];            /* output queue, with the aux flag */
	bool out_aux[16];
	unsigned out_head, out_n;
	bool irq1, irq12;
};

static void update_irqs(struct i8042 *k)
{
	bool has = k->out_n > 0, aux = has && k->out_aux[k->out_head];
	bool irq1 = has && !aux && (k->ctr & CTR_KBD_INT);
	bool irq12 = has && aux && (k->ctr & CTR_AUX_INT);

	k->status = (uint8_t)((k->status & ~(ST_OBF | ST_AUX_OBF)) | (has ? ST_OBF : 0) |
			      (aux ? ST_AUX_OBF : 0));
	if (irq1 != k->irq1)
		vm_set_irq(k->vm, 1, k->irq1 = irq1);
	if (irq12 != k->irq12)
		vm_set_irq(k->vm, 12, k->irq12 = irq12);
}

static void push(struct i8042 *k, uint8_t v, bool aux)
{
	if (k->out_n < sizeof(k->out)) {
		unsigned i = (k->out_head + k->out_n++) % sizeof(k->out);

		k->out[i] = v;
		k->out_aux[i] = aux;
	}
}

static uint8_t pop(struct i8042 *k)
{
	uint8_t v = 0;

	if (k->out_n) {
		v = k->out[k->out_head];
		k->out_head = (k->out_head + 1) % sizeof(k->out);
		k->out_n--;
	}
	return v;
}

/* Returns true if the command resets the machine. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20: push(k, k->ctr, false); break;          /* read command byte */
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->pending_cmd = cmd;                       /* data byte follows */
		break;
	case 0xa7: k->ctr |= CTR_AUX_DIS; break;
	case 0xa8: k->ctr &= (uint8_t)~CTR_AUX_DIS; break;
	case 0xa9: push(k, 0x00, false); break;            /* aux interface OK */
	case 0xaa: push(k, 0x55, false); break;            /* self test passed */
	case 0xab: push(k, 0x00, false); break;            /* kbd interface OK */
	case 0xad: k->ctr |= CTR_KBD_DIS; break;
	case 0xae: k->ctr &= (uint8_t)~CTR_KBD_DIS; break;
	case 0xc0: push(k, 0x00, false); break;            /* input port */
	case 0xd0: push(k, k->outport, false); break;      /* output port */
	default:
		if (cmd >= 0xf0)
			return !(cmd & 0x01);                 /* pulse: bit 0 is reset */
		break;
	}
	return false;
}

/* Data written after a command that takes one; true if it resets. */
static bool command_data(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case 0x60:
		k->ctr = v;
		k->status = (uint8_t)((k->status & ~ST_SYS) | (v & CTR_SYS ? ST_SYS : 0));
		break;
	case 0xd1:
		k->outport = v;
		return !(v & 0x01);
	case 0xd2: push(k, v, false); break;               /* as if from the keyboard */
	case 0xd3: push(k, v, true); break;                /* as if from the mouse */
	case 0xd4: break;                                  /* to the (absent) mouse */
	default: break;
	}
	return false;
}

static uint64_t i8042_read(struct i8042 *k, bool cmd_port)
{
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (!cmd_port)
		v = pop(k);
	else
		v = k->status;
	update_irqs(k);
	pthread_mutex_unlock(&k->lock);
	return v;
}

static void i8042_write(struct i8042 *k, bool cmd_port, uint64_t value)
{
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (cmd_port) {
		k->status |= ST_CMD;
		k->pending_cmd = 0;
		reset = command(k, (uint8_t)value);
	} else {
		k->status &= (uint8_t)~ST_CMD;
		if (k->pending_cmd)
			reset = command_data(k, k->pending_cmd, (uint8_t)value);
		k->pending_cmd = 0;
	}
	update_irqs(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		vm_request_reset(k->vm, "i8042:0x64");
}

static uint64_t data_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	(void)v, (void)off, (void)size;
	return i8042_read(o, false);
}

static uint64_t cmd_read(void *o, struct vcpu *v, uint64_t off, unsigned size)
{
	(void)v, (void)off, (void)size;
	return i8042_read(o, true);
}

static void data_write(void *o, struct vcpu *v, uint64_t off, uint64_t value, unsigned size)
{
	(void)v, (void)off, (void)size;
	i8042_write(o, false, value);
}

static void cmd_write(void *o, struct vcpu *v, uint64_t off, uint64_t value, unsigned size)
{
	(void)v, (void)off, (void)size;
	i8042_write(o, true, value);
}

static const struct io_ops data_ops = { data_read, data_write, 1, 1, 1, 1 };
static const struct io_ops cmd_ops = { cmd_read, cmd_write, 1, 1, 1, 1 };

static void i8042_reset(void *opaque)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	k->status = ST_UNLOCK;
	k->ctr = CTR_KBD_INT | CTR_XLATE;
	k->outport = 0x03;            /* A20 on, not in reset */
	k->pending_cmd = 0;
	k->out_n = k->out_head = 0;
	update_irqs(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_destroy(void *opaque)
{
	struct i8042 *k = opaque;

	pthread_mutex_destroy(&k->lock);
	free(k);
}

static int i8042_create(struct vm *vm, const struct device_params *p)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return -1;
	k->vm = vm;
	pthread_mutex_init(&k->lock, NULL);
	i8042_reset(k);
	if (vm_add_device(vm, &i8042_model, k)) {
		i8042_destroy(k);
		return -1;
	}
	return iobus_register(&vm->pio, p->base, 1, &data_ops, k, "i8042-data") ||
	       iobus_register(&vm->pio, p->base + 4, 1, &cmd_ops, k, "i8042-cmd");
}

static int i8042_save(void *opaque, struct snap_writer *w)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	snap_put(w, (uint8_t[]){ k->status, k->ctr, k->outport, k->pending_cmd }, 4);
	snap_put_u8(w, (uint8_t)k->out_n);
	for (unsigned i = 0; i < k->out_n; i++) {
		unsigned j = (k->out_head + i) % sizeof(k->out);

		snap_put_u8(w, k->out[j]);
		snap_put_u8(w, k->out_aux[j]);
	}
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static int i8042_load(void *opaque, struct snap_reader *r)
{
	struct i8042 *k = opaque;
	uint8_t regs[4];
	unsigned n;

	snap_get(r, regs, sizeof(regs));
	n = snap_get_u8(r);
	if (n > sizeof(k->out))
		return -1;
	pthread_mutex_lock(&k->lock);
	k->status = regs[0];
	k->ctr = regs[1];
	k->outport = regs[2];
	k->pending_cmd = regs[3];
	k->out_head = 0;
	k->out_n = 0;
	for (unsigned i = 0; i < n; i++) {
		k->out[i] = snap_get_u8(r);
		k->out_aux[i] = snap_get_u8(r) != 0;
		k->out_n++;
	}
	k->irq1 = k->irq12 = false;
	update_irqs(k);
	pthread_mutex_unlock(&k->lock);
	return snap_done(r) ? 0 : -1;
}

const struct device_model i8042_model = {
	.name = "i8042",
	.create = i8042_create,
	.reset = i8042_reset,
	.save = i8042_save,
	.load = i8042_load,
	.destroy = i8042_destroy,
};
