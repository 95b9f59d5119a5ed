/*
 * Restoring a snapshot (see snapshot.h).  The file is input from outside:
 * the header is checked (magic, version, its own checksum, the file size),
 * then every table entry (types, bounds, alignment, one of each kind), then
 * the checksum of all metadata, before any section is interpreted; each
 * section's reader then validates its values.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "core/vm.h"
#include "snapshot/format.h"
#include "snapshot/sections.h"
#include "snapshot/snapshot.h"
#include "x86/cpufeatures.h"

struct snapshot {
	int fd;
	const char *path;
	uint64_t size;
	struct snap_header h;
	struct snap_entry *table;
	struct kvm_cpuid2 *cpuid;
	char names[600];
	uint64_t dev, ino;
};

static const struct snap_entry *find(const struct snapshot *s, uint32_t type, uint32_t index)
{
	for (uint32_t i = 0; i < s->h.nsections; i++)
		if (s->table[i].type == type && s->table[i].index == index)
			return &s->table[i];
	return NULL;
}

/* A section's bytes (not RAM), malloc'd; NULL with a message. */
static uint8_t *read_section(const struct snapshot *s, const struct snap_entry *e, char *err,
			     size_t errlen)
{
	uint8_t *buf;

	if (!e) {
		err_set(err, errlen, "%s: corrupt snapshot (section missing)", s->path);
		return NULL;
	}
	buf = malloc(e->length ? e->length : 1);

	if (!buf) {
		err_set(err, errlen, "%s: out of memory", s->path);
		return NULL;
	}
	if (pread(s->fd, buf, e->length, (off_t)e->offset) != (ssize_t)e->length) {
		err_set(err, errlen, "%s: cannot read it: %s", s->path, strerror(errno));
		free(buf);
		return NULL;
	}
	return buf;
}

static int check_header(struct snapshot *s, char *err, size_t errlen)
{
	struct snap_header *h = &s->h;
	uint8_t d[DIGEST_SIZE], page[SNAP_HEADER_SIZE];

	if (s->size < SNAP_HEADER_SIZE ||
	    pread(s->fd, page, sizeof(page), 0) != (ssize_t)sizeof(page)) {
		err_set(err, errlen, "%s: not a shrike snapshot (too short)", s->path);
		return -1;
	}
	memcpy(h, page, sizeof(*h));
	if (memcmp(h->magic, SNAP_MAGIC, 8)) {
		err_set(err, errlen, "%s: not a shrike snapshot (bad magic)", s->path);
		return -1;
	}
	if (h->version != SNAP_VERSION) {
		err_set(err, errlen, "%s: snapshot format version %u; this shrike reads version %u",
			s->path, h->version, SNAP_VERSION);
		return -1;
	}
	memset(page + SNAP_HEADER_DIGEST_AT, 0, DIGEST_SIZE);
	digest(page, sizeof(page), d);
	if (memcmp(d, h->header_digest, DIGEST_SIZE)) {
		err_set(err, errlen, "%s: corrupt snapshot (header checksum)", s->path);
		return -1;
	}
	if (h->file_size != s->size) {
		err_set(err, errlen, "%s: truncated snapshot (%llu of %llu bytes)", s->path,
			(unsigned long long)s->size, (unsigned long long)h->file_size);
		return -1;
	}
	if (h->header_size != SNAP_HEADER_SIZE || h->nsections == 0 ||
	    h->nsections > SNAP_MAX_SECTIONS || h->table_offset < SNAP_HEADER_SIZE ||
	    (h->table_offset & 7) || h->nsections * sizeof(struct snap_entry) > s->size ||
	    h->table_offset > s->size - h->nsections * sizeof(struct snap_entry)) {
		err_set(err, errlen, "%s: corrupt snapshot (section table)", s->path);
		return -1;
	}
	return 0;
}

/* The most a section of each type can hold: metadata sections are hashed
 * and read whole into memory, so a file (a sparse one costs nothing on
 * disk) must not name gigabytes for them (security review 2, N3).  RAM and
 * boot data are mapped, not read. */
