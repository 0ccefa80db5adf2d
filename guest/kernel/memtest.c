/*
 * memtest: a RAM pattern that a live migration must carry intact.
 *
 * One AP keeps rewriting a region page by page, sweep after sweep; the
 * shell's CPU checks it, concurrently (`memtest check`) or after stopping
 * the writer (`memtest stop`, every byte).  Both run in ring 3, where the
 * loops run at native speed (user.c explains why that matters).
 *
 * A page is self-describing: word 0 is a sequence number, odd while the
 * writer is inside the page and 2 * (sweep + 1) once it is done; every other
 * word is pattern(address, sweep).  A seqlock read (header, words, header)
 * lets the checker test a page the writer may be rewriting.  That alone
 * would accept a stale page (one the migration did not resend carries an
 * old but self-consistent sweep), so the checker also knows where the
 * writer was: pages before its position must be at its sweep, pages after
 * at least at the previous one.  A page from an older sweep, a page with a
 * header of a sweep that never happened, or a word that does not match is
 * a failure, reported with its address.
 *
 * The writer is paced (MiB/s) by a periodic LAPIC timer of its own CPU on a
 * vector that only wakes (user_wake_vector), so a slow writer sleeps
 * instead of spinning a vCPU.  The region comes from the early allocator
 * and is reused by later runs that fit in it.
 */

#include <apic.h>
#include <errno.h>
#include <memtest.h>
#include <mm.h>
#include <printk.h>
#include <smp.h>
#include <string.h>
#include <time.h>
#include <user.h>
#include <x86.h>

#define VEC_MEMTEST_TICK	0xf4	/* the writer's pacing tick: wakes only */
#define WORDS_PER_PAGE		(PAGE_SIZE / 8)
#define DEFAULT_RATE_MIB	64
#define ALL_RESERVE		(4 * MiB)	/* left to the allocator by "all" */
#define STOP_WAIT_US		(10 * 1000 * 1000ULL)

struct memtest {
	u64 *base;
	u64 alloc_pages;	/* region size, fixed by the first start */
	u64 pages;		/* pages in use by this run */
	u64 rate;		/* bytes/s, 0: as fast as it can */
	int cpu;		/* writer, -1: none */
	/* Written by the writer only; read by the checker. */
	volatile u64 sweep;	/* the sweep in progress */
	volatile u64 pos;	/* pages of it done */
	volatile u64 written;	/* pages written since start */
};

struct check_result {
	u64 checked, busy;
	u64 bad_addr, expected, found;
	const char *what;	/* NULL: all good */
};

static struct memtest mt = { .cpu = -1 };

static inline u64 pattern(const u64 *addr, u64 sweep)
{
	u64 x = (u64)addr * 0x9e3779b97f4a7c15ULL ^ (sweep + 1) * 0xc2b2ae3d27d4eb4fULL;

	return x ^ x >> 29;
}

static inline u64 *page_at(u64 i)
{
	return mt.base + i * WORDS_PER_PAGE;
}

static void write_page(u64 i, u64 sweep)
{
	u64 *p = page_at(i);
	u64 w;

	WRITE_ONCE(p[0], 2 * sweep + 1);
	barrier();
	for (w = 1; w < WORDS_PER_PAGE; w++)
		p[w] = pattern(&p[w], sweep);
	barrier();
	WRITE_ONCE(p[0], 2 * sweep + 2);
}

/*
 * Pacing: sleep until the pages written so far are due, or a stop.  A
 * writer far behind (the VM was paused, say for a migration's downtime)
 * moves its baseline instead of catching up in one unpaced burst.
 */
static void pace(u64 *t0, u64 tsc_per_page, u64 slack)
{
	u64 due = *t0 + mt.written * tsc_per_page, now = rdtsc(), seq;

	if (now > due + slack) {
		*t0 += now - due;
		return;
	}
	while (rdtsc() < due && !user_should_stop()) {
		seq = user_wake_seq();
		if (rdtsc() >= due || user_should_stop())
			break;
		user_idle(seq);
	}
}

static void writer(void *arg __unused)
{
	u64 t0 = rdtsc(), tsc_per_page = 0, slack = tsc_khz() * 1000 / HZ * 2;

	if (mt.rate)
		tsc_per_page = PAGE_SIZE * tsc_khz() * 1000 / mt.rate;
	while (!user_should_stop()) {
		for (u64 i = 0; i < mt.pages && !user_should_stop(); i++) {
			if (tsc_per_page)
				pace(&t0, tsc_per_page, slack);
			if (user_work_pending())
				user_syscall(SYS_YIELD, 0, 0);
			write_page(i, mt.sweep);
			mt.pos = i + 1;
			mt.written++;
		}
		if (mt.pos == mt.pages) {
			mt.pos = 0;
			mt.sweep++;
		}
	}
}

