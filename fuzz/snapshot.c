/*
 * libFuzzer target: snapshot files (snapshot/restore.c): open, validate,
 * read the configuration and the CPUID of any bytes, then the RAM (mapped
 * or read, by the input's first byte) into a fresh guest memory, as
 * --incoming does before KVM is touched; then the restore itself on a fake
 * VM (fuzz/fake_vm.h) of the snapshot's vCPU count: the boot plan and the
 * vCPU records, up to the first ioctl (the clock's), which fails there.
 *
 * The digests are recomputed over the mutated bytes first, as an attacker
 * who edits a snapshot would do: otherwise nearly every input stops at the
 * header's checksum and the parsers behind it are never reached (security
 * review 2: 13 edges).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "base/digest.h"
#include "base/memory.h"
#include "snapshot/format.h"
#include "fake_vm.h"
#include "loader/loader.h"
#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The metadata digest (table, then every section but RAM that lies in the
 * file), the file size, then the header page's digest. */
static void fix_digests(uint8_t *buf, size_t size)
{
	struct snap_header h;
	struct digest_ctx md;
	uint64_t table_bytes;

	if (size < SNAP_HEADER_SIZE)
		return;
	memcpy(&h, buf, sizeof(h));
	h.file_size = size;
	table_bytes = (uint64_t)h.nsections * sizeof(struct snap_entry);
	if (h.nsections <= SNAP_MAX_SECTIONS && h.table_offset <= size &&
	    table_bytes <= size - h.table_offset) {
		digest_init(&md);
		digest_update(&md, buf + h.table_offset, table_bytes);
		for (uint32_t i = 0; i < h.nsections; i++) {
			struct snap_entry e;

			memcpy(&e, buf + h.table_offset + i * sizeof(e), sizeof(e));
			if (e.type != SNAP_RAM && e.offset <= size && e.length <= size - e.offset)
				digest_update(&md, buf + e.offset, e.length);
		}
		digest_final(&md, h.metadata_digest);
	}
	memset(h.header_digest, 0, sizeof(h.header_digest));
	memcpy(buf, &h, sizeof(h));
	digest(buf, SNAP_HEADER_SIZE, h.header_digest);
	memcpy(buf, &h, sizeof(h));
}

static struct fake_vm f;

/* Where an input stopped, with SHRIKE_FUZZ_SAY=1 (for seeing how far a
 * seed gets: build-fuzz/fuzz/snapshot -runs=1 SEED). */
static void say(const char *why)
{
	if (getenv("SHRIKE_FUZZ_SAY"))
		fprintf(stderr, "stopped: %s\n", why);
}

static struct kvm_cpuid2 *copy_cpuid(const struct kvm_cpuid2 *c)
{
	size_t bytes = c ? sizeof(*c) + c->nent * sizeof(c->entries[0]) : 0;
	struct kvm_cpuid2 *t = bytes ? malloc(bytes) : NULL;

	if (t)
		memcpy(t, c, bytes);
	return t;
}

/* The restore on the fake VM, with the snapshot's RAM as its memory. */
static void restore(struct snapshot *s, const struct vm_config *cfg, struct guest_mem *mem)
{
	struct guest_mem own = f.vm.mem;
	char err[512];

	if (cfg->cpus < 1 || cfg->cpus > FAKE_NCPUS)
		return;
	f.vm.ncpus = cfg->cpus;
	f.vm.kernel_irqchip = cfg->irqchip == IRQCHIP_KERNEL;
	f.vm.mem = *mem;
	/* This "host" offers what the snapshot's guest saw. */
	f.vm.cpuid_supported = copy_cpuid(snapshot_cpuid(s));
	if (f.vm.cpuid_supported && snapshot_restore(s, &f.vm, err, sizeof(err)))
		say(err);
	boot_plan_free(&f.vm.boot);
	memset(&f.vm.boot, 0, sizeof(f.vm.boot));
	f.vm.mem = own;
	free(f.vm.cpuid_supported);
	f.vm.cpuid_supported = NULL;
	fake_vm_reset(&f);
}

/* RAM as the configuration sizes it (bounded: the fuzzer's memory), then
 * the rest of the restore. */
static void load_ram(struct snapshot *s, const struct vm_config *cfg, bool read)
{
	struct guest_mem mem;
	char err[512];

	if (cfg->memory > (256ull << 20) || guest_mem_init(&mem, cfg->memory))
		return;
	if (!snapshot_load_ram(s, &mem, read, err, sizeof(err)))
		restore(s, cfg, &mem);
	else
		say(err);
	guest_mem_free(&mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct snapshot *s;
	struct vm_config cfg;
	uint8_t *buf = malloc(size ? size : 1);
	int fd = memfd_create("snapshot", MFD_CLOEXEC);

	if (!f.vm.vcpu)
		fake_vm_init(&f);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	memcpy(buf, data, size);
	fix_digests(buf, size);
	fchmod(fd, 0600);              /* shrike takes no file others can write */
	if (write(fd, buf, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		s = snapshot_open(path, err, sizeof(err));
		if (!s)
			say(err);
		if (s) {
			config_defaults(&cfg);
			if (snapshot_config(s, &cfg, err, sizeof(err)) == 0)
				load_ram(s, &cfg, size && (data[0] & 1));
			else
				say(err);
			snapshot_cpuid(s);
			snapshot_close(s);
		}
	}
	close(fd);
	free(buf);
	return 0;
}
