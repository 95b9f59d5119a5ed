#include "loader/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "loader/tmpfile.h"
#include "x86/acpi.h"

/* Guest images larger than this are refused before they are read. */
#define BLOB_MAX (1ull << 32)

static struct file_id file_id_of(const struct stat *st)
{
	return (struct file_id){ (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
				 (int64_t)st->st_mtim.tv_sec, (int64_t)st->st_mtim.tv_nsec };
}

/* An unlinked file for a pin: on disk ($TMPDIR, /var/tmp), not in memory,
 * unless no such directory takes one. */
static int pin_file(void)
{
	const char *dirs[] = { getenv("TMPDIR"), "/var/tmp", "/tmp" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int dirfd = dirs[i] && *dirs[i] ? open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		char name[64];
		int fd;

		if (dirfd < 0)
			continue;
		fd = tmpfile_in(dirfd, name, sizeof(name));
		if (fd >= 0 && name[0])
			unlinkat(dirfd, name, 0);
		close(dirfd);
		if (fd >= 0)
			return fd;
	}
	return memfd_create("shrike-pin", MFD_CLOEXEC);
}

/* Copies `size` bytes of user_fd into a new pin; returns its fd or -1. */
static int pin(int user_fd, uint64_t size)
{
	int fd = pin_file();

	if (fd < 0)
		return -1;
	if (copy_whole_file(user_fd, fd, size) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int blob_read(struct blob *b, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *p;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->fd = b->user_fd = -1;
	b->user_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (b->user_fd < 0) {
		err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(b->user_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(err, errlen, "%s: not a regular file", path);
		blob_free(b);
		return -1;
	}
	if ((uint64_t)st.st_size > BLOB_MAX) {
		err_set(err, errlen, "%s: file too large (%lld bytes)", path, (long long)st.st_size);
		blob_free(b);
		return -1;
	}
	b->size = (size_t)st.st_size;
	b->id = file_id_of(&st);
	if (!b->size)
		return 0;
	b->fd = pin(b->user_fd, b->size);
	if (b->fd < 0) {
		err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
		blob_free(b);
		return -1;
	}
	b->pinned = true;
	/* Mapped, not read: the guest's copy is what counts, and a reset
	 * reloads from the page cache. */
	p = mmap(NULL, b->size, PROT_READ, MAP_PRIVATE, b->fd, 0);
	if (p == MAP_FAILED) {
		err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
		blob_free(b);
		return -1;
	}
	b->data = p;
	b->mapped = true;
	return 0;
}

void blob_drop_pages(const struct blob *b)
{
	if (b->mapped && b->size)
		madvise(b->data, b->size, MADV_DONTNEED);
}

void blob_free(struct blob *b)
{
	if (b->mapped)
		munmap(b->data, b->size);
	else
		free(b->data);
	if (b->mapped && b->fd >= 0)
		close(b->fd);
	if (b->user_fd > 0)
		close(b->user_fd);
	b->data = NULL;
	b->size = 0;
	b->mapped = false;
	b->fd = b->user_fd = -1;
}

uint8_t *plan_alloc(struct boot_plan *plan, size_t size)
{
	uint8_t *p;

	if (plan->nowned >= sizeof(plan->owned) / sizeof(plan->owned[0]))
		return NULL;
	p = calloc(1, size ? size : 1);
	if (p)
		plan->owned[plan->nowned++] = p;
	return p;
}

int plan_add(struct boot_plan *plan, const struct guest_mem *mem, gpa_t gpa, const void *data,
	     uint64_t filesz, uint64_t memsz, const char *what, char *err, size_t errlen)
{
	uint64_t end;

	if (memsz == 0)
		return 0;
	if (filesz > memsz) {
		err_set(err, errlen, "%s: file size 0x%llx exceeds memory size 0x%llx", what,
			(unsigned long long)filesz, (unsigned long long)memsz);
		return -1;
	}
	if (__builtin_add_overflow(gpa, memsz, &end) || !gpa_to_hva(mem, gpa, memsz)) {
		err_set(err, errlen, "%s: [0x%llx, 0x%llx) lies outside guest RAM (%llu MiB)", what,
			(unsigned long long)gpa, (unsigned long long)(gpa + memsz),
			(unsigned long long)(mem->total >> 20));
		return -1;
	}
	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct load_segment *s = &plan->seg[i];

		if (gpa < s->gpa + s->memsz && s->gpa < end) {
			err_set(err, errlen, "%s at [0x%llx, 0x%llx) overlaps %s at [0x%llx, 0x%llx)",
				what, (unsigned long long)gpa, (unsigned long long)end, s->what,
				(unsigned long long)s->gpa,
				(unsigned long long)(s->gpa + s->memsz));
			return -1;
		}
	}
	if (plan->nseg >= BOOT_MAX_SEGMENTS) {
		err_set(err, errlen, "%s: too many segments (more than %d)", what, BOOT_MAX_SEGMENTS);
		return -1;
	}
	plan->seg[plan->nseg++] = (struct load_segment){ .gpa = gpa, .data = data, .filesz = filesz,
						   .memsz = memsz, .what = what };
	return 0;
}

/* A bzImage: through the boot protocol, or decompressed on the host and
 * booted through PVH (auto: PVH when the payload has a PVH entry). */
static int plan_bzimage(const struct loader_input *in, struct boot_plan *plan, char *err,
			size_t errlen)
{
	int r;

	if (in->linux_boot == KERNEL_BOOT_PROTOCOL)
		return bzimage_plan(in, plan, err, errlen);
	r = bzimage_decompress(&in->kernel, in->cache_dir, in->mem->total, pvh_detect,
			       &plan->vmlinux, plan->note, sizeof(plan->note), err, errlen);
	if (r == -2 && in->linux_boot == KERNEL_BOOT_AUTO) {
		/* Nothing to decompress here: the kernel's own set-up code
		 * knows what it carries. */
		snprintf(plan->note, sizeof(plan->note), "no payload to decompress on the host: "
			 "boot protocol");
		return bzimage_plan(in, plan, err, errlen);
	}
	if (r)
		return -1;
	if (!pvh_detect(plan->vmlinux.data, plan->vmlinux.size)) {
		if (in->linux_boot == KERNEL_BOOT_PVH) {
			err_set(err, errlen, "%s: the decompressed kernel has no PVH entry note",
				in->kernel.path);
			return -1;
		}
		blob_free(&plan->vmlinux);
		snprintf(plan->note, sizeof(plan->note), "no PVH entry in the payload: boot protocol");
		return bzimage_plan(in, plan, err, errlen);
	}
	plan->format = "bzImage (decompressed on the host, PVH)";
	return pvh_plan(in, &plan->vmlinux, plan, err, errlen);
}

static void note_sources(const struct loader_input *in, struct boot_plan *plan)
{
	plan->sources[plan->nsources++] = in->kernel;
	for (unsigned i = 0; i < in->nmodules && plan->nsources < 18; i++)
		plan->sources[plan->nsources++] = in->modules[i];
}

static bool range_free(const struct boot_plan *plan, gpa_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < plan->nseg; i++)
		if (gpa < plan->seg[i].gpa + plan->seg[i].memsz && plan->seg[i].gpa < gpa + size)
			return false;
	return true;
}

int plan_acpi(const struct loader_input *in, struct boot_plan *plan, bool required, char *err,
	      size_t errlen)
{
	uint8_t *acpi;

	if (!in->board) {
		if (!required)
			return 0;
		err_set(err, errlen, "no board described for the ACPI tables");
		return -1;
	}
	if (!required && (!range_free(plan, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE) ||
			  !gpa_to_hva(in->mem, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE) ||
			  in->ncpus > ACPI_MAX_CPUS))
		return 0;          /* an image there, or too little RAM: no tables */
	acpi = plan_alloc(plan, ACPI_TABLES_SIZE);
	if (!acpi) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	if (!acpi_build(acpi, ACPI_TABLES_SIZE, ACPI_TABLES_ADDR, in->ncpus, in->board)) {
		err_set(err, errlen, "cannot describe %u CPUs in the MADT (at most %d)", in->ncpus,
			ACPI_MAX_CPUS);
		return -1;
	}
	if (plan_add(plan, in->mem, ACPI_TABLES_ADDR, acpi, ACPI_TABLES_SIZE, ACPI_TABLES_SIZE,
		     "ACPI tables", err, errlen))
		return -1;
	plan->rsdp = ACPI_TABLES_ADDR;
	return 0;
}

static int plan_kernel(const struct loader_input *in, struct boot_plan *plan, char *err,
		       size_t errlen)
{
	const struct blob *k = &in->kernel;

	if (in->force_flat)
		return flat_plan(in, plan, err, errlen);
	if (bzimage_detect(k->data, k->size))
		return plan_bzimage(in, plan, err, errlen);
	if (multiboot_detect(k->data, k->size))
		return multiboot_plan(in, plan, err, errlen);
	if (pvh_detect(k->data, k->size)) {
		if (in->linux_boot == KERNEL_BOOT_PROTOCOL) {
			err_set(err, errlen, "%s: a vmlinux ELF boots through PVH, not the boot protocol",
				k->path);
			return -1;
		}
		return pvh_plan(in, k, plan, err, errlen);
	}
	if (k->size >= 4 && !memcmp(k->data, "\177ELF", 4)) {
		err_set(err, errlen, "%s: ELF image with neither a multiboot header nor a PVH entry note",
			k->path);
		return -1;
	}
	err_set(err, errlen,
		"%s: unrecognised kernel format (not a bzImage, no multiboot header in the first "
		"8 KiB, no PVH note; use --kernel-format flat for a flat binary)", k->path);
	return -1;
}

/* Every guest finds ACPI tables (RSDP in the BIOS area, as under QEMU),
 * unless its own image occupies that range. */
int loader_plan(const struct loader_input *in, struct boot_plan *plan, char *err, size_t errlen)
{
	memset(plan, 0, sizeof(*plan));
	note_sources(in, plan);
	if (plan_kernel(in, plan, err, errlen))
		return -1;
	return plan->rsdp ? 0 : plan_acpi(in, plan, false, err, errlen);
}

/* The mapped file a segment's bytes come from (its index), or -1. */
static int source_of(const struct boot_plan *plan, const uint8_t *p)
{
	for (unsigned i = 0; i <= plan->nsources; i++) {
		const struct blob *b = i < plan->nsources ? &plan->sources[i] : &plan->vmlinux;

		if (b->mapped && b->fd >= 0 && p >= b->data && p < b->data + b->size)
			return (int)i;
	}
	return -1;
}

static const struct blob *source_blob(const struct boot_plan *plan, int i)
{
	return (unsigned)i < plan->nsources ? &plan->sources[i] : &plan->vmlinux;
}

/* The user's file behind a blob is still the one that was opened. */
static bool user_file_unchanged(const struct blob *b)
{
	struct stat st;
	struct file_id now;

	if (b->user_fd <= 0)
		return true;
	if (fstat(b->user_fd, &st) < 0)
		return false;
	now = file_id_of(&st);
	return now.dev == b->id.dev && now.ino == b->id.ino && now.size == b->id.size &&
	       now.mtime_sec == b->id.mtime_sec && now.mtime_nsec == b->id.mtime_nsec;
}

/* Straight from the file into guest RAM: the bytes never become shrike's
 * own resident memory, and the mapping is never touched. */
static bool copy_from_file(const struct blob *b, const uint8_t *src, uint8_t *dst, uint64_t len)
{
	uint64_t off = b->file_off + (uint64_t)(src - b->data), done = 0;

	while (done < len) {
		ssize_t n = pread(b->fd, dst + done, len - done, (off_t)(off + done));

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		done += (uint64_t)n;
	}
	return true;
}

/* At a reset: one line per changed file, the first time it is seen. */
static void note_changes(struct boot_plan *plan)
{
	for (unsigned i = 0; i < plan->nsources; i++) {
		if (plan->change_reported[i] || user_file_unchanged(&plan->sources[i]))
			continue;
		plan->change_reported[i] = true;
		log_error("%s changed since the VM started; the reset loads the bytes validated "
			  "at start", plan->sources[i].path);
	}
}

static int zero_tail(const struct load_segment *s, uint8_t *dst)
{
	memset(dst + s->filesz, 0, s->memsz - s->filesz);
	return 0;
}

static int load_segment(struct boot_plan *plan, struct load_segment *s, uint8_t *dst, char *err,
			size_t errlen)
{
	int i = source_of(plan, s->data);
	const struct blob *b = i >= 0 ? source_blob(plan, i) : NULL;
	uint8_t d[DIGEST_SIZE];

	if (s->filesz && b) {
		if (!copy_from_file(b, s->data, dst, s->filesz)) {
			err_set(err, errlen, "%s: cannot read it again: %s", b->path,
				errno ? strerror(errno) : "short read");
			return -1;
		}
		/* A private copy (a pin) cannot change: hashing tens of MiB at
		 * every boot would buy nothing (it cost 0.6 s of a Debian boot on the
		 * nested test VM's KVM).
		 * Other sources (a snapshot's mapped boot data) are checked
		 * against the digest of the bytes first loaded. */
		if (b->pinned)
			return zero_tail(s, dst);
		digest(dst, s->filesz, d);
		if (s->loaded_set && memcmp(d, s->loaded, DIGEST_SIZE)) {
			err_set(err, errlen, "%s: the bytes of %s differ from those loaded at start; "
				"not booting them", b->path, s->what);
			return -1;
		}
		memcpy(s->loaded, d, DIGEST_SIZE);
		s->loaded_set = true;
	} else if (s->filesz) {
		/* Bytes the plan owns (boot information, page tables). */
		memcpy(dst, s->data, s->filesz);
	}
	return zero_tail(s, dst);
}

int boot_plan_segment_bytes(const struct boot_plan *plan, unsigned i, uint8_t *dst)
{
	const struct load_segment *s = &plan->seg[i];
	int k = source_of(plan, s->data);

	if (!s->filesz)
		return 0;
	if (k < 0) {
		memcpy(dst, s->data, s->filesz);
		return 0;
	}
	return copy_from_file(source_blob(plan, k), s->data, dst, s->filesz) ? 0 : -1;
}

int boot_plan_commit(struct boot_plan *plan, struct guest_mem *mem, char *err, size_t errlen)
{
	int r = 0;

	if (plan->committed)
		note_changes(plan);
	for (unsigned i = 0; i < plan->nseg && !r; i++) {
		struct load_segment *s = &plan->seg[i];
		uint8_t *dst = gpa_to_hva(mem, s->gpa, s->memsz);

		/* plan_add() checked the range (for restored plans too); should a
		 * segment still not fit, the reset fails rather than the VMM. */
		if (!dst) {
			err_set(err, errlen, "%s: [0x%llx, +0x%llx) lies outside guest RAM", s->what,
				(unsigned long long)s->gpa, (unsigned long long)s->memsz);
			r = -1;
			break;
		}
		r = load_segment(plan, s, dst, err, errlen);
	}
	for (unsigned i = 0; i < plan->nsources; i++)
		blob_drop_pages(&plan->sources[i]);
	blob_drop_pages(&plan->vmlinux);
	if (!r)
		plan->committed = true;
	return r;
}

void boot_plan_free(struct boot_plan *plan)
{
	for (unsigned i = 0; i < plan->nowned; i++)
		free(plan->owned[i]);
	blob_free(&plan->vmlinux);
	memset(plan, 0, sizeof(*plan));
}
