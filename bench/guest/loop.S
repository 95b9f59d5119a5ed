/*
 * Benchmark guests: flat real-mode images (loaded at 0x1000:0000) that run
 * N port-I/O exits and end through the debug-exit port with 0x10.
 *   MODE 0: mov dx, 0xe0; out dx, al            (a plain exit, unassigned port)
 *   MODE 1: the backdoor's register loads, then in eax, dx from 0xe0
 *   MODE 2: the VMware backdoor GETVERSION: in eax, dx from 0x5658,
 *           checking that EBX comes back as the magic
 *   MODE 3: popcnt eax, ebx, an instruction KVM's emulator cannot run
 *           (completed by shrike where KVM emulates kernel code), then the
 *           same register loads as MODE 1 without the exit
 * Assembled with --defsym MODE=m --defsym N=n.
 */
	.code16
	.text
	.globl _start
_start:
	movl $N, %esi
	testl %esi, %esi
	jz done
loop:
.if MODE == 0
	movw $0xe0, %dx
	outb %al, %dx
.elseif MODE == 1
	movl $0x564d5868, %eax
	movl $10, %ecx
	movw $0xe0, %dx
	inl %dx, %eax
.elseif MODE == 3
	movl $0x564d5868, %eax
	movl $10, %ecx
	movw $0xe0, %dx
	popcntl %ebx, %eax
.else
	movl $0x564d5868, %eax
	movl $10, %ecx
	movw $0x5658, %dx
	inl %dx, %eax
	cmpl $0x564d5868, %ebx
	jne fail
.endif
	decl %esi
	jnz loop
done:
	movb $0x10, %al
	outb %al, $0xf4
1:	hlt
	jmp 1b
fail:
	movb $0x11, %al
	outb %al, $0xf4
	jmp 1b
