/*
 * Ring-3 execution.
 *
 * Why: on this project's host /dev/kvm is kvm_pvm, which emulates every
 * guest instruction at CPL0 (~1.2 us, ~3000 cycles each) but runs CPL3
 * code natively.  Hot paths (polling virtio rings, parsing and echoing
 * packets) therefore run in ring 3 and enter ring 0 only to sleep, to
 * print, or for rare slow-path work.  Ring-3 code is the kernel's own
 * code on the kernel's own data: the identity map has U/S set at every
 * level (mm.c, entry.S), RAM and the MMIO hole alike.  This is a test
 * guest; a ring-3 context is a speed mode, not an isolation boundary.
 *
 * API (user.h):
 *   user_run(fn, arg, stack_top)   run fn(arg) in ring 3 on this CPU, IF=1,
 *                                  until it returns (0) or user_exit(ret)s;
 *                                  -EFAULT if it took an exception
 *   user_run_on_cpu(cpu, fn, arg)  hand fn to an idle AP (async);
 *                                  user_stop_cpu(), user_wait_cpu()
 *   user_syscall(nr, a0, a1)       [ring 3] SYS_EXIT, SYS_PUTS, SYS_IDLE,
 *                                  SYS_YIELD, SYS_NOP; user_puts/printf
 *   user_wake_seq(), user_idle()   [ring 3] sleep without a lost wake-up
 *   user_should_stop(), user_work_pending(), user_cpu_id()   [ring 3]
 *   kwork_queue(cpu, w)            ring-0 work for a CPU that is in ring 3
 *   user_wake_vector(vec)          a vector whose interrupt only wakes
 *   user_wake_cpu(cpu)             wake a CPU asleep in SYS_IDLE
 *
 * The gate into ring 0 is `int3` through a DPL-3 interrupt gate.  The
 * candidates, ring 3 -> bare ring-0 handler -> iretq, on kvm_pvm
 * (`usertest gates`): int3 9.8 us; #PF on a not-present, written or
 * reserved-bit entry 14.4 us; #GP (cli) 15.2 us; ud2 17.5 us.  `int N`
 * raises #UD whatever the gate's DPL.  `syscall` jumps to LSTAR but
 * stays at CPL3 (CS 0x2b; the sysretq there #GPs), so it never reaches
 * ring 0.  A full system call (int3, C dispatch, iretq) is ~30 us; the
 * earlier ud2 through isr_common was 110-150 us.  Every ring-0
 * instruction on the path costs ~1.2 us, so the entry is 4 instructions
 * and the dispatcher a switch.
 *
 * Other costs (`usertest`, fvmm and QEMU alike): a counted loop iteration
 * 0.3-0.4 ns in ring 3, ~1500 ns in ring 0; an MMIO read from ring 3
 * (LAPIC) 6 us, after which ring 3 runs natively again at once; a
 * self-IPI sent from ring 3 22 us to user_wake_entry but ~90 us through
 * isr_common and a (empty) C handler; a timer tick taken in ring 3
 * 16-45 us; stopping an AP asleep in SYS_IDLE (kick IPI, wake, SYS_EXIT)
 * ~0.2 ms.
 *
 * Mechanics:
 * - %gs is this CPU's struct user_cpu in both rings: GS base is written
 *   once per CPU on first use and there is no swapgs (nothing else in the
 *   kernel uses GS).  Booting pays nothing; setup is lazy.
 * - user_enter() saves the callee-saved registers and flags and makes
 *   that RSP both TSS RSP0 and uc->kernel_rsp, then irets to ring 3 with
 *   DS/ES = user data.  Interrupts and the int3 gate run on that stack;
 *   SYS_EXIT and exceptions reset RSP to it and return to the caller.
 * - An exception in ring 3 (idt.c -> user_fault) prints one line and
 *   ends the context with -EFAULT; the machine keeps running.
 * - int3 in ring 0 is not a breakpoint here: it would be taken as a
 *   system call.  The entry does no `cld`: DF is clear at any C call.
 *
 * Rules for ring-3 code:
 * - No privileged instructions: cli/sti/hlt, port I/O (#GP on kvm_pvm
 *   even with IOPL 3), MSRs, control registers.  So no printf/printk, no
 *   spin_lock_irqsave, no console: use user_printf (SYS_PUTS).  Memory,
 *   MMIO, rdtsc, pause are fine; udelay() and vsnprintf() work.
 * - Interrupts stay on: a lock that a ring-0 interrupt handler also takes
 *   deadlocks if the handler interrupts its holder on the same CPU.
 * - No FPU/SSE: the kernel is built -mgeneral-regs-only and interrupt
 *   entries do not save FPU state.
 * - Poll user_should_stop() and user_work_pending() (then SYS_YIELD) in
 *   the loop; sleep as: seq = user_wake_seq(); last check for work;
 *   user_idle(seq).  Any interrupt after the snapshot, on any CPU, makes
 *   SYS_IDLE return at once instead of sleeping.
 * - Stack: 64 KiB per CPU unless user_run() is given one.
 */

