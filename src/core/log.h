/* SPDX-License-Identifier: MIT */
#ifndef FVMM_CORE_LOG_H
#define FVMM_CORE_LOG_H

#include <stdbool.h>

/*
 * All diagnostics go to stderr as single lines prefixed "fvmm: ", so that the
 * guest's console on stdout stays clean and tests can grep either stream.
 */
enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Guest-triggered complaints are rate limited per call site: a guest must not
 * be able to flood the host's logs.  Prints the first 5 then stays quiet.
 */
#define pr_guest(...) do {						\
	static int __pr_guest_count;					\
	if (__atomic_fetch_add(&__pr_guest_count, 1, __ATOMIC_RELAXED) < 5) \
		log_msg(LOG_WARN, __VA_ARGS__);				\
} while (0)

#endif