/* Sweep 0 on the shell's CPU, so every page is valid before any check. */
static void first_sweep(void *arg __unused)
{
	for (u64 i = 0; i < mt.pages; i++)
		write_page(i, 0);
}

/*
 * The oldest sweep page i may be at, given where the writer was when the
 * check started (sweep s, position pos): s for pages it had done, s - 1
 * for the rest (s = 0 only after first_sweep, so no page is below 0).
 */
static u64 min_sweep(u64 i, u64 s, u64 pos)
{
	return i < pos || !s ? s : s - 1;
}

static bool check_page(u64 i, u64 lo, u64 hi, struct check_result *r)
{
	u64 *p = page_at(i), h1, h2, w, s;

	h1 = READ_ONCE(p[0]);
	barrier();
	if (h1 & 1) {
		r->busy++;
		return true;
	}
	s = h1 / 2 - 1;
	if (!h1 || s < lo || s > hi) {
		r->what = !h1 || s > hi ? "page header of no sweep" :
					  "page from an older sweep (stale)";
		r->bad_addr = (u64)p;
		r->expected = 2 * lo + 2;
		r->found = h1;
		return false;
	}
	for (w = 1; w < WORDS_PER_PAGE; w++) {
		if (p[w] == pattern(&p[w], s))
			continue;
		barrier();
		h2 = READ_ONCE(p[0]);
		if (h2 != h1) {		/* rewritten under us */
			r->busy++;
			return true;
		}
		r->what = "word differs from the pattern";
		r->bad_addr = (u64)&p[w];
		r->expected = pattern(&p[w], s);
		r->found = p[w];
		return false;
	}
	r->checked++;
	return true;
}

/* Ring 3: check every page against the writer's position at the start. */
static void checker(void *arg)
{
	struct check_result *r = arg;
	u64 s = mt.sweep, pos = mt.pos;

	barrier();
	for (u64 i = 0; i < mt.pages; i++) {
		/* A running writer may pass this page many times meanwhile. */
		u64 hi = mt.cpu >= 0 ? ~0ULL / 2 - 1 : s;

		if (!check_page(i, min_sweep(i, s, pos), hi, r))
			return;
	}
}

static int run_check(struct check_result *r)
{
	long ret;

	memset(r, 0, sizeof(*r));
	ret = user_run(checker, r, NULL);
	if (ret) {
		printf("memtest: FAIL: the check faulted (%ld)\n", ret);
		return -EFAULT;
	}
	if (r->what) {
		printf("memtest: FAIL at %#llx: %s: expected %#llx, found %#llx (sweep %llu, position %llu of %llu)\n",
		       r->bad_addr, r->what, r->expected, r->found, mt.sweep,
		       mt.pos, mt.pages);
		return -EIO;
	}
	return 0;
}

/* ---- the writer's pacing timer (ring-0 work on its CPU) ---- */

static void timer_on(struct kwork *w __unused)
{
	lapic_timer_start(lapic_timer_khz() * 1000 / HZ, VEC_MEMTEST_TICK,
			  true, false);
}

static void timer_off(struct kwork *w __unused)
{
	lapic_timer_start(0, VEC_MEMTEST_TICK, false, true);
}

static struct kwork tick_on = { .fn = timer_on };
static struct kwork tick_off = { .fn = timer_off };

static int start_writer(void)
{
	unsigned int cpu;

	for (cpu = 1; cpu < nr_cpus; cpu++) {
		if (cpus[cpu].bsp || cpus[cpu].state != CPU_ONLINE)
			continue;
		if (user_run_on_cpu(cpu, writer, NULL))
			continue;
		/* The writer yields to it (or its first sleep runs it). */
		if (mt.rate)
			kwork_queue(cpu, &tick_on);
		mt.cpu = cpu;
		return 0;
	}
	return -EBUSY;
}

static int stop_writer(void)
{
	long ret = 0;
	int err;

	if (mt.cpu < 0)
		return 0;
	user_stop_cpu(mt.cpu);
	err = user_wait_cpu(mt.cpu, STOP_WAIT_US, &ret);
	if (err) {
		printf("memtest: FAIL: the writer on cpu %d did not stop (%d)\n",
		       mt.cpu, err);
		return err;
	}
	if (mt.rate)
		kwork_queue(mt.cpu, &tick_off);
	mt.cpu = -1;
	if (ret) {
		printf("memtest: FAIL: the writer faulted (%ld)\n", ret);
		return -EFAULT;
	}
	return 0;
}

/* ---- commands ---- */

/* A larger run gets a new region; the early allocator cannot take the old
 * one back, so it stays unused. */
