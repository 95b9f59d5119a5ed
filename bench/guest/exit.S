/* A multiboot kernel that ends at once: debug-exit value 16 (status 33
 * under shrike and QEMU's isa-debug-exit), for the start-up benchmark. */
	.text
	.code32
	.align 4
	.long 0x1badb002, 0, -0x1badb002
	.globl _start
_start:
	movb $16, %al
	outb %al, $0xf4
1:	hlt
	jmp 1b
