/*
 * `usertest`: ring-3 self test and cost measurements.
 *
 *   usertest        loop speed at CPL0 and CPL3, the system call round
 *                   trip, an MMIO read and a self-IPI from ring 3, timer
 *                   ticks taken while spinning in ring 3, and a ring-3 run
 *                   handed to an AP that sleeps in SYS_IDLE until stopped
 *   usertest gates  the ring-3 -> ring-0 transition candidates, each with a
 *                   bare 1-3 instruction handler (why int3 was chosen)
 *
 * Ring-3 code times itself with rdtsc (CR4.TSD is clear); ring-0 and
 * ring-3 readings are never mixed, in case their TSC offsets differ.
 */

#include <apic.h>
#include <desc.h>
#include <errno.h>
#include <io.h>
#include <mm.h>
#include <printk.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <user.h>
#include <x86.h>

#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define X86_EFER_SCE		(1u << 0)
#define LAPIC_VERSION		0x030
#define LAPIC_ICR_LO		0x300
#define ICR_ASSERT		(1u << 14)
#define ICR_SELF		(1u << 18)
#define SPIN_CPL3		1000000
#define SPIN_CPL0		10000
#define SYSCALLS		1000
#define MMIO_READS		1000
#define IPIS			100
#define IPI_TIMEOUT_US		10000
#define TICK_SPIN_MS		100
#define GAP_NS			2000	/* a longer rdtsc gap is an interrupt */
#define GATE_ROUNDS		50	/* per batch; the best of GATE_BATCHES */
#define GATE_BATCHES		5
/* Above the MSI-X range (msix.c: 0x40-0xef), next to VEC_KICK. */
#define VEC_TEST_C		0xf2	/* isr_common + an empty C handler */
#define VEC_TEST_WAKE		0xf3	/* user_wake_entry */
#define VEC_BENCH		0x81
#define VEC_INT80		0x80
#define VEC_BP			3
#define VEC_UD			6
#define VEC_GP			13
#define VEC_PF			14
#define PTE_P			0x001ULL
#define PTE_RW			0x002ULL
#define PTE_US			0x004ULL
#define PTE_PS			0x080ULL	/* reserved in a PML4 entry */
#define UNMAPPED_ADDR		(512 * GiB)	/* PML4 slot 1: not present */

/* user_entry.S */
void user_int3_entry(void);
void bench_sysret(void);
void bench_iret(void);
void bench_ud_skip(void);
void bench_pf_skip(void);
void bench_gp_skip(void);
void bench_loop_syscall(long n, void *addr);
void bench_loop_int(long n, void *addr);
void bench_loop_int80(long n, void *addr);
void bench_loop_int3(long n, void *addr);
void bench_loop_ud2(long n, void *addr);
void bench_loop_read(long n, void *addr);
void bench_loop_write(long n, void *addr);
void bench_loop_cli(long n, void *addr);
void bench_loop_sysnop(long n, void *addr);
void bench_loop_spin(long n);

struct ut_main {
	u64 lapic;			/* LAPIC register base */
	u64 spin0_cyc;			/* SPIN_CPL0 iterations at CPL0 */
	u64 spin3_cyc, sys_cyc, mmio_cyc;
	u64 ipi_wake_cyc, ipi_c_cyc;	/* 0: an IPI never arrived */
	u64 tick_cyc, gap_cyc, gaps, ticks;
	bool gs_ok;
	bool work_seen, work_done;	/* kwork queued before entry */
	long put_ret;
};

struct ut_ap {
	unsigned long idles;
	u64 spin3_cyc;
	bool gs_ok;
};

static u64 cyc_to_ns(u64 cycles, u64 n)
{
	return n ? cycles * 1000000 / tsc_khz() / n : 0;
}

/* Picoseconds: a native loop iteration is well below 1 ns. */
static u64 cyc_to_ps(u64 cycles, u64 n)
{
	return n ? cycles * 1000000000 / tsc_khz() / n : 0;
}

static char *ns_str(char *buf, u64 ps)
{
	snprintf(buf, 16, "%llu.%02llu", ps / 1000, ps / 10 % 100);
	return buf;
}

/* "12.3" for a nanosecond count, in microseconds. */
static char *us_str(char *buf, u64 ns)
{
	snprintf(buf, 16, "%llu.%llu", ns / 1000, ns / 100 % 10);
	return buf;
}

static bool gs_matches(void)
{
	struct user_cpu *uc = user_this();

	return uc >= user_cpus && uc < user_cpus + MAX_CPUS && uc->self == uc;
}