#include <apic.h>
#include <desc.h>
#include <errno.h>
#include <mm.h>
#include <printk.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <user.h>
#include <x86.h>

#define MSR_GS_BASE		0xc0000101
#define VEC_BP			3
#define LAPIC_EOI		0x0b0

#define USER_STACK_SIZE		(64 * KiB)
#define PUTS_MAX		4096

_Static_assert(__builtin_offsetof(struct user_cpu, self) == UC_SELF, "UC_SELF");
_Static_assert(__builtin_offsetof(struct user_cpu, kernel_rsp) == UC_KERNEL_RSP,
	       "UC_KERNEL_RSP");
_Static_assert(__builtin_offsetof(struct user_cpu, rsp0_slot) == UC_RSP0_SLOT,
	       "UC_RSP0_SLOT");
_Static_assert(ASM_KERNEL_DS == KERNEL_DS, "ASM_KERNEL_DS");
_Static_assert(ASM_USER_CS_RPL3 == (USER_CS | 3), "ASM_USER_CS_RPL3");
_Static_assert(ASM_USER_DS_RPL3 == (USER_DS | 3), "ASM_USER_DS_RPL3");
_Static_assert(USER_DS == USER_STAR_BASE + 8 && USER_CS == USER_STAR_BASE + 16,
	       "SYSRET selector layout");

struct user_cpu user_cpus[MAX_CPUS];

long user_enter(struct user_cpu *uc, void (*fn)(void *), void *arg,
		void *stack_top);
void __noreturn user_leave(struct user_cpu *uc, long ret);
void user_int3_entry(void);
void user_wake_entry(void);
long user_sys_dispatch(long a0, long a1, long nr);

/* LAPIC EOI register, for user_wake_entry. */
u64 user_eoi_reg;

/* ---- per-CPU setup ---- */

/*
 * Once per CPU, on that CPU (GS base is per CPU), and lazily, so booting
 * pays nothing.  The IDT is shared: the gate store is the same every time.
 */
static void setup_this_cpu(struct user_cpu *uc, unsigned int cpu)
{
	if (uc->ready)
		return;
	uc->self = uc;
	uc->cpu = cpu;
	uc->rsp0_slot = tss_rsp0_slot(cpu);
	wrmsr(MSR_GS_BASE, (u64)uc);
	idt_set_raw(VEC_BP, user_int3_entry, 3);
	uc->ready = true;
}

/* Lazily, by the caller: early_alloc is not SMP-safe, so only ring-0 code
 * on the shell's CPU allocates (user_run, user_run_on_cpu). */
static void *cpu_stack(struct user_cpu *uc)
{
	void *p;

	if (!uc->stack) {
		p = early_alloc_nozero(USER_STACK_SIZE, PAGE_SIZE);
		if (p)
			uc->stack = (u8 *)p + USER_STACK_SIZE;
	}
	return uc->stack;
}

static long run_here(struct user_cpu *uc, unsigned int cpu,
		     void (*fn)(void *), void *arg, void *stack_top)
{
	long ret;

	if (uc->active)
		return -EBUSY;
	if (!stack_top)
		stack_top = cpu_stack(uc);
	if (!stack_top)
		return -ENOMEM;
	setup_this_cpu(uc, cpu);
	uc->active = true;
	ret = user_enter(uc, fn, arg, (void *)ALIGN_DOWN((u64)stack_top, 16));
	uc->active = false;
	return ret;
}

