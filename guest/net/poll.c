/*
 * The network poller: every interface's data path in ring 3.
 *
 * Why: on kvm_pvm guest ring-0 code is emulated (about a microsecond per
 * instruction) while ring-3 code runs natively, so the receive -> stack ->
 * transmit path costs about half a millisecond in an interrupt handler and
 * a few microseconds here.  The poller spins while there is traffic, and
 * after a quiet spell re-arms the queue interrupts (which only wake it:
 * a bare entry, no handler) and sleeps.
 *
 * Where it runs:
 *  - on an AP of its own when there is one (the last one online, or
 *    netpoll=N): it never returns; configuration interrupts (link,
 *    announce, failures) stay with ring 0 on the boot CPU;
 *  - else on the boot CPU whenever the shell waits for input (serial.c
 *    calls net_idle() instead of hlt): it returns as soon as input is
 *    pending, and configuration interrupts, which now land on the
 *    poller's own CPU, are deferred to ring 0 as kwork;
 *  - with netpoll=off, nowhere: the interfaces stay interrupt driven and
 *    the path runs in ring 0.
 *
 * Ring-3 rules apply to everything reached from the loop: no port I/O, no
 * cli/sti (so plain spin_lock, never the irqsave form), no printing.
 */

#include <errno.h>
#include <net.h>
#include <printk.h>
#include <serial.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <user.h>
#include <x86.h>

/*
 * Spin this long after the last packet before sleeping: longer than the
 * gap between packets at 10,000/s, so a steady stream does not pay for a
 * wake-up per packet, short enough not to burn a CPU the VMM's own
 * threads may need at low rates.
 */
#define BUSY_POLL_US		200
#define NETPOLL_AUTO		-1
#define NETPOLL_OFF		-2

enum poll_mode {
	POLL_OFF,
	POLL_AP,		/* a dedicated AP, forever */
	POLL_IDLE,		/* the boot CPU while the shell is idle */
};

static int netpoll_opt = NETPOLL_AUTO;
/* Test option: the poller's way from its last look to sleep, stretched. */
#define SLEEP_DELAY_MAX_US	100000
static u64 sleep_delay_us;
static enum poll_mode mode;
static unsigned int poll_cpu;
static struct netif *polled[NETIF_MAX];
static unsigned int nr_polled;

static struct {
	volatile u64 work;	/* frames and completions handled */
	volatile u64 sleeps;	/* times the poller went idle */
	volatile u64 runs;	/* entries into ring 3 (idle mode) */
} pstat;

int net_opt_netpoll(const char *name __unused, const char *val)
{
	u64 cpu;

	if (!val)
		return -EINVAL;
	if (!strcmp(val, "off")) {
		netpoll_opt = NETPOLL_OFF;
		return 0;
	}
	if (kstrtou64(val, 10, &cpu) || cpu >= MAX_CPUS)
		return -EINVAL;
	netpoll_opt = cpu;
	return 0;
}

int net_opt_sleep_delay(const char *name __unused, const char *val)
{
	u64 v;

	if (!val || kstrtou64(val, 10, &v) || v > SLEEP_DELAY_MAX_US)
		return -EINVAL;
	sleep_delay_us = v;
	return 0;
}

/* One pass over every interface; the amount of work done. */
static int poll_all(void)
{
	unsigned int i, n = __atomic_load_n(&nr_polled, __ATOMIC_ACQUIRE);
	int work = failover_poll();

	for (i = 0; i < n; i++)
		work += polled[i]->ops->poll(polled[i]);
	return work;
}

/* Re-arm every interface; false if one had work meanwhile. */
static bool arm_all(void)
{
	unsigned int i, n = __atomic_load_n(&nr_polled, __ATOMIC_ACQUIRE);
	bool quiet = true;

	for (i = 0; i < n; i++)
		quiet = polled[i]->ops->arm(polled[i]) && quiet;
	return quiet;
}

static bool must_return(bool idle)
{
	return user_should_stop() || (idle && serial_input_pending());
}

/* [ring 3] The loop; idle: return when console input is pending. */
static void poll_loop(bool idle)
{
	u64 window = BUSY_POLL_US * tsc_khz() / 1000, last = rdtsc(), seq;
	int work;

	while (!must_return(idle)) {
		if (user_work_pending())
			user_syscall(SYS_YIELD, 0, 0);
		/* Before the last look: an interrupt after it bumps the seq. */
		seq = user_wake_seq();
		work = poll_all();
		if (work) {
			pstat.work += work;
			last = rdtsc();
			continue;
		}
		if (rdtsc() - last < window) {
			cpu_relax();
			continue;
		}
		if (!arm_all() || must_return(idle) || user_work_pending())
			continue;
		pstat.sleeps++;
		/* netpoll.sleep_delay_us: as if the host preempted this vCPU
		 * here; whatever changed meanwhile must still wake us. */
		if (sleep_delay_us)
			udelay(sleep_delay_us);
		user_idle(seq);
		last = rdtsc();
	}
}

static void ap_loop(void *arg __unused)
{
	poll_loop(false);
}

static void idle_loop(void *arg __unused)
{
	poll_loop(true);
}

