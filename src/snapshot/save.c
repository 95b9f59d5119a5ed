/*
 * Saving a snapshot (see snapshot.h).  The VM is paused: every vCPU has
 * completed its pending I/O and is parked, so the state read here is the
 * state KVM would run next.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/safedir.h"
#include "base/version.h"
#include "core/vm.h"
#include "snapshot/format.h"
#include "snapshot/sections.h"
#include "snapshot/snapshot.h"
#include "base/stream.h"

#define MAX_SECTIONS (8 + VM_MAX_DEVICES + 1024)

struct pending {
	struct snap_entry e;
	struct snap_writer w;      /* the contents (not for RAM and BOOTDATA) */
};

struct saver {
	struct vm *vm;
	struct pending sec[MAX_SECTIONS];
	unsigned n;
	struct snap_ram_run *runs;
	size_t nruns, cap_runs;
	uint64_t ram_pages;
	char *err;
	size_t errlen;
	uint64_t bytes_per_sec;    /* 0: as fast as the disk goes */
	uint64_t written, t_start;
};

static struct snap_writer *add(struct saver *s, uint32_t type, uint32_t index, const char *name)
{
	struct pending *p;

	if (s->n == MAX_SECTIONS)
		return NULL;
	p = &s->sec[s->n++];
	memset(p, 0, sizeof(*p));
	p->e.type = type;
	p->e.index = index;
	if (name)
		snprintf(p->e.name, sizeof(p->e.name), "%s", name);
	return &p->w;
}

/* ---- vCPUs, on their own threads ---- */

struct vcpu_save {
	struct snap_writer *w;
	int r;
};

static void save_on_vcpu(struct vcpu *v, void *arg)
{
	struct vcpu_save *vs = arg;

	vs->r = cpu_state_refresh(&v->state, CPU_ALL, CAUSE_SNAPSHOT, "snapshot");
	if (!vs->r)
		snap_vcpu_write(v, vs->w);
}

static int save_vcpus(struct saver *s)
{
	for (unsigned i = 0; i < s->vm->ncpus; i++) {
		struct vcpu_save vs = { add(s, SNAP_VCPU, i, NULL), -1 };

		if (!vs.w) {
			err_set(s->err, s->errlen, "too many sections");
			return -1;
		}
		vcpu_run_on(s->vm->vcpu[i], save_on_vcpu, &vs);
		if (vs.r) {
			err_set(s->err, s->errlen, "vCPU %u: cannot read its state", i);
			return -1;
		}
	}
	return 0;
}

static int save_devices(struct saver *s)
{
	for (unsigned i = 0; i < s->vm->ndevices; i++) {
		const struct device *d = &s->vm->devices[i];
		struct snap_writer *w = add(s, SNAP_DEVICE, i, d->model->name);

		if (!w || (d->model->save && d->model->save(d->opaque, w))) {
			err_set(s->err, s->errlen, "device %s: cannot save it", d->model->name);
			return -1;
		}
	}
	return 0;
}

/* ---- RAM: runs of pages that are not zero ---- */

static bool page_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned i = 0; i < SNAP_PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

static int add_page(struct saver *s, uint64_t gpa)
{
	struct snap_ram_run *last = s->nruns ? &s->runs[s->nruns - 1] : NULL;

	s->ram_pages++;
	if (last && last->gpa + last->pages * SNAP_PAGE == gpa) {
		last->pages++;
		return 0;
	}
	if (s->nruns == s->cap_runs) {
		size_t cap = s->cap_runs ? s->cap_runs * 2 : 256;
		struct snap_ram_run *r = realloc(s->runs, cap * sizeof(*r));

		if (!r)
			return -1;
		s->runs = r;
		s->cap_runs = cap;
	}
	s->runs[s->nruns++] = (struct snap_ram_run){ gpa, 1, 0 };
	return 0;
}

/*
 * Which pages to look at: /proc/self/pagemap says which pages of the
 * anonymous RAM were ever populated (present or swapped); the others read
 * as zero.  Pages mapped from a snapshot file are looked at in any case.
 * Without pagemap, every page is looked at.
 */
