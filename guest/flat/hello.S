/* A flat real-mode image (loaded at 0x1000:0000): prints "flat OK" on
 * COM1 and ends through the debug-exit port with value 0x21. */
	.code16
	.text
	.globl _start
_start:
	movw $msg, %si
	movw $0x3f8, %dx
1:	movb %cs:(%si), %al
	testb %al, %al
	jz 2f
	outb %al, %dx
	incw %si
	jmp 1b
2:	movb $0x21, %al
	outb %al, $0xf4
3:	hlt
	jmp 3b
msg:
	.asciz "flat OK\n"