static uint64_t section_max(uint32_t type)
{
	switch (type) {
	case SNAP_CONFIG: return 4096;
	case SNAP_CPUID: return 4 + 4096 * sizeof(struct kvm_cpuid_entry2);
	case SNAP_IRQCHIP: return 256 << 10;
	case SNAP_BOOT: return 64 << 10;
	case SNAP_BOOTDATA: return 1ull << 33;
	case SNAP_VCPU: return 1 << 20;
	case SNAP_DEVICE: return 1 << 20;
	case SNAP_RAMMAP: return 256 << 20;
	default: return UINT64_MAX;
	}
}

static bool entry_ok(const struct snapshot *s, const struct snap_entry *e)
{
	uint64_t end;

	if (e->type < SNAP_CONFIG || e->type > SNAP_RAM || e->offset < SNAP_HEADER_SIZE ||
	    e->length > section_max(e->type) ||
	    __builtin_add_overflow(e->offset, e->length, &end) || end > s->size ||
	    memchr(e->name, 0, sizeof(e->name)) == NULL)
		return false;
	if ((e->type == SNAP_RAM || e->type == SNAP_BOOTDATA) && (e->offset % SNAP_PAGE))
		return false;
	return true;
}

static int by_offset(const void *a, const void *b)
{
	const struct snap_entry *x = *(const struct snap_entry *const *)a;
	const struct snap_entry *y = *(const struct snap_entry *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Do two sections, or a section and the table, share bytes?  (Each lies
 * inside the file: entry_ok.) */
static bool sections_overlap(const struct snapshot *s)
{
	uint32_t n = s->h.nsections;
	const struct snap_entry **sorted = malloc(n * sizeof(*sorted));
	uint64_t table_end = s->h.table_offset + n * sizeof(struct snap_entry), prev_end = 0;
	bool overlap = !sorted;

	for (uint32_t i = 0; sorted && i < n; i++)
		sorted[i] = &s->table[i];
	if (sorted)
		qsort(sorted, n, sizeof(*sorted), by_offset);
	for (uint32_t i = 0; !overlap && i < n; i++) {
		const struct snap_entry *e = sorted[i];

		if (!e->length)
			continue;
		overlap = e->offset < prev_end ||
			  (e->offset < table_end && s->h.table_offset < e->offset + e->length);
		prev_end = e->offset + e->length;
	}
	free(sorted);
	return overlap;
}

static int check_table(struct snapshot *s, char *err, size_t errlen)
{
	static const uint32_t once[] = { SNAP_CONFIG, SNAP_CPUID, SNAP_IRQCHIP, SNAP_BOOT,
					 SNAP_BOOTDATA, SNAP_RAMMAP, SNAP_RAM };
	size_t bytes = s->h.nsections * sizeof(struct snap_entry);

	s->table = malloc(bytes);
	if (!s->table || pread(s->fd, s->table, bytes, (off_t)s->h.table_offset) != (ssize_t)bytes) {
		err_set(err, errlen, "%s: cannot read the section table", s->path);
		return -1;
	}
	for (uint32_t i = 0; i < s->h.nsections; i++) {
		const struct snap_entry *e = &s->table[i];

		if (!entry_ok(s, e)) {
			err_set(err, errlen, "%s: corrupt snapshot (section %u out of bounds)", s->path, i);
			return -1;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (s->table[j].type == e->type && s->table[j].index == e->index) {
				err_set(err, errlen, "%s: corrupt snapshot (section %u repeated)", s->path, i);
				return -1;
			}
		}
	}
	if (sections_overlap(s)) {
		err_set(err, errlen, "%s: corrupt snapshot (sections overlap)", s->path);
		return -1;
	}
	for (size_t k = 0; k < sizeof(once) / sizeof(once[0]); k++) {
		if (!find(s, once[k], 0)) {
			err_set(err, errlen, "%s: corrupt snapshot (section of type %u missing)", s->path,
				once[k]);
			return -1;
		}
	}
	return 0;
}

/* The checksum of the table and every section but RAM. */
static int check_metadata(struct snapshot *s, char *err, size_t errlen)
{
	struct digest_ctx md;
	uint8_t d[DIGEST_SIZE], buf[65536];

	digest_init(&md);
	digest_update(&md, s->table, s->h.nsections * sizeof(struct snap_entry));
	for (uint32_t i = 0; i < s->h.nsections; i++) {
		const struct snap_entry *e = &s->table[i];

		if (e->type == SNAP_RAM)
			continue;
		for (uint64_t done = 0; done < e->length;) {
			size_t n = e->length - done < sizeof(buf) ? (size_t)(e->length - done) : sizeof(buf);

			if (pread(s->fd, buf, n, (off_t)(e->offset + done)) != (ssize_t)n) {
				err_set(err, errlen, "%s: cannot read it: %s", s->path, strerror(errno));
				return -1;
			}
			digest_update(&md, buf, n);
			done += n;
		}
	}
	digest_final(&md, d);
	if (memcmp(d, s->h.metadata_digest, DIGEST_SIZE)) {
		err_set(err, errlen, "%s: corrupt snapshot (metadata checksum)", s->path);
		return -1;
	}
	return 0;
}

static int read_cpuid(struct snapshot *s, char *err, size_t errlen)
{
	const struct snap_entry *e = find(s, SNAP_CPUID, 0);
	uint8_t *buf = read_section(s, e, err, errlen);
	struct snap_reader r;

	if (!buf || !e)
		return -1;
	r = (struct snap_reader){ buf, e->length, 0, false };
	s->cpuid = snap_cpuid_read(&r, err, errlen);
	free(buf);
	return s->cpuid ? 0 : -1;
}

struct snapshot *snapshot_open(const char *path, char *err, size_t errlen)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct stat st;

	if (!s) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	s->path = path;
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (s->fd < 0) {
		err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(err, errlen, "%s: not a regular file", path);
		snapshot_close(s);
		return NULL;
	}
	/* A restored VM's RAM is mapped from this file: whoever can rewrite it
	 * rewrites guest memory (security review 2, N5).  Only the user's
	 * (or root's) files that nobody else can write are taken. */
	if ((st.st_mode & 022) || (st.st_uid != geteuid() && st.st_uid != 0)) {
		err_set(err, errlen, "%s: %s (the restored VM's memory is read from it); chmod go-w, "
			"or copy it", path, (st.st_mode & 022) ? "writable by others" : "owned by another user");
		snapshot_close(s);
		return NULL;
	}
	s->size = (uint64_t)st.st_size;
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	if (check_header(s, err, errlen) || check_table(s, err, errlen) ||
	    check_metadata(s, err, errlen) || read_cpuid(s, err, errlen)) {
		snapshot_close(s);
		return NULL;
	}
	return s;
}

void snapshot_close(struct snapshot *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->table);
	free(s->cpuid);
	free(s);
}

