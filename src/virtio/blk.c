/*
 * virtio-blk (virtio 1.2, 5.2) on a raw image file, read-write or
 * read-only: reads, writes, flush (fdatasync), discard (a punched hole),
 * write-zeroes (a zeroed range), the serial (GET_ID); one queue per vCPU.
 * Reads, writes and flushes go to an io_uring (liburing) straight into
 * guest memory, many in flight, completed when the ring says so; where the
 * kernel refuses io_uring they are done one by one with preadv/pwritev on
 * the device's I/O thread.  GET_ID, discard and write-zeroes are done at
 * once.
 *
 * Every request is checked: its header, its status byte, its sectors
 * against the disk's size (overflow-safe); a bad one gets IOERR or
 * UNSUPP, never I/O outside the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <sys/eventfd.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"
#include "virtio/virtio.h"

#define SECTOR 512ull

#define BLK_F_SIZE_MAX     1
#define BLK_F_SEG_MAX      2
#define BLK_F_RO           5
#define BLK_F_BLK_SIZE     6
#define BLK_F_FLUSH        9
#define BLK_F_MQ           12
#define BLK_F_DISCARD      13
#define BLK_F_WRITE_ZEROES 14

#define T_IN           0
#define T_OUT          1
#define T_FLUSH        4
#define T_GET_ID       8
#define T_DISCARD      11
#define T_WRITE_ZEROES 13

#define S_OK     0
#define S_IOERR  1
#define S_UNSUPP 2

#define QUEUE_MAX    256
#define MAX_SECTORS  0x3fffffu      /* per discard / write-zeroes segment */

struct blk_config {            /* 5.2.4, little endian */
	uint64_t capacity;
	uint32_t size_max, seg_max;
	uint8_t geometry[4];
	uint32_t blk_size;
	uint8_t topology[8];
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));

/* A request in flight on the io_uring. */
struct blk_req {
	unsigned queue;
	uint16_t head;
	uint8_t type;
	size_t expect;             /* bytes the read or write must move */
	struct iovec status;       /* where the status byte goes */
	unsigned niov;
	struct iovec iov[];
};

