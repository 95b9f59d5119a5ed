/* Security review finding 4: the guest drives the RTC to its limits (binary
 * mode, century and year 255, 12/31 23:59:59, invalid BCD values) and
 * checks that every register it reads stays in its architectural range.
 * Under UBSan any overflow in shrike's RTC ends the run. */
#include "rt.h"

static void wr(uint8_t reg, uint8_t v) { cmos_write(reg, v); }

/* A time register's value, decoded from BCD unless in binary mode (a BCD
 * digit above 9 would decode above its range and fail the checks). */
static uint8_t rd(uint8_t reg)
{
	uint8_t v = cmos_read(reg);

	if (reg <= 0x09 || reg == 0x32)
		if (!(cmos_read(0x0b) & 0x04))
			v = (uint8_t)((v >> 4) * 10 + (v & 15));
	return v;
}

static void check_ranges(const char *when)
{
	uint8_t sec = rd(0x00), min = rd(0x02), hour = rd(0x04), wday = rd(0x06), mday = rd(0x07),
		mon = rd(0x08), year = rd(0x09), cent = rd(0x32);

	kprintf("rtcyear: %s: %u%02u-%02u-%02u %02u:%02u:%02u wday %u\n", when, cent, year, mon, mday,
		hour, min, sec, wday);
	GUEST_ASSERT(sec <= 59 && min <= 59 && hour <= 23);
	GUEST_ASSERT(wday >= 1 && wday <= 7);
	GUEST_ASSERT(mday >= 1 && mday <= 31 && mon >= 1 && mon <= 12);
	GUEST_ASSERT(year <= 99 && cent >= 19 && cent <= 99);
}

void test_main(void)
{
	wr(0x0b, 0x06);                         /* binary, 24 hours */
	for (int i = 0; i < 1000; i++)          /* the review's +200 years per write */
		wr(0x09, 0xff);
	wr(0x32, 0xff);
	check_ranges("after year and century 255");
	GUEST_ASSERT_EQ(rd(0x32), 99);
	GUEST_ASSERT_EQ(rd(0x09), 99);
	wr(0x08, 12); wr(0x07, 31); wr(0x04, 23); wr(0x02, 59); wr(0x00, 59);
	check_ranges("set to the last second");
	delay_us(1500000);
	check_ranges("one second later");
	GUEST_ASSERT_EQ(rd(0x09), 99);
	GUEST_ASSERT_EQ(rd(0x08), 12);
	GUEST_ASSERT_EQ(rd(0x07), 31);
	/* Out-of-range writes in every field, BCD mode with invalid digits. */
	wr(0x0b, 0x02);
	for (uint8_t reg = 0; reg <= 9; reg++)
		wr(reg, 0xff);
	wr(0x32, 0x00);
	check_ranges("after invalid BCD writes");
	GUEST_ASSERT_EQ(rd(0x32), 19);
	GUEST_ASSERT(rd(0x09) >= 70);
	kprintf("rtcyear: every value in range\n");
}
