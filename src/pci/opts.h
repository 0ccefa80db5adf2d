/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PCI_OPTS_H
#define FVMM_PCI_OPTS_H

#include <stdbool.h>

/*
 * QEMU-style option strings: "type,key=value,key=value".  The first item
 * without '=' is the type (driver or backend name).  Every getter marks its
 * key used, so that opts_check_unused() can name properties nobody knows.
 * Errors are printed (one line, naming the option) and returned as -EINVAL.
 */

#define OPTS_MAX	24

struct opts {
	const char *what;		/* "--device", for messages */
	char buf[512];
	const char *type;
	unsigned n;
	struct {
		const char *key;
		const char *val;
		bool used;
	} kv[OPTS_MAX];
};

int opts_parse(struct opts *o, const char *what, const char *s);
/* NULL when absent. */
const char *opts_get(struct opts *o, const char *key);
/* "on"/"off" (also yes/no, true/false); def when absent; -EINVAL. */
int opts_get_bool(struct opts *o, const char *key, bool def, bool *out);
int opts_check_unused(struct opts *o);
/* The first key no getter asked for, or NULL (no message printed). */
const char *opts_first_unused(const struct opts *o);

/*
 * Build an option set without a string (QMP's device_add): type first,
 * then key=value pairs.  Values may hold any byte (commas too).  -E2BIG
 * when the buffer or the pair table is full, -EEXIST for a repeated key.
 */
int opts_init(struct opts *o, const char *what, const char *type);
int opts_add(struct opts *o, const char *key, const char *val);

#endif
