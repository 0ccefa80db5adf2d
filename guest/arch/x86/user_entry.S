/*
 * Ring-3 entry and exit, the system call gate, the wake-only interrupt
 * entry, and the bare trap handlers the usertest gate benchmark compares.
 * Everything here that runs in ring 0 is emulated one instruction at a
 * time on kvm_pvm (~1.2 us each), so these paths are counted in
 * instructions: see user.c.
 */

#include <user.h>

#define USER_RFLAGS	0x202		/* IF, reserved bit 1 */

	.text

/*
 * long user_enter(struct user_cpu *uc, void (*fn)(void *), void *arg,
 *		   void *stack_top)
 *
 * Saves the callee-saved registers and flags on this stack, which then
 * serves as the ring-0 stack of the ring-3 context: interrupts and the
 * int3 gate switch to it through TSS RSP0.  Returns through user_leave(),
 * which finds it again in uc->kernel_rsp.
 */
	.globl user_enter
user_enter:
	pushfq
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, UC_KERNEL_RSP(%rdi)
	movq UC_RSP0_SLOT(%rdi), %rax
	movq %rsp, (%rax)
	/* fn returns into user_return; the slot keeps the ABI alignment. */
	leaq user_return(%rip), %rax
	movq %rax, -8(%rcx)
	subq $8, %rcx
	movl $ASM_USER_DS_RPL3, %eax
	movl %eax, %ds
	movl %eax, %es
	pushq $ASM_USER_DS_RPL3
	pushq %rcx
	pushq $USER_RFLAGS
	pushq $ASM_USER_CS_RPL3
	pushq %rsi
	movq %rdx, %rdi
	iretq

/* void user_leave(struct user_cpu *uc, long ret): back to user_enter's caller. */
	.globl user_leave
user_leave:
	movq UC_KERNEL_RSP(%rdi), %rsp
	movq %rsi, %rax
	movl $ASM_KERNEL_DS, %ecx
	movl %ecx, %ds
	movl %ecx, %es
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	popfq
	ret

/* Ring 3: fn returned. */
user_return:
	xorl %edi, %edi
	movl $SYS_EXIT, %edx
	int3
	ud2

/*
 * The system call gate: `int3` through a DPL-3 interrupt gate (user.c says
 * why not syscall).  The CPU switched to RSP0, cleared IF and pushed 5
 * words; one more restores the C ABI alignment.  rdi = a0, rsi = a1,
 * rdx = nr, already where user_sys_dispatch() wants them; user_syscall()
 * declares every register a C call may clobber.
 */
	.globl user_int3_entry
user_int3_entry:
	pushq %rcx
	call user_sys_dispatch
	popq %rcx
	iretq

/*
 * A device or IPI vector whose only job is to end SYS_IDLE on a CPU that
 * polls in ring 3: count it in irq_seq, EOI, return.  Six instructions
 * instead of the hundred of isr_common + interrupt_dispatch.
 */
	.globl user_wake_entry
user_wake_entry:
	pushq %rax
	lock incq irq_seq(%rip)
	movq user_eoi_reg(%rip), %rax
	movl $0, (%rax)
	popq %rax
	iretq

/* ---- gate benchmark: minimal ring-0 handlers ---- */

	.globl bench_sysret
bench_sysret:
	sysretq

	.globl bench_iret
bench_iret:
	iretq

	/* #UD from ud2: skip its 2 bytes. */
	.globl bench_ud_skip
bench_ud_skip:
	addq $2, (%rsp)
	iretq

	/* #PF / #GP: drop the error code, skip the 3-byte / 1-byte access. */
	.globl bench_pf_skip
bench_pf_skip:
	addq $8, %rsp
	addq $3, (%rsp)
	iretq

	.globl bench_gp_skip
bench_gp_skip:
	addq $8, %rsp
	addq $1, (%rsp)
	iretq

/* ---- gate benchmark: ring-3 loops, void loop(long n, void *addr) ---- */

	.globl bench_loop_syscall
bench_loop_syscall:
1:	syscall
	decq %rdi
	jnz 1b
	ret

	.globl bench_loop_int
bench_loop_int:
1:	int $0x81
	decq %rdi
	jnz 1b
	ret

	.globl bench_loop_int80
bench_loop_int80:
1:	int $0x80
	decq %rdi
	jnz 1b
	ret

	.globl bench_loop_int3
bench_loop_int3:
1:	int3
	decq %rdi
	jnz 1b
	ret

	.globl bench_loop_ud2
bench_loop_ud2:
1:	ud2
	decq %rdi
	jnz 1b
	ret

	/* The faulting accesses are 3 bytes: 48 8b 06 / 48 89 06. */
	.globl bench_loop_read
bench_loop_read:
1:	movq (%rsi), %rax
	decq %rdi
	jnz 1b
	ret

	.globl bench_loop_write
bench_loop_write:
1:	movq %rax, (%rsi)
	decq %rdi
	jnz 1b
	ret

	.globl bench_loop_cli
bench_loop_cli:
1:	cli
	decq %rdi
	jnz 1b
	ret

	/* The full path: int3 gate, C dispatch, SYS_NOP. */
	.globl bench_loop_sysnop
bench_loop_sysnop:
	pushq %rbx
	movq %rdi, %rbx
1:	movl $SYS_NOP, %edx
	xorl %edi, %edi
	xorl %esi, %esi
	int3
	decq %rbx
	jnz 1b
	popq %rbx
	ret

	/* A plain counted loop: the CPL0 vs CPL3 speed comparison. */
	.globl bench_loop_spin
bench_loop_spin:
	.balign 16
1:	decq %rdi
	jnz 1b
	ret
