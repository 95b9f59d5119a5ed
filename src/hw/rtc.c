/*
 * MC146818 RTC and CMOS at 0x70 (index; bit 7 is the NMI mask, ignored)
 * and 0x71 (data).  The clock reads the host's wall clock plus an offset
 * that guest writes to the time registers adjust; BCD or binary and 12 or
 * 24 hours follow status register B.  Bytes 14..127 are NVRAM: they survive
 * a system reset, as on hardware.  No periodic, alarm or update interrupts
 * (IRQ 8) yet.
 *
 * The guest drives the clock: every value it writes is clamped to its
 * register's architectural range, and the guest's time (a 64-bit offset
 * from the host's) is clamped to years 1970-9999, which gmtime_r() always
 * represents, so no arithmetic here can overflow and no field is ever
 * returned uninitialized.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"

#define REG_SEC     0x00
#define REG_MIN     0x02
#define REG_HOUR    0x04
#define REG_WDAY    0x06
#define REG_MDAY    0x07
#define REG_MON     0x08
#define REG_YEAR    0x09
#define REG_A       0x0a
#define REG_B       0x0b
#define REG_C       0x0c
#define REG_D       0x0d
#define REG_CENTURY 0x32
#define B_24H       0x02
#define B_BINARY    0x04
#define B_SET       0x80
#define CMOS_SIZE   128
#define TIME_MIN    0ll                /* 1970-01-01 00:00:00 */
#define TIME_MAX    253402300799ll     /* 9999-12-31 23:59:59 */

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[CMOS_SIZE];
	int64_t offset_sec;        /* guest time - host time */
	struct tm last;            /* the last time shown (a fallback) */
};

static uint8_t to_bcd(const struct rtc *r, unsigned v)
{
	return (r->cmos[REG_B] & B_BINARY) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | (v % 10));
}

/* A register value written by the guest, clamped to [lo, hi]. */
static int from_bcd(const struct rtc *r, uint8_t v, int lo, int hi)
{
	int x = (r->cmos[REG_B] & B_BINARY) ? v : (v >> 4) * 10 + (v & 15);

	return x < lo ? lo : x > hi ? hi : x;
}

static int64_t clamp_time(int64_t t)
{
	return t < TIME_MIN ? TIME_MIN : t > TIME_MAX ? TIME_MAX : t;
}

static void guest_tm(struct rtc *r, struct tm *tm)
{
	time_t t = (time_t)clamp_time((int64_t)time(NULL) + r->offset_sec);

	if (gmtime_r(&t, tm))
		r->last = *tm;
	else
		*tm = r->last;
}

static uint8_t hour_reg(const struct rtc *r, int hour)
{
	bool pm = hour >= 12;
	int h12 = hour % 12 ? hour % 12 : 12;

	if (r->cmos[REG_B] & B_24H)
		return to_bcd(r, (unsigned)hour);
	return (uint8_t)(to_bcd(r, (unsigned)h12) | (pm ? 0x80 : 0));
}

static uint8_t read_reg(struct rtc *r, uint8_t i)
{
	struct tm tm;
	uint8_t v;

	switch (i) {
	case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY: case REG_MDAY:
	case REG_MON: case REG_YEAR: case REG_CENTURY:
		guest_tm(r, &tm);
		switch (i) {
		case REG_SEC:  return to_bcd(r, (unsigned)tm.tm_sec);
		case REG_MIN:  return to_bcd(r, (unsigned)tm.tm_min);
		case REG_HOUR: return hour_reg(r, tm.tm_hour);
		case REG_WDAY: return to_bcd(r, (unsigned)tm.tm_wday + 1);
		case REG_MDAY: return to_bcd(r, (unsigned)tm.tm_mday);
		case REG_MON:  return to_bcd(r, (unsigned)tm.tm_mon + 1);
		case REG_YEAR: return to_bcd(r, (unsigned)((1900 + tm.tm_year) % 100));
		default:       return to_bcd(r, (unsigned)((1900 + tm.tm_year) / 100));
		}
	case REG_A:
		return r->cmos[REG_A] & 0x7f;      /* never "update in progress" */
	case REG_C:
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;                /* read clears the flags */
		return v;
	case REG_D:
		return 0x80;                       /* valid RAM and time */
	default:
		return r->cmos[i];
	}
}

/* A write to a time register moves the guest clock by the difference. */
static void write_time(struct rtc *r, uint8_t i, uint8_t v)
{
	struct tm tm;
	int64_t now = (int64_t)time(NULL), want;
	int year;

	guest_tm(r, &tm);
	year = 1900 + tm.tm_year;              /* 1970..9999 */
	switch (i) {
	case REG_SEC:  tm.tm_sec = from_bcd(r, v, 0, 59); break;
	case REG_MIN:  tm.tm_min = from_bcd(r, v, 0, 59); break;
	case REG_HOUR:
		if (r->cmos[REG_B] & B_24H)
			tm.tm_hour = from_bcd(r, v & 0x7f, 0, 23);
		else
			tm.tm_hour = from_bcd(r, v & 0x7f, 1, 12) % 12 + ((v & 0x80) ? 12 : 0);
		break;
	case REG_MDAY: tm.tm_mday = from_bcd(r, v, 1, 31); break;
	case REG_MON:  tm.tm_mon = from_bcd(r, v, 1, 12) - 1; break;
	case REG_YEAR: year = year / 100 * 100 + from_bcd(r, v, 0, 99); break;
	case REG_CENTURY: year = from_bcd(r, v, 0, 99) * 100 + year % 100; break;
	default: return;
	}
	tm.tm_year = year - 1900;
	want = (int64_t)timegm(&tm);
	r->offset_sec = clamp_time(want) - now;
}

