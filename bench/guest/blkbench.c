/*
 * The disk benchmark's guest side (bench/virtio-blk.sh): a static program
 * in the guest's initramfs that measures a block device with O_DIRECT, so
 * that every request reaches the VMM:
 *   seqread   1 MiB reads from the start, MB/s
 *   seqwrite  1 MiB writes from the start, MB/s (fdatasync at the end)
 *   randread  4 KiB reads at random aligned offsets, queue depth 1 and 32
 *             (io_uring), IOPS and mean latency
 * Each figure runs for SECONDS (default 5).  Output: one line per figure,
 * "BLKBENCH name value unit".
 *
 *   blkbench DEVICE [SECONDS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define MIB (1u << 20)
#define SMALL 4096u
#define DEPTH 32u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Sequential 1 MiB requests for `seconds`, wrapping at the device's end. */
static double sequential(int fd, uint64_t size, void *buf, double seconds, int write)
{
	uint64_t off = 0, bytes = 0;
	double t0 = now(), t;

	do {
		ssize_t n = write ? pwrite(fd, buf, MIB, (off_t)off) : pread(fd, buf, MIB, (off_t)off);

		if (n != MIB) {
			perror(write ? "pwrite" : "pread");
			exit(1);
		}
		bytes += MIB;
		off = off + MIB + MIB > size ? 0 : off + MIB;
		t = now() - t0;
	} while (t < seconds);
	if (write && fdatasync(fd)) {
		perror("fdatasync");
		exit(1);
	}
	return (double)bytes / MIB / (now() - t0);
}

static off_t random_offset(uint64_t size)
{
	return (off_t)(next_random() % (size / SMALL) * SMALL);
}

/* 4 KiB random reads, `depth` in flight; returns IOPS. */
static double random_reads(int fd, uint64_t size, uint8_t *buf, double seconds, unsigned depth)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	uint64_t done = 0;
	double t0;

	if (io_uring_queue_init(depth, &ring, 0) < 0) {
		fprintf(stderr, "io_uring_queue_init failed\n");
		exit(1);
	}
	t0 = now();
	for (unsigned i = 0; i < depth; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, fd, buf + i * SMALL, SMALL, random_offset(size));
		io_uring_sqe_set_data(sqe, (void *)(uintptr_t)i);
	}
	io_uring_submit(&ring);
	while (now() - t0 < seconds) {
		unsigned slot;
		struct io_uring_sqe *sqe;

		if (io_uring_wait_cqe(&ring, &cqe) < 0 || cqe->res != SMALL) {
			fprintf(stderr, "random read failed: %d\n", cqe ? cqe->res : -1);
			exit(1);
		}
		slot = (unsigned)(uintptr_t)io_uring_cqe_get_data(cqe);
		io_uring_cqe_seen(&ring, cqe);
		done++;
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, fd, buf + slot * SMALL, SMALL, random_offset(size));
		io_uring_sqe_set_data(sqe, (void *)(uintptr_t)slot);
		io_uring_submit(&ring);
	}
	t0 = now() - t0;
	io_uring_queue_exit(&ring);
	return (double)done / t0;
}

/* The guest's clock source: reading it may cost an exit (acpi_pm, hpet),
 * which the figures then include; kvm-clock and tsc cost none. */
static void print_clocksource(void)
{
	char name[64] = "unknown";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");

	if (f) {
		if (!fgets(name, sizeof(name), f))
			strcpy(name, "unknown\n");
		fclose(f);
	}
	printf("BLKBENCH-INFO clocksource %s", name);
}

int main(int argc, char **argv)
{
	double seconds = argc > 2 ? atof(argv[2]) : 5, iops;
	uint64_t size = 0;
	void *buf;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: blkbench DEVICE [SECONDS]\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &size)) {    /* a file: for trying it out */
		struct stat st;

		size = fstat(fd, &st) ? 0 : (uint64_t)st.st_size;
	}
	if (fd < 0 || size < 4 * MIB) {
		perror(argv[1]);
		return 1;
	}
	if (posix_memalign(&buf, 4096, MIB)) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	memset(buf, 0x5a, MIB);
	print_clocksource();
	printf("BLKBENCH seqread %.1f MB/s\n", sequential(fd, size, buf, seconds, 0));
	printf("BLKBENCH seqwrite %.1f MB/s\n", sequential(fd, size, buf, seconds, 1));
	iops = random_reads(fd, size, buf, seconds, 1);
	printf("BLKBENCH randread-qd1 %.0f IOPS\n", iops);
	printf("BLKBENCH latency-qd1 %.1f us\n", 1e6 / iops);
	printf("BLKBENCH randread-qd%u %.0f IOPS\n", DEPTH, random_reads(fd, size, buf, seconds, DEPTH));
	fflush(stdout);
	return 0;
}
