/* The snapshot's sections, written and read (snapshot/sections.c). */
#ifndef SHRIKE_SNAPSHOT_SECTIONS_H
#define SHRIKE_SNAPSHOT_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "base/digest.h"
#include "base/memory.h"
#include "base/stream.h"

struct vm;
struct vcpu;
struct vm_config;
struct boot_plan;
struct blob;

/* The parts of the configuration that make the machine. */
int snap_config_write(struct vm *vm, struct snap_writer *w);
/* strings (the name) are copied to names[] (kept by the caller). */
int snap_config_read(struct snap_reader *r, struct vm_config *cfg, char *names, size_t nameslen,
		     char *err, size_t errlen);

int snap_cpuid_write(struct vm *vm, struct snap_writer *w);
struct kvm_cpuid2 *snap_cpuid_read(struct snap_reader *r, char *err, size_t errlen);

int snap_irqchip_write(struct vm *vm, struct snap_writer *w, char *err, size_t errlen);
int snap_irqchip_read(struct snap_reader *r, struct vm *vm, char *err, size_t errlen);

/* The boot plan; BOOTDATA is every segment's bytes, in order. */
int snap_boot_write(struct vm *vm, struct snap_writer *w);
uint64_t snap_bootdata_size(struct vm *vm);
int snap_write_bootdata(struct vm *vm, int fd, uint64_t offset, struct digest_ctx *md);
/* Builds the plan over `data` (BOOTDATA mapped from the file); every
 * segment passes the loader's checks against mem, as when it was planned. */
int snap_boot_read(struct snap_reader *r, const struct blob *data, const struct guest_mem *mem,
		   struct boot_plan *plan, char *err, size_t errlen);

/* A vCPU's state (the classes already fetched); read into a vCPU not yet
 * started, every class valid and dirty. */
void snap_vcpu_write(struct vcpu *v, struct snap_writer *w);
int snap_vcpu_read(struct snap_reader *r, struct vcpu *v, char *err, size_t errlen);

#endif
