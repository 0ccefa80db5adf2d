/* Console: formatted, locked output to the UART, with a quiet mode. */

#include <printk.h>
#include <serial.h>
#include <spinlock.h>
#include <time.h>
#include <x86.h>

#define LINE_MAX	512

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