const struct kvm_cpuid2 *snapshot_cpuid(const struct snapshot *s)
{
	return s->cpuid;
}

int snapshot_config(struct snapshot *s, struct vm_config *cfg, char *err, size_t errlen)
{
	const struct snap_entry *e = find(s, SNAP_CONFIG, 0);
	uint8_t *buf = read_section(s, e, err, errlen);
	struct snap_reader r;
	struct vm_config mine = *cfg;
	int rc;

	if (!buf || !e)
		return -1;
	r = (struct snap_reader){ buf, e->length, 0, false };
	rc = snap_config_read(&r, cfg, s->names, sizeof(s->names), err, errlen);
	free(buf);
	if (rc)
		return -1;
	if ((mine.cpus_set && mine.cpus != cfg->cpus) ||
	    (mine.memory_set && mine.memory != cfg->memory)) {
		err_set(err, errlen, "--incoming: the snapshot's machine has %u vCPUs and %llu MiB; "
			"--cpus/--memory must match or be left out", cfg->cpus,
			(unsigned long long)(cfg->memory >> 20));
		return -1;
	}
	for (uint32_t i = 0; i < cfg->cpus; i++) {
		if (!find(s, SNAP_VCPU, i)) {
			err_set(err, errlen, "%s: corrupt snapshot (vCPU %u missing)", s->path, i);
			return -1;
		}
	}
	cfg->mapped_dev = s->dev;
	cfg->mapped_ino = s->ino;
	return 0;
}

/* ---- RAM ---- */

#define RAM_MAP_RUNS_MAX 8192u

