/*
 * Console output.  Messages are formatted into a buffer first and written in
 * one locked burst: port I/O is a VM exit, so the UART is fed in 16-byte
 * FIFO-sized chunks, and whole lines never interleave between CPUs.
 */
#ifndef GUEST_PRINTK_H
#define GUEST_PRINTK_H

#include <compiler.h>
#include <types.h>

enum log_level {
	LOG_ERR,
	LOG_WARN,
	LOG_INFO,
};

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* printk() drops LOG_INFO when the console is quiet; printf() never drops. */
int printk(enum log_level level, const char *fmt, ...) __printf(2, 3);
int printf(const char *fmt, ...) __printf(1, 2);
void console_write(const char *s, size_t n);
void console_set_quiet(bool quiet);
bool console_is_quiet(void);
/*
 * A line owed by code holding a lock the data path needs (console.c):
 * fmt takes up to three %s, which must outlive the call.  Printed by
 * console_flush_deferred() in ring 0 once the lock is dropped (netif_unlock
 * does it, so does the shell's wait for input).  Ring 3 may note.
 */
void console_defer(const char *fmt, const char *a, const char *b,
		   const char *c);
void console_flush_deferred(void);
extern volatile bool console_deferred;

/* Crash path: stop honouring the console lock another CPU may hold forever. */
void console_break_lock(void);

void __noreturn panic(const char *fmt, ...) __printf(1, 2);

#define pr_err(...)	printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	printk(LOG_INFO, __VA_ARGS__)

#endif