long user_run(void (*fn)(void *), void *arg, void *stack_top)
{
	int cpu = smp_this_cpu();

	if (cpu < 0)
		return -ENODEV;
	return run_here(&user_cpus[cpu], cpu, fn, arg, stack_top);
}

/* ---- waking a CPU from hlt ---- */

/*
 * The wake-up is itself an event for SYS_IDLE's last check (irq_seq): a
 * caller's state change may come after the target last looked at that
 * state but before it set halted, and the target's check cannot know what
 * each caller changed.  (An e1000 handler on the boot CPU once masked
 * receive interrupts that the poller had armed after its snapshot of
 * irq_seq: without this bump the poller slept with them masked until
 * some unrelated interrupt, seconds later.)  The target sets halted
 * before its last check, so one of them sees the other.
 */
void user_wake_cpu(unsigned int cpu)
{
	static bool routed;

	__atomic_fetch_add(&irq_seq, 1, __ATOMIC_SEQ_CST);
	if (!READ_ONCE(user_cpus[cpu].halted))
		return;
	if (!routed)
		routed = !user_wake_vector(VEC_KICK);
	lapic_send_fixed(cpus[cpu].apic_id, VEC_KICK);
}

/*
 * hlt unless busy() says there is something to do.  Interrupts are off
 * from the check to `sti; hlt`, so a local interrupt cannot slip between
 * them; remote wake-ups see halted and send VEC_KICK.  Returns with
 * interrupts off.
 */
static void halt_unless(struct user_cpu *uc, bool (*busy)(struct user_cpu *, u64),
			u64 arg)
{
	irq_disable();
	WRITE_ONCE(uc->halted, true);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!busy(uc, arg))
		safe_halt();
	irq_disable();
	WRITE_ONCE(uc->halted, false);
}

/* ---- deferred ring-0 work ---- */

