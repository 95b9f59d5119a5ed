/*
 * The guest's address translation, walked by shrike: linear to
 * guest-physical through the guest's page tables, in whatever mode the vCPU
 * is in (paging off, 32-bit with 4 MiB pages, PAE, 4- and 5-level long mode
 * with 4 KiB, 2 MiB and 1 GiB pages), with the permission checks the
 * hardware makes (U/S, R/W with CR0.WP, NX, SMEP, SMAP with RFLAGS.AC, and
 * reserved bits) and, when asked, the accessed and dirty bits it sets.
 *
 * KVM_TRANSLATE gives addresses but no permissions (on x86 it always says
 * writeable and supervisor), hence this walker; the instruction emulator
 * and the debugger use it.  A-D bit updates are atomic on the host mapping
 * of the page-table entry, as a CPU's are; like every write shrike makes to
 * guest memory, they bypass KVM's write tracking (see x86/emulate.c).
 */
#ifndef SHRIKE_MMU_H
#define SHRIKE_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "base/memory.h"

enum mmu_access {
	MMU_READ = 1,
	MMU_WRITE = 2,
	MMU_FETCH = 4,
	MMU_USER = 8,              /* an access at CPL 3 */
	MMU_IMPLICIT = 16,         /* a supervisor access the CPU makes itself (descriptor
				    * tables): SMAP does not look at RFLAGS.AC */
	MMU_DEBUG = 32,            /* the debugger: no checks, no A/D bits */
};

/* What the walk needs of the vCPU. */
struct mmu_ctx {
	const struct guest_mem *mem;
	uint64_t cr0, cr3, cr4, efer;
	bool ac;                   /* RFLAGS.AC */
};

/* #PF error code bits */
#define PFEC_P    (1u << 0)
#define PFEC_W    (1u << 1)
#define PFEC_U    (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_I    (1u << 4)

enum mmu_result {
	MMU_OK,
	MMU_FAULT,                 /* #PF: error code in *pfec */
	MMU_NOT_RAM,               /* a page-table entry outside RAM (or MMIO) */
};

/* Translates one linear address.  On MMU_OK, *gpa is the physical
 * address; on MMU_FAULT, *pfec the #PF error code (CR2 = linear). */
enum mmu_result mmu_translate(const struct mmu_ctx *c, uint64_t linear, unsigned access,
			      uint64_t *gpa, uint32_t *pfec);

/* Paging on (CR0.PG). */
bool mmu_paging(const struct mmu_ctx *c);

#endif