static void test_c_irq(struct irq_regs *regs __unused)
{
}

static bool test_work_ran;

static void test_work(struct kwork *w __unused)
{
	test_work_ran = true;
}

/* ---- ring 3 ---- */

/* Self-IPIs sent by writing the ICR from ring 3; cycles per delivery. */
static u64 ring3_ipis(u64 lapic, u8 vec)
{
	u64 t0, seq, total = 0, limit = IPI_TIMEOUT_US * tsc_khz() / 1000;
	int i;

	for (i = 0; i < IPIS; i++) {
		seq = user_wake_seq();
		t0 = rdtsc();
		mmio_write32(lapic + LAPIC_ICR_LO, ICR_SELF | ICR_ASSERT | vec);
		while (user_wake_seq() == seq) {
			if (rdtsc() - t0 > limit)
				return 0;
		}
		total += rdtsc() - t0;
	}
	return total;
}

/* Spins for TICK_SPIN_MS; each long gap between rdtscs is an interrupt. */
static void ring3_ticks(struct ut_main *r)
{
	u64 gap = GAP_NS * tsc_khz() / 1000000, t0, prev, now, j0 = jiffies;

	t0 = prev = rdtsc();
	while ((now = rdtsc()) - t0 < TICK_SPIN_MS * tsc_khz()) {
		if (now - prev > gap) {
			r->gaps++;
			r->gap_cyc += now - prev;
		}
		prev = now;
	}
	r->tick_cyc = now - t0;
	r->ticks = jiffies - j0;
}

static void ring3_report(struct ut_main *r)
{
	char a[16], b[16], c[16], d[16], e[16], f[16];

	r->put_ret = user_printf("usertest: cpu %u ring 3: loop %s ns/iter (CPL0 %llu), syscall %s us, MMIO read %s us, self-IPI %s us (C handler %s), %llu ticks in %llu ms (%s us each)\n",
		user_cpu_id(), ns_str(f, cyc_to_ps(r->spin3_cyc, SPIN_CPL3)),
		cyc_to_ns(r->spin0_cyc, SPIN_CPL0),
		us_str(a, cyc_to_ns(r->sys_cyc, SYSCALLS)),
		us_str(b, cyc_to_ns(r->mmio_cyc, MMIO_READS)),
		us_str(c, cyc_to_ns(r->ipi_wake_cyc, IPIS)),
		us_str(d, cyc_to_ns(r->ipi_c_cyc, IPIS)), r->ticks,
		cyc_to_ns(r->tick_cyc, 1000000),
		us_str(e, cyc_to_ns(r->gap_cyc, r->gaps)));
}

static void ring3_main(void *p)
{
	struct ut_main *r = p;
	u64 t0, i;

	r->gs_ok = gs_matches();
	r->work_seen = user_work_pending();
	user_syscall(SYS_YIELD, 0, 0);
	r->work_done = test_work_ran && !user_work_pending();

	t0 = rdtsc();
	bench_loop_spin(SPIN_CPL3);
	r->spin3_cyc = rdtsc() - t0;

	t0 = rdtsc();
	for (i = 0; i < SYSCALLS; i++)
		user_syscall(SYS_NOP, i, 0);
	r->sys_cyc = rdtsc() - t0;

	t0 = rdtsc();
	for (i = 0; i < MMIO_READS; i++)
		(void)mmio_read32(r->lapic + LAPIC_VERSION);
	r->mmio_cyc = rdtsc() - t0;

	r->ipi_wake_cyc = ring3_ipis(r->lapic, VEC_TEST_WAKE);
	r->ipi_c_cyc = ring3_ipis(r->lapic, VEC_TEST_C);
	ring3_ticks(r);
	ring3_report(r);
}

/* A privileged instruction in ring 3 must end only this context. */
static void ring3_fault(void *p __unused)
{
	irq_disable();
}

/* Sleeps in SYS_IDLE until asked to stop; the stop kick must wake it. */
static void ring3_ap(void *p)
{
	struct ut_ap *r = p;
	u64 t0, seq;

	r->gs_ok = gs_matches();
	t0 = rdtsc();
	bench_loop_spin(SPIN_CPL3);
	r->spin3_cyc = rdtsc() - t0;
	for (;;) {
		seq = user_wake_seq();
		if (user_should_stop())
			break;
		user_idle(seq);
		r->idles++;
	}
	user_exit(42);
}

