/*
 * The architectural power-up/RESET state of a vCPU, built by shrike without
 * asking KVM (Intel SDM vol. 3A, "Processor Management and Initialization";
 * the values QEMU and KVM use where the SDM leaves a choice).  It fills
 * every class of the vCPU's state and marks it valid and dirty; a RESET or
 * FULL put then writes it.
 */
#ifndef SHRIKE_RESET_H
#define SHRIKE_RESET_H

#include <stdbool.h>

struct cpu_state;
struct entry_state;

#define RESET_CR0        0x60000010ull
#define RESET_PAT        0x0007040600070406ull
#define RESET_SMBASE     0x30000ull
#define APIC_BASE_ADDR   0xfee00000ull
#define APIC_BASE_BSP    (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)

/* `has_run`: the vCPU ran before (a system reset), so the TSC is written 1:
 * KVM takes a host write of 0 as "new vCPU, synchronize it". */
void cpu_reset_state(struct cpu_state *st, bool has_run);

/* Applies a loader's direct-boot entry state on top of the reset state. */
void cpu_boot_entry(struct cpu_state *st, const struct entry_state *entry);

#endif