struct blk {
	struct virtio_dev *vd;
	struct io_uring ring;
	bool uring;                /* else synchronous preadv/pwritev */
	int ring_efd;              /* completions */
	unsigned inflight;
	const struct disk_config *disk;
	int fd;
	uint64_t sectors;
	unsigned nqueues;               /* one per vCPU (VIRTIO_BLK_F_MQ) */
	struct blk_config config;
	struct virtio_ops ops_copy;     /* the features offered depend on the disk */
	uint64_t reads, writes, flushes, errors;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/* [skip, skip + len) of the chain's readable (or writable) part, as iovecs
 * into guest memory.  Returns how many. */
static unsigned slice(struct blk *b, const struct virtq_chain *c, bool writable, size_t skip,
		      size_t len)
{
	unsigned first = writable ? c->nread : 0, end = writable ? c->nread + c->nwrite : c->nread;
	unsigned n = 0;

	for (unsigned i = first; i < end && len; i++) {
		size_t l = c->iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		b->iov[n++] = (struct iovec){ (uint8_t *)c->iov[i].iov_base + skip, l };
		len -= l;
		skip = 0;
	}
	return n;
}

/* The whole of [off, off + len) through preadv/pwritev, or -1. */
static int transfer(struct blk *b, unsigned n, uint64_t off, bool write)
{
	struct iovec *iov = b->iov;

	while (n) {
		ssize_t r = write ? pwritev(b->fd, iov, (int)n, (off_t)off)
				  : preadv(b->fd, iov, (int)n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (uint64_t)r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++, n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static bool in_disk(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	return sector <= b->sectors && bytes <= (b->sectors - sector) * SECTOR;
}

static uint8_t read_write(struct blk *b, const struct virtq_chain *c, uint64_t sector,
			  bool write, uint32_t *written)
{
	size_t len = write ? c->read_len - 16 : c->write_len - 1;
	unsigned n = write ? slice(b, c, false, 16, len) : slice(b, c, true, 0, len);

	if (len % SECTOR || !in_disk(b, sector, len))
		return S_IOERR;
	if (write && b->disk->readonly)
		return S_IOERR;
	if (transfer(b, n, sector * SECTOR, write))
		return S_IOERR;
	if (write) {
		b->writes++;
	} else {
		b->reads++;
		*written = (uint32_t)len;
	}
	return S_OK;
}

/* Discard and write-zeroes: segments of {sector, count, flags}. */
static uint8_t zero_ranges(struct blk *b, const struct virtq_chain *c, bool discard)
{
	struct { uint64_t sector; uint32_t count, flags; } seg;
	size_t len = c->read_len - 16;

	if (b->disk->readonly || len != sizeof(seg))       /* max_*_seg is 1 */
		return S_IOERR;
	virtq_read(c, 16, &seg, sizeof(seg));
	if ((seg.flags & ~1u) || seg.count > MAX_SECTORS ||
	    !in_disk(b, seg.sector, (uint64_t)seg.count * SECTOR))
		return S_UNSUPP;
	if (discard || (seg.flags & 1)) {
		if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(seg.sector * SECTOR), (off_t)(seg.count * SECTOR)) == 0)
			return S_OK;
		if (discard)
			return S_OK;       /* a discard is advice: nothing lost */
	}
	return fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			 (off_t)(seg.sector * SECTOR), (off_t)(seg.count * SECTOR)) ? S_IOERR : S_OK;
}

static uint8_t request(struct blk *b, struct virtq_chain *c, uint32_t *written)
{
	struct { uint32_t type, reserved; uint64_t sector; } hdr;

	virtq_read(c, 0, &hdr, sizeof(hdr));
	switch (hdr.type) {
	case T_IN:
	case T_OUT:
		return read_write(b, c, hdr.sector, hdr.type == T_OUT, written);
	case T_FLUSH:
		b->flushes++;
		return fdatasync(b->fd) ? S_IOERR : S_OK;
	case T_GET_ID:
		*written = (uint32_t)virtq_write(c, 0, b->disk->serial,
						 c->write_len - 1 < 20 ? c->write_len - 1 : 20);
		return S_OK;
	case T_DISCARD:
	case T_WRITE_ZEROES:
		return zero_ranges(b, c, hdr.type == T_DISCARD);
	default:
		return S_UNSUPP;
	}
}

/* ---- the io_uring engine ---- */

/* Queues a read, write or flush on the ring: true if it is in flight (it
 * completes in complete_requests), false to do it at once instead. */
static bool submit_async(struct blk *b, struct virtq_chain *c, unsigned qi)
{
	struct { uint32_t type, reserved; uint64_t sector; } hdr;
	struct io_uring_sqe *sqe;
	struct blk_req *r;
	size_t len = 0;
	unsigned n = 0;

	if (!b->uring)
		return false;
	virtq_read(c, 0, &hdr, sizeof(hdr));
	if (hdr.type == T_IN || hdr.type == T_OUT) {
		bool write = hdr.type == T_OUT;

		len = write ? c->read_len - 16 : c->write_len - 1;
		if (len % SECTOR || !in_disk(b, hdr.sector, len) || (write && b->disk->readonly))
			return false;      /* refused at once, with IOERR */
		/* A write alone is done at once: io_uring hands a buffered
		 * write to one of its workers (most file systems cannot write
		 * without possibly blocking), a thread hop each way that costs
		 * more than it saves when nothing else is in flight. */
		if (write && !b->inflight && !io_uring_sq_ready(&b->ring))
			return false;
		n = write ? slice(b, c, false, 16, len) : slice(b, c, true, 0, len);
	} else if (hdr.type != T_FLUSH) {
		return false;
	}
	r = malloc(sizeof(*r) + n * sizeof(struct iovec));
	sqe = r ? io_uring_get_sqe(&b->ring) : NULL;
	if (!sqe) {
		free(r);
		return false;
	}
	*r = (struct blk_req){ .queue = qi, .head = c->head, .type = (uint8_t)hdr.type, .niov = n,
			       .expect = len };
	memcpy(r->iov, b->iov, n * sizeof(struct iovec));
	/* The status byte: the chain's last writable byte. */
	for (unsigned i = c->nread + c->nwrite; i-- > c->nread;) {
		if (c->iov[i].iov_len) {
			r->status.iov_base = (uint8_t *)c->iov[i].iov_base + c->iov[i].iov_len - 1;
			break;
		}
	}
	if (hdr.type == T_FLUSH)
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
	else if (hdr.type == T_IN)
		io_uring_prep_readv(sqe, b->fd, r->iov, n, hdr.sector * SECTOR);
	else
		io_uring_prep_writev(sqe, b->fd, r->iov, n, hdr.sector * SECTOR);
	io_uring_sqe_set_data(sqe, r);
	b->inflight++;
	return true;
}

static void finish_request(struct blk *b, struct virtio_dev *vd, struct blk_req *r, int res,
			   bool *done)
{
	uint8_t status = S_OK;
	uint32_t written = 0;

	if (res < 0 || (r->type != T_FLUSH && (size_t)res != r->expect)) {
		status = S_IOERR;
		b->errors++;
	} else if (r->type == T_IN) {
		written = (uint32_t)r->expect;
		b->reads++;
	} else if (r->type == T_OUT) {
		b->writes++;
	} else {
		b->flushes++;
	}
	if (r->status.iov_base)
		*(uint8_t *)r->status.iov_base = status;
	if (!vd->vq[r->queue].broken && vd->vq[r->queue].enabled) {
		virtq_push(&vd->vq[r->queue], &vd->vm->mem, r->head, written + 1);
		done[r->queue] = true;
	}
	free(r);
}

/* Under the device lock: every completion the ring has. */
static void complete_requests(void *dev, struct virtio_dev *vd)
{
	struct blk *b = dev;
	struct io_uring_cqe *cqe;
	bool done[VIRTIO_MAX_QUEUES] = { false };
	eventfd_t ignored;

	eventfd_read(b->ring_efd, &ignored);
	while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&b->ring, cqe);
		b->inflight--;
		finish_request(b, vd, r, res, done);
	}
	for (unsigned q = 0; q < vd->nqueues; q++)
		if (done[q])
			virtio_queue_done(vd, &vd->vq[q]);
}