static int scan_bank(struct saver *s, const struct guest_mem *mem, const struct mem_bank *b,
		     int pagemap)
{
	uint64_t pages = b->size / SNAP_PAGE, buf[512];

	for (uint64_t i = 0; i < pages;) {
		uint64_t n = pages - i < 512 ? pages - i : 512;
		uint64_t va = (uint64_t)(uintptr_t)(b->host + i * SNAP_PAGE);
		bool have_map = pagemap >= 0 &&
				pread(pagemap, buf, n * 8, (off_t)(va / SNAP_PAGE * 8)) == (ssize_t)(n * 8);

		for (uint64_t j = 0; j < n; j++, i++) {
			uint64_t gpa = b->gpa + i * SNAP_PAGE;
			bool maybe = !have_map || (buf[j] >> 62) || guest_mem_file_backed(mem, gpa);

			if (maybe && !page_zero(b->host + i * SNAP_PAGE) && add_page(s, gpa)) {
				err_set(s->err, s->errlen, "out of memory");
				return -1;
			}
		}
	}
	return 0;
}

static int scan_ram(struct saver *s)
{
	const struct guest_mem *mem = &s->vm->mem;
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	int r = 0;

	for (unsigned i = 0; i < mem->nbanks && !r; i++)
		r = scan_bank(s, mem, &mem->bank[i], pagemap);
	if (pagemap >= 0)
		close(pagemap);
	return r;
}

/* ---- writing ---- */

/* With a rate (QMP's max-bandwidth), sleeps until the bytes written so far
 * are due. */
static void throttle(struct saver *s)
{
	uint64_t due, now;
	struct timespec ts;

	if (!s->bytes_per_sec)
		return;
	due = s->t_start + (uint64_t)((double)s->written * 1e9 / (double)s->bytes_per_sec);
	now = now_ns();
	if (due <= now)
		return;
	ts.tv_sec = (time_t)((due - now) / 1000000000ull);
	ts.tv_nsec = (long)((due - now) % 1000000000ull);
	nanosleep(&ts, NULL);
}

#define THROTTLE_CHUNK (64u << 10)

