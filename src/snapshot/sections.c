#include "snapshot/sections.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/log.h"
#include "core/vm.h"
#include "snapshot/format.h"
#include "x86/msr.h"

#define VCPU_RECORD_VERSION 1
#define MAX_MSRS 4096
#define MAX_CPUID 4096
#define MAX_XSAVE (1u << 20)
#define NAME_MAX_LEN 255

/* ---- configuration ---- */

#define SNAP_DEV_PC_TESTDEV     0x01
#define SNAP_DEV_PCI_TESTDEV    0x02
#define SNAP_DEV_VIRTIO_RNG     0x04
#define SNAP_DEV_VIRTIO_CONSOLE 0x08
#define SNAP_DEVS_KNOWN         0x0f

static void put_str(struct snap_writer *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > NAME_MAX_LEN)
		n = NAME_MAX_LEN;
	snap_put_u16(w, (uint16_t)n);
	snap_put(w, s, n);
}

int snap_config_write(struct vm *vm, struct snap_writer *w)
{
	const struct vm_config *c = &vm->cfg;

	snap_put_u32(w, vm->ncpus);
	snap_put_u64(w, vm->mem.total);
	snap_put_u8(w, c->no_vmport);
	snap_put_u8(w, c->no_vapic);
	snap_put_u8(w, c->no_debug_exit);
	snap_put_u16(w, c->debug_exit_port);
	snap_put_u16(w, c->debug_exit_size);
	snap_put(w, vm->uuid, 16);
	put_str(w, c->name);
	put_str(w, c->cpu_model);
	snap_put_u8(w, (uint8_t)c->irqchip);
	/* Optional devices (added later: a file without this byte has none),
	 * then the number of disks.  The disks' paths are not kept: a restore
	 * is given them (--disk), as QEMU's -incoming is; a snapshot file
	 * must not choose which files shrike opens for the guest. */
	snap_put_u8(w, (c->pc_testdev ? SNAP_DEV_PC_TESTDEV : 0) |
			(c->pci_testdev ? SNAP_DEV_PCI_TESTDEV : 0) |
			(c->rng ? SNAP_DEV_VIRTIO_RNG : 0) |
			(c->console_virtio ? SNAP_DEV_VIRTIO_CONSOLE : 0));
	snap_put_u8(w, (uint8_t)c->ndisks);
	return w->sb.failed ? -1 : 0;
}

int snap_config_read(struct snap_reader *r, struct vm_config *cfg, char *names, size_t nameslen,
		     char *err, size_t errlen)
{
	uint16_t n;
	size_t used = 0;
	char *strs[2] = { NULL, NULL };

	cfg->cpus = snap_get_u32(r);
	cfg->memory = snap_get_u64(r);
	cfg->no_vmport = snap_get_u8(r) != 0;
	cfg->no_vapic = snap_get_u8(r) != 0;
	cfg->no_debug_exit = snap_get_u8(r) != 0;
	cfg->debug_exit_port = snap_get_u16(r);
	cfg->debug_exit_size = snap_get_u16(r);
	snap_get(r, cfg->uuid, 16);
	cfg->uuid_set = true;
	for (int i = 0; i < 2; i++) {
		n = snap_get_u16(r);
		if (n > NAME_MAX_LEN || used + n + 1 > nameslen) {
			err_set(err, errlen, "configuration section: string too long");
			return -1;
		}
		if (n) {
			strs[i] = names + used;
			snap_get(r, strs[i], n);
			strs[i][n] = 0;
			used += n + 1u;
		}
	}
	cfg->name = strs[0];
	cfg->cpu_model = strs[1];
	cfg->irqchip = (enum irqchip_mode)snap_get_u8(r);
	if (!snap_done(r)) {
		uint8_t devs = snap_get_u8(r);

		cfg->pc_testdev = devs & SNAP_DEV_PC_TESTDEV;
		cfg->pci_testdev = devs & SNAP_DEV_PCI_TESTDEV;
		cfg->rng = devs & SNAP_DEV_VIRTIO_RNG;
		cfg->console_virtio = devs & SNAP_DEV_VIRTIO_CONSOLE;
		if (devs & ~SNAP_DEVS_KNOWN) {
			err_set(err, errlen, "configuration section names unknown devices (0x%x)", devs);
			return -1;
		}
	}
	if (!snap_done(r)) {
		uint8_t ndisks = snap_get_u8(r);

		if (!r->failed && ndisks != cfg->ndisks) {
			err_set(err, errlen, "the snapshot's VM had %u disk%s, this restore is given %u "
				"(--disk): give it the same disks, in the same order", ndisks,
				ndisks == 1 ? "" : "s", cfg->ndisks);
			return -1;
		}
	}
	if (!snap_done(r) || cfg->cpus == 0 || cfg->cpus > 4096 || cfg->memory < (1ull << 20) ||
	    (cfg->memory & 0xfff) || cfg->irqchip > IRQCHIP_SPLIT ||
	    (cfg->debug_exit_size != 0 && cfg->debug_exit_size != 1 && cfg->debug_exit_size != 2 &&
	     cfg->debug_exit_size != 4)) {
		err_set(err, errlen, "configuration section is malformed");
		return -1;
	}
	return 0;
}

