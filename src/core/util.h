/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_UTIL_H
#define FVMM_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define KiB	(1024ULL)
#define MiB	(1024ULL * KiB)
#define GiB	(1024ULL * MiB)

/*
 * Parse "512M", "5G", "4096" (bytes), "64K" into bytes.  Returns -EINVAL on
 * syntax errors and -ERANGE on overflow; never exits, so the option parser
 * can report the offending option by name.
 */
int parse_size(const char *s, uint64_t *out);

/* Parse a decimal unsigned integer in [min, max]; -EINVAL / -ERANGE. */
int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *out);

/* Parse "52:54:00:12:34:56"; -EINVAL. */
int parse_mac(const char *s, uint8_t mac[6]);

/* Little-endian helpers for register models (host is x86, but say so). */
static inline uint64_t le_read(const void *p, unsigned size)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline void le_write(void *p, unsigned size, uint64_t v)
{
	uint8_t *b = p;

	for (unsigned i = 0; i < size; i++)
		b[i] = v >> (8 * i);
}

uint64_t now_ns(void);	/* CLOCK_MONOTONIC */

/*
 * Format a one-line reason into err (when not NULL) and return ret, so an
 * error path is one statement: return errf(err, len, -EINVAL, "...", ...).
 */
int errf(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