static int write_all(struct saver *s, int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;

	while (n) {
		size_t len = s->bytes_per_sec && n > THROTTLE_CHUNK ? THROTTLE_CHUNK : n;
		ssize_t w = pwrite(fd, p, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
		s->written += (uint64_t)w;
		throttle(s);
	}
	return 0;
}

static uint64_t align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Places every section and the table; RAM last, page-aligned.  Returns
 * the file size. */
static uint64_t layout(struct saver *s, uint64_t *table_off, uint64_t *ram_off)
{
	uint64_t pos = SNAP_HEADER_SIZE;

	for (unsigned i = 0; i < s->n; i++) {
		struct snap_entry *e = &s->sec[i].e;

		if (e->type == SNAP_RAM)
			continue;
		/* BOOTDATA is mapped by a restore: page-aligned too. */
		pos = align(pos, e->type == SNAP_BOOTDATA ? SNAP_PAGE : 8);
		e->offset = pos;
		if (e->type != SNAP_BOOTDATA)
			e->length = s->sec[i].w.sb.len;
		pos += e->length;
	}
	*table_off = align(pos, 8);
	pos = align(*table_off + s->n * sizeof(struct snap_entry), SNAP_PAGE);
	*ram_off = pos;
	for (size_t i = 0; i < s->nruns; i++) {
		s->runs[i].offset = pos;
		pos += s->runs[i].pages * SNAP_PAGE;
	}
	for (unsigned i = 0; i < s->n; i++) {
		if (s->sec[i].e.type == SNAP_RAM) {
			s->sec[i].e.offset = *ram_off;
			s->sec[i].e.length = pos - *ram_off;
		}
	}
	return pos;
}

static int write_file(struct saver *s, int fd, struct snapshot_stats *st)
{
	struct snap_header h;
	struct digest_ctx md;
	uint64_t table_off, ram_off, size;
	struct snap_writer *rammap = NULL;
	struct snap_entry table[MAX_SECTIONS];

	for (unsigned i = 0; i < s->n; i++)
		if (s->sec[i].e.type == SNAP_RAMMAP)
			rammap = &s->sec[i].w;
	/* RAMMAP's contents need the RAM offsets: lay out with its final
	 * size (known: one record per run), then fill it in. */
	for (size_t i = 0; rammap && i < s->nruns; i++)
		snap_put(rammap, &s->runs[i], sizeof(s->runs[i]));
	size = layout(s, &table_off, &ram_off);
	if (rammap) {
		rammap->sb.len = 0;
		for (size_t i = 0; i < s->nruns; i++)
			snap_put(rammap, &s->runs[i], sizeof(s->runs[i]));
	}
	digest_init(&md);
	for (unsigned i = 0; i < s->n; i++)
		table[i] = s->sec[i].e;
	digest_update(&md, table, s->n * sizeof(table[0]));
	for (unsigned i = 0; i < s->n; i++) {
		const struct pending *p = &s->sec[i];

		if (p->w.sb.failed)
			return -1;
		if (p->e.type == SNAP_RAM)
			continue;
		if (p->e.type == SNAP_BOOTDATA) {
			if (snap_write_bootdata(s->vm, fd, p->e.offset, &md))
				return -1;
			continue;
		}
		digest_update(&md, p->w.sb.buf, p->w.sb.len);
		if (write_all(s, fd, p->w.sb.buf, p->w.sb.len, p->e.offset))
			return -1;
	}
	if (write_all(s, fd, table, s->n * sizeof(table[0]), table_off))
		return -1;
	for (size_t i = 0; i < s->nruns; i++) {
		const uint8_t *src = gpa_to_hva(&s->vm->mem, s->runs[i].gpa, s->runs[i].pages * SNAP_PAGE);

		if (!src || write_all(s, fd, src, s->runs[i].pages * SNAP_PAGE, s->runs[i].offset))
			return -1;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SNAP_MAGIC, 8);
	h.version = SNAP_VERSION;
	h.header_size = SNAP_HEADER_SIZE;
	snprintf(h.shrike_version, sizeof(h.shrike_version), "%s", SHRIKE_VERSION);
	h.table_offset = table_off;
	h.nsections = s->n;
	h.file_size = size;
	digest_final(&md, h.metadata_digest);
	{
		uint8_t page[SNAP_HEADER_SIZE];

		memset(page, 0, sizeof(page));
		memcpy(page, &h, sizeof(h));
		digest(page, sizeof(page), h.header_digest);
		memcpy(page + SNAP_HEADER_DIGEST_AT, h.header_digest, DIGEST_SIZE);
		if (write_all(s, fd, page, sizeof(page), 0) || ftruncate(fd, (off_t)size) < 0)
			return -1;
	}
	st->file_bytes = size;
	st->ram_pages = s->ram_pages;
	return 0;
}

/* Everything but RAM and the boot data, gathered in memory. */
static int gather(struct saver *s)
{
	struct snap_writer *w;

	if (!(w = add(s, SNAP_CONFIG, 0, NULL)) || snap_config_write(s->vm, w) ||
	    !(w = add(s, SNAP_CPUID, 0, NULL)) || snap_cpuid_write(s->vm, w) ||
	    !(w = add(s, SNAP_IRQCHIP, 0, NULL)) || snap_irqchip_write(s->vm, w, s->err, s->errlen) ||
	    !(w = add(s, SNAP_BOOT, 0, NULL)) || snap_boot_write(s->vm, w) ||
	    !add(s, SNAP_BOOTDATA, 0, NULL))
		return -1;
	s->sec[s->n - 1].e.length = snap_bootdata_size(s->vm);
	if (save_vcpus(s) || save_devices(s) || scan_ram(s))
		return -1;
	if (!add(s, SNAP_RAMMAP, 0, NULL) || !add(s, SNAP_RAM, 0, NULL))
		return -1;
	return 0;
}

/* Where the save goes: the target's directory, opened once, and the name
 * in it.  Every later step (the look at what is there, the temporary file,
 * the rename, the clean-up) is relative to that descriptor, so a directory
 * the user named cannot be swapped for a link to somewhere else between the
 * check and the rename (security review 2, N7).  Links on the way are
 * followed only if root or the user made them (base/safedir.h): another
 * user's link in /tmp does not lead a save elsewhere. */
struct target {
	int dirfd;
	const char *name;              /* within path: its last component */
	char tmp[300];                 /* the temporary file's name in dirfd */
};

static int open_target(struct target *t, const char *path, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int n;

	t->dirfd = -1;
	t->name = slash ? slash + 1 : path;
	if (!*t->name || !strcmp(t->name, ".") || !strcmp(t->name, "..")) {
		err_set(err, errlen, "%s: not a file name", path);
		return -1;
	}
	n = snprintf(t->tmp, sizeof(t->tmp), ".%s.tmp-%d", t->name, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(t->tmp) || !path_dir(path, strlen(path), dir, sizeof(dir))) {
		err_set(err, errlen, "%s: name too long", path);
		return -1;
	}
	t->dirfd = safedir_open(dir, err, errlen);
	return t->dirfd < 0 ? -1 : 0;
}

/* May the save replace what is there?  Nothing, or a regular file of the
 * user's that the user may write: the rename would otherwise replace a
 * read-only or someone else's file, which a plain write could not (N7).  A
 * link there is itself replaced, never its target. */
static bool may_replace(const struct target *t, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(t->dirfd, t->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return true;
		err_set(err, errlen, "cannot look at %s: %s", path, strerror(errno));
		return false;
	}
	if (S_ISLNK(st.st_mode))
		return true;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || !(st.st_mode & S_IWUSR)) {
		err_set(err, errlen, "%s exists and is not a file of yours that you may write: not "
			"replaced", path);
		return false;
	}
	return true;
}

/* A private temporary file next to the target, renamed when complete. */
static int open_temp(const struct target *t)
{
	return openat(t->dirfd, t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* Devices with threads of their own finish their I/O and keep off guest
 * memory until resume_devices(): the RAM and their rings are saved as one
 * moment.  Returns how many were quiesced (all, or fewer: one failed). */
static unsigned quiesce_devices(struct vm *vm, bool *failed)
{
	unsigned i;

	*failed = false;
	for (i = 0; i < vm->ndevices; i++) {
		const struct device *d = &vm->devices[i];

		if (d->model->quiesce && d->model->quiesce(d->opaque)) {
			*failed = true;
			break;
		}
	}
	return i;
}

static void resume_devices(struct vm *vm, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (vm->devices[i].model->resume)
			vm->devices[i].model->resume(vm->devices[i].opaque);
}

int snapshot_save(struct vm *vm, const char *path, uint64_t bytes_per_sec,
		  struct snapshot_stats *st, char *err, size_t errlen)
{
	struct saver *s = calloc(1, sizeof(*s));
	uint64_t t0 = now_ns();
	struct target t;
	int fd, r = -1;
	bool created, quiesce_failed;
	unsigned quiesced;

	memset(st, 0, sizeof(*st));
	if (!s) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	s->vm = vm;
	s->err = err;
	s->errlen = errlen;
	s->bytes_per_sec = bytes_per_sec;
	s->t_start = t0;
	err_set(err, errlen, "cannot gather the VM's state");
	if (open_target(&t, path, err, errlen)) {
		free(s);
		return -1;
	}
	fd = may_replace(&t, path, err, errlen) ? open_temp(&t) : -2;
	created = fd >= 0;             /* only a file this save made is removed */
	quiesced = fd >= 0 ? quiesce_devices(vm, &quiesce_failed) : 0;
	if (fd == -2) {
		/* the message is set */
	} else if (fd >= 0 && quiesce_failed) {
		err_set(err, errlen, "device %s: cannot finish its I/O",
			vm->devices[quiesced].model->name);
	} else if (fd < 0) {
		err_set(err, errlen, "cannot create %s beside %s: %s%s", t.tmp, path, strerror(errno),
			errno == EACCES ? " (is it beneath --snapshot-dir, or the working directory or "
					  "$TMPDIR without one?)" : "");
	} else if (gather(s)) {
		/* the message is set */
	} else if (write_file(s, fd, st) || fsync(fd)) {
		err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
	} else {
		int c = close(fd);

		fd = -1;
		if (c)
			err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
		else if (renameat(t.dirfd, t.tmp, t.dirfd, t.name) == 0)
			r = 0;
		else
			err_set(err, errlen, "cannot rename %s to %s: %s", t.tmp, path, strerror(errno));
	}
	resume_devices(vm, quiesced);
	if (fd >= 0)
		close(fd);
	if (r && created)
		unlinkat(t.dirfd, t.tmp, 0);
	close(t.dirfd);
	for (unsigned i = 0; i < s->n; i++)
		snap_writer_free(&s->sec[i].w);
	free(s->runs);
	free(s);
	st->total_ram = vm->mem.total;
	st->duration_ns = now_ns() - t0;
	return r;
}
