/* Prints MARK and triple-faults, forever: every line is one reset cycle
 * (bench/reset.sh times them under shrike and QEMU). */
#include "rt.h"

void test_main(void)
{
	kprintf("MARK\n");
	reset_by(RESET_TRIPLE);
}