bool kwork_queue(unsigned int cpu, struct kwork *w)
{
	struct user_cpu *uc;
	struct kwork *head;

	if (cpu >= MAX_CPUS || __atomic_exchange_n(&w->queued, 1, __ATOMIC_ACQ_REL))
		return false;
	uc = &user_cpus[cpu];
	head = READ_ONCE(uc->work);
	do {
		w->next = head;
	} while (!__atomic_compare_exchange_n(&uc->work, &head, w, false,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	user_wake_cpu(cpu);
	return true;
}

/* Runs this CPU's queue in the order it was queued, interrupts enabled.
 * Callers test uc->work first: a call is ~10 emulated instructions. */
static void kwork_run(struct user_cpu *uc)
{
	struct kwork *w = __atomic_exchange_n(&uc->work, NULL, __ATOMIC_ACQUIRE);
	struct kwork *fifo = NULL, *next;

	if (!w)
		return;
	for (; w; w = next) {
		next = w->next;
		w->next = fifo;
		fifo = w;
	}
	irq_enable();
	for (w = fifo; w; w = next) {
		next = w->next;
		__atomic_store_n(&w->queued, 0, __ATOMIC_RELEASE);
		w->fn(w);
	}
	irq_disable();
}

/* ---- system calls (ring 0, interrupts off) ---- */

static bool idle_busy(struct user_cpu *uc, u64 seq)
{
	return READ_ONCE(uc->work) || READ_ONCE(uc->stop) ||
	       READ_ONCE(irq_seq) != seq;
}

long user_sys_dispatch(long a0, long a1, long nr)
{
	struct user_cpu *uc = user_this();

	switch (nr) {
	case SYS_NOP:
		return a0 + a1;
	case SYS_IDLE:
		halt_unless(uc, idle_busy, a0);
		if (uc->work)
			kwork_run(uc);
		return 0;
	case SYS_YIELD:
		if (uc->work)
			kwork_run(uc);
		return 0;
	case SYS_PUTS:
		if (a1 < 0 || a1 > PUTS_MAX)
			return -EINVAL;
		console_write((const char *)a0, a1);
		return a1;
	case SYS_EXIT:
		user_leave(uc, a0);
	}
	return -ENOSYS;
}

/* ---- exceptions in ring 3 ---- */

void user_fault(struct irq_regs *r)
{
	struct user_cpu *uc = user_this();

	if (uc < user_cpus || uc >= user_cpus + MAX_CPUS || uc->self != uc ||
	    !uc->active)
		return;
	uc->faults++;
	uc->fault_vec = r->vector;
	if (!uc->quiet_faults)
		printf("user: cpu %u: exception %llu error %#llx at %llx:%llx rsp %llx:%llx rflags %#llx cr2 %#llx: ring-3 context ended\n",
		       uc->cpu, r->vector, r->error, r->cs, r->rip, r->ss,
		       r->rsp, r->rflags, read_cr2());
	user_leave(uc, -EFAULT);
}

/* ---- handoff to APs ---- */

static bool ap_busy(struct user_cpu *uc, u64 arg __unused)
{
	return READ_ONCE(uc->work) ||
	       __atomic_load_n(&uc->state, __ATOMIC_ACQUIRE) == UCPU_QUEUED;
}

void user_ap_idle(unsigned int cpu)
{
	struct user_cpu *uc = &user_cpus[cpu];
	long ret;

	halt_unless(uc, ap_busy, 0);
	if (uc->work)
		kwork_run(uc);
	if (__atomic_load_n(&uc->state, __ATOMIC_ACQUIRE) != UCPU_QUEUED)
		return;
	WRITE_ONCE(uc->state, UCPU_RUNNING);
	ret = run_here(uc, cpu, uc->fn, uc->arg, uc->stack);
	uc->result = ret;
	__atomic_store_n(&uc->state, UCPU_DONE, __ATOMIC_RELEASE);
}

int user_run_on_cpu(unsigned int cpu, void (*fn)(void *), void *arg)
{
	struct user_cpu *uc;
	int state;

	if (cpu >= nr_cpus || cpus[cpu].bsp)
		return -EINVAL;
	if (READ_ONCE(cpus[cpu].state) != CPU_ONLINE)
		return -ENODEV;
	uc = &user_cpus[cpu];
	state = READ_ONCE(uc->state);
	if (state == UCPU_QUEUED || state == UCPU_RUNNING)
		return -EBUSY;
	if (!cpu_stack(uc))
		return -ENOMEM;
	if (!__atomic_compare_exchange_n(&uc->state, &state, UCPU_CLAIMED,
					 false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	uc->fn = fn;
	uc->arg = arg;
	uc->stop = false;
	__atomic_store_n(&uc->state, UCPU_QUEUED, __ATOMIC_RELEASE);
	user_wake_cpu(cpu);
	return 0;
}

void user_stop_cpu(unsigned int cpu)
{
	if (cpu >= MAX_CPUS)
		return;
	WRITE_ONCE(user_cpus[cpu].stop, true);
	user_wake_cpu(cpu);
}

/* Sleeps between timer ticks (10 ms), so only the BSP may wait: a test
 * helper, not a fast path. */
int user_wait_cpu(unsigned int cpu, u64 timeout_us, long *ret)
{
	u64 start = rdtsc(), limit = timeout_us * tsc_khz() / 1000;
	struct user_cpu *uc;
	int state;

	if (cpu >= MAX_CPUS)
		return -EINVAL;
	uc = &user_cpus[cpu];
	for (;;) {
		state = __atomic_load_n(&uc->state, __ATOMIC_ACQUIRE);
		if (state == UCPU_DONE)
			break;
		if (state == UCPU_IDLE)
			return -ENOENT;
		if (rdtsc() - start >= limit)
			return -ETIMEDOUT;
		safe_halt();
	}
	if (ret)
		*ret = uc->result;
	return 0;
}

/*
 * Route vec (a device's MSI/MSI-X vector, or an IPI) to user_wake_entry:
 * the interrupt then only ends SYS_IDLE (irq_seq changes) and is EOIed,
 * no C handler runs.  For a device whose ring-3 poller does all the work.
 */
int user_wake_vector(u8 vec)
{
	if (vec < 32 || vec == VEC_SPURIOUS)
		return -EINVAL;
	if (!user_eoi_reg)
		user_eoi_reg = (rdmsr(MSR_APIC_BASE) & ~0xfffULL) + LAPIC_EOI;
	idt_set_raw(vec, user_wake_entry, 0);
	return 0;
}

/* ---- ring-3 library ---- */

void user_puts(const char *s)
{
	user_syscall(SYS_PUTS, (long)s, strlen(s));
}

int user_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return user_syscall(SYS_PUTS, (long)buf, n);
}