static int ring_fd(void *dev)
{
	struct blk *b = dev;

	return b->uring ? b->ring_efd : -1;
}

/* Before the queues go away (a reset): what is in flight lands first,
 * unreported.  Peeking needs no system call (the vCPU's filter, which a
 * reset by the driver runs under, has no io_uring). */
static void drain(struct blk *b)
{
	struct io_uring_cqe *cqe;
	struct timespec ts = { 0, 100000 };

	while (b->inflight) {
		while (b->inflight && io_uring_peek_cqe(&b->ring, &cqe) == 0) {
			free(io_uring_cqe_get_data(cqe));
			io_uring_cqe_seen(&b->ring, cqe);
			b->inflight--;
		}
		if (b->inflight)
			nanosleep(&ts, NULL);
	}
}

static void blk_dev_reset(void *dev)
{
	struct blk *b = dev;

	if (b->uring)
		drain(b);
}

static void handle_queue(void *dev, struct virtio_dev *vd, unsigned qi)
{
	struct blk *b = dev;
	struct virtqueue *q = &vd->vq[qi];
	struct virtq_chain *c = malloc(sizeof(*c));
	char err[160];
	int r;

	if (!c)
		return;
	do {
		while ((r = virtq_pop(q, &vd->vm->mem, c, err, sizeof(err))) > 0) {
			uint32_t written = 0;
			uint8_t status;

			if (c->read_len < 16 || c->write_len < 1) {
				virtio_needs_reset(vd, "a request without header or status byte");
				r = -1;
				break;
			}
			if (submit_async(b, c, qi))
				continue;
			status = request(b, c, &written);
			if (status != S_OK)
				b->errors++;
			virtq_write(c, c->write_len - 1, &status, 1);
			virtq_push(q, &vd->vm->mem, c->head, written + 1);
		}
		if (r < 0) {
			if (err[0])
				virtio_needs_reset(vd, err);
			break;
		}
		if (b->uring && io_uring_sq_ready(&b->ring))
			io_uring_submit(&b->ring);
		virtio_queue_done(vd, q);
	} while (virtq_more_after_enabling_notify(q, &vd->vm->mem));
	free(c);
}

static void config_read(void *dev, unsigned off, void *buf, unsigned n)
{
	struct blk *b = dev;

	memcpy(buf, (const uint8_t *)&b->config + off, n);
}

static unsigned inflight(void *dev)
{
	return ((struct blk *)dev)->inflight;
}

static const struct virtio_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = 2,
	.pci_class = 0x018000,
	.queue_max = QUEUE_MAX,
	.config_read = config_read,
	.config_size = sizeof(struct blk_config),
	.handle_queue = handle_queue,
	.reset = blk_dev_reset,
	.poll_fd = ring_fd,
	.poll_ready = complete_requests,
	.inflight = inflight,
};

static void set_config(struct blk *b)
{
	struct blk_config *c = &b->config;

	c->capacity = b->sectors;
	c->seg_max = QUEUE_MAX - 2;
	c->blk_size = SECTOR;
	c->num_queues = (uint16_t)b->nqueues;
	c->max_discard_sectors = c->max_write_zeroes_sectors = MAX_SECTORS;
	c->max_discard_seg = c->max_write_zeroes_seg = 1;
	c->discard_sector_alignment = 1;
	c->write_zeroes_may_unmap = 1;
}

/* The io_uring, sized for every queue full; where the kernel refuses it
 * (too old, disabled by sysctl, a seccomp profile), synchronous I/O. */
