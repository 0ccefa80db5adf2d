// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"

enum log_level log_level = LOG_WARN;

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line keeps lines from different threads whole. */
	fprintf(stderr, "fvmm: %s\n", buf);
}
