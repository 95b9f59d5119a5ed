/* Hostile: executes pseudo-random bytes at CPL 0.  Anything may happen
 * (exceptions, port writes, an emulation failure, a hang); the VMM must end
 * with a defined status or stay responsive to signals.  The seed comes
 * from the command line ("seed=N"). */
#include "rt.h"

static uint8_t code[4096] __attribute__((aligned(4096)));

void test_main(void)
{
	uint64_t x = (cmdline_has("seed=") ? cmdline_uint("seed=") : 1) * 6364136223846793005ull +
		     1442695040888963407ull;

	for (unsigned i = 0; i < sizeof(code); i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		code[i] = (uint8_t)(x >> 33);
	}
	kprintf("garbage: jumping into random bytes\n");
	((void (*)(void))(uint64_t)code)();
	kprintf("garbage: returned\n");
}