/* ---- ring 0 ---- */

/* An online AP with nothing handed off (the network poller may own one). */
static unsigned int idle_ap(void)
{
	unsigned int cpu;
	int state;

	for (cpu = 1; cpu < nr_cpus; cpu++) {
		state = READ_ONCE(user_cpus[cpu].state);
		if (cpus[cpu].state == CPU_ONLINE &&
		    (state == UCPU_IDLE || state == UCPU_DONE))
			return cpu;
	}
	return 0;
}

/* Polls (no hlt) so the stop-to-exit time is not rounded to a tick. */
static u64 stop_and_time(unsigned int cpu)
{
	u64 t0 = rdtsc(), limit = 100000 * tsc_khz() / 1000;

	user_stop_cpu(cpu);
	while (__atomic_load_n(&user_cpus[cpu].state, __ATOMIC_ACQUIRE) != UCPU_DONE &&
	       rdtsc() - t0 < limit)
		cpu_relax();
	return tsc_to_us(rdtsc() - t0);
}

static void test_ap(void)
{
	static struct ut_ap r;
	unsigned int cpu = idle_ap();
	char buf[16];
	long ret = 0;
	u64 us = 0;
	int err;

	if (!cpu) {
		printf("usertest: no idle AP, handoff not tested\n");
		return;
	}
	r = (struct ut_ap){ 0 };
	err = user_run_on_cpu(cpu, ring3_ap, &r);
	if (!err) {
		udelay(20000);
		us = stop_and_time(cpu);
		err = user_wait_cpu(cpu, 1000000, &ret);
	}
	if (err || ret != 42 || !r.gs_ok) {
		printf("usertest: FAIL: AP cpu %u handoff: err %d, ret %ld, gs %d\n",
		       cpu, err, ret, r.gs_ok);
		return;
	}
	printf("usertest: cpu %u ring 3 via handoff: loop %s ns/iter, %lu idle returns, stop to exit %llu us\n",
	       cpu, ns_str(buf, cyc_to_ps(r.spin3_cyc, SPIN_CPL3)), r.idles, us);
}

/* Exceptions in ring 3 end the context with -EFAULT, on the caller's stack. */
static long test_fault(void)
{
	static u64 stack[512] __aligned(16);
	struct user_cpu *uc;
	int cpu = smp_this_cpu();
	long ret;

	if (cpu < 0)
		return -ENODEV;
	uc = &user_cpus[cpu];
	uc->quiet_faults = true;
	ret = user_run(ring3_fault, NULL, stack + ARRAY_SIZE(stack));
	uc->quiet_faults = false;
	return ret == -EFAULT && uc->fault_vec == VEC_GP ? 0 : -EIO;
}

static void test_main(void)
{
	static struct ut_main r;
	static struct kwork work = { .fn = test_work };
	long ret, fault;
	u64 t0;

	r = (struct ut_main){ .lapic = rdmsr(MSR_APIC_BASE) & ~0xfffULL };
	irq_register(VEC_TEST_C, test_c_irq);
	user_wake_vector(VEC_TEST_WAKE);
	t0 = rdtsc();
	bench_loop_spin(SPIN_CPL0);
	r.spin0_cyc = rdtsc() - t0;
	test_work_ran = false;
	kwork_queue(0, &work);
	ret = user_run(ring3_main, &r, NULL);
	fault = test_fault();
	if (ret || fault || !r.gs_ok || r.put_ret <= 0 ||
	    r.ticks < TICK_SPIN_MS * HZ / 2000 || !r.ipi_wake_cyc ||
	    !r.ipi_c_cyc || !r.work_seen || !r.work_done) {
		printf("usertest: FAIL: ret %ld, fault %ld, gs %d, puts %ld, ticks %llu, IPIs %llu/%llu, work %d/%d\n",
		       ret, fault, r.gs_ok, r.put_ret, r.ticks, r.ipi_wake_cyc,
		       r.ipi_c_cyc, r.work_seen, r.work_done);
	}
}

/* ---- usertest gates ---- */

struct gate_run {
	void (*loop)(long n, void *addr);
	void *addr;
	u64 cycles;
};

/* The best batch: the host (2 CPUs, shared) preempts us now and then. */
static void ring3_gate(void *p)
{
	struct gate_run *g = p;
	u64 t0, t;
	int i;

	for (i = 0; i < GATE_BATCHES; i++) {
		t0 = rdtsc();
		g->loop(GATE_ROUNDS, g->addr);
		t = rdtsc() - t0;
		if (!g->cycles || t < g->cycles)
			g->cycles = t;
	}
}

