/*
 * The CPU state a boot begins in: what a loader (loader/) asks for and the
 * reset code (x86/reset.c) sets up in vCPU 0 before its first KVM_RUN.
 */
#ifndef SHRIKE_ENTRY_H
#define SHRIKE_ENTRY_H

#include <stdint.h>

enum entry_mode {
	ENTRY_REAL16,              /* real mode, CS:IP = seg:ip */
	ENTRY_PROTECTED32,         /* flat 32-bit protected mode, paging off */
	ENTRY_LONG64,              /* 64-bit mode, paging on (cr3), CS 0x10, DS 0x18 */
};

struct entry_state {
	enum entry_mode mode;
	uint64_t rip;
	uint64_t rsp;
	uint64_t rax, rbx, rsi;
	uint16_t real_segment;     /* ENTRY_REAL16: CS = DS = ES = SS */
	uint64_t gdt_base;         /* GDT placed by the loader */
	uint16_t gdt_limit;        /* 0: three entries */
	uint16_t code_selector;    /* ENTRY_PROTECTED32; 0: 0x08 */
	uint16_t data_selector;    /* ENTRY_PROTECTED32; 0: 0x10 */
	uint64_t cr3;              /* ENTRY_LONG64: identity-mapping page tables */
};

#endif
