/*
 * Application processor start-up.
 *
 * Each AP listed by the firmware gets INIT, then SIPI (a second SIPI only if
 * the first has not landed), and counts as online only once it has run the
 * 64-bit C entry and checked in.  APs are started one at a time because they
 * share the trampoline's parameter block.  The classic 10 ms INIT delay is
 * for physical boards; a hypervisor delivers INIT before SIPI in order, so
 * we only poll, with a bounded timeout.  An AP that misses it gets INIT
 * again so it cannot wake up later on a stack given to another CPU.
 */

#include <apic.h>
#include <desc.h>
#include <errno.h>
#include <mm.h>
#include <printk.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <trampoline.h>
#include <user.h>
#include <x86.h>

#define AP_STACK_SIZE		(16 * KiB)
#define IST_STACK_SIZE		(4 * KiB)
#define SIPI_RETRY_US		1000
#define CHECKIN_TIMEOUT_US	100000

struct cpu cpus[MAX_CPUS];
unsigned int nr_cpus;

static u8 bsp_ist_stack[IST_STACK_SIZE] __aligned(16);

unsigned int smp_online(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < nr_cpus; i++)
		n += READ_ONCE(cpus[i].state) == CPU_ONLINE;
	return n;
}

int smp_this_cpu(void)
{
	u32 id = cpuid_apic_id();
	unsigned int i;

	for (i = 0; i < nr_cpus; i++) {
		if (cpus[i].apic_id == id)
			return i;
	}
	return -ENOENT;
}

static void add_cpu(u8 apic_id, bool bsp)
{
	struct cpu *c = &cpus[nr_cpus];

	c->idx = nr_cpus++;
	c->apic_id = apic_id;
	c->bsp = bsp;
	c->state = bsp ? CPU_ONLINE : CPU_OFFLINE;
}

/* First thing at boot: the final GDT and TSS, before the IDT uses them. */
void smp_early_bsp(void)
{
	cpus[0].ist_top = (u64)bsp_ist_stack + sizeof(bsp_ist_stack);
	gdt_load_cpu(0, cpus[0].ist_top);
}

/* cpus[0] is always the CPU we run on, whatever the table says. */
void smp_init_bsp(void)
{
	u32 self = lapic_id();
	unsigned int i;

	add_cpu(self, true);
	for (i = 0; i < platform.nr_cpus && nr_cpus < MAX_CPUS; i++) {
		if (platform.cpus[i].apic_id != self)
			add_cpu(platform.cpus[i].apic_id, false);
	}
}

static void __attribute__((noreturn)) ap_main(struct cpu *c)
{
	gdt_load_cpu(c->idx, c->ist_top);
	idt_load();
	lapic_init_ap();
	__atomic_store_n(&c->state, CPU_ONLINE, __ATOMIC_RELEASE);
	/* hlt; wakes for ring-3 work handed over by user_run_on_cpu(). */
	for (;;)
		user_ap_idle(c->idx);
}

static int alloc_stacks(struct cpu *c)
{
	void *stack = early_alloc_nozero(AP_STACK_SIZE, PAGE_SIZE);
	void *ist = early_alloc_nozero(IST_STACK_SIZE, PAGE_SIZE);

	if (!stack || !ist)
		return -ENOMEM;
	c->stack_top = (u64)stack + AP_STACK_SIZE;
	c->ist_top = (u64)ist + IST_STACK_SIZE;
	return 0;
}

static bool wait_flag(volatile u32 *flag, volatile int *state, u64 start,
		      u64 us)
{
	u64 limit = us * tsc_khz() / 1000;

	while (rdtsc() - start < limit) {
		if ((flag && *flag) ||
		    (state && __atomic_load_n(state, __ATOMIC_ACQUIRE) == CPU_ONLINE))
			return true;
		cpu_relax();
	}
	return false;
}

static int start_ap(struct cpu *c, struct tramp_params *tp)
{
	u8 vector = TRAMP_BASE >> 12;
	u64 start;
	int ret;

	ret = alloc_stacks(c);
	if (ret)
		return ret;
	tp->started = 0;
	tp->stack = c->stack_top;
	tp->arg = (u64)c;
	c->state = CPU_STARTING;
	barrier();

	start = rdtsc();
	ret = lapic_send_init(c->apic_id);
	if (!ret)
		ret = lapic_send_sipi(c->apic_id, vector);
	if (ret)
		goto fail_park;
	if (!wait_flag(&tp->started, NULL, start, SIPI_RETRY_US))
		lapic_send_sipi(c->apic_id, vector);
	if (!wait_flag(NULL, &c->state, start, CHECKIN_TIMEOUT_US)) {
		ret = -ETIMEDOUT;
		goto fail_park;
	}
	c->start_us = tsc_to_us(rdtsc() - start);
	return 0;

fail_park:
	lapic_send_init(c->apic_id);
	c->state = CPU_FAILED;
	return ret;
}

static struct tramp_params *install_trampoline(void)
{
	size_t size = tramp_end - tramp_start;
	struct tramp_params *tp;

	if (!mm_range_is_ram(TRAMP_BASE, size)) {
		pr_err("smp: trampoline page %#x is not RAM\n", TRAMP_BASE);
		return NULL;
	}
	memcpy((void *)TRAMP_BASE, tramp_start, size);
	tp = (struct tramp_params *)(TRAMP_BASE + (tramp_params - tramp_start));
	tp->cr3 = mm_kernel_cr3();
	tp->entry = (u64)ap_main;
	return tp;
}

unsigned int smp_boot_aps(void)
{
	struct tramp_params *tp;
	u64 start = rdtsc();
	unsigned int i;
	int ret;

	if (nr_cpus < 2)
		goto out;
	tp = install_trampoline();
	if (!tp)
		goto out;
	for (i = 1; i < nr_cpus; i++) {
		ret = start_ap(&cpus[i], tp);
		if (ret)
			pr_err("smp: cpu %u (apic %u) did not start (%d)\n", i,
			       cpus[i].apic_id, ret);
	}
out:
	pr_info("smp: %u of %u cpus online in %llu us\n", smp_online(),
		nr_cpus, tsc_to_us(rdtsc() - start));
	return smp_online();
}
