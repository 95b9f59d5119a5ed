/*
 * ACPI fixed-hardware power management at 0x600, where QEMU's PC has it
 * (PIIX4 as SeaBIOS programs it, and ICH9):
 *   0x600 PM1a_STS (write 1 to clear), 0x602 PM1a_EN,
 *   0x604 PM1a_CNT (SLP_TYP in bits 10-12, SLP_EN bit 13, SCI_EN bit 0),
 *   0x608 PM_TMR (3.579545 MHz, 32 bits).
 * SLP_EN with SLP_TYP 0 is S5 (soft off): the VM powers off, exit status 0.
 * The power button (QMP system_powerdown) sets PWRBTN_STS; the SCI (a
 * level-triggered ISA line) is high while an enabled status bit is set and
 * SCI_EN is on, so a guest with ACPI sees the button and shuts down.
 */
#include <pthread.h>
#include <stdlib.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define PM_TIMER_HZ 3579545ull
#define SLP_EN      (1u << 13)
#define SCI_EN      1u
#define PWRBTN      (1u << 8)      /* PM1 status and enable */
#define SCI_EVENTS  PWRBTN

struct acpi_pm {
	struct vm *vm;
	pthread_mutex_t lock;
	unsigned sci;               /* the SCI's ISA line */
	bool sci_level;
	uint16_t sts, en, cnt;
	uint64_t t0_ns;
	struct ratelimit rl;
	uint64_t bad_sleep;        /* sleep types other than S5 */
};

/* Lock held. */
static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & SCI_EVENTS) && (pm->cnt & SCI_EN);

	if (level != pm->sci_level) {
		pm->sci_level = level;
		vm_set_irq(pm->vm, pm->sci, level);
	}
}

static void acpi_pm_powerdown(void *opaque)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	pm->sts |= PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static uint64_t evt_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint64_t v;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&pm->lock);
	v = off < 2 ? pm->sts : pm->en;
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void evt_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&pm->lock);
	if (off < 2)
		pm->sts &= (uint16_t)~value;
	else
		pm->en = (uint16_t)value;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static uint64_t cnt_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint64_t v;

	(void)vcpu, (void)off, (void)size;
	pthread_mutex_lock(&pm->lock);
	v = pm->cnt;
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void cnt_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;
	unsigned typ = (value >> 10) & 7;

	(void)vcpu, (void)off, (void)size;
	pthread_mutex_lock(&pm->lock);
	/* SLP_EN is write-only; there is no SMI handshake, so SCI_EN stays on. */
	pm->cnt = (uint16_t)((value & ~SLP_EN) | SCI_EN);
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (!(value & SLP_EN))
		return;
	if (typ == ACPI_S5_SLP_TYP)
		vm_request_poweroff(pm->vm);
	else {
		__atomic_fetch_add(&pm->bad_sleep, 1, __ATOMIC_RELAXED);
		log_guest(&pm->rl, "ACPI sleep type %u requested; only S5 (power off) exists", typ);
	}
}

static uint32_t timer_value(const struct acpi_pm *pm)
{
	uint64_t ns = now_ns() - pm->t0_ns;

	return (uint32_t)((ns / 1000000000ull) * PM_TIMER_HZ +
			  (ns % 1000000000ull) * PM_TIMER_HZ / 1000000000ull);
}

static uint64_t tmr_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	(void)vcpu, (void)off, (void)size;
	return timer_value(opaque);
}

static void ignore_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
			 unsigned size)
{
	(void)opaque, (void)vcpu, (void)off, (void)value, (void)size;
}

static const struct io_ops evt_ops = { evt_read, evt_write, 1, 4, 2, 2 };
static const struct io_ops cnt_ops = { cnt_read, cnt_write, 1, 2, 2, 2 };
static const struct io_ops tmr_ops = { tmr_read, ignore_write, 1, 4, 4, 4 };

static void acpi_pm_reset(void *opaque)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	pm->sts = pm->en = 0;
	pm->cnt = SCI_EN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_destroy(void *opaque)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static int acpi_pm_create(struct vm *vm, const struct device_params *p)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int r;

	if (!pm)
		return -1;
	pm->vm = vm;
	pm->cnt = SCI_EN;
	pm->t0_ns = now_ns();
	pm->rl = (struct ratelimit)RATELIMIT_INIT;
	pthread_mutex_init(&pm->lock, NULL);
	pm->sci = p->irq;
	if (vm_add_device(vm, &acpi_pm_model, pm)) {
		acpi_pm_destroy(pm);
		return -1;
	}
	r = iobus_register(&vm->pio, p->base, 4, &evt_ops, pm, "acpi-pm1a-evt");
	if (!r)
		r = iobus_register(&vm->pio, p->base + 4, 2, &cnt_ops, pm, "acpi-pm1a-cnt");
	if (!r)
		r = iobus_register(&vm->pio, p->base + 8, 4, &tmr_ops, pm, "acpi-pm-tmr");
	return r;
}

static int acpi_pm_save(void *opaque, struct snap_writer *w)
{
	struct acpi_pm *pm = opaque;

	pthread_mutex_lock(&pm->lock);
	snap_put_u16(w, pm->sts);
	snap_put_u16(w, pm->en);
	snap_put_u16(w, pm->cnt);
	snap_put_u32(w, timer_value(pm));
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

/* The PM timer goes on from the value the guest last could read. */
static int acpi_pm_load(void *opaque, struct snap_reader *r)
{
	struct acpi_pm *pm = opaque;
	uint16_t sts = snap_get_u16(r), en = snap_get_u16(r), cnt = snap_get_u16(r);
	uint32_t tmr = snap_get_u32(r);

	if (!snap_done(r))
		return -1;
	pthread_mutex_lock(&pm->lock);
	pm->sts = sts;
	pm->en = en;
	pm->cnt = (uint16_t)(cnt | SCI_EN);
	pm->t0_ns = now_ns() - (uint64_t)tmr * 1000000000ull / PM_TIMER_HZ;
	pm->sci_level = false;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static void acpi_pm_stats(void *opaque, FILE *f)
{
	struct acpi_pm *pm = opaque;

	if (pm->bad_sleep)
		fprintf(f, "  acpi-pm: %llu requests of a sleep state other than S5\n",
			(unsigned long long)pm->bad_sleep);
}

const struct device_model acpi_pm_model = {
	.stats = acpi_pm_stats,
	.save = acpi_pm_save,
	.load = acpi_pm_load,
	.name = "acpi-pm",
	.create = acpi_pm_create,
	.reset = acpi_pm_reset,
	.powerdown = acpi_pm_powerdown,
	.destroy = acpi_pm_destroy,
};
