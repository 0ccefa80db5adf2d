/*
 * Kernel command line: space-separated words, each either `flag` or
 * `key=value`.  Callers describe their options in a table; adding an option is
 * one table row plus its setter.
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <types.h>

struct cmdline_opt {
	const char *name;
	/* val is NULL for a bare word; returns 0 or -errno. */
	int (*set)(const char *name, const char *val);
	const char *help;
};

#define CMDLINE_WORD_MAX	256

int cmdline_parse(const char *line, const struct cmdline_opt *opts, size_t nr);

#endif