static int alloc_region(u64 pages)
{
	u64 *base;

	if (mt.base && pages <= mt.alloc_pages)
		return 0;
	base = early_alloc_nozero(pages * PAGE_SIZE, PAGE_SIZE);
	if (!base) {
		printf("memtest: cannot set aside %llu MiB (see `mem`)\n",
		       pages * PAGE_SIZE / MiB);
		return -ENOMEM;
	}
	mt.base = base;
	mt.alloc_pages = pages;
	return 0;
}

static int parse_size(const char *arg, u64 *pages)
{
	u64 mib;

	if (!strcmp(arg, "all")) {
		u64 free = early_alloc_free();

		if (free > ALL_RESERVE)
			*pages = (free - ALL_RESERVE) / PAGE_SIZE;
		else if (mt.base)
			*pages = mt.alloc_pages;
		else
			return -ENOMEM;
		return 0;
	}
	if (kstrtou64(arg, 10, &mib) || !mib || mib > 1024 * 1024)
		return -EINVAL;
	*pages = mib * MiB / PAGE_SIZE;
	return 0;
}

static void cmd_start(int argc, char **argv)
{
	u64 pages, rate = DEFAULT_RATE_MIB;
	long ret;

	if (mt.cpu >= 0) {
		printf("memtest: already running on cpu %d (memtest stop)\n",
		       mt.cpu);
		return;
	}
	if (argc < 3 || parse_size(argv[2], &pages) ||
	    (argc > 3 && kstrtou64(argv[3], 10, &rate))) {
		printf("usage: memtest start MIB|all [MIB_PER_S (0: unpaced)]\n");
		return;
	}
	if (alloc_region(pages))
		return;
	user_wake_vector(VEC_MEMTEST_TICK);
	mt.pages = pages;
	mt.rate = rate * MiB;
	mt.sweep = 0;
	mt.pos = 0;
	mt.written = 0;
	ret = user_run(first_sweep, NULL, NULL);
	if (ret) {
		printf("memtest: FAIL: the first sweep faulted (%ld)\n", ret);
		return;
	}
	mt.sweep = 1;
	if (start_writer()) {
		printf("memtest: no free cpu for the writer (the net poller takes the last one: boot with one more cpu)\n");
		return;
	}
	printf("memtest: writing %llu MiB at %#llx on cpu %d, %s%llu MiB/s\n",
	       pages * PAGE_SIZE / MiB, (u64)mt.base, mt.cpu,
	       rate ? "" : "unpaced, ", rate);
}

static void report_ok(const char *how, const struct check_result *r)
{
	printf("memtest: ok (%s): %llu MiB, %llu pages checked, %llu busy, sweep %llu, %llu MiB written\n",
	       how, mt.pages * PAGE_SIZE / MiB, r->checked, r->busy, mt.sweep,
	       mt.written * PAGE_SIZE / MiB);
}

static void cmd_check(void)
{
	struct check_result r;

	if (!mt.pages) {
		printf("memtest: not started\n");
		return;
	}
	if (!run_check(&r))
		report_ok(mt.cpu >= 0 ? "while writing" : "stopped", &r);
}

static void cmd_stop(void)
{
	struct check_result r;

	if (mt.cpu < 0) {
		printf("memtest: not running\n");
		return;
	}
	if (stop_writer() || run_check(&r))
		return;
	if (r.busy)
		printf("memtest: FAIL: %llu pages half written after the writer stopped\n",
		       r.busy);
	else
		report_ok("stopped, every byte", &r);
}

/*
 * Proof that the check can fail: damage the middle page of a stopped run,
 * either one bit of a word or the whole page rewritten as one sweep older
 * than its place allows (what a page the migration forgot looks like).
 */
static void cmd_corrupt(const char *how)
{
	u64 i = mt.pages / 2, lo;

	if (!mt.pages || mt.cpu >= 0) {
		printf("memtest: corrupt needs a stopped run\n");
		return;
	}
	lo = min_sweep(i, mt.sweep, mt.pos);
	if (!strcmp(how, "word")) {
		page_at(i)[7] ^= 1;
	} else if (!strcmp(how, "stale") && lo) {
		write_page(i, lo - 1);
	} else {
		printf("usage: memtest corrupt word|stale (stale: after a second sweep)\n");
		return;
	}
	printf("memtest: corrupted page %llu at %#llx (%s)\n", i,
	       (u64)page_at(i), how);
}

void memtest_cmd(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "start"))
		cmd_start(argc, argv);
	else if (argc == 2 && !strcmp(argv[1], "check"))
		cmd_check();
	else if (argc == 2 && !strcmp(argv[1], "stop"))
		cmd_stop();
	else if (argc == 3 && !strcmp(argv[1], "corrupt"))
		cmd_corrupt(argv[2]);
	else
		printf("usage: memtest start MIB|all [MIB_PER_S] | check | stop | corrupt word|stale\n");
}
