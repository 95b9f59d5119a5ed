/*
 * Entry from a multiboot loader (32-bit protected mode, paging off) into
 * 64-bit long mode with the first 4 GiB identity-mapped in 2 MiB pages;
 * interrupt stubs; the real-mode AP trampoline.
 */
#define MB_MAGIC 0x1BADB002
#ifdef MULTIBOOT_AOUT_KLUDGE
#define MB_FLAGS 0x00010003
#else
#define MB_FLAGS 0x00000003
#endif
#define TRAMP_ADDR   0x8000
#define AP_STACK     8192

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
#ifdef MULTIBOOT_AOUT_KLUDGE
	.long mb_header
	.long _image_start
	.long _edata
	.long _end
	.long _start32
#endif

	.text
	.code32
	.globl _start32
_start32:
	cli
	movl %eax, mb_magic
	movl %ebx, mb_info
	movl $boot_stack_top, %esp

	/* 2048 2 MiB pages: 4 GiB, present | writable | user | large (the U
	 * bit lets tests run code at CPL 3; nothing here needs isolation) */
	movl $pd, %edi
	movl $0x87, %eax
	movl $2048, %ecx
1:	movl %eax, (%edi)
	movl $0, 4(%edi)
	addl $0x200000, %eax
	addl $8, %edi
	decl %ecx
	jnz 1b
	movl $(pd + 0x0007), pdpt
	movl $(pd + 0x1007), pdpt + 8
	movl $(pd + 0x2007), pdpt + 16
	movl $(pd + 0x3007), pdpt + 24
	movl $(pdpt + 7), pml4

	call enable_long_mode32
	lgdt gdt64_ptr
	ljmp $0x08, $start64

/* CR3, PAE, EFER.LME, then paging: shared by the BSP and the APs. */
enable_long_mode32:
	movl $pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $0xC0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	ret

	.code64
start64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	call rt_start
2:	cli
	hlt
	jmp 2b

	.globl ap_start64
ap_start64:
	lgdt gdt64_ptr
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_next
	movl %eax, %edi
	movl %eax, %eax
	imulq $AP_STACK, %rax
	leaq ap_stacks(%rax), %rsp
	call ap_entry
3:	cli
	hlt
	jmp 3b

/* unsigned user_enter(void (*fn)(void), uint64_t user_stack_top): runs fn
 * at CPL 3; comes back here when an exception handler sends the frame to
 * user_return_point (rt.c). */
	.globl user_enter, user_return_point
user_enter:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, user_saved_rsp(%rip)
	pushq $0x2b
	pushq %rsi
	pushq $0x2
	pushq $0x23
	pushq %rdi
	iretq
user_return_point:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* Interrupt stubs: 16 bytes each, vector n at isr_stubs + 16 * n.  Vectors
 * that push no error code get a 0, so every frame looks the same. */
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call isr_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* AP trampoline, copied to TRAMP_ADDR (vector 0x08) by smp.c: real mode
 * -> 32-bit protected mode -> long mode -> ap_start64. */
	.globl ap_tramp_start, ap_tramp_end
	.code16
ap_tramp_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TRAMP_ADDR + (tramp_gdt_ptr - ap_tramp_start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x18, $(TRAMP_ADDR + (tramp32 - ap_tramp_start))
	.code32
tramp32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $(TRAMP_ADDR + 0x1000), %esp
	movl $enable_long_mode32, %eax
	call *%eax
	ljmp $0x08, $(TRAMP_ADDR + (tramp64 - ap_tramp_start))
	.code64
tramp64:
	movabsq $ap_start64, %rax
	jmp *%rax
	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00cf9a000000ffff
tramp_gdt_ptr:
	.word 31
	.long TRAMP_ADDR + (tramp_gdt - ap_tramp_start)
ap_tramp_end:

	.data
	.balign 16
	.globl gdt64
gdt64:
	.quad 0
	.quad 0x00af9a000000ffff    /* 0x08 kernel code */
	.quad 0x00cf92000000ffff    /* 0x10 kernel data */
	.quad 0x00cf9a000000ffff    /* 0x18 32-bit code */
	.quad 0x00affa000000ffff    /* 0x20 user code (DPL 3) */
	.quad 0x00cff2000000ffff    /* 0x28 user data (DPL 3) */
	.quad 0, 0                  /* 0x30 TSS, filled in by user_mode_init() */
gdt64_end:
	.globl gdt64_ptr
gdt64_ptr:
	.word gdt64_end - gdt64 - 1
	.quad gdt64
	.globl mb_magic, mb_info, ap_next, user_saved_rsp
user_saved_rsp:
	.quad 0
mb_magic:
	.long 0
mb_info:
	.long 0
ap_next:
	.long 1

	.bss
	.balign 4096
pml4:
	.skip 4096
pdpt:
	.skip 4096
pd:
	.skip 4 * 4096
boot_stack:
	.skip 16384
boot_stack_top:
	.globl ap_stacks
ap_stacks:
	.skip 64 * AP_STACK
