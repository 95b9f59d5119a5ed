#include "loader/loader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

/* Guest images larger than this are refused before they are read. */
#define BLOB_MAX (1ull << 32)

int blob_read(struct blob *b, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->fd = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > BLOB_MAX) {
		err_set(err, errlen, "%s: file too large (%lld bytes)", path, (long long)st.st_size);
		close(fd);
		return -1;
	}
	b->size = (size_t)st.st_size;
	if (b->size) {
		/* Mapped, not read: the guest's copy is what counts, and a reset
		 * reloads from the page cache. */
		void *p = mmap(NULL, b->size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		b->data = p;
		b->mapped = true;
		b->fd = fd;
		return 0;
	}
	close(fd);
	return 0;
}

void blob_drop_pages(const struct blob *b)
{
	if (b->mapped && b->size)
		madvise(b->data, b->size, MADV_DONTNEED);
}

void blob_free(struct blob *b)
{
	if (b->mapped) {
		munmap(b->data, b->size);
		close(b->fd);
	} else {
		free(b->data);
	}
	b->data = NULL;
	b->size = 0;
	b->mapped = false;
	b->fd = -1;
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
	plan->seg[plan->nseg++] = (struct load_segment){ gpa, data, filesz, memsz, what };
	return 0;
}

/* A bzImage: through the boot protocol, or decompressed on the host and
 * booted through PVH (auto: PVH when the payload has a PVH entry). */
static int plan_bzimage(const struct loader_input *in, struct boot_plan *plan, char *err,
			size_t errlen)
{
	if (in->linux_boot == KERNEL_BOOT_PROTOCOL)
		return bzimage_plan(in, plan, err, errlen);
	if (bzimage_decompress(&in->kernel, in->cache_dir, &plan->vmlinux, plan->note,
			       sizeof(plan->note), err, errlen))
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

int loader_plan(const struct loader_input *in, struct boot_plan *plan, char *err, size_t errlen)
{
	const struct blob *k = &in->kernel;

	memset(plan, 0, sizeof(*plan));
	note_sources(in, plan);
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

/* The mapped file a segment's bytes come from, or NULL. */
static const struct blob *source_of(const struct boot_plan *plan, const uint8_t *p)
{
	for (unsigned i = 0; i <= plan->nsources; i++) {
		const struct blob *b = i < plan->nsources ? &plan->sources[i] : &plan->vmlinux;

		if (b->mapped && b->fd >= 0 && p >= b->data && p < b->data + b->size)
			return b;
	}
	return NULL;
}

/* Straight from the file into guest RAM: the bytes never become shrike's
 * own resident memory (a mapped copy would, until dropped). */
static bool copy_from_file(const struct blob *b, const uint8_t *src, uint8_t *dst, uint64_t len)
{
	uint64_t off = (uint64_t)(src - b->data), done = 0;

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

void boot_plan_commit(const struct boot_plan *plan, struct guest_mem *mem)
{
	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct load_segment *s = &plan->seg[i];
		uint8_t *dst = gpa_to_hva(mem, s->gpa, s->memsz);
		const struct blob *b = source_of(plan, s->data);

		/* plan_add() checked the range; a NULL here would be a bug. */
		if (!dst)
			abort();
		if (!b || !copy_from_file(b, s->data, dst, s->filesz))
			memcpy(dst, s->data, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	for (unsigned i = 0; i < plan->nsources; i++)
		blob_drop_pages(&plan->sources[i]);
	blob_drop_pages(&plan->vmlinux);
}

void boot_plan_free(struct boot_plan *plan)
{
	for (unsigned i = 0; i < plan->nowned; i++)
		free(plan->owned[i]);
	blob_free(&plan->vmlinux);
	memset(plan, 0, sizeof(*plan));
}