static void open_ring(struct blk *b)
{
	int r = io_uring_queue_init(b->nqueues * QUEUE_MAX, &b->ring, 0);

	if (r < 0) {
		log_info("--disk %s: io_uring: %s; synchronous I/O instead", b->disk->path,
			 strerror(-r));
		return;
	}
	b->ring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->ring_efd < 0 || io_uring_register_eventfd(&b->ring, b->ring_efd) < 0) {
		log_info("--disk %s: io_uring completions cannot be signalled; synchronous I/O instead",
			 b->disk->path);
		io_uring_queue_exit(&b->ring);
		return;
	}
	b->uring = true;
}

static void blk_destroy(void *opaque)
{
	struct blk *b = opaque;

	virtio_pci_destroy(b->vd);
	if (b->uring) {
		drain(b);
		io_uring_queue_exit(&b->ring);
	}
	if (b->ring_efd >= 0)
		close(b->ring_efd);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static int open_disk(struct blk *b)
{
	struct stat st;

	b->fd = open(b->disk->path, (b->disk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0 || fstat(b->fd, &st)) {
		log_error("--disk %s: %s", b->disk->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("--disk %s: not a regular file (a raw image is)", b->disk->path);
		return -1;
	}
	if (st.st_size % SECTOR)
		log_warn("--disk %s: %lld bytes is not a whole number of sectors; the last %lld "
			 "bytes are not used", b->disk->path, (long long)st.st_size,
			 (long long)(st.st_size % SECTOR));
	b->sectors = (uint64_t)st.st_size / SECTOR;
	return 0;
}

static int blk_create(struct vm *vm, const struct device_params *p)
{
	struct blk *b = calloc(1, sizeof(*b));
	struct virtio_ops *ops;

	if (!b)
		return -1;
	b->disk = p->config;
	b->fd = -1;
	b->ring_efd = -1;
	if (vm_add_device(vm, &virtio_blk_model, b)) {
		free(b);
		return -1;
	}
	if (open_disk(b))
		return -1;
	b->nqueues = vm->ncpus < VIRTIO_MAX_QUEUES ? vm->ncpus : VIRTIO_MAX_QUEUES;
	if (!b->nqueues)
		b->nqueues = 1;
	set_config(b);
	open_ring(b);
	ops = &b->ops_copy;
	*ops = blk_ops;
	ops->features = 1ull << BLK_F_SEG_MAX | 1ull << BLK_F_BLK_SIZE | 1ull << BLK_F_FLUSH |
			(b->nqueues > 1 ? 1ull << BLK_F_MQ : 0) |
			(b->disk->readonly ? 1ull << BLK_F_RO
					   : 1ull << BLK_F_DISCARD | 1ull << BLK_F_WRITE_ZEROES);
	b->vd = virtio_pci_create(vm, ops, b, b->nqueues);
	return b->vd ? 0 : -1;
}

/* The transport, then what the disk looked like: a restore must be given
 * the same disk (--disk), and says so if it was not. */
static int blk_save(void *opaque, struct snap_writer *w)
{
	struct blk *b = opaque;

	virtio_pci_save(b->vd, w);
	snap_put_u64(w, b->sectors);
	snap_put_u8(w, b->disk->readonly);
	return w->sb.failed ? -1 : 0;
}

static int blk_load(void *opaque, struct snap_reader *r)
{
	struct blk *b = opaque;
	uint64_t sectors;
	bool ro;

	if (virtio_pci_load(b->vd, r))
		return -1;
	sectors = snap_get_u64(r);
	ro = snap_get_u8(r) != 0;
	if (!snap_done(r))
		return -1;
	if (sectors != b->sectors || ro != b->disk->readonly) {
		log_error("--disk %s: %llu sectors%s, but the snapshot's disk had %llu%s: give the "
			  "restore the disks the VM had", b->disk->path, (unsigned long long)b->sectors,
			  b->disk->readonly ? " read-only" : "", (unsigned long long)sectors,
			  ro ? " read-only" : "");
		return -1;
	}
	return 0;
}

static void blk_stats(void *opaque, FILE *f)
{
	struct blk *b = opaque;

	if (!b->vd)
		return;
	virtio_pci_stats(b->vd, f);
	fprintf(f, "    %s: %llu reads, %llu writes, %llu flushes, %llu errors (%s)\n",
		b->disk->path, (unsigned long long)b->reads, (unsigned long long)b->writes,
		(unsigned long long)b->flushes, (unsigned long long)b->errors,
		b->uring ? "io_uring" : "synchronous");
}

const struct device_model virtio_blk_model = {
	.name = "virtio-blk",
	.create = blk_create,
	.reset = virtio_model_reset,
	.quiesce = virtio_model_quiesce,
	.resume = virtio_model_resume,
	.save = blk_save,
	.load = blk_load,
	.stats = blk_stats,
	.destroy = blk_destroy,
};