/* ---- CPUID ---- */

int snap_cpuid_write(struct vm *vm, struct snap_writer *w)
{
	const struct kvm_cpuid2 *t = vm->vcpu[0]->cpuid;

	snap_put_u32(w, t->nent);
	snap_put(w, t->entries, t->nent * sizeof(t->entries[0]));
	return w->sb.failed ? -1 : 0;
}

struct kvm_cpuid2 *snap_cpuid_read(struct snap_reader *r, char *err, size_t errlen)
{
	uint32_t n = snap_get_u32(r);
	struct kvm_cpuid2 *t;

	if (n == 0 || n > MAX_CPUID || (uint64_t)n * sizeof(t->entries[0]) != r->len - r->pos) {
		err_set(err, errlen, "CPUID section is malformed");
		return NULL;
	}
	t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));
	if (!t) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	t->nent = n;
	snap_get(r, t->entries, n * sizeof(t->entries[0]));
	return t;
}

/* ---- in-kernel irqchip, PIT, kvmclock ---- */

int snap_irqchip_write(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;

	memset(&clock, 0, sizeof(clock));
	snap_put_u8(w, vm->kernel_irqchip);
	for (unsigned i = 0; vm->kernel_irqchip && i < 3; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
			err_set(err, errlen, "KVM_GET_IRQCHIP %u: %s", i, strerror(errno));
			return -1;
		}
		snap_put(w, &chip, sizeof(chip));
	}
	if (vm->kernel_irqchip) {
		if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0) {
			err_set(err, errlen, "KVM_GET_PIT2: %s", strerror(errno));
			return -1;
		}
		snap_put(w, &pit, sizeof(pit));
	}
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0) {
		err_set(err, errlen, "KVM_GET_CLOCK: %s", strerror(errno));
		return -1;
	}
	snap_put(w, &clock, sizeof(clock));
	return w->sb.failed ? -1 : 0;
}

int snap_irqchip_read(struct snap_reader *r, struct vm *vm, char *err, size_t errlen)
{
	struct kvm_irqchip chip[3];
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	bool kernel = snap_get_u8(r) != 0;

	if (kernel != vm->kernel_irqchip) {
		err_set(err, errlen, "irqchip section does not match the machine");
		return -1;
	}
	for (unsigned i = 0; kernel && i < 3; i++)
		snap_get(r, &chip[i], sizeof(chip[i]));
	if (kernel)
		snap_get(r, &pit, sizeof(pit));
	snap_get(r, &clock, sizeof(clock));
	if (!snap_done(r)) {
		err_set(err, errlen, "irqchip section is malformed");
		return -1;
	}
	for (unsigned i = 0; kernel && i < 3; i++) {
		if (chip[i].chip_id != i || ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip[i]) < 0) {
			err_set(err, errlen, "irqchip %u refused by KVM: %s", i, strerror(errno));
			return -1;
		}
	}
	if (kernel && ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0) {
		err_set(err, errlen, "PIT state refused by KVM: %s", strerror(errno));
		return -1;
	}
	/* kvmclock goes on from where it was: only the clock value counts. */
	clock.flags = 0;
	memset(clock.pad, 0, sizeof(clock.pad));
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0) {
		err_set(err, errlen, "kvmclock refused by KVM: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- boot plan ---- */

/* The digest a restored plan checks its mapped boot data against at a
 * reset: a boot from a private copy (a pin) skips it, so it is made here. */
static int segment_digest(const struct boot_plan *p, unsigned i, uint8_t d[DIGEST_SIZE])
{
	const struct load_segment *s = &p->seg[i];
	uint8_t *buf;

	if (s->loaded_set || !s->filesz) {
		memcpy(d, s->loaded, DIGEST_SIZE);
		return s->loaded_set;
	}
	buf = malloc(s->filesz);
	if (!buf || boot_plan_segment_bytes(p, i, buf)) {
		free(buf);
		return -1;
	}
	digest(buf, s->filesz, d);
	free(buf);
	return 1;
}

int snap_boot_write(struct vm *vm, struct snap_writer *w)
{
	const struct boot_plan *p = &vm->boot;
	uint64_t off = 0;

	snap_put(w, &p->entry, sizeof(p->entry));
	put_str(w, p->format);
	put_str(w, p->note);
	snap_put_u64(w, p->rsdp);
	snap_put_u32(w, p->nseg);
	for (unsigned i = 0; i < p->nseg; i++) {
		const struct load_segment *s = &p->seg[i];

		snap_put_u64(w, s->gpa);
		snap_put_u64(w, s->filesz);
		snap_put_u64(w, s->memsz);
		snap_put_u64(w, off);
		uint8_t d[DIGEST_SIZE];
		int set = segment_digest(p, i, d);

		if (set < 0)
			return -1;
		snap_put(w, d, DIGEST_SIZE);
		snap_put_u8(w, (uint8_t)set);
		put_str(w, s->what);
		off += s->filesz;
	}
	return w->sb.failed ? -1 : 0;
}

uint64_t snap_bootdata_size(struct vm *vm)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < vm->boot.nseg; i++)
		n += vm->boot.seg[i].filesz;
	return n;
}

