/* Console: formatted, locked output to the UART, with a quiet mode. */

#include <printk.h>
#include <serial.h>
#include <spinlock.h>
#include <time.h>
#include <x86.h>

#define LINE_MAX	512
#define DEFER_MAX	32		/* deferred lines queued at most */
#define DEFER_LOCK_US	100		/* see defer_lock_bounded() */

static struct spinlock console_lock = SPINLOCK_INIT;
static bool quiet;
static bool lock_broken;

void console_set_quiet(bool q)
{
	quiet = q;
}

bool console_is_quiet(void)
{
	return quiet;
}

void console_break_lock(void)
{
	lock_broken = true;
}

void console_write(const char *s, size_t n)
{
	u64 flags = 0;

	if (!lock_broken)
		flags = spin_lock_irqsave(&console_lock);
	serial_write(s, n);
	if (!lock_broken)
		spin_unlock_irqrestore(&console_lock, flags);
}

static int vprint(const char *prefix, const char *fmt, va_list ap)
{
	char buf[LINE_MAX];
	size_t len = 0;
	int n;

#ifdef DEBUG_TS
	/* Boot profiling (make EXTRA_CFLAGS=-DDEBUG_TS): microseconds since
	 * entry; before time_init() they assume a 2 GHz TSC. */
	len = snprintf(buf, 32, "[%8llu] ", uptime_us());
#endif
	while (prefix && *prefix && len < sizeof(buf) - 1)
		buf[len++] = *prefix++;
	n = vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (n < 0)
		return n;
	len += (size_t)n < sizeof(buf) - len ? (size_t)n : sizeof(buf) - len - 1;
	console_write(buf, len);
	return (int)len;
}

int printk(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_ERR] = "ERROR: ",
		[LOG_WARN] = "warning: ",
		[LOG_INFO] = NULL,
	};
	va_list ap;
	int n;

	if (level == LOG_INFO && quiet)
		return 0;
	va_start(ap, fmt);
	n = vprint(prefix[level], fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprint(NULL, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Deferred lines.  Events that happen under a lock the network poller
 * needs for every frame (an interface's, fo0's) note their console line
 * here and the line is printed once the lock is dropped: where ring 0 is
 * emulated a line costs milliseconds (formatting alone ~0.8 ms, then a VM
 * exit per character), each one a stall of the data path, e.g. during a
 * failover primary's hot-add.  The format and its string arguments are
 * queued, not the text, so noting is a few stores; the arguments must
 * outlive the note (interface names, static strings).  Ring 3 may note
 * (no cli, no printing there); only ring 0 prints.
 */
struct deferred {
	const char *fmt, *a, *b, *c;
};

static struct deferred defer_q[DEFER_MAX];
static unsigned int defer_head, defer_tail;	/* free running */
static unsigned int defer_lost;
static struct spinlock defer_lock = SPINLOCK_INIT;
static struct spinlock flush_lock = SPINLOCK_INIT;
volatile bool console_deferred;

/*
 * The queue lock is held for a few stores, but ring 0 may interrupt a
 * ring-3 holder on the same CPU, which cannot then release it: bounded,
 * and a line is lost (and counted) rather than the CPU.
 */
static bool defer_lock_bounded(void)
{
	return spin_lock_bounded(&defer_lock, DEFER_LOCK_US * tsc_khz() / 1000,
				 NULL);
}

void console_defer(const char *fmt, const char *a, const char *b,
		   const char *c)
{
	if (!defer_lock_bounded()) {
		__atomic_add_fetch(&defer_lost, 1, __ATOMIC_RELAXED);
		return;
	}
	if (defer_head - defer_tail == DEFER_MAX) {
		defer_lost++;
	} else {
		defer_q[defer_head % DEFER_MAX] =
			(struct deferred){ fmt, a, b, c };
		defer_head++;
	}
	WRITE_ONCE(console_deferred, true);
	spin_unlock(&defer_lock);
}

static bool defer_pop(struct deferred *d, unsigned int *lost)
{
	bool got = false;

	*lost = 0;
	if (!defer_lock_bounded())
		return false;
	if (defer_head != defer_tail) {
		*d = defer_q[defer_tail % DEFER_MAX];
		defer_tail++;
		got = true;
	}
	*lost = defer_lost;
	defer_lost = 0;
	if (defer_head == defer_tail && !*lost)
		WRITE_ONCE(console_deferred, false);
	spin_unlock(&defer_lock);
	return got;
}

void console_flush_deferred(void)
{
	struct deferred d;
	unsigned int lost;

	if (!READ_ONCE(console_deferred) || current_cpl() != 0 ||
	    !spin_trylock(&flush_lock))	/* another CPU prints them */
		return;
	for (;;) {
		bool got = defer_pop(&d, &lost);

		if (lost)
			printf("console: %u event line%s lost\n", lost,
			       lost > 1 ? "s" : "");
		if (!got)
			break;
		printf(d.fmt, d.a, d.b, d.c);
	}
	spin_unlock(&flush_lock);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	console_break_lock();
	va_start(ap, fmt);
	vprint("PANIC: ", fmt, ap);
	va_end(ap);
	printf("system halted\n");
	halt_forever();
}