static void ring3_nop(void *p __unused)
{
}

struct gate {
	const char *name;
	void (*loop)(long n, void *addr);
	int vec;			/* raw DPL-3 IDT gate, or -1 */
	void (*entry)(void);
	bool lstar;			/* syscall: LSTAR = entry, EFER.SCE on */
	bool rsvd;			/* reserved-bit entry in PML4 slot 1 */
};

static const struct gate gates[] = {
	{ "syscall", bench_loop_syscall, -1, bench_sysret, true, false },
	{ "int 0x81", bench_loop_int, VEC_BENCH, bench_iret, false, false },
	{ "int 0x80", bench_loop_int80, VEC_INT80, bench_iret, false, false },
	{ "int3", bench_loop_int3, VEC_BP, bench_iret, false, false },
	{ "ud2", bench_loop_ud2, VEC_UD, bench_ud_skip, false, false },
	{ "#PF read", bench_loop_read, VEC_PF, bench_pf_skip, false, false },
	{ "#PF write", bench_loop_write, VEC_PF, bench_pf_skip, false, false },
	{ "#PF rsvd", bench_loop_read, VEC_PF, bench_pf_skip, false, true },
	{ "#GP cli", bench_loop_cli, VEC_GP, bench_gp_skip, false, false },
	{ "SYS_NOP", bench_loop_sysnop, -1, NULL, false, false },
};

static u64 zero_page[512] __aligned(4096);

static void gate_install(const struct gate *g, bool on)
{
	static u64 efer, star, lstar;
	u64 *pml4 = (u64 *)mm_kernel_cr3();

	if (g->vec >= 0 && on)
		idt_set_raw(g->vec, g->entry, 3);
	else if (g->vec == VEC_BP)
		idt_set_raw(VEC_BP, user_int3_entry, 3);	/* the real gate */
	else if (g->vec >= 0)
		idt_reset(g->vec);
	if (g->lstar && on) {
		efer = rdmsr(MSR_EFER);
		star = rdmsr(MSR_STAR);
		lstar = rdmsr(MSR_LSTAR);
		wrmsr(MSR_STAR, (u64)USER_STAR_BASE << 48 | (u64)KERNEL_CS << 32);
		wrmsr(MSR_LSTAR, (u64)g->entry);
		wrmsr(MSR_EFER, efer | X86_EFER_SCE);
	} else if (g->lstar) {
		wrmsr(MSR_EFER, efer);
		wrmsr(MSR_STAR, star);
		wrmsr(MSR_LSTAR, lstar);
	}
	if (g->rsvd) {
		pml4[1] = on ? (u64)zero_page | PTE_P | PTE_RW | PTE_US | PTE_PS : 0;
		write_cr3(read_cr3());
	}
}

/*
 * A candidate works if the ring-3 loop finishes.  Leaving ring 3 may still
 * fail (the int3 candidate's bare handler is not the SYS_EXIT gate): the
 * context then ends with an exception, which is fine here.
 */
static void test_gates(void)
{
	struct user_cpu *uc;
	struct gate_run r;
	char buf[16];
	size_t i;
	int cpu = smp_this_cpu();

	if (cpu < 0 || user_run(ring3_nop, NULL, NULL))	/* sets up this CPU */
		return;
	uc = &user_cpus[cpu];
	printf("usertest gates: us per ring 3 -> ring 0 -> ring 3, best of %d x %d, bare handlers\n",
	       GATE_BATCHES, GATE_ROUNDS);
	uc->quiet_faults = true;
	for (i = 0; i < ARRAY_SIZE(gates); i++) {
		r = (struct gate_run){ gates[i].loop, (void *)UNMAPPED_ADDR, 0 };
		gate_install(&gates[i], true);
		user_run(ring3_gate, &r, NULL);
		gate_install(&gates[i], false);
		if (!r.cycles)
			printf("  %-10s no: exception %llu in ring 3\n",
			       gates[i].name, uc->fault_vec);
		else
			printf("  %-10s %s\n", gates[i].name,
			       us_str(buf, cyc_to_ns(r.cycles, GATE_ROUNDS)));
	}
	uc->quiet_faults = false;
}

void user_selftest(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "gates")) {
		test_gates();
		return;
	}
	if (argc > 1) {
		printf("usage: usertest [gates]\n");
		return;
	}
	test_main();
	test_ap();
}
