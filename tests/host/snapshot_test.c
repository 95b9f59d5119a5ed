/*
 * Snapshot files from outside (issue 10): a small VM is saved in-process,
 * then every bit of the header page and of the section table is flipped in
 * turn, and the file truncated at every section boundary: each must be
 * refused by snapshot_open() with a message, never crash (run under ASan
 * and UBSan by make check-asan).  The command-line cases (status 2, one
 * line) are in tests/tools/snap_test.py.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "harness.h"
#include "snapshot/format.h"
#include "snapshot/snapshot.h"

static char path[128];

static const char *kernel(const char *name)
{
	static char p[256];
	const char *build = getenv("BUILD");

	snprintf(p, sizeof(p), "%s/guest/%s.elf", build ? build : "build", name);
	return p;
}

/* Saves a running test kernel; returns the file's size (0 on failure). */
static uint64_t make_snapshot(void)
{
	struct harness h;
	struct snapshot_stats st;
	char err[512];
	int r;

	snprintf(path, sizeof(path), "/tmp/shrike-snaptest-%d.snap", getpid());
	if (harness_create(&h, kernel("spin"), 2, SYNC_LAZY, "ms=100000", NULL) || harness_start(&h))
		return 0;
	usleep(300000);
	if (!vm_pause(&h.vm, PAUSE_MIGRATE))
		return 0;
	r = snapshot_save(&h.vm, path, 0, &st, err, sizeof(err));
	if (r)
		printf("  save: %s\n", err);
	vm_request_stop(&h.vm, STOP_QUIT, 0);
	harness_finish(&h);
	return r ? 0 : st.file_bytes;
}

static void save_and_reopen(void)
{
	struct snapshot *s;
	char err[512];

	if (!harness_have_kvm())
		CHECK_SKIP("/dev/kvm is not available here");
	CHECK(make_snapshot() > SNAP_HEADER_SIZE);
	s = snapshot_open(path, err, sizeof(err));
	if (!s)
		printf("  %s\n", err);
	CHECK(s != NULL);
	snapshot_close(s);
}

static bool refused(void)
{
	char err[512] = "";
	struct snapshot *s = snapshot_open(path, err, sizeof(err));

	snapshot_close(s);
	return !s && err[0];
}

/* Every bit of the header page and of the table, one at a time. */
static void every_bit_flipped(void)
{
	int fd;
	struct snap_header h;
	uint64_t table_end;
	unsigned flips = 0, accepted = 0;

	if (!harness_have_kvm())
		CHECK_SKIP("/dev/kvm is not available here");
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK(pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h));
	table_end = h.table_offset + h.nsections * sizeof(struct snap_entry);
	for (uint64_t pos = 0; pos < table_end; pos++) {
		uint8_t b, f;

		if (pos == SNAP_HEADER_SIZE)
			pos = h.table_offset;            /* the header page, then the table */
		CHECK(pread(fd, &b, 1, (off_t)pos) == 1);
		for (int bit = 0; bit < 8; bit += (pos < SNAP_HEADER_SIZE) ? 7 : 1) {
			f = (uint8_t)(b ^ (1u << bit));
			CHECK(pwrite(fd, &f, 1, (off_t)pos) == 1);
			accepted += !refused();
			flips++;
		}
		CHECK(pwrite(fd, &b, 1, (off_t)pos) == 1);
	}
	close(fd);
	printf("  %u flips, %u accepted\n", flips, accepted);
	CHECK_EQ(accepted, 0);
	CHECK(!refused());
}

/* Truncated at each section's start and end. */
static void truncated_at_boundaries(void)
{
	struct snap_header h;
	struct snap_entry *e;
	struct stat st;
	char copy[160];
	int fd;

	if (!harness_have_kvm())
		CHECK_SKIP("/dev/kvm is not available here");
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	CHECK(pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h));
	e = calloc(h.nsections, sizeof(*e));
	CHECK(e);
	CHECK(pread(fd, e, h.nsections * sizeof(*e), (off_t)h.table_offset) ==
	      (ssize_t)(h.nsections * sizeof(*e)));
	close(fd);
	snprintf(copy, sizeof(copy), "%s.cut", path);
	for (uint32_t i = 0; i < h.nsections; i++) {
		uint64_t cuts[2] = { e[i].offset, e[i].offset + e[i].length - (e[i].length ? 1 : 0) };

		for (int k = 0; k < 2; k++) {
			char err[512] = "";
			struct snapshot *s;
			char cmd[400];

			snprintf(cmd, sizeof(cmd), "head -c %llu %s > %s", (unsigned long long)cuts[k], path,
				 copy);
			CHECK_EQ(system(cmd), 0);
			s = snapshot_open(copy, err, sizeof(err));
			snapshot_close(s);
			if (s)
				printf("  accepted a cut at %llu\n", (unsigned long long)cuts[k]);
			CHECK(!s && strstr(err, "truncated"));
		}
	}
	free(e);
	unlink(copy);
}

int main(void)
{
	vcpu_signals_init();
	RUN(save_and_reopen);
	RUN(every_bit_flipped);
	RUN(truncated_at_boundaries);
	unlink(path);
	return check_failures ? 1 : 0;
}
