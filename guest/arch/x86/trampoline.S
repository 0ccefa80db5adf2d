/*
 * AP start-up trampoline.  smp.c copies [tramp_start, tramp_end) to
 * TRAMP_BASE (a page below 1 MiB; SIPI vector TRAMP_BASE >> 12), fills in
 * tramp_params and sends INIT-SIPI-SIPI.  The AP starts in real mode at
 * CS:IP = (TRAMP_BASE >> 4):0, and goes protected mode -> long mode on the
 * kernel page tables -> entry(arg) on its own stack.  Code here runs at the
 * copy, so every absolute address is TRAMP_BASE + (label - tramp_start).
 */

#include <trampoline.h>

#define T(label)	(TRAMP_BASE + (label) - tramp_start)

	.section .rodata.trampoline, "a"
	.balign 16
	.globl tramp_start
tramp_start:
	.code16
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movl $1, (tp_started - tramp_start)	/* tells the BSP the SIPI landed */
	lgdtl (tramp_gdt_desc - tramp_start)
	movl %cr0, %eax
	andl $~0x60000000, %eax			/* INIT leaves CD/NW set */
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $T(tramp_pm32)

	.code32
tramp_pm32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $0x20, %eax				/* PAE */
	movl %eax, %cr4
	movl T(tp_cr3), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx			/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010000, %eax			/* PG, WP */
	movl %eax, %cr0
	ljmpl $0x18, $T(tramp_lm64)

	.code64
tramp_lm64:
	movq T(tp_stack), %rsp
	movq T(tp_arg), %rdi
	movq T(tp_entry), %rax
	xorl %ebp, %ebp
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 16
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff		/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff		/* 0x10: data */
	.quad 0x00af9a000000ffff		/* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdt_desc:
	.word tramp_gdt_end - tramp_gdt - 1
	.long T(tramp_gdt)

	/* Must match struct tramp_params in trampoline.h. */
	.balign 8
	.globl tramp_params
tramp_params:
tp_started:	.long 0
tp_cr3:		.long 0
tp_stack:	.quad 0
tp_entry:	.quad 0
tp_arg:		.quad 0
	.globl tramp_end
tramp_end:
