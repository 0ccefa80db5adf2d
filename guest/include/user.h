/*
 * Ring-3 execution: run kernel functions at CPL3, where kvm_pvm runs them
 * natively, and call back into ring 0 through an `int3` gate.  Why, the
 * costs and the rules for ring-3 code are in arch/x86/user.c.
 *
 * Functions marked [ring 3] may only be called from ring-3 code; the others
 * only from ring 0.  Everything here is also included by user_entry.S.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

/* System calls: user_syscall(nr, a0, a1). */
#define SYS_EXIT	0	/* a0: return value of user_run; no return */
#define SYS_PUTS	1	/* a0: string, a1: length; console output */
#define SYS_IDLE	2	/* a0: user_wake_seq() snapshot; sleep (hlt) */
#define SYS_YIELD	3	/* run pending ring-0 work, do not sleep */
#define SYS_NOP		4	/* returns a0 + a1: measures the round trip */
#define NR_SYSCALLS	5

/* struct user_cpu offsets used by user_entry.S (checked in user.c). */
#define UC_SELF		0
#define UC_KERNEL_RSP	8
#define UC_RSP0_SLOT	16

/* Selectors as user_entry.S needs them (checked against x86.h). */
#define ASM_KERNEL_DS		0x10
#define ASM_USER_CS_RPL3	0x2b
#define ASM_USER_DS_RPL3	0x23

#ifndef __ASSEMBLER__

#include <desc.h>
#include <types.h>

/*
 * Per-CPU ring-3 state.  %gs points at it in both rings (the kernel never
 * uses GS otherwise, so there is no swapgs): the system call handler finds
 * its CPU through it, ring-3 code its CPU, stop flag and pending work.
 */
struct user_cpu {
	struct user_cpu *self;
	u64 kernel_rsp;		/* ring-0 stack while in ring 3 (= TSS RSP0) */
	void *rsp0_slot;	/* this CPU's TSS RSP0 */
	unsigned int cpu;
	bool active;		/* in user_run */
	bool ready;		/* GS base set on this CPU */
	volatile bool stop;	/* user_stop_cpu() asked fn to return */
	volatile bool halted;	/* in hlt: wake it with an IPI (user_wake_cpu) */
	struct kwork *volatile work;	/* deferred ring-0 work (kwork_queue) */
	/* Handoff to an idle AP (user_run_on_cpu). */
	void (*volatile fn)(void *);
	void *arg;
	void *stack;		/* top of this CPU's ring-3 stack (lazy) */
	volatile int state;	/* UCPU_* */
	volatile long result;
	u64 faults;		/* ring-3 contexts ended by an exception */
	u64 fault_vec;		/* the last one's vector */
	bool quiet_faults;	/* do not report them (usertest gates) */
} __aligned(64);

enum {
	UCPU_IDLE,		/* nothing handed off */
	UCPU_CLAIMED,		/* user_run_on_cpu() is filling fn/arg */
	UCPU_QUEUED,		/* fn set, AP not yet in ring 3 */
	UCPU_RUNNING,
	UCPU_DONE,		/* result valid until the next handoff */
};

/* Deferred ring-0 work: queued from anywhere (also interrupt handlers),
 * run by the target CPU in ring 0 with interrupts enabled. */
struct kwork {
	void (*fn)(struct kwork *w);
	struct kwork *next;
	volatile u32 queued;
};

extern struct user_cpu user_cpus[];
/* Bumped by every interrupt (idt.c) and every user_wake_cpu(). */
extern volatile u64 irq_seq;

/* ---- ring 0 ---- */

/*
 * Run fn(arg) in ring 3 on this CPU, interrupts enabled, on the stack
 * ending at stack_top (16-byte aligned; NULL = this CPU's own ring-3
 * stack).  Returns when fn returns (0) or calls user_exit(ret) (ret), or
 * -EFAULT if it took an exception (reported on the console).
 */
long user_run(void (*fn)(void *), void *arg, void *stack_top);
/*
 * Hand fn(arg) to an idle AP, which runs it in ring 3 on its own stack.
 * Returns at once: 0, -EINVAL (no such CPU or the BSP), -ENODEV (offline),
 * -EBUSY (already running something).
 */
int user_run_on_cpu(unsigned int cpu, void (*fn)(void *), void *arg);
/* Ask the ring-3 code on cpu to return (it polls user_should_stop()). */
void user_stop_cpu(unsigned int cpu);
/* Wait up to timeout_us for cpu's handoff to finish: 0 and *ret, or
 * -ETIMEDOUT, or -ENOENT if nothing was handed off. */
int user_wait_cpu(unsigned int cpu, u64 timeout_us, long *ret);
/* AP idle loop body (smp.c): hlt, or run a handed-off function. */
void user_ap_idle(unsigned int cpu);

/* Send vec to user_wake_entry: it only wakes SYS_IDLE (see user.c). */
int user_wake_vector(u8 vec);

/*
 * Wake cpu if it sleeps in SYS_IDLE or the AP idle loop, or keep it from
 * going to sleep if it is on its way (any ring).  Make what it should
 * notice visible first.  An interrupt handler's entry bump of irq_seq is
 * not enough: the handler's work comes after it.
 */
void user_wake_cpu(unsigned int cpu);

/* Queue w on cpu (any ring-0 context, or ring 3 for its own CPU); false if
 * it was already queued. */
bool kwork_queue(unsigned int cpu, struct kwork *w);

/* Exception in ring 3 (idt.c): report it and end the ring-3 context. */
void user_fault(struct irq_regs *regs);

/* The usertest shell command (usertest.c). */
void user_selftest(int argc, char **argv);

/* ---- ring 3 ---- */

static inline struct user_cpu *user_this(void)
{
	struct user_cpu *uc;

	asm volatile("movq %%gs:0, %0" : "=r"(uc));
	return uc;
}

/* The ring-0 side is a C call: every caller-saved register is clobbered. */
static inline long user_syscall(long nr, long a0, long a1)
{
	long ret;

	asm volatile("int3"
		     : "=a"(ret), "+D"(a0), "+S"(a1), "+d"(nr)
		     :
		     : "rcx", "r8", "r9", "r10", "r11", "memory");
	return ret;
}

static inline void __noreturn user_exit(long ret)
{
	user_syscall(SYS_EXIT, ret, 0);
	__builtin_unreachable();
}

/* Snapshot before the last check for work; pass it to user_idle(). */
static inline u64 user_wake_seq(void)
{
	return READ_ONCE(irq_seq);
}

/*
 * Sleep in ring 0 until an interrupt, unless one arrived since seq was
 * read or ring-0 work is pending; runs that work either way.
 */
static inline void user_idle(u64 seq)
{
	user_syscall(SYS_IDLE, seq, 0);
}

static inline bool user_work_pending(void)
{
	return READ_ONCE(user_this()->work) != NULL;
}

static inline bool user_should_stop(void)
{
	return READ_ONCE(user_this()->stop);
}

static inline unsigned int user_cpu_id(void)
{
	return user_this()->cpu;
}

/* Console output from ring 3 (one syscall per call). */
void user_puts(const char *s);
int user_printf(const char *fmt, ...) __printf(1, 2);

#endif /* !__ASSEMBLER__ */
#endif