/* The shell's wait for input, instead of hlt (serial.c). */
static void net_idle(void)
{
	long ret;

	pstat.runs++;
	ret = user_run(idle_loop, NULL, NULL);
	if (ret) {
		/* Ring-3 context lost: back to interrupts would need a device
		 * reset; at least keep the console alive. */
		serial_set_idle(NULL);
		pr_err("net: idle poller failed (%ld); networking stopped\n", ret);
	}
}

void net_poll_service(void)
{
	if (mode == POLL_IDLE)
		pstat.work += poll_all();
}

bool net_wait(volatile bool *done, u64 us)
{
	u64 start = uptime_us();

	while (!*done) {
		if (uptime_us() - start >= us)
			return false;
		net_poll_service();
		cpu_relax();
	}
	return true;
}

/* The AP for the poller: netpoll=N, else the last one online; or -1. */
static int pick_ap(void)
{
	int i;

	if (netpoll_opt >= 0) {
		if ((unsigned int)netpoll_opt < nr_cpus &&
		    !cpus[netpoll_opt].bsp &&
		    cpus[netpoll_opt].state == CPU_ONLINE)
			return netpoll_opt;
		pr_warn("netpoll=%d: no such AP online, polling when idle\n",
			netpoll_opt);
		return -1;
	}
	for (i = nr_cpus - 1; i > 0; i--) {
		if (!cpus[i].bsp && cpus[i].state == CPU_ONLINE)
			return i;
	}
	return -1;
}

/* Interfaces that can be polled; set_poller is applied by the caller. */
static unsigned int collect(void)
{
	unsigned int i;

	for (i = 0; i < netif_count(); i++) {
		struct netif *nif = netif_get(i);

		if (nif->ops->poll && !nif->broken)
			polled[nr_polled++] = nif;
	}
	return nr_polled;
}

static void switch_over(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < nr_polled; i++) {
		ret = polled[i]->ops->set_poller(polled[i], poll_cpu);
		if (ret)
			pr_warn("%s: stays interrupt driven (%d)\n",
				polled[i]->name, ret);
	}
}

bool net_poll_elsewhere(void)
{
	return mode == POLL_AP && smp_this_cpu() != (int)poll_cpu;
}

bool net_poll_kick(void)
{
	if (mode != POLL_AP)
		return false;
	user_wake_cpu(poll_cpu);
	return true;
}

/*
 * An interface that appeared after the poller started (a hot-plugged or
 * cold-plugged PCI NIC; pciehp binds after net_init).  Only a poller on
 * an AP of its own takes it: the idle-mode poller shares the boot CPU,
 * whose ring-0 hot-plug handler would then spin on a lock its interrupted
 * ring-3 holder cannot release.  The slot in polled[] is kept for the
 * interface's lifetime (drivers keep unbound interfaces and rebind them);
 * poll and arm skip an interface that is not bound.
 */
void net_poll_attach(struct netif *nif)
{
	unsigned int i;
	int ret;

	if (mode != POLL_AP || !nif->ops->poll)
		return;
	for (i = 0; i < nr_polled && polled[i] != nif; i++)
		;
	if (i == nr_polled) {
		if (nr_polled == NETIF_MAX)
			return;
		polled[i] = nif;
		/* The loop reads nr_polled without a lock: entry first. */
		__atomic_store_n(&nr_polled, i + 1, __ATOMIC_RELEASE);
	}
	ret = nif->ops->set_poller(nif, poll_cpu);
	if (ret) {
		pr_warn("%s: stays interrupt driven (%d)\n", nif->name, ret);
		return;
	}
	/* A sleeping poller would not look at it until the next wake-up. */
	user_wake_cpu(poll_cpu);
}

void net_poll_start(void)
{
	int ap, ret;

	if (netpoll_opt == NETPOLL_OFF || !collect())
		return;
	ap = pick_ap();
	if (ap > 0) {
		/* Poller first: until an interface is switched over, its
		 * interrupt handler and the poller share it under its lock. */
		ret = user_run_on_cpu(ap, ap_loop, NULL);
		if (!ret) {
			mode = POLL_AP;
			poll_cpu = ap;
			switch_over();
			pr_info("net: polled in ring 3 on cpu %d\n", ap);
			return;
		}
		pr_warn("net: no poller on cpu %d (%d), polling when idle\n",
			ap, ret);
	}
	poll_cpu = smp_this_cpu() < 0 ? 0 : smp_this_cpu();
	if (serial_set_idle(net_idle)) {
		nr_polled = 0;
		pr_warn("net: no console input interrupt: interrupt driven\n");
		return;
	}
	mode = POLL_IDLE;
	switch_over();
	pr_info("net: polled in ring 3 when cpu %u is idle\n", poll_cpu);
}

void net_poll_show(void)
{
	static const char *const what[] = {
		[POLL_OFF] = "off (interfaces are interrupt driven)",
		[POLL_AP] = "ring 3 on its own cpu",
		[POLL_IDLE] = "ring 3 while the shell's cpu is idle",
	};

	printf("poller: %s", what[mode]);
	if (mode != POLL_OFF)
		printf(", cpu %u, %u interface%s, work %llu, sleeps %llu, runs %llu",
		       poll_cpu, nr_polled, nr_polled > 1 ? "s" : "",
		       pstat.work, pstat.sleeps, pstat.runs);
	printf("\n");
}