int snap_write_bootdata(struct vm *vm, int fd, uint64_t offset, struct digest_ctx *md)
{
	uint8_t *buf = NULL;
	int r = 0;

	for (unsigned i = 0; i < vm->boot.nseg && !r; i++) {
		const struct load_segment *s = &vm->boot.seg[i];
		uint8_t *nb = s->filesz ? realloc(buf, s->filesz) : buf;

		if (!s->filesz)
			continue;
		if (!nb) {
			r = -1;
			break;
		}
		buf = nb;
		r = boot_plan_segment_bytes(&vm->boot, i, buf);
		if (!r) {
			digest_update(md, buf, s->filesz);
			for (uint64_t done = 0; done < s->filesz && !r;) {
				ssize_t n = pwrite(fd, buf + done, s->filesz - done,
						   (off_t)(offset + done));

				if (n <= 0 && errno != EINTR)
					r = -1;
				else if (n > 0)
					done += (uint64_t)n;
			}
		}
		offset += s->filesz;
	}
	free(buf);
	return r;
}

static const char *get_str(struct snap_reader *r, struct boot_plan *p)
{
	uint16_t n = snap_get_u16(r);
	char *s;

	if (n > NAME_MAX_LEN || !(s = (char *)plan_alloc(p, n + 1u)))
		return NULL;
	snap_get(r, s, n);
	s[n] = 0;
	return s;
}

int snap_boot_read(struct snap_reader *r, const struct blob *data, const struct guest_mem *mem,
		   struct boot_plan *p, char *err, size_t errlen)
{
	const char *note;
	uint32_t n;

	memset(p, 0, sizeof(*p));
	snap_get(r, &p->entry, sizeof(p->entry));
	p->format = get_str(r, p);
	note = get_str(r, p);
	snprintf(p->note, sizeof(p->note), "restored from a snapshot%s%s%s", note && *note ? " (" : "",
		 note && *note ? note : "", note && *note ? ")" : "");
	p->rsdp = snap_get_u64(r);
	n = snap_get_u32(r);
	if (n > BOOT_MAX_SEGMENTS || p->entry.mode > ENTRY_LONG64) {
		err_set(err, errlen, "boot section is malformed");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		struct load_segment s = { 0 };
		uint64_t off;
		char why[160];

		s.gpa = snap_get_u64(r);
		s.filesz = snap_get_u64(r);
		s.memsz = snap_get_u64(r);
		off = snap_get_u64(r);
		snap_get(r, s.loaded, DIGEST_SIZE);
		s.loaded_set = snap_get_u8(r) != 0;
		s.what = get_str(r, p);
		if (r->failed || !s.what || off > data->size || s.filesz > data->size - off) {
			err_set(err, errlen, "boot section is malformed (segment %u)", i);
			return -1;
		}
		/* The loader's own checks (inside RAM, no overflow, no overlap):
		 * every reset writes these segments into guest RAM (security
		 * review 2, N4). */
		if (plan_add(p, mem, s.gpa, s.filesz ? data->data + off : NULL, s.filesz, s.memsz,
			     s.what, why, sizeof(why))) {
			err_set(err, errlen, "boot section is malformed (segment %u: %s)", i, why);
			return -1;
		}
		if (s.memsz) {
			p->seg[p->nseg - 1].loaded_set = s.loaded_set;
			memcpy(p->seg[p->nseg - 1].loaded, s.loaded, DIGEST_SIZE);
		}
	}
	if (!snap_done(r) || !p->format) {
		err_set(err, errlen, "boot section is malformed");
		return -1;
	}
	/* The plan now owns the mapping of the boot data. */
	p->vmlinux = *data;
	p->committed = true;
	return 0;
}