int snapshot_load_ram(struct snapshot *s, struct guest_mem *mem, bool read_mode, char *err,
		      size_t errlen)
{
	const struct snap_entry *e = find(s, SNAP_RAMMAP, 0), *ram = find(s, SNAP_RAM, 0);
	struct snap_ram_run *runs;
	size_t n;
	uint64_t next_gpa = 0, next_off;
	int r = 0;

	if (!e || !ram || e->length % sizeof(*runs)) {
		err_set(err, errlen, "%s: corrupt snapshot (RAM map)", s->path);
		return -1;
	}
	n = e->length / sizeof(*runs);
	/* Each mapped run costs up to two VMAs, and the kernel's default limit
	 * is 65,530 for the whole process: a fragmented guest's many runs are
	 * read instead (security review 2, N11: 40,000 runs failed to map). */
	if (!read_mode && n > RAM_MAP_RUNS_MAX) {
		log_info("%s: %zu RAM runs: read, not mapped (at most %u are mapped)", s->path, n,
			 RAM_MAP_RUNS_MAX);
		read_mode = true;
	}
	next_off = ram->offset;
	runs = (struct snap_ram_run *)read_section(s, e, err, errlen);
	if (!runs)
		return -1;
	for (size_t i = 0; i < n && !r; i++) {
		const struct snap_ram_run *u = &runs[i];
		uint64_t len = u->pages * SNAP_PAGE;
		uint8_t *hva = (u->gpa % SNAP_PAGE || !u->pages || u->pages > (1ull << 40) ||
				u->gpa < next_gpa || u->offset != next_off) ? NULL :
			       gpa_to_hva(mem, u->gpa, len);

		if (!hva || u->offset + len > ram->offset + ram->length) {
			err_set(err, errlen, "%s: corrupt snapshot (RAM run %zu)", s->path, i);
			r = -1;
			break;
		}
		next_gpa = u->gpa + len;
		next_off = u->offset + len;
		if (read_mode) {
			r = pread(s->fd, hva, len, (off_t)u->offset) == (ssize_t)len ? 0 : -1;
		} else {
			/* Pages come from the file when the guest touches them;
			 * writes go to private copies. */
			r = mmap(hva, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, s->fd,
				 (off_t)u->offset) == MAP_FAILED ? -1 : 0;
			if (!r)
				r = guest_mem_note_file_backed(mem, u->gpa, len);
		}
		if (r)
			err_set(err, errlen, "%s: cannot %s guest RAM: %s", s->path,
				read_mode ? "read" : "map", strerror(errno));
	}
	if (!r && next_off != ram->offset + ram->length) {
		err_set(err, errlen, "%s: corrupt snapshot (RAM size)", s->path);
		r = -1;
	}
	free(runs);
	return r;
}

/* ---- everything else, into the created VM ---- */

static int check_host_cpu(struct snapshot *s, struct vm *vm, char *err, size_t errlen)
{
	const struct cpu_feature *missing[16];
	/* What shrike gives a vCPU on this host (topology bits included). */
	struct kvm_cpuid2 *here = cpuid_for_vcpu(vm->cpuid_supported, 0, vm->ncpus);
	unsigned n = here ? cpu_features_missing(s->cpuid, here, missing, 16) : 0;
	char list[400] = "";
	size_t pos = 0;

	free(here);
	if (!n)
		return 0;
	for (unsigned i = 0; i < n && pos < sizeof(list); i++)
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s", i ? ", " : "",
					missing[i]->name);
	err_set(err, errlen, "%s: this host's CPU lacks features the snapshot's guest uses: %s",
		s->path, list);
	return -1;
}

static int with_section(struct snapshot *s, uint32_t type, uint32_t index,
			int (*fn)(struct snap_reader *r, void *arg, char *err, size_t errlen),
			void *arg, char *err, size_t errlen)
{
	const struct snap_entry *e = find(s, type, index);
	uint8_t *buf;
	struct snap_reader r;
	int rc;

	if (!e) {
		err_set(err, errlen, "%s: corrupt snapshot (section %u/%u missing)", s->path, type, index);
		return -1;
	}
	buf = read_section(s, e, err, errlen);
	if (!buf)
		return -1;
	r = (struct snap_reader){ buf, e->length, 0, false };
	rc = fn(&r, arg, err, errlen);
	free(buf);
	return rc;
}

