/* Prints what the multiboot loader handed over: command line, memory
 * fields, memory map and modules (with their first bytes), so that tests
 * can compare them with what they passed. */
#include "rt.h"

struct mb_mod { uint32_t start, end, string, reserved; };
struct mb_mmap { uint32_t size; uint64_t addr, len; uint32_t type; } __attribute__((packed));

void test_main(void)
{
	const uint32_t *info = (const uint32_t *)(uint64_t)mb_info;

	GUEST_ASSERT_EQ(mb_magic, 0x2BADB002);
	kprintf("flags 0x%x mem_lower %u mem_upper %u\n", info[0], info[1], info[2]);
	kprintf("cmdline '%s'\n", mb_cmdline());
	if (info[0] & (1u << 6)) {
		uint64_t p = info[12], end = p + info[11];

		while (p < end) {
			const struct mb_mmap *m = (const struct mb_mmap *)p;

			kprintf("mmap 0x%llx-0x%llx type %u\n", (unsigned long long)m->addr,
				(unsigned long long)(m->addr + m->len), m->type);
			p += m->size + 4;
		}
	}
	if (info[0] & (1u << 3)) {
		const struct mb_mod *mods = (const struct mb_mod *)(uint64_t)info[6];

		for (uint32_t i = 0; i < info[5]; i++) {
			const char *data = (const char *)(uint64_t)mods[i].start;
			char head[17];
			unsigned n = mods[i].end - mods[i].start;

			for (unsigned j = 0; j < 16; j++)
				head[j] = j < n && data[j] >= 32 && data[j] < 127 ? data[j] : '.';
			head[16] = 0;
			GUEST_ASSERT_EQ(mods[i].start & 0xfff, 0);
			kprintf("module %u at 0x%x size %u string '%s' data '%s'\n", i, mods[i].start,
				n, (const char *)(uint64_t)mods[i].string, head);
		}
	}
}
