/* Prints "kib=N" KiB of a known pattern to COM1 with rep outsb (one exit
 * per 4000-byte run, without waiting for the line status, as drivers that
 * trust the FIFO do), then "spam: done" and powers off.  "forever" keeps
 * printing.  The pattern: byte i of every 4000-byte block is
 * 'A' + i % 26, with a newline every 100 bytes. */
#include "rt.h"

#define BLOCK 4000

static uint8_t block[BLOCK];

void test_main(void)
{
	uint64_t total = (uint64_t)cmdline_uint("kib=") * 1024, done = 0;
	bool forever = cmdline_has("forever");

	for (unsigned i = 0; i < BLOCK; i++)
		block[i] = (i % 100 == 99) ? '\n' : (uint8_t)('A' + i % 26);
	kprintf("spam: start\n");
	while (forever || done < total) {
		void *p = block;
		uint64_t n = forever || total - done > BLOCK ? BLOCK : total - done;

		__asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"((uint16_t)0x3f8) : "memory");
		done += forever ? 0 : (total - done > BLOCK ? BLOCK : total - done);
	}
	kprintf("\nspam: done\n");
}