/* ---- vCPU ---- */

void snap_vcpu_write(struct vcpu *v, struct snap_writer *w)
{
	const struct cpu_state *s = &v->state;
	const struct msr_catalog *cat = &v->vm->msrs;

	snap_put_u32(w, VCPU_RECORD_VERSION);
	snap_put(w, s->regs, sizeof(*s->regs));
	snap_put(w, &s->sregs, sizeof(s->sregs));
	snap_put_u32(w, s->xsave ? (uint32_t)s->xsave_size : 0);
	if (s->xsave)
		snap_put(w, s->xsave, s->xsave_size);
	else
		snap_put(w, &s->fpu, sizeof(s->fpu));
	snap_put(w, &s->xcrs, sizeof(s->xcrs));
	snap_put_u32(w, cat->n);
	for (unsigned i = 0; i < cat->n; i++) {
		snap_put_u32(w, cat->msr[i].index);
		snap_put_u64(w, s->msr_value[i]);
	}
	snap_put(w, &s->events, sizeof(s->events));
	snap_put(w, &s->mp, sizeof(s->mp));
	snap_put(w, &s->lapic, sizeof(s->lapic));
	snap_put(w, &s->debugregs, sizeof(s->debugregs));
}

static int read_msrs(struct snap_reader *r, struct vcpu *v, char *err, size_t errlen)
{
	uint32_t n = snap_get_u32(r);

	if (n > MAX_MSRS) {
		err_set(err, errlen, "vCPU %u: too many MSRs", v->index);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t index = snap_get_u32(r);
		uint64_t value = snap_get_u64(r);
		int k = msr_catalog_find(&v->vm->msrs, index);

		if (r->failed)
			break;
		if (k < 0) {
			err_set(err, errlen, "vCPU %u: MSR 0x%x of the snapshot is not supported by "
				"this host's KVM", v->index, index);
			return -1;
		}
		v->state.msr_value[k] = value;
		v->state.msr_dirty[k] = 1;
	}
	return 0;
}

int snap_vcpu_read(struct snap_reader *r, struct vcpu *v, char *err, size_t errlen)
{
	struct cpu_state *s = &v->state;
	uint32_t xsize;

	if (snap_get_u32(r) != VCPU_RECORD_VERSION) {
		err_set(err, errlen, "vCPU %u: unknown record version", v->index);
		return -1;
	}
	snap_get(r, s->regs, sizeof(*s->regs));
	snap_get(r, &s->sregs, sizeof(s->sregs));
	xsize = snap_get_u32(r);
	if (!s->xsave != !xsize || xsize > s->xsave_size || xsize > MAX_XSAVE) {
		err_set(err, errlen, "vCPU %u: the snapshot's FPU state (%u bytes) does not fit this "
			"host's KVM (%zu bytes)", v->index, xsize, s->xsave_size);
		return -1;
	}
	if (s->xsave) {
		memset(s->xsave, 0, s->xsave_size);
		snap_get(r, s->xsave, xsize);
	} else {
		snap_get(r, &s->fpu, sizeof(s->fpu));
	}
	snap_get(r, &s->xcrs, sizeof(s->xcrs));
	if (read_msrs(r, v, err, errlen))
		return -1;
	snap_get(r, &s->events, sizeof(s->events));
	snap_get(r, &s->mp, sizeof(s->mp));
	snap_get(r, &s->lapic, sizeof(s->lapic));
	snap_get(r, &s->debugregs, sizeof(s->debugregs));
	if (!snap_done(r) || s->xcrs.nr_xcrs > KVM_MAX_XCRS || s->mp.mp_state > 10) {
		err_set(err, errlen, "vCPU %u: state record is malformed", v->index);
		return -1;
	}
	s->valid = CPU_ALL;
	s->dirty = CPU_ALL;
	s->regs_in_run = false;
	s->sregs_in_run = false;
	return 0;
}