static int irqchip_fn(struct snap_reader *r, void *arg, char *err, size_t errlen)
{
	return snap_irqchip_read(r, arg, err, errlen);
}

static int vcpu_fn(struct snap_reader *r, void *arg, char *err, size_t errlen)
{
	return snap_vcpu_read(r, arg, err, errlen);
}

struct device_arg {
	const struct device *d;
	const char *path;
};

static int device_fn(struct snap_reader *r, void *arg, char *err, size_t errlen)
{
	const struct device_arg *a = arg;

	if (a->d->model->load ? a->d->model->load(a->d->opaque, r) : !snap_done(r)) {
		err_set(err, errlen, "%s: corrupt snapshot (device %s)", a->path, a->d->model->name);
		return -1;
	}
	return 0;
}

static int restore_devices(struct snapshot *s, struct vm *vm, char *err, size_t errlen)
{
	unsigned sections = 0;

	for (uint32_t i = 0; i < s->h.nsections; i++)
		sections += s->table[i].type == SNAP_DEVICE;
	if (sections != vm->ndevices) {
		err_set(err, errlen, "%s: the snapshot has %u devices, the machine %u", s->path,
			sections, vm->ndevices);
		return -1;
	}
	for (unsigned i = 0; i < vm->ndevices; i++) {
		const struct snap_entry *e = find(s, SNAP_DEVICE, i);
		struct device_arg a = { &vm->devices[i], s->path };

		if (!e || strcmp(e->name, vm->devices[i].model->name)) {
			err_set(err, errlen, "%s: device %u of the snapshot is not %s", s->path, i,
				vm->devices[i].model->name);
			return -1;
		}
		if (with_section(s, SNAP_DEVICE, i, device_fn, &a, err, errlen))
			return -1;
	}
	return 0;
}

/* The boot images, mapped from the file, for later resets. */
static int restore_boot(struct snapshot *s, struct vm *vm, char *err, size_t errlen)
{
	const struct snap_entry *e = find(s, SNAP_BOOTDATA, 0);
	struct blob data = { .path = s->path, .fd = -1, .user_fd = -1 };
	struct boot_plan plan;
	int rc;

	if (!e) {
		err_set(err, errlen, "%s: corrupt snapshot (boot data missing)", s->path);
		return -1;
	}
	if (e->length) {
		data.data = mmap(NULL, e->length, PROT_READ, MAP_PRIVATE, s->fd, (off_t)e->offset);
		if (data.data == MAP_FAILED) {
			err_set(err, errlen, "%s: cannot map the boot images: %s", s->path, strerror(errno));
			return -1;
		}
		data.size = e->length;
		data.mapped = true;
		data.fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 3);
		data.file_off = e->offset;
	}
	{
		const struct snap_entry *b = find(s, SNAP_BOOT, 0);
		uint8_t *buf = read_section(s, b, err, errlen);
		struct snap_reader r = { buf, b ? b->length : 0, 0, false };

		memset(&plan, 0, sizeof(plan));
		rc = buf ? snap_boot_read(&r, &data, &vm->mem, &plan, err, errlen) : -1;
		free(buf);
	}
	if (rc) {
		blob_free(&data);
		boot_plan_free(&plan);
		return -1;
	}
	boot_plan_free(&vm->boot);
	vm->boot = plan;
	return 0;
}

static int restore_vcpus(struct snapshot *s, struct vm *vm, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (with_section(s, SNAP_VCPU, i, vcpu_fn, vm->vcpu[i], err, errlen))
			return -1;
	return 0;
}

/* What is only read and checked comes first (the boot plan, the vCPU
 * records, which the first run writes), what KVM is told last (the
 * interrupt controllers and clock, the devices' routes): a malformed
 * snapshot is refused before KVM holds any of it. */
int snapshot_restore(struct snapshot *s, struct vm *vm, char *err, size_t errlen)
{
	if (check_host_cpu(s, vm, err, errlen) || restore_boot(s, vm, err, errlen) ||
	    restore_vcpus(s, vm, err, errlen) ||
	    with_section(s, SNAP_IRQCHIP, 0, irqchip_fn, vm, err, errlen) ||
	    restore_devices(s, vm, err, errlen))
		return -1;
	vm->start_cause = CAUSE_RESTORE;
	return 0;
}
