/*
 * 256 interrupt entry stubs, 16 bytes apart so the IDT can be filled from
 * isr_stubs + 16 * vector.  Each stub makes the frame uniform (a zero error
 * code where the CPU pushes none), pushes its vector and joins isr_common,
 * which saves the general registers and calls interrupt_dispatch(regs).
 */

	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr
	.globl isr_stubs_end
isr_stubs_end:

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
	cld
	movq %rsp, %rdi
	/* The hardware frame only guarantees 8-byte alignment; the ABI wants 16. */
	movq %rsp, %rbx
	andq $-16, %rsp
	call interrupt_dispatch
	movq %rbx, %rsp
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
	addq $16, %rsp			/* vector, error code */
	iretq
