/* The command line: sizes, counts, choices and the errors for bad ones. */
#include <stdint.h>

#include "check.h"
#include "core/config.h"

static char err[256];

static int parse(struct vm_config *c, const char *a, const char *b, const char *d)
{
	char *argv[8];
	char b1[64], b2[64], b3[64], k[] = "--kernel", kv[] = "x.elf";
	int argc = 0;

	argv[argc++] = k;
	argv[argc++] = kv;
	if (a) argv[argc++] = strcpy(b1, a);
	if (b) argv[argc++] = strcpy(b2, b);
	if (d) argv[argc++] = strcpy(b3, d);
	config_defaults(c);
	err[0] = 0;
	return config_parse(c, argc, argv, err, sizeof(err));
}

static void sizes(void)
{
	uint64_t v;

	CHECK(parse_size("256M", &v) == 0 && v == 256ull << 20);
	CHECK(parse_size("1G", &v) == 0 && v == 1ull << 30);
	CHECK(parse_size("4096", &v) == 0 && v == 4096);
	CHECK(parse_size("2GiB", &v) == 0 && v == 2ull << 30);
	CHECK(parse_size("", &v) < 0);
	CHECK(parse_size("-1M", &v) < 0);
	CHECK(parse_size("12Q", &v) < 0);
	CHECK(parse_size("99999999999999999999", &v) < 0);
	CHECK(parse_size("9999999999999T", &v) < 0);
}

static void options(void)
{
	struct vm_config c;

	CHECK_EQ(parse(&c, "--cpus", "4", "--stats"), 0);
	CHECK_EQ(c.cpus, 4);
	CHECK(c.stats);
	CHECK_EQ(parse(&c, "--memory=1G", "--sync", "full"), 0);
	CHECK_EQ(c.memory, 1ull << 30);
	CHECK_EQ(c.sync, SYNC_FULL);
	CHECK_EQ(parse(&c, "--module", "m.bin,a=1 b=2", NULL), 0);
	CHECK(!strcmp(c.modules[0].path, "m.bin") && !strcmp(c.modules[0].args, "a=1 b=2"));
	CHECK_EQ(parse(&c, "--serial", "file:/tmp/x", "--on-reboot=exit"), 0);
	CHECK_EQ(c.serial, SERIAL_FILE);
	CHECK_EQ(c.on_reboot, REBOOT_EXIT);
}

static void bad_options(void)
{
	struct vm_config c;

	CHECK(parse(&c, "--cpus", "0", NULL) < 0);
	CHECK_CONTAINS(err, "--cpus");
	CHECK(parse(&c, "--cpus", "two", NULL) < 0);
	CHECK(parse(&c, "--memory", "0", NULL) < 0);
	CHECK_CONTAINS(err, "--memory");
	CHECK(parse(&c, "--memory", "12X", NULL) < 0);
	CHECK(parse(&c, "--frobnicate", "1", NULL) < 0);
	CHECK_CONTAINS(err, "unknown option '--frobnicate'");
	CHECK(parse(&c, "--sync", "eager", NULL) < 0);
	CHECK_CONTAINS(err, "unknown value 'eager'");
	CHECK(parse(&c, "--serial", "tcp:1", NULL) < 0);
	CHECK(parse(&c, "--trace-msrs", NULL, NULL) < 0);
	CHECK_CONTAINS(err, "--trace-sync");
	CHECK(parse(&c, "--cpus", NULL, NULL) < 0);
	CHECK_CONTAINS(err, "missing value");
	CHECK(parse(&c, "stray", NULL, NULL) < 0);
}

/* --net: a tap by name or an open descriptor, a unicast MAC. */
static void net_cards(void)
{
	struct vm_config c;

	CHECK_EQ(parse(&c, "--net", "tap:tap0,mac=52:54:00:ab:cd:ef", "--net=tap-fd:2"), 0);
	CHECK_EQ(c.nnets, 2);
	CHECK(!strcmp(c.nets[0].ifname, "tap0") && c.nets[0].fd == -1 && c.nets[0].mac_set);
	CHECK_EQ(c.nets[0].mac[0], 0x52);
	CHECK_EQ(c.nets[0].mac[5], 0xef);
	CHECK(!strcmp(c.nets[0].spec, "tap:tap0,mac=52:54:00:ab:cd:ef"));
	CHECK(c.nets[1].fd == 2 && !c.nets[1].ifname[0] && !c.nets[1].mac_set);
	CHECK(parse(&c, "--net", "tap:tap0,mac=53:54:00:ab:cd:ef", NULL) < 0);   /* multicast */
	CHECK_CONTAINS(err, "mac=");
	CHECK(parse(&c, "--net", "tap:tap0,mac=52:54:00:ab:cd", NULL) < 0);
	CHECK(parse(&c, "--net", "tap:a-name-far-too-long", NULL) < 0);
	CHECK_CONTAINS(err, "at most 15");
	CHECK(parse(&c, "--net", "tap-fd:9999", NULL) < 0);
	CHECK_CONTAINS(err, "no open descriptor");
	CHECK(parse(&c, "--net", "user", NULL) < 0);
	CHECK_CONTAINS(err, "expected tap:IFNAME");
}

int main(void)
{
	RUN(sizes);
	RUN(options);
	RUN(bad_options);
	RUN(net_cards);
	return check_failures ? 1 : 0;
}