static void write_reg(struct rtc *r, uint8_t i, uint8_t v)
{
	switch (i) {
	case REG_SEC: case REG_MIN: case REG_HOUR: case REG_MDAY: case REG_MON:
	case REG_YEAR: case REG_CENTURY:
		write_time(r, i, v);
		break;
	case REG_WDAY:
		break;                             /* derived from the date */
	case REG_C: case REG_D:
		break;                             /* read-only */
	default:
		r->cmos[i] = v;
		break;
	}
}

static uint64_t rtc_read(void *opaque, struct vcpu *vcpu, uint64_t off, unsigned size)
{
	struct rtc *r = opaque;
	uint8_t v = 0xff;

	(void)vcpu, (void)size;
	if (off != 1)
		return 0xff;
	pthread_mutex_lock(&r->lock);
	v = read_reg(r, r->index);
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void rtc_write(void *opaque, struct vcpu *vcpu, uint64_t off, uint64_t value,
		      unsigned size)
{
	struct rtc *r = opaque;

	(void)vcpu, (void)size;
	pthread_mutex_lock(&r->lock);
	if (off == 0)
		r->index = (uint8_t)(value & 0x7f);   /* bit 7: NMI mask */
	else if (off == 1)
		write_reg(r, r->index, (uint8_t)value);
	pthread_mutex_unlock(&r->lock);
}

static const struct io_ops rtc_ops = {
	.read = rtc_read, .write = rtc_write,
	.valid_min = 1, .valid_max = 4, .impl_min = 1, .impl_max = 1,
};

/* Status registers as after power-on; time offset and NVRAM are kept. */
static void rtc_reset(void *opaque)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	r->index = 0;
	r->cmos[REG_A] = 0x26;                 /* 32.768 kHz, 1024 Hz rate */
	r->cmos[REG_B] = B_24H;                /* BCD, 24 hours, no interrupts */
	r->cmos[REG_C] = 0;
	pthread_mutex_unlock(&r->lock);
}

static void rtc_destroy(void *opaque)
{
	struct rtc *r = opaque;

	pthread_mutex_destroy(&r->lock);
	free(r);
}

static int rtc_create(struct vm *vm, const struct device_params *p)
{
	struct rtc *r = calloc(1, sizeof(*r));
	uint64_t kib = vm->mem.total >> 10;
	uint64_t ext = kib > 1024 ? kib - 1024 : 0;
	uint64_t above16 = vm->mem.total > (16ull << 20) ? (guest_mem_low_end(&vm->mem) - (16ull << 20)) >> 16 : 0;

	if (!r)
		return -1;
	pthread_mutex_init(&r->lock, NULL);
	gmtime_r(&(time_t){ 0 }, &r->last);
	/* QEMU's -rtc base=localtime or base=DATE: the guest's clock starts
	 * that far from the host's UTC. */
	r->offset_sec = clamp_time((int64_t)time(NULL) + vm->cfg.rtc_offset_sec) - (int64_t)time(NULL);
	rtc_reset(r);
	/* The memory sizes a PC's CMOS reports (base, extended, above 16 MiB). */
	r->cmos[0x15] = 640 & 0xff;
	r->cmos[0x16] = 640 >> 8;
	ext = ext > 0xffff ? 0xffff : ext;
	r->cmos[0x17] = r->cmos[0x30] = (uint8_t)ext;
	r->cmos[0x18] = r->cmos[0x31] = (uint8_t)(ext >> 8);
	above16 = above16 > 0xffff ? 0xffff : above16;
	r->cmos[0x34] = (uint8_t)above16;
	r->cmos[0x35] = (uint8_t)(above16 >> 8);
	if (vm_add_device(vm, &rtc_model, r)) {
		rtc_destroy(r);
		return -1;
	}
	return iobus_register(&vm->pio, p->base, 2, &rtc_ops, r, "rtc");
}

/* The guest's clock travels as an offset from the host's wall clock, so it
 * keeps running across a save and restore, as a battery-backed RTC does. */
static int rtc_save(void *opaque, struct snap_writer *w)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	snap_put_u8(w, r->index);
	snap_put(w, r->cmos, CMOS_SIZE);
	snap_put_u64(w, (uint64_t)r->offset_sec);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int rtc_load(void *opaque, struct snap_reader *rd)
{
	struct rtc *r = opaque;
	uint8_t index = snap_get_u8(rd), cmos[CMOS_SIZE];
	int64_t offset;

	snap_get(rd, cmos, sizeof(cmos));
	offset = (int64_t)snap_get_u64(rd);
	if (!snap_done(rd) || offset < -TIME_MAX || offset > TIME_MAX)
		return -1;
	pthread_mutex_lock(&r->lock);
	r->index = index & 0x7f;
	memcpy(r->cmos, cmos, sizeof(cmos));
	r->offset_sec = offset;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

const struct device_model rtc_model = {
	.name = "rtc",
	.create = rtc_create,
	.reset = rtc_reset,
	.save = rtc_save,
	.load = rtc_load,
	.destroy = rtc_destroy,
};
